/* jws.h — JWS compact serialization (RFC 7515): parse, verify, sign.
 *
 * Parsing is bounded (RG_JWS_MAX_LEN bytes; header/payload must be JSON objects; exactly three
 * segments; base64url strict). Verification chooses the key by `kid` (or the only key of a
 * matching type when the token has no kid and the set has exactly one such key), and accepts
 * the header `alg` only if it is in the caller's allow-list AND fits the key type:
 *   RSA: RS256/384/512, PS256/384/512; EC: ES256 (P-256), ES384 (P-384), ES512 (P-521);
 *   OKP: EdDSA (Ed25519); HS256/384/512 only with a caller-supplied HMAC secret, never with
 *   an asymmetric key; "none" never. A key with its own `alg` must match the header's.
 * `crit` is refused (no extensions understood); JWE (5 segments) refused.
 * Errors: RG_ERR_LIMIT (too long), RG_ERR_INVALID (syntax), RG_ERR_NOTFOUND (no key for kid —
 * the caller may refetch the key set), RG_ERR_AUTH (alg refused, bad signature); msg says
 * which, naming kid/alg but never the token. */
#ifndef RG_JOSE_JWS_H
#define RG_JOSE_JWS_H

#include <jansson.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "jose/jwk.h"

#define RG_JWS_MAX_LEN (64 * 1024)

struct rg_jws {
    json_t *header;   /* owned */
    json_t *payload;  /* owned; the claims */
    char alg[16];
    char kid[RG_JWK_KID_MAX + 1];
    /* internal: signing input and raw signature */
    char *signing_input;
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
};

rg_err rg_jws_parse(const char *compact, size_t len, struct rg_jws *out, struct rg_msg *msg);
void rg_jws_free(struct rg_jws *jws);

/* allowed_algs: NULL-terminated list, e.g. {"RS256", NULL}. hmac_secret may be NULL. */
rg_err rg_jws_verify(const struct rg_jws *jws, const struct rg_jwks *keys,
                     const char *const *allowed_algs, const char *hmac_secret,
                     struct rg_msg *msg);

/* Signs payload with alg (any asymmetric alg above matching pkey) and a header containing
 * "typ":"JWT", "alg", and the members of extra_header (may be NULL; e.g. kid, x5t).
 * Returns a malloc'd compact JWS in *out. */
rg_err rg_jws_sign(const json_t *payload, const json_t *extra_header, const char *alg,
                   EVP_PKEY *pkey, char **out);

#endif
