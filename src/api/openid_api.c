/* openid_api.c — /access/openid/auth-url and /access/openid/login (spec §3).
 *
 * auth-url errors are ordinary API errors (the admin needs to see them). Every login failure
 * is 401 "authentication failure" to the client and one log line
 * "openid authentication failure; rhost=<ip> msg=<reason>" for the admin.
 *
 * Identity: user id = <username claim value>@<realm>, checked against the Proxmox grammar
 * (no mangling). Autocreate adds the user under the user.cfg lock with email, first and last
 * name from the claims; values that cannot be stored safely are left out with a log line.
 * Group mapping (realm option groups-claim, access/groupmap.h) runs after the user check and
 * before the ticket, under the user.cfg lock; the reply's cap sees the new memberships. */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/groupmap.h"
#include "access/usercfg.h"
#include "api/call.h"
#include "api/login.h"
#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

#define STATE_PARAM_MAX 1024
#define CODE_PARAM_MAX 4096
#define REDIRECT_PARAM_MAX 255

static void realm_to_rp(const struct rg_realm *r, struct rg_oidc_realm *out)
{
    memset(out, 0, sizeof *out);
    out->realm = r->id;
    out->issuer_url = r->issuer_url;
    out->client_id = r->client_id;
    out->client_key = r->client_key;
    out->client_cert = r->client_cert;
    out->client_cert_key = r->client_cert_key;
    out->scopes = r->scopes;
    out->prompt = r->prompt;
    out->acr_values = r->acr_values;
    out->audiences = r->audiences;
    out->query_userinfo = r->query_userinfo != 0; /* unset (-1) means the default, 1 */
    out->allow_hmac = r->hmac_id_tokens == 1;
    out->ca_file = r->ca_file;
    out->id_token_algs = r->id_token_algs;
}

/* Login-CSRF defence (RFC 9700 §4.7, catalogue CB-05): a login may only be finished by the
 * browser that started it. auth-url gives the browser a random cookie (kept a day, HttpOnly,
 * __Host- so only this origin can set it) and the pending login stores its SHA-256; login
 * requires the same cookie. An attacker who makes a victim's browser load the attacker's own
 * code and state therefore fails: the victim's browser does not hold the attacker's cookie. */
#define BROWSER_COOKIE "__Host-rg-oidc"

/* The binding of this request's browser (43 chars + NUL) into out; with create, a browser
 * without a valid cookie gets a new one. 0 = out set, -1 = no binding. */
static int browser_binding(struct rg_call *c, int create, char out[44])
{
    char *v = rg_http_cookie(c->req, BROWSER_COOKIE), *fresh = NULL, *b64 = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = v && strlen(v) == 43 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                "0123456789-_") == 43;
    int rc = -1;

    if (!ok && create) {
        char header[128];
        fresh = rg_random_token(32);
        if (!fresh)
            goto out;
        snprintf(header, sizeof header,
                 BROWSER_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=86400",
                 fresh);
        if (rg_http_add_header(c->resp, "Set-Cookie", header))
            goto out;
    }
    if (!ok && !fresh)
        goto out;
    if (!EVP_Digest(ok ? v : fresh, 43, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32 ||
        !(b64 = rg_b64url_encode(md, 32)))
        goto out;
    memcpy(out, b64, 44);
    rc = 0;
out:
    rg_free_secret(v);
    rg_free_secret(fresh);
    free(b64);
    return rc;
}

void rg_h_openid_index(struct rg_call *c)
{
    json_t *l = json_array();
    json_array_append_new(l, json_pack("{s:s}", "subdir", "auth-url"));
    json_array_append_new(l, json_pack("{s:s}", "subdir", "login"));
    rg_reply_data(c, l);
}

void rg_h_openid_auth_url(struct rg_call *c)
{
    const char *realm = rg_http_param(c->req, "realm");
    const char *redirect = rg_http_param(c->req, "redirect-url");
    const struct rg_realm *r;
    struct rg_oidc_realm rp;
    struct rg_msg msg = {{0}};
    char browser[44];
    char *url = NULL;
    rg_err e;

    if (!realm || !rg_realmid_check(realm)) {
        rg_reply_error(c, 400, "parameter verification failed: realm: invalid format");
        return;
    }
    if (!redirect || !*redirect || strlen(redirect) > REDIRECT_PARAM_MAX) {
        rg_reply_error(c, 400, "parameter verification failed: redirect-url: "
                               "required, at most %d characters", REDIRECT_PARAM_MAX);
        return;
    }
    r = rg_domains_find(&c->snap->domains, realm);
    if (!r) {
        rg_reply_error(c, 400, "authentication domain '%s' does not exist", realm);
        return;
    }
    if (strcmp(r->type, "openid") != 0) {
        rg_reply_error(c, 400, "wrong realm type (%s != openid)", r->type);
        return;
    }
    /* each call stores a pending login: an anonymous client must not fill the store */
    if (!rg_ratelimit_allow(c->api->auth_url_limit, c->req->remote_ip, time(NULL))) {
        rg_warn("openid auth-url refused: rate limit for %s reached", c->req->remote_ip);
        rg_reply_error(c, 429, "too many OpenID login attempts from this address, "
                               "try again in a minute");
        return;
    }
    if (browser_binding(c, 1, browser)) {
        rg_reply_error(c, 500, "internal error");
        return;
    }
    realm_to_rp(r, &rp);
    e = rg_oidc_auth_url_bound(c->api->oidc, &rp, redirect, browser, &url, &msg);
    if (e) {
        rg_warn("openid auth-url for realm '%s' failed: %s", realm, msg.text);
        rg_reply_error(c, e == RG_ERR_LIMIT ? 503 : e == RG_ERR_INVALID ? 400 : 502, "%s",
                       msg.text[0] ? msg.text : rg_err_str(e));
        return;
    }
    rg_reply_data(c, json_string(url));
    free(url);
}

/* Claim values that go into user.cfg: printable, no ':' (field separator), bounded, and
 * without surrounding whitespace (the user.cfg reader trims fields, so such a value would
 * change at the next rewrite). The trimmed copy goes to buf (RG_USER_NAME_MAX + 1 bytes). */
static const char *storable(const json_t *claims, const char *name, size_t max, char *buf)
{
    const char *v = json_string_value(json_object_get(claims, name));
    size_t len;

    if (!v)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    len = strlen(v);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (!len)
        return NULL;
    if (len > max)
        goto refuse;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f || v[i] == ':')
            goto refuse;
    /* user.cfg's email rule: an '@' and no spaces (rg_usercfg_user_add would refuse it and
     * with it the whole login; a bad optional claim is dropped instead) */
    if (!strcmp(name, "email") && (memchr(v, ' ', len) || !memchr(v, '@', len)))
        goto refuse;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
refuse:
    rg_warn("openid autocreate: claim '%s' not stored (too long or unsafe characters)", name);
    return NULL;
}

struct autocreate {
    const char *userid;
    const json_t *claims;
};

static rg_err do_autocreate(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct autocreate *a = ctx;
    struct rg_params opts;
    char ebuf[RG_USER_NAME_MAX + 1], fbuf[RG_USER_NAME_MAX + 1], lbuf[RG_USER_NAME_MAX + 1];
    const char *email = storable(a->claims, "email", RG_USER_EMAIL_MAX, ebuf);
    const char *first = storable(a->claims, "given_name", RG_USER_NAME_MAX, fbuf);
    const char *last = storable(a->claims, "family_name", RG_USER_NAME_MAX, lbuf);
    rg_err e;

    if (rg_usercfg_user(cfg, a->userid))
        return rg_fail(msg, RG_ERR_EXISTS, "user '%s' already exists", a->userid);
    rg_params_init(&opts);
    e = rg_params_add(&opts, "enable", "1");
    if (!e && email)
        e = rg_params_add(&opts, "email", email);
    if (!e && first)
        e = rg_params_add(&opts, "firstname", first);
    if (!e && last)
        e = rg_params_add(&opts, "lastname", last);
    if (!e)
        e = rg_usercfg_user_add(cfg, a->userid, &opts, msg);
    rg_params_free(&opts);
    return e;
}

static void login_failed(struct rg_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void login_failed(struct rg_call *c, const char *fmt, ...)
{
    char text[RG_MSG_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    rg_info("openid authentication failure; rhost=%s msg=%s", c->req->remote_ip, text);
    rg_reply_auth_failure(c);
}

void rg_h_openid_login(struct rg_call *c)
{
    const char *state = rg_http_param(c->req, "state");
    const char *code = rg_http_param(c->req, "code");
    const char *redirect = rg_http_param(c->req, "redirect-url");
    const char *iss = rg_http_param(c->req, "iss"); /* RFC 9207, when the IdP sends it */
    struct rg_oidc_pending pending;
    const struct rg_realm *r;
    const struct rg_snapshot *fresh = NULL;
    struct rg_oidc_realm rp;
    struct rg_msg msg = {{0}};
    char userid[RG_USERID_MAX + RG_REALMID_MAX + 8];
    char browser[44];
    char *name = NULL, *id_token = NULL;
    struct rg_session_info sinfo;
    json_t *claims = NULL;
    int groups_changed = 0;
    rg_err e;

    memset(&pending, 0, sizeof pending);
    if (!state || !code || !redirect || strlen(state) > STATE_PARAM_MAX ||
        strlen(code) > CODE_PARAM_MAX || strlen(redirect) > REDIRECT_PARAM_MAX ||
        (iss && strlen(iss) > RG_REALM_URL_MAX)) {
        login_failed(c, "missing or oversized parameter");
        return;
    }
    e = rg_oidc_take_pending(c->api->oidc, state, &pending, &msg);
    if (e) {
        login_failed(c, "%s", msg.text[0] ? msg.text : "no openid auth state found");
        return;
    }
    if (!pending.browser || browser_binding(c, 0, browser) ||
        !rg_ct_streq(browser, pending.browser)) {
        login_failed(c, "login was started in another browser (the browser-binding cookie is "
                        "missing or different)");
        goto out;
    }
    r = rg_domains_find(&c->snap->domains, pending.realm);
    if (!r || strcmp(r->type, "openid") != 0) {
        login_failed(c, "realm '%s' no longer exists or is not an openid realm",
                     pending.realm);
        goto out;
    }
    realm_to_rp(r, &rp);
    e = rg_oidc_finish_ex(c->api->oidc, &rp, &pending, code, redirect, iss, &claims,
                          &id_token, &msg);
    if (e) {
        login_failed(c, "%s", msg.text); /* the relying party names the realm */
        goto out;
    }
    e = rg_oidc_claim_username(claims, r->username_claim, &name, &msg);
    if (e) {
        login_failed(c, "realm '%s': %s", r->id, msg.text);
        goto out;
    }
    if ((size_t)snprintf(userid, sizeof userid, "%s@%s", name, r->id) >= sizeof userid ||
        !rg_userid_check(userid)) {
        login_failed(c, "realm '%s': user name from claim is not a valid user id "
                        "(length 3-64, no whitespace, ':' or '/'): '%.80s'", r->id, name);
        goto out;
    }
    if (r->autocreate == 1 && !rg_usercfg_user(&c->snap->users, userid)) {
        struct autocreate a = {userid, claims};
        e = rg_store_update_usercfg(c->api->store, do_autocreate, &a, &msg);
        if (e && e != RG_ERR_EXISTS) {
            login_failed(c, "autocreate of '%s' failed: %s", userid, msg.text);
            goto out;
        }
        if (!e)
            rg_info("openid: created user '%s' (realm '%s')", userid, r->id);
    }
    fresh = rg_store_acquire(c->api->store);
    e = rg_usercfg_check_user(&fresh->users, userid, time(NULL), &msg);
    if (e) {
        login_failed(c, "%s", msg.text);
        goto out;
    }
    /* group mapping (spec §3.7): after the user check, before the ticket, under the
     * user.cfg lock; the reply's cap must see the new memberships, hence the re-acquire */
    e = rg_groups_login(c->api->store, r, userid, claims, &groups_changed, &msg);
    if (e) {
        login_failed(c, "realm '%s': group mapping for '%s' failed: %s", r->id, userid,
                     msg.text);
        goto out;
    }
    if (groups_changed) {
        rg_store_release(fresh);
        fresh = rg_store_acquire(c->api->store);
    }
    rg_info("successful openid auth for user '%s'", userid);
    /* the session record lets sign-out end this login (RP-initiated with the ID token as
     * hint, or front-channel by the IdP's session id `sid`) */
    sinfo.realm = r->id;
    sinfo.sid = json_string_value(json_object_get(claims, "sid"));
    sinfo.id_token = id_token;
    rg_reply_login_session(c, fresh, userid, &sinfo, -1);
out:
    rg_free_secret(id_token);
    if (fresh)
        rg_store_release(fresh);
    free(name);
    json_decref(claims);
    rg_oidc_pending_clear(&pending);
}
