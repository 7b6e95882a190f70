"""End-to-end login without a browser: realmgate serve + realmgate-idp on loopback, seeded by
scripts/demo-setup. Drives the OpenID flow the way the web GUI and a browser do, then uses the
ticket. Every check asserts exact values; the last line is "N passed, M failed"."""
import html.parser
import os
import re
import subprocess
import sys
import time
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Demo, RESULTS, check  # noqa: E402


class FormParser(html.parser.HTMLParser):
    """Collects the first form's action and its input fields."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
            self.in_form = True
        elif tag == "input" and self.in_form and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


class Flow:
    def __init__(self, demo):
        self.demo = demo
        self.gui = demo.gui
        self.api = demo.gui + "/api2/json"

    def auth_url(self, realm="entra", redirect=None):
        r = requests.post(f"{self.api}/access/openid/auth-url", verify=False,
                          data={"realm": realm, "redirect-url": redirect or self.gui})
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["data"]

    def idp_sign_in(self, url, user, password):
        """Opens the IdP's sign-in page and posts the credentials; returns the final response."""
        s = requests.Session()
        page = s.get(url, allow_redirects=False)
        assert page.status_code == 200, (page.status_code, page.text[:300])
        form = FormParser()
        form.feed(page.text)
        assert "loginfmt" in form.fields and "passwd" in form.fields, form.fields
        form.fields.update(loginfmt=user, passwd=password)
        action = urllib.parse.urljoin(url, form.action)
        return s.post(action, data=form.fields, allow_redirects=False)

    def callback(self, user="alice@demo.example", password="Demo-Alice-2026"):
        resp = self.idp_sign_in(self.auth_url(), user, password)
        assert resp.status_code == 302, (resp.status_code, resp.text[:300])
        loc = resp.headers["Location"]
        assert loc.startswith(self.gui + "/?"), loc
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))

    def login(self, q, redirect=None):
        return requests.post(f"{self.api}/access/openid/login", verify=False,
                             data={"state": q["state"], "code": q["code"],
                                   "redirect-url": redirect or self.gui})


TICKET_RE = re.compile(r"^PVE:alice@demo\.example@entra:[0-9A-F]{8}::[A-Za-z0-9+/]{342}==$")
CSRF_RE = re.compile(r"^[0-9A-F]{8}:[A-Za-z0-9+/]{43}$")


def main():
    demo = Demo("login")
    flow = Flow(demo)
    state = {}
    try:
        def domains():
            r = requests.get(f"{flow.api}/access/domains", verify=False)
            assert r.status_code == 200
            by_realm = {d["realm"]: d for d in r.json()["data"]}
            assert by_realm["entra"] == {"realm": "entra", "type": "openid", "default": 1,
                                         "comment": "Microsoft Entra ID (demo tenant)"}, by_realm
            assert by_realm["pve"]["type"] == "pve" and by_realm["pam"]["type"] == "pam"
            assert "default" not in by_realm["pve"]
        check("domains lists the realms with comment and default", domains)

        def auth_url():
            url = flow.auth_url()
            parts = urllib.parse.urlsplit(url)
            q = dict(urllib.parse.parse_qsl(parts.query))
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == \
                f"{demo.idp}/{demo.vars['TENANT_ID']}/oauth2/v2.0/authorize", url
            assert q["response_type"] == "code"
            assert q["client_id"] == demo.vars["CLIENT_ID"]
            assert q["redirect_uri"] == flow.gui
            assert q["scope"] == "openid email profile"
            assert q["code_challenge_method"] == "S256"
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"]), q
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["state"]), q
            assert len(q["nonce"]) >= 22
            assert "prompt" not in q and "acr_values" not in q
        check("auth-url builds the authorization request", auth_url)

        def full_login():
            t0 = time.monotonic()
            q = flow.callback()
            assert set(q) >= {"code", "state", "session_state"}, q
            r = flow.login(q)
            state["roundtrip_ms"] = (time.monotonic() - t0) * 1000
            assert r.status_code == 200, (r.status_code, r.text)
            d = r.json()["data"]
            assert d["username"] == "alice@demo.example@entra"
            assert TICKET_RE.match(d["ticket"]), d["ticket"]
            assert CSRF_RE.match(d["CSRFPreventionToken"]), d["CSRFPreventionToken"]
            assert d["cap"]["access"]["Permissions.Modify"] == 1
            assert d["cap"]["dc"]["Sys.Audit"] == 1
            state.update(q=q, ticket=d["ticket"], csrf=d["CSRFPreventionToken"])
        check("OpenID login round trip issues a ticket", full_login)

        def autocreated():
            with open(os.path.join(demo.config_dir, "user.cfg")) as f:
                lines = f.read().splitlines()
            assert "user:alice@demo.example@entra:1:0:Alice:Demo:alice@demo.example:::" in lines, lines
        check("the user was autocreated with names and email", autocreated)

        def permissions():
            r = requests.get(f"{flow.api}/access/permissions", verify=False,
                             cookies={"PVEAuthCookie": state["ticket"]})
            assert r.status_code == 200, r.text
            root = r.json()["data"]["/"]
            assert len(root) == 47 and root["Sys.Audit"] == 1 and root["Permissions.Modify"] == 1, root
        check("ticket grants alice's ACL privileges on /", permissions)

        def header_ticket():
            r = requests.get(f"{flow.api}/access/permissions?path=/vms", verify=False,
                             headers={"Authorization": "PVEAuthCookie=" + state["ticket"]})
            assert r.status_code == 200, r.text
            assert r.json()["data"]["/vms"]["VM.Allocate"] == 1
        check("ticket is accepted in the Authorization header", header_ticket)

        def replay():
            r = flow.login(state["q"])
            assert r.status_code == 401 and r.json()["message"] == "authentication failure", r.text
        check("replaying code and state is refused", replay)

        def wrong_redirect():
            q = flow.callback()
            r = flow.login(q, redirect=flow.gui + "/other")
            assert r.status_code == 401, r.text
            assert "ticket" not in r.text
        check("a different redirect-url at login is refused", wrong_redirect)

        def login_csrf():
            """CB-05: a login finishes only in the browser that started it. The attacker signs
            in with their own account and makes the victim's browser post their code/state."""
            attacker = requests.Session()
            r = attacker.post(f"{flow.api}/access/openid/auth-url", verify=False,
                              data={"realm": "entra", "redirect-url": flow.gui})
            assert r.status_code == 200, r.text
            cookie = r.headers.get("Set-Cookie", "")
            assert cookie.startswith("__Host-rg-oidc=") and "HttpOnly" in cookie and \
                "Secure" in cookie and "SameSite=Lax" in cookie, cookie
            resp = flow.idp_sign_in(r.json()["data"], "bob@demo.example", "Demo-Bob-2026")
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(resp.headers["Location"]).query))
            victim = flow.login(q)  # the test's own browser holds a different cookie
            assert victim.status_code == 401, victim.text
            # and the login is consumed: not even the attacker's browser can use it now
            r = attacker.post(f"{flow.api}/access/openid/login", verify=False,
                              data={"state": q["state"], "code": q["code"],
                                    "redirect-url": flow.gui})
            assert r.status_code == 401, r.text
            # a client that keeps no cookies cannot finish a login either
            q = flow.callback()
            r = requests.Session().post(f"{flow.api}/access/openid/login", verify=False,
                                        data={"state": q["state"], "code": q["code"],
                                              "redirect-url": flow.gui})
            assert r.status_code == 401, r.text
            assert "login was started in another browser" in demo.server_log()
        check("CB-05 a login is bound to the browser that started it", login_csrf)

        def forged_state():
            r = flow.login({"state": "A" * 43, "code": "x"})
            assert r.status_code == 401 and r.json()["message"] == "authentication failure"
            r = flow.login({"state": "../../etc/passwd", "code": "x"})
            assert r.status_code == 401
        check("unknown or hostile state is refused", forged_state)

        def parameter_schema():
            """Unknown and repeated parameters are refused, never silently resolved."""
            r = requests.post(f"{flow.api}/access/openid/auth-url", verify=False,
                              data="realm=pve&realm=entra&redirect-url=" + flow.gui,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 400, r.text
            assert r.json()["message"] == \
                "parameter verification failed: 'realm': given more than once", r.text
            r = requests.post(f"{flow.api}/access/openid/auth-url?realm=pve", verify=False,
                              data={"realm": "entra", "redirect-url": flow.gui})
            assert r.status_code == 400, r.text
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "admin@pve", "password": "x", "foo": "bar"})
            assert r.status_code == 400, r.text
            assert r.json()["message"] == ("parameter verification failed: 'foo': property is "
                                           "not defined in schema and the schema does not allow "
                                           "additional properties"), r.text
            r = requests.post(f"{flow.api}/access/openid/login", verify=False,
                              data="state=a&state=b&code=c&redirect-url=" + flow.gui,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 400, r.text
        check("unknown or repeated parameters are refused", parameter_schema)

        def wrong_password():
            resp = flow.idp_sign_in(flow.auth_url(), "alice@demo.example", "wrong-password")
            assert resp.status_code == 200, resp.status_code
            assert "Location" not in resp.headers
            assert "AADSTS50126" in resp.text
            assert "code=" not in resp.text
        check("a wrong password at the IdP yields no code", wrong_password)

        def tampered():
            t = state["ticket"]
            i = t.index("::") + 10
            bad = t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:]
            r = requests.get(f"{flow.api}/access/permissions", verify=False,
                             cookies={"PVEAuthCookie": bad})
            assert r.status_code == 401, r.text
            other_user = t.replace("alice@", "bob@", 1)
            r = requests.get(f"{flow.api}/access/permissions", verify=False,
                             cookies={"PVEAuthCookie": other_user})
            assert r.status_code == 401, r.text
            r = requests.get(f"{flow.api}/access/permissions", verify=False)
            assert r.status_code == 401, r.text
        check("tampered, re-labelled or missing tickets are refused", tampered)

        def csrf():
            data = {"path": "/vms", "roles": "PVEVMUser", "users": "alice@demo.example@entra"}
            r = requests.put(f"{flow.api}/access/acl", verify=False, data=data,
                             cookies={"PVEAuthCookie": state["ticket"]})
            assert r.status_code == 401, r.text
            assert r.json()["message"] == "Permission denied - invalid csrf token"
            r = requests.put(f"{flow.api}/access/acl", verify=False, data=data,
                             cookies={"PVEAuthCookie": state["ticket"]},
                             headers={"CSRFPreventionToken": state["csrf"][:-1] + "A"
                                      if state["csrf"][-1] != "A" else state["csrf"][:-1] + "B"})
            assert r.status_code == 401, r.text
            r = requests.put(f"{flow.api}/access/acl", verify=False, data=data,
                             cookies={"PVEAuthCookie": state["ticket"]},
                             headers={"CSRFPreventionToken": state["csrf"]})
            assert r.status_code == 200, r.text
            with open(os.path.join(demo.config_dir, "user.cfg")) as f:
                text = f.read()
            assert "acl:1:/vms:alice@demo.example@entra,bob@demo.example@entra:" not in text
            assert re.search(r"^acl:1:/vms:alice@demo\.example@entra:PVEVMUser:$", text, re.M), text
        check("a POST/PUT with a ticket needs the CSRF token", csrf)

        def bob():
            q = flow.callback("bob@demo.example", "Demo-Bob-2026")
            r = flow.login(q)
            assert r.status_code == 200, r.text
            t = r.json()["data"]["ticket"]
            state["bob_ticket"] = t
            r = requests.get(f"{flow.api}/access/permissions", verify=False,
                             cookies={"PVEAuthCookie": t})
            perms = r.json()["data"]
            assert "/" not in perms, perms
            assert perms["/vms"] == {"VM.Audit": 1, "VM.GuestAgent.Audit": 1, "Sys.Audit": 1,
                                     "Datastore.Audit": 1, "SDN.Audit": 1, "Pool.Audit": 1,
                                     "Mapping.Audit": 1}, perms
        check("bob gets exactly PVEAuditor on /vms", bob)

        def verify_mode():
            """POST /access/ticket with path+privs checks privileges (console proxies)."""
            def post(**extra):
                data = {"username": "bob@demo.example@entra", "password": state["bob_ticket"]}
                data.update(extra)
                return requests.post(f"{flow.api}/access/ticket", verify=False, data=data)
            r = post(path="/vms/100", privs="VM.Audit")
            assert r.status_code == 200 and r.json()["data"] == {
                "username": "bob@demo.example@entra"}, r.text
            r = post(path="/", privs="Sys.Modify,Permissions.Modify")
            assert r.status_code == 401 and r.json()["message"] == "authentication failure"
            r = post(path="/vms", privs="VM.Audit,VM.PowerMgmt")
            assert r.status_code == 401, r.text
            for bad in ({"path": "/../..", "privs": "Nope"}, {"path": "/vms"},
                        {"privs": "VM.Audit"}, {"path": "/vms", "privs": ""}):
                r = post(**bad)
                assert r.status_code == 400, (bad, r.status_code, r.text)
        check("ticket verification mode requires every listed privilege", verify_mode)

        def renew():
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "alice@demo.example@entra",
                                    "password": state["ticket"]})
            assert r.status_code == 200, r.text
            assert TICKET_RE.match(r.json()["data"]["ticket"])
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "bob@demo.example@entra",
                                    "password": state["ticket"]})
            assert r.status_code == 401, r.text
        check("a ticket renews itself but not another user's", renew)

        def pve_password():
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "admin", "realm": "pve",
                                    "password": "Demo-Admin-2026"})
            assert r.status_code == 200, r.text
            assert r.json()["data"]["username"] == "admin@pve"
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "admin@pve", "password": "Demo-Admin-2025"})
            assert r.status_code == 401 and r.json()["message"] == "authentication failure"
            r = requests.post(f"{flow.api}/access/ticket", verify=False,
                              data={"username": "alice@demo.example@entra",
                                    "password": "Demo-Alice-2026"})
            assert r.status_code == 401, "OpenID realms refuse password logins"
        check("pve realm password login; wrong password and openid user refused", pve_password)

        def hostile_claims():
            """Claim values that would corrupt or not survive user.cfg are dropped, not stored."""
            subprocess.run([os.path.join(BUILD, "realmgate-idp"), "--state-dir",
                            os.path.join(demo.dir, "idp"), "user", "add",
                            "--tenant", demo.vars["TENANT_ID"], "--upn", "carol@demo.example",
                            "--password", "Demo-Carol-2026", "--display-name", "Carol",
                            "--given-name", "  lead  ", "--surname", "evil:0:0::::",
                            "--mail", "carol@demo.example"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = flow.login(flow.callback("carol@demo.example", "Demo-Carol-2026"))
            # no ACL names carol: she logs in (autocreate) but has no privileges
            assert r.status_code == 200, r.text
            with open(os.path.join(demo.config_dir, "user.cfg")) as f:
                lines = [l for l in f.read().splitlines() if l.startswith("user:carol@")]
            assert lines == ["user:carol@demo.example@entra:1:0:lead::carol@demo.example:::"], lines
            assert "claim 'family_name' not stored" in demo.server_log()
        check("hostile name claims are trimmed or dropped at autocreate", hostile_claims)

        def failure_delay():
            """401s leave 3 s after the request (Proxmox), without holding worker threads."""
            import concurrent.futures
            bad = {"username": "admin@pve", "password": "not-the-password"}
            t0 = time.monotonic()
            r = requests.post(f"{flow.api}/access/ticket", verify=False, data=bad)
            dt = time.monotonic() - t0
            assert r.status_code == 401 and 2.95 <= dt < 5.0, (r.status_code, dt)
            # 12 refused logins at once (the server has 4 workers) plus a normal request
            with concurrent.futures.ThreadPoolExecutor(max_workers=12) as ex:
                t0 = time.monotonic()
                futs = [ex.submit(requests.post, f"{flow.api}/access/ticket", verify=False,
                                  data=bad, timeout=20) for _ in range(12)]
                time.sleep(0.5)
                t1 = time.monotonic()
                ok = requests.get(f"{flow.api}/access/domains", verify=False, timeout=5)
                quick = time.monotonic() - t1
                codes = [f.result().status_code for f in futs]
                wall = time.monotonic() - t0
            # well under the 3 s the refused logins wait: no worker thread is held by them
            assert ok.status_code == 200 and quick < 2.5, quick
            assert codes == [401] * 12, codes
            # held workers would need three rounds of 3 s (12 requests, 4 workers): >= 9 s
            assert wall < 8.0, wall
        check("refused logins answer after 3 s without blocking the server", failure_delay)

        def auth_url_rate_limit():
            """An anonymous client cannot fill the pending-login store (20 per minute)."""
            codes = []
            for _ in range(45):  # at most two one-minute windows' worth
                r = requests.post(f"{flow.api}/access/openid/auth-url", verify=False,
                                  data={"realm": "entra", "redirect-url": flow.gui})
                codes.append(r.status_code)
                if r.status_code == 429:
                    assert r.json()["message"] == ("too many OpenID login attempts from this "
                                                   "address, try again in a minute"), r.text
                    break
            assert codes[-1] == 429 and set(codes[:-1]) == {200}, codes
            assert len(codes) <= 41, len(codes)
        check("auth-url is rate limited per client address", auth_url_rate_limit)

        def log_has_reasons():
            log = demo.server_log()
            assert "openid authentication failure" in log
            assert state["ticket"] not in log and "Demo-Admin-2025" not in log
            assert "successful openid auth for user 'alice@demo.example@entra'" in log
        check("server log names failures but no secrets", log_has_reasons)
    finally:
        demo.stop()

    failed = [n for n, e in RESULTS if e]
    if "roundtrip_ms" in state:
        print(f"one OpenID login round trip: {state['roundtrip_ms']:.1f} ms")
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
