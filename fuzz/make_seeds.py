#!/usr/bin/env python3
"""Regenerates fuzz/corpus/* (the seeds of oidc-rp-tests.md §3 not already in tests/data) and
prints the public JWK that fuzz/fuzz_jose.c embeds. Deterministic for the hostile seeds; the
ok-* tokens are signed with fuzz/seed-key.pem (a throw-away key made for the fuzz targets,
never used elsewhere). Run from the repository root: python3 fuzz/make_seeds.py
File names: ok-* must be accepted by the target, bad-* refused, anything else only must not
crash (fuzz/replay.c)."""
import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
KEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed-key.pem")
ISS = "https://idp.example.test/t/v2.0"


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def put(sub, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, sub, name), "wb") as f:
        f.write(data)


if not os.path.exists(KEY):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(KEY, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
with open(KEY, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), None)
pub = key.public_key().public_numbers()
n = b64(pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big"))
jwk = {"kty": "RSA", "kid": "fuzz-k1", "use": "sig", "n": n, "e": b64(pub.e.to_bytes(3, "big"))}
print(json.dumps({"keys": [jwk]}, separators=(",", ":")))


def sign(header, payload, alg="RS256"):
    si = (b64(header) + "." + b64(payload)).encode()
    if alg == "RS256":
        sig = key.sign(si, padding.PKCS1v15(), hashes.SHA256())
    else:
        sig = key.sign(si, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                       hashes.SHA256())
    return si.decode() + "." + b64(sig)


good = {"iss": ISS, "sub": "alice", "aud": "fuzz-client", "exp": 1700003600,
        "iat": 1700000000, "nonce": "fuzz-nonce"}
H = '{"alg":"RS256","kid":"fuzz-k1","typ":"JWT"}'
P = json.dumps(good, separators=(",", ":"))
put("jose", "ok-rs256.jwt", sign(H, P))
put("jose", "ok-ps256.jwt", sign('{"alg":"PS256","kid":"fuzz-k1"}', P, "PS256"))
put("jose", "ok-jwks.json", json.dumps({"keys": [jwk]}))
# §3 seeds, each validly signed so that the claims parser and checks are reached
bad_claims = {
    "exp-1e400": P.replace('"exp":1700003600', '"exp":1e400'),
    "exp-int64-overflow": P.replace('"exp":1700003600', '"exp":99999999999999999999999'),
    "exp-minus-1": P.replace('"exp":1700003600', '"exp":-1'),
    "exp-zero": P.replace('"exp":1700003600', '"exp":0'),
    "exp-float": P.replace('"exp":1700003600', '"exp":1.5e9'),
    "exp-string": P.replace('"exp":1700003600', '"exp":"1700003600"'),
    "dup-sub": P[:-1] + ',"sub":"root"}',
    "case-variant-sub": P.replace('"sub":"alice"', '"Sub":"alice","sub ":"x"'),
    "nul-in-sub": P.replace('"sub":"alice"', '"sub":"admin\\u0000evil"'),
    "lone-surrogate": P.replace('"sub":"alice"', '"sub":"\\ud800"'),
    "aud-object": P.replace('"aud":"fuzz-client"', '"aud":{}'),
    "aud-numbers": P.replace('"aud":"fuzz-client"', '"aud":[1,2]'),
    "sub-null": P.replace('"sub":"alice"', '"sub":null'),
    "nonce-number": P.replace('"nonce":"fuzz-nonce"', '"nonce":123'),
    "iss-trailing-slash": P.replace(ISS, ISS + "/"),
    "wrong-nonce": P.replace("fuzz-nonce", "other"),
    "trailing-garbage": P + "garbage",
    "two-objects": P + P,
    "trailing-comma": P[:-1] + ",}",
    "comment": "/*x*/" + P,
    "nan": P.replace('"exp":1700003600', '"exp":NaN'),
    "leading-zero": P.replace('"exp":1700003600', '"exp":01700003600'),
    "deep-nesting": P[:-1] + ',"x":' + "[" * 100000 + "]" * 100000 + "}",
    "huge-aud-array": P.replace('"aud":"fuzz-client"',
                                '"aud":[' + ",".join(['"a"'] * 100000) + ',"fuzz-client"]'),
}
for name, p in bad_claims.items():
    put("jose", f"bad-{name}.jwt", sign(H, p))
put("jose", "bad-header-dup-alg.jwt", sign('{"alg":"RS256","alg":"none","kid":"fuzz-k1"}', P))
put("jose", "bad-crit-string.jwt", sign('{"alg":"RS256","kid":"fuzz-k1","crit":"exp"}', P))
put("jose", "bad-bom-header.jwt", sign("\ufeff" + H, P))
put("jose", "bad-jwe-shaped.jwt", b64('{"alg":"RSA-OAEP","enc":"A256GCM","zip":"DEF"}') + ".a.b.c.d")
put("jose", "bad-overlong.jwt", "A" * (70 * 1024) + "." + b64(P) + ".AA")
put("jose", "bad-jwks-deep.json", '{"keys":' + "[" * 100000 + "]" * 100000 + "}")
put("jose", "bad-jwks-n-1byte.json", json.dumps({"keys": [dict(jwk, n="AQ")]}))
put("jose", "bad-jwks-e-zero.json", json.dumps({"keys": [dict(jwk, e="AA")]}))
put("jose", "bad-jwks-ec-not-on-curve.json", json.dumps(
    {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 32), "y": b64(b"\x02" * 32)}]}))
put("jose", "bad-jwks-ec-short.json", json.dumps(
    {"keys": [{"kty": "EC", "crv": "P-256", "x": b64(b"\x01" * 31), "y": b64(b"\x02" * 31)}]}))

# discovery (issuer https://idp.example.test/t/v2.0, as tests/data/oidc/discovery)
disc = {"issuer": ISS, "authorization_endpoint": "https://idp.example.test/t/authorize",
        "token_endpoint": "https://idp.example.test/t/token",
        "jwks_uri": "https://idp.example.test/t/keys"}
put("discovery", "ok-logout-and-assertion-algs.json", json.dumps(dict(
    disc, end_session_endpoint="https://idp.example.test/t/logout",
    token_endpoint_auth_methods_supported=["private_key_jwt", "client_secret_basic"],
    token_endpoint_auth_signing_alg_values_supported=["RS256"])))
put("discovery", "bad-deep-nesting.json",
    json.dumps(disc)[:-1] + ',"x":' + "[" * 100000 + "]" * 100000 + "}")
put("discovery", "bad-dup-key.json", json.dumps(disc)[:-1] + ',"issuer":"https://evil.test"}')
put("discovery", "bad-trailing-garbage.json", json.dumps(disc) + "x")
put("discovery", "bad-nul-in-issuer.json", json.dumps(disc).replace(ISS, ISS + "\\u0000x"))
put("discovery", "bad-bom.json", "\ufeff" + json.dumps(disc))
put("discovery", "bad-invalid-utf8.json", json.dumps(disc).encode()[:-1] + b',"x":"\xc0\xaf"}')

# callback form bodies as POSTed to /access/openid/login (state, code, redirect-url)
st = "A" * 43
ok = f"state={st}&code=0.AXwA-code_value&redirect-url=https%3A%2F%2Fpve.example%3A8006"
put("callback", "ok-minimal.txt", ok)
put("callback", "ok-plus-and-extra.txt", ok + "&session_state=abc+def&iss=x")
for name, body in {
    "dup-state": ok + f"&state={st}",
    "dup-code": ok + "&code=x",
    "no-state": ok.replace(f"state={st}&", ""),
    "no-code": ok.replace("code=0.AXwA-code_value&", ""),
    "nul-in-code": ok.replace("code_value", "code%00value"),
    "bad-percent": ok.replace("code_value", "code%G1value"),
    "lone-percent": ok + "%",
    "state-short": ok.replace(st, "A" * 42),
    "state-bad-char": ok.replace(st, "A" * 42 + "%2B"),
    "redirect-javascript": ok.replace("https%3A%2F%2Fpve.example%3A8006", "javascript%3Aalert(1)"),
    "redirect-userinfo": ok.replace("pve.example", "x%40evil.example"),
    "redirect-fragment": ok.replace("%3A8006", "%3A8006%23x"),
    "code-control-char": ok.replace("code_value", "code%0Avalue"),
    "code-too-long": ok.replace("code_value", "c" * 5000),
    "many-params": ok + "&x=1" * 10000,
    "empty": "",
}.items():
    put("callback", f"bad-{name}.txt", body)
