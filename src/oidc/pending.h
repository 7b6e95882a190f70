/* pending.h — logins started (auth-url) but not finished yet, one file each, keyed by state.
 *
 * Directory: given by the caller (the server uses <configdir>/priv/openid), created 0700.
 * Because it lives in the shared configuration directory, any server process sharing it can
 * finish a login that another one started.
 * File: "<hex SHA-256 of state>.json", mode 0600, JSON {realm, nonce, pkce_verifier,
 * redirect_url, ctime}. The name is a hash so a directory listing does not reveal a usable
 * state, and so no byte of client input ever reaches a path.
 *
 * rg_pending_store: under an exclusive lock on "<dir>/.lock" (10 s), first removes expired
 * entries (ctime + RG_PENDING_TTL < now; the file mtime is set to ctime for that), then
 * refuses with RG_ERR_LIMIT "too many pending openid auth requests" when RG_PENDING_MAX are
 * pending, else draws a fresh state (32 random bytes, base64url, 43 chars) and writes the
 * file atomically.
 * rg_pending_take: checks the state's length and alphabet BEFORE building any path
 * (RG_ERR_INVALID), then claims the file by rename() to a unique name (atomic: of two
 * processes or threads taking the same state, exactly one succeeds; the other gets
 * RG_ERR_NOTFOUND "no openid auth state found (possible timeout)"), reads it and unlinks it.
 * The entry is used up even when it is expired (RG_ERR_AUTH) or the login fails later.
 *
 * Ownership: rg_pending_take fills *out with malloc'd members; rg_oidc_pending_clear wipes
 * and frees them. Errors besides the above: RG_ERR_IO (logged with errno), RG_ERR_BUSY (lock),
 * RG_ERR_CRYPTO (random generator), RG_ERR_NOMEM. */
#ifndef RG_OIDC_PENDING_H
#define RG_OIDC_PENDING_H

#include <time.h>

#include "base/err.h"

#define RG_PENDING_TTL 600
#define RG_PENDING_MAX 1000
#define RG_STATE_LEN 43
#define RG_PENDING_REALM_MAX 32

struct rg_oidc_pending {
    char realm[RG_PENDING_REALM_MAX + 1];
    char *nonce;
    char *pkce_verifier;
    char *redirect_url;
    char *browser;          /* NULL, or base64url SHA-256 of the browser-binding cookie that
                             * started the login (openid_api.c; login-CSRF defence) */
    time_t ctime;
};

/* Stores p (p->ctime is written as given) and returns the new state in state_out. */
rg_err rg_pending_store(const char *dir, const struct rg_oidc_pending *p, time_t now,
                        char state_out[RG_STATE_LEN + 1], struct rg_msg *msg);
rg_err rg_pending_take(const char *dir, const char *state, time_t now,
                       struct rg_oidc_pending *out, struct rg_msg *msg);
/* 1 when state is exactly RG_STATE_LEN base64url characters. */
int rg_pending_state_valid(const char *state);
/* Wipes and frees the members (p itself is the caller's). */
void rg_oidc_pending_clear(struct rg_oidc_pending *p);

#endif
