/* web.h — realmgate-idp's HTTP surface: routing and the Entra ID v2.0 endpoints.
 * Owner: idp.
 *
 * Paths (below the issuer base's own path, {t} = tenant GUID or domain):
 *   GET      /{t}/v2.0/.well-known/openid-configuration   discovery (web.c)
 *   GET      /{t}/discovery/v2.0/keys                     JWKS (web.c)
 *   GET/POST /{t}/oauth2/v2.0/authorize                   authorize (authz.c)
 *   POST     /{t}/login                                   sign-in form target (authz.c)
 *   POST     /{t}/consent                                 consent page target (authz.c)
 *   POST     /{t}/users/{oid}/getMemberObjects            Graph-like group list (web.c)
 *   POST     /{t}/oauth2/v2.0/token                       token (token.c)
 *   GET/POST /{t}/oauth2/v2.0/logout                      end session (web.c)
 *   GET/POST /oidc/userinfo                               Graph-style UserInfo (web.c)
 * {t} may also be "organizations" or "common": discovery (template issuer
 * "<base>/{tenantid}/v2.0", tenant_region_scope null) and keys (every tenant's, each with the
 * template issuer) are served for them; the other endpoints resolve to the tenant that
 * registered the request's client_id (apps are single-tenant here).
 *
 * One handler call per request; it takes a snapshot reference for the whole call
 * (snap.h) and logs exactly one line with the outcome (never a password, secret, code
 * or token). Inputs are bounded: RG_IDP_WEB_MAX_BODY for bodies, RG_IDP_WEB_MAX_PARAMS
 * bytes over all parameters of a request, and per-parameter limits where they are read.
 *
 * The rg_idp_rq struct and the functions below the line are internal to web.c, authz.c and
 * token.c (one module split over three files). */
#ifndef RG_IDP_WEB_H
#define RG_IDP_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "http/server.h"
#include "idp/aad.h"
#include "idp/flow.h"
#include "idp/snap.h"
#include "idp/store.h"

#define RG_IDP_WEB_MAX_BODY (64 * 1024)
#define RG_IDP_WEB_MAX_PARAMS (16 * 1024)
#define RG_IDP_BASE_MAX 1024
#define RG_IDP_ACCESS_TTL 3599
#define RG_IDP_APP_TOKEN_TTL 86399
#define RG_IDP_REFRESH_TTL (90 * 24 * 3600)
#define RG_IDP_REFRESH_TTL_SPA (24 * 3600)
#define RG_IDP_SESSION_TTL (24 * 3600)
#define RG_IDP_SESSION_COOKIE "rgidp_session"

struct rg_idp_web {
    const struct rg_idp_store *store;
    struct rg_idp_snaps snaps;
    struct rg_idp_flow *flow;
    char base[RG_IDP_BASE_MAX + 1];      /* issuer base without trailing '/' */
    char base_path[RG_IDP_BASE_MAX + 1]; /* its path part ("" or "/prefix") */
    bool secure;                         /* base is https: cookies get Secure */
};

/* Checks the issuer base URL (http(s)://host[:port][/path], no query or fragment) and
 * writes it without a trailing '/' into out. */
rg_err rg_idp_base_check(const char *base, char out[RG_IDP_BASE_MAX + 1], struct rg_msg *msg);
rg_err rg_idp_web_init(struct rg_idp_web *w, const struct rg_idp_store *store, const char *base,
                       int64_t code_ttl, struct rg_msg *msg);
void rg_idp_web_destroy(struct rg_idp_web *w);
/* The rg_http_handler (ctx = struct rg_idp_web *). */
void rg_idp_web_handle(void *ctx, struct rg_http_request *req, struct rg_http_response *resp);

/* ---- internal ------------------------------------------------------------------------- */

struct rg_idp_rq {
    struct rg_idp_web *w;
    struct rg_http_request *http;
    struct rg_http_response *resp;
    struct rg_idp_snap *snap;
    struct rg_idp_tenant *tenant;  /* resolved from the path; NULL for /oidc/userinfo */
    const char *authority;         /* "common"/"organizations" for their discovery and keys */
    struct rg_idp_ids ids;
    int64_t now;
    char outcome[300];             /* for the log line */
};

void rg_idp_outcome(struct rg_idp_rq *rq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parameter from the body, else (unless body_only) from the query; NULL if absent. */
const char *rg_idp_param(const struct rg_idp_rq *rq, const char *name, bool body_only);
/* Name of the first of names[] given more than once, or NULL. */
const char *rg_idp_param_dup(const struct rg_idp_rq *rq, const char *const *names);
/* Error page with the request's ids. */
void rg_idp_error_page(struct rg_idp_rq *rq, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* JSON error with the request's ids. */
void rg_idp_error_json(struct rg_idp_rq *rq, int status, const char *error, int code,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* "<base>/<tid>/<rest>" into out. */
void rg_idp_url(const struct rg_idp_rq *rq, const char *rest, char *out, size_t outsz);
/* Session cookie header value for this tenant (value NULL clears the cookie). */
void rg_idp_session_cookie(const struct rg_idp_rq *rq, const char *value, char *out,
                           size_t outsz);

void rg_idp_authorize(struct rg_idp_rq *rq);
void rg_idp_login(struct rg_idp_rq *rq);
void rg_idp_consent(struct rg_idp_rq *rq);
void rg_idp_token(struct rg_idp_rq *rq);

#endif
