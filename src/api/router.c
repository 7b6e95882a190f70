/* router.c — maps requests to GUI files and API handlers; authenticates API callers.
 *
 * Authentication (spec §4.4): the ticket comes from cookie PVEAuthCookie, else from the
 * header "Authorization: PVEAuthCookie=<ticket>". A valid ticket names a user that must still
 * exist, be enabled and not expired (checked on every request, so disabling a user ends their
 * sessions at once). Non-GET requests authenticated by ticket must carry a valid
 * CSRFPreventionToken header. Without a ticket, "Authorization: PVEAPIToken=..." is checked
 * by token_auth.c (no CSRF token needed); URIs that need a ticket refuse API tokens.
 * Failures are 401 with the reason in the log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/ticket.h"
#include "api/assets.h"
#include "api/call.h"
#include "base/log.h"
#include "base/mem.h"

struct route {
    const char *method;
    const char *path;
    void (*fn)(struct rg_call *c);
    int needs_auth;
    const char *const *params; /* accepted parameter names; NULL = not checked here */
};

/* Parameter schemas (Proxmox refuses parameters its schema does not define). */
static const char *const P_NONE[] = {NULL};
static const char *const P_TICKET[] = {"username", "realm", "password", "otp", "path", "privs",
                                       "new-format", "tfa-challenge", NULL};
static const char *const P_PERMISSIONS[] = {"userid", "path", NULL};
static const char *const P_ACL_PUT[] = {"path", "roles", "users", "groups", "tokens",
                                        "propagate", "delete", NULL};
static const char *const P_AUTH_URL[] = {"realm", "redirect-url", NULL};
static const char *const P_LOGIN[] = {"state", "code", "redirect-url", "iss", NULL};
static const char *const P_LOGOUT[] = {"redirect-url", NULL};
static const char *const P_DIGEST[] = {"digest", NULL};
static const char *const P_USERS_LIST[] = {"enabled", "full", NULL};
static const char *const P_TOKEN_CREATE[] = {"comment", "expire", "privsep", NULL};
static const char *const P_TOKEN_UPDATE[] = {"comment", "expire", "privsep", "regenerate", NULL};
static const char *const P_PASSWORD[] = {"userid", "password", "confirmation-password", NULL};
static const char *const P_GROUP_CREATE[] = {"groupid", "comment", NULL};
static const char *const P_GROUP_UPDATE[] = {"comment", NULL};
static const char *const P_ROLE_CREATE[] = {"roleid", "privs", NULL};
static const char *const P_ROLE_UPDATE[] = {"privs", "append", NULL};
static const char *const P_FRONTCHANNEL[] = {"sid", "iss", NULL};
static const char *const P_USER_CREATE[] = {"userid", "password", "enable", "expire",
                                            "firstname", "lastname", "email", "comment", "keys",
                                            "groups", NULL};
static const char *const P_USER_UPDATE[] = {"enable", "expire", "firstname", "lastname", "email",
                                            "comment", "keys", "groups", "append", NULL};

/* params NULL: the handler hands the whole parameter set to the access layer, which refuses
 * keys it does not know (realm options, which depend on the realm type). */
static const struct route routes[] = {
    {"GET", "/access/domains", rg_h_domains, 0, P_NONE},
    {"POST", "/access/domains", rg_h_domains_create, 1, NULL},
    {"GET", "/access/domains/{realm}", rg_h_domain_get, 1, P_NONE},
    {"PUT", "/access/domains/{realm}", rg_h_domain_update, 1, NULL},
    {"DELETE", "/access/domains/{realm}", rg_h_domain_delete, 1, P_DIGEST},
    {"GET", "/access/ticket", rg_h_ticket_get, 0, P_NONE},
    {"POST", "/access/ticket", rg_h_ticket_post, 0, P_TICKET},
    {"GET", "/access/permissions", rg_h_access_permissions, 1, P_PERMISSIONS},
    {"GET", "/access/acl", rg_h_access_acl_get, 1, P_NONE},
    {"PUT", "/access/acl", rg_h_access_acl_put, 1, P_ACL_PUT},
    {"GET", "/access/users", rg_h_users_list, 1, P_USERS_LIST},
    {"POST", "/access/users", rg_h_user_create, 1, P_USER_CREATE},
    {"GET", "/access/users/{userid}", rg_h_user_read, 1, P_NONE},
    {"PUT", "/access/users/{userid}", rg_h_user_update, 1, P_USER_UPDATE},
    {"DELETE", "/access/users/{userid}", rg_h_user_delete, 1, P_NONE},
    {"GET", "/access/users/{userid}/token", rg_h_tokens_list, 1, P_NONE},
    {"GET", "/access/users/{userid}/token/{tokenid}", rg_h_token_read, 1, P_NONE},
    {"POST", "/access/users/{userid}/token/{tokenid}", rg_h_token_create, 1, P_TOKEN_CREATE},
    {"PUT", "/access/users/{userid}/token/{tokenid}", rg_h_token_update, 1, P_TOKEN_UPDATE},
    {"DELETE", "/access/users/{userid}/token/{tokenid}", rg_h_token_delete, 1, P_NONE},
    {"PUT", "/access/password", rg_h_password_put, 1, P_PASSWORD},
    {"GET", "/access/groups", rg_h_groups_list, 1, P_NONE},
    {"POST", "/access/groups", rg_h_group_create, 1, P_GROUP_CREATE},
    {"GET", "/access/groups/{groupid}", rg_h_group_read, 1, P_NONE},
    {"PUT", "/access/groups/{groupid}", rg_h_group_update, 1, P_GROUP_UPDATE},
    {"DELETE", "/access/groups/{groupid}", rg_h_group_delete, 1, P_NONE},
    {"GET", "/access/roles", rg_h_roles_list, 1, P_NONE},
    {"POST", "/access/roles", rg_h_role_create, 1, P_ROLE_CREATE},
    {"GET", "/access/roles/{roleid}", rg_h_role_read, 1, P_NONE},
    {"PUT", "/access/roles/{roleid}", rg_h_role_update, 1, P_ROLE_UPDATE},
    {"DELETE", "/access/roles/{roleid}", rg_h_role_delete, 1, P_NONE},
    {"GET", "/access/openid", rg_h_openid_index, 1, P_NONE},
    {"POST", "/access/openid/auth-url", rg_h_openid_auth_url, 0, P_AUTH_URL},
    {"POST", "/access/openid/login", rg_h_openid_login, 0, P_LOGIN},
    {"POST", "/access/logout", rg_h_logout, 1, P_LOGOUT},
    {"GET", "/access/openid/frontchannel-logout", rg_h_openid_frontchannel_logout, 0, P_FRONTCHANNEL},
};

const char *rg_call_pathp(const struct rg_call *c, const char *name)
{
    return rg_params_get(&c->pathp, name);
}

/* Matches an API path against a route pattern whose segments may be "{name}" (one non-empty
 * segment). Captured values go to out. 1 = match. */
static int route_match(const char *pattern, const char *path, struct rg_params *out)
{
    while (*pattern && *path) {
        size_t plen, slen;
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        plen = strcspn(pattern, "/");
        slen = strcspn(path, "/");
        if (plen > 2 && pattern[0] == '{' && pattern[plen - 1] == '}') {
            char name[32], *val;
            if (slen == 0 || plen - 2 >= sizeof name)
                return 0;
            memcpy(name, pattern + 1, plen - 2);
            name[plen - 2] = '\0';
            val = strndup(path, slen);
            if (!val || rg_params_add(out, name, val)) {
                free(val);
                return 0;
            }
            free(val);
        } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
            return 0;
        }
        pattern += plen;
        path += slen;
    }
    return *pattern == '\0' && *path == '\0';
}

/* Refuses a parameter given twice (in the body, or in body and query: which one would win is
 * exactly the ambiguity an attacker uses) and, when the route has a schema, one it does not
 * define ("_dc" is ExtJS's cache buster). 0 = fine, else replied 400. */
static int check_params(struct rg_call *c, const char *const *allowed)
{
    const struct rg_params *sets[2] = {&c->req->query, &c->req->body};

    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sets[k]->n; i++) {
            const char *key = sets[k]->items[i].key;
            size_t n = rg_params_count(&c->req->query, key) + rg_params_count(&c->req->body, key);
            int known = !allowed || !strcmp(key, "_dc");
            char safe[160];

            for (size_t j = 0; allowed && allowed[j] && !known; j++)
                known = !strcmp(allowed[j], key);
            rg_log_sanitize(key, safe, sizeof safe);
            if (n > 1) {
                rg_reply_error(c, 400, "parameter verification failed: '%s': given more than once",
                               safe);
                return -1;
            }
            if (!known) {
                rg_reply_error(c, 400, "parameter verification failed: '%s': property is not "
                                       "defined in schema and the schema does not allow "
                                       "additional properties", safe);
                return -1;
            }
        }
    }
    return 0;
}

static void reply_json(struct rg_call *c, int status, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text) {
        rg_http_respond(c->resp, 500, "text/plain", "out of memory\n", 14);
    } else {
        rg_http_respond(c->resp, status, "application/json;charset=UTF-8", text, strlen(text));
        free(text);
    }
    json_decref(obj);
}

void rg_reply_data(struct rg_call *c, json_t *data)
{
    json_t *o = json_object();
    if (c->extjs)
        json_object_set_new(o, "success", json_integer(1));
    json_object_set_new(o, "data", data ? data : json_null());
    reply_json(c, 200, o);
}

void rg_reply_error(struct rg_call *c, int status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    json_t *o = json_object();

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (c->extjs)
        json_object_set_new(o, "success", json_integer(0));
    json_object_set_new(o, "data", json_null());
    json_object_set_new(o, "message", json_string(text));
    reply_json(c, status, o);
}

void rg_reply_auth_failure(struct rg_call *c)
{
    rg_reply_error(c, 401, "authentication failure");
}

/* Finds the ticket in the cookie or the Authorization header; malloc'd or NULL. */
static char *request_ticket(struct rg_http_request *req)
{
    const char *h;
    char *t = rg_http_cookie(req, "PVEAuthCookie");
    if (t)
        return t;
    h = rg_http_header(req, "Authorization");
    if (h && strncmp(h, "PVEAuthCookie=", 14) == 0 && strlen(h + 14) <= RG_TICKET_MAX) {
        char *out = NULL;
        if (rg_url_decode(h + 14, strlen(h + 14), 0, &out) == RG_OK)
            return out;
    }
    return NULL;
}

/* 0 = authenticated (c->userid set), else replied with 401. */
static int authenticate(struct rg_call *c)
{
    struct rg_msg msg = {{0}};
    char *ticket = request_ticket(c->req), *userid = NULL;
    time_t now = time(NULL);
    rg_err e;

    if (!ticket) {
        const char *h = rg_http_header(c->req, "Authorization");
        if (h && strncmp(h, "PVEAPIToken=", 12) == 0)
            return rg_api_token_authenticate(c, h + 12); /* no CSRF token for API tokens */
        rg_reply_error(c, 401, "No ticket");
        return -1;
    }
    e = rg_login_ticket_verify(c->snap->ticket_pub, ticket, now, &userid);
    if (!e)
        e = rg_ticket_time(ticket, &c->ticket_time);
    rg_free_secret(ticket);
    /* tickets are stateless: a signed-out one still verifies, the revocation list says no */
    if (!e && rg_sessions_revoked(c->api->sessions, userid, c->ticket_time)) {
        rg_info("request %s %s refused: ticket of '%s' was signed out; rhost=%s",
                c->req->method, c->req->path, userid, c->req->remote_ip);
        free(userid);
        rg_reply_error(c, 401, "authentication failure");
        return -1;
    }
    if (e) {
        rg_info("request %s %s refused: invalid ticket (%s); rhost=%s", c->req->method,
                c->req->path, rg_err_str(e), c->req->remote_ip);
        rg_reply_error(c, 401, "authentication failure");
        return -1;
    }
    e = rg_usercfg_check_user(&c->snap->users, userid, now, &msg);
    if (e) {
        rg_info("request %s %s refused: %s; rhost=%s", c->req->method, c->req->path, msg.text,
                c->req->remote_ip);
        free(userid);
        rg_reply_error(c, 401, "authentication failure");
        return -1;
    }
    snprintf(c->userid, sizeof c->userid, "%s", userid);
    free(userid);
    if (strcmp(c->req->method, "GET") != 0) {
        const char *tok = rg_http_header(c->req, "CSRFPreventionToken");
        if (!tok || rg_csrf_token_verify(c->snap->csrf_secret, c->userid, tok, now) != RG_OK) {
            rg_info("request %s %s by %s refused: invalid CSRF token; rhost=%s",
                    c->req->method, c->req->path, c->userid, c->req->remote_ip);
            rg_reply_error(c, 401, "Permission denied - invalid csrf token");
            return -1;
        }
    }
    c->authenticated = 1;
    return 0;
}

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (!strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (!strcmp(dot, ".png"))
        return "image/png";
    if (!strcmp(dot, ".ico"))
        return "image/x-icon";
    return "application/octet-stream";
}

static void serve_asset(struct rg_http_request *req, struct rg_http_response *resp)
{
    const char *path = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;

    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        rg_http_respond(resp, 405, "text/plain; charset=utf-8", "method not allowed\n", 19);
        return;
    }
    for (const struct rg_asset *a = rg_assets; a->path; a++) {
        if (strcmp(a->path, path) != 0)
            continue;
        rg_http_respond(resp, 200, mime_of(path), (const char *)a->data, a->len);
        /* the GUI loads nothing from elsewhere; the OpenID code in the address bar must not
         * leak through a Referer header */
        rg_http_add_header(resp, "Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'");
        rg_http_add_header(resp, "X-Frame-Options", "DENY");
        rg_http_add_header(resp, "Referrer-Policy", "no-referrer");
        return;
    }
    rg_http_respond(resp, 404, "text/plain; charset=utf-8", "not found\n", 10);
}

void rg_api_handle(void *ctx, struct rg_http_request *req, struct rg_http_response *resp)
{
    struct rg_api *api = ctx;
    struct rg_call c;
    const struct route *r = NULL;
    int path_known = 0;

    memset(&c, 0, sizeof c);
    c.api = api;
    c.req = req;
    c.resp = resp;
    if (strncmp(req->path, "/api2/json/", 11) == 0) {
        c.path = req->path + 10;
    } else if (strncmp(req->path, "/api2/extjs/", 12) == 0) {
        c.path = req->path + 11;
        c.extjs = 1;
    } else {
        serve_asset(req, resp);
        return;
    }
    rg_params_init(&c.pathp);
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        rg_params_free(&c.pathp);
        if (!route_match(routes[i].path, c.path, &c.pathp))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, req->method) == 0) {
            r = &routes[i];
            break;
        }
    }
    if (!r) {
        rg_params_free(&c.pathp);
        rg_reply_error(&c, path_known ? 405 : 501, "Method '%s %s' not implemented",
                       req->method, req->path);
        return;
    }
    if (check_params(&c, r->params)) {
        rg_params_free(&c.pathp);
        return;
    }
    c.snap = rg_store_acquire(api->store);
    if (!rg_api_token_refused(&c) && (!r->needs_auth || authenticate(&c) == 0))
        r->fn(&c);
    rg_store_release(c.snap);
    rg_params_free(&c.pathp);
    /* like Proxmox: a refused authentication answers late, without holding a worker */
    if (resp->status == 401)
        resp->min_latency_ms = api->auth_failure_delay_ms;
}
