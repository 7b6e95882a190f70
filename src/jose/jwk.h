/* jwk.h — JSON Web Keys (RFC 7517/7518/8037) on OpenSSL 3 EVP_PKEY.
 *
 * Import: RSA (n, e), EC (crv P-256/P-384/P-521, x, y) and OKP (crv Ed25519, x) public keys.
 * `alg` is optional (Entra publishes keys without it); when present it restricts the key.
 * `use` other than "sig" makes the key unusable for signatures. Private members ("d", "p",
 * ...) in a public key set are refused. A key set is bounded (RG_JWKS_MAX_KEYS); malformed
 * entries are skipped with a reason in the set's `skipped` counter, a set with no usable
 * key is RG_ERR_INVALID.
 *
 * Ownership: a struct rg_jwks owns its keys (EVP_PKEY references); rg_jwks_free releases
 * them. rg_jwks_find returns a borrowed pointer valid while the set lives. */
#ifndef RG_JOSE_JWK_H
#define RG_JOSE_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

#include "base/err.h"

#define RG_JWKS_MAX_KEYS 64
#define RG_JWK_KID_MAX 256
#define RG_JWKS_MAX_LEN (512 * 1024) /* bytes of JWKS text rg_jwks_parse accepts */

enum rg_jwk_kty { RG_KTY_RSA = 1, RG_KTY_EC, RG_KTY_OKP, RG_KTY_OCT };

struct rg_jwk {
    enum rg_jwk_kty kty;
    char kid[RG_JWK_KID_MAX + 1]; /* "" when absent */
    char alg[16];                 /* "" when absent */
    char crv[16];                 /* EC/OKP curve name as in the JWK */
    EVP_PKEY *pkey;               /* owned */
};

struct rg_jwks {
    struct rg_jwk keys[RG_JWKS_MAX_KEYS];
    size_t n;
    size_t skipped;               /* entries that could not be used */
};

/* Parses one JWK object into *out (out->pkey owned by the caller; rg_jwk_clear frees it).
 * A kid or alg with control characters, or longer than its field, is refused. */
rg_err rg_jwk_from_json(const json_t *obj, struct rg_jwk *out, struct rg_msg *msg);
void rg_jwk_clear(struct rg_jwk *k);

/* Parses a JWKS document ({"keys":[...]}, at most RG_JWKS_MAX_LEN bytes of text, else
 * RG_ERR_LIMIT). On error *out is empty (nothing to free); on success free with rg_jwks_free. */
rg_err rg_jwks_parse(const char *text, size_t len, struct rg_jwks *out, struct rg_msg *msg);
void rg_jwks_free(struct rg_jwks *set);
/* The key with this kid (exact match), or NULL. */
const struct rg_jwk *rg_jwks_find(const struct rg_jwks *set, const char *kid);

/* Public JWK JSON object for an RSA/EC/Ed25519 key (for publishing a JWKS). kid/x5t may be
 * NULL (omitted). `alg` is never written (as Entra does). Returns a new reference or NULL. */
json_t *rg_jwk_public_json(EVP_PKEY *pkey, const char *kid, const char *x5t);

/* RFC 7638 thumbprint (SHA-256, base64url) of a public key; malloc'd string or NULL. */
char *rg_jwk_thumbprint(EVP_PKEY *pkey);

#endif
