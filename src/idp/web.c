#include "idp/web.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "idp/claims.h"
#include "idp/faults.h"
#include "idp/page.h"
#include "jose/jwk.h"
#include "jose/jws.h"

/* ---- setup ------------------------------------------------------------------------------ */

rg_err rg_idp_base_check(const char *base, char out[RG_IDP_BASE_MAX + 1], struct rg_msg *msg)
{
    const char *host;
    size_t len;

    if (!base || strlen(base) > RG_IDP_BASE_MAX)
        return rg_fail(msg, RG_ERR_INVALID, "issuer base URL missing or longer than %d",
                       RG_IDP_BASE_MAX);
    if (strncmp(base, "https://", 8) == 0)
        host = base + 8;
    else if (strncmp(base, "http://", 7) == 0)
        host = base + 7;
    else
        return rg_fail(msg, RG_ERR_INVALID, "issuer base '%s' must start with http:// or https://",
                       base);
    if (!*host || *host == '/')
        return rg_fail(msg, RG_ERR_INVALID, "issuer base '%s' has no host", base);
    for (const char *c = base; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || strchr("?#\"<>\\@", *c))
            return rg_fail(msg, RG_ERR_INVALID,
                           "issuer base '%s' must not contain spaces, '?', '#', '@' or quotes",
                           base);
    len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        len--;
    memcpy(out, base, len);
    out[len] = '\0';
    return RG_OK;
}

rg_err rg_idp_web_init(struct rg_idp_web *w, const struct rg_idp_store *store, const char *base,
                       int64_t code_ttl, struct rg_msg *msg)
{
    const char *path;
    rg_err e;

    memset(w, 0, sizeof *w);
    w->store = store;
    if ((e = rg_idp_base_check(base, w->base, msg)))
        return e;
    w->secure = strncmp(w->base, "https://", 8) == 0;
    path = strchr(w->base + (w->secure ? 8 : 7), '/');
    snprintf(w->base_path, sizeof w->base_path, "%s", path ? path : "");
    if (rg_idp_flow_new(code_ttl, &w->flow))
        return rg_fail(msg, RG_ERR_NOMEM, "cannot allocate the protocol tables");
    e = rg_idp_snaps_init(&w->snaps, store, w->base, msg);
    if (e) {
        rg_idp_flow_free(w->flow);
        w->flow = NULL;
    }
    return e;
}

void rg_idp_web_destroy(struct rg_idp_web *w)
{
    rg_idp_snaps_destroy(&w->snaps);
    rg_idp_flow_free(w->flow);
    w->flow = NULL;
}

/* ---- helpers shared with authz.c and token.c -------------------------------------------- */

void rg_idp_outcome(struct rg_idp_rq *rq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rq->outcome, sizeof rq->outcome, fmt, ap);
    va_end(ap);
}

const char *rg_idp_param(const struct rg_idp_rq *rq, const char *name, bool body_only)
{
    const char *v = rg_params_get(&rq->http->body, name);
    if (!v && !body_only)
        v = rg_params_get(&rq->http->query, name);
    return v;
}

const char *rg_idp_param_dup(const struct rg_idp_rq *rq, const char *const *names)
{
    for (; *names; names++)
        if (rg_params_count(&rq->http->body, *names) + rg_params_count(&rq->http->query, *names) >
            1)
            return *names;
    return NULL;
}

void rg_idp_error_page(struct rg_idp_rq *rq, int status, int code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (rg_idp_page_error(rq->resp, status, rq->tenant ? rq->tenant->name : NULL, code, text,
                          &rq->ids))
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    if (!rq->outcome[0])
        rg_idp_outcome(rq, "error page AADSTS%d", code);
}

void rg_idp_error_json(struct rg_idp_rq *rq, int status, const char *error, int code,
                       const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (rg_idp_json_error(rq->resp, status, error, code, text, &rq->ids))
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    if (!rq->outcome[0])
        rg_idp_outcome(rq, "%s AADSTS%d", error, code);
}

void rg_idp_url(const struct rg_idp_rq *rq, const char *rest, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s/%s", rq->w->base,
             rq->authority ? rq->authority : rq->tenant ? rq->tenant->id : "common", rest);
}

void rg_idp_session_cookie(const struct rg_idp_rq *rq, const char *value, char *out,
                           size_t outsz)
{
    /* per-tenant path: the cookie goes only to that tenant's endpoints; no Max-Age, so it
     * lives as long as the browser session (as Entra's ESTSAUTH does) */
    snprintf(out, outsz, "%s=%s; Path=%s/%s/; HttpOnly; SameSite=Lax%s%s",
             RG_IDP_SESSION_COOKIE, value ? value : "", rq->w->base_path, rq->tenant->id,
             rq->w->secure ? "; Secure" : "", value ? "" : "; Max-Age=0");
}

static void respond_json(struct rg_idp_rq *rq, int status, json_t *o, bool cors)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!text || rg_http_respond(rq->resp, status, "application/json; charset=utf-8", text,
                                 strlen(text))) {
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    } else if (cors) {
        rg_http_add_header(rq->resp, "Access-Control-Allow-Origin", "*");
        rg_http_add_header(rq->resp, "Access-Control-Allow-Methods", "GET, OPTIONS");
    }
    free(text);
}

/* ---- discovery and keys ----------------------------------------------------------------- */

static json_t *str_array(const char *const *v)
{
    json_t *a = json_array();
    for (; a && *v; v++)
        if (json_array_append_new(a, json_string(*v))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Field set and order of Entra's tenant-specific v2.0 document (spec §1.2). */
static void discovery(struct rg_idp_rq *rq)
{
    static const char *const auth_methods[] = {"client_secret_post", "private_key_jwt",
                                               "client_secret_basic", NULL};
    static const char *const modes[] = {"query", "fragment", "form_post", NULL};
    static const char *const subj[] = {"pairwise", NULL};
    static const char *const algs[] = {"RS256", NULL};
    static const char *const rtypes[] = {"code", "id_token", "code id_token", "id_token token",
                                         NULL};
    static const char *const scopes[] = {"openid", "profile", "email", "offline_access", NULL};
    static const char *const claims[] = {
        "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
        "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
        "name", "tid", "ver", "at_hash", "c_hash", "email", NULL};
    char token[2300], jwks[2300], issuer[2300], userinfo[2300], authz[2300], device[2300],
        logout[2300], kerberos[2300];
    json_t *o = json_object();
    int bad;

    rg_idp_url(rq, "oauth2/v2.0/token", token, sizeof token);
    rg_idp_url(rq, "discovery/v2.0/keys", jwks, sizeof jwks);
    if (rq->authority) /* multi-tenant: Entra's literal template, substituted with tid */
        snprintf(issuer, sizeof issuer, "%s/{tenantid}/v2.0", rq->w->base);
    else
        rg_idp_url(rq, "v2.0", issuer, sizeof issuer);
    snprintf(userinfo, sizeof userinfo, "%s/oidc/userinfo", rq->w->base);
    rg_idp_url(rq, "oauth2/v2.0/authorize", authz, sizeof authz);
    rg_idp_url(rq, "oauth2/v2.0/devicecode", device, sizeof device);
    rg_idp_url(rq, "oauth2/v2.0/logout", logout, sizeof logout);
    rg_idp_url(rq, "kerberos", kerberos, sizeof kerberos);
    bad = !o || json_object_set_new(o, "token_endpoint", json_string(token)) ||
          json_object_set_new(o, "token_endpoint_auth_methods_supported",
                              str_array(auth_methods)) ||
          json_object_set_new(o, "jwks_uri", json_string(jwks)) ||
          json_object_set_new(o, "response_modes_supported", str_array(modes)) ||
          json_object_set_new(o, "subject_types_supported", str_array(subj)) ||
          json_object_set_new(o, "id_token_signing_alg_values_supported", str_array(algs)) ||
          json_object_set_new(o, "response_types_supported", str_array(rtypes)) ||
          json_object_set_new(o, "scopes_supported", str_array(scopes)) ||
          json_object_set_new(o, "issuer", json_string(issuer)) ||
          json_object_set_new(o, "request_uri_parameter_supported", json_false()) ||
          json_object_set_new(o, "userinfo_endpoint", json_string(userinfo)) ||
          json_object_set_new(o, "authorization_endpoint", json_string(authz)) ||
          json_object_set_new(o, "device_authorization_endpoint", json_string(device)) ||
          json_object_set_new(o, "http_logout_supported", json_true()) ||
          json_object_set_new(o, "frontchannel_logout_supported", json_true()) ||
          json_object_set_new(o, "end_session_endpoint", json_string(logout)) ||
          json_object_set_new(o, "claims_supported", str_array(claims)) ||
          json_object_set_new(o, "kerberos_endpoint", json_string(kerberos)) ||
          json_object_set_new(o, "tenant_region_scope",
                              rq->authority ? json_null() : json_string("WW")) ||
          json_object_set_new(o, "cloud_instance_name", json_string("microsoftonline.com")) ||
          json_object_set_new(o, "cloud_graph_host_name", json_string("graph.windows.net")) ||
          json_object_set_new(o, "msgraph_host", json_string("graph.microsoft.com")) ||
          json_object_set_new(o, "rbac_url", json_string("https://pas.windows.net"));
    rg_idp_faults_count(RG_IDP_FAULT_DISCOVERY);
    if (!bad)
        rg_idp_faults_discovery(o); /* test-only; no-op without --test-faults */
    respond_json(rq, 200, bad ? NULL : o, true);
    if (!bad)
        rg_http_add_header(rq->resp, "Cache-Control", "max-age=86400, private");
    json_decref(o);
    rg_idp_outcome(rq, "discovery");
}

/* Keys of every tenant, each with the template issuer (Entra's tenant-independent set). */
static char *common_jwks(const struct rg_idp_rq *rq)
{
    char issuer[2300], *text = NULL;
    json_t *all = json_array(), *doc = NULL;

    snprintf(issuer, sizeof issuer, "%s/{tenantid}/v2.0", rq->w->base);
    for (size_t i = 0; all && i < rq->snap->st.n_tenants; i++) {
        const char *t = rg_idp_snap_jwks(rq->snap, &rq->snap->st.tenants[i]);
        json_t *d = t ? json_loads(t, 0, NULL) : NULL, *k;
        size_t j;
        json_array_foreach(json_object_get(d, "keys"), j, k) {
            json_object_set_new(k, "issuer", json_string(issuer));
            json_array_append(all, k);
        }
        json_decref(d);
    }
    if (all && (doc = json_pack("{s:O}", "keys", all)) != NULL)
        text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    json_decref(all);
    return text;
}

static void keys(struct rg_idp_rq *rq)
{
    char *multi = rq->authority ? common_jwks(rq) : NULL;
    const char *doc = rq->authority ? multi : rg_idp_snap_jwks(rq->snap, rq->tenant);

    rg_idp_faults_count(RG_IDP_FAULT_JWKS);
    if (doc && !rq->authority && rg_idp_faults_jwks(rq, doc)) { /* test-only */
        free(multi);
        return;
    }
    if (!doc || rg_http_respond(rq->resp, 200, "application/json; charset=utf-8", doc,
                                strlen(doc))) {
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
        free(multi);
        return;
    }
    free(multi);
    rg_http_add_header(rq->resp, "Access-Control-Allow-Origin", "*");
    rg_http_add_header(rq->resp, "Access-Control-Allow-Methods", "GET, OPTIONS");
    rg_http_add_header(rq->resp, "Cache-Control", "max-age=86400, private");
    rg_idp_outcome(rq, "keys");
}

/* ---- userinfo --------------------------------------------------------------------------- */

/* Microsoft Graph's 401: a JSON error object and a Bearer challenge. */
static void userinfo_refuse(struct rg_idp_rq *rq, const char *message, bool token_given)
{
    char challenge[2600], date[32];
    json_t *o;
    time_t now = (time_t)rq->now;
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    o = json_pack("{s:{s:s,s:s,s:{s:s,s:s,s:s}}}", "error", "code",
                  "InvalidAuthenticationToken", "message", message, "innerError", "date", date,
                  "request-id", rq->ids.trace, "client-request-id", rq->ids.corr);
    respond_json(rq, 401, o, false);
    json_decref(o);
    snprintf(challenge, sizeof challenge,
             "Bearer realm=\"\", authorization_uri=\"%s/common/oauth2/authorize\", "
             "client_id=\"00000003-0000-0000-c000-000000000000\"%s",
             rq->w->base, token_given ? ", error=\"invalid_token\"" : "");
    rg_http_add_header(rq->resp, "WWW-Authenticate", challenge);
    rg_idp_outcome(rq, "userinfo refused: %s", message);
}

static void userinfo(struct rg_idp_rq *rq)
{
    const char *auth = rg_http_header(rq->http, "Authorization");
    struct rg_idp_grant g;
    const struct rg_idp_tenant *t;
    const struct rg_idp_user *u;
    json_t *o;

    if (strcmp(rq->http->method, "GET") && strcmp(rq->http->method, "POST")) {
        rg_http_respond(rq->resp, 405, "text/plain; charset=utf-8", "method not allowed\n", 19);
        rg_http_add_header(rq->resp, "Allow", "GET, POST");
        return;
    }
    rg_idp_faults_count(RG_IDP_FAULT_USERINFO);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        userinfo_refuse(rq, "Access token is empty.", false);
        return;
    }
    if (strlen(auth + 7) > 512 || rg_idp_access_get(rq->w->flow, auth + 7, rq->now, &g)) {
        userinfo_refuse(rq, "Access token validation failure. Invalid audience.", true);
        return;
    }
    t = rg_idp_tenant_find(&rq->snap->st, g.tenant);
    u = t ? rg_idp_user_find_oid(t, g.oid) : NULL;
    if (!u || !u->enabled) {
        rg_idp_grant_clear(&g);
        userinfo_refuse(rq, "Access token validation failure. The user is no longer valid.",
                        true);
        return;
    }
    o = rg_idp_userinfo_claims(&g, u);
    if (o) { /* test-only faults; no-op without --test-faults */
        const char *kid = NULL;
        EVP_PKEY *key = rg_idp_snap_signer(rq->snap, t, &kid);
        if (rg_idp_faults_userinfo(rq, o, key, kid)) {
            json_decref(o);
            rg_idp_grant_clear(&g);
            return;
        }
    }
    respond_json(rq, 200, o, false);
    if (o)
        rg_http_add_header(rq->resp, "Access-Control-Allow-Origin", "*");
    json_decref(o);
    rg_idp_outcome(rq, "userinfo for %s (tenant %s)", u->upn, g.tenant);
    rg_idp_grant_clear(&g);
}

/* ---- Graph-like group membership (the overage endpoint) ------------------------------- */

/* POST /{t}/users/{oid}/getMemberObjects with the bearer token of a sign-in to this tenant,
 * body {"securityEnabledOnly":bool} (form or JSON): {"value":[group ids]}. Like Graph, a
 * delegated token may read its own user's memberships; nothing else. */
static void member_objects(struct rg_idp_rq *rq, const char *rest)
{
    const char *auth = rg_http_header(rq->http, "Authorization");
    const char *sec = rg_http_param(rq->http, "securityEnabledOnly");
    char oid[RG_IDP_GUID_LEN + 1];
    struct rg_idp_grant g;
    const struct rg_idp_user *u;
    json_t *o = NULL, *arr;
    bool sec_only;

    memset(&g, 0, sizeof g);
    if (strlen(rest) != RG_IDP_GUID_LEN + strlen("/getMemberObjects") ||
        strcmp(rest + RG_IDP_GUID_LEN, "/getMemberObjects") != 0) {
        rg_http_respond(rq->resp, 404, "text/plain; charset=utf-8", "not found\n", 10);
        rg_idp_outcome(rq, "not found");
        return;
    }
    snprintf(oid, sizeof oid, "%.*s", RG_IDP_GUID_LEN, rest);
    if (strcmp(rq->http->method, "POST") != 0) {
        rg_http_respond(rq->resp, 405, "text/plain; charset=utf-8", "method not allowed\n", 19);
        rg_http_add_header(rq->resp, "Allow", "POST");
        return;
    }
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        userinfo_refuse(rq, "Access token is empty.", false);
        return;
    }
    if (strlen(auth + 7) > 512 || rg_idp_access_get(rq->w->flow, auth + 7, rq->now, &g) ||
        strcmp(g.tenant, rq->tenant->id) != 0) {
        rg_idp_grant_clear(&g);
        userinfo_refuse(rq, "Access token validation failure. Invalid audience.", true);
        return;
    }
    if (!rg_idp_ieq(g.oid, oid) || !(u = rg_idp_user_find_oid(rq->tenant, oid))) {
        rg_idp_grant_clear(&g);
        o = json_pack("{s:{s:s,s:s}}", "error", "code", "Authorization_RequestDenied",
                      "message", "Insufficient privileges to complete the operation.");
        respond_json(rq, 403, o, false);
        json_decref(o);
        rg_idp_outcome(rq, "getMemberObjects refused: not the token's own user");
        return;
    }
    sec_only = sec && (strcmp(sec, "true") == 0 || strcmp(sec, "1") == 0);
    if (!sec && rq->http->body_len) { /* a JSON boolean is not a string parameter */
        json_t *b = json_loads(rq->http->body_raw, 0, NULL);
        sec_only = json_is_true(json_object_get(b, "securityEnabledOnly"));
        json_decref(b);
    }
    arr = json_array();
    for (size_t i = 0; arr && i < rq->tenant->n_groups; i++) {
        const struct rg_idp_group *gr = &rq->tenant->groups[i];
        if (rg_idp_group_has(gr, u->oid) && (!sec_only || gr->security))
            json_array_append_new(arr, json_string(gr->id));
    }
    o = arr ? json_pack("{s:o}", "value", arr) : NULL;
    respond_json(rq, 200, o, false);
    json_decref(o);
    rg_idp_outcome(rq, "getMemberObjects for %s", u->upn);
    rg_idp_grant_clear(&g);
}

/* ---- logout ----------------------------------------------------------------------------- */

/* The app named by an id_token_hint: only a token we signed counts (expiry is irrelevant
 * for a hint). Writes its aud into out, or leaves out empty. */
static void hint_app(struct rg_idp_rq *rq, const char *hint, char out[RG_IDP_GUID_LEN + 1])
{
    static const char *const algs[] = {"RS256", NULL};
    const char *doc = rg_idp_snap_jwks(rq->snap, rq->tenant);
    struct rg_jwks set;
    struct rg_jws jws;
    const char *aud;

    out[0] = '\0';
    memset(&set, 0, sizeof set);
    memset(&jws, 0, sizeof jws);
    if (!hint || !doc || strlen(hint) > RG_JWS_MAX_LEN ||
        rg_jws_parse(hint, strlen(hint), &jws, NULL))
        return;
    if (rg_jwks_parse(doc, strlen(doc), &set, NULL) == RG_OK &&
        rg_jws_verify(&jws, &set, algs, NULL, NULL) == RG_OK) {
        aud = json_string_value(json_object_get(jws.payload, "aud"));
        if (aud && rg_idp_is_guid(aud))
            rg_idp_guid_norm(aud, out);
    }
    rg_jwks_free(&set);
    rg_jws_free(&jws);
}

static bool uri_registered(const struct rg_idp_tenant *t, const char *client_id,
                           const char *uri)
{
    for (size_t i = 0; i < t->n_apps; i++) {
        const struct rg_idp_app *a = &t->apps[i];
        if (client_id && !rg_idp_ieq(a->client_id, client_id))
            continue;
        for (size_t j = 0; j < a->n_redirect; j++)
            if (rg_idp_redirect_match(a->redirect_uris[j], uri))
                return true;
    }
    return false;
}

/* Front-channel logout (§1.12): each app the session signed in to that registered a logout
 * URL gets it loaded with ?sid=<session id> (no iss, as Entra). */
struct fcl {
    char *urls[RG_IDP_SESSION_APPS];
    size_t n;
};

static void fcl_free(struct fcl *fc)
{
    for (size_t i = 0; i < fc->n; i++)
        free(fc->urls[i]);
    fc->n = 0;
}

static void frontchannel_urls(struct rg_idp_rq *rq, const char *cookie, struct fcl *fc)
{
    struct rg_idp_grant sess;
    char *apps = NULL;

    if (rg_idp_session_get(rq->w->flow, cookie, rq->now, &sess) != RG_OK)
        return;
    if (strcmp(sess.tenant, rq->tenant->id) == 0 &&
        (apps = rg_idp_session_apps(rq->w->flow, cookie)) != NULL) {
        for (char *p = apps; *p && fc->n < RG_IDP_SESSION_APPS;) {
            size_t n = strcspn(p, " ");
            char id[RG_IDP_GUID_LEN + 1];
            const struct rg_idp_app *a;
            snprintf(id, sizeof id, "%.*s", (int)n, p);
            a = rg_idp_app_find(rq->tenant, id);
            if (a && a->front_channel_logout_url &&
                asprintf(&fc->urls[fc->n], "%s%csid=%s", a->front_channel_logout_url,
                         strchr(a->front_channel_logout_url, '?') ? '&' : '?', sess.sid) > 0)
                fc->n++;
            p += n;
            while (*p == ' ')
                p++;
        }
    }
    free(apps);
    rg_idp_grant_clear(&sess);
}

/* logout_hint (the opaque login_hint claim, or a sign-in name) picks the account to sign
 * out without an account picker; true if it is absent or names the session's user. */
static bool hint_is_session_user(struct rg_idp_rq *rq, const char *cookie, const char *hint)
{
    struct rg_idp_grant sess;
    const struct rg_idp_user *su, *hu = NULL;
    char oid[RG_IDP_GUID_LEN + 1];
    bool same;

    if (!hint || !*hint)
        return true;
    if (rg_idp_session_get(rq->w->flow, cookie, rq->now, &sess) != RG_OK)
        return true; /* no live session: clearing the cookie is all there is to do */
    su = rg_idp_user_find_oid(rq->tenant, sess.oid);
    if (strlen(hint) <= 256) {
        if (rg_idp_login_hint_oid(hint, rq->tenant->id, oid))
            hu = rg_idp_user_find_oid(rq->tenant, oid);
        else
            hu = rg_idp_user_find_login(rq->tenant, hint);
    }
    same = su && hu == su;
    rg_idp_grant_clear(&sess);
    return same;
}

static void set_cookie_if(struct rg_idp_rq *rq, const char *hdr)
{
    if (hdr[0])
        rg_http_add_header(rq->resp, "Set-Cookie", hdr);
}

static void logout(struct rg_idp_rq *rq)
{
    static const char *const known[] = {"post_logout_redirect_uri", "client_id", "state",
                                        "id_token_hint", "logout_hint", NULL};
    const char *uri = rg_idp_param(rq, "post_logout_redirect_uri", false);
    const char *client = rg_idp_param(rq, "client_id", false);
    const char *state = rg_idp_param(rq, "state", false);
    const char *dup = rg_idp_param_dup(rq, known);
    char app[RG_IDP_GUID_LEN + 1] = "", cookie_hdr[2300];
    char *cookie = rg_http_cookie(rq->http, RG_IDP_SESSION_COOKIE);
    const char *note = NULL;
    struct rg_buf loc;
    struct fcl fc;

    if (strcmp(rq->http->method, "GET") && strcmp(rq->http->method, "POST")) {
        rg_idp_error_page(rq, 405, 900561, "The endpoint only accepts GET and POST requests.");
        free(cookie);
        return;
    }
    memset(&fc, 0, sizeof fc);
    if (cookie && hint_is_session_user(rq, cookie, rg_idp_param(rq, "logout_hint", false))) {
        frontchannel_urls(rq, cookie, &fc);
        rg_idp_session_drop(rq->w->flow, cookie);
        rg_idp_session_cookie(rq, NULL, cookie_hdr, sizeof cookie_hdr);
    } else if (cookie) {
        /* logout_hint names an account that is not this browser's: nothing to end here */
        cookie_hdr[0] = '\0';
    } else {
        rg_idp_session_cookie(rq, NULL, cookie_hdr, sizeof cookie_hdr);
    }
    rg_free_secret(cookie);
    if (dup) {
        rg_idp_error_page(rq, 400, 9002313,
                          "Invalid request. Request is malformed or invalid: parameter '%s' "
                          "is repeated.",
                          dup);
        set_cookie_if(rq, cookie_hdr);
        fcl_free(&fc);
        return;
    }
    if (client && rg_idp_guid_norm(client, app))
        app[0] = '\0';
    if (!app[0])
        hint_app(rq, rg_idp_param(rq, "id_token_hint", false), app);
    if (state && strlen(state) > 2048)
        state = NULL;
    if (uri && rg_idp_check_redirect_uri(uri, NULL) == RG_OK &&
        uri_registered(rq->tenant, app[0] ? app : NULL, uri)) {
        rg_buf_init(&loc, 4096);
        if (!rg_buf_appends(&loc, uri) &&
            (!state || (!rg_buf_appends(&loc, strchr(uri, '?') ? "&state=" : "?state=") &&
                        !rg_url_encode(&loc, state)))) {
            if (fc.n) { /* the apps' logout URLs load first, then the page moves on */
                if (rg_idp_page_frontchannel(rq->resp, rq->tenant->name,
                                             (const char *const *)fc.urls, fc.n, loc.data))
                    rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8",
                                    "internal error\n", 15);
                set_cookie_if(rq, cookie_hdr);
                rg_idp_outcome(rq, "signed out, %zu front-channel logout call(s), then "
                                   "post_logout_redirect_uri", fc.n);
                rg_buf_free(&loc);
                fcl_free(&fc);
                return;
            }
            rg_http_respond(rq->resp, 302, "text/plain; charset=utf-8", "", 0);
            rg_http_add_header(rq->resp, "Location", loc.data);
            set_cookie_if(rq, cookie_hdr);
            rg_idp_outcome(rq, "signed out, redirect to post_logout_redirect_uri");
            rg_buf_free(&loc);
            fcl_free(&fc);
            return;
        }
        rg_buf_free(&loc);
    } else if (uri) {
        note = "The post_logout_redirect_uri is not a registered redirect URI of the "
               "application, so you were not sent back to it.";
    }
    if (fc.n ? rg_idp_page_frontchannel(rq->resp, rq->tenant->name,
                                        (const char *const *)fc.urls, fc.n, NULL)
             : rg_idp_page_signed_out(rq->resp, rq->tenant->name, note))
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    set_cookie_if(rq, cookie_hdr);
    rg_idp_outcome(rq, "%s, %zu front-channel logout call(s)",
                   note ? "signed out (post_logout_redirect_uri refused)" : "signed out", fc.n);
    fcl_free(&fc);
}

static void devicecode(struct rg_idp_rq *rq)
{
    rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                      "Invalid request. The device code flow is not offered by this identity "
                      "provider.");
}

/* ---- routing ---------------------------------------------------------------------------- */

static bool is_get(const struct rg_http_request *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static size_t params_bytes(const struct rg_params *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += strlen(p->items[i].key) + strlen(p->items[i].val) + 2;
    return n;
}

/* The tenant that registered the request's client_id (parameter or Basic header). */
static struct rg_idp_tenant *app_home(const struct rg_idp_rq *rq)
{
    const char *id = rg_idp_param(rq, "client_id", false);
    const char *auth = rg_http_header(rq->http, "Authorization");
    struct rg_idp_tenant *t = NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    char basic_id[RG_IDP_GUID_LEN + 1];

    if (!id && auth && strncasecmp(auth, "Basic ", 6) == 0 && strlen(auth) < 2048 &&
        rg_b64_decode(auth + 6, strlen(auth + 6), &raw, &rawlen) == RG_OK) {
        /* a GUID needs no URL-decoding: take it only if it is one */
        if (rawlen > RG_IDP_GUID_LEN && raw[RG_IDP_GUID_LEN] == ':') {
            memcpy(basic_id, raw, RG_IDP_GUID_LEN);
            basic_id[RG_IDP_GUID_LEN] = '\0';
            id = basic_id;
        }
        rg_wipe(raw, rawlen);
        free(raw);
    }
    if (id && rg_idp_is_guid(id))
        t = rg_idp_app_owner(&rq->snap->st, id);
    return t;
}

static void route(struct rg_idp_rq *rq, const char *path)
{
    char ref[256];
    const char *rest;
    size_t n;
    bool json_endpoint;

    if (rg_idp_faults_route(rq, path)) /* only with --test-faults */
        return;
    if (strcmp(path, "/oidc/userinfo") == 0) {
        userinfo(rq);
        return;
    }
    if (path[0] != '/' || (n = strcspn(path + 1, "/")) == 0 || n >= sizeof ref) {
        rg_http_respond(rq->resp, 404, "text/plain; charset=utf-8", "not found\n", 10);
        rg_idp_outcome(rq, "not found");
        return;
    }
    memcpy(ref, path + 1, n);
    ref[n] = '\0';
    rest = path + 1 + n;
    json_endpoint = strcmp(rest, "/oauth2/v2.0/token") == 0 ||
                    strcmp(rest, "/v2.0/.well-known/openid-configuration") == 0 ||
                    strcmp(rest, "/discovery/v2.0/keys") == 0 ||
                    strcmp(rest, "/oauth2/v2.0/devicecode") == 0;
    rq->tenant = rg_idp_tenant_find(&rq->snap->st, ref);
    if (!rq->tenant && (strcmp(ref, "organizations") == 0 || strcmp(ref, "common") == 0)) {
        if (strcmp(rest, "/v2.0/.well-known/openid-configuration") == 0 ||
            strcmp(rest, "/discovery/v2.0/keys") == 0) {
            rq->authority = strcmp(ref, "common") == 0 ? "common" : "organizations";
            if (is_get(rq->http)) {
                if (rest[1] == 'v')
                    discovery(rq);
                else
                    keys(rq);
                return;
            }
        }
        /* Apps here are single-tenant: the multi-tenant authorities sign in to the tenant
         * that registered the app (users of other tenants are not in it: AADSTS50034). */
        rq->tenant = app_home(rq);
        if (!rq->tenant && strcmp(rest, "/oauth2/v2.0/token") == 0) {
            rg_idp_error_json(rq, 400, "unauthorized_client", 700016,
                              "Application with identifier given in the request was not found "
                              "in any directory of this identity provider.");
            return;
        }
        if (!rq->tenant && strcmp(rest, "/oauth2/v2.0/authorize") == 0) {
            rg_idp_error_page(rq, 400, 700016,
                              "Application with identifier given in the request was not found "
                              "in any directory of this identity provider.");
            return;
        }
    }
    if (!rq->tenant && (json_endpoint || strcmp(rest, "/oauth2/v2.0/authorize") == 0 ||
                        strcmp(rest, "/oauth2/v2.0/logout") == 0 || strcmp(rest, "/login") == 0 ||
                        strcmp(rest, "/consent") == 0)) {
        for (char *c = ref; *c; c++) /* echoed below: keep it printable */
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        if (json_endpoint)
            rg_idp_error_json(rq, 400, "invalid_tenant", 90002,
                              "Tenant '%s' not found. Check to make sure you have the correct "
                              "tenant ID and are signing into the correct cloud.",
                              ref);
        else
            rg_idp_error_page(rq, 400, 90002,
                              "Tenant '%s' not found. Check to make sure you have the correct "
                              "tenant ID and are signing into the correct cloud.",
                              ref);
        return;
    }
    if (strcmp(rest, "/v2.0/.well-known/openid-configuration") == 0 && is_get(rq->http))
        discovery(rq);
    else if (strcmp(rest, "/discovery/v2.0/keys") == 0 && is_get(rq->http))
        keys(rq);
    else if (strcmp(rest, "/oauth2/v2.0/authorize") == 0)
        rg_idp_authorize(rq);
    else if (strcmp(rest, "/login") == 0)
        rg_idp_login(rq);
    else if (strcmp(rest, "/consent") == 0)
        rg_idp_consent(rq);
    else if (strncmp(rest, "/users/", 7) == 0)
        member_objects(rq, rest + 7);
    else if (strcmp(rest, "/oauth2/v2.0/token") == 0)
        rg_idp_token(rq);
    else if (strcmp(rest, "/oauth2/v2.0/logout") == 0)
        logout(rq);
    else if (strcmp(rest, "/oauth2/v2.0/devicecode") == 0)
        devicecode(rq);
    else {
        rg_http_respond(rq->resp, 404, "text/plain; charset=utf-8", "not found\n", 10);
        rg_idp_outcome(rq, "not found");
    }
}

void rg_idp_web_handle(void *ctx, struct rg_http_request *req, struct rg_http_response *resp)
{
    struct rg_idp_web *w = ctx;
    struct rg_idp_rq rq;
    const char *path = req->path;
    size_t bp = strlen(w->base_path);

    memset(&rq, 0, sizeof rq);
    rq.w = w;
    rq.http = req;
    rq.resp = resp;
    rq.now = (int64_t)time(NULL);
    rg_idp_ids_new(&rq.ids, req, rq.now);
    rq.snap = rg_idp_snaps_get(&w->snaps);

    /* the issuer base may carry a path prefix; requests then arrive below it */
    if (bp && strncmp(path, w->base_path, bp) == 0 && (path[bp] == '/' || path[bp] == '\0'))
        path += bp;
    else if (bp) {
        rg_http_respond(resp, 404, "text/plain; charset=utf-8", "not found\n", 10);
        rg_idp_outcome(&rq, "not found (outside the issuer base path)");
        goto out;
    }
    if (params_bytes(&req->query) + params_bytes(&req->body) > RG_IDP_WEB_MAX_PARAMS) {
        size_t pl = strlen(path), tl = strlen("/oauth2/v2.0/token");
        if (pl >= tl && strcmp(path + pl - tl, "/oauth2/v2.0/token") == 0)
            rg_idp_error_json(&rq, 400, "invalid_request", 90015,
                              "Requested parameters are too long.");
        else
            rg_idp_error_page(&rq, 400, 90015, "Requested query string is too long.");
        goto out;
    }
    route(&rq, path);
out:
    rg_info("%s %s %.200s -> %d %s (trace %s)", req->remote_ip, req->method, req->path,
            resp->status, rq.outcome[0] ? rq.outcome : "-", rq.ids.trace);
    rg_idp_snap_put(rq.snap);
}
