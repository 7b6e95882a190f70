/* idtoken.h — ID token claim checks (OIDC Core §3.1.3.7), pure and without network.
 *
 * The signature is checked elsewhere (jose/jws.h); this module only judges the claims of an
 * already verified token against what the relying party expects:
 *   iss    string, byte-for-byte equal to expect->issuer;
 *   aud    string or non-empty array of strings; must contain client_id, and every other
 *          value must be client_id or listed in expect->audiences (untrusted extra audiences
 *          are refused, Core §3.1.3.7 item 3);
 *   azp    if present: a string equal to client_id;
 *   exp    required number (NumericDate; fractions allowed), now < exp + leeway;
 *   nbf    if present a number, now >= nbf - leeway;
 *   iat    required number, iat <= now + leeway; with max_iat_age > 0 also
 *          iat >= now - max_iat_age - leeway;
 *   sub    required string, 1..255 printable ASCII characters (Core §2);
 *   nonce  required string equal to expect->nonce (constant-time compare).
 * Entra back-dates iat/nbf by 300 s; that lies in the past and passes.
 *
 * Errors: every failure is RG_ERR_AUTH with msg naming the check and the values compared,
 * e.g. "iss mismatch: expected 'X', got 'Y'" (token values are cut to 128 characters and
 * control characters replaced). Nonce values are never written into messages: a nonce is
 * a one-time secret of the login. RG_ERR_INVALID for a NULL claims object or expectation. */
#ifndef RG_OIDC_IDTOKEN_H
#define RG_OIDC_IDTOKEN_H

#include <jansson.h>
#include <time.h>

#include "base/err.h"

#define RG_IDTOKEN_LEEWAY_DEFAULT 120
#define RG_IDTOKEN_SUB_MAX 255

struct rg_idtoken_expect {
    const char *issuer;
    const char *client_id;
    const char *const *audiences; /* NULL-terminated extra accepted aud values; may be NULL */
    const char *nonce;
    time_t now;
    int leeway;                   /* seconds of clock skew allowed; < 0 means the default */
    long max_iat_age;             /* 0 = iat age not limited; else seconds */
};

rg_err rg_idtoken_check(const json_t *claims, const struct rg_idtoken_expect *x,
                        struct rg_msg *msg);

#endif
