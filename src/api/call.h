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
#include "access/store.h"
#include "http/server.h"
#include "oidc/rp.h"

struct rg_api {
    const char *config_dir;
    struct rg_store *store;
    struct rg_oidc *oidc;
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
    char userid[RG_USERID_MAX + 1];   /* authenticated user, "" if none */
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
void rg_h_permissions(struct rg_call *c);
void rg_h_acl_get(struct rg_call *c);
void rg_h_acl_put(struct rg_call *c);
void rg_h_openid_index(struct rg_call *c);
void rg_h_openid_auth_url(struct rg_call *c);
void rg_h_openid_login(struct rg_call *c);

/* Routes every request (static GUI files and /api2/...). Thread-safe. */
void rg_api_handle(void *api, struct rg_http_request *req, struct rg_http_response *resp);

#endif
