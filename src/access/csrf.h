/* csrf.h — the CSRFPreventionToken (spec §4.3).
 *
 * Secret: S = base64-without-padding (43 chars) of HMAC-SHA256(key = "", msg = contents of
 * pve-www.key). Token: `<8 upper hex TIME>:<base64-nopad HMAC-SHA256(key = S,
 * msg = "<TIME>:<userid>")>` (8 + 1 + 43 = 52 chars).
 *
 * Verification: exactly 8 chars [A-Z0-9] (and they must be hex: the time is parsed), ':',
 * exactly 43 base64 chars; the MAC is recomputed and compared in constant time; then
 * -300 < now - TIME < 7200. The legacy SHA-1 secret (27-char MACs) is not supported.
 * Errors: RG_ERR_INVALID (syntax), RG_ERR_AUTH (MAC mismatch or outside the window). The
 * secret is a secret: callers wipe it (rg_wipe) when done. */
#ifndef RG_ACCESS_CSRF_H
#define RG_ACCESS_CSRF_H

#include <stddef.h>
#include <time.h>

#include "base/err.h"

#define RG_CSRF_SECRET_LEN 43
#define RG_CSRF_TOKEN_LEN 52

rg_err rg_csrf_secret(const void *www_key, size_t len, char out[RG_CSRF_SECRET_LEN + 1]);
rg_err rg_csrf_token_create(const char *secret, const char *userid, time_t now,
                            char out[RG_CSRF_TOKEN_LEN + 1]);
rg_err rg_csrf_token_verify(const char *secret, const char *userid, const char *token,
                            time_t now);

#endif
