"""End-to-end test of group mapping at OpenID login (spec §3.7 plus our groups-map option and
the groups-overage rule). A tiny test-only OpenID provider runs inside this script on loopback
(discovery, JWKS, token endpoint with PKCE and client_secret_basic; RS256 ID tokens carrying
whatever claims a case needs), so each case can put exactly the groups claim it wants into the
ID token. realmgate serve runs from the demo harness; assertions are on exact user.cfg lines,
HTTP statuses and log lines. The last line is "N passed, M failed"."""
import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, summary  # noqa: E402


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class TestOP:
    """A minimal OpenID provider for tests: the test registers the claims of the next sign-in
    with issue_code(); the token endpoint checks code, PKCE, redirect_uri and the client's
    Basic credentials, then answers with an RS256 ID token holding those claims."""

    def __init__(self, client_id, client_secret):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "k1"
        self.codes = {}
        self.token_requests = 0
        self.lock = threading.Lock()
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/op/.well-known/openid-configuration":
                    self.reply(200, op.discovery())
                elif self.path == "/op/jwks":
                    pub = op.key.public_key().public_numbers()
                    self.reply(200, {"keys": [{"kty": "RSA", "kid": op.kid, "use": "sig",
                                               "alg": "RS256", "n": b64u_int(pub.n),
                                               "e": b64u_int(pub.e)}]})
                else:
                    self.reply(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path != "/op/token":
                    self.reply(404, {"error": "not_found"})
                    return
                with op.lock:
                    op.token_requests += 1
                    entry = op.codes.pop(form.get("code", ""), None)
                # RFC 6749 §2.3.1: id and secret are form-urlencoded before base64
                auth = self.headers.get("Authorization", "")
                try:
                    cid, _, csec = base64.b64decode(auth[6:]).decode().partition(":")
                    creds = (urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(csec))
                except ValueError:
                    creds = None
                if not auth.startswith("Basic ") or creds != (op.client_id, op.client_secret):
                    self.reply(401, {"error": "invalid_client"})
                    return
                if entry is None or form.get("grant_type") != "authorization_code" or \
                        form.get("redirect_uri") != entry["redirect_uri"]:
                    self.reply(400, {"error": "invalid_grant"})
                    return
                verifier = form.get("code_verifier", "")
                if b64u(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
                    self.reply(400, {"error": "invalid_grant",
                                     "error_description": "PKCE verification failed"})
                    return
                self.reply(200, {"access_token": secrets.token_urlsafe(32),
                                 "token_type": "Bearer", "expires_in": 3600,
                                 "id_token": op.id_token(entry["claims"], entry["nonce"])})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/op"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def discovery(self):
        return {"issuer": self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

    def id_token(self, claims, nonce):
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.client_id, "iat": now, "nbf": now,
                   "exp": now + 600, "nonce": nonce}
        payload.update(claims)
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64u(json.dumps(header).encode()) + "." +
                         b64u(json.dumps(payload).encode())).encode()
        sig = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64u(sig)

    def issue_code(self, auth_url, claims):
        """Plays the user's sign-in: takes the authorization URL realmgate built and returns
        the callback parameters (state, code) the browser would bring back."""
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth_url).query))
        assert auth_url.startswith(self.issuer + "/authorize?"), auth_url
        assert q["client_id"] == self.client_id and q["code_challenge_method"] == "S256", q
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"claims": claims, "nonce": q["nonce"],
                                "challenge": q["code_challenge"],
                                "redirect_uri": q["redirect_uri"]}
        return {"state": q["state"], "code": code}

    def stop(self):
        self.server.shutdown()


def main():
    demo = Demo("groups")
    op = TestOP("rg-test-client", "t0p:s3cret")
    api = demo.gui + "/api2/json"
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
    usercfg = os.path.join(demo.config_dir, "user.cfg")
    log_pos = [0]

    def run(*args):
        p = subprocess.run(rg + list(args), capture_output=True, text=True)
        assert p.returncode == 0, (args, p.stdout, p.stderr)

    def modify_realm(*args):
        run("realm", "modify", "op", *args)

    def group_lines():
        with open(usercfg) as f:
            return sorted(line for line in f.read().splitlines() if line.startswith("group:"))

    def new_log():
        text = demo.server_log()
        out, log_pos[0] = text[log_pos[0]:], len(text)
        return out

    def login(claims):
        r = requests.post(f"{api}/access/openid/auth-url", verify=False,
                          data={"realm": "op", "redirect-url": demo.gui})
        assert r.status_code == 200, r.text
        cb = op.issue_code(r.json()["data"], claims)
        return requests.post(f"{api}/access/openid/login", verify=False,
                             data={"state": cb["state"], "code": cb["code"],
                                   "redirect-url": demo.gui})

    try:
        run("realm", "add", "op", "--type", "openid", "--issuer-url", op.issuer,
            "--client-id", op.client_id, "--client-key", op.client_secret,
            "--autocreate", "1", "--groups-claim", "groups",
            "--groups-map", "6f1c0e7a-1111-4222-8333-944445555666=admins,"
                            "a%20b%2Cc=spaced")
        run("group", "add", "admins-op")
        run("group", "add", "local")
        run("acl", "modify", "/vms", "--groups", "admins-op", "--roles", "PVEAuditor")
        time.sleep(1.1)
        new_log()

        def map_existing_only():
            r = login({"sub": "carol", "groups": ["6f1c0e7a-1111-4222-8333-944445555666",
                                                  "devs", "bad name", "a b,c", 42]})
            assert r.status_code == 200, r.text
            d = r.json()["data"]
            assert d["username"] == "carol@op"
            # the ticket's cap already reflects the new group's ACL (PVEAuditor on /vms)
            assert d["cap"]["vms"].get("VM.Audit") == 1, d["cap"]
            assert group_lines() == ["group:admins-op:carol@op::", "group:local:::"], group_lines()
            log = new_log()
            assert "openid realm 'op': skipping invalid group name 'bad name' from the " \
                   "groups claim" in log, log
            assert "openid realm 'op': groups claim element 4 skipped (not a string, NUL byte " \
                   "or longer than 256 bytes)" in log, log
            assert "openid realm 'op': groups of 'carol@op' updated: 1 added, 0 removed, " \
                   "0 created (claimed groups that do not exist were ignored)" in log, log
            assert "t0p:s3cret" not in log
            r = requests.get(f"{api}/access/permissions", verify=False,
                             cookies={"PVEAuthCookie": d["ticket"]})
            assert r.json()["data"]["/vms"]["VM.Audit"] == 1, r.text
        check("mapped GUID joins an existing group; unmapped missing groups ignored; "
              "invalid names skipped with a log line", map_existing_only)

        def autocreate():
            modify_realm("--groups-autocreate", "1")
            run("user", "modify", "carol@op", "--groups", "local", "--append", "1")
            r = login({"sub": "carol", "groups": ["devs", "a b,c", "devs"]})
            assert r.status_code == 200, r.text
            assert group_lines() == ["group:admins-op:carol@op::",
                                     "group:devs-op:carol@op::",
                                     "group:local:carol@op::",
                                     "group:spaced-op:carol@op::"], group_lines()
            log = new_log()
            assert "openid: created group 'devs-op' (groups-autocreate)" in log, log
            assert "openid: created group 'spaced-op' (groups-autocreate)" in log, log
        check("groups-autocreate creates missing groups; without overwrite old ones stay",
              autocreate)

        def unchanged_cases():
            modify_realm("--groups-overwrite", "1")
            before = group_lines()
            cases = [
                ({"sub": "carol"},
                 "openid realm 'op': groups claim 'groups' missing for 'carol@op'; group "
                 "memberships unchanged"),
                ({"sub": "carol", "groups": "admins"},
                 "openid realm 'op': groups claim 'groups' of 'carol@op' is not an array; "
                 "group memberships unchanged"),
                ({"sub": "carol", "_claim_names": {"groups": "src1"},
                  "_claim_sources": {"src1": {"endpoint": "https://graph.windows.net/t/users/"
                                                          "o/getMemberObjects"}}},
                 "openid realm 'op': groups overage for 'carol@op': the ID token does not "
                 "carry the groups claim 'groups' (the provider lists too many groups and "
                 "points to a claim source); group memberships unchanged"),
            ]
            for claims, line in cases:
                r = login(claims)
                assert r.status_code == 200, (claims, r.text)
                assert group_lines() == before, (claims, group_lines())
                log = new_log()
                assert line in log, (line, log)
        check("missing claim, non-array claim and groups overage keep memberships "
              "(even with groups-overwrite)", unchanged_cases)

        def overwrite():
            r = login({"sub": "carol", "groups": ["ops"]})
            assert r.status_code == 200, r.text
            assert group_lines() == ["group:admins-op:::", "group:devs-op:::", "group:local:::",
                                     "group:ops-op:carol@op::", "group:spaced-op:::"], \
                group_lines()
            d = r.json()["data"]
            assert d["cap"]["vms"].get("VM.Audit") is None, d["cap"]
            log = new_log()
            assert "openid realm 'op': groups of 'carol@op' updated: 1 added, 4 removed, " \
                   "1 created" in log, log
            r = login({"sub": "carol", "groups": []})
            assert r.status_code == 200, r.text
            assert all(not line.endswith(":carol@op::") for line in group_lines()), group_lines()
        check("groups-overwrite replaces every membership; an empty array removes all",
              overwrite)

        def no_write_when_same():
            login({"sub": "carol", "groups": ["ops"]})
            st = os.stat(usercfg)
            time.sleep(1.1)
            r = login({"sub": "carol", "groups": ["ops"]})
            assert r.status_code == 200, r.text
            assert os.stat(usercfg).st_mtime_ns == st.st_mtime_ns
            assert os.stat(usercfg).st_ino == st.st_ino
        check("a login with unchanged groups does not rewrite user.cfg", no_write_when_same)

        def without_groups_claim():
            modify_realm("--delete", "groups-claim")
            new_log()
            before = group_lines()
            r = login({"sub": "carol", "groups": ["admins"]})
            assert r.status_code == 200, r.text
            assert group_lines() == before
            assert "groups" not in new_log().replace("groups-claim", "")
        check("without groups-claim the login does not touch groups", without_groups_claim)
    finally:
        op.stop()
        demo.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
