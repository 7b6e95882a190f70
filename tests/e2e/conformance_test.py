"""Relying-party conformance suite: one case per catalogue row (shared/spec/oidc-rp-tests.md),
named by its ID, driven through realmgate-idp's test-only fault switches
(`serve --test-faults`, POST /_test/faults; see src/idp/faults.h).

Outcomes asserted (catalogue §0):
  REJECT-LOGIN  POST /access/openid/login answers 401 "authentication failure", no ticket in
                the body, user.cfg byte-for-byte unchanged, and (where the catalogue says so)
                the IdP counted no userinfo call.
  REJECT-CFG    POST /access/openid/auth-url is refused (no authorization URL is handed out,
                so no authorization request can be sent).
  ACCEPT        200 with a ticket for the signed-in user.

Why `serve --auth-failure-delay 0` here only: the fault switches are global to the one IdP,
so cases must run one after another (a thread pool would mix faults between cases), and
~90 failed logins at the default 3 s delay would take minutes. The delay is a brute-force
brake that has no bearing on what this suite checks.

Why realmgate is restarted before many cases: the relying party caches discovery and keys
(1 h) and throttles key refetches (60 s), both by design; a fresh process gives each case a
known cache state (empty, so that the first fetch sees the faulted document or key set).
The last line is "N passed, M failed"."""
import json
import os
import subprocess
import sys
import time
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, RESULTS, Demo, check  # noqa: E402
from login_flow_test import Flow  # noqa: E402

ALICE = ("alice@demo.example", "Demo-Alice-2026")
BOB = ("bob@demo.example", "Demo-Bob-2026")
EXPECTED_FAILURES = {}  # ID -> reason, for rows that show a relying-party bug left open


class FaultDemo(Demo):
    """The demo with the IdP's fault switches on and realmgate's failure delay off."""

    def start_idp(self):
        self.procs.append(subprocess.Popen(
            [os.path.join(BUILD, "realmgate-idp"), "--state-dir", os.path.join(self.dir, "idp"),
             "serve", "--listen", f"127.0.0.1:{self.idp_port}", "--issuer-base", self.idp,
             "--test-faults"],
            stdout=subprocess.DEVNULL, stderr=open(self.idp_log, "ab")))
        self.wait_up(f"{self.issuer}/.well-known/openid-configuration")

    def start_server(self, port=None, log=None):
        p = subprocess.Popen(
            [os.path.join(BUILD, "realmgate"), "--config-dir", self.config_dir, "serve",
             "--listen", f"127.0.0.1:{self.port}", "--auth-failure-delay", "0"],
            stdout=subprocess.DEVNULL, stderr=open(self.rg_log, "ab"))
        self.procs.append(p)
        self.rg = p
        self.wait_up(f"{self.gui}/api2/json/access/domains")
        return p, self.gui

    def restart_server(self):
        """A fresh realmgate process: empty discovery/key cache, no refetch cooldown."""
        self.rg.terminate()
        self.rg.wait(timeout=10)
        self.procs.remove(self.rg)
        self.start_server()


class Suite:
    def __init__(self, demo):
        self.demo = demo
        self.flow = Flow(demo)
        self.ctl = f"{demo.idp}/_test/faults"
        self.user_cfg = os.path.join(demo.config_dir, "user.cfg")
        self.jwks_url = f"{demo.idp}/{demo.vars['TENANT_ID']}/discovery/v2.0/keys"
        self.auth_urls = 0

    def restart(self):
        self.demo.restart_server()
        self.auth_urls = 0

    # ---- IdP control ----
    def faults(self, f):
        r = requests.post(self.ctl, data={"faults": json.dumps(f)})
        assert r.status_code == 200, (r.status_code, r.text)

    def counters(self):
        r = requests.get(self.ctl)
        assert r.status_code == 200, r.text
        return r.json()["counters"]

    def client_secret(self):
        with open(os.path.join(self.demo.config_dir, "domains.cfg")) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k == "client-key":
                    return v
        raise AssertionError("no client-key in domains.cfg")

    def users(self):
        with open(self.user_cfg, "rb") as f:
            return f.read()

    # ---- one login ----
    def attempt(self, faults, user=BOB, fresh=False, before=False):
        """Signs in at the IdP and completes the login at realmgate with faults set (before
        the auth-url call when `before`, else right before the code is redeemed). Returns
        (response, counters during the faulted part)."""
        if fresh:
            self.restart()
        self.faults(faults if before else {})
        self.auth_urls += 1
        q = self.flow.callback(*user)
        if not before:
            self.faults(faults)
        r = self.flow.login(q)
        c = self.counters()
        self.faults({})
        return r, c

    def reject_login(self, faults, userinfo_calls=0, **kw):
        before = self.users()
        r, c = self.attempt(faults, **kw)
        assert r.status_code == 401, (r.status_code, r.text[:300])
        assert r.json()["message"] == "authentication failure", r.text[:300]
        assert "ticket" not in r.text and "PVE:" not in r.text, r.text[:300]
        assert self.users() == before, "user.cfg changed by a rejected login"
        if userinfo_calls is not None:
            assert c["userinfo"] == userinfo_calls, c
        return c

    def accept(self, faults, user=ALICE, **kw):
        r, c = self.attempt(faults, user=user, **kw)
        assert r.status_code == 200, (r.status_code, r.text[:300])
        d = r.json()["data"]
        assert d["username"] == f"{user[0]}@entra", d
        assert d["ticket"].startswith(f"PVE:{user[0]}@entra:"), d
        return c

    def reject_cfg(self, faults):
        """Discovery faults: fresh process, the first fetch sees them; auth-url is refused."""
        self.restart()
        self.faults(faults)
        r = requests.post(f"{self.flow.api}/access/openid/auth-url", verify=False,
                          data={"realm": "entra", "redirect-url": self.demo.gui})
        c = self.counters()
        self.faults({})
        assert r.status_code != 200, (r.status_code, r.text[:300])
        assert "authorize" not in r.text, r.text[:300]
        assert c["discovery"] >= 1, c
        return r

    def extra_jwk(self, **extra):
        """The IdP's extra (attacker) key as a public JWK."""
        self.faults(dict(jwks="extra", **extra))
        keys = requests.get(self.jwks_url).json()["keys"]
        self.faults({})
        return [k for k in keys if k["kid"] == extra.get("extra_kid", "rg-test-extra")][0]


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cases(s, demo):
    tid, cid = demo.vars["TENANT_ID"], demo.vars["CLIENT_ID"]
    issuer = demo.issuer
    now = lambda: int(time.time())  # noqa: E731
    R = s.reject_login
    C = []

    def case(cid_, fn):
        C.append((cid_, fn))

    # ---- 1.1 discovery (REJECT-CFG) ----
    case("D-03 discovery issuer differs from the configured issuer",
         lambda: s.reject_cfg({"discovery": {"issuer": "https://evil.test/v2.0"}}))
    case("D-04 issuer with a trailing slash",
         lambda: s.reject_cfg({"discovery": {"issuer": issuer + "/"}}))
    case("D-04 issuer with upper-case scheme and host",
         lambda: s.reject_cfg({"discovery": {"issuer": issuer.replace("http://127.0.0.1",
                                                                      "HTTP://127.0.0.1")}}))
    case("D-04 issuer with a default port",
         lambda: s.reject_cfg({"discovery": {"issuer": issuer.replace(
             f"127.0.0.1:{demo.idp_port}", "127.0.0.1:80")}}))
    case("D-04 issuer percent-encoded",
         lambda: s.reject_cfg({"discovery": {"issuer": issuer.replace("v2.0", "v2%2E0")}}))
    case("D-05 jwks_uri over http on a non-loopback host",
         lambda: s.reject_cfg({"discovery": {"jwks_uri": "http://keys.example/keys"}}))
    case("D-05 token_endpoint over http on a non-loopback host",
         lambda: s.reject_cfg({"discovery": {"token_endpoint": "http://login.example/token"}}))
    case("D-06 issuer is a number",
         lambda: s.reject_cfg({"discovery": {"issuer": 123}}))
    case("D-06 jwks_uri is an array",
         lambda: s.reject_cfg({"discovery": {"jwks_uri": ["http://127.0.0.1/keys"]}}))
    case("D-08 response_types_supported lacks code",
         lambda: s.reject_cfg({"discovery": {"response_types_supported": ["id_token"]}}))

    case("D-08 id_token_signing_alg_values_supported has only HS256 (realm without HMAC)",
         lambda: s.reject_cfg({"discovery": {"id_token_signing_alg_values_supported": ["HS256"]}}))
    for ep in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        case(f"D-06 discovery without {ep}",
             lambda ep=ep: s.reject_cfg({"discovery": {ep: None}}))

    # ---- accepted baseline (B/B°/C happy paths) ----
    def d01():
        c = s.accept({}, fresh=True, before=True)
        assert c["discovery"] == 1 and c["jwks"] == 1 and c["token"] == 1, c
        assert c["userinfo"] == 1, c  # U-02: the IdP only answers a Bearer header
        with open(s.user_cfg) as f:
            lines = f.read().splitlines()
        # U-03: the profile/email claims filled the configured fields
        assert "user:alice@demo.example@entra:1:0:Alice:Demo:alice@demo.example:::" in lines, lines
    case("D-01/D-02/CB-01/SIG-01/T-01/U-02/U-03 valid login with discovered endpoints", d01)

    def a01():
        url = s.flow.auth_url()
        parts = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qs(parts.query)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == \
            f"{demo.idp}/{tid}/oauth2/v2.0/authorize", url
        assert all(len(v) == 1 for v in q.values()), q
        assert q["response_type"] == ["code"] and q["client_id"] == [cid], q
        assert q["redirect_uri"] == [demo.gui] and "openid" in q["scope"][0].split(), q
        assert q["code_challenge_method"] == ["S256"] and len(q["state"][0]) >= 22, q
        assert len(q["nonce"][0]) >= 22, q
    case("A-01 authorization request parameters", a01)

    # ---- 1.5 ID token validation ----
    # the realm accepts what the provider advertises (no per-realm alg list): an RS256 token
    # from a provider that advertises ES256 only is refused at login
    case("D-08 id_token_signing_alg_values_supported lacks the token's RS256",
         lambda: R({"discovery": {"id_token_signing_alg_values_supported": ["ES256"]}},
                   fresh=True, before=True))
    case("IT-01 iss is another issuer", lambda: R({"claims": {"iss": "https://evil.test"}}))
    case("IT-02 sub missing", lambda: R({"claims": {"sub": None}}))
    case("IT-03 aud is another client",
         lambda: R({"claims": {"aud": "00000000-0000-0000-0000-00000000beef"}}))
    case("IT-04 aud missing", lambda: R({"claims": {"aud": None}}))
    case("IT-05 aud has an untrusted extra audience",
         lambda: R({"claims": {"aud": [cid, "some-api"]}}))
    case("IT-06 azp is not the client", lambda: R({"claims": {"azp": "some-api"}}))
    case("IT-07 iat missing", lambda: R({"claims": {"iat": None}}))
    case("IT-08 exp in the past", lambda: R({"claims_rel": {"exp": -3600}}))
    case("IT-08 exp missing", lambda: R({"claims": {"exp": None}}))
    case("IT-08 exp is a string", lambda: R({"claims": {"exp": str(now() + 3600)}}))
    case("IT-08 exp is a boolean", lambda: R({"claims": {"exp": True}}))
    case("IT-08 exp as a fractional NumericDate is accepted",
         lambda: s.accept({"claims": {"exp": now() + 3600.5}}))
    case("IT-09 iat one day in the future", lambda: R({"claims_rel": {"iat": 86400}}))
    case("IT-09 iat three days in the past",
         lambda: R({"claims_rel": {"iat": -3 * 86400}}))
    case("IT-09 nbf in the future", lambda: R({"claims_rel": {"nbf": 3600}}))
    case("IT-10 nonce differs", lambda: R({"claims": {"nonce": "not-the-nonce-that-was-sent"}}))
    case("IT-11 nonce missing", lambda: R({"claims": {"nonce": None}}))

    def it12():
        s.accept({})  # login 1: the IdP remembers its ID token
        R({"id_token_replay": True})
    case("IT-12 ID token of login 1 returned in login 2", it12)
    case("IT-13 sub is a number", lambda: R({"claims": {"sub": 12345}}))
    case("IT-13 sub is an array", lambda: R({"claims": {"sub": ["a"]}}))
    case("IT-13 sub is empty", lambda: R({"claims": {"sub": ""}}))
    case("IT-13 sub longer than 255 characters", lambda: R({"claims": {"sub": "a" * 256}}))
    case("IT-13 iss is a number", lambda: R({"claims": {"iss": 1}}))
    case("IT-13 aud is a number", lambda: R({"claims": {"aud": 1}}))
    case("IT-14 logout token returned as the ID token",
         lambda: R({"header": {"typ": "logout+jwt"},
                    "claims": {"nonce": None, "events": {
                        "http://schemas.openid.net/event/backchannel-logout": {}}}}))
    case("IT-14 at+jwt access token returned as the ID token",
         lambda: R({"header": {"typ": "at+jwt"}}))
    case("IT-17 unsigned ID token (alg none) with the default realm",
         lambda: R({"sign": "none"}))

    # ---- 1.6 signature and JWKS ----
    case("SIG-02 signature byte flipped", lambda: R({"corrupt_sig": True}))
    case("SIG-03 kid absent, one key in the JWKS",
         lambda: s.accept({"header": {"kid": None}}, fresh=True))
    case("SIG-04 kid absent, two keys in the JWKS",
         lambda: R({"jwks": "extra", "header": {"kid": None}}, fresh=True, before=True))
    for alg in ("none", "None", "NONE"):
        case(f"SIG-05 alg {alg} with an empty signature",
             lambda alg=alg: R({"sign": "none", "header": {"alg": alg}}))
    case("SIG-05 alg RS256 with an empty signature",
         lambda: R({"sign": "none", "header": {"alg": "RS256"}}))
    case("SIG-06 HS256 keyed with the OP's RSA public key (PEM)",
         lambda: R({"sign": "hmac_pubkey"}))
    case("SIG-07 HS256 keyed with the client secret, realm expects RS256",
         lambda: R({"sign": "hmac", "hmac_secret": s.client_secret()}))

    def sig08_jwk():
        jwk = s.extra_jwk()
        R({"sign": "extra", "header": {"jwk": jwk}}, fresh=True, before=True)
    case("SIG-08 embedded jwk header with the attacker key", sig08_jwk)
    case("SIG-08 jku header on another host",
         lambda: R({"sign": "extra", "header": {"jku": "http://127.0.0.1:9/jwks"}},
                   fresh=True, before=True))
    case("SIG-08 x5u header on another host",
         lambda: R({"sign": "extra", "header": {"x5u": "http://127.0.0.1:9/cert.pem"}},
                   fresh=True, before=True))
    for label, kid in (("path", "../../../dev/null"), ("SQL", "' OR 1=1--"), ("wildcard", "*"),
                       ("10 kB", "k" * 10240), ("number", 5), ("object", {"$ne": 1})):
        case(f"SIG-09 kid {label}", lambda kid=kid: R({"header": {"kid": kid}}, fresh=True))
    case("SIG-10 ES256 header with an all-zero 64-byte signature",
         lambda: R({"sign": "zero64"}))
    case("SIG-11 token signed with a 1024-bit RSA key listed in the JWKS",
         lambda: R({"jwks": "extra", "sign": "extra", "extra_bits": 1024},
                   fresh=True, before=True))
    case("SIG-12 the signing key has use enc",
         lambda: R({"jwks": "extra", "sign": "extra", "extra_key_set": {"use": "enc"}},
                   fresh=True, before=True))
    case("SIG-12 the signing key has key_ops encrypt",
         lambda: R({"jwks": "extra", "sign": "extra", "extra_key_set": {"key_ops": ["encrypt"]}},
                   fresh=True, before=True))
    case("SIG-12 the only key has alg RS512 for an RS256 header",
         lambda: R({"jwks": "rotate", "extra_key_set": {"alg": "RS512"}}, fresh=True, before=True))
    case("SIG-12 the only key is an RSA key for an ES256 header",
         lambda: R({"jwks": "rotate", "header": {"alg": "ES256"}}, fresh=True, before=True))
    case("SIG-13 unparseable keys next to the real one are skipped",
         lambda: s.accept({"jwks_add": [{"kty": "AKP", "kid": "akp-1", "alg": "ML-DSA-44",
                                          "pub": "AAAA"},
                                         {"kty": "XYZ", "kid": "odd-1"}]},
                          fresh=True, before=True))

    def sig14():
        # realmgate keeps the first key of a kid and drops later duplicates (logged when the
        # JWKS is read), so a key appended under an existing kid can never verify a token
        real = requests.get(s.jwks_url).json()["keys"][0]["kid"]
        R({"jwks": "extra", "extra_kid": real, "sign": "extra"}, fresh=True, before=True)
        s.accept({"jwks": "extra", "extra_kid": real}, fresh=True, before=True)
    case("SIG-14 two keys share one kid: the later duplicate never verifies", sig14)
    for label, hdr in (("crit urn:x", {"crit": ["urn:x"], "urn:x": 1}), ("crit empty", {"crit": []}),
                       ("crit exp", {"crit": ["exp"]}),
                       ("b64 false", {"b64": False, "crit": ["b64"]})):
        case(f"SIG-15 {label}", lambda hdr=hdr: R({"header": hdr}))
    case("SIG-16 compact token with 4 segments", lambda: R({"id_token_append": ".e30"}))
    case("SIG-16 compact token with 6 segments", lambda: R({"id_token_append": ".e30.e30.e30"}))

    def sig16_two():
        h = b64u(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        p = b64u(json.dumps({"iss": issuer, "aud": cid, "sub": "x"}).encode())
        R({"token": {"id_token": f"{h}.{p}"}})
    case("SIG-16 compact token with 2 segments", sig16_two)
    case("SIG-16 JWS JSON serialization in id_token",
         lambda: R({"token": {"id_token": {"payload": "e30", "signatures": [
             {"protected": "e30", "signature": "AAAA"}]}}}))

    # ---- 1.4 token endpoint ----
    case("T-03 token response without id_token", lambda: R({"token": {"id_token": None}}))
    case("T-04 token_type mac", lambda: R({"token": {"token_type": "mac"}}))
    case("T-04 token_type DPoP", lambda: R({"token": {"token_type": "DPoP"}}))
    case("T-04 token_type bearer in lower case is accepted",
         lambda: s.accept({"token": {"token_type": "bearer"}}))
    case("T-05 400 invalid_grant", lambda: R({"token_status": 400}))
    case("T-05 500 with an HTML body",
         lambda: R({"token_status": 500, "token_body": "<html>down</html>"}))
    case("T-05 200 with a non-JSON body", lambda: R({"token_status": 200, "token_body": "hello"}))
    case("T-05 200 with a JSON array", lambda: R({"token_status": 200, "token_body": "[]"}))

    # ---- 1.7 key rotation ----
    def kr01():
        s.accept({}, fresh=True)       # login 1 with the tenant key; keys now cached
        c = s.accept({"jwks": "rotate", "extra_kid": "rg-kr01"}, before=True)
        assert c["jwks"] == 1, c       # one refetch for the unknown kid
    case("KR-01 OP rotates its signing key between logins", kr01)

    def kr02():
        s.accept({}, fresh=True)
        # the new key set appears after the sign-in, right before the token is signed
        c = s.accept({"jwks": "rotate", "extra_kid": "rg-kr02", "extra_bits": 3072})
        assert c["jwks"] == 1, c
    case("KR-02 OP rotates right before signing", kr02)

    def kr04():
        s.accept({}, fresh=True)
        s.faults({})
        total = 0
        for i in range(5):
            c = R({"header": {"kid": f"random-kid-{i}"}})
            total += c["jwks"]
        assert total <= 1, total
    case("KR-04 a flood of unknown kids refetches the JWKS at most once per cooldown", kr04)

    def kr05():
        s.accept({}, fresh=True)
        R({"jwks": "rotate", "jwks_status": 500, "extra_kid": "rg-kr05"})
        s.accept({"jwks_status": 500})  # the cached, known kid keeps working
    case("KR-05 JWKS answers 500 during rotation: unknown kid fails closed, known kid works",
         kr05)

    # ---- 1.8 userinfo ----
    case("U-01 userinfo sub differs from the ID token's",
         lambda: R({"userinfo": {"sub": "someone-else"}}, userinfo_calls=1))
    case("U-04 userinfo answers 500", lambda: R({"userinfo_status": 500}, userinfo_calls=1))
    case("U-04 userinfo answers 401", lambda: R({"userinfo_status": 401}, userinfo_calls=1))
    case("U-04 userinfo as application/jwt although not configured",
         lambda: R({"userinfo_jwt": True}, userinfo_calls=1))

    def u07():
        s.accept({"userinfo": {"preferred_username": "mallory@demo.example",
                               "email": "mallory@evil.test", "email_verified": "false"}})
        with open(s.user_cfg) as f:
            text = f.read()
        assert "mallory" not in text, text
    case("U-07 userinfo never overrides the identity", u07)

    def u06():
        # distributed claims pointing at a provider URL whose calls are counted (userinfo):
        # realmgate must not fetch them (SSRF); only its own userinfo call is counted
        ui = f"{demo.idp}/oidc/userinfo"
        c = s.accept({"claims": {"_claim_names": {"groups": "src1", "email": "src2"},
                                 "_claim_sources": {"src1": {"endpoint": ui},
                                                    "src2": {"endpoint": "http://169.254.169.254/"
                                                             "latest/meta-data/"}}}})
        assert c["userinfo"] == 1, c
    case("U-06 distributed claims are never fetched", u06)

    # ---- 1.3 callback: iss parameter advertised (D-07 / CB-07) ----
    case("D-07/CB-07 iss parameter advertised but absent from the callback",
         lambda: R({"discovery": {"authorization_response_iss_parameter_supported": True}},
                   fresh=True, before=True))

    # ---- 1.3 callback rows through the login endpoint itself ----
    def login_raw(data, session=None):
        return (session or requests).post(f"{s.flow.api}/access/openid/login", verify=False,
                                          data=data)

    def refused(r, token_calls=0):
        """REJECT-LOGIN at the callback: no ticket, user.cfg unchanged (checked by the
        caller), and (by default) no token request reached the provider."""
        # 413: the HTTP layer's 64 KiB body limit answers before the login code runs
        assert r.status_code in (400, 401, 413), (r.status_code, r.text[:300])
        assert "ticket" not in r.text and "PVE:" not in r.text, r.text[:300]
        c = s.counters()
        assert c["token"] == token_calls, c

    def cb_case(fn):
        def run():
            before = s.users()
            s.faults({})                    # resets the IdP's counters
            fn()
            assert s.users() == before, "user.cfg changed by a refused callback"
        return run

    def cb02():
        s.restart()  # the case before left an iss-advertising discovery in the cache
        q = s.flow.callback(*BOB)
        s.faults({})
        refused(login_raw({"code": q["code"], "redirect-url": s.demo.gui}))
    case("CB-02 state missing", cb_case(cb02))

    def cb03():
        q1, q2 = s.flow.callback(*BOB), s.flow.callback(*ALICE)
        s.faults({})
        # state of one transaction with the code of another: PKCE binds the code to its own
        # transaction, so the provider refuses the redemption (one token request is made)
        refused(login_raw({"state": q1["state"], "code": q2["code"],
                           "redirect-url": s.demo.gui}), token_calls=1)
    case("CB-03/CB-15 code from another transaction (PKCE mismatch)", cb_case(cb03))

    def cb04():
        q = s.flow.callback(*BOB)
        r = s.flow.login(q)
        assert r.status_code == 200, r.text
        s.faults({})
        refused(s.flow.login(q))
    case("CB-04 the same callback replayed", lambda: cb04())

    def cb05():
        attacker = requests.Session()
        r = attacker.post(f"{s.flow.api}/access/openid/auth-url", verify=False,
                          data={"realm": "entra", "redirect-url": s.demo.gui})
        assert r.status_code == 200, r.text
        s.auth_urls += 1
        resp = s.flow.idp_sign_in(r.json()["data"], *BOB)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(resp.headers["Location"]).query))
        s.faults({})
        refused(s.flow.login(q))            # the victim's browser holds another cookie
    case("CB-05 login CSRF: the attacker's callback in the victim's browser", cb_case(cb05))

    def cb07():
        q = s.flow.callback(*BOB)
        s.faults({})
        refused(login_raw({"state": q["state"], "code": q["code"], "redirect-url": s.demo.gui,
                           "iss": issuer + "/"}))
    case("CB-07/CB-08 iss differs from the issuer (trailing slash; mix-up)", cb_case(cb07))

    def cb09():
        q = s.flow.callback(*BOB)
        s.faults({})
        body = (f"state={q['state']}&state={q['state']}&code={q['code']}&redirect-url="
                + urllib.parse.quote(s.demo.gui, safe=""))
        refused(requests.post(f"{s.flow.api}/access/openid/login", verify=False, data=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}))
    case("CB-09 state given twice", cb_case(cb09))

    def cb10():
        q = s.flow.callback(*BOB)
        s.faults({})
        refused(login_raw({"state": q["state"], "error": "access_denied",
                           "error_description": "<script>alert(1)</script>",
                           "redirect-url": s.demo.gui}))
        assert "<script>" not in s.demo.server_log()
    case("CB-10 an error response at the login endpoint", cb_case(cb10))

    def cb11():
        q = s.flow.callback(*BOB)
        s.faults({})
        refused(login_raw({"state": q["state"], "code": q["code"], "redirect-url": s.demo.gui,
                           "id_token": "eyJhbGciOiJub25lIn0.e30."}))
    case("CB-11 front-channel tokens on a code-flow callback", cb_case(cb11))

    def cb13():
        r = requests.get(f"{s.demo.gui}/?code=abc&state=def", verify=False)
        assert r.status_code == 200, r.status_code
        assert r.headers["Cache-Control"] == "no-store", r.headers
        assert r.headers["Referrer-Policy"] == "no-referrer", r.headers
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'"), r.headers
    case("CB-13 the callback page: no-store, no referrer, own resources only", cb13)

    def cb14():
        q = s.flow.callback(*BOB)
        s.faults({})
        for data in ({"state": q["state"], "code": q["code"], "redirect-url": s.demo.gui,
                      "iss": ""},
                     {"state": "s" * 100000, "code": "c", "redirect-url": s.demo.gui},
                     {"state": q["state"], "code": "c" * 100000, "redirect-url": s.demo.gui}):
            refused(login_raw(data))
        r = requests.post(f"{s.flow.api}/access/openid/login", verify=False,
                          data=b"state=a%00b&code=c&redirect-url=x",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        refused(r)
        assert requests.get(f"{s.flow.api}/access/domains", verify=False).status_code == 200
    case("CB-14 empty iss, 100 kB code/state, NUL bytes: refused, server fine", cb_case(cb14))
    return C


def main():
    demo = FaultDemo("conformance")
    s = Suite(demo)
    t0 = time.monotonic()
    try:
        # the control endpoint exists only with --test-faults and checks its input
        def control():
            r = requests.post(s.ctl, data={"faults": '{"no_such_switch":1}'})
            assert r.status_code == 400, r.text
            r = requests.post(s.ctl, data={"faults": '[1]'})
            assert r.status_code == 400, r.text
            s.faults({})
            assert s.counters() == {"discovery": 0, "jwks": 0, "token": 0, "userinfo": 0}
        check("control endpoint validates its input and resets", control)

        def refused_off_loopback():
            p = subprocess.run(
                [os.path.join(BUILD, "realmgate-idp"), "--state-dir",
                 os.path.join(demo.dir, "idp"), "serve", "--listen", "0.0.0.0:0",
                 "--issuer-base", demo.idp, "--test-faults"],
                capture_output=True, text=True, timeout=10)
            assert p.returncode != 0, p
            assert "--test-faults needs a loopback --listen address" in p.stderr, p.stderr
        check("--test-faults refuses a non-loopback listen address", refused_off_loopback)

        def off_without_flag():
            from harness import free_port
            port = free_port()
            p = subprocess.Popen(
                [os.path.join(BUILD, "realmgate-idp"), "--state-dir",
                 os.path.join(demo.dir, "idp"), "serve", "--listen", f"127.0.0.1:{port}",
                 "--issuer-base", f"http://127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                url = f"http://127.0.0.1:{port}/_test/faults"
                for _ in range(100):
                    try:
                        r = requests.post(url, data={"faults": '{"sign":"none"}'}, timeout=1)
                        break
                    except requests.ConnectionError:
                        time.sleep(0.1)
                assert r.status_code == 404, r.status_code
                assert requests.get(url, timeout=1).status_code == 404
            finally:
                p.terminate()
                p.wait(timeout=10)
        check("without --test-faults the control endpoint does not exist", off_without_flag)

        for name, fn in cases(s, demo):
            # realmgate allows 20 auth-url calls per address and minute (by design); no case
            # needs more than 8, so a fresh process before the budget runs out keeps clear
            if s.auth_urls > 10:
                s.restart()
            rid = name.split()[0]
            if rid in EXPECTED_FAILURES:
                def xfail(fn=fn, rid=rid):
                    try:
                        fn()
                    except AssertionError:
                        return
                    raise AssertionError(f"expected failure now passes: {EXPECTED_FAILURES[rid]}")
                check(name + " [expected failure]", xfail)
            else:
                check(name, fn)
    finally:
        demo.stop()
    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed "
          f"({time.monotonic() - t0:.0f} s)")
    if failed:
        print(f"servers' logs: {demo.dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
