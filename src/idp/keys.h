/* keys.h — a tenant's token-signing keys: RSA-2048 with a self-signed X.509 certificate,
 * as Entra publishes them. Owner: idp.
 *
 * The certificate (subject and issuer CN=accounts.accesscontrol.windows.net, five years,
 * SHA-256 signature) goes into the public state (model.h, key->x5c). Its SHA-1 thumbprint,
 * base64url-encoded (27 characters), is both `kid` and `x5t`. The private key is written
 * PKCS#8 PEM to <state dir>/keys/<kid>.pem with mode 0600 in a 0700 directory; the file
 * name carries the kid, so a key file can never be paired with the wrong certificate
 * without rg_idp_key_load noticing (it also checks that the public halves agree).
 *
 * Errors: RG_ERR_CRYPTO (OpenSSL), RG_ERR_IO / RG_ERR_NOTFOUND (key file), RG_ERR_INVALID
 * (certificate or key that does not parse or does not match). msg says which. */
#ifndef RG_IDP_KEYS_H
#define RG_IDP_KEYS_H

#include <openssl/evp.h>
#include <stdint.h>

#include "base/err.h"
#include "idp/model.h"

struct rg_idp_newkey {
    EVP_PKEY *pkey;                       /* owned */
    char kid[RG_IDP_KID_LEN + 1];
    char *x5c;                            /* malloc'd base64 DER */
    int64_t not_after;
};

/* Generates key + certificate valid from now. */
rg_err rg_idp_key_generate(int64_t now, struct rg_idp_newkey *out, struct rg_msg *msg);
void rg_idp_newkey_free(struct rg_idp_newkey *k);
/* Writes the private key file for kid (keys_dir is created 0700 if absent). */
rg_err rg_idp_key_save(const char *keys_dir, const char *kid, EVP_PKEY *pkey,
                       struct rg_msg *msg);
/* Loads the private key for key->kid and checks it against key->x5c. */
rg_err rg_idp_key_load(const char *keys_dir, const struct rg_idp_key *key, EVP_PKEY **out,
                       struct rg_msg *msg);
/* base64url SHA-1 thumbprint of a base64 DER certificate. */
rg_err rg_idp_cert_x5t(const char *x5c, char out[RG_IDP_KID_LEN + 1]);

/* An app's certificate credential as read by `app cert add` (RSA keys only: Entra's client
 * assertions are RS256 or PS256). x5c is malloc'd. */
struct rg_idp_certinfo {
    char *x5c;
    char x5t[RG_IDP_KID_LEN + 1];
    char x5t256[44];
    int64_t not_after;
};
#define RG_IDP_CERT_FILE_MAX (64 * 1024)
/* Reads a PEM or DER X.509 certificate file. */
rg_err rg_idp_cert_load(const char *path, struct rg_idp_certinfo *out, struct rg_msg *msg);
/* The public key of a base64 DER certificate (caller frees), or NULL. */
EVP_PKEY *rg_idp_cert_pubkey(const char *x5c);

#endif
