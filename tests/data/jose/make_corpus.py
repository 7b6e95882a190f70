#!/usr/bin/env python3
# Regenerates the hostile-input seed corpora used by jose_corpus_test and
# discovery_corpus_test: tests/data/jose/bad-tokens, tests/data/jose/bad-jwks and
# tests/data/oidc/discovery. Run from tests/data: python3 jose/make_corpus.py
# (deterministic: fixed random seed).
import base64, json, os, random
random.seed(7)
def b64(b):
    if isinstance(b,str): b=b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
H='{"alg":"RS256","kid":"k1","typ":"JWT"}'
P='{"iss":"https://idp.example.test/t/v2.0","sub":"admin","aud":"cid","exp":4102444800,"iat":1700000000,"nonce":"n"}'
S=b64(bytes(range(256)))
def tok(h=H,p=P,s=S): return b64(h)+"."+b64(p)+"."+s
t0=tok()
cases = {
 "one-segment": b64(H),
 "two-segments": b64(H)+"."+b64(P),
 "four-segments": t0+".x",
 "six-segments": t0+".x.y.z",
 "many-dots": "."*1000,
 "empty-payload": b64(H)+".."+S,
 "empty-header": "."+b64(P)+"."+S,
 "empty-signature": b64(H)+"."+b64(P)+".",
 "padded-header": base64.urlsafe_b64encode(H.encode()).decode()+"."+b64(P)+"."+S,
 "std-alphabet": t0.replace('-','+').replace('_','/'),
 "space-inside": t0[:10]+" "+t0[10:],
 "newline-around-dot": t0.replace('.', '\n.',1),
 "len-mod4-1": tok(s=S+"A"),
 "trailing-bits": b64(H)+"."+b64(P)+".Zh",
 "header-null": tok(h="null"),
 "header-array": tok(h='["RS256"]'),
 "header-string": tok(h='"str"'),
 "header-number": tok(h='1'),
 "payload-true": tok(p='true'),
 "payload-array": tok(p='[]'),
 "alg-array": tok(h='{"alg":["RS256"],"kid":"k1"}'),
 "alg-null": tok(h='{"alg":null,"kid":"k1"}'),
 "alg-empty": tok(h='{"alg":"","kid":"k1"}'),
 "alg-lowercase": tok(h='{"alg":"rs256","kid":"k1"}'),
 "alg-none": tok(h='{"alg":"none"}'),
 "alg-None": tok(h='{"alg":"None"}'),
 "alg-NONE": tok(h='{"alg":"NONE","kid":"k1"}'),
 "alg-hs256": tok(h='{"alg":"HS256","kid":"k1"}'),
 "kid-number": tok(h='{"alg":"RS256","kid":5}'),
 "kid-object": tok(h='{"alg":"RS256","kid":{"$ne":1}}'),
 "kid-traversal": tok(h='{"alg":"RS256","kid":"../../../dev/null"}'),
 "kid-huge": tok(h='{"alg":"RS256","kid":"'+'A'*10000+'"}'),
 "crit-urn": tok(h='{"alg":"RS256","kid":"k1","crit":["urn:x"],"urn:x":1}'),
 "crit-empty": tok(h='{"alg":"RS256","kid":"k1","crit":[]}'),
 "crit-string": tok(h='{"alg":"RS256","kid":"k1","crit":"exp"}'),
 "b64-false": tok(h='{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}'),
 "dup-alg": tok(h='{"alg":"RS256","alg":"none","kid":"k1"}'),
 "dup-sub": tok(p='{"sub":"alice","sub":"admin"}'),
 "lenient-comment": tok(h='{"alg":"RS256",/* c */"kid":"k1"}'),
 "lenient-trailing-comma": tok(h='{"alg":"RS256","kid":"k1",}'),
 "lenient-single-quotes": tok(h="{'alg':'RS256'}"),
 "lenient-unquoted": tok(h='{alg:"RS256"}'),
 "junk-after-json": tok(h=H+"garbage"),
 "two-objects": tok(h=H+H),
 "nul-in-string": tok(p='{"sub":"admin\\u0000evil"}'),
 "invalid-utf8": b64(H)+"."+b64(b'{"sub":"\xc0\xaf"}')+"."+S,
 "lone-surrogate": tok(p='{"sub":"\\ud800"}'),
 "bom": b64(b'\xef\xbb\xbf'+H.encode())+"."+b64(P)+"."+S,
 "jwe-5-segments": "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00iLCJ6aXAiOiJERUYifQ.a.b.c.d",
 "json-serialization": json.dumps({"payload":b64(P),"signatures":[{"protected":b64(H),"signature":S}]}),
 "wrong-signature": t0,
 "unknown-kid": tok(h='{"alg":"RS256","kid":"nope"}'),
 "embedded-jwk": tok(h='{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}'),
 "jku": tok(h='{"alg":"RS256","jku":"http://169.254.169.254/keys"}'),
}
for name,t in cases.items():
    with open("jose/bad-tokens/%s.jwt"%name,"w") as f: f.write(t)
def rnd(n):
    b=bytearray(random.getrandbits(8) for _ in range(n))
    b[0]|=0x80; b[-1]|=1
    return bytes(b)
n2048=b64(rnd(256))
jw = {
 "n-1-byte": {"keys":[{"kty":"RSA","n":"AQ","e":"AQAB","kid":"a"}]},
 "rsa-512": {"keys":[{"kty":"RSA","n":b64(rnd(64)),"e":"AQAB","kid":"a"}]},
 "rsa-1024": {"keys":[{"kty":"RSA","n":b64(rnd(128)),"e":"AQAB","kid":"a"}]},
 "rsa-16384": {"keys":[{"kty":"RSA","n":b64(rnd(2048)),"e":"AQAB","kid":"a"}]},
 "e-0": {"keys":[{"kty":"RSA","n":n2048,"e":"AA","kid":"a"}]},
 "e-1": {"keys":[{"kty":"RSA","n":n2048,"e":"AQ","kid":"a"}]},
 "e-even": {"keys":[{"kty":"RSA","n":n2048,"e":"AQAA","kid":"a"}]},
 "e-huge": {"keys":[{"kty":"RSA","n":n2048,"e":b64(rnd(300)),"kid":"a"}]},
 "ec-short-coords": {"keys":[{"kty":"EC","crv":"P-256","x":b64(rnd(31)),"y":b64(rnd(31)),"kid":"a"}]},
 "ec-off-curve": {"keys":[{"kty":"EC","crv":"P-256","x":b64(rnd(32)),"y":b64(rnd(32)),"kid":"a"}]},
 "kty-missing": {"keys":[{"n":n2048,"e":"AQAB","kid":"a"}]},
 "kty-unknown": {"keys":[{"kty":"AKP","alg":"ML-DSA-44","pub":"AAAA","kid":"a"}]},
 "keys-object": {"keys":{}},
 "keys-null": {"keys":None},
 "top-array": [{"kty":"RSA","n":n2048,"e":"AQAB"}],
 "use-enc": {"keys":[{"kty":"RSA","use":"enc","n":n2048,"e":"AQAB","kid":"a"}]},
 "private-rsa": {"keys":[{"kty":"RSA","n":n2048,"e":"AQAB","d":n2048,"kid":"a"}]},
 "oct": {"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]},
}
for name,d in jw.items():
    with open("jose/bad-jwks/%s.json"%name,"w") as f: json.dump(d,f)
I="https://idp.example.test/t/v2.0"; B="https://idp.example.test/t"
good={"issuer":I,"authorization_endpoint":B+"/authorize","token_endpoint":B+"/token","jwks_uri":B+"/keys",
      "userinfo_endpoint":B+"/userinfo","response_types_supported":["code","id_token"],
      "id_token_signing_alg_values_supported":["RS256"],"token_endpoint_auth_methods_supported":["client_secret_basic"]}
def v(**kw):
    d=dict(good)
    for k,x in kw.items():
        if x is ...: d.pop(k)
        else: d[k]=x
    return d
docs={
 "ok-full": good,
 "ok-minimal": {"issuer":I,"authorization_endpoint":B+"/a","token_endpoint":B+"/t","jwks_uri":B+"/k"},
 "ok-extra-members": v(mtls_endpoint_aliases={"token_endpoint":B+"/mtls"},tenant_region_scope=None,cloud_instance_name="microsoftonline.com"),
 "bad-issuer-trailing-slash": v(issuer=I+"/"),
 "bad-issuer-case": v(issuer="https://IDP.example.test/t/v2.0"),
 "bad-issuer-port": v(issuer="https://idp.example.test:443/t/v2.0"),
 "bad-issuer-percent": v(issuer="https://idp.example.test/%74/v2.0"),
 "bad-issuer-template": v(issuer="https://idp.example.test/{tenantid}/v2.0"),
 "bad-issuer-number": v(issuer=123),
 "bad-issuer-missing": v(issuer=...),
 "bad-no-authorization-endpoint": v(authorization_endpoint=...),
 "bad-no-token-endpoint": v(token_endpoint=...),
 "bad-no-jwks-uri": v(jwks_uri=...),
 "bad-http-jwks": v(jwks_uri="http://idp.example.test/t/keys"),
 "bad-http-token": v(token_endpoint="http://idp.example.test/t/token"),
 "bad-http-userinfo": v(userinfo_endpoint="http://idp.example.test/t/userinfo"),
 "bad-fragment-authz": v(authorization_endpoint=B+"/authorize#x"),
 "bad-userinfo-in-authority": v(token_endpoint="https://idp.example.test@evil.test/token"),
 "bad-no-code-response-type": v(response_types_supported=["id_token","id_token token"]),
 "bad-only-none-alg": v(id_token_signing_alg_values_supported=["none"]),
 "bad-algs-not-array": v(id_token_signing_alg_values_supported="RS256"),
 "bad-endpoint-number": v(token_endpoint=5),
}
for name,d in docs.items():
    with open("oidc/discovery/%s.json"%name,"w") as f: json.dump(d,f,indent=1)
raw={"bad-top-array":"[]","bad-html":"<html><body>Sign in</body></html>",
 "bad-dup-issuer":'{"issuer":"%s","issuer":"https://evil.test","authorization_endpoint":"%s/a","token_endpoint":"%s/t","jwks_uri":"%s/k"}'%(I,B,B,B),
 "bad-empty":""}
for name,t in raw.items():
    with open("oidc/discovery/%s.json"%name,"w") as f: f.write(t)
print(len(cases), len(jw), len(docs)+len(raw))
