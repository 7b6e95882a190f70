/* flow.h — short-lived, in-memory protocol state of `serve`: pending authorize requests,
 * authorization codes, access and refresh tokens, sign-in sessions and the per-account
 * failed-sign-in counter. Owner: idp.
 *
 * Every table is bounded (RG_IDP_FLOW_* below). Entries expire; a full table first drops
 * expired entries, then the oldest one, so a flood can cost a user a retry but never
 * memory. Tokens handed out are 32..48 random bytes (base64url); the tables keep only
 * SHA-256 of them, so a memory dump does not hold usable tokens. One mutex guards all
 * tables; every call copies data in and out (the caller owns what it gets and frees it
 * with rg_idp_grant_clear / rg_idp_authreq_clear).
 *
 * Nothing here survives a restart: an RP then sees invalid_grant for its refresh token and
 * signs the user in again, as after a revocation in Entra.
 *
 * Errors: RG_ERR_NOMEM, RG_ERR_CRYPTO (random generator), RG_ERR_NOTFOUND (unknown or
 * expired handle). */
#ifndef RG_IDP_FLOW_H
#define RG_IDP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "idp/check.h"

#define RG_IDP_FLOW_AUTHREQS 1024
#define RG_IDP_FLOW_CODES 1024
#define RG_IDP_FLOW_ACCESS 8192
#define RG_IDP_FLOW_REFRESH 8192
#define RG_IDP_FLOW_SESSIONS 4096
#define RG_IDP_FLOW_LOCKOUTS 4096

#define RG_IDP_SESSION_APPS 64
#define RG_IDP_AUTHREQ_TTL 600
#define RG_IDP_AUTHREQ_ATTEMPTS 10
#define RG_IDP_LOCKOUT_THRESHOLD 10
#define RG_IDP_LOCKOUT_SECONDS 60

/* What a code, an access token, a refresh token or a session stands for. */
struct rg_idp_grant {
    char tenant[RG_IDP_GUID_LEN + 1];
    char client_id[RG_IDP_GUID_LEN + 1];   /* "" for a session */
    char oid[RG_IDP_GUID_LEN + 1];         /* "" until the user signed in */
    char sid[RG_IDP_GUID_LEN + 1];         /* session id = session_state = ID token sid */
    char *redirect_uri;                    /* exactly as sent to /authorize */
    char *scopes;                          /* canonical list */
    char *nonce;                           /* NULL when none was sent */
    char *code_challenge;                  /* NULL without PKCE */
    char method[8];                        /* "plain" / "S256" with PKCE */
    int64_t auth_time;
    bool has_max_age;                      /* max_age was sent: auth_time goes in the token */
    int64_t max_age;
};

enum rg_idp_mode { RG_IDP_MODE_QUERY, RG_IDP_MODE_FRAGMENT, RG_IDP_MODE_FORM_POST };

struct rg_idp_authreq {
    struct rg_idp_grant g;
    char *state;                           /* NULL when none was sent */
    char *login_hint;                      /* NULL when none was sent */
    enum rg_idp_mode mode;
    bool force_consent;                    /* prompt=consent */
    bool want_code, want_id_token;         /* response_type */
};

enum rg_idp_redeem { RG_IDP_REDEEM_OK, RG_IDP_REDEEM_UNKNOWN, RG_IDP_REDEEM_USED,
                     RG_IDP_REDEEM_EXPIRED };

struct rg_idp_flow;

rg_err rg_idp_flow_new(int64_t code_ttl, struct rg_idp_flow **out);
void rg_idp_flow_free(struct rg_idp_flow *f);

void rg_idp_grant_clear(struct rg_idp_grant *g);
rg_err rg_idp_grant_copy(struct rg_idp_grant *dst, const struct rg_idp_grant *src);
void rg_idp_authreq_clear(struct rg_idp_authreq *r);

/* Pending authorize requests, referenced from the sign-in form by a random ctx. */
rg_err rg_idp_authreq_put(struct rg_idp_flow *f, const struct rg_idp_authreq *r, int64_t now,
                          char **ctx);
rg_err rg_idp_authreq_get(struct rg_idp_flow *f, const char *ctx, int64_t now,
                          struct rg_idp_authreq *out);
/* Counts a failed sign-in on ctx; returns the attempts left (0: the request is gone). */
int rg_idp_authreq_failed(struct rg_idp_flow *f, const char *ctx);
void rg_idp_authreq_drop(struct rg_idp_flow *f, const char *ctx);

/* Authorization codes: single use. Redeeming marks the code used whatever the caller then
 * decides; redeeming a used code revokes the tokens linked to it (RFC 6749 §4.1.2). */
rg_err rg_idp_code_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                       char **code);
enum rg_idp_redeem rg_idp_code_redeem(struct rg_idp_flow *f, const char *code, int64_t now,
                                      struct rg_idp_grant *out);
/* Remembers the tokens issued for a code (either may be NULL). */
void rg_idp_code_link(struct rg_idp_flow *f, const char *code, const char *access,
                      const char *refresh);
/* True if code has the shape of the codes we issue (for the "malformed" error). */
bool rg_idp_code_wellformed(const char *code);

rg_err rg_idp_access_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                         int64_t ttl, char **token);
rg_err rg_idp_access_get(struct rg_idp_flow *f, const char *token, int64_t now,
                         struct rg_idp_grant *out);

/* Refresh tokens are not revoked when redeemed (Entra keeps the old one valid). */
rg_err rg_idp_refresh_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                          int64_t ttl, char **token);
enum rg_idp_redeem rg_idp_refresh_redeem(struct rg_idp_flow *f, const char *token,
                                         int64_t now, struct rg_idp_grant *out);
/* Revokes every access and refresh token of a user in a tenant (not used by a code). */
void rg_idp_revoke_user(struct rg_idp_flow *f, const char *tenant, const char *oid);

/* Sign-in sessions behind the IdP's session cookie. */
rg_err rg_idp_session_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                          int64_t ttl, char **cookie);
rg_err rg_idp_session_get(struct rg_idp_flow *f, const char *cookie, int64_t now,
                          struct rg_idp_grant *out);
void rg_idp_session_drop(struct rg_idp_flow *f, const char *cookie);
/* Records that client_id got a code through the session (for front-channel logout); at
 * most RG_IDP_SESSION_APPS apps per session (RG_ERR_LIMIT beyond). */
rg_err rg_idp_session_add_app(struct rg_idp_flow *f, const char *cookie, const char *client_id);
/* The session's apps as a malloc'd space-separated list ("" if none), NULL if no session. */
char *rg_idp_session_apps(struct rg_idp_flow *f, const char *cookie);

/* Smart-lockout: after RG_IDP_LOCKOUT_THRESHOLD failures the account (tenant + UPN,
 * case-insensitive; unknown names too, so lockout does not reveal which exist) is locked
 * for RG_IDP_LOCKOUT_SECONDS. */
bool rg_idp_lockout_active(struct rg_idp_flow *f, const char *tenant, const char *upn,
                           int64_t now);
void rg_idp_lockout_fail(struct rg_idp_flow *f, const char *tenant, const char *upn,
                         int64_t now);
void rg_idp_lockout_clear(struct rg_idp_flow *f, const char *tenant, const char *upn);

#endif
