/* clientauth.h — client authentication with a certificate: `private_key_jwt` the way
 * Microsoft Entra ID's certificate credentials expect it (RFC 7523 §2.2, OIDC Core §9).
 *
 * The token request then carries, instead of a client secret:
 *   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
 *   client_assertion=<JWS>
 * JWS header: alg (PS256, or RS256 when the provider's
 * token_endpoint_auth_signing_alg_values_supported is listed without PS256), typ JWT,
 * `x5t#S256` = base64url(SHA-256(certificate DER)) and `x5t` = base64url(SHA-1(DER)) (older
 * Entra documentation names only x5t; both are sent).
 * Claims: aud = the token endpoint URL, iss = sub = client_id, jti = fresh random UUID,
 * iat = nbf = now, exp = now + RG_CLIENTAUTH_LIFETIME (Entra advises at most 5-10 minutes).
 *
 * Files: realm options `client-cert` (PEM X.509 certificate, the first one in the file) and
 * `client-cert-key` (PEM private key, unencrypted, RSA of at least 2048 bits, matching the
 * certificate). Both are read with a size limit; the key is only held for one request.
 * Errors: RG_ERR_NOTFOUND / RG_ERR_IO / RG_ERR_LIMIT (file), RG_ERR_INVALID (not PEM, not
 * RSA, key too small, key and certificate do not match, certificate outside its validity),
 * RG_ERR_CRYPTO (signing), RG_ERR_NOMEM; msg names the file and the reason, never key bytes.
 * Ownership: struct rg_client_cred owns its key (EVP_PKEY) and thumbprints; free with
 * rg_clientauth_free. *out strings are malloc'd (the assertion: rg_free_secret). */
#ifndef RG_OIDC_CLIENTAUTH_H
#define RG_OIDC_CLIENTAUTH_H

#include <openssl/evp.h>
#include <time.h>

#include "base/err.h"

#define RG_CLIENTAUTH_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define RG_CLIENTAUTH_LIFETIME 300
#define RG_CLIENTAUTH_FILE_MAX (64 * 1024)
#define RG_CLIENTAUTH_MIN_RSA_BITS 2048

struct rg_client_cred {
    EVP_PKEY *key;          /* private key (owned) */
    char x5t[28];           /* base64url SHA-1 of the certificate DER (27 chars) */
    char x5t_s256[44];      /* base64url SHA-256 of the certificate DER (43 chars) */
};

/* Loads and cross-checks certificate and key; now for the validity check. */
rg_err rg_clientauth_load(const char *cert_file, const char *key_file, time_t now,
                          struct rg_client_cred *out, struct rg_msg *msg);
void rg_clientauth_free(struct rg_client_cred *c);

/* "PS256" unless the provider lists its algorithms (listed != 0) without PS256 but with
 * RS256, then "RS256"; NULL when listed with neither (the provider would refuse ours). */
const char *rg_clientauth_alg(int listed, int ps256, int rs256);

/* Builds the signed client assertion for client_id at token_endpoint. */
rg_err rg_clientauth_assertion(const struct rg_client_cred *c, const char *client_id,
                               const char *token_endpoint, const char *alg, time_t now,
                               char **out, struct rg_msg *msg);

#endif
