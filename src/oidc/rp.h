/* rp.h — the OpenID Connect relying party (authorization code flow + PKCE) for one login
 * realm; the API the server's /access/openid/{auth-url,login} endpoints use.
 *
 * Flow: rg_oidc_auth_url stores a pending login (pending.h) and returns the provider URL;
 * the callback's state is consumed with rg_oidc_take_pending (single use, even when the
 * login then fails); rg_oidc_finish exchanges the code, verifies the ID token and returns
 * its claims (merged with userinfo when the realm asks for it); rg_oidc_claim_username
 * derives the user name the Proxmox way.
 *
 * What is refused, and where (every failure returns an error and a msg naming the realm and
 * the check, for the server log; the client is only told "authentication failure"):
 *   - provider metadata (provider.h): issuer mismatch, missing/insecure endpoints;
 *   - redirect_url: longer than 255, not an absolute http(s) URL, with fragment, user info,
 *     whitespace or control characters; at finish it must equal the pending one byte for byte;
 *   - code: empty, longer than 4096, or bytes outside printable ASCII;
 *   - token response: non-200 (the provider's error, error_description's first line,
 *     error_codes and trace_id are logged), non-JSON, larger than 1 MiB, no id_token;
 *   - ID token: JWS checks (jose/jws.h) with the provider's advertised algorithms minus
 *     "none" (HS* only if advertised AND a client key exists, the key being the secret),
 *     header typ other than JWT, cty present; unknown kid -> one throttled JWKS refetch,
 *     then retry; then the claim checks of idtoken.h with the pending nonce (leeway 120 s,
 *     iat at most 24 h old). After a rejected ID token no further request goes to the
 *     provider;
 *   - userinfo (only with query_userinfo and an advertised userinfo_endpoint): non-200,
 *     not a JSON object, > 256 KiB, or a `sub` different from the ID token's -> login fails.
 * Secrets (client key, code, PKCE verifier, tokens, nonce) never appear in messages or logs.
 *
 * Thread safety: struct rg_oidc may be shared by all worker threads (the provider cache
 * locks internally; pending logins are files with atomic claims).
 * Ownership: strings in struct rg_oidc_realm are borrowed for the call. *url_out and
 * *username out are malloc'd (free()); *claims_out is a new jansson reference
 * (json_decref); struct rg_oidc_pending members are freed by rg_oidc_pending_clear. */
#ifndef RG_OIDC_RP_H
#define RG_OIDC_RP_H

#include <jansson.h>
#include <time.h>

#include "base/err.h"
#include "oidc/pending.h"
#include "oidc/provider.h"

#define RG_OIDC_REDIRECT_MAX 255
#define RG_OIDC_CODE_MAX 4096
#define RG_OIDC_TOKEN_RESPONSE_MAX (1024 * 1024)
#define RG_OIDC_USERINFO_MAX (256 * 1024)
#define RG_OIDC_LEEWAY 120
#define RG_OIDC_MAX_IAT_AGE 86400
#define RG_OIDC_DEFAULT_SCOPES "email profile"

struct rg_oidc_realm {          /* filled by the caller from domains.cfg; strings borrowed */
    const char *realm;          /* realm id */
    const char *issuer_url;
    const char *client_id;
    const char *client_key;     /* NULL = public client (client_id in body) */
    const char *scopes;         /* NULL -> "email profile"; Proxmox split_list: ',' ';' whitespace */
    const char *prompt;         /* NULL = not sent */
    const char *acr_values;     /* NULL = not sent; split_list, sent space-joined */
    const char *audiences;      /* NULL = none; split_list */
    int query_userinfo;         /* 1 = call userinfo and merge */
    const char *id_token_algs;  /* NULL, or the realm's own allow-list of ID-token signing
                                 * algorithms (split_list), narrowing the provider's list
                                 * (realm option id-token-algs) */
    int allow_hmac;             /* 1 = HS256/384/512 ID tokens keyed with client_key are
                                 * accepted when the provider advertises them (realm option
                                 * hmac-id-tokens; off by default: a client secret is a weaker
                                 * key than the provider's signing key) */
    const char *client_cert;    /* NULL, or PEM certificate file: private_key_jwt (clientauth.h) */
    const char *ca_file;        /* NULL, or PEM bundle trusted for this provider's TLS instead
                                 * of the system store (realm option ca-file) */
    const char *client_cert_key;/* PEM private key file of client_cert */
};

struct rg_oidc;                 /* RP context: provider cache + pending dir; thread-safe */

rg_err rg_oidc_new(const char *pending_dir, struct rg_oidc **out);
void rg_oidc_free(struct rg_oidc *rp);
/* TLS trust for provider requests: a PEM bundle instead of the system store (tests, private
 * CAs). Call before the first request; NULL restores the system store. */
rg_err rg_oidc_set_ca_file(struct rg_oidc *rp, const char *ca_file);
/* The provider cache (for tests and diagnostics). */
struct rg_oidc_cache *rg_oidc_cache(struct rg_oidc *rp);

/* Builds the authorization URL and stores the pending login. */
rg_err rg_oidc_auth_url(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                        const char *redirect_url, char **url_out, struct rg_msg *msg);
/* As rg_oidc_auth_url, and the pending login remembers browser (a string of 43 characters
 * naming the browser that asked, see openid_api.c) so that only that browser can finish it. */
rg_err rg_oidc_auth_url_bound(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                              const char *redirect_url, const char *browser, char **url_out,
                              struct rg_msg *msg);

/* struct rg_oidc_pending { char realm[33]; char *nonce; char *pkce_verifier;
 *                          char *redirect_url; time_t ctime; }  -- see pending.h */

/* Consumes the pending login for state (single use). */
rg_err rg_oidc_take_pending(struct rg_oidc *rp, const char *state, struct rg_oidc_pending *out,
                            struct rg_msg *msg);
/* void rg_oidc_pending_clear(struct rg_oidc_pending *p);  wipes + frees members (pending.h) */

/* Exchanges code, verifies the ID token, optionally merges userinfo. On success *claims_out
 * is a new json object (ID-token claims; userinfo fills only claims that are missing/null;
 * userinfo `sub` must equal the ID token `sub`, else refuse). redirect_url must equal the
 * pending one byte for byte. */
rg_err rg_oidc_finish(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                      const struct rg_oidc_pending *pending, const char *code,
                      const char *redirect_url, json_t **claims_out, struct rg_msg *msg);
/* As rg_oidc_finish; id_token_out (may be NULL) receives a malloc'd copy of the verified
 * raw ID token (for a later logout's id_token_hint; free with rg_free_secret). iss_param is
 * the callback's `iss` (RFC 9207) or NULL: when given it must equal the provider's issuer,
 * and it is required when the provider advertises
 * authorization_response_iss_parameter_supported (mix-up defence). */
rg_err rg_oidc_finish_ex(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                         const struct rg_oidc_pending *pending, const char *code,
                         const char *redirect_url, const char *iss_param, json_t **claims_out,
                         char **id_token_out, struct rg_msg *msg);

/* Username claim per Proxmox: NULL/empty -> "sub"; if the claim exists (string) use it; else
 * alias "subject" -> sub, "username" -> preferred_username; else error
 * "missing configured claim '<name>' in returned info object". A claim present with a
 * non-string value is an error too. */
rg_err rg_oidc_claim_username(const json_t *claims, const char *username_claim, char **out,
                              struct rg_msg *msg);

/* ---- building blocks, exposed for unit tests ---- */

/* 1 when code is acceptable: 1..RG_OIDC_CODE_MAX characters of printable ASCII. */
int rg_oidc_code_valid(const char *code);

/* 1 when redirect_url is acceptable (see above). */
int rg_oidc_redirect_url_valid(const char *redirect_url);

/* The authorization URL from loaded metadata and the login's random values. */
rg_err rg_oidc_build_auth_url(const struct rg_oidc_discovery *disc,
                              const struct rg_oidc_realm *realm, const char *redirect_url,
                              const char *state, const char *nonce, const char *code_challenge,
                              char **url_out, struct rg_msg *msg);

/* base64url(SHA-256(verifier)) (RFC 7636 §4.2); malloc'd, NULL on failure. */
char *rg_oidc_pkce_challenge(const char *verifier);

#endif
