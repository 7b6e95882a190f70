#!/usr/bin/python3
"""Interoperability of realmgate's OpenID relying party with an independent, certified OpenID
provider: npm oidc-provider (version pinned in tests/interop-op/package.json), run by
provider.mjs on loopback over plain HTTP.

Two provider instances: one advertises and enforces only client_secret_basic and puts the
scope claims into the ID token; the other advertises and enforces only client_secret_post and
keeps scope claims (email, groups, names) out of the ID token (conformIdTokenClaims), so the
relying party can only learn them from userinfo. Each has four confidential clients, one per
ID token signing algorithm: RS256, PS256, ES256, EdDSA (Ed25519). Each client is one realm of
a realmgate config dir prepared with the admin CLI (autocreate, scopes "email profile groups"
where "groups" is a custom scope of the provider, groups-claim groups, groups-autocreate), and
each realm gets a full login: /access/openid/auth-url, the provider's
own login and consent pages (submitted as plain HTTP forms with cookies), the redirect back
with code and state, /access/openid/login. Asserted: the exact user id and ticket, the
autocreated user.cfg line (email and names, from userinfo where the ID token lacks them),
membership in admins-<realm>, and from the provider's request log the ID token's alg and kid,
the client authentication actually used, PKCE, and the userinfo call. A control realm with
query-userinfo 0 on the userinfo-only provider must refuse the login (no email claim), with
no userinfo request and no user created. Callbacks with a missing or foreign RFC 9207 `iss`
are refused before the code is redeemed.

The last line is "N passed, M failed"; the exit status is 0 only when all cases pass."""
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
from html.parser import HTMLParser

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import BUILD, RESULTS, check, free_port  # noqa: E402

ALGS = [("RS256", "rsa-rs256"), ("PS256", "rsa-ps256"), ("ES256", "ec-es256"),
        ("EdDSA", "okp-eddsa")]
# Which claim names the user: "sub" -> alice, "email" -> alice@op.example. On the post
# provider the email claim exists only in userinfo, so those realms prove the merge.
USERNAME_CLAIM = {"RS256": "sub", "PS256": "email", "ES256": "sub", "EdDSA": "email"}
TICKET_RE = r"^PVE:{user}:[0-9A-F]{{8}}::[A-Za-z0-9+/]+={{0,2}}$"
CSRF_RE = re.compile(r"^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$")


class FormParser(HTMLParser):
    """The first form of a page: its action and its fields (inputs with a name)."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and self.action is not None and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.done = True


class Setup:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rg-interop-op-")
        self.config_dir = os.path.join(self.dir, "config")
        os.makedirs(self.config_dir, mode=0o700)
        self.port = free_port()
        self.gui = f"https://127.0.0.1:{self.port}"
        self.api = self.gui + "/api2/json"
        self.op_log = os.path.join(self.dir, "op.log")
        self.rg_log = os.path.join(self.dir, "realmgate.log")
        self.procs = []
        self.realms = []     # dicts: realm, method, alg, kid, issuer, client_id, claim, conform
        providers = []
        for method, suffix, conform in (("client_secret_basic", "b", False),
                                        ("client_secret_post", "p", True)):
            port = free_port()
            clients = []
            for alg, kid in ALGS:
                cid = f"realmgate-{suffix}-{alg.lower()}"
                # The basic clients' secrets carry characters that RFC 6749 §2.3.1 requires
                # to be form-encoded inside the Basic header (oidc-provider decodes them).
                secret = secrets.token_urlsafe(24) + ("+/:%=&" if suffix == "b" else "")
                clients.append({"client_id": cid, "client_secret": secret, "alg": alg})
                self.realms.append({"realm": f"{alg.lower()}{suffix}", "method": method,
                                    "alg": alg, "kid": kid, "issuer": f"http://127.0.0.1:{port}",
                                    "port": port, "client_id": cid, "secret": secret,
                                    "claim": USERNAME_CLAIM[alg], "conform": conform})
            providers.append({"port": port, "auth_method": method, "conform": conform,
                              "clients": clients})
        cfg = os.path.join(self.dir, "op.json")
        with open(cfg, "w") as f:
            json.dump({"log": self.op_log, "redirect_uri": self.gui, "providers": providers}, f)
        open(self.op_log, "w").close()
        self.start_provider(cfg)
        for r in self.realms:
            self.rg("realm", "add", r["realm"], "--type", "openid", "--issuer-url", r["issuer"],
                    "--client-id", r["client_id"], "--client-key", r["secret"],
                    "--username-claim", r["claim"], "--autocreate", "1",
                    "--scopes", "email profile groups",
                    "--groups-claim", "groups", "--groups-autocreate", "1")
        # Control: the post provider's RS256 client, username from email, no userinfo.
        ctl = dict(self.realms[4], realm="nouinfo", claim="email")
        assert ctl["method"] == "client_secret_post" and ctl["alg"] == "RS256", ctl
        self.control = ctl
        self.rg("realm", "add", ctl["realm"], "--type", "openid", "--issuer-url", ctl["issuer"],
                "--client-id", ctl["client_id"], "--client-key", ctl["secret"],
                "--username-claim", "email", "--autocreate", "1", "--query-userinfo", "0",
                "--scopes", "email profile groups")
        self.start_realmgate()

    def rg(self, *args):
        p = subprocess.run([os.path.join(BUILD, "realmgate"), "--config-dir", self.config_dir,
                            *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        return p.stdout

    def start_provider(self, cfg):
        p = subprocess.Popen(["node", os.path.join(HERE, "provider.mjs"), cfg], cwd=HERE,
                             stdout=subprocess.PIPE,
                             stderr=open(os.path.join(self.dir, "op.err"), "ab"),
                             text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        if line.strip() != "READY":
            raise RuntimeError(f"oidc-provider did not start (rc {p.poll()}); "
                               f"see {self.dir}/op.err")

    def start_realmgate(self):
        self.procs.append(subprocess.Popen(
            [os.path.join(BUILD, "realmgate"), "--config-dir", self.config_dir, "serve",
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=open(self.rg_log, "ab")))
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.procs[-1].poll() is not None:
                raise RuntimeError(f"realmgate exited; see {self.rg_log}")
            try:
                if requests.get(f"{self.api}/access/domains", verify=False, timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("realmgate did not come up")

    def op_entries(self):
        with open(self.op_log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def usercfg(self):
        with open(os.path.join(self.config_dir, "user.cfg")) as f:
            return f.read().splitlines()

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def sign_in(auth_url, gui, login="alice"):
    """Drives oidc-provider's own interaction pages (devInteractions: a login form, then a
    consent form) the way a browser would; returns the query of the redirect back to gui."""
    s = requests.Session()
    url = auth_url
    for _ in range(12):
        r = s.get(url, allow_redirects=False, timeout=10)
        while r.status_code == 200:
            form = FormParser()
            form.feed(r.text)
            assert form.action, (url, r.text[:300])
            fields = dict(form.fields)
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any")
            else:
                assert fields.get("prompt") == "consent", fields
            url = urllib.parse.urljoin(url, form.action)
            r = s.post(url, data=fields, allow_redirects=False, timeout=10)
        assert r.status_code in (302, 303), (r.status_code, r.text[:300])
        loc = urllib.parse.urljoin(url, r.headers["Location"])
        if loc.startswith(gui + "/") or loc.startswith(gui + "?"):
            return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        url = loc
    raise AssertionError("no redirect back to realmgate after 12 steps")


def login_case(st, r):
    realm = r["realm"]
    log_before = len(st.op_entries())
    resp = requests.post(f"{st.api}/access/openid/auth-url", verify=False, timeout=30,
                         data={"realm": realm, "redirect-url": st.gui})
    assert resp.status_code == 200, (resp.status_code, resp.text)
    url = resp.json()["data"]
    assert url.startswith(r["issuer"] + "/auth?"), url
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert q["client_id"] == r["client_id"], q
    assert q["response_type"] == "code", q
    assert q["redirect_uri"] == st.gui, q
    assert q["code_challenge_method"] == "S256", q
    assert set(q["scope"].split()) == {"openid", "email", "profile", "groups"}, q

    cb = sign_in(url, st.gui)
    assert set(cb) >= {"code", "state"}, cb
    assert cb["state"] == q["state"], (cb, q)
    # RFC 9207: oidc-provider sends iss (and advertises it); the GUI passes it on, as here.
    assert cb["iss"] == r["issuer"], cb
    resp = requests.post(f"{st.api}/access/openid/login", verify=False, timeout=30,
                         data={"state": cb["state"], "code": cb["code"], "redirect-url": st.gui,
                               "iss": cb["iss"]})
    assert resp.status_code == 200, (resp.status_code, resp.text, st.rg_log)
    d = resp.json()["data"]
    name = "alice" if r["claim"] == "sub" else "alice@op.example"
    userid = f"{name}@{realm}"
    assert d["username"] == userid, d["username"]
    assert re.match(TICKET_RE.format(user=re.escape(userid)), d["ticket"]), d["ticket"]
    assert CSRF_RE.match(d["CSRFPreventionToken"]), d["CSRFPreventionToken"]

    # What went over the wire, as the provider saw it.
    entries = st.op_entries()[log_before:]
    tokens = [e for e in entries if e.get("path") == "token"]
    infos = [e for e in entries if e.get("path") == "userinfo"]
    assert len(tokens) == 1, entries
    t = tokens[0]
    assert t["status"] == 200, t
    assert t["alg"] == r["alg"] and t["kid"] == r["kid"], t
    assert t["aud"] == r["client_id"], t
    assert t["pkce"] is True, t
    if r["method"] == "client_secret_basic":
        assert (t["basic"], t["body_secret"]) == (True, False), t
        # scope claims are in the ID token itself
        assert {"email", "groups", "given_name", "family_name"} <= set(t["id_token_claims"]), t
    else:
        assert (t["basic"], t["body_secret"], t["body_client_id"]) == \
            (False, True, r["client_id"]), t
        # only userinfo can have supplied email, names and groups
        assert not {"email", "groups", "given_name", "family_name"} & set(t["id_token_claims"]), t
    assert len(infos) == 1 and infos[0]["status"] == 200, entries
    assert {"sub", "email", "groups"} <= set(infos[0]["claims"]), infos

    lines = st.usercfg()
    user_line = f"user:{userid}:1:0:Alice:Interop:alice@op.example:::"
    assert user_line in lines, (user_line, lines)
    group_lines = [ln for ln in lines if ln.startswith(f"group:admins-{realm}:")]
    assert group_lines == [f"group:admins-{realm}:{userid}::"], (group_lines, lines)


def control_case(st):
    r = st.control
    log_before = len(st.op_entries())
    resp = requests.post(f"{st.api}/access/openid/auth-url", verify=False, timeout=30,
                         data={"realm": r["realm"], "redirect-url": st.gui})
    assert resp.status_code == 200, (resp.status_code, resp.text)
    cb = sign_in(resp.json()["data"], st.gui)
    resp = requests.post(f"{st.api}/access/openid/login", verify=False, timeout=30,
                         data={"state": cb["state"], "code": cb["code"], "redirect-url": st.gui,
                               "iss": cb["iss"]})
    assert resp.status_code == 401, (resp.status_code, resp.text)
    entries = st.op_entries()[log_before:]
    assert [e["path"] for e in entries] == ["token"] and entries[0]["status"] == 200, entries
    assert not any(ln.split(":")[1].endswith("@nouinfo") for ln in st.usercfg()
                   if ln.startswith("user:")), st.usercfg()
    with open(st.rg_log, errors="replace") as f:
        log = f.read()
    assert "missing configured claim 'email'" in log, log[-2000:]


def iss_case(st, r, iss, expect_log):
    """RFC 9207 against a provider that advertises authorization_response_iss_parameter_
    supported: a callback whose iss is missing or names another provider is refused before
    the code is redeemed (no token request reaches the provider)."""
    log_before = len(st.op_entries())
    resp = requests.post(f"{st.api}/access/openid/auth-url", verify=False, timeout=30,
                         data={"realm": r["realm"], "redirect-url": st.gui})
    assert resp.status_code == 200, (resp.status_code, resp.text)
    cb = sign_in(resp.json()["data"], st.gui)
    data = {"state": cb["state"], "code": cb["code"], "redirect-url": st.gui}
    if iss is not None:
        data["iss"] = iss
    resp = requests.post(f"{st.api}/access/openid/login", verify=False, timeout=30, data=data)
    assert resp.status_code == 401, (resp.status_code, resp.text)
    assert st.op_entries()[log_before:] == [], st.op_entries()[log_before:]
    with open(st.rg_log, errors="replace") as f:
        log = f.read()
    assert expect_log in log, (expect_log, log[-2000:])


def main():
    if not os.path.isdir(os.path.join(HERE, "node_modules", "oidc-provider")):
        print("oidc-provider is not installed: run scripts/bootstrap --test-tools", file=sys.stderr)
        return 1
    st = Setup()
    try:
        def discovery():
            for port in sorted({r["port"] for r in st.realms}):
                method = next(r["method"] for r in st.realms if r["port"] == port)
                doc = requests.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration",
                                   timeout=10).json()
                assert doc["issuer"] == f"http://127.0.0.1:{port}", doc["issuer"]
                assert doc["token_endpoint_auth_methods_supported"] == [method], doc
                assert doc["id_token_signing_alg_values_supported"] == \
                    ["RS256", "PS256", "ES256", "EdDSA"], doc
                jwks = requests.get(doc["jwks_uri"], timeout=10).json()
                assert sorted((k["kid"], k["kty"], k.get("crv")) for k in jwks["keys"]) == [
                    ("ec-es256", "EC", "P-256"), ("okp-eddsa", "OKP", "Ed25519"),
                    ("rsa-ps256", "RSA", None), ("rsa-rs256", "RSA", None)], jwks
        check("both providers advertise one auth method and four algorithms", discovery)

        for r in st.realms:
            where = "ID token" if not r["conform"] else "userinfo only"
            check(f"{r['realm']}: {r['alg']} + {r['method']}, username-claim {r['claim']}, "
                  f"claims in {where}", lambda r=r: login_case(st, r))

        def relogin():
            before = st.usercfg()
            login_case(st, st.realms[7])
            assert st.usercfg() == before, (before, st.usercfg())
        check("eddsap again: an existing user signs in, user.cfg stays byte-identical", relogin)

        other = st.realms[4]["issuer"]
        check("rs256b: callback without iss is refused (RFC 9207)",
              lambda: iss_case(st, st.realms[0], None,
                               f"realm 'rs256b': authorization response iss missing does not "
                               f"match the issuer '{st.realms[0]['issuer']}'"))
        check("rs256b: callback with the other provider's iss is refused (mix-up)",
              lambda: iss_case(st, st.realms[0], other,
                               f"realm 'rs256b': authorization response iss '{other}' does not "
                               f"match the issuer '{st.realms[0]['issuer']}'"))

        check("nouinfo: query-userinfo 0 on the userinfo-only provider refuses the login",
              lambda: control_case(st))

        def no_extra_users():
            users = sorted(ln.split(":")[1] for ln in st.usercfg() if ln.startswith("user:"))
            expect = sorted(["root@pam"] + [
                ("alice" if r["claim"] == "sub" else "alice@op.example") + "@" + r["realm"]
                for r in st.realms])
            assert users == expect, users
        check("user.cfg holds root@pam and exactly the eight autocreated users", no_extra_users)
    finally:
        st.stop()
    failed = sum(1 for _, e in RESULTS if e)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    if failed:
        print(f"logs: {st.dir}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
