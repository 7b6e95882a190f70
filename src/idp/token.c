/* token.c — the token endpoint (part of the web module, see web.h).
 *
 * Grants: authorization_code, refresh_token and client_credentials, for confidential clients
 * authenticating with a client secret (client_secret_basic or client_secret_post) or a
 * certificate (private_key_jwt: a client_assertion signed with the key of a certificate
 * registered by `app cert add`, found by its x5t or x5t#S256 header). Order of checks:
 * method, content type, repeated parameters, grant_type, client_id, the app, the grant's
 * own parameters, client authentication, then the grant itself — so that nothing about a
 * code or refresh token is revealed to an unauthenticated caller. Parameters are read from
 * the form body only (secrets never from the query string). */
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "idp/claims.h"
#include "idp/cred.h"
#include "idp/faults.h"
#include "idp/keys.h"
#include "idp/web.h"
#include "jose/jws.h"

#define SECRET_MAX 256
#define VERIFIER_MAX 128
#define BASIC_MAX 2048

struct client_auth {
    char *id;       /* from the Basic header or the body */
    char *secret;   /* NULL when none was sent */
};

static void client_auth_clear(struct client_auth *c)
{
    free(c->id);
    rg_free_secret(c->secret);
    c->id = c->secret = NULL;
}

/* RFC 6749 §2.3.1: base64 of form-encoded id ":" form-encoded secret. */
static rg_err parse_basic(const char *value, struct client_auth *out)
{
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    const char *colon;
    rg_err e = RG_ERR_INVALID;

    while (*value == ' ')
        value++;
    if (strlen(value) > BASIC_MAX || rg_b64_decode(value, strlen(value), &raw, &rawlen))
        return RG_ERR_INVALID;
    if (memchr(raw, '\0', rawlen))
        goto out;
    colon = memchr(raw, ':', rawlen);
    if (!colon || colon == (const char *)raw)
        goto out;
    if (rg_url_decode((const char *)raw, (size_t)(colon - (const char *)raw), 1, &out->id) ||
        rg_url_decode(colon + 1, rawlen - (size_t)(colon + 1 - (const char *)raw), 1,
                      &out->secret)) {
        client_auth_clear(out);
        goto out;
    }
    e = RG_OK;
out:
    rg_wipe(raw, rawlen);
    free(raw);
    return e;
}

enum secret_result { SECRET_OK, SECRET_EXPIRED, SECRET_WRONG };

/* Compares against every stored secret (no early exit), each in constant time. */
static enum secret_result check_secret(const struct rg_idp_app *a, const char *secret,
                                       int64_t now)
{
    bool valid = false, expired = false;

    if (strlen(secret) > SECRET_MAX)
        return SECRET_WRONG;
    for (size_t i = 0; i < a->n_secrets; i++) {
        unsigned char d[32];
        if (rg_idp_secret_digest(secret, a->secrets[i].salt, d) == RG_OK &&
            rg_ct_eq(d, sizeof d, a->secrets[i].hash, sizeof a->secrets[i].hash)) {
            if (a->secrets[i].expires > now)
                valid = true;
            else
                expired = true;
        }
        rg_wipe(d, sizeof d);
    }
    return valid ? SECRET_OK : expired ? SECRET_EXPIRED : SECRET_WRONG;
}

static bool verifier_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 43 || n > VERIFIER_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("-._~", v[i]))
            return false;
    return true;
}

/* RFC 7636 §4.6. */
static bool pkce_ok(const struct rg_idp_grant *g, const char *verifier)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *enc;
    bool ok;

    if (!g->code_challenge)
        return true;
    if (!verifier || !verifier_ok(verifier))
        return false;
    if (strcmp(g->method, "plain") == 0)
        return rg_ct_streq(verifier, g->code_challenge);
    if (!EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return false;
    enc = rg_b64url_encode(md, sizeof md);
    ok = enc && rg_ct_streq(enc, g->code_challenge);
    free(enc);
    return ok;
}

/* The token response's scope: what was granted; with only OIDC scopes Entra answers with a
 * Graph token and adds the consented User.Read. */
static char *response_scope(const struct rg_idp_rq *rq, const struct rg_idp_grant *g)
{
    static const char *const oidc[] = {"openid", "profile", "email", "offline_access"};
    const char *p = g->scopes;
    bool only_oidc = true;
    char *out = NULL;

    while (*p && only_oidc) {
        size_t n = strcspn(p, " ");
        bool is_oidc = false;
        for (size_t i = 0; i < 4; i++)
            is_oidc |= strlen(oidc[i]) == n && strncmp(p, oidc[i], n) == 0;
        only_oidc = is_oidc;
        p += n;
        while (*p == ' ')
            p++;
    }
    if (only_oidc && rg_idp_consent_covers(rq->tenant, g->client_id, g->oid, "User.Read")) {
        if (asprintf(&out, "%s User.Read", g->scopes) < 0)
            out = NULL;
        return out;
    }
    return strdup(g->scopes);
}

/* Entra: refresh tokens of SPA redirect URIs live 24 h (not extendable), others 90 days. */
static int64_t refresh_ttl(const struct rg_idp_rq *rq, const struct rg_idp_grant *g)
{
    const struct rg_idp_app *a = rg_idp_app_find(rq->tenant, g->client_id);
    return a && a->platform == RG_IDP_PLATFORM_SPA ? RG_IDP_REFRESH_TTL_SPA : RG_IDP_REFRESH_TTL;
}

/* MSAL asks for client_info=1 and builds its account cache key from the answer. */
static bool want_client_info(const struct rg_idp_rq *rq)
{
    const char *v = rg_idp_param(rq, "client_info", true);
    return v && strcmp(v, "1") == 0;
}

/* Entra's client_info: base64url of {"uid":"<oid>","utid":"<tid>"} (malloc'd). */
static char *client_info_value(const struct rg_idp_grant *g)
{
    char json[2 * RG_IDP_GUID_LEN + 32];
    int n = snprintf(json, sizeof json, "{\"uid\":\"%s\",\"utid\":\"%s\"}", g->oid, g->tenant);
    return n > 0 && (size_t)n < sizeof json ? rg_b64url_encode(json, (size_t)n) : NULL;
}

/* Issues access token, ID token (openid) and refresh token (with_refresh) for g and sends
 * the response. keep is the grant a refresh token carries (original scopes); code, when not
 * NULL, gets the tokens linked for replay revocation. */
static void issue_tokens(struct rg_idp_rq *rq, const struct rg_idp_grant *g,
                         const struct rg_idp_user *u, bool with_nonce, bool with_refresh,
                         const struct rg_idp_grant *keep, const char *code)
{
    char issuer[2300], *id_token = NULL, *at = NULL, *rt = NULL, *scope = NULL, *body = NULL;
    char *client_info = NULL;
    const char *kid = NULL;
    EVP_PKEY *key;
    json_t *claims = NULL, *hdr = NULL, *o = NULL;
    int fault;

    if (rg_idp_scopes_has(g->scopes, "openid")) {
        key = rg_idp_snap_signer(rq->snap, rq->tenant, &kid);
        if (!key) {
            rg_idp_error_json(rq, 500, "server_error", 500011,
                              "The tenant has no usable token-signing key.");
            return;
        }
        rg_idp_issuer(rq->w->base, rq->tenant->id, issuer, sizeof issuer);
        claims = rg_idp_id_token_claims(issuer, rq->w->base, rq->tenant,
                                        rg_idp_app_find(rq->tenant, g->client_id), g, u, rq->now,
                                        with_nonce, false);
        hdr = json_pack("{s:s}", "kid", kid);
        /* test-only ID token faults (faults.h); 0 = none set, sign normally */
        fault = claims ? rg_idp_faults_id_token(claims, key, kid, &id_token) : -1;
        if (!claims || !hdr || fault < 0 ||
            (fault == 0 && rg_jws_sign(claims, hdr, "RS256", key, &id_token))) {
            rg_idp_error_json(rq, 500, "server_error", 90033,
                              "A transient error has occurred. Please try again.");
            goto out;
        }
    }
    scope = response_scope(rq, g);
    if (!scope || rg_idp_access_put(rq->w->flow, g, rq->now, RG_IDP_ACCESS_TTL, &at) ||
        (with_refresh &&
         rg_idp_refresh_put(rq->w->flow, keep, rq->now, refresh_ttl(rq, g), &rt))) {
        rg_idp_error_json(rq, 500, "server_error", 90033,
                          "A transient error has occurred. Please try again.");
        goto out;
    }
    if (code)
        rg_idp_code_link(rq->w->flow, code, at, rt);
    o = json_pack("{s:s,s:s,s:i,s:i,s:s}", "token_type", "Bearer", "scope", scope, "expires_in",
                  RG_IDP_ACCESS_TTL, "ext_expires_in", RG_IDP_ACCESS_TTL, "access_token", at);
    client_info = want_client_info(rq) ? client_info_value(g) : NULL;
    if (!o || (rt && json_object_set_new(o, "refresh_token", json_string(rt))) ||
        (id_token && json_object_set_new(o, "id_token", json_string(id_token))) ||
        (want_client_info(rq) &&
         (!client_info || json_object_set_new(o, "client_info", json_string(client_info)))) ||
        (rg_idp_faults_token_json(o), false) || /* test-only; no-op without --test-faults */
        !(body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ||
        rg_http_respond(rq->resp, 200, "application/json; charset=utf-8", body, strlen(body))) {
        rg_idp_error_json(rq, 500, "server_error", 90033,
                          "A transient error has occurred. Please try again.");
        goto out;
    }
    rg_http_add_header(rq->resp, "Pragma", "no-cache");
    rg_idp_outcome(rq, "tokens issued: user %s app %s scope '%.100s'%s", u->upn, g->client_id,
                   scope, rt ? " +refresh" : "");
out:
    rg_free_secret(body);
    json_decref(o);
    json_decref(claims);
    json_decref(hdr);
    rg_free_secret(id_token);
    free(client_info);
    rg_free_secret(at);
    rg_free_secret(rt);
    free(scope);
}

/* The user a grant names, if still allowed to get tokens; else answers the error. */
static const struct rg_idp_user *grant_user(struct rg_idp_rq *rq, const struct rg_idp_grant *g)
{
    const struct rg_idp_user *u = rg_idp_user_find_oid(rq->tenant, g->oid);
    if (!u) {
        rg_idp_error_json(rq, 400, "invalid_grant", 50034,
                          "The user account does not exist in the '%s' directory.",
                          rq->tenant->name);
        return NULL;
    }
    if (!u->enabled) {
        rg_idp_error_json(rq, 400, "invalid_grant", 50057,
                          "The user account is disabled.");
        return NULL;
    }
    return u;
}

static void grant_code(struct rg_idp_rq *rq, const struct rg_idp_app *app, const char *code,
                       const char *redirect_uri)
{
    const char *verifier = rg_idp_param(rq, "code_verifier", true);
    const struct rg_idp_user *u;
    struct rg_idp_grant g;
    enum rg_idp_redeem r;

    if (!rg_idp_code_wellformed(code)) {
        rg_idp_error_json(rq, 400, "invalid_grant", 9002313,
                          "Invalid request. Request is malformed or invalid.");
        return;
    }
    r = rg_idp_code_redeem(rq->w->flow, code, rq->now, &g);
    if (r == RG_IDP_REDEEM_UNKNOWN) {
        rg_idp_error_json(rq, 400, "invalid_grant", 9002313,
                          "Invalid request. Request is malformed or invalid.");
        return;
    }
    if (r == RG_IDP_REDEEM_USED) {
        rg_idp_error_json(rq, 400, "invalid_grant", 54005,
                          "OAuth2 Authorization code was already redeemed, please retry with a "
                          "new valid code or use an existing refresh token.");
        return;
    }
    if (r == RG_IDP_REDEEM_EXPIRED) {
        rg_idp_error_json(rq, 400, "invalid_grant", 70008,
                          "The provided authorization code or refresh token has expired due to "
                          "inactivity. Send a new interactive authorization request for this "
                          "user and resource.");
        return;
    }
    if (strcmp(g.tenant, rq->tenant->id) != 0)
        rg_idp_error_json(rq, 400, "invalid_grant", 700005,
                          "Provided Authorization Code is intended to use against other tenant, "
                          "thus rejected.");
    else if (strcmp(g.client_id, app->client_id) != 0)
        rg_idp_error_json(rq, 400, "invalid_grant", 70000,
                          "Provided grant is invalid or malformed: the code was issued to "
                          "another application.");
    else if (strcmp(g.redirect_uri, redirect_uri) != 0)
        rg_idp_error_json(rq, 400, "invalid_grant", 50011,
                          "The redirect URI '%.300s' specified in the request does not match "
                          "the redirect URI used in the authorization request for the code.",
                          redirect_uri);
    else if (!pkce_ok(&g, verifier))
        rg_idp_error_json(rq, 400, "invalid_grant", 501481,
                          "The Code_Verifier does not match the code_challenge supplied in the "
                          "authorization request.");
    else if ((u = grant_user(rq, &g)) != NULL)
        issue_tokens(rq, &g, u, true, rg_idp_scopes_has(g.scopes, "offline_access"), &g, code);
    rg_idp_grant_clear(&g);
}

static bool token_shape_ok(const char *t)
{
    size_t n = strlen(t);
    if (n != 43)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '_')
            return false;
    return true;
}

static void grant_refresh(struct rg_idp_rq *rq, const struct rg_idp_app *app, const char *rt)
{
    const char *scope = rg_idp_param(rq, "scope", true);
    const struct rg_idp_user *u;
    struct rg_idp_grant g, use;
    struct rg_msg why;
    enum rg_idp_redeem r;
    char *want = NULL;

    memset(&use, 0, sizeof use);
    r = token_shape_ok(rt) ? rg_idp_refresh_redeem(rq->w->flow, rt, rq->now, &g)
                           : RG_IDP_REDEEM_UNKNOWN;
    if (r == RG_IDP_REDEEM_UNKNOWN || r == RG_IDP_REDEEM_USED) {
        rg_idp_error_json(rq, 400, "invalid_grant", 9002313,
                          "Invalid request. Request is malformed or invalid: the refresh token "
                          "is not valid.");
        return;
    }
    if (r == RG_IDP_REDEEM_EXPIRED) {
        rg_idp_error_json(rq, 400, "invalid_grant", 700082,
                          "The refresh token has expired due to inactivity. Send a new "
                          "interactive authorization request for this user and resource.");
        return;
    }
    if (strcmp(g.tenant, rq->tenant->id) != 0 || strcmp(g.client_id, app->client_id) != 0) {
        rg_idp_error_json(rq, 400, "invalid_grant", 70000,
                          "Provided grant is invalid or malformed: the refresh token was issued "
                          "to another application or tenant.");
        goto out;
    }
    if (scope && rg_idp_scopes_norm(scope, &want, &why)) {
        rg_idp_error_json(rq, 400, "invalid_scope", 70011,
                          "The provided value for the input parameter 'scope' is not valid: %s",
                          why.text);
        goto out;
    }
    if (!(u = grant_user(rq, &g)))
        goto out;
    /* a refresh may narrow the scopes, or widen them only to what is consented */
    if (rg_idp_grant_copy(&use, &g)) {
        rg_idp_error_json(rq, 500, "server_error", 90033,
                          "A transient error has occurred. Please try again.");
        goto out;
    }
    if (want) {
        free(use.scopes);
        use.scopes = want;
        want = NULL;
    }
    if (!rg_idp_consent_covers(rq->tenant, app->client_id, u->oid, use.scopes)) {
        rg_idp_error_json(rq, 400, "invalid_grant", 65001,
                          "The user or administrator has not consented to use the application "
                          "with ID '%s' named '%s'. Send an interactive authorization request "
                          "for this user and resource.",
                          app->client_id, app->display_name);
        goto out;
    }
    issue_tokens(rq, &use, u, false, true, &g, NULL);
out:
    free(want);
    rg_idp_grant_clear(&use);
    rg_idp_grant_clear(&g);
}

/* ---- client_credentials ---------------------------------------------------------------- */

/* App-only token for "<resource>/.default" (Entra: the only scope form this grant takes).
 * No ID token, no refresh token; the app's own roles (application permissions) are not
 * modelled, so the token carries none. */
static void grant_client_credentials(struct rg_idp_rq *rq, const struct rg_idp_app *app)
{
    const char *scope = rg_idp_param(rq, "scope", true);
    size_t n = strlen(scope);
    struct rg_idp_grant g;
    char *at = NULL, *body = NULL;
    json_t *o = NULL;

    if (n > RG_IDP_SCOPE_LEN_MAX || n < 9 || strchr(scope, ' ') ||
        strcmp(scope + n - 9, "/.default") != 0) {
        rg_idp_error_json(rq, 400, "invalid_scope", 1002012,
                          "The provided value for scope %.256s is not valid. Client credential "
                          "flows must have a scope value with /.default suffixed to the "
                          "resource identifier (application ID URI).",
                          scope);
        return;
    }
    memset(&g, 0, sizeof g);
    memcpy(g.tenant, rq->tenant->id, sizeof g.tenant);
    memcpy(g.client_id, app->client_id, sizeof g.client_id);
    g.scopes = strdup(scope);
    if (!g.scopes || rg_idp_access_put(rq->w->flow, &g, rq->now, RG_IDP_APP_TOKEN_TTL, &at) ||
        !(o = json_pack("{s:s,s:i,s:i,s:s}", "token_type", "Bearer", "expires_in",
                        RG_IDP_APP_TOKEN_TTL, "ext_expires_in", RG_IDP_APP_TOKEN_TTL,
                        "access_token", at)) ||
        !(body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ||
        rg_http_respond(rq->resp, 200, "application/json; charset=utf-8", body, strlen(body))) {
        rg_idp_error_json(rq, 500, "server_error", 90033,
                          "A transient error has occurred. Please try again.");
    } else {
        rg_http_add_header(rq->resp, "Pragma", "no-cache");
        rg_idp_outcome(rq, "app-only token issued: app %s scope '%.100s'", app->client_id,
                       scope);
    }
    rg_free_secret(body);
    rg_free_secret(at);
    json_decref(o);
    rg_idp_grant_clear(&g);
}

/* ---- private_key_jwt ------------------------------------------------------------------- */

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ASSERTION_SKEW 300

/* Checks a client assertion (RFC 7523 as Entra applies it); on failure answers the error. */
static bool assertion_ok(struct rg_idp_rq *rq, const struct rg_idp_app *app,
                         const char *assertion)
{
    static const char *const algs[] = {"RS256", "PS256", NULL};
    const char *type = rg_idp_param(rq, "client_assertion_type", true);
    const struct rg_idp_cert *cert = NULL;
    const char *x5t, *x5t256, *iss, *sub, *aud;
    char tid_url[2300], asked_url[2300];
    struct rg_jws jws;
    struct rg_jwks set;
    struct rg_msg why;
    json_int_t exp, nbf;
    bool ok = false;

    memset(&jws, 0, sizeof jws);
    memset(&set, 0, sizeof set);
    if (!type || strcmp(type, ASSERTION_TYPE) != 0) {
        rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                          "Invalid request. client_assertion_type must be '" ASSERTION_TYPE
                          "'.");
        return false;
    }
    if (rg_jws_parse(assertion, strlen(assertion), &jws, &why)) {
        rg_idp_error_json(rq, 401, "invalid_client", 50027,
                          "JWT token is invalid or malformed (client assertion).");
        return false;
    }
    x5t = json_string_value(json_object_get(jws.header, "x5t"));
    x5t256 = json_string_value(json_object_get(jws.header, "x5t#S256"));
    for (size_t i = 0; !cert && i < app->n_certs; i++)
        if ((x5t && strcmp(x5t, app->certs[i].x5t) == 0) ||
            (x5t256 && strcmp(x5t256, app->certs[i].x5t256) == 0))
            cert = &app->certs[i];
    if (!cert) {
        rg_idp_error_json(rq, 401, "invalid_client", 700027,
                          "Client assertion failed signature validation. The certificate named "
                          "by the assertion's x5t / x5t#S256 header is not registered on "
                          "application '%s'.",
                          app->client_id);
        goto out;
    }
    set.keys[0].kty = RG_KTY_RSA;
    snprintf(set.keys[0].kid, sizeof set.keys[0].kid, "%s", jws.kid);
    set.keys[0].pkey = rg_idp_cert_pubkey(cert->x5c);
    set.n = set.keys[0].pkey ? 1 : 0;
    if (!set.n || rg_jws_verify(&jws, &set, algs, NULL, &why)) {
        rg_idp_error_json(rq, 401, "invalid_client", 700027,
                          "Client assertion failed signature validation.");
        goto out;
    }
    iss = json_string_value(json_object_get(jws.payload, "iss"));
    sub = json_string_value(json_object_get(jws.payload, "sub"));
    aud = json_string_value(json_object_get(jws.payload, "aud"));
    if (!iss || !sub || strcmp(iss, sub) != 0) {
        rg_idp_error_json(rq, 401, "invalid_client", 50048,
                          "Subject mismatches Issuer claim in the client assertion.");
        goto out;
    }
    if (!rg_idp_ieq(iss, app->client_id)) {
        rg_idp_error_json(rq, 401, "invalid_client", 700021,
                          "Client assertion application identifier doesn't match 'client_id' "
                          "parameter.");
        goto out;
    }
    /* aud: the token endpoint, by tenant id or as the client addressed it */
    rg_idp_url(rq, "oauth2/v2.0/token", tid_url, sizeof tid_url);
    snprintf(asked_url, sizeof asked_url, "%s%s", rq->w->base,
             rq->http->path + strlen(rq->w->base_path));
    if (!aud || (strcmp(aud, tid_url) != 0 && strcmp(aud, asked_url) != 0)) {
        rg_idp_error_json(rq, 401, "invalid_client", 700021,
                          "Client assertion audience claim does not match Realm issuer. The "
                          "'aud' claim must be the token endpoint '%s'.",
                          tid_url);
        goto out;
    }
    exp = json_integer_value(json_object_get(jws.payload, "exp"));
    nbf = json_is_integer(json_object_get(jws.payload, "nbf"))
              ? json_integer_value(json_object_get(jws.payload, "nbf"))
              : 0;
    if (!json_is_integer(json_object_get(jws.payload, "exp")) ||
        exp + ASSERTION_SKEW < rq->now || nbf > rq->now + ASSERTION_SKEW) {
        rg_idp_error_json(rq, 401, "invalid_client", 700024,
                          "Client assertion is not within its valid time range.");
        goto out;
    }
    ok = true;
out:
    rg_jwks_free(&set);
    rg_jws_free(&jws);
    return ok;
}

void rg_idp_token(struct rg_idp_rq *rq)
{
    static const char *const known[] = {
        "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
        "code", "redirect_uri", "code_verifier", "scope", "refresh_token", "client_info", NULL};
    const char *ctype = rg_http_header(rq->http, "Content-Type");
    const char *auth = rg_http_header(rq->http, "Authorization");
    const char *assertion, *origin;
    const char *grant, *body_id, *body_secret, *code = NULL, *redirect = NULL, *rt = NULL;
    const struct rg_idp_app *app;
    struct client_auth ca = {NULL, NULL};
    bool is_code, is_refresh, is_cc;

    rg_idp_faults_count(RG_IDP_FAULT_TOKEN);
    if (rg_idp_faults_token_status(rq)) /* test-only; no-op without --test-faults */
        return;
    if (strcmp(rq->http->method, "POST") != 0) {
        rg_idp_error_json(rq, 400, "invalid_request", 900561,
                          "The endpoint only accepts POST, OPTIONS requests. Received a %.10s "
                          "request.",
                          rq->http->method);
        return;
    }
    /* Entra reads only form bodies; anything else looks like a body without parameters */
    if (rq->http->body_len && (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded",
                                                     33) != 0)) {
        rg_idp_error_json(rq, 400, "invalid_request", 900144,
                          "The request body must contain the following parameter: "
                          "'grant_type'.");
        return;
    }
    for (const char *const *k = known; *k; k++)
        if (rg_params_count(&rq->http->body, *k) > 1) {
            rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                              "Invalid request. Request is malformed or invalid: parameter '%s' "
                              "is repeated.",
                              *k);
            return;
        }
    grant = rg_idp_param(rq, "grant_type", true);
    if (!grant || !*grant) {
        rg_idp_error_json(rq, 400, "invalid_request", 900144,
                          "The request body must contain the following parameter: "
                          "'grant_type'.");
        return;
    }
    is_code = strcmp(grant, "authorization_code") == 0;
    is_refresh = strcmp(grant, "refresh_token") == 0;
    is_cc = strcmp(grant, "client_credentials") == 0;
    if (!is_code && !is_refresh && !is_cc) {
        rg_idp_error_json(rq, 400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type '%.64s'.", grant);
        return;
    }
    /* client identification */
    body_id = rg_idp_param(rq, "client_id", true);
    body_secret = rg_idp_param(rq, "client_secret", true);
    if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
        if (parse_basic(auth + 6, &ca)) {
            rg_idp_error_json(rq, 401, "invalid_client", 7000216,
                              "The Authorization header is not valid Basic client "
                              "authentication (base64 of form-encoded id ':' secret).");
            goto out;
        }
        if (body_secret) {
            rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                              "Invalid request. The client sent credentials both in the "
                              "Authorization header and in the body; use one method.");
            goto out;
        }
        if (body_id && strcmp(body_id, ca.id) != 0) {
            rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                              "Invalid request. client_id in the body differs from the one in "
                              "the Authorization header.");
            goto out;
        }
    } else {
        ca.id = body_id ? strdup(body_id) : NULL;
        ca.secret = body_secret ? strdup(body_secret) : NULL;
        if ((body_id && !ca.id) || (body_secret && !ca.secret)) {
            rg_idp_error_json(rq, 500, "server_error", 90033,
                              "A transient error has occurred. Please try again.");
            goto out;
        }
    }
    if (!ca.id || !*ca.id) {
        rg_idp_error_json(rq, 400, "invalid_request", 900144,
                          "The request body must contain the following parameter: "
                          "'client_id'.");
        goto out;
    }
    app = rg_idp_is_guid(ca.id) ? rg_idp_app_find(rq->tenant, ca.id) : NULL;
    if (!app) {
        rg_idp_error_json(rq, 400, "unauthorized_client", 700016,
                          "Application with identifier '%.64s' was not found in the directory "
                          "'%s'. This can happen if the application has not been installed by "
                          "the administrator of the tenant or consented to by any user in the "
                          "tenant. You may have sent your authentication request to the wrong "
                          "tenant.",
                          ca.id, rq->tenant->name);
        goto out;
    }
    /* the grant's own parameters */
    if (is_code) {
        code = rg_idp_param(rq, "code", true);
        redirect = rg_idp_param(rq, "redirect_uri", true);
        if (!code || !*code || !redirect || !*redirect) {
            rg_idp_error_json(rq, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: '%s'.",
                              !code || !*code ? "code" : "redirect_uri");
            goto out;
        }
    } else if (is_cc) {
        const char *sc = rg_idp_param(rq, "scope", true);
        if (!sc || !*sc) {
            rg_idp_error_json(rq, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'scope'.");
            goto out;
        }
    } else {
        rt = rg_idp_param(rq, "refresh_token", true);
        if (!rt || !*rt) {
            rg_idp_error_json(rq, 400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'refresh_token'.");
            goto out;
        }
    }
    /* client authentication, by the app's platform */
    assertion = rg_idp_param(rq, "client_assertion", true);
    origin = rg_http_header(rq->http, "Origin");
    if (app->platform != RG_IDP_PLATFORM_WEB) {
        if (assertion || ca.secret) {
            rg_idp_error_json(rq, 401, "invalid_client", 700025,
                              "Client is public so neither 'client_assertion' nor "
                              "'client_secret' should be presented.");
            goto out;
        }
        if (is_cc) {
            rg_idp_error_json(rq, 400, "unauthorized_client", 7000218,
                              "The request body must contain the following parameter: "
                              "'client_assertion' or 'client_secret'. A public client cannot "
                              "use the client_credentials grant.");
            goto out;
        }
        if (app->platform == RG_IDP_PLATFORM_SPA && !origin) {
            rg_idp_error_json(rq, 400, "invalid_request", 9002327,
                              "Tokens issued for the 'Single-Page Application' client-type may "
                              "only be redeemed via cross-origin requests.");
            goto out;
        }
        goto grant;
    }
    if (origin) {
        rg_idp_error_json(rq, 400, "invalid_request", 9002326,
                          "Cross-origin token redemption is permitted only for the "
                          "'Single-Page Application' client-type.");
        goto out;
    }
    if (assertion && ca.secret) {
        rg_idp_error_json(rq, 400, "invalid_request", 9002313,
                          "Invalid request. The client sent both a client_secret and a "
                          "client_assertion; use one method.");
        goto out;
    }
    if (assertion) {
        if (!assertion_ok(rq, app, assertion))
            goto out;
    } else if (!ca.secret) {
        rg_idp_error_json(rq, 401, "invalid_client", 7000218,
                          "The request body must contain the following parameter: "
                          "'client_assertion' or 'client_secret'.");
        goto out;
    } else switch (check_secret(app, ca.secret, rq->now)) {
    case SECRET_OK:
        break;
    case SECRET_EXPIRED:
        rg_idp_error_json(rq, 401, "invalid_client", 7000222,
                          "The provided client secret keys for app '%s' are expired. Visit the "
                          "Azure portal to create new keys for your app: "
                          "https://aka.ms/NewClientSecret, or consider using certificate "
                          "credentials for added security: https://aka.ms/certCreds.",
                          app->client_id);
        goto out;
    default:
        rg_idp_error_json(rq, 401, "invalid_client", 7000215,
                          "Invalid client secret provided. Ensure the secret being sent in the "
                          "request is the client secret value, not the client secret ID, for a "
                          "secret added to app '%s'.",
                          app->client_id);
        goto out;
    }
grant:
    if (is_code)
        grant_code(rq, app, code, redirect);
    else if (is_cc)
        grant_client_credentials(rq, app);
    else
        grant_refresh(rq, app, rt);
    if (app->platform == RG_IDP_PLATFORM_SPA) /* the browser may read the answer */
        rg_http_add_header(rq->resp, "Access-Control-Allow-Origin", "*");
out:
    client_auth_clear(&ca);
}
