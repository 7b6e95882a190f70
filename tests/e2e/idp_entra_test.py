#!/usr/bin/python3
"""Entra ID behaviours of realmgate-idp, one test per behaviour (issue 4).

Reuses idp_test.py's directory and helpers (same tenant, app, users; the real program over
loopback HTTP), then adds what these behaviours need through the admin CLI: groups, app
roles and assignments, a guest, a certificate credential, front-channel logout URLs.
Each AADSTS test asserts whether Entra answers on its own page or back to the app, and
the exact JSON error fields. The last line is "N passed, M failed".
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idp_test as T  # noqa: E402  (shared helpers and the base directory)
from idp_test import (C, GUID, PASSWORD, REDIRECT, REDIRECT_PATH, authorize, base_params,  # noqa: E402
                      ctx_of, expect_error, get_code, jwks, jwt_parts, login, pairwise_sub,
                      pkce_pair, query_of, redeem, token, verify_rs256)

FCL1 = "https://rp1.example/logout"
FCL2 = "https://rp2.example/signout?x=1"


def setup():
    T.setup()
    idp = C.idp
    # groups: alice in 3 security groups and 1 Microsoft 365 group; erin in 201 groups
    C.g_ops = idp.out("group", "add", "--tenant", C.tid, "--display-name", "Ops",
                      "--member", "alice@demo.example")
    C.g_dev = idp.out("group", "add", "--tenant", C.tid, "--display-name", "Dev",
                      "--member", "alice@demo.example", "--member", "bob@demo.example")
    C.g_sec = idp.out("group", "add", "--tenant", C.tid, "--display-name", "Security",
                      "--member", "alice@demo.example")
    C.g_m365 = idp.out("group", "add", "--tenant", C.tid, "--display-name", "Team Site",
                       "--type", "m365", "--member", "alice@demo.example")
    C.erin = idp.out("user", "add", "--tenant", C.tid, "--upn", "erin@demo.example",
                     "--password", PASSWORD)
    # 201 groups: one over the JWT limit (state written directly: 201 CLI calls are slow)
    state_path = os.path.join(idp.state, "idp.json")
    st = json.load(open(state_path))
    t = st["tenants"][0]
    C.erin_groups = []
    for i in range(201):
        gid = f"{i:08x}-0000-4000-8000-{i:012x}"
        C.erin_groups.append(gid)
        t["groups"].append({"id": gid, "display_name": f"Big {i}", "security": True,
                            "members": [C.erin]})
    with open(state_path + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(state_path + ".tmp", state_path)
    # a second app (groups, roles, assignment, certificate, front-channel logout)
    C.app2 = idp.out("app", "register", "--tenant", C.tid, "--display-name", "Portal",
                     "--redirect-uri", "https://portal.example/cb")
    C.secret2 = idp.out("app", "secret", "add", "--tenant", C.tid, "--app", C.app2)
    idp.out("consent", "grant", "--tenant", C.tid, "--app", C.app2, "--admin", "--scopes",
            "openid profile email offline_access")
    C.role_admin = idp.out("app", "role", "add", "--tenant", C.tid, "--app", C.app2,
                           "--value", "Portal.Admin", "--display-name", "Portal admins")
    C.role_reader = idp.out("app", "role", "add", "--tenant", C.tid, "--app", C.app2,
                            "--value", "Portal.Read")
    idp.out("app", "assign", "--tenant", C.tid, "--app", C.app2, "Ops", "--role",
            "Portal.Admin")
    idp.out("app", "assign", "--tenant", C.tid, "--app", C.app2, "alice@demo.example",
            "--role", "Portal.Read")
    idp.out("app", "assign", "--tenant", C.tid, "--app", C.app2, "erin@demo.example")
    idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--front-channel-logout-url",
            FCL2)
    idp.out("app", "set", "--tenant", C.tid, "--app", C.app, "--front-channel-logout-url",
            FCL1)
    # a guest
    C.guest = idp.out("user", "add", "--tenant", C.tid, "--upn", "gina@partner.example",
                      "--password", PASSWORD, "--guest", "--display-name", "Gina Guest")
    # certificate credential for private_key_jwt
    d = tempfile.mkdtemp(dir=idp.dir)
    C.cert_key = os.path.join(d, "app.key")
    C.cert_pem = os.path.join(d, "app.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    C.cert_key, "-out", C.cert_pem, "-days", "30", "-subj", "/CN=portal"],
                   check=True, capture_output=True)
    C.cert_x5t = idp.out("app", "cert", "add", "--tenant", C.tid, "--app", C.app2, C.cert_pem)
    # a foreign certificate, never registered
    C.other_key = os.path.join(d, "other.key")
    C.other_pem = os.path.join(d, "other.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    C.other_key, "-out", C.other_pem, "-days", "30", "-subj", "/CN=other"],
                   check=True, capture_output=True)
    # the first code redeemed sets fields idp_test's helpers rely on
    code, _, _ = get_code()
    r = redeem(code)
    assert r.status_code == 200, r.text
    C.id_token = r.json()["id_token"]


# ---- helpers -------------------------------------------------------------------------------

def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def der_of(pem_path):
    return subprocess.run(["openssl", "x509", "-in", pem_path, "-outform", "DER"],
                          check=True, capture_output=True).stdout


def sign_assertion(header, claims, key_path):
    h = b64u(json.dumps(header).encode())
    p = b64u(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path],
                         input=f"{h}.{p}".encode(), check=True, capture_output=True).stdout
    return f"{h}.{p}.{b64u(sig)}"


def assertion_claims(aud=None, **kw):
    now = int(time.time())
    c = {"aud": aud or f"{C.base}/{C.tid}/oauth2/v2.0/token", "iss": C.app2, "sub": C.app2,
         "jti": b64u(os.urandom(16)), "nbf": now, "iat": now, "exp": now + 300}
    c.update(kw)
    return c


def portal_code(user, session=None, **kw):
    s = session or requests.Session()
    p = base_params(client_id=C.app2, redirect_uri="https://portal.example/cb", **kw)
    r = authorize(p, session=s)
    if r.status_code == 302:
        return r
    assert r.status_code == 200, r.text
    return login(ctx_of(r.text), user, PASSWORD, session=s)


def portal_tokens(user, session=None, **kw):
    r = portal_code(user, session=session, **kw)
    assert r.status_code == 302, r.text[:500]
    _, q = query_of(r.headers["Location"])
    r = token({"grant_type": "authorization_code", "code": q["code"],
               "redirect_uri": "https://portal.example/cb"}, auth=(C.app2, C.secret2))
    assert r.status_code == 200, r.text
    return r.json(), q


def page_error(r, status, code):
    """An Entra error page: never a redirect, the code and the trace block in the HTML."""
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert "Location" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert f"AADSTS{code}: " in r.text, r.text[:600]
    m = re.search(r"Trace ID: ([0-9a-f-]{36})\nCorrelation ID: ([0-9a-f-]{36})\n"
                  r"Timestamp: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)", r.text)
    assert m, r.text[-400:]


def redirect_error(r, error, code, state="st-1"):
    """An error sent back to the app's redirect URI with Entra's error_description."""
    assert r.status_code == 302, (r.status_code, r.text[:300])
    _, q = query_of(r.headers["Location"])
    assert q["error"] == error, q
    assert q.get("state") == state, q
    assert re.match(rf"^AADSTS{code}: .+\r\nTrace ID: [0-9a-f-]{{36}}\r\nCorrelation ID: "
                    r"[0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$",
                    q["error_description"], re.S), repr(q["error_description"])
    return q


# ---- one test per AADSTS code --------------------------------------------------------------

def test_aadsts50011_redirect_mismatch_is_a_page():
    r = authorize(base_params(redirect_uri="https://evil.example/cb"))
    page_error(r, 400, 50011)
    assert "https://evil.example/cb" in r.text and C.app in r.text


def test_aadsts700016_unknown_app_is_a_page():
    r = authorize(base_params(client_id="11111111-2222-4333-8444-555555555555"))
    page_error(r, 400, 700016)
    r = token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
              auth=("11111111-2222-4333-8444-555555555555", "x" * 40))
    expect_error(r, 400, "unauthorized_client", 700016)


def test_aadsts7000215_wrong_secret():
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              auth=(C.app, "abc8Q~" + "x" * 34), headers={
                  "client-request-id": "0f0e0d0c-0b0a-4908-8706-050403020100"})
    j = expect_error(r, 401, "invalid_client", 7000215)
    assert j["correlation_id"] == "0f0e0d0c-0b0a-4908-8706-050403020100"
    assert "client secret value, not the client secret ID" in j["error_description"]


def test_aadsts7000222_expired_secret():
    s2 = C.idp.out("app", "secret", "add", "--tenant", C.tid, "--app", C.app2, "--expires-in",
                   "1")
    time.sleep(2.1)
    r = token({"grant_type": "client_credentials",
               "scope": "https://graph.microsoft.com/.default"}, auth=(C.app2, s2))
    j = expect_error(r, 401, "invalid_client", 7000222)
    assert f"app '{C.app2}' are expired" in j["error_description"]


def test_aadsts7000218_no_credentials():
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
               "client_id": C.app})
    expect_error(r, 401, "invalid_client", 7000218)


def test_aadsts50126_wrong_password_stays_on_the_form():
    r = authorize(base_params())
    r = login(ctx_of(r.text), "alice@demo.example", "Wrong-Passw0rd")
    assert r.status_code == 200 and "Location" not in r.headers
    assert '<div class="err" role="alert" id="error">Your account or password is incorrect.' \
        in r.text and "(AADSTS50126)</div>" in r.text
    assert 'name="loginfmt"' in r.text and 'name="passwd"' in r.text
    # under the account field, before the password field; the tenant's name on the card
    assert re.search(r'name="loginfmt"[^>]*><div class="err" role="alert" id="error">[^<]+'
                     r'</div><label for="i0118">Password</label>', r.text), r.text
    assert '<div class="org">Demo &lt;Corp&gt; &amp; &quot;Co&quot;</div>' in r.text


def test_aadsts50057_disabled_user_is_a_page():
    r = authorize(base_params())
    r = login(ctx_of(r.text), "dave@demo.example", PASSWORD)
    page_error(r, 400, 50057)


def test_aadsts50105_assignment_required():
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--assignment-required", "1")
    r = portal_code("bob@demo.example")           # not assigned, not in Ops
    page_error(r, 400, 50105)
    assert "bob@demo.example" in r.text
    tok, _ = portal_tokens("alice@demo.example")  # assigned directly and through Ops
    assert tok["id_token"]
    tok, _ = portal_tokens("erin@demo.example")   # default-access assignment
    assert tok["id_token"]
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--assignment-required", "0")
    r = portal_code("bob@demo.example")
    assert r.status_code == 302 and "code=" in r.headers["Location"]


def test_aadsts65001_prompt_none_without_consent():
    app3 = C.idp.out("app", "register", "--tenant", C.tid, "--display-name", "Unconsented",
                     "--redirect-uri", "https://app3.example/cb")
    s = requests.Session()
    get_code(session=s)  # a session exists
    r = authorize(base_params(client_id=app3, redirect_uri="https://app3.example/cb",
                              prompt="none"), session=s)
    q = redirect_error(r, "consent_required", 65001)
    assert app3 in q["error_description"] and "'Unconsented'" in q["error_description"]


def test_aadsts54005_code_redeemed_twice():
    code, _, _ = get_code()
    assert redeem(code).status_code == 200
    j = expect_error(redeem(code), 400, "invalid_grant", 54005)
    assert "already redeemed" in j["error_description"]


def test_aadsts70008_expired_code():
    base, _, _ = C.idp.serve("--code-lifetime", "1")
    saved = C.base
    try:
        C.base = base
        code, _, _ = get_code()
        time.sleep(2.1)
        j = expect_error(redeem(code), 400, "invalid_grant", 70008)
        assert "has expired" in j["error_description"]
    finally:
        C.base = saved


def test_aadsts501481_pkce_mismatch():
    verifier, challenge = pkce_pair()
    code, _, _ = get_code(code_challenge=challenge, code_challenge_method="S256")
    other, _ = pkce_pair()
    expect_error(redeem(code, code_verifier=other), 400, "invalid_grant", 501481)


def test_aadsts9002313_malformed():
    expect_error(redeem("not a code!"), 400, "invalid_grant", 9002313)
    url = (f"{C.base}/{C.tid}/oauth2/v2.0/authorize?client_id={C.app}&client_id={C.app}"
           "&response_type=code&scope=openid")
    page_error(requests.get(url, allow_redirects=False), 400, 9002313)


def test_aadsts900144_missing_parameter():
    j = expect_error(token({"client_id": C.app}, auth=None), 400, "invalid_request", 900144)
    assert "'grant_type'" in j["error_description"]
    r = authorize(base_params(scope=None))
    redirect_error(r, "invalid_request", 900144)
    page_error(authorize(base_params(client_id=None)), 400, 900144)


# ---- behaviours ----------------------------------------------------------------------------

def test_consent_page_and_accept():
    app4 = C.idp.out("app", "register", "--tenant", C.tid, "--display-name", "Fresh App",
                     "--redirect-uri", "https://app4.example/cb")
    p = base_params(client_id=app4, redirect_uri="https://app4.example/cb",
                    scope="openid profile email offline_access User.Read")
    s = requests.Session()
    r = authorize(p, session=s)
    r = login(ctx_of(r.text), "bob@demo.example", PASSWORD, session=s)
    assert r.status_code == 200 and "Location" not in r.headers
    items = re.findall(r"<li>([^<]+)</li>", r.text)
    assert items == ["Sign you in", "View your basic profile", "View your email address",
                     "Maintain access to data you have given it access to",
                     "Sign you in and read your profile"], items
    assert "<strong>Fresh App</strong>" in r.text and "bob@demo.example" in r.text
    assert "<script" not in r.text  # works without JavaScript
    ctx = ctx_of(r.text)
    assert 'action="/%s/consent"' % C.tid in r.text or f'{C.tid}/consent"' in r.text
    r = s.post(f"{C.base}/{C.tid}/consent", data={"ctx": ctx, "accept": "1"},
               allow_redirects=False)
    assert r.status_code == 302, r.text[:400]
    u, q = query_of(r.headers["Location"])
    assert f"{u.scheme}://{u.netloc}{u.path}" == "https://app4.example/cb" and "code" in q
    # recorded in the state like `consent grant --user`
    lst = C.idp.out("consent", "list", "--tenant", C.tid)
    assert f"{app4}\tbob@demo.example\topenid profile email offline_access User.Read" in lst, lst
    # now silent
    r = authorize(dict(p, prompt="none"), session=s)
    assert r.status_code == 302 and "code=" in r.headers["Location"]
    # prompt=consent asks again; Cancel is access_denied (AADSTS65004)
    r = authorize(dict(p, prompt="consent"), session=s)
    assert r.status_code == 200 and "Permissions requested" in r.text
    r = s.post(f"{C.base}/{C.tid}/consent", data={"ctx": ctx_of(r.text), "accept": "0"},
               allow_redirects=False)
    redirect_error(r, "access_denied", 65004)


def test_pairwise_sub():
    tok1 = jwt_parts(redeem(get_code()[0]).json()["id_token"])[1]
    tok2, _ = portal_tokens("alice@demo.example")
    c2 = jwt_parts(tok2["id_token"])[1]
    assert tok1["oid"] == c2["oid"] == C.alice
    assert tok1["sub"] == pairwise_sub(C.tid, C.app, C.alice)
    assert c2["sub"] == pairwise_sub(C.tid, C.app2, C.alice)
    assert tok1["sub"] != c2["sub"] and len(c2["sub"]) == 43


def test_group_claims_settings():
    def groups_of(user):
        tok, _ = portal_tokens(user)
        return jwt_parts(tok["id_token"])[1].get("groups")
    sec = sorted([C.g_ops, C.g_dev, C.g_sec])
    assert groups_of("alice@demo.example") is None  # None: no claim
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims",
              "SecurityGroup")
    assert sorted(groups_of("alice@demo.example")) == sec
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims", "All")
    assert sorted(groups_of("alice@demo.example")) == sorted(sec + [C.g_m365])
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims",
              "ApplicationGroup")
    assert groups_of("alice@demo.example") == [C.g_ops]  # only Ops is assigned to the app
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims",
              "SecurityGroup")
    r = C.idp.cli("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims",
                  "DirectoryRole", ok=False)
    assert r.returncode == 1 and "DirectoryRole is not modelled" in r.stderr


def test_groups_overage():
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--group-claims",
              "SecurityGroup")
    tok, _ = portal_tokens("erin@demo.example")
    c = jwt_parts(tok["id_token"])[1]
    endpoint = f"{C.base}/{C.tid}/users/{C.erin}/getMemberObjects"
    assert "groups" not in c
    assert c["_claim_names"] == {"groups": "src1"}
    assert c["_claim_sources"] == {"src1": {"endpoint": endpoint}}
    r = requests.post(endpoint, json={"securityEnabledOnly": True},
                      headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["value"]) == sorted(C.erin_groups)
    # exactly 200 is no overage: alice (3) is a normal claim; another user's list is denied
    r = requests.post(f"{C.base}/{C.tid}/users/{C.alice}/getMemberObjects", json={},
                      headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    r = requests.post(endpoint, json={})
    assert r.status_code == 401


def test_roles_from_assignments():
    tok, _ = portal_tokens("alice@demo.example")
    assert sorted(jwt_parts(tok["id_token"])[1]["roles"]) == ["Portal.Admin", "Portal.Read"]
    tok, _ = portal_tokens("erin@demo.example")  # default access only: no roles claim
    assert "roles" not in jwt_parts(tok["id_token"])[1]


def test_guest_user():
    users = C.idp.out("user", "list", "--tenant", C.tid)
    assert f"{C.guest}\tgina_partner.example#EXT#@demo.example\tenabled" in users, users
    code, _, _ = get_code(user="gina@partner.example", scope="openid profile")
    c = jwt_parts(redeem(code).json()["id_token"])[1]
    assert c["oid"] == C.guest
    assert c["preferred_username"] == "gina@partner.example"
    assert c["email"] == "gina@partner.example"  # guests get email by default
    assert c["name"] == "Gina Guest"


def test_key_rollover_old_key_still_verifies():
    before = redeem(get_code()[0]).json()["id_token"]
    old_kid = jwt_parts(before)[0]["kid"]
    new_kid = C.idp.out("keys", "rotate", "--tenant", C.tid)
    keys = {k["kid"]: k for k in jwks()}
    assert old_kid in keys and new_kid in keys and new_kid != old_kid
    assert verify_rs256(before, keys[old_kid])       # issued before the rollover
    assert not verify_rs256(before, keys[new_kid])
    after = redeem(get_code()[0]).json()["id_token"]
    assert jwt_parts(after)[0]["kid"] == new_kid and verify_rs256(after, keys[new_kid])


def test_client_credentials():
    r = token({"grant_type": "client_credentials",
               "scope": "https://graph.microsoft.com/.default"}, auth=(C.app2, C.secret2))
    assert r.status_code == 200, r.text
    j = r.json()
    assert list(j) == ["token_type", "expires_in", "ext_expires_in", "access_token"], j
    assert j["token_type"] == "Bearer" and j["expires_in"] == 86399
    r = token({"grant_type": "client_credentials", "scope": "openid"},
              auth=(C.app2, C.secret2))
    j = expect_error(r, 400, "invalid_scope", 1002012)
    assert "/.default" in j["error_description"]
    # an app-only token is no user: userinfo refuses it
    r = requests.get(f"{C.base}/oidc/userinfo",
                     headers={"Authorization": "Bearer " + token(
                         {"grant_type": "client_credentials",
                          "scope": "api://x/.default"}, auth=(C.app2, C.secret2)
                     ).json()["access_token"]})
    assert r.status_code == 401


def test_private_key_jwt():
    der = der_of(C.cert_pem)
    x5t = b64u(hashlib.sha1(der).digest())
    x5t256 = b64u(hashlib.sha256(der).digest())
    assert x5t == C.cert_x5t
    base = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default",
            "client_id": C.app2,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    for hdr in ({"alg": "RS256", "typ": "JWT", "x5t": x5t},
                {"alg": "RS256", "typ": "JWT", "x5t#S256": x5t256}):
        a = sign_assertion(hdr, assertion_claims(), C.cert_key)
        r = token(dict(base, client_assertion=a))
        assert r.status_code == 200, (hdr, r.text)
    # and for a code (confidential web app signing in a user)
    r = portal_code("alice@demo.example")
    _, q = query_of(r.headers["Location"])
    a = sign_assertion({"alg": "RS256", "x5t": x5t}, assertion_claims(), C.cert_key)
    r = token({"grant_type": "authorization_code", "code": q["code"], "client_id": C.app2,
               "redirect_uri": "https://portal.example/cb",
               "client_assertion_type": base["client_assertion_type"], "client_assertion": a})
    assert r.status_code == 200 and r.json()["id_token"], r.text
    # wrong audience, foreign certificate, signature by another key, expired, sub != iss
    bad = [
        ({"alg": "RS256", "x5t": x5t}, assertion_claims(aud=f"{C.base}/{C.tid}/v2.0"),
         C.cert_key, 700021),
        ({"alg": "RS256", "x5t": b64u(hashlib.sha1(der_of(C.other_pem)).digest())},
         assertion_claims(), C.other_key, 700027),
        ({"alg": "RS256", "x5t": x5t}, assertion_claims(), C.other_key, 700027),
        ({"alg": "RS256", "x5t": x5t}, assertion_claims(exp=int(time.time()) - 1000),
         C.cert_key, 700024),
        ({"alg": "RS256", "x5t": x5t}, assertion_claims(sub="someone-else"), C.cert_key, 50048),
    ]
    for hdr, claims, key, code in bad:
        r = token(dict(base, client_assertion=sign_assertion(hdr, claims, key)))
        expect_error(r, 401, "invalid_client", code)


def test_front_channel_logout():
    s = requests.Session()
    _, q1, _ = get_code(session=s)                       # app 1 (FCL1)
    r = portal_code("alice@demo.example", session=s)     # app 2 via the session (FCL2)
    assert r.status_code == 302
    sid = q1["session_state"]
    r = s.get(f"{C.base}/{C.tid}/oauth2/v2.0/logout",
              params={"post_logout_redirect_uri": REDIRECT_PATH,
                      "logout_hint": "alice@demo.example"},
              allow_redirects=False)
    assert r.status_code == 200 and "Location" not in r.headers
    frames = re.findall(r'<iframe hidden class="fcl" width="0" height="0" src="([^"]+)">', r.text)
    assert frames == [f"{FCL1}?sid={sid}", f"{FCL2}&amp;sid={sid}"], frames
    assert f'<meta http-equiv="refresh" content="1;url={REDIRECT_PATH}">' in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "frame-src https://rp1.example/logout https://rp2.example/signout" in csp, csp
    assert "<script" not in r.text
    # the session is gone: a second logout has nobody to call
    r = s.get(f"{C.base}/{C.tid}/oauth2/v2.0/logout", allow_redirects=False)
    assert "<iframe" not in r.text


def test_max_age_and_auth_time():
    s = requests.Session()
    code, _, _ = get_code(session=s, max_age="3600")
    c = jwt_parts(redeem(code).json()["id_token"])[1]
    assert abs(c["auth_time"] - int(time.time())) < 10
    time.sleep(1.1)
    r = authorize(base_params(max_age="0"), session=s)  # too old: the form again
    assert r.status_code == 200 and 'name="passwd"' in r.text
    r = authorize(base_params(max_age="3600"), session=s)  # fresh enough: silent
    assert r.status_code == 302
    code, _, _ = get_code()
    assert "auth_time" not in jwt_parts(redeem(code).json()["id_token"])[1]


def test_prompt_select_account_and_domain_hint():
    s = requests.Session()
    get_code(session=s)                       # signs in: the session cookie is set
    r = authorize(base_params(), session=s)   # no prompt: silent single sign-on
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.status_code
    # select_account never signs in silently: the account form comes back
    r = authorize(base_params(prompt="select_account"), session=s)
    assert r.status_code == 200 and 'name="loginfmt"' in r.text, r.status_code
    assert "Location" not in r.headers
    # domain_hint is accepted and changes nothing without federation
    r = authorize(base_params(domain_hint="demo.example"), session=s)
    assert r.status_code == 302 and "code=" in r.headers["Location"], r.status_code
    r = authorize(base_params(domain_hint="demo.example"))
    assert r.status_code == 200 and 'name="passwd"' in r.text, r.status_code


def test_organizations_authority():
    for word in ("organizations", "common"):
        d = requests.get(f"{C.base}/{word}/v2.0/.well-known/openid-configuration").json()
        assert d["issuer"] == f"{C.base}/{{tenantid}}/v2.0"
        assert d["tenant_region_scope"] is None
        assert d["authorization_endpoint"] == f"{C.base}/{word}/oauth2/v2.0/authorize"
        assert d["kerberos_endpoint"] == f"{C.base}/{word}/kerberos"
        keys = requests.get(d["jwks_uri"]).json()["keys"]
        assert keys and all(k["issuer"] == d["issuer"] for k in keys)
    r = authorize(base_params(), tid="organizations")
    ctx = ctx_of(r.text)
    r = login(ctx, "alice@demo.example", PASSWORD)
    _, q = query_of(r.headers["Location"])
    r = requests.post(f"{C.base}/organizations/oauth2/v2.0/token",
                      data={"grant_type": "authorization_code", "code": q["code"],
                            "redirect_uri": REDIRECT}, auth=(C.app, C.secret))
    assert r.status_code == 200, r.text
    c = jwt_parts(r.json()["id_token"])[1]
    assert c["iss"] == f"{C.base}/{C.tid}/v2.0" and c["tid"] == C.tid
    page_error(authorize(base_params(client_id="11111111-2222-4333-8444-555555555555"),
                         tid="organizations"), 400, 700016)


def test_optional_claims_and_login_hint():
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--optional-claim", "upn",
              "--optional-claim", "acct", "--optional-claim", "login_hint", "--optional-claim",
              "auth_time", "--optional-claim", "given_name")
    tok, _ = portal_tokens("alice@demo.example", scope="openid profile")
    c = jwt_parts(tok["id_token"])[1]
    assert c["upn"] == "alice@demo.example" and c["acct"] == 0 and c["given_name"] == "Alice"
    assert "email" not in c and "family_name" not in c
    assert isinstance(c["auth_time"], int)
    hint = c["login_hint"]
    assert "@" not in hint and "alice" not in hint  # opaque
    # the hint comes back as login_hint: the form is prefilled with that user
    r = authorize(base_params(client_id=C.app2, redirect_uri="https://portal.example/cb",
                              login_hint=hint))
    assert 'value="alice@demo.example"' in r.text
    r = C.idp.cli("app", "set", "--tenant", C.tid, "--app", C.app2, "--optional-claim",
                  "xms_pl", ok=False)
    assert r.returncode == 1 and "not modelled" in r.stderr
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--optional-claim", "none")
    tok, _ = portal_tokens("alice@demo.example", scope="openid profile")
    c = jwt_parts(tok["id_token"])[1]
    for absent in ("upn", "acct", "login_hint", "auth_time", "given_name"):
        assert absent not in c, c


def test_platforms_spa_and_public():
    spa = C.idp.out("app", "register", "--tenant", C.tid, "--display-name", "SPA",
                    "--redirect-uri", "https://spa.example/", "--platform", "spa")
    pub = C.idp.out("app", "register", "--tenant", C.tid, "--display-name", "Desktop",
                    "--redirect-uri", "http://localhost/native", "--platform", "public")
    for a in (spa, pub):
        C.idp.out("consent", "grant", "--tenant", C.tid, "--app", a, "--admin", "--scopes",
                  "openid profile offline_access")
    # spa: PKCE required at /authorize (AADSTS9002325)
    p = base_params(client_id=spa, redirect_uri="https://spa.example/",
                    scope="openid profile offline_access")
    redirect_error(authorize(p), "invalid_request", 9002325)
    verifier, challenge = pkce_pair()
    r = authorize(dict(p, code_challenge=challenge, code_challenge_method="S256"))
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    _, q = query_of(r.headers["Location"])
    data = {"grant_type": "authorization_code", "code": q["code"], "client_id": spa,
            "redirect_uri": "https://spa.example/", "code_verifier": verifier}
    # no Origin: AADSTS9002327; a secret: AADSTS700025; cross-origin and public: tokens
    expect_error(token(data), 400, "invalid_request", 9002327)
    expect_error(token(dict(data, client_secret="x" * 40)), 401, "invalid_client", 700025)
    r = token(data, headers={"Origin": "https://spa.example"})
    assert r.status_code == 200 and r.json()["refresh_token"], r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    # web app: a cross-origin redemption is refused (AADSTS9002326)
    code, _, _ = get_code()
    r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
              auth=(C.app, C.secret), headers={"Origin": "https://evil.example"})
    expect_error(r, 400, "invalid_request", 9002326)
    # public client: no credentials at all, and no client_credentials grant
    r = authorize(base_params(client_id=pub, redirect_uri="http://localhost:4711/native",
                              scope="openid profile"))
    r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
    _, q = query_of(r.headers["Location"])
    r = token({"grant_type": "authorization_code", "code": q["code"], "client_id": pub,
               "redirect_uri": "http://localhost:4711/native"})
    assert r.status_code == 200 and r.json()["id_token"], r.text
    expect_error(token({"grant_type": "client_credentials", "client_id": pub,
                        "scope": "api://x/.default"}), 400, "unauthorized_client", 7000218)


def test_scheduled_key_rollover():
    current = jwt_parts(redeem(get_code()[0]).json()["id_token"])[0]["kid"]
    r = C.idp.cli("keys", "rotate", "--tenant", C.tid, "--activate-in", "4")
    assert r.returncode == 0, r.stderr
    upcoming = r.stdout.strip()
    assert f"signs in 4 s; until then {current} signs" in r.stderr, r.stderr
    kids = [k["kid"] for k in jwks()]
    assert upcoming in kids and current in kids  # published before it signs
    assert jwt_parts(redeem(get_code()[0]).json()["id_token"])[0]["kid"] == current
    time.sleep(4.2)
    tok = redeem(get_code()[0]).json()["id_token"]
    keys = {k["kid"]: k for k in jwks()}
    assert jwt_parts(tok)[0]["kid"] == upcoming and verify_rs256(tok, keys[upcoming])


def test_serve_tls_refusals():
    args = ("serve", "--listen", "127.0.0.1:1", "--issuer-base")
    cases = [
        ((*args, "http://127.0.0.1:1", "--tls-cert", C.cert_pem, "--tls-key", C.cert_key),
         "with --tls-cert the --issuer-base must be an https:// URL"),
        ((*args, "https://127.0.0.1:1", "--tls-cert", C.cert_pem),
         "--tls-cert and --tls-key go together"),
        ((*args, "https://127.0.0.1:1", "--tls-cert", "/nonexistent.pem", "--tls-key",
          C.cert_key), "--tls-cert: /nonexistent.pem does not exist"),
        ((*args, "https://127.0.0.1:1", "--tls-cert", C.idp.state + "/idp.json", "--tls-key",
          C.cert_key), "is not a PEM file"),
    ]
    for a, text in cases:
        r = C.idp.cli(*a, ok=False)
        assert r.returncode == 1 and text in r.stderr, (a, r.returncode, r.stderr)


def test_logout_hint_picks_the_account():
    s = requests.Session()
    get_code(session=s)  # alice signed in
    url = f"{C.base}/{C.tid}/oauth2/v2.0/logout"
    # a hint naming someone else ends nothing: alice stays signed in
    r = s.get(url, params={"logout_hint": "bob@demo.example"}, allow_redirects=False)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    r = authorize(base_params(prompt="none"), session=s)
    assert "code=" in r.headers["Location"]
    # the opaque login_hint claim of alice's token ends her session
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app, "--optional-claim",
              "login_hint")
    _, q = query_of(authorize(base_params(prompt="none"), session=s).headers["Location"])
    hint = jwt_parts(redeem(q["code"]).json()["id_token"])[1]["login_hint"]
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app, "--optional-claim", "none")
    r = s.get(url, params={"logout_hint": hint, "post_logout_redirect_uri": REDIRECT_PATH},
              allow_redirects=False)
    assert "rgidp_session=;" in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]
    _, q = query_of(authorize(base_params(prompt="none"), session=s).headers["Location"])
    assert q["error"] == "login_required"


def test_implicit_id_token_hybrid_and_hasgroups():
    cb = "https://portal.example/cb"
    p = base_params(client_id=C.app2, redirect_uri=cb, response_type="id_token",
                    scope="openid profile", nonce="n-imp")
    redirect_error(authorize(p), "unsupported_response_type", 700054)  # box not ticked
    C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--id-token-implicit", "1",
              "--group-claims", "SecurityGroup")
    try:
        # nonce is required, query is refused (the error itself goes in the fragment)
        r = authorize(dict(p, nonce=None))
        assert "#error=invalid_request" in r.headers["Location"]
        assert "AADSTS90014" in urllib.parse.unquote_plus(r.headers["Location"])
        r = authorize(dict(p, response_mode="query"))
        assert "#error=invalid_request" in r.headers["Location"]
        assert "AADSTS70007" in urllib.parse.unquote_plus(r.headers["Location"])
        # implicit: ID token in the fragment, no code; 3 groups stay a list
        r = authorize(p)
        r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
        loc = r.headers["Location"]
        assert loc.startswith(cb + "#id_token="), loc
        f = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).fragment))
        assert set(f) == {"id_token", "state", "session_state"}, f
        hdr, c, *_ = jwt_parts(f["id_token"])
        assert c["nonce"] == "n-imp" and c["aud"] == C.app2 and "c_hash" not in c
        assert sorted(c["groups"]) == sorted([C.g_ops, C.g_dev, C.g_sec])
        assert verify_rs256(f["id_token"], {k["kid"]: k for k in jwks()}[hdr["kid"]])
        # more than 5 groups in a URL: hasgroups instead (erin has 201)
        r = authorize(p)
        r = login(ctx_of(r.text), "erin@demo.example", PASSWORD)
        f = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).fragment))
        c = jwt_parts(f["id_token"])[1]
        assert c["hasgroups"] is True and "groups" not in c and "_claim_names" not in c
        # hybrid, form_post: code + ID token with c_hash of that code
        r = authorize(dict(p, response_type="code id_token", response_mode="form_post"))
        r = login(ctx_of(r.text), "alice@demo.example", PASSWORD)
        code = re.search(r'name="code" value="([^"]+)"', r.text).group(1)
        idt = re.search(r'name="id_token" value="([^"]+)"', r.text).group(1)
        c = jwt_parts(idt)[1]
        assert c["c_hash"] == b64u(hashlib.sha256(code.encode()).digest()[:16])
        r = token({"grant_type": "authorization_code", "code": code, "redirect_uri": cb},
                  auth=(C.app2, C.secret2))
        assert r.status_code == 200 and "c_hash" not in jwt_parts(r.json()["id_token"])[1]
        # id_token without openid
        r = authorize(dict(p, scope="profile"))
        assert "AADSTS70005" in urllib.parse.unquote_plus(r.headers["Location"])
    finally:
        C.idp.out("app", "set", "--tenant", C.tid, "--app", C.app2, "--id-token-implicit", "0")


def test_clean_shutdown():
    codes = C.idp.stop()
    assert codes and all(c == 0 for c in codes), codes


TESTS = [
    test_aadsts50011_redirect_mismatch_is_a_page, test_aadsts700016_unknown_app_is_a_page,
    test_aadsts7000215_wrong_secret, test_aadsts7000222_expired_secret,
    test_aadsts7000218_no_credentials, test_aadsts50126_wrong_password_stays_on_the_form,
    test_aadsts50057_disabled_user_is_a_page, test_aadsts50105_assignment_required,
    test_aadsts65001_prompt_none_without_consent, test_aadsts54005_code_redeemed_twice,
    test_aadsts70008_expired_code, test_aadsts501481_pkce_mismatch,
    test_aadsts9002313_malformed, test_aadsts900144_missing_parameter,
    test_consent_page_and_accept, test_pairwise_sub, test_group_claims_settings,
    test_groups_overage, test_roles_from_assignments, test_guest_user,
    test_key_rollover_old_key_still_verifies, test_client_credentials, test_private_key_jwt,
    test_front_channel_logout, test_max_age_and_auth_time, test_prompt_select_account_and_domain_hint,
    test_organizations_authority,
    test_optional_claims_and_login_hint, test_platforms_spa_and_public,
    test_scheduled_key_rollover, test_serve_tls_refusals, test_logout_hint_picks_the_account,
    test_implicit_id_token_hybrid_and_hasgroups, test_clean_shutdown,
]


def main():
    return T.run(setup, TESTS)


if __name__ == "__main__":
    sys.exit(main())
