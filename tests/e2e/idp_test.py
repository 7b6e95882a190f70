#!/usr/bin/python3
"""End-to-end test of realmgate-idp, the offline Entra ID look-alike.

Runs the real program: the CLI builds a directory in a temporary state dir, then `serve`
listens on a free loopback port and the test speaks HTTP to it like a browser and a
relying party would. Nothing is built here: the program is $RG_BUILD/realmgate-idp
(default /work/main/build-idp). Plain asserts; the last line is "N passed, M failed" and
the exit status is non-zero when anything failed.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import requests

BUILD = os.environ.get("RG_BUILD", "/work/main/build-idp")
PROG = os.path.join(BUILD, "realmgate-idp")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
PASSWORD = "Corr3ct-Horse!"
TENANT_NAME = "Demo <Corp> & \"Co\""
REDIRECT = "http://127.0.0.1:8006"            # path-less: answered with a trailing '/'
REDIRECT_PATH = "https://pve.example:8006/cb"  # with a path: answered unchanged


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), h, p, s


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Idp:
    """The program under test: CLI runner and one or more servers on one state dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rg-idp-test-")
        self.state = os.path.join(self.dir, "state")
        self.servers = []

    def cli(self, *args, ok=True, stdin=None):
        r = subprocess.run([PROG, "--state-dir", self.state, *args], capture_output=True,
                           text=True, input=stdin, timeout=60)
        if ok:
            assert r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr}"
        return r

    def out(self, *args, stdin=None):
        return self.cli(*args, stdin=stdin).stdout.strip()

    def serve(self, *extra):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(self.dir, f"serve-{port}.log"), "w+")
        p = subprocess.Popen([PROG, "--state-dir", self.state, "serve", "--listen",
                              f"127.0.0.1:{port}", "--issuer-base", base, *extra],
                             stdout=subprocess.PIPE, stderr=log, text=True)
        line = p.stdout.readline()
        assert line.strip() == f"realmgate-idp listening on {base}", f"serve said {line!r}"
        self.servers.append((p, log))
        return base, p, log

    def stop(self):
        codes = []
        for p, log in self.servers:
            if p.poll() is None:
                p.terminate()
                codes.append(p.wait(timeout=10))
            log.close()
        self.servers = []
        return codes

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Ctx:
    pass


C = Ctx()


def setup():
    C.idp = Idp()
    idp = C.idp
    C.tid = idp.out("tenant", "create", "--name", TENANT_NAME, "--domain", "demo.example")
    C.app = idp.out("app", "register", "--tenant", C.tid, "--display-name", "Proxmox VE",
                    "--redirect-uri", REDIRECT, "--redirect-uri", REDIRECT_PATH)
    C.secret = idp.out("app", "secret", "add", "--tenant", C.tid, "--app", C.app)
    C.alice = idp.out("user", "add", "--tenant", C.tid, "--upn", "alice@demo.example",
                      "--password", PASSWORD, "--mail", "alice@mail.example",
                      "--display-name", "Alice Example", "--given-name", "Alice",
                      "--surname", "Example")
    C.bob = idp.out("user", "add", "--tenant", "demo.example", "--upn", "bob@demo.example",
                    "--password-file", "-", stdin=PASSWORD + "\n")  # no mail
    C.dave = idp.out("user", "add", "--tenant", C.tid, "--upn", "dave@demo.example",
                     "--password", PASSWORD, "--disabled")
    C.carol = idp.out("user", "add", "--tenant", C.tid, "--upn", "carol@demo.example",
                      "--password", PASSWORD)
    idp.out("consent", "grant", "--tenant", C.tid, "--app", C.app, "--admin", "--scopes",
            "openid email profile offline_access User.Read")
    C.base, C.proc, C.log = idp.serve()
    C.issuer = f"{C.base}/{C.tid}/v2.0"


# ---- helpers for the protocol ------------------------------------------------------------

def authorize(params, session=None, tid=None, method="GET"):
    s = session or requests.Session()
    url = f"{C.base}/{tid or C.tid}/oauth2/v2.0/authorize"
    if method == "POST":
        return s.post(url, data=params, allow_redirects=False)
    return s.get(url, params=params, allow_redirects=False)


def base_params(**kw):
    p = {"client_id": C.app, "response_type": "code", "redirect_uri": REDIRECT,
         "scope": "openid profile email", "state": "st-1", "nonce": "n-1"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def ctx_of(html):
    m = re.search(r'name="ctx" value="([^"]+)"', html)
    assert m, "no ctx in the sign-in form"
    return m.group(1)


def login(ctx, user, password, session=None):
    s = session or requests.Session()
    return s.post(f"{C.base}/{C.tid}/login",
                  data={"ctx": ctx, "loginfmt": user, "passwd": password},
                  allow_redirects=False)


def query_of(location):
    u = urllib.parse.urlsplit(location)
    return u, dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))


def get_code(session=None, user="alice@demo.example", **kw):
    s = session or requests.Session()
    r = authorize(base_params(**kw), session=s)
    assert r.status_code == 200, r.text
    r = login(ctx_of(r.text), user, PASSWORD, session=s)
    assert r.status_code == 302, r.text
    u, q = query_of(r.headers["Location"])
    return q["code"], q, r


def token(data, auth=None, **kw):
    return requests.post(f"{C.base}/{C.tid}/oauth2/v2.0/token", data=data, auth=auth, **kw)


def redeem(code, redirect=REDIRECT, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    data.update(extra)
    return token(data, auth=(C.app, C.secret))


def expect_error(r, status, error, code):
    assert r.status_code == status, (r.status_code, r.text)
    j = r.json()
    assert j["error"] == error, j
    assert j["error_codes"] == [code], j
    desc = j["error_description"]
    m = re.match(r"^AADSTS(\d+): (.+)\r\nTrace ID: (\S+)\r\nCorrelation ID: (\S+)\r\n"
                 r"Timestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)$", desc, re.S)
    assert m, repr(desc)
    assert int(m.group(1)) == code
    assert m.group(3) == j["trace_id"] and GUID.match(j["trace_id"])
    assert m.group(4) == j["correlation_id"] and GUID.match(j["correlation_id"])
    assert m.group(5) == j["timestamp"]
    return j


def jwks():
    r = requests.get(f"{C.base}/{C.tid}/discovery/v2.0/keys")
    assert r.headers["Cache-Control"] == "max-age=86400, private"
    assert r.status_code == 200
    return r.json()["keys"]


def verify_rs256(tok, key):
    """Verifies an RS256 JWS with the openssl command line and the key's x5c certificate."""
    h, p, s = tok.split(".")
    d = tempfile.mkdtemp(dir=C.idp.dir)
    with open(os.path.join(d, "cert.der"), "wb") as f:
        f.write(base64.b64decode(key["x5c"][0]))
    with open(os.path.join(d, "data"), "wb") as f:
        f.write(f"{h}.{p}".encode())
    with open(os.path.join(d, "sig"), "wb") as f:
        f.write(b64url_decode(s))
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f"{d}/cert.der", "-pubkey",
                    "-noout", "-out", f"{d}/pub.pem"], check=True, capture_output=True)
    r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", f"{d}/pub.pem", "-signature",
                        f"{d}/sig", f"{d}/data"], capture_output=True, text=True)
    return r.returncode == 0 and "Verified OK" in r.stdout


def pairwise_sub(tid, app, oid):
    d = hashlib.sha256(f"{tid}|{app}|{oid}".encode()).digest()
    return base64.urlsafe_b64encode(d).decode().rstrip("=")


def pkce_pair():
    verifier = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()) \
        .decode().rstrip("=")
    return verifier, challenge


# ---- tests -------------------------------------------------------------------------------

def test_cli_outputs_and_refusals():
    idp = C.idp
    assert GUID.match(C.tid) and GUID.match(C.app) and GUID.match(C.alice)
    assert re.match(r"^[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{34}$", C.secret), C.secret
    lst = idp.out("tenant", "list")
    assert f"{C.tid}\tdemo.example\t{TENANT_NAME}" in lst, lst
    refusals = [
        ("app", "register", "--tenant", C.tid, "--display-name", "x",
         "--redirect-uri", "http://example.com/cb"),                       # http off loopback
        ("app", "register", "--tenant", C.tid, "--display-name", "x",
         "--redirect-uri", "https://a.example/cb#frag"),                   # fragment
        ("app", "register", "--tenant", C.tid, "--display-name", "x",
         "--redirect-uri", "https://a.example/" + "a" * 250),              # > 256 chars
        ("app", "register", "--tenant", C.tid, "--display-name", "x",
         "--redirect-uri", "https://a.example/*"),                         # wildcard
        ("app", "register", "--tenant", C.tid, "--display-name", "x",
         "--redirect-uri", "https://a.example/cb", "--client-id", C.app),  # id taken
        ("user", "add", "--tenant", C.tid, "--upn", "weak@demo.example", "--password",
         "password"),                                                      # policy
        ("user", "add", "--tenant", C.tid, "--upn", "ALICE@demo.example", "--password",
         PASSWORD),                                                        # UPN taken
        ("user", "add", "--tenant", C.tid, "--upn", "not-an-upn", "--password", PASSWORD),
        ("app", "secret", "add", "--tenant", C.tid, "--app", C.app, "--years", "3"),
        ("tenant", "create", "--name", "x", "--domain", "demo.example"),   # domain taken
        ("app", "list", "--tenant", "no.such.example"),
    ]
    for args in refusals:
        r = idp.cli(*args, ok=False)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("realmgate-idp: ") and len(r.stderr) > 20, (args, r.stderr)
    for args in [("bogus",), ("tenant", "create"), ("app", "list", "--tenant", C.tid, "--x", "1"),
                 ("tenant", "create", "--name", "a", "--name", "b")]:
        r = idp.cli(*args, ok=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
    users = idp.out("user", "list", "--tenant", C.tid)
    assert f"{C.dave}\tdave@demo.example\tdisabled" in users, users


def test_state_files_are_private():
    st = os.stat(C.idp.state)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(C.idp.state, "idp.json")).st_mode) == 0o600
    keys = os.path.join(C.idp.state, "keys")
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    files = os.listdir(keys)
    assert len(files) == 1 and files[0].endswith(".pem")
    assert stat.S_IMODE(os.stat(os.path.join(keys, files[0])).st_mode) == 0o600
    text = open(os.path.join(C.idp.state, "idp.json")).read()
    assert C.secret not in text and PASSWORD not in text
    assert "$pbkdf2-sha256$" in text


def test_discovery():
    r = requests.get(f"{C.base}/{C.tid}/v2.0/.well-known/openid-configuration")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"] == "max-age=86400, private"
    d = r.json()
    assert list(d) == [
        "token_endpoint", "token_endpoint_auth_methods_supported", "jwks_uri",
        "response_modes_supported", "subject_types_supported",
        "id_token_signing_alg_values_supported", "response_types_supported", "scopes_supported",
        "issuer", "request_uri_parameter_supported", "userinfo_endpoint",
        "authorization_endpoint", "device_authorization_endpoint", "http_logout_supported",
        "frontchannel_logout_supported", "end_session_endpoint", "claims_supported",
        "kerberos_endpoint", "tenant_region_scope", "cloud_instance_name",
        "cloud_graph_host_name", "msgraph_host", "rbac_url"], list(d)
    t = f"{C.base}/{C.tid}"
    assert d["issuer"] == C.issuer
    assert d["token_endpoint"] == f"{t}/oauth2/v2.0/token"
    assert d["authorization_endpoint"] == f"{t}/oauth2/v2.0/authorize"
    assert d["jwks_uri"] == f"{t}/discovery/v2.0/keys"
    assert d["end_session_endpoint"] == f"{t}/oauth2/v2.0/logout"
    assert d["userinfo_endpoint"] == f"{C.base}/oidc/userinfo"
    assert d["id_token_signing_alg_values_supported"] == ["RS256"]
    assert d["token_endpoint_auth_methods_supported"] == [
        "client_secret_post", "private_key_jwt", "client_secret_basic"]
    assert d["subject_types_supported"] == ["pairwise"]
    assert d["response_modes_supported"] == ["query", "fragment", "form_post"]
    assert d["request_uri_parameter_supported"] is False
    assert d["tenant_region_scope"] == "WW"
    # a domain alias serves the same document, issuer in GUID form
    r2 = requests.get(f"{C.base}/demo.example/v2.0/.well-known/openid-configuration")
    assert r2.status_code == 200 and r2.json()["issuer"] == C.issuer
    # unknown tenant: Entra's JSON error
    r3 = requests.get(f"{C.base}/00000000-0000-4000-8000-000000000000/v2.0/"
                      ".well-known/openid-configuration")
    expect_error(r3, 400, "invalid_tenant", 90002)


def test_jwks_shape():
    keys = jwks()
    assert len(keys) == 1
    k = keys[0]
    assert set(k) == {"kty", "use", "kid", "x5t", "n", "e", "x5c", "issuer"}, k
    assert "alg" not in k
    assert k["kty"] == "RSA" and k["use"] == "sig" and k["e"] == "AQAB"
    assert k["kid"] == k["x5t"] and len(k["kid"]) == 27 and B64URL.match(k["kid"])
    der = base64.b64decode(k["x5c"][0])
    assert base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=") == k["x5t"]
    assert len(b64url_decode(k["n"])) == 256  # RSA-2048
    assert k["issuer"] == C.issuer
    subj = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                          input=der, capture_output=True, check=True).stdout.decode()
    assert "accounts.accesscontrol.windows.net" in subj, subj


def test_authorize_shows_escaped_form():
    r = authorize(base_params(login_hint='x"><script>@demo.example'))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    html = r.text
    assert 'name="loginfmt"' in html and 'name="passwd"' in html
    assert re.search(r'<form method="post" action="[^"]*/login"', html)
    assert len(ctx_of(html)) >= 43
    assert "Demo &lt;Corp&gt; &amp; &quot;Co&quot;" in html
    assert "<Corp>" not in html and "<script>" not in html
    assert 'value="x&quot;&gt;&lt;script&gt;@demo.example"' in html
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    # POST to /authorize works the same
    r = authorize(base_params(), method="POST")
    assert r.status_code == 200 and 'name="passwd"' in r.text


def test_authorize_error_pages_never_redirect():
    r = authorize(base_params(redirect_uri="http://127.0.0.1:8006/other"))
    assert r.status_code == 400 and "Location" not in r.headers
    assert "AADSTS50011" in r.text
    r = authorize(base_params(redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and "Location" not in r.headers and "AADSTS50011" in r.text
    r = authorize(base_params(client_id="11111111-2222-4333-8444-555555555555"))
    assert r.status_code == 400 and "Location" not in r.headers
    assert "AADSTS700016" in r.text
    r = authorize(base_params(client_id="<b>not-a-guid</b>"))
    assert r.status_code == 400 and "AADSTS700016" in r.text and "<b>not" not in r.text
    r = authorize(base_params(client_id=None))
    assert r.status_code == 400 and "AADSTS900144" in r.text
    r = authorize(base_params(), tid="99999999-9999-4999-8999-999999999999")
    assert r.status_code == 400 and "AADSTS90002" in r.text
    # repeated parameters are refused
    url = (f"{C.base}/{C.tid}/oauth2/v2.0/authorize?client_id={C.app}&client_id={C.app}"
           f"&response_type=code&scope=openid")
    r = requests.get(url, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


def test_authorize_errors_go_back_to_the_app():
    r = authorize(base_params(response_type="token"))
    assert r.status_code == 302
    u, q = query_of(r.headers["Location"])
    assert f"{u.scheme}://{u.netloc}{u.path}" == REDIRECT + "/"
    assert q["error"] == "unsupported_response_type" and q["state"] == "st-1"
    assert q["error_description"].startswith("AADSTS700054: ")
    assert "\r\nTrace ID: " in q["error_description"]
    r = authorize(base_params(scope=None))
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and q["error_description"].startswith("AADSTS900144")
    r = authorize(base_params(code_challenge="short", code_challenge_method="S256"))
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and q["error_description"].startswith("AADSTS501491")
    r = authorize(base_params(response_mode="bogus"))
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and q["error_description"].startswith("AADSTS70007")


def test_wrong_password_shows_form_again():
    r = authorize(base_params())
    ctx = ctx_of(r.text)
    r = login(ctx, "alice@demo.example", "Wrong-Passw0rd")
    assert r.status_code == 200 and "Location" not in r.headers
    assert "AADSTS50126" in r.text and "code=" not in r.text
    assert 'name="passwd"' in r.text and ctx_of(r.text) == ctx
    assert 'value="alice@demo.example"' in r.text
    r = login(ctx, "nobody@demo.example", PASSWORD)
    assert r.status_code == 200 and "AADSTS50126" in r.text and "Location" not in r.headers
    # the same request still signs in with the right password
    r = login(ctx, "Alice@Demo.Example", PASSWORD)
    assert r.status_code == 302
    r = login("no-such-ctx", "alice@demo.example", PASSWORD)
    assert r.status_code == 400 and "AADSTS50089" in r.text


def test_disabled_user():
    r = authorize(base_params())
    r = login(ctx_of(r.text), "dave@demo.example", PASSWORD)
    assert r.status_code == 400 and "AADSTS50057" in r.text and "Location" not in r.headers


def test_good_login_redirects_with_code():
    state = "a b&c=d/é?#"
    r = authorize(base_params(state=state))
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    assert r.status_code == 302, r.text
    loc = r.headers["Location"]
    assert loc.startswith(REDIRECT + "/?"), loc
    u, q = query_of(loc)
    assert set(q) == {"code", "state", "session_state"}, q
    assert q["state"] == state
    assert GUID.match(q["session_state"])
    assert len(q["code"]) >= 43 and B64URL.match(q["code"])
    assert "rgidp_session=" in r.headers["Set-Cookie"]
    assert "HttpOnly" in r.headers["Set-Cookie"]
    # a registered URI with a path comes back unchanged
    r = authorize(base_params(redirect_uri=REDIRECT_PATH))
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    assert r.headers["Location"].startswith(REDIRECT_PATH + "?code="), r.headers["Location"]


def test_token_exchange_and_id_token():
    code, q, _ = get_code(state="s-42", nonce="nonce-42")
    before = int(time.time())
    r = redeem(code)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert "no-store" in r.headers["Cache-Control"]
    t = r.json()
    assert list(t) == ["token_type", "scope", "expires_in", "ext_expires_in", "access_token",
                       "id_token"], list(t)
    assert t["token_type"] == "Bearer" and t["expires_in"] == 3599
    assert t["ext_expires_in"] == 3599
    assert t["scope"] == "openid profile email User.Read", t["scope"]
    assert "refresh_token" not in t
    hdr, claims, *_ = jwt_parts(t["id_token"])
    keys = jwks()
    assert hdr["alg"] == "RS256" and hdr["typ"] == "JWT"
    assert hdr["kid"] == keys[0]["kid"]
    assert verify_rs256(t["id_token"], keys[0])
    assert claims["aud"] == C.app and claims["iss"] == C.issuer
    assert claims["tid"] == C.tid and claims["oid"] == C.alice
    assert claims["iat"] == claims["nbf"]
    assert before - 300 - 2 <= claims["iat"] <= int(time.time()) - 300 + 2
    assert claims["exp"] - claims["iat"] == 3900
    assert claims["sub"] == pairwise_sub(C.tid, C.app, C.alice) and len(claims["sub"]) == 43
    assert claims["preferred_username"] == "alice@demo.example"
    assert claims["name"] == "Alice Example"
    assert claims["email"] == "alice@mail.example"
    assert claims["nonce"] == "nonce-42"
    assert claims["ver"] == "2.0"
    assert len(claims["uti"]) == 22 and B64URL.match(claims["uti"])
    assert claims["sid"] == q["session_state"]
    for absent in ("given_name", "family_name", "upn", "amr"):
        assert absent not in claims
    C.access_token = t["access_token"]
    C.id_token = t["id_token"]
    C.id_claims = claims
    C.redeemed_code = code
    # a tampered token does not verify (the check above can fail)
    h, p, s = t["id_token"].split(".")
    forged = json.loads(b64url_decode(p))
    forged["oid"] = C.bob
    p2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    assert not verify_rs256(f"{h}.{p2}.{s}", keys[0])


def test_userinfo():
    r = requests.get(f"{C.base}/oidc/userinfo",
                     headers={"Authorization": f"Bearer {C.access_token}"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u == {"sub": C.id_claims["sub"], "name": "Alice Example", "family_name": "Example",
                 "given_name": "Alice", "email": "alice@mail.example"}, u
    r = requests.post(f"{C.base}/oidc/userinfo",
                      headers={"Authorization": f"Bearer {C.access_token}"})
    assert r.status_code == 200 and r.json()["sub"] == C.id_claims["sub"]
    r = requests.get(f"{C.base}/oidc/userinfo", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"
    r = requests.get(f"{C.base}/oidc/userinfo")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer ")


def test_code_replay_is_refused_and_revokes():
    r = redeem(C.redeemed_code)
    expect_error(r, 400, "invalid_grant", 54005)
    # the access token bought with the replayed code is withdrawn
    r = requests.get(f"{C.base}/oidc/userinfo",
                     headers={"Authorization": f"Bearer {C.access_token}"})
    assert r.status_code == 401


def test_client_authentication_errors():
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              auth=(C.app, C.secret[:-1] + ("x" if C.secret[-1] != "x" else "y")))
    expect_error(r, 401, "invalid_client", 7000215)
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
               "client_id": C.app})
    expect_error(r, 401, "invalid_client", 7000218)
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              auth=("11111111-2222-4333-8444-555555555555", C.secret))
    expect_error(r, 400, "unauthorized_client", 700016)
    # the code survived the failed client authentications: client_secret_post redeems it
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
               "client_id": C.app, "client_secret": C.secret})
    assert r.status_code == 200, r.text


def test_basic_auth_is_form_decoded():
    # RFC 6749 §2.3.1: id and secret are form-encoded before base64; '~' and '.' may be
    # percent-encoded by a client and must still match
    code, _, _ = get_code()
    enc = urllib.parse.quote(C.secret, safe="")
    enc = enc.replace("~", "%7E").replace(".", "%2E")
    hdr = base64.b64encode(f"{C.app}:{enc}".encode()).decode()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              headers={"Authorization": f"Basic {hdr}"})
    assert r.status_code == 200, r.text


def test_token_request_errors():
    code, _, _ = get_code()
    expect_error(redeem(code, redirect=REDIRECT + "/"), 400, "invalid_grant", 50011)
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "redirect_uri": REDIRECT},
              auth=(C.app, C.secret))
    j = expect_error(r, 400, "invalid_request", 900144)
    assert "'code'" in j["error_description"]
    expect_error(token({"grant_type": "password"}, auth=(C.app, C.secret)), 400,
                 "unsupported_grant_type", 70003)
    expect_error(token({}, auth=(C.app, C.secret)), 400, "invalid_request", 900144)
    expect_error(redeem("not-a-code"), 400, "invalid_grant", 9002313)
    expect_error(redeem("A" * 64), 400, "invalid_grant", 9002313)
    r = requests.get(f"{C.base}/{C.tid}/oauth2/v2.0/token")
    expect_error(r, 400, "invalid_request", 900561)
    r = requests.post(f"{C.base}/{C.tid}/oauth2/v2.0/token",
                      json={"grant_type": "authorization_code"}, auth=(C.app, C.secret))
    expect_error(r, 400, "invalid_request", 900144)
    # the correlation id follows the client's client-request-id
    cid = "0f0e0d0c-0b0a-4908-8706-050403020100"
    r = token({}, auth=(C.app, C.secret), headers={"client-request-id": cid})
    assert r.json()["correlation_id"] == cid


def test_pkce():
    verifier, challenge = pkce_pair()
    code, _, _ = get_code(code_challenge=challenge, code_challenge_method="S256")
    other, _ = pkce_pair()
    expect_error(redeem(code, code_verifier=other), 400, "invalid_grant", 501481)
    code, _, _ = get_code(code_challenge=challenge, code_challenge_method="S256")
    expect_error(redeem(code), 400, "invalid_grant", 501481)  # verifier missing
    code, _, _ = get_code(code_challenge=challenge, code_challenge_method="S256")
    assert redeem(code, code_verifier=verifier).status_code == 200
    code, _, _ = get_code(code_challenge=verifier)  # method defaults to plain
    assert redeem(code, code_verifier=verifier).status_code == 200


def test_refresh_token_flow():
    code, _, _ = get_code(scope="openid profile offline_access", nonce="n-rt")
    t = redeem(code).json()
    assert "refresh_token" in t and t["scope"].split()[:3] == ["openid", "profile",
                                                                "offline_access"]
    rt = t["refresh_token"]
    r = token({"grant_type": "refresh_token", "refresh_token": rt, "client_id": C.app,
               "client_secret": C.secret})
    assert r.status_code == 200, r.text
    t2 = r.json()
    assert t2["refresh_token"] != rt and t2["access_token"] != t["access_token"]
    _, c1, *_ = jwt_parts(t["id_token"])
    _, c2, *_ = jwt_parts(t2["id_token"])
    assert c2["sub"] == c1["sub"] and c2["sid"] == c1["sid"] and "nonce" not in c2
    # narrowing the scope drops the ID token; widening past consent is refused
    r = token({"grant_type": "refresh_token", "refresh_token": rt, "scope": "User.Read"},
              auth=(C.app, C.secret))
    assert r.status_code == 200 and "id_token" not in r.json(), r.text
    r = token({"grant_type": "refresh_token", "refresh_token": rt, "scope": "Mail.Send"},
              auth=(C.app, C.secret))
    expect_error(r, 400, "invalid_grant", 65001)
    expect_error(token({"grant_type": "refresh_token", "refresh_token": "x" * 43},
                       auth=(C.app, C.secret)), 400, "invalid_grant", 9002313)


def test_response_modes():
    s = requests.Session()
    r = authorize(base_params(response_mode="form_post", state="fp<&>"), session=s)
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD, session=s)
    assert r.status_code == 200 and "Location" not in r.headers
    html = r.text
    assert f'action="{REDIRECT}/"' in html
    assert re.search(r'name="code" value="[A-Za-z0-9_-]{43,}"', html)
    assert 'name="state" value="fp&lt;&amp;&gt;"' in html
    assert 'name="session_state"' in html
    assert "script-src 'nonce-" in r.headers["Content-Security-Policy"]
    r = authorize(base_params(response_mode="fragment"))
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].startswith(REDIRECT + "/#code=")


def test_session_and_prompt():
    r = authorize(base_params(prompt="none"))
    assert r.status_code == 302
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "login_required" and q["error_description"].startswith("AADSTS50058")
    s = requests.Session()
    code, q1, _ = get_code(session=s)
    r = authorize(base_params(prompt="none", state="silent"), session=s)
    assert r.status_code == 302, r.text
    _, q2 = query_of(r.headers["Location"])
    assert "code" in q2 and q2["state"] == "silent"
    assert q2["session_state"] == q1["session_state"]
    r = authorize(base_params(), session=s)  # SSO without the form
    assert r.status_code == 302
    r = authorize(base_params(prompt="login"), session=s)
    assert r.status_code == 200 and 'name="passwd"' in r.text
    # logout ends the session and goes back to a registered URI
    r = s.get(f"{C.base}/{C.tid}/oauth2/v2.0/logout",
              params={"post_logout_redirect_uri": REDIRECT_PATH, "state": "bye"},
              allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == REDIRECT_PATH + "?state=bye"
    r = authorize(base_params(prompt="none"), session=s)
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "login_required"
    r = s.get(f"{C.base}/{C.tid}/oauth2/v2.0/logout",
              params={"post_logout_redirect_uri": "https://evil.example/"},
              allow_redirects=False)
    assert r.status_code == 200 and "Location" not in r.headers
    assert "signed out" in r.text
    r = s.get(f"{C.base}/{C.tid}/oauth2/v2.0/logout", allow_redirects=False)
    assert r.status_code == 200 and "You signed out" in r.text


def test_consent_required_and_live_reload():
    # registered while the server runs: the change applies without a restart
    app2 = C.idp.out("app", "register", "--tenant", C.tid, "--display-name", "No Consent",
                     "--redirect-uri", "https://app2.example/cb")
    C.app2 = app2
    p = base_params(client_id=app2, redirect_uri="https://app2.example/cb")
    # without a session, prompt=none cannot ask anything: login_required first
    r = authorize(dict(p, prompt="none"))
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "login_required"
    # interactive: sign-in form, then (consent missing) the consent page, not an error
    r = authorize(p)
    assert r.status_code == 200 and 'name="passwd"' in r.text
    s = requests.Session()
    r = authorize(p, session=s)
    r2 = login(ctx_of(r.text), "bob@demo.example", PASSWORD, session=s)
    assert r2.status_code == 200 and "Permissions requested" in r2.text, r2.text[:300]
    # with a session and still no consent, prompt=none gets consent_required (AADSTS65001)
    r = authorize(dict(p, prompt="none"), session=s)
    assert r.status_code == 302
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "consent_required"
    assert q["error_description"].startswith("AADSTS65001")
    C.idp.out("consent", "grant", "--tenant", C.tid, "--app", app2, "--admin", "--scopes",
              "openid profile")
    r = authorize(dict(p, prompt="none"), session=s)  # email still not consented
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "consent_required"
    r = authorize(dict(p, prompt="none", scope="openid profile"), session=s)
    _, q = query_of(r.headers["Location"])
    assert "code" in q
    # per-user consent: checked after sign-in
    C.idp.out("consent", "grant", "--tenant", C.tid, "--app", app2, "--user",
              "bob@demo.example", "--scopes", "email")
    r = authorize(p)
    r2 = login(ctx_of(r.text), "bob@demo.example", PASSWORD)
    assert r2.status_code == 302 and "code=" in r2.headers["Location"]
    r = authorize(p)
    r3 = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    assert r3.status_code == 200 and "Permissions requested" in r3.text


def test_logout_with_id_token_hint():
    url = f"{C.base}/{C.tid}/oauth2/v2.0/logout"
    # the hint names the app: only that app's redirect URIs are accepted
    r = requests.get(url, params={"post_logout_redirect_uri": "https://app2.example/cb",
                                  "id_token_hint": C.id_token}, allow_redirects=False)
    assert r.status_code == 200 and "Location" not in r.headers
    r = requests.get(url, params={"post_logout_redirect_uri": REDIRECT_PATH,
                                  "id_token_hint": C.id_token}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == REDIRECT_PATH
    r = requests.get(url, params={"post_logout_redirect_uri": "https://app2.example/cb",
                                  "client_id": C.app2}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "https://app2.example/cb"
    # a hint that does not verify names no app (then any app of the tenant counts)
    h, p, s = C.id_token.split(".")
    claims = json.loads(b64url_decode(p))
    claims["aud"] = C.app2
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    r = requests.get(url, params={"post_logout_redirect_uri": REDIRECT_PATH,
                                  "id_token_hint": f"{h}.{p2}.{s}"}, allow_redirects=False)
    assert r.status_code == 302


def test_oversized_requests():
    r = token({"grant_type": "authorization_code", "code": "x" * 20000},
              auth=(C.app, C.secret))
    expect_error(r, 400, "invalid_request", 90015)
    r = authorize(base_params(state="s" * 3000))
    assert r.status_code == 302
    _, q = query_of(r.headers["Location"])
    assert q["error"] == "invalid_request" and "state" not in q
    r = requests.post(f"{C.base}/{C.tid}/oauth2/v2.0/token", data="a=" + "x" * 70000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_email_absent_without_mail():
    code, _, _ = get_code(user="bob@demo.example")
    _, claims, *_ = jwt_parts(redeem(code).json()["id_token"])
    assert "email" not in claims and claims["preferred_username"] == "bob@demo.example"
    assert claims["sub"] == pairwise_sub(C.tid, C.app, C.bob)
    assert claims["sub"] != C.id_claims["sub"]
    code, _, _ = get_code(scope="openid")
    _, claims, *_ = jwt_parts(redeem(code).json()["id_token"])
    for absent in ("name", "preferred_username", "oid", "email"):
        assert absent not in claims, claims
    assert claims["sub"] == C.id_claims["sub"]


def test_expired_secret():
    s2 = C.idp.out("app", "secret", "add", "--tenant", C.tid, "--app", C.app, "--expires-in",
                   "1")
    time.sleep(2.1)
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              auth=(C.app, s2))
    expect_error(r, 401, "invalid_client", 7000222)
    assert redeem(code).status_code == 200  # the first secret still works


def test_smart_lockout():
    for _ in range(10):
        r = authorize(base_params())
        r = login(ctx_of(r.text), "carol@demo.example", "Wrong-Passw0rd")
        assert "AADSTS50126" in r.text
    r = authorize(base_params())
    r = login(ctx_of(r.text), "carol@demo.example", PASSWORD)
    assert r.status_code == 200 and "AADSTS50053" in r.text and "Location" not in r.headers


def test_code_expiry():
    base, proc, _ = C.idp.serve("--code-lifetime", "1")
    saved = C.base
    try:
        C.base = base
        code, _, _ = get_code()
        time.sleep(2.1)
        expect_error(redeem(code), 400, "invalid_grant", 70008)
    finally:
        C.base = saved


def test_key_rotation():
    old = jwks()[0]["kid"]
    new = C.idp.out("tenant", "key", "rotate", "--tenant", C.tid)
    keys = jwks()
    assert [k["kid"] for k in keys] == [new, old]
    code, _, _ = get_code()
    tok = redeem(code).json()["id_token"]
    hdr, *_ = jwt_parts(tok)
    assert hdr["kid"] == new and verify_rs256(tok, keys[0])


def test_logs_hold_no_secrets():
    C.log.flush()
    C.log.seek(0)
    text = C.log.read()
    assert " -> 302 signed in: user alice@demo.example" in text, text[-2000:]
    for secret in (PASSWORD, C.secret, C.redeemed_code, C.access_token):
        assert secret not in text
    assert "Wrong-Passw0rd" not in text


def test_clean_shutdown():
    codes = C.idp.stop()
    assert codes and all(c == 0 for c in codes), codes


TESTS = [
    test_cli_outputs_and_refusals, test_state_files_are_private, test_discovery,
    test_jwks_shape, test_authorize_shows_escaped_form, test_authorize_error_pages_never_redirect,
    test_authorize_errors_go_back_to_the_app, test_wrong_password_shows_form_again,
    test_disabled_user, test_good_login_redirects_with_code, test_token_exchange_and_id_token,
    test_userinfo, test_code_replay_is_refused_and_revokes, test_client_authentication_errors,
    test_basic_auth_is_form_decoded, test_token_request_errors, test_pkce,
    test_refresh_token_flow, test_response_modes, test_session_and_prompt,
    test_consent_required_and_live_reload, test_logout_with_id_token_hint,
    test_oversized_requests, test_email_absent_without_mail, test_expired_secret,
    test_smart_lockout, test_code_expiry, test_key_rotation, test_logs_hold_no_secrets,
    test_clean_shutdown,
]


def run(setup_fn, tests):
    """Runs setup_fn, then every test (a failure is reported and the next one runs). The
    state directory is removed afterwards, or kept (and named) when a test failed."""
    if not os.access(PROG, os.X_OK):
        print(f"{PROG} not found or not executable (set RG_BUILD)")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    try:
        setup_fn()
    except Exception:
        traceback.print_exc()
        print("setup failed")
        print("0 passed, 1 failed")
        if hasattr(C, "idp"):
            C.idp.cleanup()
        return 1
    try:
        for t in tests:
            try:
                t()
                passed += 1
                print(f"ok   {t.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {t.__name__}")
                traceback.print_exc()
    finally:
        C.idp.stop()
        if failed == 0:
            C.idp.cleanup()
        else:
            print(f"state and logs kept in {C.idp.dir}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    return run(setup, TESTS)


if __name__ == "__main__":
    sys.exit(main())
