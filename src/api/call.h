/* call.h — one API request as the handlers see it, and the reply helpers.
 *
 * The router (router.c) authenticates the caller, acquires the configuration snapshot for
 * the whole request, and calls a handler with a struct rg_call. Handlers answer through
 * rg_reply_data / rg_reply_error, which produce Proxmox's envelopes:
 *   /api2/json/...  → {"data": ...}                  (errors: {"data":null,"message":...})
 *   /api2/extjs/... → {"success":1|0,"data":...,"message"?:...}
 * The snapshot is released by the router after the handler returns. */
#ifndef RG_API_CALL_H
#define RG_API_CALL_H

#include <jansson.h>

#include "access/ids.h"
#include "access/sessions.h"
#include "access/store.h"
#include "http/server.h"
#include "oidc/rp.h"
#include "api/ratelimit.h"

struct rg_api {
    const char *config_dir;
    struct rg_store *store;
    struct rg_oidc *oidc;
    struct rg_sessions *sessions;     /* sign-out state (access/sessions.h) */
    unsigned auth_failure_delay_ms;   /* every 401 leaves no earlier than this (Proxmox: 3 s) */
    struct rg_ratelimit *auth_url_limit; /* auth-url calls per client address and minute */
};

struct rg_call {
    struct rg_api *api;
    struct rg_http_request *req;
    struct rg_http_response *resp;
    int extjs;                        /* reply envelope style */
    const char *path;                 /* API path after /api2/<fmt>, e.g. "/access/ticket" */
    struct rg_params pathp;           /* values of the route's {name} segments */
    const struct rg_snapshot *snap;   /* configuration for this request */
    int authenticated;
    /* authenticated subject, "" if none: a user id, or the full token id "user@realm!name"
     * for an API-token request (then api_token is 1); permission checks use it as is */
    char userid[RG_UGID_MAX + 1];
    int api_token;
    time_t ticket_time;               /* TIME of the authenticating ticket */
};

/* Replies 200 with data (the reference is stolen; NULL means JSON null). */
void rg_reply_data(struct rg_call *c, json_t *data);
/* Replies with an HTTP error status and a message for the client. */
void rg_reply_error(struct rg_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The generic login failure: 401 "authentication failure" (the reason goes to the log only). */
void rg_reply_auth_failure(struct rg_call *c);

/* Value of a {name} segment of the matched route (e.g. "realm" for
 * "/access/domains/{realm}"), or NULL. */
const char *rg_call_pathp(const struct rg_call *c, const char *name);

/* Handlers (access_api.c, openid_api.c). */
void rg_h_domains(struct rg_call *c);
void rg_h_ticket_get(struct rg_call *c);
void rg_h_ticket_post(struct rg_call *c);
void rg_h_openid_index(struct rg_call *c);
void rg_h_openid_auth_url(struct rg_call *c);
void rg_h_openid_login(struct rg_call *c);
/* Sign-out (logout_api.c). */
void rg_h_logout(struct rg_call *c);
void rg_h_openid_frontchannel_logout(struct rg_call *c);

/* Realm management (domains_api.c). */
void rg_h_domains_create(struct rg_call *c);
void rg_h_domain_get(struct rg_call *c);
void rg_h_domain_update(struct rg_call *c);
void rg_h_domain_delete(struct rg_call *c);

/* API tokens (token_auth.c): authenticates "PVEAPIToken=<tokenid>=<secret>" (the header
 * value after "PVEAPIToken="); 0 = authenticated, -1 = replied 401. */
int rg_api_token_authenticate(struct rg_call *c, const char *value);
/* 1 (and replied 401) when the request carries an API token but its URI needs a ticket
 * (POST /access/ticket, PUT /access/password); else 0. */
int rg_api_token_refused(struct rg_call *c);

/* Access-control handlers (users_api.c, groups_api.c, acl_api.c). */
void rg_h_users_list(struct rg_call *c);
void rg_h_user_create(struct rg_call *c);
void rg_h_user_read(struct rg_call *c);
void rg_h_user_update(struct rg_call *c);
void rg_h_user_delete(struct rg_call *c);
void rg_h_tokens_list(struct rg_call *c);
void rg_h_token_read(struct rg_call *c);
void rg_h_token_create(struct rg_call *c);
void rg_h_token_update(struct rg_call *c);
void rg_h_token_delete(struct rg_call *c);
void rg_h_password_put(struct rg_call *c);
void rg_h_groups_list(struct rg_call *c);
void rg_h_group_create(struct rg_call *c);
void rg_h_group_read(struct rg_call *c);
void rg_h_group_update(struct rg_call *c);
void rg_h_group_delete(struct rg_call *c);
void rg_h_roles_list(struct rg_call *c);
void rg_h_role_create(struct rg_call *c);
void rg_h_role_read(struct rg_call *c);
void rg_h_role_update(struct rg_call *c);
void rg_h_role_delete(struct rg_call *c);
void rg_h_access_acl_get(struct rg_call *c);
void rg_h_access_acl_put(struct rg_call *c);
void rg_h_access_permissions(struct rg_call *c);

/* Routes every request (static GUI files and /api2/...). Thread-safe. */
void rg_api_handle(void *api, struct rg_http_request *req, struct rg_http_response *resp);

#endif
