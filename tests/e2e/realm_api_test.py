"""End-to-end test of the realm management API (spec §2.5): POST /access/domains and
GET/PUT/DELETE /access/domains/{realm} against a real `realmgate serve`, asserting exact HTTP
statuses, messages and domains.cfg contents. The last line is "N passed, M failed"."""
import base64
import email.utils
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, free_port, summary  # noqa: E402


class Client:
    """A logged-in API client (ticket cookie + CSRF header)."""

    def __init__(self, api, user, password):
        r = requests.post(f"{api}/access/ticket", verify=False,
                          data={"username": user, "password": password})
        assert r.status_code == 200, (user, r.status_code, r.text)
        d = r.json()["data"]
        self.api = api
        self.cookies = {"PVEAuthCookie": d["ticket"]}
        self.headers = {"CSRFPreventionToken": d["CSRFPreventionToken"]}

    def call(self, method, path, **data):
        return requests.request(method, f"{self.api}{path}", verify=False, data=data or None,
                                cookies=self.cookies, headers=self.headers)


class FakeProvider:
    """Serves a discovery document and a JWKS that each case sets, with a Date header that
    may be shifted, for `realmgate realm check`."""

    def __init__(self):
        from cryptography.hazmat.primitives.asymmetric import rsa
        pub = rsa.generate_private_key(public_exponent=65537, key_size=2048) \
            .public_key().public_numbers()

        def b64u_int(n):
            return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")) \
                .rstrip(b"=").decode()
        self.rsa_jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "n": b64u_int(pub.n),
                        "e": b64u_int(pub.e)}
        self.date_offset = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/p/.well-known/openid-configuration":
                    body = json.dumps(fake.doc).encode()
                elif self.path == "/p/jwks":
                    body = json.dumps(fake.jwks).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response_only(200)
                self.send_header("Date", email.utils.formatdate(
                    time.time() + fake.date_offset, usegmt=True))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/p"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.reset()

    def reset(self):
        self.doc = {"issuer": self.issuer,
                    "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token",
                    "jwks_uri": self.issuer + "/jwks",
                    "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"]}
        self.jwks = {"keys": [self.rsa_jwk]}
        self.date_offset = 0


def main():
    demo = Demo("realmapi")
    api = demo.gui + "/api2/json"
    cfg_path = os.path.join(demo.config_dir, "domains.cfg")
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]

    def cfg_text():
        with open(cfg_path) as f:
            return f.read()

    def section(realm):
        """The lines of one realm's section, header included, or None."""
        lines = cfg_text().split("\n")
        for i, line in enumerate(lines):
            if line.endswith(f": {realm}") and not line.startswith(("\t", " ")):
                out = [line]
                for rest in lines[i + 1:]:
                    if rest == "":
                        break
                    out.append(rest)
                return out
        return None

    try:
        for user, pw in (("auditor@pve", "Audit-Pass-2026"), ("nobody@pve", "Nobody-Pass-2026")):
            subprocess.run(rg + ["user", "add", user, "--password", pw], check=True)
        subprocess.run(rg + ["acl", "modify", "/access", "--users", "auditor@pve",
                             "--roles", "PVEAuditor"], check=True)
        admin = Client(api, "admin@pve", "Demo-Admin-2026")
        auditor = Client(api, "auditor@pve", "Audit-Pass-2026")
        nobody = Client(api, "nobody@pve", "Nobody-Pass-2026")

        def create():
            r = admin.call("POST", "/access/domains", realm="corp", type="openid",
                           **{"issuer-url": "https://idp.corp.example/tenant/v2.0",
                              "client-id": "rg-client", "client-key": "s3cr3t:%x",
                              "username-claim": "email", "autocreate": "1",
                              "groups-claim": "groups",
                              "groups-map": "6f1c0e7a-0000-4000-8000-000000000001=admins, "
                                            "a%2Cb%3Dc=odd.name",
                              "comment": "Corp SSO: main"})
            assert r.status_code == 200, r.text
            assert r.json() == {"data": None}, r.text
            assert section("corp") == [
                "openid: corp",
                "\tcomment Corp SSO%3A main",
                "\tclient-id rg-client",
                "\tissuer-url https://idp.corp.example/tenant/v2.0",
                "\tautocreate 1",
                "\tclient-key s3cr3t:%x",
                "\tgroups-claim groups",
                "\tgroups-map 6f1c0e7a-0000-4000-8000-000000000001=admins, a%2Cb%3Dc=odd.name",
                "\tusername-claim email",
            ], section("corp")
        check("POST creates an openid realm with the canonical section", create)

        def get_one():
            r = admin.call("GET", "/access/domains/corp")
            assert r.status_code == 200, r.text
            d = r.json()["data"]
            digest = hashlib.sha1(open(cfg_path, "rb").read()).hexdigest()
            assert d == {"type": "openid", "digest": digest, "comment": "Corp SSO: main",
                         "client-id": "rg-client",
                         "issuer-url": "https://idp.corp.example/tenant/v2.0",
                         "autocreate": 1, "client-key-set": 1, "groups-claim": "groups",
                         "groups-map": "6f1c0e7a-0000-4000-8000-000000000001=admins, "
                                       "a%2Cb%3Dc=odd.name",
                         "username-claim": "email"}, d
            assert "s3cr3t" not in r.text
            r = auditor.call("GET", "/access/domains/corp")
            assert r.status_code == 200, r.text
            assert r.json()["data"]["client-key-set"] == 1
            r = admin.call("GET", "/access/domains/pve")
            assert r.json()["data"] == {"type": "pve", "digest": digest,
                                        "comment": "Proxmox VE authentication server"}, r.text
        check("GET returns the options and digest, never the client key", get_one)

        def permissions():
            r = nobody.call("GET", "/access/domains/corp")
            assert r.status_code == 403, r.text
            assert r.json()["message"] == "Permission check failed (/access/realm, Realm.Allocate)"
            for method, path, data in (("POST", "/access/domains",
                                        {"realm": "x1", "type": "openid"}),
                                       ("PUT", "/access/domains/corp", {"comment": "x"}),
                                       ("DELETE", "/access/domains/corp", {})):
                for who in (nobody, auditor):
                    r = who.call(method, path, **data)
                    assert r.status_code == 403, (method, r.text)
                    assert r.json()["message"] == \
                        "Permission check failed (/access/realm, Realm.Allocate)", r.text
            r = requests.get(f"{api}/access/domains/corp", verify=False)
            assert r.status_code == 401, r.text
            r = requests.post(f"{api}/access/domains", verify=False,
                              cookies=admin.cookies, data={"realm": "x2", "type": "openid"})
            assert r.status_code == 401, r.text
            assert r.json()["message"] == "Permission denied - invalid csrf token"
            assert section("corp")[1] == "\tcomment Corp SSO%3A main"
            assert section("x1") is None and section("x2") is None
        check("permissions: Realm.Allocate to change, Sys.Audit may read, CSRF needed",
              permissions)

        def create_errors():
            cases = [
                ({"realm": "pam", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c"}, "domain 'pam' already exists"),
                ({"realm": "mypam", "type": "pam"}, "unable to create builtin type 'pam'"),
                ({"realm": "mypve", "type": "pve"}, "unable to create builtin type 'pve'"),
                ({"realm": "corp", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c"}, "domain 'corp' already exists"),
                ({"realm": "new1", "type": "openid", "client-id": "c"},
                 "missing required option 'issuer-url'"),
                ({"realm": "new1", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c", "groups-claim": "bad claim"},
                 "invalid value for 'groups-claim': value does not match the regex pattern"),
                ({"realm": "new1", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c", "groups-map": "abc"},
                 "invalid value for 'groups-map': pair 'abc' has no '='"),
                ({"realm": "new1", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c", "groups-map": "a=ok,a=again"},
                 "invalid value for 'groups-map': claim value 'a' is mapped twice"),
                ({"realm": "new1", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c", "groups-map": "a=bad/name"},
                 "invalid value for 'groups-map': invalid group name 'bad/name'"),
                ({"realm": "new1", "type": "openid", "issuer-url": "https://a.example",
                  "client-id": "c", "bogus": "1"}, "unknown option 'bogus'"),
                ({"realm": "1bad", "type": "openid"},
                 "parameter verification failed: realm: invalid format"),
                ({"type": "openid"}, "parameter verification failed: realm and type are required"),
            ]
            before = cfg_text()
            for data, message in cases:
                r = admin.call("POST", "/access/domains", **data)
                assert r.status_code == 400, (data, r.status_code, r.text)
                assert r.json()["message"] == message, (data, r.json()["message"])
            assert cfg_text() == before
        check("POST refuses reserved, duplicate, incomplete and invalid realms", create_errors)

        def modify():
            r = admin.call("PUT", "/access/domains/corp", comment="Corp",
                           **{"client-key": "n3w", "groups-overwrite": "1", "default": "1",
                              "delete": "groups-map,autocreate"})
            assert r.status_code == 200, r.text
            assert section("corp") == [
                "openid: corp",
                "\tcomment Corp",
                "\tclient-id rg-client",
                "\tissuer-url https://idp.corp.example/tenant/v2.0",
                "\tclient-key n3w",
                "\tdefault 1",
                "\tgroups-claim groups",
                "\tgroups-overwrite 1",
                "\tusername-claim email",
            ], section("corp")
            # default 1 cleared the demo realm's default
            assert "\tdefault 1" not in section("entra"), section("entra")
        check("PUT sets and deletes options; default 1 clears the others", modify)

        def modify_errors():
            before = cfg_text()
            cases = [
                ({"username-claim": "sub"},
                 "can't change value of fixed parameter 'username-claim'"),
                ({"delete": "username-claim"},
                 "can't change value of fixed parameter 'username-claim'"),
                ({}, "no options specified"),
                ({"delete": "issuer-url"}, "cannot delete required option 'issuer-url'"),
                ({"type": "pve"},
                 "parameter verification failed: type: the realm type cannot be changed"),
                ({"digest": "0" * 40, "comment": "late"},
                 "detected modified configuration - file changed by other user? Try again."),
            ]
            for data, message in cases:
                r = admin.call("PUT", "/access/domains/corp", **data)
                assert r.status_code == 400, (data, r.status_code, r.text)
                assert r.json()["message"] == message, (data, r.json()["message"])
            r = admin.call("PUT", "/access/domains/nosuch", comment="x")
            assert r.status_code == 404 and r.json()["message"] == \
                "domain 'nosuch' does not exist", r.text
            assert cfg_text() == before
        check("PUT refuses fixed, required, type changes, empty and stale-digest updates",
              modify_errors)

        def digest_ok():
            d = admin.call("GET", "/access/domains/corp").json()["data"]["digest"]
            assert d == hashlib.sha1(open(cfg_path, "rb").read()).hexdigest()
            r = admin.call("PUT", "/access/domains/corp", digest=d, comment="with digest")
            assert r.status_code == 200, r.text
            assert section("corp")[1] == "\tcomment with digest"
            # the old digest is stale now
            r = admin.call("PUT", "/access/domains/corp", digest=d, comment="again")
            assert r.status_code == 400, r.text
            assert r.json()["message"] == \
                "detected modified configuration - file changed by other user? Try again."
            assert section("corp")[1] == "\tcomment with digest"
        check("PUT with the current digest succeeds, with a stale one fails", digest_ok)

        def digest_fresh_after_cli():
            subprocess.run(rg + ["realm", "modify", "corp", "--comment", "from the CLI"],
                           check=True)
            d = admin.call("GET", "/access/domains/corp").json()["data"]
            assert d["comment"] == "from the CLI", d
            assert d["digest"] == hashlib.sha1(open(cfg_path, "rb").read()).hexdigest()
            r = admin.call("PUT", "/access/domains/corp", digest=d["digest"],
                           comment="with digest")
            assert r.status_code == 200, r.text
        check("GET right after a CLI change returns the new digest", digest_fresh_after_cli)

        def client_key_unset():
            r = admin.call("PUT", "/access/domains/corp", delete="client-key")
            assert r.status_code == 200, r.text
            assert admin.call("GET", "/access/domains/corp").json()["data"]["client-key-set"] == 0
            assert not any(line.startswith("\tclient-key") for line in section("corp"))
        check("client-key-set reports 0 once the key is deleted", client_key_unset)

        def listed():
            r = requests.get(f"{api}/access/domains", verify=False)
            by = {d["realm"]: d for d in r.json()["data"]}
            assert by["corp"] == {"realm": "corp", "type": "openid", "comment": "with digest",
                                  "default": 1}, by
        check("the public list shows the new realm as default", listed)

        def delete():
            for realm, status, message in (
                    ("pam", 400, "cannot delete builtin realm 'pam'"),
                    ("pve", 400, "cannot delete builtin realm 'pve'"),
                    ("nosuch", 404, "authentication domain 'nosuch' does not exist")):
                r = admin.call("DELETE", f"/access/domains/{realm}")
                assert r.status_code == status, r.text
                assert r.json()["message"] == message, r.text
            r = admin.call("DELETE", "/access/domains/corp")
            assert r.status_code == 200, r.text
            assert section("corp") is None
            assert section("entra") is not None
            r = admin.call("GET", "/access/domains/corp")
            assert r.status_code == 404 and r.json()["message"] == \
                "domain 'corp' does not exist", r.text
        check("DELETE removes a realm; built-ins and unknown realms are refused", delete)

        def cli_digest_message():
            p = subprocess.run(rg + ["realm", "modify", "entra", "--comment", "x",
                                     "--digest", "1" * 40], capture_output=True, text=True)
            assert p.returncode == 1, p
            assert p.stderr.strip() == \
                "detected modified configuration - file changed by other user? Try again.", p.stderr
        check("the CLI uses the same digest message", cli_digest_message)

        def cli_groups_map():
            p = subprocess.run(rg + ["realm", "modify", "entra", "--groups-map", "x=a b"],
                               capture_output=True, text=True)
            assert p.returncode == 1, p
            assert p.stderr.strip() == "invalid value for 'groups-map': pair 'b' has no '='", \
                p.stderr
            p = subprocess.run(rg + ["realm", "modify", "entra", "--groups-map",
                                     "g1=admins;g%3B2=ops"], capture_output=True, text=True)
            assert p.returncode == 0, p
            assert "\tgroups-map g1=admins;g%3B2=ops" in section("entra"), section("entra")
            p = subprocess.run(rg + ["realm", "check"], capture_output=True, text=True)
            assert p.returncode == 2, p
        check("the CLI sets and checks groups-map; realm check without a realm is a usage error",
              cli_groups_map)

        def no_secret_in_log():
            log = demo.server_log()
            assert "s3cr3t" not in log and "n3w" not in log
            assert "realm 'corp' created by admin@pve" in log, log[-2000:]
        check("the log records changes without the client key", no_secret_in_log)
        fake = FakeProvider()

        def realm_check(realm):
            p = subprocess.run(rg + ["realm", "check", realm], capture_output=True, text=True)
            return p.returncode, p.stdout.splitlines()

        def check_demo_realm():
            rc, out = realm_check("entra")
            assert rc == 0, out
            assert out[0] == f"realm 'entra': issuer {demo.issuer}", out
            assert f"ok       issuer matches: {demo.issuer}" in out, out
            assert "ok       the server loads this provider's metadata and keys" in out, out
            # the demo names users by preferred_username, which Entra lets change
            assert [line for line in out if line.startswith("WARNING")] == [
                "WARNING  username-claim 'username' names users by a value the provider lets "
                "change or give to someone else later; that person would sign in as the old "
                "user, with its ACLs. 'sub' (the default) or 'oid' never changes (fixed at "
                "realm creation: a new realm is needed to switch)"], out
            assert out[-1] == "realm 'entra': no problems found (1 warning(s))", out
        check("realm check: the demo realm has no problems (exit 0)", check_demo_realm)

        subprocess.run(rg + ["realm", "add", "fake", "--type", "openid", "--issuer-url",
                             fake.issuer, "--client-id", "c1"], check=True)

        def check_fake(mutate, rc_want, lines):
            fake.reset()
            mutate()
            rc, out = realm_check("fake")
            assert rc == rc_want, (rc, out)
            for line in lines:
                assert line in out, (line, out)

        def check_fine():
            check_fake(lambda: None, 0, [
                "ok       key set: 1 usable key(s), 0 skipped",
                "ok       ID token signing algorithms: RS256",
                "ok       username-claim 'sub' is a stable identifier",
                "realm 'fake': no problems found (0 warning(s))"])
        check("realm check: a correct provider passes", check_fine)

        def check_issuer_mismatch():
            check_fake(lambda: fake.doc.update(issuer=fake.issuer + "/"), 1, [
                f"PROBLEM  issuer mismatch: the realm's issuer-url is '{fake.issuer}' but the "
                f"provider says its issuer is '{fake.issuer}/' (they differ only by a trailing "
                f"'/'); they must be identical (set issuer-url to the provider's value)",
                "realm 'fake': 1 problem(s), 0 warning(s)"])
        check("realm check: issuer mismatch shows both strings", check_issuer_mismatch)

        def check_missing_endpoint():
            def m():
                del fake.doc["token_endpoint"]
                fake.doc["authorization_endpoint"] = "http://idp.example/authorize"
            check_fake(m, 1, [
                "PROBLEM  the discovery document has no token_endpoint",
                "PROBLEM  authorization_endpoint 'http://idp.example/authorize' is not "
                "acceptable: it must be https:// (http:// only on a loopback host), without "
                "fragment or user info"])
        check("realm check: missing and insecure endpoints", check_missing_endpoint)

        def check_algs():
            check_fake(lambda: fake.doc.update(
                id_token_signing_alg_values_supported=["none", "HS256", "XX512"]), 1, [
                "PROBLEM  signing algorithms realmgate does not accept here: none, HS256, XX512 "
                "('none' never; HS256/384/512 only with a client key)",
                "PROBLEM  no usable ID token signing algorithm: realmgate verifies "
                "RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA"])
        check("realm check: no usable signing algorithm", check_algs)

        def check_keys():
            check_fake(lambda: fake.jwks.update(keys=[{"kty": "oct", "k": "AAAA"}]), 1, [
                f"PROBLEM  no usable signing keys at {fake.issuer}/jwks: JWKS has no usable "
                "signing key (1 skipped)",
                "realm 'fake': 1 problem(s), 0 warning(s)"])
            check_fake(lambda: fake.doc.update(id_token_signing_alg_values_supported=["ES256"]),
                       1, ["PROBLEM  no key in the key set fits an advertised signing algorithm "
                           "(key type, curve or the key's own alg do not match)"])
        check("realm check: no usable keys, or no key for the advertised algorithm", check_keys)

        def check_clock():
            def m():
                fake.date_offset = -300
            fake.reset()
            m()
            rc, out = realm_check("fake")
            assert rc == 0, out
            warn = [line for line in out if line.startswith("WARNING")]
            assert len(warn) == 1, out
            assert warn[0].startswith("WARNING  this host's clock is 30"), warn
            assert "s ahead of the provider's (provider Date: " in warn[0], warn
            assert warn[0].endswith("ID tokens are checked with 120 s leeway: synchronise the "
                                    "clocks (NTP)"), warn
            assert out[-1] == "realm 'fake': no problems found (1 warning(s))", out
        check("realm check: clock offset above 60 s is a warning", check_clock)

        def check_unreachable():
            port = free_port()
            subprocess.run(rg + ["realm", "modify", "fake", "--issuer-url",
                                 f"http://127.0.0.1:{port}/p"], check=True)
            rc, out = realm_check("fake")
            assert rc == 1, out
            assert any(line.startswith("PROBLEM  cannot fetch the discovery document: ")
                       and f"127.0.0.1:{port}" in line for line in out), out
        check("realm check: unreachable host", check_unreachable)

        def check_tls():
            # the realmgate server's own self-signed certificate is not trusted
            subprocess.run(rg + ["realm", "modify", "fake", "--issuer-url", demo.gui + "/p"],
                           check=True)
            rc, out = realm_check("fake")
            assert rc == 1, out
            line = [x for x in out if x.startswith("PROBLEM  cannot fetch the discovery")]
            assert line and ("certificate" in line[0] or "SSL" in line[0]), out
        check("realm check: TLS verification failure is named", check_tls)

        def check_http_remote():
            # the CLI refuses such an issuer ...
            p = subprocess.run(rg + ["realm", "modify", "fake", "--issuer-url",
                                     "http://idp.invalid/p"], capture_output=True, text=True)
            assert p.returncode == 1 and p.stderr.strip() == (
                "invalid value for 'issuer-url': an https:// URL is required (http:// only for "
                "127.0.0.1, [::1] or localhost)"), (p.returncode, p.stderr)
            # ... but a domains.cfg written elsewhere (Proxmox allows it) may carry one
            path = os.path.join(demo.config_dir, "domains.cfg")
            with open(path) as f:
                text = f.read()
            text = re.sub(r"(openid: fake\n(?:\t.*\n)*?\tissuer-url ).*", r"\1http://idp.invalid/p",
                          text)
            assert "issuer-url http://idp.invalid/p" in text, text
            with open(path, "w") as f:
                f.write(text)
            rc, out = realm_check("fake")
            assert rc == 1, out
            assert "PROBLEM  the issuer URL uses http:// on a host that is not loopback: the " \
                   "server refuses it (tokens and keys would travel unprotected); use https://" \
                in out, out
            rc, out = realm_check("pve")
            assert rc == 1 and out == ["PROBLEM  realm 'pve' has type 'pve'; only openid realms "
                                       "can be checked"], out
            rc, out = realm_check("nosuch")
            assert rc == 1 and out == ["PROBLEM  realm 'nosuch' does not exist"], out
        check("realm check: http issuer on a remote host; wrong realm", check_http_remote)
    finally:
        demo.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
