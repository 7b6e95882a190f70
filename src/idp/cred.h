/* cred.h — user passwords and client secrets as realmgate-idp stores and checks them.
 * Owner: idp.
 *
 * Passwords: PBKDF2-HMAC-SHA256 with a 16-byte random salt, kept as the text
 *   "$pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>" so the cost can be raised
 *   later without invalidating old hashes. Verification compares in constant time.
 * Client secrets: generated in Entra's current 40-character format (3 chars, '8', "Q~",
 *   34 chars, all from [A-Za-z0-9_~.-]). Only SHA-256(salt || secret) is stored, with a
 *   16-byte salt per secret; a secret has 238 bits of entropy, so a slow hash buys nothing.
 *
 * Errors: RG_ERR_CRYPTO (random generator/OpenSSL), RG_ERR_NOMEM, RG_ERR_INVALID (a stored
 * hash that does not parse), RG_ERR_AUTH (password mismatch). Nothing here logs. */
#ifndef RG_IDP_CRED_H
#define RG_IDP_CRED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define RG_IDP_SECRET_LEN 40
#define RG_IDP_PBKDF2_ITER 210000
#define RG_IDP_PW_HASH_MAX 128

/* Writes a fresh secret (NUL-terminated) into out. */
rg_err rg_idp_secret_generate(char out[RG_IDP_SECRET_LEN + 1]);
/* SHA-256(salt || secret) into out. */
rg_err rg_idp_secret_digest(const char *secret, const unsigned char salt[16],
                            unsigned char out[32]);

/* New password hash string (malloc'd) for pw. */
rg_err rg_idp_password_hash(const char *pw, char **out);
/* RG_OK if pw matches stored, RG_ERR_AUTH if not, RG_ERR_INVALID if stored is malformed. */
rg_err rg_idp_password_verify(const char *pw, const char *stored);
/* Spends the time of one verification, so that an unknown user name answers as slowly
 * as a wrong password (no user enumeration by timing). */
void rg_idp_password_burn(const char *pw);
/* True if stored has the hash format above (checked when the state is loaded). */
bool rg_idp_password_hash_ok(const char *stored);

#endif
