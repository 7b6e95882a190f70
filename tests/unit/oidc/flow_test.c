/* The relying party end to end against a scripted OpenID provider on loopback: discovery,
 * JWKS (with rotation and throttled refetch), token endpoint (client authentication, error
 * responses) and userinfo (merge, sub check, never called after a rejected ID token).
 * The provider is a small HTTP/1.1 server in this file; tokens are signed with rg_jws_sign. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/form.h"
#include "jose/jws.h"
#include "oidc/rp.h"

/* ---- the scripted provider ---- */

struct op {
    int lfd, port, stop;
    pthread_t th;
    pthread_mutex_t mu;
    char issuer[128];
    json_t *discovery;         /* served as is */
    json_t *jwks;              /* served as is */
    int jwks_status;           /* 200 normally */
    const char *jwks_headers;  /* extra header lines for the JWKS answer ("" normally) */
    int token_status;
    char *token_body;          /* served for POST /t/token */
    char *userinfo_body;
    int userinfo_status;
    int n_discovery, n_jwks, n_token, n_userinfo;
    char token_req[32768];     /* last token request: headers + body */
    char userinfo_req[32768];
};

static struct op OP;
static EVP_PKEY *k1, *k2;
static char pdir[256];
static time_t clock_offset;

static time_t fake_now(void) { return time(NULL) + clock_offset; }

static void reply_h(int fd, int status, const char *ctype, const char *body, const char *extra)
{
    char hdr[512];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s%s\r\n", status, ctype, blen,
                     status == 307 ? "Location: http://127.0.0.1:9/steal\r\n" : "",
                     extra ? extra : "");
    send(fd, hdr, (size_t)n, MSG_NOSIGNAL);
    if (blen)
        send(fd, body, blen, MSG_NOSIGNAL);
}

static void reply(int fd, int status, const char *ctype, const char *body)
{
    reply_h(fd, status, ctype, body, NULL);
}

static void handle(int fd)
{
    static char req[32768];
    size_t len = 0, need = 0;
    char *hdr_end = NULL, method[8] = "", path[256] = "";

    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (hdr_end && len >= need)
            break;
        if (poll(&p, 1, 2000) <= 0)
            return;
        n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        req[len] = '\0';
        if (!hdr_end && (hdr_end = strstr(req, "\r\n\r\n"))) {
            const char *cl = strcasestr(req, "\r\nContent-Length:");
            need = (size_t)(hdr_end + 4 - req) + (cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    sscanf(req, "%7s %255s", method, path);
    pthread_mutex_lock(&OP.mu);
    if (strcmp(path, "/t/v2.0/.well-known/openid-configuration") == 0) {
        char *s = json_dumps(OP.discovery, JSON_COMPACT);
        OP.n_discovery++;
        reply(fd, 200, "application/json; charset=utf-8", s);
        free(s);
    } else if (strcmp(path, "/t/keys") == 0) {
        char *s = json_dumps(OP.jwks, JSON_COMPACT);
        OP.n_jwks++;
        reply_h(fd, OP.jwks_status, "application/json", OP.jwks_status == 200 ? s : "oops",
                OP.jwks_headers);
        free(s);
    } else if (strcmp(method, "POST") == 0 && strcmp(path, "/t/token") == 0) {
        OP.n_token++;
        memcpy(OP.token_req, req, len + 1);
        reply(fd, OP.token_status, "application/json", OP.token_body);
    } else if (strcmp(path, "/oidc/userinfo") == 0) {
        OP.n_userinfo++;
        memcpy(OP.userinfo_req, req, len + 1);
        reply(fd, OP.userinfo_status, "application/json", OP.userinfo_body);
    } else {
        reply(fd, 404, "text/plain", "no");
    }
    pthread_mutex_unlock(&OP.mu);
}

static void *serve(void *arg)
{
    (void)arg;
    while (!OP.stop) {
        struct pollfd p = {OP.lfd, POLLIN, 0};
        int fd;
        if (poll(&p, 1, 50) <= 0)
            continue;
        fd = accept(OP.lfd, NULL, NULL);
        if (fd < 0)
            continue;
        handle(fd);
        close(fd);
    }
    return NULL;
}

static json_t *jwks_of(EVP_PKEY *a, const char *kida, EVP_PKEY *b, const char *kidb)
{
    json_t *keys = json_array();
    json_array_append_new(keys, rg_jwk_public_json(a, kida, kida));
    if (b)
        json_array_append_new(keys, rg_jwk_public_json(b, kidb, kidb));
    return json_pack("{s:o}", "keys", keys);
}

static void set_discovery(const char *methods_json, const char *algs_json)
{
    char base[64];
    json_t *d;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", OP.port);
    d = json_pack("{s:s,s:s+,s:s+,s:s+,s:s+,s:o,s:o,s:[s]}", "issuer", OP.issuer,
                  "authorization_endpoint", base, "/t/authorize",
                  "token_endpoint", base, "/t/token",
                  "jwks_uri", base, "/t/keys",
                  "userinfo_endpoint", base, "/oidc/userinfo",
                  "token_endpoint_auth_methods_supported", json_loads(methods_json, 0, NULL),
                  "id_token_signing_alg_values_supported", json_loads(algs_json, 0, NULL),
                  "response_types_supported", "code");
    pthread_mutex_lock(&OP.mu);
    json_decref(OP.discovery);
    OP.discovery = d;
    pthread_mutex_unlock(&OP.mu);
}

static void setup(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;

    memset(&OP, 0, sizeof OP);
    pthread_mutex_init(&OP.mu, NULL);
    OP.lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(OP.lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(OP.lfd, 16), 0);
    getsockname(OP.lfd, (struct sockaddr *)&a, &alen);
    OP.port = ntohs(a.sin_port);
    snprintf(OP.issuer, sizeof OP.issuer, "http://127.0.0.1:%d/t/v2.0", OP.port);
    k1 = EVP_RSA_gen(2048);
    k2 = EVP_RSA_gen(2048);
    OP.jwks = jwks_of(k1, "k1", NULL, NULL);
    OP.jwks_status = 200;
    OP.token_status = 200;
    OP.userinfo_status = 200;
    set_discovery("[\"client_secret_post\",\"private_key_jwt\",\"client_secret_basic\"]",
                  "[\"RS256\"]");
    snprintf(pdir, sizeof pdir, "/tmp/rg-flow-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(pdir));
    clock_offset = 0;
    ck_assert_int_eq(pthread_create(&OP.th, NULL, serve, NULL), 0);
}

static void teardown(void)
{
    char cmd[300];
    OP.stop = 1;
    pthread_join(OP.th, NULL);
    close(OP.lfd);
    json_decref(OP.discovery);
    json_decref(OP.jwks);
    free(OP.token_body);
    free(OP.userinfo_body);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", pdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* ---- helpers for the relying-party side ---- */

#define CID "6731de76-14a6-49ae-97bc-6eba6914391e"
#define SECRET "s:cr+t x%"
#define REDIRECT "https://pve.example.test:8006"

static struct rg_oidc_realm realm(void)
{
    struct rg_oidc_realm r = {.realm = "entra", .issuer_url = OP.issuer, .client_id = CID,
                              .client_key = SECRET, .query_userinfo = 1};
    return r;
}

/* Starts a login: auth URL, then consumes the pending state as the callback would. */
static struct rg_oidc_pending start(struct rg_oidc *rp, const struct rg_oidc_realm *r)
{
    char *url = NULL, *q;
    struct rg_params p;
    struct rg_oidc_pending pend;
    struct rg_msg msg = {{0}};
    char *chal;

    ck_assert_int_eq(rg_oidc_auth_url(rp, r, REDIRECT, &url, &msg), RG_OK);
    q = strchr(url, '?');
    ck_assert_ptr_nonnull(q);
    rg_params_init(&p);
    ck_assert_int_eq(rg_params_parse_form(&p, q + 1, strlen(q + 1)), RG_OK);
    ck_assert_int_eq(rg_oidc_take_pending(rp, rg_params_get(&p, "state"), &pend, &msg), RG_OK);
    ck_assert_str_eq(pend.realm, r->realm);
    ck_assert_str_eq(pend.redirect_url, REDIRECT);
    ck_assert_str_eq(pend.nonce, rg_params_get(&p, "nonce"));
    chal = rg_oidc_pkce_challenge(pend.pkce_verifier);
    ck_assert_str_eq(chal, rg_params_get(&p, "code_challenge"));
    free(chal);
    rg_params_free(&p);
    free(url);
    return pend;
}

static json_t *claims_for(const char *nonce)
{
    time_t now = time(NULL);
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s}", "iss", OP.issuer, "aud", CID,
                     "iat", (json_int_t)(now - 300), "nbf", (json_int_t)(now - 300), "exp",
                     (json_int_t)(now + 3600), "sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                     "nonce", nonce, "name", "Alice from ID token", "preferred_username",
                     "alice@contoso.test");
}

static char *sign_claims(json_t *claims, EVP_PKEY *key, const char *kid)
{
    json_t *h = json_pack("{s:s}", "kid", kid);
    char *tok = NULL;
    ck_assert_int_eq(rg_jws_sign(claims, h, "RS256", key, &tok), RG_OK);
    json_decref(h);
    return tok;
}

static void set_token_response(const char *id_token, const char *token_type)
{
    json_t *r = json_pack("{s:s,s:s,s:i,s:s}", "token_type", token_type, "scope",
                          "openid profile email", "expires_in", 3599, "access_token",
                          "eyJ0eXAiOiJKV1QiLCJub25jZSI6IngifQ.access.token");
    if (id_token)
        json_object_set_new(r, "id_token", json_string(id_token));
    pthread_mutex_lock(&OP.mu);
    free(OP.token_body);
    OP.token_body = json_dumps(r, JSON_COMPACT);
    pthread_mutex_unlock(&OP.mu);
    json_decref(r);
}

/* Token response with an RS256 ID token for this login's nonce, signed by key/kid. */
static void issue(const struct rg_oidc_pending *pend, EVP_PKEY *key, const char *kid)
{
    json_t *c = claims_for(pend->nonce);
    char *t = sign_claims(c, key, kid);
    set_token_response(t, "Bearer");
    free(t);
    json_decref(c);
}

static void set_userinfo(int status, const char *body)
{
    pthread_mutex_lock(&OP.mu);
    OP.userinfo_status = status;
    free(OP.userinfo_body);
    OP.userinfo_body = strdup(body);
    pthread_mutex_unlock(&OP.mu);
}

static const char *body_of(const char *req)
{
    const char *b = strstr(req, "\r\n\r\n");
    ck_assert_ptr_nonnull(b);
    return b + 4;
}

/* ---- tests ---- */

START_TEST(login_with_basic_auth_and_userinfo)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_oidc_pending pend;
    struct rg_params form;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};
    char expect[256], *cred, *user = NULL;

    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    pend = start(rp, &r);
    issue(&pend, k1, "k1");
    set_userinfo(200, "{\"sub\":\"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ\","
                      "\"name\":\"Alice from userinfo\",\"email\":\"alice@mail.test\","
                      "\"given_name\":\"Alice\"}");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "AwABAAAA-code.x_y~z", REDIRECT, &claims,
                                    &msg), RG_OK);

    /* the token request */
    ck_assert_int_eq(OP.n_token, 1);
    ck_assert_ptr_nonnull(strstr(OP.token_req, "POST /t/token HTTP/1.1\r\n"));
    ck_assert_ptr_null(strcasestr(OP.token_req, "chunked"));
    cred = rg_b64_encode(CID ":s%3Acr%2Bt%20x%25", strlen(CID ":s%3Acr%2Bt%20x%25"));
    snprintf(expect, sizeof expect, "\r\nAuthorization: Basic %s\r\n", cred);
    free(cred);
    ck_assert_ptr_nonnull(strstr(OP.token_req, expect));
    rg_params_init(&form);
    ck_assert_int_eq(rg_params_parse_form(&form, body_of(OP.token_req),
                                          strlen(body_of(OP.token_req))), RG_OK);
    ck_assert_uint_eq(form.n, 4);
    ck_assert_str_eq(rg_params_get(&form, "grant_type"), "authorization_code");
    ck_assert_str_eq(rg_params_get(&form, "code"), "AwABAAAA-code.x_y~z");
    ck_assert_str_eq(rg_params_get(&form, "redirect_uri"), REDIRECT);
    ck_assert_str_eq(rg_params_get(&form, "code_verifier"), pend.pkce_verifier);
    rg_params_free(&form);

    /* userinfo with the access token as Bearer, merged without overriding the ID token */
    ck_assert_int_eq(OP.n_userinfo, 1);
    ck_assert_ptr_nonnull(strstr(OP.userinfo_req, "GET /oidc/userinfo HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(OP.userinfo_req, "\r\nAuthorization: Bearer "
                                 "eyJ0eXAiOiJKV1QiLCJub25jZSI6IngifQ.access.token\r\n"));
    ck_assert_str_eq(json_string_value(json_object_get(claims, "name")), "Alice from ID token");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "email")), "alice@mail.test");
    ck_assert_str_eq(json_string_value(json_object_get(claims, "given_name")), "Alice");
    ck_assert_int_eq(rg_oidc_claim_username(claims, "username", &user, &msg), RG_OK);
    ck_assert_str_eq(user, "alice@contoso.test");
    free(user);
    /* one discovery and one key fetch, cached for the second login */
    ck_assert_int_eq(OP.n_discovery, 1);
    ck_assert_int_eq(OP.n_jwks, 1);
    json_decref(claims);
    rg_oidc_pending_clear(&pend);

    pend = start(rp, &r);
    issue(&pend, k1, "k1");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "code2", REDIRECT, &claims, &msg), RG_OK);
    ck_assert_int_eq(OP.n_discovery, 1);
    ck_assert_int_eq(OP.n_jwks, 1);
    json_decref(claims);
    rg_oidc_pending_clear(&pend);
    rg_oidc_free(rp);
}
END_TEST

START_TEST(client_secret_post_and_public_client)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_oidc_pending pend;
    struct rg_params form;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};

    set_discovery("[\"client_secret_post\",\"private_key_jwt\"]", "[\"RS256\"]");
    r.query_userinfo = 0;
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    pend = start(rp, &r);
    issue(&pend, k1, "k1");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_OK);
    ck_assert_ptr_null(strcasestr(OP.token_req, "Authorization:"));
    rg_params_init(&form);
    rg_params_parse_form(&form, body_of(OP.token_req), strlen(body_of(OP.token_req)));
    ck_assert_str_eq(rg_params_get(&form, "client_id"), CID);
    ck_assert_str_eq(rg_params_get(&form, "client_secret"), SECRET);
    ck_assert_uint_eq(form.n, 6);
    rg_params_free(&form);
    ck_assert_int_eq(OP.n_userinfo, 0); /* query-userinfo off */
    ck_assert_ptr_null(json_object_get(claims, "email"));
    json_decref(claims);
    rg_oidc_pending_clear(&pend);

    /* public client: client_id in the body, no secret anywhere */
    r.client_key = NULL;
    pend = start(rp, &r);
    issue(&pend, k1, "k1");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_OK);
    ck_assert_ptr_null(strcasestr(OP.token_req, "Authorization:"));
    rg_params_init(&form);
    rg_params_parse_form(&form, body_of(OP.token_req), strlen(body_of(OP.token_req)));
    ck_assert_str_eq(rg_params_get(&form, "client_id"), CID);
    ck_assert_ptr_null(rg_params_get(&form, "client_secret"));
    rg_params_free(&form);
    json_decref(claims);
    rg_oidc_pending_clear(&pend);
    rg_oidc_free(rp);
}
END_TEST

/* Runs one login whose ID token comes from make(); returns finish's result. */
static rg_err login_with(struct rg_oidc *rp, struct rg_oidc_realm *r, json_t *(*make)(const char *),
                         EVP_PKEY *key, const char *kid, struct rg_msg *msg)
{
    struct rg_oidc_pending pend = start(rp, r);
    json_t *c = make(pend.nonce), *claims = NULL;
    char *t = sign_claims(c, key, kid);
    rg_err e;

    set_token_response(t, "Bearer");
    e = rg_oidc_finish(rp, r, &pend, "code", REDIRECT, &claims, msg);
    if (e)
        ck_assert_ptr_null(claims);
    json_decref(claims);
    json_decref(c);
    free(t);
    rg_oidc_pending_clear(&pend);
    return e;
}

static json_t *wrong_nonce(const char *nonce) { (void)nonce; return claims_for("another-login"); }
static json_t *wrong_aud(const char *nonce)
{
    json_t *c = claims_for(nonce);
    json_object_set_new(c, "aud", json_string("other-client"));
    return c;
}
static json_t *wrong_iss(const char *nonce)
{
    json_t *c = claims_for(nonce);
    json_object_set_new(c, "iss", json_string("https://evil.test"));
    return c;
}

START_TEST(rejected_id_token_means_no_userinfo)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_msg msg = {{0}};

    set_userinfo(200, "{\"sub\":\"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ\"}");
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    ck_assert_int_eq(login_with(rp, &r, wrong_nonce, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': ID token refused: nonce mismatch (not the nonce of "
                               "this login)");
    ck_assert_int_eq(login_with(rp, &r, wrong_aud, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "aud mismatch"));
    ck_assert_int_eq(login_with(rp, &r, wrong_iss, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "iss mismatch"));
    /* signed by a key the provider never published under that kid */
    ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "k1", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': ID token signature refused: signature mismatch "
                               "(alg 'RS256', kid 'k1')");
    ck_assert_int_eq(OP.n_token, 4);
    ck_assert_int_eq(OP.n_userinfo, 0);
    /* control: the same flow with a good token does call userinfo */
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    ck_assert_int_eq(OP.n_userinfo, 1);
    rg_oidc_free(rp);
}
END_TEST

START_TEST(key_rotation_and_throttle)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_msg msg = {{0}};

    r.query_userinfo = 0;
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    rg_oidc_cache_set_clock(rg_oidc_cache(rp), fake_now);
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    ck_assert_int_eq(OP.n_jwks, 1);

    /* the provider rotates to k2: one refetch, then accepted */
    pthread_mutex_lock(&OP.mu);
    json_decref(OP.jwks);
    OP.jwks = jwks_of(k2, "k2", NULL, NULL);
    pthread_mutex_unlock(&OP.mu);
    { rg_err ee = login_with(rp, &r, claims_for, k2, "k2", &msg); ck_assert_msg(ee == RG_OK, "%s", msg.text); }
    ck_assert_int_eq(OP.n_jwks, 2);
    ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "k2", &msg), RG_OK);
    ck_assert_int_eq(OP.n_jwks, 2);
    /* k1 is gone from the cache now */
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "no key with kid 'k1'"));
    ck_assert_ptr_nonnull(strstr(msg.text, "throttled"));
    ck_assert_int_eq(OP.n_jwks, 2);

    /* a flood of random kids inside the cooldown costs no fetch */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "random-kid", &msg), RG_ERR_AUTH);
    ck_assert_int_eq(OP.n_jwks, 2);

    /* after the cooldown a refetch happens; when it fails the last good keys stay */
    clock_offset = RG_OIDC_REFETCH_COOLDOWN + 1;
    pthread_mutex_lock(&OP.mu);
    OP.jwks_status = 500;
    pthread_mutex_unlock(&OP.mu);
    ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "k3", &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "HTTP status 500"));
    ck_assert_int_eq(OP.n_jwks, 3);
    ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "k2", &msg), RG_OK);
    ck_assert_int_eq(OP.n_jwks, 3);

    /* past the TTL everything is reloaded */
    clock_offset = RG_OIDC_CACHE_TTL + 10;
    pthread_mutex_lock(&OP.mu);
    OP.jwks_status = 200;
    pthread_mutex_unlock(&OP.mu);
    ck_assert_int_eq(login_with(rp, &r, claims_for, k2, "k2", &msg), RG_OK);
    ck_assert_int_eq(OP.n_discovery, 2);
    ck_assert_int_eq(OP.n_jwks, 4);
    /* and a failing reload fails closed: stale keys are not used past the TTL */
    clock_offset = 2 * RG_OIDC_CACHE_TTL + 20;
    pthread_mutex_lock(&OP.mu);
    OP.jwks_status = 500;
    pthread_mutex_unlock(&OP.mu);
    {
        char *url = NULL;
        ck_assert_int_eq(rg_oidc_auth_url(rp, &r, REDIRECT, &url, &msg), RG_ERR_NET);
        ck_assert_ptr_null(url);
        ck_assert_int_eq(OP.n_discovery, 3);
    }
    rg_oidc_free(rp);
}
END_TEST

START_TEST(token_endpoint_errors)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_oidc_pending pend;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    pend = start(rp, &r);
    pthread_mutex_lock(&OP.mu);
    OP.token_status = 400;
    free(OP.token_body);
    OP.token_body = strdup("{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The "
                           "provided authorization code or refresh token has expired.\\r\\nTrace "
                           "ID: 1\\r\\nCorrelation ID: 2\",\"error_codes\":[70008],"
                           "\"trace_id\":\"0b9e\",\"correlation_id\":\"2\"}");
    pthread_mutex_unlock(&OP.mu);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': token request refused: HTTP 400 invalid_grant: "
                               "AADSTS70008: The provided authorization code or refresh token has "
                               "expired.");
    ck_assert_int_eq(OP.n_userinfo, 0);

    /* a redirect is not followed */
    OP.token_status = 307;
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "HTTP 307"));

    /* 200 without id_token, and 200 with a non-JSON body */
    OP.token_status = 200;
    set_token_response(NULL, "Bearer");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': token response has no id_token");
    pthread_mutex_lock(&OP.mu);
    free(OP.token_body);
    OP.token_body = strdup("<html>");
    pthread_mutex_unlock(&OP.mu);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);

    /* token_type must be Bearer (any case) when userinfo is used */
    {
        json_t *c = claims_for(pend.nonce);
        char *t = sign_claims(c, k1, "k1");
        set_token_response(t, "mac");
        ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
        ck_assert_str_eq(msg.text, "realm 'entra': token_type is not Bearer");
        set_token_response(t, "bearer");
        set_userinfo(200, "{\"sub\":\"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ\"}");
        ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_OK);
        json_decref(claims);
        free(t);
        json_decref(c);
    }
    ck_assert_int_eq(OP.n_userinfo, 1);
    rg_oidc_pending_clear(&pend);
    rg_oidc_free(rp);
}
END_TEST

START_TEST(userinfo_failures)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    set_userinfo(200, "{\"sub\":\"someone-else\",\"email\":\"mallory@evil.test\"}");
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': userinfo sub does not match the ID token sub");
    set_userinfo(401, "{}");
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': userinfo answered HTTP 401");
    set_userinfo(200, "[1,2]");
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_ERR_AUTH);
    ck_assert_int_eq(OP.n_userinfo, 3);
    rg_oidc_free(rp);
}
END_TEST

/* RFC 9207: iss on the callback must match, and must be there when the provider says so;
 * a refused response sends the code nowhere. */
START_TEST(callback_iss_parameter)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_oidc_pending pend;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};

    r.query_userinfo = 0;
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    pend = start(rp, &r);
    issue(&pend, k1, "k1");
    /* not advertised: absent is fine, a wrong one is refused before the token request */
    ck_assert_int_eq(rg_oidc_finish_ex(rp, &r, &pend, "c", REDIRECT, "https://evil.test/v2.0",
                                       &claims, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "authorization response iss 'https://evil.test/v2.0' "
                                           "does not match the issuer"));
    ck_assert_int_eq(OP.n_token, 0);
    ck_assert_int_eq(rg_oidc_finish_ex(rp, &r, &pend, "c", REDIRECT, OP.issuer, &claims, NULL,
                                       &msg), RG_OK);
    json_decref(claims);
    rg_oidc_free(rp);

    /* advertised: it must be present */
    set_discovery("[\"client_secret_basic\"]", "[\"RS256\"]");
    pthread_mutex_lock(&OP.mu);
    json_object_set_new(OP.discovery, "authorization_response_iss_parameter_supported",
                        json_true());
    pthread_mutex_unlock(&OP.mu);
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    ck_assert_int_eq(rg_oidc_finish_ex(rp, &r, &pend, "c", REDIRECT, NULL, &claims, NULL, &msg),
                     RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "authorization response iss missing does not match"));
    ck_assert_int_eq(OP.n_token, 1);
    ck_assert_int_eq(rg_oidc_finish_ex(rp, &r, &pend, "c", REDIRECT, OP.issuer, &claims, NULL,
                                       &msg), RG_OK);
    json_decref(claims);
    rg_oidc_pending_clear(&pend);
    rg_oidc_free(rp);
}
END_TEST

/* KR-06: the key cache lives a fixed RG_OIDC_CACHE_TTL whatever Cache-Control says. */
START_TEST(jwks_cache_control_ignored)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_msg msg = {{0}};

    r.query_userinfo = 0;
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    rg_oidc_cache_set_clock(rg_oidc_cache(rp), fake_now);
    OP.jwks_headers = "Cache-Control: max-age=0\r\n";
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    clock_offset = RG_OIDC_REFETCH_COOLDOWN + 60; /* far past max-age=0 */
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    ck_assert_int_eq(OP.n_jwks, 1);
    ck_assert_int_eq(OP.n_discovery, 1);
    OP.jwks_headers = "Cache-Control: max-age=31536000\r\n";
    clock_offset = RG_OIDC_CACHE_TTL + 10; /* a year was offered; the TTL still applies */
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    ck_assert_int_eq(OP.n_discovery, 2);
    ck_assert_int_eq(OP.n_jwks, 2);
    OP.jwks_headers = NULL;
    rg_oidc_free(rp);
}
END_TEST

/* The realm's own algorithm allow-list narrows what the provider advertises. */
START_TEST(realm_algorithm_allow_list)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_msg msg = {{0}};
    char *url = NULL;

    r.query_userinfo = 0;
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    r.id_token_algs = "PS256,RS256";
    ck_assert_int_eq(login_with(rp, &r, claims_for, k1, "k1", &msg), RG_OK);
    r.id_token_algs = "ES256";  /* the provider signs RS256 only */
    ck_assert_int_eq(rg_oidc_auth_url(rp, &r, REDIRECT, &url, &msg), RG_ERR_CONFIG);
    ck_assert_ptr_null(url);
    ck_assert_ptr_nonnull(strstr(msg.text, "advertises no ID token signing algorithm this "
                                           "realm accepts"));
    rg_oidc_free(rp);
}
END_TEST

static json_t *hs_claims_nonce;

START_TEST(hmac_only_when_opted_in_advertised_and_keyed)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    struct rg_oidc_pending pend;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};
    const char *secret = "0123456789abcdef0123456789abcdef-secret";
    char *h, *p, *input, *tok;
    unsigned char mac[32];
    size_t maclen;

    r.client_key = secret;
    r.query_userinfo = 0;
    set_discovery("[\"client_secret_basic\"]", "[\"RS256\",\"HS256\"]");
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    pend = start(rp, &r);
    hs_claims_nonce = claims_for(pend.nonce);
    h = rg_b64url_encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
    {
        char *pj = json_dumps(hs_claims_nonce, JSON_COMPACT);
        p = rg_b64url_encode(pj, strlen(pj));
        free(pj);
    }
    ck_assert_int_ge(asprintf(&input, "%s.%s", h, p), 0);
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, strlen(secret),
              (unsigned char *)input, strlen(input), mac, sizeof mac, &maclen);
    {
        char *s = rg_b64url_encode(mac, maclen);
        ck_assert_int_ge(asprintf(&tok, "%s.%s", input, s), 0);
        free(s);
    }
    set_token_response(tok, "Bearer");
    /* advertised and keyed, but the realm has not opted in */
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "JWS alg 'HS256' not in the allowed list"));
    r.allow_hmac = 1;
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_OK);
    json_decref(claims);

    /* the same token for a public client (no secret to be the key) */
    r.client_key = NULL;
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "not in the allowed list"));
    rg_oidc_free(rp);

    /* and for a provider that only advertises RS256 */
    r.client_key = secret;
    set_discovery("[\"client_secret_basic\"]", "[\"RS256\"]");
    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &pend, "c", REDIRECT, &claims, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "JWS alg 'HS256' not in the allowed list"));
    rg_oidc_free(rp);

    rg_oidc_pending_clear(&pend);
    json_decref(hs_claims_nonce);
    free(h);
    free(p);
    free(input);
    free(tok);
}
END_TEST

static int pending_files(void)
{
    DIR *d = opendir(pdir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(discovery_refused_before_auth_request)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    char *url = NULL, iss_slash[160];
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    /* configured with a trailing slash: the document's issuer differs */
    snprintf(iss_slash, sizeof iss_slash, "%s/", OP.issuer);
    r.issuer_url = iss_slash;
    ck_assert_int_eq(rg_oidc_auth_url(rp, &r, REDIRECT, &url, &msg), RG_ERR_CONFIG);
    ck_assert_ptr_null(url);
    ck_assert_ptr_nonnull(strstr(msg.text, "realm 'entra': discovery from"));
    ck_assert_ptr_nonnull(strstr(msg.text, "issuer mismatch"));
    ck_assert_int_eq(OP.n_discovery, 1); /* fetched from .../v2.0/.well-known/... */
    ck_assert_int_eq(pending_files(), 0);
    /* a bad redirect URL is refused before anything is fetched */
    r.issuer_url = OP.issuer;
    ck_assert_int_eq(rg_oidc_auth_url(rp, &r, "https://pve.test/#frag", &url, &msg),
                     RG_ERR_INVALID);
    ck_assert_int_eq(OP.n_discovery, 1);
    /* a plain-http issuer that is not loopback is refused without a request */
    r.issuer_url = "http://idp.example.test/t/v2.0";
    ck_assert_int_eq(rg_oidc_auth_url(rp, &r, REDIRECT, &url, &msg), RG_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(msg.text, "https required"));
    ck_assert_int_eq(pending_files(), 0);
    rg_oidc_free(rp);
}
END_TEST

START_TEST(state_is_single_use)
{
    struct rg_oidc *rp;
    struct rg_oidc_realm r = realm();
    char *url = NULL;
    struct rg_params p;
    struct rg_oidc_pending pend;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_new(pdir, &rp), RG_OK);
    ck_assert_int_eq(rg_oidc_auth_url(rp, &r, REDIRECT, &url, &msg), RG_OK);
    ck_assert_int_eq(pending_files(), 1);
    rg_params_init(&p);
    rg_params_parse_form(&p, strchr(url, '?') + 1, strlen(strchr(url, '?') + 1));
    ck_assert_int_eq(rg_oidc_take_pending(rp, rg_params_get(&p, "state"), &pend, &msg), RG_OK);
    rg_oidc_pending_clear(&pend);
    ck_assert_int_eq(rg_oidc_take_pending(rp, rg_params_get(&p, "state"), &pend, &msg),
                     RG_ERR_NOTFOUND);
    ck_assert_int_eq(pending_files(), 0);
    rg_params_free(&p);
    free(url);
    rg_oidc_free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flow");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, login_with_basic_auth_and_userinfo);
    tcase_add_test(tc, client_secret_post_and_public_client);
    tcase_add_test(tc, rejected_id_token_means_no_userinfo);
    tcase_add_test(tc, key_rotation_and_throttle);
    tcase_add_test(tc, token_endpoint_errors);
    tcase_add_test(tc, userinfo_failures);
    tcase_add_test(tc, hmac_only_when_opted_in_advertised_and_keyed);
    tcase_add_test(tc, callback_iss_parameter);
    tcase_add_test(tc, jwks_cache_control_ignored);
    tcase_add_test(tc, realm_algorithm_allow_list);
    tcase_add_test(tc, discovery_refused_before_auth_request);
    tcase_add_test(tc, state_is_single_use);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
