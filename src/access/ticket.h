/* ticket.h — PVE signed tickets (spec §4.2).
 *
 * Format: `<PREFIX>:<DATA>:<TIME>::<SIG>` (or `<PREFIX>:<TIME>::<SIG>` without data) where
 * DATA has every ':' written as "%3A", TIME is 8 upper-case hex digits of the creation time
 * and SIG is padded standard base64 of an RSA signature over `<PREFIX>:<DATA>:<TIME>`
 * (+ `:<AAD>` when additional authenticated data is given; AAD is not transmitted).
 *
 * Signature scheme: RSASSA-PKCS1-v1_5 with SHA-256. Real PVE uses whatever
 * Crypt::OpenSSL::RSA defaults to (SHA-1 for released versions 0.31-0.35; spec §10 question
 * 1). We choose SHA-256 on purpose: tickets are only verified by this implementation (no
 * cross-verification with PVE nodes), and SHA-1 signatures are deprecated.
 *
 * Verification is strict: at most RG_TICKET_MAX bytes; prefix must match exactly; DATA must be
 * non-empty without whitespace; TIME exactly 8 hex digits [0-9A-F]; separator "::"; SIG strict
 * padded base64 decoding to exactly the key's modulus size; then the signature; then the age
 * window min_age < now - TIME < max_age (both exclusive). Errors: RG_ERR_INVALID (syntax),
 * RG_ERR_CRYPTO (signature), RG_ERR_AUTH (outside the age window), RG_ERR_LIMIT (too long).
 * No key rotation is done by this implementation: one key pair per config dir (store.h).
 *
 * Ownership: *out / *data_out are malloc'd, caller frees (rg_free_secret for tickets). */
#ifndef RG_ACCESS_TICKET_H
#define RG_ACCESS_TICKET_H

#include <openssl/evp.h>
#include <time.h>

#include "base/err.h"

#define RG_TICKET_MAX 2048
#define RG_TICKET_MIN_AGE (-300)  /* login tickets: 5 minutes of clock skew into the future */
#define RG_TICKET_MAX_AGE 7200    /* login tickets: 2 hours */

/* data may be NULL (short-lived tickets); aad may be NULL. */
rg_err rg_ticket_create(EVP_PKEY *key, const char *prefix, const char *data, const char *aad,
                        time_t now, char **out);
/* data_out may be NULL; receives the decoded DATA ("" when the ticket has none). */
rg_err rg_ticket_verify(EVP_PKEY *pub, const char *prefix, const char *ticket, const char *aad,
                        time_t now, long min_age, long max_age, char **data_out);

/* Login tickets: prefix "PVE", data = user id, window (-300, 7200). */
rg_err rg_login_ticket_create(EVP_PKEY *key, const char *userid, time_t now, char **out);
rg_err rg_login_ticket_verify(EVP_PKEY *pub, const char *ticket, time_t now, char **userid_out);

#endif
