/* rp.c — OpenID Connect relying party: authorization URL, code exchange, ID token and
 * userinfo (see rp.h for what is checked and refused). */
#include "oidc/rp.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/ids.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/form.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "jose/jws.h"
#include "net/httpc.h"
#include "oidc/clientauth.h"
#include "oidc/idtoken.h"

#define SPLIT_MAX_ITEMS 64 /* scopes, acr values, audiences */
#define AUTH_URL_MAX 8192
#define TOKEN_BODY_MAX (16 * 1024)
#define ACCESS_TOKEN_MAX (64 * 1024)

struct rg_oidc {
    char *pending_dir;
    struct rg_oidc_cache *cache;
};

/* ---- small helpers ---- */

int rg_oidc_redirect_url_valid(const char *u)
{
    const char *auth, *end;
    size_t len;

    if (!u)
        return 0;
    len = strlen(u);
    if (len == 0 || len > RG_OIDC_REDIRECT_MAX)
        return 0;
    for (const unsigned char *c = (const unsigned char *)u; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == '#' || *c == '\\')
            return 0;
    if (strncasecmp(u, "https://", 8) == 0)
        auth = u + 8;
    else if (strncasecmp(u, "http://", 7) == 0)
        auth = u + 7;
    else
        return 0;
    end = auth + strcspn(auth, "/?");
    if (end == auth || memchr(auth, '@', (size_t)(end - auth)) || *auth == ':')
        return 0;
    return 1;
}

char *rg_oidc_pkce_challenge(const char *verifier)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *s;

    if (!verifier || !EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) ||
        mdlen != 32)
        return NULL;
    s = rg_b64url_encode(md, mdlen);
    rg_wipe(md, sizeof md);
    return s;
}

/* A value from the network made safe for a log line: bounded, first line only, no control
 * characters. */
static void log_safe(const char *in, char *out, size_t outsz)
{
    size_t i = 0;
    for (; in && in[i] && in[i] != '\n' && in[i] != '\r' && i + 1 < outsz; i++)
        out[i] = ((unsigned char)in[i] < 0x20 || in[i] == 0x7f) ? '?' : in[i];
    out[i] = '\0';
}

/* Wipes the string members of a parsed token/userinfo response, then releases it. */
static void json_wipe_decref(json_t *doc)
{
    const char *k;
    json_t *v;
    if (!doc)
        return;
    if (json_is_object(doc))
        json_object_foreach(doc, k, v)
            if (json_is_string(v))
                rg_wipe((char *)json_string_value(v), json_string_length(v));
    json_decref(doc);
}

static rg_err check_realm(const struct rg_oidc_realm *r, struct rg_msg *msg)
{
    if (!r || !r->realm || !r->realm[0] || strlen(r->realm) > RG_PENDING_REALM_MAX)
        return rg_fail(msg, RG_ERR_CONFIG, "openid realm without a valid id");
    if (!r->issuer_url || !r->issuer_url[0])
        return rg_fail(msg, RG_ERR_CONFIG, "realm '%s': no issuer-url configured", r->realm);
    if (!r->client_id || !r->client_id[0])
        return rg_fail(msg, RG_ERR_CONFIG, "realm '%s': no client-id configured", r->realm);
    return RG_OK;
}

/* ---- context ---- */

rg_err rg_oidc_new(const char *pending_dir, struct rg_oidc **out)
{
    struct rg_oidc *rp;
    rg_err e;

    *out = NULL;
    if (!pending_dir || !*pending_dir)
        return RG_ERR_INVALID;
    rp = calloc(1, sizeof *rp);
    if (!rp)
        return RG_ERR_NOMEM;
    rp->pending_dir = strdup(pending_dir);
    if (!rp->pending_dir) {
        free(rp);
        return RG_ERR_NOMEM;
    }
    e = rg_oidc_cache_new(NULL, &rp->cache);
    if (e) {
        free(rp->pending_dir);
        free(rp);
        return e;
    }
    *out = rp;
    return RG_OK;
}

void rg_oidc_free(struct rg_oidc *rp)
{
    if (!rp)
        return;
    rg_oidc_cache_free(rp->cache);
    free(rp->pending_dir);
    free(rp);
}

rg_err rg_oidc_set_ca_file(struct rg_oidc *rp, const char *ca_file)
{
    struct rg_oidc_cache *c;
    rg_err e = rg_oidc_cache_new(ca_file, &c);
    if (e)
        return e;
    rg_oidc_cache_free(rp->cache);
    rp->cache = c;
    return RG_OK;
}

struct rg_oidc_cache *rg_oidc_cache(struct rg_oidc *rp)
{
    return rp->cache;
}

/* ---- authorization request ---- */

static rg_err add_param(struct rg_buf *b, int *first, const char *k, const char *v)
{
    rg_err e = rg_buf_appendf(b, "%s%s=", *first ? "" : "&", k);
    *first = 0;
    return e ? e : rg_url_encode(b, v);
}

/* "openid" + the configured scopes, space-joined, without duplicates. */
static rg_err scope_string(const char *scopes, struct rg_buf *out)
{
    struct rg_strlist v;
    rg_err e;

    rg_strlist_init(&v);
    e = rg_split_list(scopes ? scopes : RG_OIDC_DEFAULT_SCOPES, SPLIT_MAX_ITEMS, &v);
    if (!e)
        e = rg_buf_appends(out, "openid");
    for (size_t i = 0; !e && i < v.n; i++) {
        int dup = strcmp(v.items[i], "openid") == 0;
        for (size_t j = 0; !dup && j < i; j++)
            dup = strcmp(v.items[i], v.items[j]) == 0;
        if (!dup)
            e = rg_buf_appendf(out, " %s", v.items[i]);
    }
    rg_strlist_free(&v);
    return e;
}

static rg_err join_list(const char *text, struct rg_buf *out)
{
    struct rg_strlist v;
    rg_err e;

    rg_strlist_init(&v);
    e = rg_split_list(text, SPLIT_MAX_ITEMS, &v);
    for (size_t i = 0; !e && i < v.n; i++)
        e = rg_buf_appendf(out, "%s%s", i ? " " : "", v.items[i]);
    rg_strlist_free(&v);
    return e;
}

rg_err rg_oidc_build_auth_url(const struct rg_oidc_discovery *disc,
                              const struct rg_oidc_realm *realm, const char *redirect_url,
                              const char *state, const char *nonce, const char *code_challenge,
                              char **url_out, struct rg_msg *msg)
{
    struct rg_buf b, scope, acr;
    const char *base;
    size_t blen;
    int first = 1;
    rg_err e;

    *url_out = NULL;
    e = check_realm(realm, msg);
    if (e)
        return e;
    if (!disc || !disc->authorization_endpoint || !state || !nonce || !code_challenge)
        return rg_fail(msg, RG_ERR_INVALID, "realm '%s': incomplete authorization request",
                       realm->realm);
    if (!rg_oidc_redirect_url_valid(redirect_url))
        return rg_fail(msg, RG_ERR_INVALID, "realm '%s': redirect-url refused (absolute http(s) "
                       "URL of at most %d characters, no fragment)", realm->realm,
                       RG_OIDC_REDIRECT_MAX);
    rg_buf_init(&b, AUTH_URL_MAX);
    rg_buf_init(&scope, 4096);
    rg_buf_init(&acr, 4096);
    base = disc->authorization_endpoint;
    blen = strlen(base);
    e = rg_buf_appends(&b, base);
    /* the endpoint may carry its own query (e.g. a policy parameter) */
    if (!e && !strchr(base, '?'))
        e = rg_buf_appends(&b, "?");
    else if (!e && base[blen - 1] != '?' && base[blen - 1] != '&')
        e = rg_buf_appends(&b, "&");
    if (!e)
        e = scope_string(realm->scopes, &scope);
    if (!e && realm->acr_values)
        e = join_list(realm->acr_values, &acr);
    if (!e)
        e = add_param(&b, &first, "response_type", "code");
    if (!e)
        e = add_param(&b, &first, "client_id", realm->client_id);
    if (!e)
        e = add_param(&b, &first, "redirect_uri", redirect_url);
    if (!e)
        e = add_param(&b, &first, "scope", scope.data);
    if (!e)
        e = add_param(&b, &first, "state", state);
    if (!e)
        e = add_param(&b, &first, "nonce", nonce);
    if (!e)
        e = add_param(&b, &first, "code_challenge", code_challenge);
    if (!e)
        e = add_param(&b, &first, "code_challenge_method", "S256");
    if (!e && realm->prompt && realm->prompt[0])
        e = add_param(&b, &first, "prompt", realm->prompt);
    if (!e && acr.len)
        e = add_param(&b, &first, "acr_values", acr.data);
    if (!e) {
        *url_out = rg_buf_steal(&b);
        if (!*url_out)
            e = RG_ERR_NOMEM;
    }
    if (e)
        rg_fail(msg, e, "realm '%s': cannot build the authorization URL (%s)", realm->realm,
                rg_err_str(e));
    rg_buf_free(&b);
    rg_buf_free(&scope);
    rg_buf_free(&acr);
    return e;
}

static size_t allowed_algs(const struct rg_oidc_provider *prov, const char *only,
                           const char *client_key, const char *algs[RG_OIDC_MAX_ALGS + 1],
                           const char **secret);

rg_err rg_oidc_auth_url(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                        const char *redirect_url, char **url_out, struct rg_msg *msg)
{
    return rg_oidc_auth_url_bound(rp, realm, redirect_url, NULL, url_out, msg);
}

rg_err rg_oidc_auth_url_bound(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                              const char *redirect_url, const char *browser, char **url_out,
                              struct rg_msg *msg)
{
    const struct rg_oidc_provider *prov = NULL;
    struct rg_oidc_pending p;
    char state[RG_STATE_LEN + 1], *challenge = NULL;
    struct rg_msg why = {{0}};
    rg_err e;

    *url_out = NULL;
    memset(&p, 0, sizeof p);
    e = check_realm(realm, msg);
    if (e)
        return e;
    if (!rg_oidc_redirect_url_valid(redirect_url))
        return rg_fail(msg, RG_ERR_INVALID, "realm '%s': redirect-url refused (absolute http(s) "
                       "URL of at most %d characters, no fragment)", realm->realm,
                       RG_OIDC_REDIRECT_MAX);
    e = rg_oidc_provider_get(rp->cache, realm->issuer_url, realm->ca_file, &prov, &why);
    if (e) {
        rg_fail(msg, e, "realm '%s': %s", realm->realm, why.text);
        goto out;
    }
    /* a provider whose every advertised algorithm this realm refuses (e.g. HS256 only,
     * without hmac-id-tokens) could never complete a login: refuse before sending the user
     * there (catalogue D-08) */
    {
        const char *algs[RG_OIDC_MAX_ALGS + 1], *secret;
        if (allowed_algs(prov, realm->id_token_algs,
                         realm->allow_hmac && realm->client_key && realm->client_key[0]
                                   ? realm->client_key : NULL,
                         algs, &secret) == 0) {
            e = rg_fail(msg, RG_ERR_CONFIG, "realm '%s': the provider advertises no ID token "
                        "signing algorithm this realm accepts", realm->realm);
            goto out;
        }
    }
    memcpy(p.realm, realm->realm, strlen(realm->realm) + 1);
    p.nonce = rg_random_token(16);
    p.pkce_verifier = rg_random_token(32);
    p.redirect_url = strdup(redirect_url);
    p.browser = browser ? strdup(browser) : NULL;
    p.ctime = time(NULL);
    challenge = rg_oidc_pkce_challenge(p.pkce_verifier);
    if (!p.nonce || !p.pkce_verifier || !p.redirect_url || !challenge ||
        (browser && !p.browser)) {
        e = rg_fail(msg, RG_ERR_CRYPTO, "realm '%s': cannot draw the login's random values",
                    realm->realm);
        goto out;
    }
    e = rg_pending_store(rp->pending_dir, &p, p.ctime, state, &why);
    if (e) {
        rg_fail(msg, e, "realm '%s': %s", realm->realm, why.text);
        goto out;
    }
    e = rg_oidc_build_auth_url(&prov->disc, realm, redirect_url, state, p.nonce, challenge,
                               url_out, msg);
    if (e) {
        /* do not leave a login behind that can never be used */
        struct rg_oidc_pending gone;
        if (rg_pending_take(rp->pending_dir, state, p.ctime, &gone, NULL) == RG_OK)
            rg_oidc_pending_clear(&gone);
    }
out:
    rg_wipe(state, sizeof state);
    rg_free_secret(challenge);
    rg_oidc_pending_clear(&p);
    rg_oidc_provider_release(rp->cache, prov);
    return e;
}

rg_err rg_oidc_take_pending(struct rg_oidc *rp, const char *state, struct rg_oidc_pending *out,
                            struct rg_msg *msg)
{
    return rg_pending_take(rp->pending_dir, state, time(NULL), out, msg);
}

/* ---- code exchange ---- */

static int code_valid(const char *code)
{
    size_t len;
    if (!code)
        return 0;
    len = strlen(code);
    if (len == 0 || len > RG_OIDC_CODE_MAX)
        return 0;
    /* RFC 6749 Appendix A.11: code = 1*VSCHAR */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)code[i] < 0x20 || (unsigned char)code[i] > 0x7e)
            return 0;
    return 1;
}

int rg_oidc_code_valid(const char *code)
{
    return code_valid(code);
}

/* Logs the provider's error response (Entra: error, error_description, error_codes,
 * trace_id) and fills msg. */
static rg_err token_error(const struct rg_oidc_realm *realm, const char *url,
                          const struct rg_httpc_resp *r, struct rg_msg *msg)
{
    json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
    char err[80] = "", desc[240] = "", codes[80] = "", trace[80] = "";

    if (json_is_object(doc)) {
        const json_t *ec = json_object_get(doc, "error_codes");
        log_safe(json_string_value(json_object_get(doc, "error")), err, sizeof err);
        log_safe(json_string_value(json_object_get(doc, "error_description")), desc, sizeof desc);
        log_safe(json_string_value(json_object_get(doc, "trace_id")), trace, sizeof trace);
        if (json_is_array(ec)) {
            size_t i, off = 0;
            json_t *v;
            json_array_foreach(ec, i, v) {
                int n;
                if (!json_is_integer(v) || i >= 6)
                    continue;
                n = snprintf(codes + off, sizeof codes - off, "%s%lld", off ? "," : "",
                             (long long)json_integer_value(v));
                if (n < 0 || (size_t)n >= sizeof codes - off)
                    break;
                off += (size_t)n;
            }
        }
    }
    json_decref(doc);
    rg_warn("openid realm '%s': token endpoint %.200s answered HTTP %ld: error=%s "
            "error_description=%s error_codes=[%s] trace_id=%s",
            realm->realm, url, r->status, err[0] ? err : "-", desc[0] ? desc : "-", codes,
            trace[0] ? trace : "-");
    return rg_fail(msg, RG_ERR_AUTH, "realm '%s': token request refused: HTTP %ld %s%s%s",
                   realm->realm, r->status, err[0] ? err : "(no error code)",
                   desc[0] ? ": " : "", desc);
}

/* Appends client_assertion_type and client_assertion (private_key_jwt) to a token request. */
static rg_err add_client_assertion(const struct rg_oidc_provider *prov,
                                   const struct rg_oidc_realm *realm, struct rg_buf *body,
                                   struct rg_msg *msg)
{
    const struct rg_oidc_discovery *d = &prov->disc;
    const char *alg = rg_clientauth_alg(d->auth_algs_listed, d->auth_alg_ps256,
                                        d->auth_alg_rs256);
    struct rg_client_cred cred;
    struct rg_msg why = {{0}};
    char *jwt = NULL;
    time_t now = time(NULL);
    rg_err e;

    if (!alg)
        return rg_fail(msg, RG_ERR_CONFIG, "realm '%s': the provider accepts neither PS256 nor "
                       "RS256 client assertions", realm->realm);
    if (d->auth_methods_listed && !d->auth_pkjwt)
        rg_warn("openid realm '%s': provider does not list private_key_jwt; sending a client "
                "assertion anyway", realm->realm);
    e = rg_clientauth_load(realm->client_cert, realm->client_cert_key, now, &cred, &why);
    if (e)
        return rg_fail(msg, e, "realm '%s': %s", realm->realm, why.text);
    e = rg_clientauth_assertion(&cred, realm->client_id, d->token_endpoint, alg, now, &jwt, &why);
    rg_clientauth_free(&cred);
    if (e)
        return rg_fail(msg, e, "realm '%s': %s", realm->realm, why.text);
    e = rg_buf_appends(body, "&client_assertion_type=");
    if (!e)
        e = rg_url_encode(body, RG_CLIENTAUTH_TYPE);
    if (!e)
        e = rg_buf_appends(body, "&client_assertion=");
    if (!e)
        e = rg_url_encode(body, jwt);
    rg_free_secret(jwt);
    if (e)
        return rg_fail(msg, e, "realm '%s': cannot build the token request", realm->realm);
    return RG_OK;
}

/* POSTs the code to the token endpoint; *resp_out is the parsed JSON object. */
static rg_err exchange_code(const struct rg_oidc_provider *prov, const char *ca_file, const struct rg_oidc_realm *realm,
                            const struct rg_oidc_pending *pending, const char *code,
                            json_t **resp_out, struct rg_msg *msg)
{
    struct rg_buf body, user, pass;
    struct rg_httpc_opts o = {.max_body = RG_OIDC_TOKEN_RESPONSE_MAX, .ca_file = ca_file};
    struct rg_httpc_resp r;
    struct rg_msg why = {{0}};
    /* a certificate (private_key_jwt, clientauth.h) replaces the secret when configured */
    int use_cert = realm->client_cert && realm->client_cert[0];
    int have_key = !use_cert && realm->client_key && realm->client_key[0];
    int use_post;
    json_t *doc = NULL;
    rg_err e;

    *resp_out = NULL;
    memset(&r, 0, sizeof r);
    rg_buf_init(&body, TOKEN_BODY_MAX);
    rg_buf_init(&user, 2048);
    rg_buf_init(&pass, 2048);
    /* client_secret_basic unless the provider lists client_secret_post but not basic */
    use_post = have_key && prov->disc.auth_methods_listed && prov->disc.auth_post &&
               !prov->disc.auth_basic;

    e = rg_buf_appends(&body, "grant_type=authorization_code&code=");
    if (!e)
        e = rg_url_encode(&body, code);
    if (!e)
        e = rg_buf_appends(&body, "&redirect_uri=");
    if (!e)
        e = rg_url_encode(&body, pending->redirect_url);
    if (!e)
        e = rg_buf_appends(&body, "&code_verifier=");
    if (!e)
        e = rg_url_encode(&body, pending->pkce_verifier);
    if (!e && (!have_key || use_post)) {
        e = rg_buf_appends(&body, "&client_id=");
        if (!e)
            e = rg_url_encode(&body, realm->client_id);
    }
    if (!e && use_post) {
        e = rg_buf_appends(&body, "&client_secret=");
        if (!e)
            e = rg_url_encode(&body, realm->client_key);
    }
    if (!e && use_cert) {
        e = add_client_assertion(prov, realm, &body, msg);
        if (e)
            goto out;
    }
    if (!e && have_key && !use_post) {
        /* RFC 6749 §2.3.1: both parts form-urlencoded before the Basic encoding */
        e = rg_url_encode(&user, realm->client_id);
        if (!e)
            e = rg_url_encode(&pass, realm->client_key);
        o.basic_user = user.data;
        o.basic_pass = pass.data;
    }
    if (e) {
        e = rg_fail(msg, e, "realm '%s': cannot build the token request", realm->realm);
        goto out;
    }
    e = rg_httpc_post_form(prov->disc.token_endpoint, body.data, body.len, &o, &r, &why);
    if (e) {
        e = rg_fail(msg, e, "realm '%s': token request failed: %s", realm->realm, why.text);
        goto out;
    }
    if (r.status != 200) {
        e = token_error(realm, prov->disc.token_endpoint, &r, msg);
        goto out;
    }
    doc = json_loadb(r.body, r.body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': token response is not a JSON object "
                    "(content type '%s')", realm->realm, r.content_type);
        goto out;
    }
    *resp_out = doc;
    doc = NULL;
out:
    json_wipe_decref(doc);
    rg_httpc_resp_free(&r);
    rg_buf_free(&body);
    rg_buf_free(&user);
    rg_buf_free(&pass);
    return e;
}

/* ---- ID token ---- */

static int alg_is_hmac(const char *a)
{
    return strncmp(a, "HS", 2) == 0;
}

/* The provider's advertised algorithms (pointers into prov, valid while it is held);
 * HMAC ones only when there is a client secret to be the key. Returns how many. */
/* The ID-token algorithms to accept: those the provider advertises, narrowed to the realm's
 * own list `only` (split_list; NULL = no narrowing), HMAC ones only with client_key. */
static size_t allowed_algs(const struct rg_oidc_provider *prov, const char *only,
                           const char *client_key, const char *algs[RG_OIDC_MAX_ALGS + 1],
                           const char **secret)
{
    struct rg_strlist realm_algs;
    size_t n = 0;
    *secret = NULL;
    if (rg_split_list(only, SPLIT_MAX_ITEMS, &realm_algs) != RG_OK) {
        algs[0] = NULL;
        return 0; /* an unusable list allows nothing */
    }
    for (size_t i = 0; i < RG_OIDC_MAX_ALGS && prov->disc.id_token_algs[i]; i++) {
        const char *a = prov->disc.id_token_algs[i];
        if (only && !rg_strlist_contains(&realm_algs, a))
            continue;
        if (alg_is_hmac(a)) {
            if (!client_key)
                continue;
            *secret = client_key;
        }
        algs[n++] = a;
    }
    algs[n] = NULL;
    rg_strlist_free(&realm_algs);
    return n;
}

static rg_err verify_id_token(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                              const struct rg_oidc_provider **prov, const char *id_token,
                              const struct rg_oidc_pending *pending, json_t **claims,
                              struct rg_msg *msg)
{
    const char *algs[RG_OIDC_MAX_ALGS + 1];
    const char *secret = NULL;
    int have_key = realm->client_key && realm->client_key[0];
    struct rg_jws jws;
    struct rg_msg why = {{0}};
    struct rg_idtoken_expect x;
    const json_t *typ;
    struct rg_strlist aud_list;
    const char **aud_extra = NULL;
    size_t n = 0;
    rg_err e;

    *claims = NULL;
    rg_strlist_init(&aud_list);
    e = rg_jws_parse(id_token, strlen(id_token), &jws, &why);
    if (e)
        return rg_fail(msg, RG_ERR_AUTH, "realm '%s': ID token malformed: %s", realm->realm,
                       why.text);
    /* only an ID token may be used as one (RFC 8725 §3.11: no logout or access tokens) */
    typ = json_object_get(jws.header, "typ");
    if (typ && (!json_is_string(typ) || (strcasecmp(json_string_value(typ), "JWT") != 0 &&
                                         strcasecmp(json_string_value(typ), "application/jwt") != 0))) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': ID token header typ is not JWT", realm->realm);
        goto out;
    }
    if (json_object_get(jws.header, "cty")) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': nested ID token (cty) refused", realm->realm);
        goto out;
    }
    n = allowed_algs(*prov, realm->id_token_algs,
                         have_key && realm->allow_hmac ? realm->client_key : NULL, algs, &secret);
    if (n == 0) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': no usable ID token algorithm (HMAC needs a "
                    "client key)", realm->realm);
        goto out;
    }
    e = rg_jws_verify(&jws, &(*prov)->keys, algs, secret, &why);
    if (e == RG_ERR_NOTFOUND) {
        /* key rotation: one throttled refetch of the key set, then one more try */
        const struct rg_oidc_provider *fresh = NULL;
        struct rg_msg why2 = {{0}};
        rg_err re = rg_oidc_provider_refresh_keys(rp->cache, *prov, &fresh, &why2);
        if (re) {
            e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': %s; JWKS refetch: %s", realm->realm,
                        why.text, why2.text);
            goto out;
        }
        rg_oidc_provider_release(rp->cache, *prov);
        *prov = fresh;
        /* algs pointed into the released snapshot: take them from the new one */
        n = allowed_algs(*prov, realm->id_token_algs,
                         have_key && realm->allow_hmac ? realm->client_key : NULL, algs, &secret);
        e = n ? rg_jws_verify(&jws, &(*prov)->keys, algs, secret, &why) : RG_ERR_AUTH;
    }
    if (e) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': ID token signature refused: %s",
                    realm->realm, why.text);
        goto out;
    }
    /* extra accepted audiences, as the NULL-terminated vector the ID-token check takes */
    if (rg_split_list(realm->audiences, SPLIT_MAX_ITEMS, &aud_list) != RG_OK ||
        !(aud_extra = calloc(aud_list.n + 1, sizeof *aud_extra))) {
        e = rg_fail(msg, RG_ERR_CONFIG, "realm '%s': audiences list unusable", realm->realm);
        goto out;
    }
    for (size_t i = 0; i < aud_list.n; i++)
        aud_extra[i] = aud_list.items[i];
    memset(&x, 0, sizeof x);
    x.issuer = (*prov)->disc.issuer;
    x.client_id = realm->client_id;
    x.audiences = aud_extra;
    x.nonce = pending->nonce;
    x.now = time(NULL);
    x.leeway = RG_OIDC_LEEWAY;
    x.max_iat_age = RG_OIDC_MAX_IAT_AGE;
    e = rg_idtoken_check(jws.payload, &x, &why);
    if (e) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': ID token refused: %s", realm->realm,
                    why.text);
        goto out;
    }
    *claims = json_deep_copy(jws.payload);
    if (!*claims)
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
out:
    free(aud_extra);
    rg_strlist_free(&aud_list);
    rg_jws_free(&jws);
    return e;
}

/* ---- userinfo ---- */

static rg_err merge_userinfo(const struct rg_oidc_realm *realm, const char *url,
                             const char *ca_file, const char *access_token, json_t *claims,
                             struct rg_msg *msg)
{
    struct rg_httpc_opts o = {.max_body = RG_OIDC_USERINFO_MAX, .ca_file = ca_file,
                              .bearer = access_token};
    struct rg_httpc_resp r;
    struct rg_msg why = {{0}};
    json_t *doc = NULL, *v;
    const json_t *usub, *isub;
    const char *k;
    rg_err e;

    e = rg_httpc_get(url, &o, &r, &why);
    if (e)
        return rg_fail(msg, e, "realm '%s': userinfo request failed: %s", realm->realm, why.text);
    if (r.status != 200) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': userinfo answered HTTP %ld", realm->realm,
                    r.status);
        goto out;
    }
    if (rg_httpc_is_media_type(r.content_type, "application/jwt")) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': signed userinfo responses are not supported",
                    realm->realm);
        goto out;
    }
    doc = json_loadb(r.body, r.body_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc)) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': userinfo response is not a JSON object",
                    realm->realm);
        goto out;
    }
    /* Core §5.3.2: the userinfo must be about the same subject */
    usub = json_object_get(doc, "sub");
    isub = json_object_get(claims, "sub");
    if (!json_is_string(usub) || !json_is_string(isub) ||
        strcmp(json_string_value(usub), json_string_value(isub)) != 0) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': userinfo sub does not match the ID token sub",
                    realm->realm);
        goto out;
    }
    /* the ID token wins: userinfo only fills what is missing or null */
    json_object_foreach(doc, k, v) {
        const json_t *have = json_object_get(claims, k);
        if (have && !json_is_null(have))
            continue;
        if (json_object_set_new(claims, k, json_deep_copy(v)) != 0) {
            e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    e = RG_OK;
out:
    json_decref(doc);
    rg_httpc_resp_free(&r);
    return e;
}

rg_err rg_oidc_finish(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                      const struct rg_oidc_pending *pending, const char *code,
                      const char *redirect_url, json_t **claims_out, struct rg_msg *msg)
{
    return rg_oidc_finish_ex(rp, realm, pending, code, redirect_url, NULL, claims_out, NULL,
                             msg);
}

rg_err rg_oidc_finish_ex(struct rg_oidc *rp, const struct rg_oidc_realm *realm,
                         const struct rg_oidc_pending *pending, const char *code,
                         const char *redirect_url, const char *iss_param, json_t **claims_out,
                         char **id_token_out, struct rg_msg *msg)
{
    const struct rg_oidc_provider *prov = NULL;
    struct rg_msg why = {{0}};
    json_t *tok = NULL, *claims = NULL;
    const json_t *idt, *at, *tt;
    const char *ca_file = NULL;
    int want_userinfo;
    rg_err e;

    *claims_out = NULL;
    if (id_token_out)
        *id_token_out = NULL;
    e = check_realm(realm, msg);
    if (e)
        return e;
    if (!pending || !pending->nonce || !pending->pkce_verifier || !pending->redirect_url)
        return rg_fail(msg, RG_ERR_INVALID, "realm '%s': no pending login", realm->realm);
    if (strcmp(pending->realm, realm->realm) != 0)
        return rg_fail(msg, RG_ERR_AUTH, "realm '%s': the pending login belongs to realm '%s'",
                       realm->realm, pending->realm);
    if (!redirect_url || strcmp(redirect_url, pending->redirect_url) != 0)
        return rg_fail(msg, RG_ERR_AUTH, "realm '%s': redirect-url differs from the one the "
                       "login was started with", realm->realm);
    if (!code_valid(code))
        return rg_fail(msg, RG_ERR_INVALID, "realm '%s': code missing, longer than %d or with "
                       "invalid characters", realm->realm, RG_OIDC_CODE_MAX);

    e = rg_oidc_provider_get(rp->cache, realm->issuer_url, realm->ca_file, &prov, &why);
    if (e) {
        rg_fail(msg, e, "realm '%s': %s", realm->realm, why.text);
        goto out;
    }
    /* RFC 9207: the response names its issuer; a wrong one means a mix-up between providers,
     * and no code may then be sent anywhere */
    if (iss_param ? strcmp(iss_param, prov->disc.issuer) != 0 : prov->disc.iss_in_response) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': authorization response iss %s%.200s%s does "
                    "not match the issuer '%.200s'", realm->realm, iss_param ? "'" : "",
                    iss_param ? iss_param : "missing", iss_param ? "'" : "", prov->disc.issuer);
        goto out;
    }
    ca_file = prov->ca_file; /* the trust the provider was fetched with */
    e = exchange_code(prov, ca_file, realm, pending, code, &tok, msg);
    if (e)
        goto out;
    idt = json_object_get(tok, "id_token");
    if (!json_is_string(idt) || json_string_length(idt) == 0) {
        e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': token response has no id_token", realm->realm);
        goto out;
    }
    want_userinfo = realm->query_userinfo && prov->disc.userinfo_endpoint;
    at = json_object_get(tok, "access_token");
    tt = json_object_get(tok, "token_type");
    if (want_userinfo) {
        /* RFC 6749 §5.1: token_type is case-insensitive */
        if (!json_is_string(at) || json_string_length(at) == 0 ||
            json_string_length(at) > ACCESS_TOKEN_MAX) {
            e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': token response has no usable "
                        "access_token for userinfo", realm->realm);
            goto out;
        }
        if (!json_is_string(tt) || strcasecmp(json_string_value(tt), "Bearer") != 0) {
            e = rg_fail(msg, RG_ERR_AUTH, "realm '%s': token_type is not Bearer", realm->realm);
            goto out;
        }
    }
    e = verify_id_token(rp, realm, &prov, json_string_value(idt), pending, &claims, msg);
    if (e)
        goto out; /* and no further request to the provider */
    if (want_userinfo) {
        e = merge_userinfo(realm, prov->disc.userinfo_endpoint, ca_file, json_string_value(at),
                           claims, msg);
        if (e)
            goto out;
    } else if (realm->query_userinfo) {
        rg_debug("openid realm '%s': provider has no userinfo endpoint; ID token claims only",
                 realm->realm);
    }
    if (id_token_out && !(*id_token_out = strdup(json_string_value(idt)))) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    *claims_out = claims;
    claims = NULL;
out:
    json_decref(claims);
    json_wipe_decref(tok);
    rg_oidc_provider_release(rp->cache, prov);
    return e;
}

/* ---- user name ---- */

static rg_err dup_claim(const json_t *v, const char *name, char **out, struct rg_msg *msg)
{
    if (!json_is_string(v))
        return rg_fail(msg, RG_ERR_AUTH, "claim '%s' is not a string", name);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return rg_fail(msg, RG_ERR_AUTH, "claim '%s' contains a NUL byte", name);
    *out = strdup(json_string_value(v));
    return *out ? RG_OK : rg_fail(msg, RG_ERR_NOMEM, "out of memory");
}

rg_err rg_oidc_claim_username(const json_t *claims, const char *username_claim, char **out,
                              struct rg_msg *msg)
{
    const char *name = (username_claim && *username_claim) ? username_claim : "sub";
    const json_t *v;

    *out = NULL;
    if (!json_is_object(claims))
        return rg_fail(msg, RG_ERR_INVALID, "no claims");
    v = json_object_get(claims, name);
    if (v && !json_is_null(v))
        return dup_claim(v, name, out, msg);
    /* legacy aliases of the first PVE versions */
    if (strcmp(name, "subject") == 0) {
        v = json_object_get(claims, "sub");
        if (v && !json_is_null(v))
            return dup_claim(v, "sub", out, msg);
        return rg_fail(msg, RG_ERR_AUTH, "missing claim 'sub'");
    }
    if (strcmp(name, "username") == 0) {
        v = json_object_get(claims, "preferred_username");
        if (v && !json_is_null(v))
            return dup_claim(v, "preferred_username", out, msg);
        return rg_fail(msg, RG_ERR_AUTH, "missing claim 'preferred_username'");
    }
    return rg_fail(msg, RG_ERR_AUTH, "missing configured claim '%.100s' in returned info object",
                   name);
}
