"""End-to-end sign-out (catalogue LO-01, LO-02, LO-09, §4.3): RP-initiated logout through
POST /api2/json/access/logout and the front-channel logout endpoint the identity provider
calls with ?sid=. realmgate serve + realmgate-idp on loopback, seeded by scripts/demo-setup.
Every check asserts exact values; the last line is "N passed, M failed"."""
import base64
import json
import os
import re
import stat
import sys
import time
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, Demo, free_port, summary  # noqa: E402
from login_flow_test import Flow  # noqa: E402


def b64url_json(seg):
    return json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))


class Session:
    """One signed-in GUI session: ticket, CSRF token and the IdP's session id (sid)."""

    def __init__(self, api, data, sid=None):
        self.api = api
        self.user = data["username"]
        self.ticket = data["ticket"]
        self.csrf = data["CSRFPreventionToken"]
        self.sid = sid

    def get(self, path="/access/permissions", ticket=None, base=None):
        return requests.get(f"{base or self.api}{path}", verify=False,
                            cookies={"PVEAuthCookie": ticket or self.ticket})

    def logout(self, redirect=None, csrf=True, ticket=None):
        data = {"redirect-url": redirect} if redirect else {}
        headers = {"CSRFPreventionToken": self.csrf} if csrf else {}
        return requests.post(f"{self.api}/access/logout", verify=False, data=data,
                             headers=headers, cookies={"PVEAuthCookie": ticket or self.ticket})

    def renew(self, ticket=None):
        return requests.post(f"{self.api}/access/ticket", verify=False,
                             data={"username": self.user, "password": ticket or self.ticket})


def openid_login(flow, user, password):
    q = flow.callback(user, password)
    r = flow.login(q)
    assert r.status_code == 200, (r.status_code, r.text)
    # realmgate-idp's session_state is the ID token's sid (as Entra's)
    return Session(flow.api, r.json()["data"], q.get("session_state"))


def main():
    demo = Demo("logout")
    flow = Flow(demo)
    api = flow.api
    fc_url = f"{api}/access/openid/frontchannel-logout"
    st = {}
    try:
        def rp_initiated():
            s = openid_login(flow, "alice@demo.example", "Demo-Alice-2026")
            assert s.sid and re.fullmatch(r"[0-9a-f-]{36}", s.sid), s.sid
            assert s.get().status_code == 200
            time.sleep(1.1)  # a renewed ticket gets a new TIME
            r = s.renew()
            assert r.status_code == 200, r.text
            renewed = r.json()["data"]["ticket"]
            assert renewed != s.ticket
            st["alice_first"] = s.ticket
            s.ticket = renewed
            s.csrf = r.json()["data"]["CSRFPreventionToken"]
            st["alice"] = s
            r = s.logout(redirect=demo.gui)
            assert r.status_code == 200, (r.status_code, r.text)
            url = r.json()["data"]
            parts = urllib.parse.urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}{parts.path}" == \
                f"{demo.idp}/{demo.vars['TENANT_ID']}/oauth2/v2.0/logout", url
            q = urllib.parse.parse_qs(parts.query, strict_parsing=True)
            assert sorted(q) == ["client_id", "id_token_hint", "post_logout_redirect_uri",
                                 "state"], q
            assert all(len(v) == 1 for v in q.values()), q
            assert q["client_id"] == [demo.vars["CLIENT_ID"]]
            assert q["post_logout_redirect_uri"] == [demo.gui]
            assert re.fullmatch(r"[A-Za-z0-9_-]{22}", q["state"][0]), q["state"]
            hint = q["id_token_hint"][0].split(".")
            assert len(hint) == 3, "id_token_hint is a compact JWS"
            claims = b64url_json(hint[1])
            assert claims["aud"] == demo.vars["CLIENT_ID"], claims
            assert claims["iss"] == demo.issuer, claims
            assert claims["sid"] == s.sid, (claims.get("sid"), s.sid)
            assert claims["preferred_username"] == "alice@demo.example", claims
            st["logout_url"] = url
            st["logout_state"] = q["state"][0]
        check("LO-01 logout answers end_session_endpoint with id_token_hint, client_id, "
              "post_logout_redirect_uri and state", rp_initiated)

        def tickets_dead():
            s = st["alice"]
            for t in (s.ticket, st["alice_first"]):
                r = s.get(ticket=t)
                assert r.status_code == 401, (r.status_code, r.text)
                r = s.renew(ticket=t)
                assert r.status_code == 401, (r.status_code, r.text)
                assert r.json()["message"] == "authentication failure"
            r = s.logout()
            assert r.status_code == 401, "a signed-out ticket cannot log out again"
            log = demo.server_log()
            assert "ticket of 'alice@demo.example@entra' was signed out" in log
            assert "renewal refused: ticket of 'alice@demo.example@entra' was signed out" in log
            assert s.ticket not in log and st["alice_first"] not in log
        check("§4.3 after logout the ticket and the one it was renewed from are refused, "
              "renewal too", tickets_dead)

        def idp_round_trip():
            r = requests.get(st["logout_url"], allow_redirects=False)
            assert r.status_code == 302, (r.status_code, r.text[:300])
            loc = urllib.parse.urlsplit(r.headers["Location"])
            assert f"{loc.scheme}://{loc.netloc}" == demo.gui, r.headers["Location"]
            assert urllib.parse.parse_qs(loc.query)["state"] == [st["logout_state"]]
        check("LO-02 the provider accepts the URL and returns to the GUI with the state",
              idp_round_trip)

        def other_server_agrees():
            _, url = demo.start_server(port=free_port(), log=demo.rg_log)
            r = st["alice"].get(base=url + "/api2/json")
            assert r.status_code == 401, (r.status_code, r.text)
        check("a second server process sharing the config dir refuses the signed-out ticket",
              other_server_agrees)

        def csrf_needed():
            s = openid_login(flow, "alice@demo.example", "Demo-Alice-2026")
            r = s.logout(csrf=False)
            assert r.status_code == 401, (r.status_code, r.text)
            assert s.get().status_code == 200, "logout without CSRF token changed nothing"
            r = s.logout(redirect="javascript:alert(1)")
            assert r.status_code == 400, (r.status_code, r.text)
            assert s.get().status_code == 200, "refused logout changed nothing"
            r = s.logout()  # no redirect-url: no post_logout_redirect_uri
            assert r.status_code == 200, r.text
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json()["data"]).query)
            assert "post_logout_redirect_uri" not in q and "id_token_hint" in q, q
            assert s.get().status_code == 401
        check("logout needs the CSRF token and a valid redirect-url", csrf_needed)

        def frontchannel():
            a = openid_login(flow, "alice@demo.example", "Demo-Alice-2026")
            b = openid_login(flow, "bob@demo.example", "Demo-Bob-2026")
            assert a.sid != b.sid
            assert a.get().status_code == 200 and b.get().status_code == 200
            # as the IdP's hidden iframe sends it: GET, no cookies, only sid
            r = requests.get(fc_url, params={"sid": a.sid}, verify=False)
            assert r.status_code == 200, (r.status_code, r.text)
            assert r.headers.get("Cache-Control") == "no-store", r.headers
            assert "X-Frame-Options" not in r.headers, "the IdP must be able to frame it"
            assert a.get().status_code == 401
            assert a.renew().status_code == 401
            assert b.get().status_code == 200, "another user's session is unaffected"
            st["bob"] = b
        check("front-channel logout by sid ends that session only", frontchannel)

        def frontchannel_edges():
            b = st["bob"]
            r = requests.get(fc_url, params={"sid": "00000000-0000-0000-0000-000000000000"},
                             verify=False)
            assert r.status_code == 200, "unknown sid still answers 200"
            r = requests.get(fc_url, params={"sid": b.sid, "iss": "https://evil.example/"},
                             verify=False)
            assert r.status_code == 200
            assert b.get().status_code == 200, "LO-09: an unknown iss ends nothing"
            r = requests.get(fc_url, verify=False)
            assert r.status_code == 400, (r.status_code, r.text)
            r = requests.get(f"{fc_url}?sid={b.sid}&sid=x", verify=False)
            assert r.status_code == 400, (r.status_code, r.text)
            assert b.get().status_code == 200
            r = requests.get(fc_url, params={"sid": b.sid, "iss": demo.issuer}, verify=False)
            assert r.status_code == 200
            assert b.get().status_code == 401, "matching iss and sid end the session"
        check("front-channel: unknown sid 200, unknown iss ignored, missing/repeated sid 400",
              frontchannel_edges)

        def password_login_logout():
            r = requests.post(f"{api}/access/ticket", verify=False,
                              data={"username": "admin@pve", "password": "Demo-Admin-2026"})
            assert r.status_code == 200, r.text
            s = Session(api, r.json()["data"])
            r = requests.post(f"{api}/access/users/admin@pve/token/lo", verify=False,
                              cookies={"PVEAuthCookie": s.ticket},
                              headers={"CSRFPreventionToken": s.csrf})
            assert r.status_code == 200, r.text
            tok = r.json()["data"]
            r = requests.post(f"{api}/access/logout", verify=False, headers={
                "Authorization": f"PVEAPIToken={tok['full-tokenid']}={tok['value']}"})
            assert r.status_code == 401 and "API token" in r.json()["message"], r.text
            r = requests.post(f"{api}/access/logout", verify=False, data={"bogus": "1"},
                              headers={"CSRFPreventionToken": s.csrf},
                              cookies={"PVEAuthCookie": s.ticket})
            assert r.status_code == 400, (r.status_code, r.text)
            assert s.get().status_code == 200, "refused logouts changed nothing"
            r = s.logout(redirect=demo.gui)
            assert r.status_code == 200 and r.json() == {"data": None}, r.text
            assert s.get().status_code == 401
            r = requests.post(f"{api}/access/ticket", verify=False,
                              data={"username": "admin@pve", "password": "Demo-Admin-2026"})
            assert r.status_code == 200, "a new login works after logout"
            assert Session(api, r.json()["data"]).get().status_code == 200
        check("pve realm: logout revokes the ticket, answers null, new login works; API "
              "tokens and unknown parameters refused",
              password_login_logout)

        def files_private():
            d = os.path.join(demo.config_dir, "priv", "sessions")
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
            names = os.listdir(d)
            assert "revoked" in names, names
            for n in names:
                assert stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode) == 0o600, n
                assert re.fullmatch(r"(u|s)-[0-9a-f]{64}|revoked|\.lock", n), n
            with open(os.path.join(d, "revoked")) as f:
                lines = f.read().splitlines()
            assert all(re.fullmatch(r"[0-9A-F]{8} \S+", ln) for ln in lines), lines
            assert sum(ln.endswith(" alice@demo.example@entra") for ln in lines) >= 4, lines
        check("session files are private, hashed names, revocation list well-formed",
              files_private)
    finally:
        demo.stop()

    return summary()


if __name__ == "__main__":
    sys.exit(main())
