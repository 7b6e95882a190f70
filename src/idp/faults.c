/* faults.c — test-only fault switches (see faults.h). Everything here is reached only after
 * rg_idp_faults_enable(); the hooks in web.c and token.c check that first. */
#include "idp/faults.h"

#include <openssl/bio.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/b64.h"
#include "base/mem.h"
#include "jose/jwk.h"
#include "jose/jws.h"

#define EXTRA_KID_DEFAULT "rg-test-extra"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static bool g_enabled;
static json_t *g_faults;            /* current switch set (object), never NULL once enabled */
static unsigned long g_count[RG_IDP_FAULT_N];
static EVP_PKEY *g_extra;           /* the extra RSA key, generated on first use */
static int g_extra_bits;
static char *g_last_id_token;       /* the last ID token issued, for "id_token_replay" */

void rg_idp_faults_enable(void)
{
    pthread_mutex_lock(&g_mu);
    g_enabled = true;
    if (!g_faults)
        g_faults = json_object();
    pthread_mutex_unlock(&g_mu);
}

/* A private copy of the switch set (NULL when disabled or empty), so that hooks work
 * without holding the lock while signing. */
static json_t *faults_get(void)
{
    json_t *f = NULL;
    if (!g_enabled) /* set once before the server starts: no lock needed for the test */
        return NULL;
    pthread_mutex_lock(&g_mu);
    if (g_faults && json_object_size(g_faults) > 0)
        f = json_deep_copy(g_faults);
    pthread_mutex_unlock(&g_mu);
    return f;
}

void rg_idp_faults_count(enum rg_idp_fault_ep ep)
{
    if (!g_enabled)
        return;
    pthread_mutex_lock(&g_mu);
    g_count[ep]++;
    pthread_mutex_unlock(&g_mu);
}

/* Replaces or (for null) removes each member of patch in o. */
static void merge(json_t *o, const json_t *patch)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o) || !json_is_object(patch))
        return;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v))
            json_object_del(o, k);
        else
            json_object_set(o, k, v);
    }
}

static void respond_text(struct rg_idp_rq *rq, int status, const char *ctype, const char *body)
{
    rg_http_respond(rq->resp, status, ctype, body, strlen(body));
}

static void respond_obj(struct rg_idp_rq *rq, int status, json_t *o)
{
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (t)
        respond_text(rq, status, "application/json; charset=utf-8", t);
    else
        respond_text(rq, 500, "text/plain; charset=utf-8", "internal error\n");
    free(t);
}

/* The extra key for the current "extra_bits" (regenerated when the size changes). */
static EVP_PKEY *extra_key(int bits)
{
    EVP_PKEY *k;
    pthread_mutex_lock(&g_mu);
    if (!g_extra || g_extra_bits != bits) {
        EVP_PKEY_free(g_extra);
        g_extra = EVP_RSA_gen((unsigned)bits);
        g_extra_bits = bits;
    }
    k = g_extra;
    if (k)
        EVP_PKEY_up_ref(k);
    pthread_mutex_unlock(&g_mu);
    return k;
}

static int extra_bits(const json_t *f)
{
    json_int_t b = json_integer_value(json_object_get(f, "extra_bits"));
    return (b >= 1024 && b <= 4096) ? (int)b : 2048;
}

static const char *extra_kid(const json_t *f)
{
    const char *k = json_string_value(json_object_get(f, "extra_kid"));
    return k ? k : EXTRA_KID_DEFAULT;
}

static const char *str_of(const json_t *f, const char *name)
{
    return json_string_value(json_object_get(f, name));
}

/* ---- control endpoint ------------------------------------------------------------------ */

static const char *const known[] = {
    "claims", "claims_rel", "header", "sign", "hmac_secret", "corrupt_sig", "id_token_append",
    "jwks", "extra_bits", "extra_kid", "extra_key_set", "jwks_add", "jwks_status", "discovery",
    "token", "token_status", "token_body", "userinfo", "userinfo_status", "userinfo_jwt", "id_token_replay", NULL};

static bool known_switch(const char *k)
{
    for (const char *const *p = known; *p; p++)
        if (strcmp(*p, k) == 0)
            return true;
    return false;
}

bool rg_idp_faults_route(struct rg_idp_rq *rq, const char *path)
{
    json_t *o, *v;
    json_error_t jerr;
    const char *k, *text;

    if (!g_enabled || strcmp(path, "/_test/faults") != 0)
        return false;
    if (strcmp(rq->http->method, "GET") == 0) {
        pthread_mutex_lock(&g_mu);
        o = json_pack("{s:O,s:{s:I,s:I,s:I,s:I}}", "faults", g_faults, "counters",
                      "discovery", (json_int_t)g_count[RG_IDP_FAULT_DISCOVERY], "jwks",
                      (json_int_t)g_count[RG_IDP_FAULT_JWKS], "token",
                      (json_int_t)g_count[RG_IDP_FAULT_TOKEN], "userinfo",
                      (json_int_t)g_count[RG_IDP_FAULT_USERINFO]);
        pthread_mutex_unlock(&g_mu);
        respond_obj(rq, 200, o);
        json_decref(o);
        rg_idp_outcome(rq, "test faults read");
        return true;
    }
    if (strcmp(rq->http->method, "POST") != 0) {
        respond_text(rq, 405, "text/plain; charset=utf-8", "method not allowed\n");
        return true;
    }
    /* a form parameter, not a JSON body: the HTTP layer flattens JSON bodies into
     * parameters and refuses nested values, which fault sets need */
    text = rg_idp_param(rq, "faults", true);
    o = text && strlen(text) <= RG_IDP_FAULTS_MAX_BODY
            ? json_loads(text, JSON_REJECT_DUPLICATES, &jerr)
            : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        respond_text(rq, 400, "text/plain; charset=utf-8", "want a JSON object\n");
        rg_idp_outcome(rq, "test faults refused");
        return true;
    }
    json_object_foreach(o, k, v) {
        if (!known_switch(k)) {
            json_decref(o);
            respond_text(rq, 400, "text/plain; charset=utf-8", "unknown fault switch\n");
            rg_idp_outcome(rq, "test faults refused: unknown switch");
            return true;
        }
    }
    pthread_mutex_lock(&g_mu);
    json_decref(g_faults);
    g_faults = o;
    memset(g_count, 0, sizeof g_count);
    pthread_mutex_unlock(&g_mu);
    respond_text(rq, 200, "application/json; charset=utf-8", "{\"ok\":true}");
    rg_idp_outcome(rq, "test faults set (%zu switches)", json_object_size(o));
    return true;
}

/* ---- discovery and keys ---------------------------------------------------------------- */

void rg_idp_faults_discovery(json_t *doc)
{
    json_t *f = faults_get();
    if (f)
        merge(doc, json_object_get(f, "discovery"));
    json_decref(f);
}

static json_t *extra_jwk(const json_t *f)
{
    EVP_PKEY *k = extra_key(extra_bits(f));
    json_t *j = k ? rg_jwk_public_json(k, extra_kid(f), NULL) : NULL;
    EVP_PKEY_free(k);
    if (j)
        merge(j, json_object_get(f, "extra_key_set"));
    return j;
}

bool rg_idp_faults_jwks(struct rg_idp_rq *rq, const char *doc)
{
    json_t *f = faults_get(), *d = NULL, *keys, *add, *v;
    const char *mode;
    json_int_t status;
    size_t i;
    bool done = false;

    if (!f)
        return false;
    status = json_integer_value(json_object_get(f, "jwks_status"));
    mode = str_of(f, "jwks");
    add = json_object_get(f, "jwks_add");
    if (status >= 200 && status <= 599) {
        respond_text(rq, (int)status, "text/html; charset=utf-8", "<html>fault</html>\n");
        rg_idp_outcome(rq, "keys (test fault: status %d)", (int)status);
        done = true;
        goto out;
    }
    if (!mode && !json_is_array(add))
        goto out;
    d = json_loads(doc, 0, NULL);
    keys = json_object_get(d, "keys");
    if (!json_is_array(keys))
        goto out;
    if (mode && strcmp(mode, "rotate") == 0)
        json_array_clear(keys);
    if (mode && (strcmp(mode, "rotate") == 0 || strcmp(mode, "extra") == 0)) {
        json_t *j = extra_jwk(f);
        if (!j)
            goto out;
        json_array_append_new(keys, j);
    }
    json_array_foreach(add, i, v) json_array_append(keys, v);
    respond_obj(rq, 200, d);
    rg_idp_outcome(rq, "keys (test fault)");
    done = true;
out:
    json_decref(d);
    json_decref(f);
    return done;
}

/* ---- token endpoint -------------------------------------------------------------------- */

bool rg_idp_faults_token_status(struct rg_idp_rq *rq)
{
    json_t *f = faults_get();
    json_int_t status = f ? json_integer_value(json_object_get(f, "token_status")) : 0;
    bool done = false;

    if (status >= 200 && status <= 599) {
        const char *body = str_of(f, "token_body");
        respond_text(rq, (int)status, "application/json; charset=utf-8",
                     body ? body : "{\"error\":\"invalid_grant\"}");
        rg_idp_outcome(rq, "token (test fault: status %d)", (int)status);
        done = true;
    }
    json_decref(f);
    return done;
}

void rg_idp_faults_token_json(json_t *o)
{
    json_t *f = faults_get();
    if (f)
        merge(o, json_object_get(f, "token"));
    json_decref(f);
}

static char *b64url_json(const json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER), *e;
    if (!t)
        return NULL;
    e = rg_b64url_encode(t, strlen(t));
    free(t);
    return e;
}

static bool rsa_sign(EVP_PKEY *key, const char *in, unsigned char **sig, size_t *len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, NULL, len, (const unsigned char *)in, strlen(in)) == 1 &&
              (*sig = malloc(*len)) != NULL &&
              EVP_DigestSign(ctx, *sig, len, (const unsigned char *)in, strlen(in)) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool hmac_sign(const void *k, size_t klen, const char *in, unsigned char **sig,
                      size_t *len)
{
    unsigned int n = 0;
    *sig = malloc(EVP_MAX_MD_SIZE);
    if (!*sig || !HMAC(EVP_sha256(), k, (int)klen, (const unsigned char *)in, strlen(in), *sig,
                       &n))
        return false;
    *len = n;
    return true;
}

/* The PEM text of key's public half (malloc'd). */
static char *pubkey_pem(EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    long n;
    if (b && PEM_write_bio_PUBKEY(b, key) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
        (out = malloc((size_t)n + 1)) != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

/* Signs header.payload as the "sign" switch says; *sig may be empty (len 0). */
static bool fault_sign(const json_t *f, EVP_PKEY *key, const char *input, unsigned char **sig,
                       size_t *len)
{
    const char *mode = str_of(f, "sign");
    *sig = NULL;
    *len = 0;
    if (!mode || strcmp(mode, "key") == 0)
        return rsa_sign(key, input, sig, len);
    if (strcmp(mode, "none") == 0)
        return true;
    if (strcmp(mode, "zero64") == 0) {
        *len = 64;
        return (*sig = calloc(1, 64)) != NULL;
    }
    if (strcmp(mode, "hmac") == 0) {
        const char *s = str_of(f, "hmac_secret");
        return s && hmac_sign(s, strlen(s), input, sig, len);
    }
    if (strcmp(mode, "hmac_pubkey") == 0) {
        char *pem = pubkey_pem(key);
        bool ok = pem && hmac_sign(pem, strlen(pem), input, sig, len);
        free(pem);
        return ok;
    }
    return false;
}

/* The compact JWS of claims under the fault set f, with key/kid as the default signer. */
static int fault_jws(const json_t *f, json_t *claims, EVP_PKEY *key, const char *kid,
                     char **out)
{
    const char *mode = str_of(f, "sign"), *jmode = str_of(f, "jwks"), *app;
    bool use_extra = (mode && strcmp(mode, "extra") == 0) || (jmode && strcmp(jmode, "rotate") == 0);
    const char *alg = "RS256";
    EVP_PKEY *xk = NULL;
    json_t *hdr = NULL;
    char *h = NULL, *p = NULL, *input = NULL, *s = NULL;
    unsigned char *sig = NULL;
    size_t len = 0, n;
    int rc = -1;

    if (use_extra) {
        if (!(xk = extra_key(extra_bits(f))))
            goto out;
        key = xk;
        kid = extra_kid(f);
    }
    if (mode && strcmp(mode, "none") == 0)
        alg = "none";
    else if (mode && (strcmp(mode, "hmac") == 0 || strcmp(mode, "hmac_pubkey") == 0))
        alg = "HS256";
    else if (mode && strcmp(mode, "zero64") == 0)
        alg = "ES256";
    hdr = json_pack("{s:s,s:s,s:s}", "typ", "JWT", "alg", alg, "kid", kid);
    if (!hdr)
        goto out;
    merge(hdr, json_object_get(f, "header"));
    if (!(h = b64url_json(hdr)) || !(p = b64url_json(claims)))
        goto out;
    n = strlen(h) + strlen(p) + 2;
    if (!(input = malloc(n)))
        goto out;
    snprintf(input, n, "%s.%s", h, p);
    if (!fault_sign(f, key, input, &sig, &len))
        goto out;
    if (json_is_true(json_object_get(f, "corrupt_sig")) && len > 0)
        sig[len / 2] ^= 0x01;
    if (!(s = len ? rg_b64url_encode(sig, len) : strdup("")))
        goto out;
    app = str_of(f, "id_token_append");
    n = strlen(input) + strlen(s) + (app ? strlen(app) : 0) + 2;
    if (!(*out = malloc(n)))
        goto out;
    snprintf(*out, n, "%s.%s%s", input, s, app ? app : "");
    rc = 1;
out:
    EVP_PKEY_free(xk);
    json_decref(hdr);
    free(h);
    free(p);
    free(input);
    free(s);
    free(sig);
    return rc;
}

/* Keeps a copy of the token just issued (only while faults are enabled). */
static void remember(const char *token)
{
    char *copy = token ? strdup(token) : NULL;
    pthread_mutex_lock(&g_mu);
    free(g_last_id_token);
    g_last_id_token = copy;
    pthread_mutex_unlock(&g_mu);
}

int rg_idp_faults_id_token(json_t *claims, EVP_PKEY *key, const char *kid, char **out)
{
    json_t *f = faults_get(), *v;
    const char *k;
    int64_t now = (int64_t)time(NULL);
    int rc;

    if (!g_enabled)
        return 0;
    if (!f) { /* no fault: sign normally, but remember the token for a later replay */
        json_t *hdr = json_pack("{s:s}", "kid", kid);
        rc = hdr && rg_jws_sign(claims, hdr, "RS256", key, out) == RG_OK ? 1 : -1;
        json_decref(hdr);
        if (rc == 1)
            remember(*out);
        return rc;
    }
    if (json_is_true(json_object_get(f, "id_token_replay"))) {
        pthread_mutex_lock(&g_mu);
        *out = g_last_id_token ? strdup(g_last_id_token) : NULL;
        pthread_mutex_unlock(&g_mu);
        json_decref(f);
        return *out ? 1 : -1;
    }
    merge(claims, json_object_get(f, "claims"));
    json_object_foreach(json_object_get(f, "claims_rel"), k, v) {
        if (json_is_integer(v))
            json_object_set_new(claims, k, json_integer(now + json_integer_value(v)));
    }
    rc = fault_jws(f, claims, key, kid, out);
    json_decref(f);
    return rc;
}

/* ---- userinfo -------------------------------------------------------------------------- */

bool rg_idp_faults_userinfo(struct rg_idp_rq *rq, json_t *claims, EVP_PKEY *key,
                            const char *kid)
{
    json_t *f = faults_get();
    json_int_t status;
    char *jwt = NULL;
    bool done = false;

    if (!f)
        return false;
    status = json_integer_value(json_object_get(f, "userinfo_status"));
    if (status >= 200 && status <= 599) {
        respond_text(rq, (int)status, "text/plain; charset=utf-8", "userinfo fault\n");
        rg_idp_outcome(rq, "userinfo (test fault: status %d)", (int)status);
        done = true;
        goto out;
    }
    merge(claims, json_object_get(f, "userinfo"));
    if (json_is_true(json_object_get(f, "userinfo_jwt")) && key) {
        json_t *plain = json_pack("{}");
        /* the userinfo JWT is signed plainly with the tenant key: ID-token faults don't apply */
        if (plain && fault_jws(plain, claims, key, kid, &jwt) == 1) {
            respond_text(rq, 200, "application/jwt", jwt);
            rg_idp_outcome(rq, "userinfo (test fault: as JWT)");
        } else {
            respond_text(rq, 500, "text/plain; charset=utf-8", "internal error\n");
        }
        json_decref(plain);
        done = true;
    }
out:
    free(jwt);
    json_decref(f);
    return done;
}
