// msal.test.mjs — Microsoft's own client library, @azure/msal-node, against realmgate-idp.
//
// A ConfidentialClientApplication whose authority is our HTTPS tenant issuer (listed in
// knownAuthorities, so MSAL builds the cloud metadata from the host instead of asking
// login.microsoftonline.com) runs an authorization-code flow with PKCE and then refreshes
// the token with acquireTokenSilent({forceRefresh}). Every request MSAL makes goes through a
// recording network client; the test fails if any went anywhere but our IdP.
// Run through tests/e2e/idp_interop_test.py (it starts the IdP and sets IDP_*).
import assert from "node:assert/strict";
import { ConfidentialClientApplication, CryptoProvider, LogLevel } from "@azure/msal-node";
import { env, signIn, jwtPayload, requested, GUID } from "./signin.mjs";

const base = env("IDP_BASE");
const tid = env("IDP_TENANT");
const clientId = env("IDP_CLIENT");
const upn = env("IDP_UPN");
const oid = env("IDP_OID");
const redirectUri = env("IDP_REDIRECT");

const msalCalls = []; // [{method, url, body}]

// MSAL's INetworkModule over node's fetch (which honours NODE_EXTRA_CA_CERTS).
async function send(method, url, options = {}) {
  msalCalls.push({ method, url, body: options.body ?? "" });
  requested.push(`${method} ${url}`);
  const r = await fetch(url, { method, headers: options.headers, body: options.body });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { headers: Object.fromEntries(r.headers.entries()), body, status: r.status };
}

const cca = new ConfidentialClientApplication({
  auth: {
    clientId,
    authority: `${base}/${tid}`,
    clientSecret: env("IDP_SECRET"),
    knownAuthorities: [new URL(base).host],
  },
  system: {
    networkClient: {
      sendGetRequestAsync: (url, options) => send("GET", url, options),
      sendPostRequestAsync: (url, options) => send("POST", url, options),
    },
    loggerOptions: {
      logLevel: LogLevel.Warning,
      piiLoggingEnabled: false,
      loggerCallback: (level, message) => {
        if (level <= LogLevel.Warning) console.error(`msal: ${message}`);
      },
    },
  },
});

const crypto = new CryptoProvider();
const { verifier, challenge } = await crypto.generatePkceCodes();
const state = crypto.createNewGuid();

// 1. the authorize URL MSAL builds, then the sign-in a browser would do
const authUrl = await cca.getAuthCodeUrl({
  scopes: ["User.Read"],
  redirectUri,
  codeChallenge: challenge,
  codeChallengeMethod: "S256",
  state,
  prompt: "login",
});
const au = new URL(authUrl);
assert.equal(`${au.origin}${au.pathname}`, `${base}/${tid}/oauth2/v2.0/authorize`);
assert.equal(au.searchParams.get("client_id"), clientId);
assert.equal(au.searchParams.get("code_challenge"), challenge);
assert.equal(au.searchParams.get("code_challenge_method"), "S256");
assert.equal(au.searchParams.get("client_info"), "1");

const location = await signIn(authUrl, upn, env("IDP_PASSWORD"));
const back = new URL(location);
assert.equal(`${back.origin}${back.pathname}`, redirectUri);
assert.equal(back.searchParams.get("state"), state);
assert.match(back.searchParams.get("session_state"), GUID);
const code = back.searchParams.get("code");
assert.ok(code && code.length > 40, "a code came back");

// 2. code redemption with the PKCE verifier
const first = await cca.acquireTokenByCode({
  code,
  scopes: ["User.Read"],
  redirectUri,
  codeVerifier: verifier,
});
const idc = first.idTokenClaims;
assert.equal(idc.iss, `${base}/${tid}/v2.0`);
assert.equal(idc.aud, clientId);
assert.equal(idc.tid, tid);
assert.equal(idc.oid, oid);
assert.equal(idc.ver, "2.0");
assert.equal(idc.preferred_username, upn);
assert.equal(idc.name, "Ada Lovelace");
assert.equal(idc.sid, back.searchParams.get("session_state"));
assert.match(idc.sub, /^[A-Za-z0-9_-]{43}$/);
assert.equal(idc.exp - idc.iat, 3900);
assert.equal(first.tenantId, tid);
assert.equal(first.uniqueId, oid);
assert.equal(first.account.homeAccountId, `${oid}.${tid}`); // from client_info
assert.equal(first.account.username, upn);
assert.equal(first.account.environment, new URL(base).host);
assert.deepEqual([...first.scopes].sort(), ["User.Read", "openid", "profile", "offline_access"].sort());
assert.ok(first.accessToken.length > 20);

// 3. refresh: forceRefresh makes MSAL redeem the cached refresh token
const second = await cca.acquireTokenSilent({
  account: first.account,
  scopes: ["User.Read"],
  forceRefresh: true,
});
assert.notEqual(second.accessToken, first.accessToken);
assert.equal(second.account.homeAccountId, first.account.homeAccountId);
assert.equal(second.idTokenClaims.sub, idc.sub);
assert.equal(jwtPayload(second.idToken).oid, oid);

// 4. what MSAL asked, in order, and that nothing left the machine
const tokenUrl = `${base}/${tid}/oauth2/v2.0/token`;
const grants = msalCalls
  .filter((c) => c.method === "POST")
  .map((c) => {
    assert.equal(c.url.split("?")[0], tokenUrl);
    return new URLSearchParams(c.body).get("grant_type");
  });
assert.deepEqual(grants, ["authorization_code", "refresh_token"]);
const discovery = msalCalls.filter((c) => c.method === "GET").map((c) => c.url);
assert.deepEqual(discovery, [`${base}/${tid}/v2.0/.well-known/openid-configuration`]);
for (const r of requested) {
  const u = new URL(r.split(" ")[1]);
  assert.equal(u.origin, base, `request left the IdP: ${r}`);
}
console.log(`msal-node: auth code + PKCE + refresh OK (${requested.length} requests, all to ${base})`);
