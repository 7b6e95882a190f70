// openid_client.test.mjs — a strict, OpenID-certified relying party library (openid-client
// v5) against realmgate-idp over HTTPS.
//
// Part 1, tenant authority: discovery, authorization-code flow with PKCE (S256) and nonce,
// full ID-token validation (signature through the JWKS, whose keys carry no `alg`; iss, aud,
// iat/exp, nonce), userinfo (Graph-style: sub, names, email only) and a refresh.
// Part 2, /organizations/: its discovery document carries Entra's template issuer
// "<base>/{tenantid}/v2.0" and tenant_region_scope null. A strict client configured with
// that issuer must refuse the tenant-specific `iss` of a real token; the documented rule —
// take `tid` from the token, check it is a GUID, substitute it into the issuer template
// (which the signing key's own `issuer` also carries) — then validates the same token.
// Run through tests/e2e/idp_interop_test.py (it starts the IdP and sets IDP_*).
import assert from "node:assert/strict";
import { Issuer, generators, custom, errors } from "openid-client";
import { env, signIn, jwtPayload, requested, GUID } from "./signin.mjs";

const base = env("IDP_BASE");
const tid = env("IDP_TENANT");
const clientId = env("IDP_CLIENT");
const secret = env("IDP_SECRET");
const upn = env("IDP_UPN");
const oid = env("IDP_OID");
const redirect = env("IDP_REDIRECT");
const password = env("IDP_PASSWORD");

custom.setHttpOptionsDefaults({ timeout: 10000 });

function record(issuer) {
  issuer[custom.http_options] = (url, options) => {
    requested.push(`${options.method ?? "GET"} ${url.href}`);
    return options;
  };
}

async function codeFlow(client, extra = {}) {
  const verifier = generators.codeVerifier();
  const nonce = generators.nonce();
  const state = generators.state();
  const url = client.authorizationUrl({
    scope: "openid profile email offline_access",
    code_challenge: generators.codeChallenge(verifier),
    code_challenge_method: "S256",
    nonce,
    state,
    prompt: "login",
    ...extra,
  });
  const location = await signIn(url, upn, password);
  return { params: client.callbackParams(location), verifier, nonce, state, location };
}

// ---- part 1: the tenant authority ------------------------------------------------------
const tenantIssuerUrl = `${base}/${tid}/v2.0`;
const issuer = await Issuer.discover(tenantIssuerUrl);
record(issuer);
assert.equal(issuer.issuer, tenantIssuerUrl);
assert.equal(issuer.authorization_endpoint, `${base}/${tid}/oauth2/v2.0/authorize`);
assert.equal(issuer.token_endpoint, `${base}/${tid}/oauth2/v2.0/token`);
assert.equal(issuer.jwks_uri, `${base}/${tid}/discovery/v2.0/keys`);
assert.equal(issuer.end_session_endpoint, `${base}/${tid}/oauth2/v2.0/logout`);
assert.equal(issuer.userinfo_endpoint, `${base}/oidc/userinfo`);
assert.equal(issuer.metadata.tenant_region_scope, "WW");
assert.deepEqual(issuer.id_token_signing_alg_values_supported, ["RS256"]);

const client = new issuer.Client({
  client_id: clientId,
  client_secret: secret,
  redirect_uris: [redirect],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
});
const f1 = await codeFlow(client);
assert.equal(f1.params.state, f1.state);
assert.match(f1.params.session_state, GUID);
const ts = await client.callback(redirect, f1.params, {
  code_verifier: f1.verifier,
  nonce: f1.nonce,
  state: f1.state,
});
const c = ts.claims();
assert.equal(c.iss, tenantIssuerUrl);
assert.equal(c.aud, clientId);
assert.equal(c.tid, tid);
assert.equal(c.oid, oid);
assert.equal(c.nonce, f1.nonce);
assert.equal(c.email, "ada@mail.example");
assert.equal(c.preferred_username, upn);
assert.equal(c.sid, f1.params.session_state);
assert.equal(c.exp - c.iat, 3900);
assert.equal(c.nbf, c.iat);
assert.ok(c.iat <= Math.floor(Date.now() / 1000) - 299, "iat is back-dated 300 s");
assert.match(c.sub, /^[A-Za-z0-9_-]{43}$/);
assert.equal(ts.token_type, "Bearer");
assert.equal(ts.scope, "openid profile email offline_access User.Read");
assert.ok(ts.refresh_token, "offline_access gives a refresh token");
const header = JSON.parse(Buffer.from(ts.id_token.split(".")[0], "base64url").toString());
assert.deepEqual(Object.keys(header).sort(), ["alg", "kid", "typ"]);
assert.equal(header.alg, "RS256");

// userinfo: only what Microsoft Graph's /oidc/userinfo returns
const ui = await client.userinfo(ts);
assert.deepEqual(ui, {
  sub: c.sub,
  name: "Ada Lovelace",
  family_name: "Lovelace",
  given_name: "Ada",
  email: "ada@mail.example",
});

// refresh: new tokens, ID token validated again (same sub, no nonce)
const ts2 = await client.refresh(ts);
assert.notEqual(ts2.access_token, ts.access_token);
assert.equal(ts2.claims().sub, c.sub);
assert.equal(ts2.claims().nonce, undefined);

// the keys: Entra's shape (no alg; kid = x5t; per-key issuer)
const jwks = await (await fetch(issuer.jwks_uri)).json();
requested.push(`GET ${issuer.jwks_uri}`);
const key = jwks.keys.find((k) => k.kid === header.kid);
assert.ok(key, "the signing key is published");
assert.equal(key.alg, undefined);
assert.equal(key.x5t, key.kid);
assert.equal(key.issuer, tenantIssuerUrl);

// ---- part 2: /organizations/ and the {tenantid} template ----------------------------------
const template = `${base}/{tenantid}/v2.0`;
const org = await Issuer.discover(`${base}/organizations/v2.0`);
record(org);
assert.equal(org.issuer, template);
assert.equal(org.metadata.tenant_region_scope, null);
assert.equal(org.authorization_endpoint, `${base}/organizations/oauth2/v2.0/authorize`);
assert.equal(org.token_endpoint, `${base}/organizations/oauth2/v2.0/token`);
assert.equal(org.jwks_uri, `${base}/organizations/discovery/v2.0/keys`);
const common = await Issuer.discover(`${base}/common/v2.0`);
assert.equal(common.issuer, template);
assert.equal(common.metadata.tenant_region_scope, null);
assert.equal(common.token_endpoint, `${base}/common/oauth2/v2.0/token`);

const orgClient = new org.Client({
  client_id: clientId,
  client_secret: secret,
  redirect_uris: [redirect],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_post",
});

// a strict client taking the template literally refuses the real issuer
const f2 = await codeFlow(orgClient);
await assert.rejects(
  orgClient.callback(redirect, f2.params, { code_verifier: f2.verifier, nonce: f2.nonce, state: f2.state }),
  (err) => {
    assert.ok(err instanceof errors.RPError);
    assert.equal(err.message, `unexpected iss value, expected ${template}, got: ${tenantIssuerUrl}`);
    return true;
  },
);

// the rule Entra documents for multi-tenant apps: substitute the token's tid
const f3 = await codeFlow(orgClient);
const raw = await orgClient.grant({
  grant_type: "authorization_code",
  code: f3.params.code,
  redirect_uri: redirect,
  code_verifier: f3.verifier,
});
const unverified = jwtPayload(raw.id_token);
assert.match(unverified.tid, GUID);
assert.equal(unverified.tid, tid);
const orgKeys = await (await fetch(org.jwks_uri)).json();
requested.push(`GET ${org.jwks_uri}`);
const orgKey = orgKeys.keys.find((k) => k.kid === JSON.parse(Buffer.from(raw.id_token.split(".")[0], "base64url")).kid);
assert.ok(orgKey, "the multi-tenant key set holds the signing key");
assert.equal(orgKey.issuer, template, "keys of the multi-tenant set carry the template issuer");
const resolved = orgKey.issuer.replace("{tenantid}", unverified.tid);
assert.equal(new URL(resolved).pathname.split("/")[1], unverified.tid);
const strict = new Issuer({ ...org.metadata, issuer: resolved });
record(strict);
const strictClient = new strict.Client({
  client_id: clientId,
  client_secret: secret,
  redirect_uris: [redirect],
  response_types: ["code"],
});
const validated = await strictClient.validateIdToken(raw, f3.nonce, "token", null, f3.state);
assert.equal(validated.claims().iss, tenantIssuerUrl);
assert.equal(validated.claims().sub, c.sub, "pairwise sub is the same app's sub");

for (const r of requested) {
  assert.equal(new URL(r.split(" ")[1]).origin, base, `request left the IdP: ${r}`);
}
console.log(`openid-client: discovery, code+PKCE, ID token, userinfo, refresh, {tenantid} template OK (${requested.length} requests)`);
