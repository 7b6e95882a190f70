/* authz.c — /authorize, the sign-in form and the consent page (part of the web module, see
 * web.h).
 *
 * Order of checks follows Entra: tenant, client_id, redirect_uri are answered on an error
 * page (never a redirect: the redirect target is not trusted yet); everything after that
 * goes back to the app's redirect URI as error/error_description/state. Once the user is
 * known (session or form): disabled (AADSTS50057) and not assigned while the app requires
 * assignment (AADSTS50105) are error pages; missing consent (or prompt=consent) shows the
 * consent page, whose Accept is the only place `serve` writes the state (a user consent
 * record, through the same locked read-modify-write as the CLI). */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "idp/check.h"
#include "idp/claims.h"
#include "idp/cred.h"
#include "idp/page.h"
#include "idp/web.h"
#include "jose/jws.h"

#define STATE_MAX 2048
#define NONCE_MAX 1024
#define HINT_MAX 256
#define CTX_MAX 128

/* ---- responses to the app --------------------------------------------------------------- */

/* Where the answer goes: the redirect URI, with '/' added when it has no path (Entra). */
static rg_err response_target(const char *uri, struct rg_buf *b)
{
    rg_err e;
    if (!rg_idp_uri_pathless(uri))
        return rg_buf_appends(b, uri);
    {
        const char *q = strchr(uri, '?');
        size_t n = q ? (size_t)(q - uri) : strlen(uri);
        if ((e = rg_buf_append(b, uri, n)) || (e = rg_buf_appends(b, "/")))
            return e;
        return q ? rg_buf_appends(b, q) : RG_OK;
    }
}

/* Sends names/values to the app by the request's response_mode. set_cookie may be NULL. */
static void send_to_app(struct rg_idp_rq *rq, const char *redirect_uri, enum rg_idp_mode mode,
                        const char *const *names, const char *const *values, size_t n,
                        const char *set_cookie)
{
    struct rg_buf b;
    rg_err e;

    rg_buf_init(&b, 64 * 1024);
    e = response_target(redirect_uri, &b);
    if (!e && mode == RG_IDP_MODE_FORM_POST) {
        e = rg_idp_page_form_post(rq->resp, b.data, names, values, n);
    } else if (!e) {
        char sep = mode == RG_IDP_MODE_FRAGMENT ? '#' : strchr(b.data, '?') ? '&' : '?';
        for (size_t i = 0; !e && i < n; i++) {
            char c = i == 0 ? sep : '&';
            if (!(e = rg_buf_append(&b, &c, 1)) && !(e = rg_buf_appends(&b, names[i])) &&
                !(e = rg_buf_appends(&b, "=")))
                e = rg_url_encode(&b, values[i]);
        }
        if (!e && !(e = rg_http_respond(rq->resp, 302, "text/html; charset=utf-8", "", 0)))
            e = rg_http_add_header(rq->resp, "Location", b.data);
    }
    if (!e && set_cookie)
        e = rg_http_add_header(rq->resp, "Set-Cookie", set_cookie);
    if (e)
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    rg_buf_free(&b);
}

static void redirect_error(struct rg_idp_rq *rq, const struct rg_idp_authreq *ar,
                           const char *error, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void redirect_error(struct rg_idp_rq *rq, const struct rg_idp_authreq *ar,
                           const char *error, int code, const char *fmt, ...)
{
    const char *names[3] = {"error", "error_description", "state"};
    const char *values[3];
    char text[1024], *desc;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    desc = rg_idp_error_description(code, text, &rq->ids);
    if (!desc) {
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
        return;
    }
    values[0] = error;
    values[1] = desc;
    values[2] = ar->state;
    send_to_app(rq, ar->g.redirect_uri, ar->mode, names, values, ar->state ? 3 : 2, NULL);
    free(desc);
    rg_idp_outcome(rq, "%s AADSTS%d sent to the app", error, code);
}

/* The ID token /authorize hands out (response_type id_token): nonce always, hasgroups rule,
 * c_hash when a code goes with it. NULL after answering the error. */
static char *authorize_id_token(struct rg_idp_rq *rq, const struct rg_idp_authreq *ar,
                                const struct rg_idp_user *u, const char *code)
{
    char issuer[2300], *tok = NULL, *ch = NULL;
    const char *kid = NULL;
    EVP_PKEY *key = rg_idp_snap_signer(rq->snap, rq->tenant, &kid);
    unsigned char md[32];
    unsigned int mdlen = 0;
    json_t *claims = NULL, *hdr = NULL;

    if (!key) {
        rg_idp_error_page(rq, 500, 500011, "The tenant has no usable token-signing key.");
        return NULL;
    }
    rg_idp_issuer(rq->w->base, rq->tenant->id, issuer, sizeof issuer);
    claims = rg_idp_id_token_claims(issuer, rq->w->base, rq->tenant,
                                    rg_idp_app_find(rq->tenant, ar->g.client_id), &ar->g, u,
                                    rq->now, 1, true);
    /* c_hash: left half of SHA-256 of the code's ASCII (OIDC Core §3.3.2.11) */
    if (claims && code && EVP_Digest(code, strlen(code), md, &mdlen, EVP_sha256(), NULL) &&
        mdlen == 32 && (ch = rg_b64url_encode(md, 16)) != NULL)
        json_object_set_new(claims, "c_hash", json_string(ch));
    hdr = json_pack("{s:s}", "kid", kid);
    if (!claims || !hdr || (code && !ch) || rg_jws_sign(claims, hdr, "RS256", key, &tok)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        tok = NULL;
    }
    free(ch);
    json_decref(claims);
    json_decref(hdr);
    return tok;
}

/* Issues what ar asked for (a code, an ID token, or both) for u signed in as session sid,
 * and sends it to the app. */
static void issue_code(struct rg_idp_rq *rq, struct rg_idp_authreq *ar,
                       const struct rg_idp_user *u, const char *sid, int64_t auth_time,
                       const char *set_cookie, const char *session)
{
    const char *names[4], *values[4];
    char *code = NULL, *id_token = NULL;
    size_t n = 0;

    memcpy(ar->g.oid, u->oid, sizeof ar->g.oid);
    snprintf(ar->g.sid, sizeof ar->g.sid, "%s", sid);
    ar->g.auth_time = auth_time;
    if (ar->want_code && rg_idp_code_put(rq->w->flow, &ar->g, rq->now, &code)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        return;
    }
    if (ar->want_id_token && !(id_token = authorize_id_token(rq, ar, u, code)))
        goto out;
    /* remembered for front-channel logout; a full list only costs that app the call */
    if (session && rg_idp_session_add_app(rq->w->flow, session, ar->g.client_id))
        rg_warn("session holds too many apps; %s gets no front-channel logout call",
                ar->g.client_id);
    if (code) {
        names[n] = "code";
        values[n++] = code;
    }
    if (id_token) {
        names[n] = "id_token";
        values[n++] = id_token;
    }
    if (ar->state) {
        names[n] = "state";
        values[n++] = ar->state;
    }
    names[n] = "session_state";
    values[n++] = sid;
    send_to_app(rq, ar->g.redirect_uri, ar->mode, names, values, n, set_cookie);
out:
    rg_free_secret(id_token);
    rg_free_secret(code);
}

static bool consent_ok(const struct rg_idp_tenant *t, const struct rg_idp_authreq *ar,
                       const char *oid)
{
    return rg_idp_consent_covers(t, ar->g.client_id, oid, ar->g.scopes);
}

#define CONSENT_TEXT                                                                      \
    "The user or administrator has not consented to use the application with ID '%s' named " \
    "'%s'. Send an interactive authorization request for this user and resource."

#define NOT_ASSIGNED_TEXT                                                                  \
    "The signed in user '%s' is not assigned to a role for the application '%s' (%s)."

/* Assignment required: the user must be assigned, directly or through a group. */
static bool assigned_ok(const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                        const struct rg_idp_user *u)
{
    return !app->assignment_required || rg_idp_user_assigned(t, app->client_id, u->oid);
}

/* Shows the consent page for ar, whose user (g.oid, g.sid) has signed in. set_cookie may be
 * NULL. */
static void show_consent(struct rg_idp_rq *rq, struct rg_idp_authreq *ar,
                         const struct rg_idp_app *app, const struct rg_idp_user *u,
                         const char *set_cookie)
{
    char action[2300], *ctx = NULL;
    struct rg_idp_consent_page p;

    if (rg_idp_authreq_put(rq->w->flow, ar, rq->now, &ctx)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        return;
    }
    rg_idp_url(rq, "consent", action, sizeof action);
    p.tenant_name = rq->tenant->name;
    p.app_name = app->display_name;
    p.upn = u->guest && u->mail ? u->mail : u->upn;
    p.scopes = ar->g.scopes;
    p.action = action;
    p.ctx = ctx;
    if (rg_idp_page_consent(rq->resp, &p) ||
        (set_cookie && rg_http_add_header(rq->resp, "Set-Cookie", set_cookie)))
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
    rg_idp_outcome(rq, "consent page: user %s app %s", u->upn, app->client_id);
    free(ctx);
}

/* ---- /authorize ------------------------------------------------------------------------- */

static bool pkce_challenge_ok(const char *c, const char *method)
{
    size_t n = strlen(c);
    if (strcmp(method, "S256") == 0 && n != 43)
        return false;
    if (n < 43 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_' || ch == '~'))
            return false;
    }
    return true;
}

/* True if the space-separated list has word w. */
static bool has_word(const char *list, const char *w)
{
    size_t wl = strlen(w);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == wl && strncmp(p, w, n) == 0)
            return true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* True if every word of rt is an OAuth response type Entra knows (implicit/hybrid). */
static bool known_implicit(const char *rt)
{
    const char *p = rt;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (!((n == 4 && !strncmp(p, "code", 4)) || (n == 8 && !strncmp(p, "id_token", 8)) ||
              (n == 5 && !strncmp(p, "token", 5))))
            return false;
        p += n;
        while (*p == ' ')
            p++;
    }
    return true;
}

static void show_login(struct rg_idp_rq *rq, const char *ctx, const char *loginfmt,
                       const char *error_code, const char *error_text)
{
    char action[2300];
    struct rg_idp_login_page p;

    rg_idp_url(rq, "login", action, sizeof action);
    p.tenant_name = rq->tenant->name;
    p.action = action;
    p.ctx = ctx;
    p.loginfmt = loginfmt;
    p.error_code = error_code;
    p.error_text = error_text;
    if (rg_idp_page_login(rq->resp, &p))
        rg_http_respond(rq->resp, 500, "text/plain; charset=utf-8", "internal error\n", 15);
}

/* The signed-in user behind the request's session cookie, if any (and still allowed). */
static const struct rg_idp_user *session_user(struct rg_idp_rq *rq, struct rg_idp_grant *sess,
                                             char **cookie_out)
{
    char *cookie = rg_http_cookie(rq->http, RG_IDP_SESSION_COOKIE);
    const struct rg_idp_user *u = NULL;

    memset(sess, 0, sizeof *sess);
    *cookie_out = NULL;
    if (!cookie)
        return NULL;
    if (rg_idp_session_get(rq->w->flow, cookie, rq->now, sess) == RG_OK &&
        strcmp(sess->tenant, rq->tenant->id) == 0) {
        u = rg_idp_user_find_oid(rq->tenant, sess->oid);
        if (u && !u->enabled)
            u = NULL;
    }
    if (u)
        *cookie_out = cookie;
    else
        rg_free_secret(cookie);
    return u;
}

void rg_idp_authorize(struct rg_idp_rq *rq)
{
    static const char *const known[] = {
        "client_id", "redirect_uri", "response_type", "response_mode", "scope", "state",
        "nonce", "prompt", "login_hint", "domain_hint", "code_challenge",
        "code_challenge_method", "max_age", NULL};
    struct rg_idp_tenant *t = rq->tenant;
    const char *client_id = rg_idp_param(rq, "client_id", false);
    const char *redirect = rg_idp_param(rq, "redirect_uri", false);
    const char *rtype = rg_idp_param(rq, "response_type", false);
    const char *rmode = rg_idp_param(rq, "response_mode", false);
    const char *scope = rg_idp_param(rq, "scope", false);
    const char *state = rg_idp_param(rq, "state", false);
    const char *nonce = rg_idp_param(rq, "nonce", false);
    const char *prompt = rg_idp_param(rq, "prompt", false);
    const char *hint = rg_idp_param(rq, "login_hint", false);
    const char *cc = rg_idp_param(rq, "code_challenge", false);
    const char *ccm = rg_idp_param(rq, "code_challenge_method", false);
    const char *max_age = rg_idp_param(rq, "max_age", false);
    const char *dup = rg_idp_param_dup(rq, known);
    const struct rg_idp_app *app;
    const struct rg_idp_user *u;
    struct rg_idp_authreq ar;
    struct rg_idp_grant sess;
    struct rg_msg why;
    char *scopes = NULL, *ctx = NULL, *session = NULL;

    memset(&ar, 0, sizeof ar);
    memset(&sess, 0, sizeof sess);
    if (strcmp(rq->http->method, "GET") && strcmp(rq->http->method, "POST") &&
        strcmp(rq->http->method, "HEAD")) {
        rg_idp_error_page(rq, 405, 900561, "The endpoint only accepts GET and POST requests.");
        return;
    }
    if (dup) {
        rg_idp_error_page(rq, 400, 9002313,
                          "Invalid request. Request is malformed or invalid: parameter '%s' "
                          "is repeated.",
                          dup);
        return;
    }
    /* 1. the app */
    if (!client_id || !*client_id) {
        rg_idp_error_page(rq, 400, 900144,
                          "The request body must contain the following parameter: "
                          "'client_id'.");
        return;
    }
    app = rg_idp_is_guid(client_id) ? rg_idp_app_find(t, client_id) : NULL;
    if (!app) {
        rg_idp_error_page(rq, 400, 700016,
                          "Application with identifier '%.64s' was not found in the directory "
                          "'%s'. This can happen if the application has not been installed by "
                          "the administrator of the tenant or consented to by any user in the "
                          "tenant. You may have sent your authentication request to the wrong "
                          "tenant.",
                          client_id, t->name);
        return;
    }
    /* 2. where answers may go */
    if (!redirect) {
        if (app->n_redirect == 0) {
            rg_idp_error_page(rq, 400, 500113,
                              "No reply address is registered for the application.");
            return;
        }
        redirect = app->redirect_uris[0]; /* Entra picks a registered one */
    } else {
        bool ok = false;
        for (size_t i = 0; !ok && i < app->n_redirect; i++)
            ok = rg_idp_redirect_match(app->redirect_uris[i], redirect);
        if (!ok) {
            rg_idp_error_page(rq, 400, 50011,
                              "The redirect URI '%.300s' specified in the request does not "
                              "match the redirect URIs configured for the application '%s'. "
                              "Make sure the redirect URI sent in the request matches one added "
                              "to your application in the Azure portal. Navigate to "
                              "https://aka.ms/redirectUriMismatchError to learn more about how "
                              "to fix this.",
                              redirect, app->client_id);
            return;
        }
    }
    memcpy(ar.g.tenant, t->id, sizeof ar.g.tenant);
    memcpy(ar.g.client_id, app->client_id, sizeof ar.g.client_id);
    ar.mode = RG_IDP_MODE_QUERY;
    ar.g.redirect_uri = strdup(redirect);
    if (state && strlen(state) <= STATE_MAX)
        ar.state = strdup(state);
    if (!ar.g.redirect_uri || (state && strlen(state) <= STATE_MAX && !ar.state)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    /* 3. from here on errors go back to the app */
    if (rmode && strcmp(rmode, "query") && strcmp(rmode, "fragment") &&
        strcmp(rmode, "form_post")) {
        redirect_error(rq, &ar, "invalid_request", 70007,
                       "'%.64s' is not a supported value of 'response_mode' for this request. "
                       "Supported values are: 'query', 'fragment', 'form_post'.",
                       rmode);
        goto out;
    }
    if (rmode)
        ar.mode = !strcmp(rmode, "fragment") ? RG_IDP_MODE_FRAGMENT
                  : !strcmp(rmode, "form_post") ? RG_IDP_MODE_FORM_POST
                                                : RG_IDP_MODE_QUERY;
    if (state && strlen(state) > STATE_MAX) {
        redirect_error(rq, &ar, "invalid_request", 90015,
                       "The 'state' parameter is longer than %d characters.", STATE_MAX);
        goto out;
    }
    if (!rtype || !*rtype) {
        redirect_error(rq, &ar, "invalid_request", 900144,
                       "The request body must contain the following parameter: "
                       "'response_type'.");
        goto out;
    }
    if (!known_implicit(rtype) || strlen(rtype) >= 64) {
        redirect_error(rq, &ar, "unsupported_response_type", 70005,
                       "response_type '%.64s' is not supported.", rtype);
        goto out;
    }
    ar.want_code = has_word(rtype, "code");
    ar.want_id_token = has_word(rtype, "id_token");
    if (has_word(rtype, "token") || (ar.want_id_token && !app->implicit_id_token) ||
        (!ar.want_code && !ar.want_id_token)) {
        redirect_error(rq, &ar, "unsupported_response_type", 700054,
                       "response_type '%s' is not enabled for the application.", rtype);
        goto out;
    }
    if (ar.want_id_token && ar.mode == RG_IDP_MODE_QUERY) {
        /* tokens never go in a query string: fragment is the default, query refused */
        ar.mode = RG_IDP_MODE_FRAGMENT;
        if (rmode) {
            redirect_error(rq, &ar, "invalid_request", 70007,
                           "'query' is not a supported value of 'response_mode' when "
                           "requesting an ID token. Supported values are: 'fragment', "
                           "'form_post'.");
            goto out;
        }
    }
    if (!scope || !*scope) {
        redirect_error(rq, &ar, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'scope'.");
        goto out;
    }
    if (rg_idp_scopes_norm(scope, &scopes, &why)) {
        redirect_error(rq, &ar, "invalid_scope", 70011,
                       "The provided value for the input parameter 'scope' is not valid: %s",
                       why.text);
        goto out;
    }
    ar.g.scopes = scopes;
    scopes = NULL;
    if (ar.want_id_token && !rg_idp_scopes_has(ar.g.scopes, "openid")) {
        redirect_error(rq, &ar, "invalid_request", 70005,
                       "An ID token was requested without the 'openid' scope.");
        goto out;
    }
    if (ar.want_id_token && (!nonce || !*nonce)) {
        redirect_error(rq, &ar, "invalid_request", 90014,
                       "The required field 'nonce' is missing from the request.");
        goto out;
    }
    if (nonce && strlen(nonce) > NONCE_MAX) {
        redirect_error(rq, &ar, "invalid_request", 90015,
                       "The 'nonce' parameter is longer than %d characters.", NONCE_MAX);
        goto out;
    }
    if (ccm && !cc) {
        redirect_error(rq, &ar, "invalid_request", 900144,
                       "The request body must contain the following parameter: "
                       "'code_challenge'.");
        goto out;
    }
    if (cc) {
        const char *m = ccm ? ccm : "plain"; /* RFC 7636 §4.3 default */
        if (strcmp(m, "S256") && strcmp(m, "plain")) {
            redirect_error(rq, &ar, "invalid_request", 9002313,
                           "Invalid request. 'code_challenge_method' must be 'S256' or "
                           "'plain'.");
            goto out;
        }
        if (!pkce_challenge_ok(cc, m)) {
            redirect_error(rq, &ar, "invalid_request", 501491,
                           "Invalid size of Code_Challenge parameter.");
            goto out;
        }
        snprintf(ar.g.method, sizeof ar.g.method, "%s", m);
        ar.g.code_challenge = strdup(cc);
    }
    if (app->platform == RG_IDP_PLATFORM_SPA && !ar.g.code_challenge) {
        redirect_error(rq, &ar, "invalid_request", 9002325,
                       "Proof Key for Code Exchange is required for cross-origin authorization "
                       "code redemption.");
        goto out;
    }
    if (prompt && strcmp(prompt, "login") && strcmp(prompt, "none") &&
        strcmp(prompt, "consent") && strcmp(prompt, "select_account") &&
        strcmp(prompt, "create")) {
        redirect_error(rq, &ar, "invalid_request", 9002313,
                       "Invalid request. 'prompt' must be one of login, none, consent, "
                       "select_account, create.");
        goto out;
    }
    if (max_age) {
        long long v;
        char *end;
        if (strlen(max_age) > 10 || !*max_age || *max_age < '0' || *max_age > '9' ||
            (v = strtoll(max_age, &end, 10)) < 0 || *end) {
            redirect_error(rq, &ar, "invalid_request", 9002313,
                           "Invalid request. 'max_age' must be a non-negative integer.");
            goto out;
        }
        ar.g.has_max_age = true;
        ar.g.max_age = (int64_t)v;
    }
    ar.force_consent = prompt && !strcmp(prompt, "consent");
    if (nonce)
        ar.g.nonce = strdup(nonce);
    if (hint && strlen(hint) <= HINT_MAX) {
        /* the opaque login_hint claim names the user by object id */
        char hoid[RG_IDP_GUID_LEN + 1];
        const struct rg_idp_user *hu = NULL;
        if (!strchr(hint, '@') && rg_idp_login_hint_oid(hint, t->id, hoid))
            hu = rg_idp_user_find_oid(t, hoid);
        ar.login_hint = strdup(hu ? (hu->guest && hu->mail ? hu->mail : hu->upn) : hint);
    }
    if ((cc && !ar.g.code_challenge) || (nonce && !ar.g.nonce)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    /* 4. an existing session signs in without the form unless the app asks otherwise
     * (domain_hint only skips home-realm discovery, which a directory without federation
     * never does: accepted and ignored) */
    u = (prompt && (!strcmp(prompt, "login") || !strcmp(prompt, "select_account") ||
                    !strcmp(prompt, "create")))
            ? NULL
            : session_user(rq, &sess, &session);
    if (u && ar.login_hint && !rg_idp_ieq(ar.login_hint, u->upn) &&
        !(u->mail && u->guest && rg_idp_ieq(ar.login_hint, u->mail)))
        u = NULL; /* the app wants someone else signed in */
    if (u && ar.g.has_max_age && rq->now - sess.auth_time > ar.g.max_age)
        u = NULL; /* the sign-in is older than the app accepts */
    if (u) {
        if (!assigned_ok(t, app, u)) {
            rg_idp_error_page(rq, 400, 50105, NOT_ASSIGNED_TEXT, u->upn, app->client_id,
                              app->display_name);
            goto out;
        }
        if (!consent_ok(t, &ar, u->oid) || ar.force_consent) {
            if (prompt && !strcmp(prompt, "none")) {
                redirect_error(rq, &ar, "consent_required", 65001, CONSENT_TEXT,
                               app->client_id, app->display_name);
                goto out;
            }
            memcpy(ar.g.oid, u->oid, sizeof ar.g.oid);
            memcpy(ar.g.sid, sess.sid, sizeof ar.g.sid);
            ar.g.auth_time = sess.auth_time;
            show_consent(rq, &ar, app, u, NULL);
            goto out;
        }
        issue_code(rq, &ar, u, sess.sid, sess.auth_time, NULL, session);
        rg_idp_outcome(rq, "code issued from session: user %s app %s", u->upn, app->client_id);
        goto out;
    }
    if (prompt && !strcmp(prompt, "none")) {
        redirect_error(rq, &ar, "login_required", 50058,
                       "A silent sign-in request was sent but no user is signed in.");
        goto out;
    }
    if (rg_idp_authreq_put(rq->w->flow, &ar, rq->now, &ctx)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    show_login(rq, ctx, ar.login_hint, NULL, NULL);
    rg_idp_outcome(rq, "sign-in form for app %s", app->client_id);
out:
    rg_free_secret(session);
    free(ctx);
    free(scopes);
    rg_idp_grant_clear(&sess);
    rg_idp_authreq_clear(&ar);
}

/* ---- /login ----------------------------------------------------------------------------- */

static const char bad_credentials[] =
    "Your account or password is incorrect. If you don't remember your password, reset it now.";

void rg_idp_login(struct rg_idp_rq *rq)
{
    static const char *const known[] = {"ctx", "loginfmt", "passwd", NULL};
    struct rg_idp_tenant *t = rq->tenant;
    const char *ctx = rg_idp_param(rq, "ctx", true);
    const char *login = rg_idp_param(rq, "loginfmt", true);
    const char *pw = rg_idp_param(rq, "passwd", true);
    const struct rg_idp_user *u;
    const struct rg_idp_app *app;
    struct rg_idp_authreq ar;
    struct rg_idp_grant sess;
    char sid[RG_IDP_GUID_LEN + 1], cookie_hdr[2300], *cookie = NULL;
    bool pw_ok;

    memset(&ar, 0, sizeof ar);
    if (strcmp(rq->http->method, "POST") != 0) {
        rg_idp_error_page(rq, 405, 900561, "The endpoint only accepts POST requests.");
        return;
    }
    if (rg_idp_param_dup(rq, known)) {
        rg_idp_error_page(rq, 400, 9002313, "Invalid request. Request is malformed or invalid.");
        return;
    }
    if (!ctx || strlen(ctx) > CTX_MAX ||
        rg_idp_authreq_get(rq->w->flow, ctx, rq->now, &ar) != RG_OK ||
        strcmp(ar.g.tenant, t->id) != 0) {
        rg_idp_error_page(rq, 400, 50089,
                          "Authentication failed due to flow token expired. Go back to the "
                          "application and sign in again.");
        goto out;
    }
    if (!login)
        login = "";
    if (strlen(login) > RG_IDP_UPN_MAX)
        login = ""; /* cannot be a user; answered like any unknown name */
    if (rg_idp_lockout_active(rq->w->flow, t->id, login, rq->now)) {
        show_login(rq, ctx, login, "AADSTS50053",
                   "Your account is locked because you've tried to sign in too many times "
                   "with an incorrect user ID or password.");
        rg_idp_outcome(rq, "sign-in refused: %s is locked out", login);
        goto out;
    }
    u = *login ? rg_idp_user_find_login(t, login) : NULL;
    if (u && pw && strlen(pw) <= 256)
        pw_ok = rg_idp_password_verify(pw, u->password_hash) == RG_OK;
    else {
        rg_idp_password_burn(pw); /* same time whether or not the name exists */
        pw_ok = false;
    }
    if (!pw_ok) {
        int left;
        rg_idp_lockout_fail(rq->w->flow, t->id, login, rq->now);
        left = rg_idp_authreq_failed(rq->w->flow, ctx);
        if (left == 0) {
            rg_idp_error_page(rq, 400, 50126,
                              "Error validating credentials due to invalid username or "
                              "password. Too many attempts: go back to the application and "
                              "sign in again.");
        } else {
            show_login(rq, ctx, login, "AADSTS50126", bad_credentials);
        }
        rg_idp_outcome(rq, "sign-in failed for '%.113s': AADSTS50126", login);
        goto out;
    }
    rg_idp_lockout_clear(rq->w->flow, t->id, login);
    if (!u->enabled) {
        rg_idp_error_page(rq, 400, 50057,
                          "The user account is disabled. The account has been disabled by an "
                          "administrator.");
        rg_idp_outcome(rq, "sign-in refused: %s is disabled (AADSTS50057)", u->upn);
        goto out;
    }
    app = rg_idp_app_find(t, ar.g.client_id);
    if (!app) { /* removed while the form was open */
        rg_idp_error_page(rq, 400, 700016,
                          "Application with identifier '%s' was not found in the directory "
                          "'%s'.",
                          ar.g.client_id, t->name);
        goto out;
    }
    if (!assigned_ok(t, app, u)) {
        rg_idp_authreq_drop(rq->w->flow, ctx);
        rg_idp_error_page(rq, 400, 50105, NOT_ASSIGNED_TEXT, u->upn, app->client_id,
                          app->display_name);
        rg_idp_outcome(rq, "sign-in refused: %s not assigned to %s (AADSTS50105)", u->upn,
                       app->client_id);
        goto out;
    }
    /* a new sign-in session: its id is session_state and the ID token's sid */
    memset(&sess, 0, sizeof sess);
    if (rg_random_uuid(sid)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    memcpy(sess.tenant, t->id, sizeof sess.tenant);
    memcpy(sess.oid, u->oid, sizeof sess.oid);
    memcpy(sess.sid, sid, sizeof sess.sid);
    sess.auth_time = rq->now;
    if (rg_idp_session_put(rq->w->flow, &sess, rq->now, RG_IDP_SESSION_TTL, &cookie)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    rg_idp_session_cookie(rq, cookie, cookie_hdr, sizeof cookie_hdr);
    rg_idp_authreq_drop(rq->w->flow, ctx);
    if (!consent_ok(t, &ar, u->oid) || ar.force_consent) {
        /* first sign-in to this app (or prompt=consent): ask, then continue in /consent */
        memcpy(ar.g.oid, u->oid, sizeof ar.g.oid);
        memcpy(ar.g.sid, sid, sizeof ar.g.sid);
        ar.g.auth_time = rq->now;
        show_consent(rq, &ar, app, u, cookie_hdr);
        rg_wipe(cookie_hdr, sizeof cookie_hdr);
        goto out;
    }
    issue_code(rq, &ar, u, sid, rq->now, cookie_hdr, cookie);
    rg_wipe(cookie_hdr, sizeof cookie_hdr);
    rg_idp_outcome(rq, "signed in: user %s app %s", u->upn, ar.g.client_id);
out:
    rg_free_secret(cookie);
    rg_idp_authreq_clear(&ar);
}

/* ---- /consent --------------------------------------------------------------------------- */

/* Records the user's consent to the request's scopes in the state (serve otherwise only
 * reads it): a locked read-modify-write, as a CLI command does; the snapshot picks the
 * change up on the next request. */
static rg_err persist_consent(struct rg_idp_rq *rq, const struct rg_idp_authreq *ar)
{
    struct rg_idp_state st;
    struct rg_idp_tenant *t;
    struct rg_msg msg;
    int fd = -1;
    rg_err e;

    rg_idp_state_init(&st);
    if ((e = rg_idp_store_lock(rq->w->store, &fd, &msg)) ||
        (e = rg_idp_store_load(rq->w->store, &st, NULL, &msg)))
        goto out;
    if (!(t = rg_idp_tenant_find(&st, ar->g.tenant))) {
        e = rg_fail(&msg, RG_ERR_NOTFOUND, "tenant %s is gone", ar->g.tenant);
        goto out;
    }
    if ((e = rg_idp_consent_grant(t, ar->g.client_id, ar->g.oid, ar->g.scopes, &msg)) ||
        (e = rg_idp_store_save(rq->w->store, &st, &msg)))
        goto out;
out:
    if (e)
        rg_warn("consent of user %s to app %s not recorded: %s", ar->g.oid, ar->g.client_id,
                msg.text);
    if (fd >= 0)
        rg_idp_store_unlock(fd);
    rg_idp_state_free(&st);
    return e;
}

void rg_idp_consent(struct rg_idp_rq *rq)
{
    static const char *const known[] = {"ctx", "accept", NULL};
    const char *ctx = rg_idp_param(rq, "ctx", true);
    const char *accept = rg_idp_param(rq, "accept", true);
    const struct rg_idp_user *u;
    struct rg_idp_authreq ar;
    char *session = rg_http_cookie(rq->http, RG_IDP_SESSION_COOKIE);

    memset(&ar, 0, sizeof ar);
    if (strcmp(rq->http->method, "POST") != 0) {
        rg_idp_error_page(rq, 405, 900561, "The endpoint only accepts POST requests.");
        goto out;
    }
    if (rg_idp_param_dup(rq, known)) {
        rg_idp_error_page(rq, 400, 9002313, "Invalid request. Request is malformed or invalid.");
        goto out;
    }
    if (!ctx || strlen(ctx) > CTX_MAX ||
        rg_idp_authreq_get(rq->w->flow, ctx, rq->now, &ar) != RG_OK ||
        strcmp(ar.g.tenant, rq->tenant->id) != 0 || !ar.g.oid[0]) {
        rg_idp_error_page(rq, 400, 50089,
                          "Authentication failed due to flow token expired. Go back to the "
                          "application and sign in again.");
        goto out;
    }
    rg_idp_authreq_drop(rq->w->flow, ctx);
    u = rg_idp_user_find_oid(rq->tenant, ar.g.oid);
    if (!u || !u->enabled) {
        rg_idp_error_page(rq, 400, 50057,
                          "The user account is disabled. The account has been disabled by an "
                          "administrator.");
        goto out;
    }
    if (!accept || strcmp(accept, "1") != 0) {
        redirect_error(rq, &ar, "access_denied", 65004,
                       "User declined to consent to access the app.");
        goto out;
    }
    if (persist_consent(rq, &ar)) {
        rg_idp_error_page(rq, 500, 90033, "A transient error has occurred. Please try again.");
        goto out;
    }
    issue_code(rq, &ar, u, ar.g.sid, ar.g.auth_time, NULL, session);
    rg_idp_outcome(rq, "consent recorded and code issued: user %s app %s scope '%.100s'",
                   u->upn, ar.g.client_id, ar.g.scopes);
out:
    rg_free_secret(session);
    rg_idp_authreq_clear(&ar);
}
