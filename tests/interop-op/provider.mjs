// An independent, certified OpenID provider (npm oidc-provider, pinned in package.json) for
// realmgate's relying-party interoperability test (oidc_provider_test.py drives it).
//
// Usage: node provider.mjs CONFIG.json
// CONFIG: {"log": FILE, "redirect_uri": URL, "providers": [{"port": N, "auth_method":
//   "client_secret_basic"|"client_secret_post", "conform": bool, "clients": [{"client_id",
//   "client_secret", "alg"}]}]}
// Each provider listens on 127.0.0.1:<port> over plain HTTP with issuer http://127.0.0.1:<port>,
// advertises only its one client authentication method (so the relying party must pick it),
// and signs with four keys: RSA for RS256, another RSA for PS256, P-256 for ES256, Ed25519 for
// EdDSA (each key carries its alg, so a wrong kid/alg pairing is a verification failure).
// Claims by scope: email, profile and a custom "groups" scope releasing {"groups": ["admins"]}.
// "conform": true keeps scope claims (email, groups, profile) out of the ID token: the relying
// party gets them only from userinfo. Every token and userinfo request is written to the log
// file as one JSON line (header alg and kid of the issued ID token, how the client
// authenticated, which claims the ID token carried) so the test can assert what really
// happened on the wire. Prints "READY" once all providers listen.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function jwk(type, opts, kid, alg) {
  const { privateKey } = generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const keys = [
  jwk('rsa', { modulusLength: 2048 }, 'rsa-rs256', 'RS256'),
  jwk('rsa', { modulusLength: 2048 }, 'rsa-ps256', 'PS256'),
  jwk('ec', { namedCurve: 'P-256' }, 'ec-es256', 'ES256'),
  jwk('ed25519', {}, 'okp-eddsa', 'EdDSA'),
];

const ACCOUNTS = {
  alice: {
    email: 'alice@op.example', email_verified: true, name: 'Alice Interop',
    given_name: 'Alice', family_name: 'Interop', preferred_username: 'alice.interop',
    groups: ['admins'],
  },
};

function log(obj) {
  appendFileSync(config.log, `${JSON.stringify(obj)}\n`);
}

function decodeSegment(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

function start(p) {
  const issuer = `http://127.0.0.1:${p.port}`;
  const provider = new Provider(issuer, {
    clients: p.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: [config.redirect_uri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: p.auth_method,
      id_token_signed_response_alg: c.alg,
    })),
    clientAuthMethods: [p.auth_method],
    jwks: { keys },
    conformIdTokenClaims: p.conform,
    claims: {
      openid: ['sub'],
      groups: ['groups'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true, methods: ['S256'] },
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    async findAccount(ctx, id) {
      const a = ACCOUNTS[id];
      if (!a) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...a }; } };
    },
  });
  provider.on('server_error', (ctx, err) => log({ port: p.port, server_error: String(err) }));
  provider.use(async (ctx, next) => {
    const authz = ctx.get('authorization');
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const body = ctx.oidc?.body ?? {};
      const entry = {
        port: p.port, path: 'token', status: ctx.status,
        basic: authz.startsWith('Basic '), body_secret: 'client_secret' in body,
        body_client_id: body.client_id ?? null, pkce: 'code_verifier' in body,
      };
      if (ctx.status === 200 && ctx.body?.id_token) {
        const [h, c] = ctx.body.id_token.split('.');
        const header = decodeSegment(h);
        const claims = decodeSegment(c);
        entry.alg = header.alg;
        entry.kid = header.kid;
        entry.aud = claims.aud;
        entry.id_token_claims = Object.keys(claims).sort();
      } else {
        entry.error = ctx.body?.error ?? null;
      }
      log(entry);
    } else if (ctx.path === '/me') {
      log({ port: p.port, path: 'userinfo', status: ctx.status,
            claims: ctx.status === 200 ? Object.keys(ctx.body ?? {}).sort() : null });
    }
  });
  return new Promise((resolve, reject) => {
    const server = provider.listen(p.port, '127.0.0.1', () => resolve(server));
    server.on('error', reject);
  });
}

await Promise.all(config.providers.map(start));
process.stdout.write('READY\n');
