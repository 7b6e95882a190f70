/* provider.c — discovery validation and the issuer -> (discovery, JWKS) snapshot cache
 * (see provider.h). */
#include "oidc/provider.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/url.h"
#include "net/httpc.h"

rg_err rg_oidc_discovery_url(const char *issuer_url, char *out, size_t outsz)
{
    static const char suffix[] = "/.well-known/openid-configuration";
    size_t n;

    if (!issuer_url || !*issuer_url)
        return RG_ERR_INVALID;
    n = strlen(issuer_url);
    if (issuer_url[n - 1] == '/')
        n--; /* exactly one */
    if (n + sizeof suffix > outsz)
        return RG_ERR_LIMIT;
    memcpy(out, issuer_url, n);
    memcpy(out + n, suffix, sizeof suffix);
    return RG_OK;
}

/* ---- discovery document ---- */

void rg_oidc_discovery_clear(struct rg_oidc_discovery *d)
{
    if (!d)
        return;
    free(d->issuer);
    free(d->authorization_endpoint);
    free(d->token_endpoint);
    free(d->jwks_uri);
    free(d->userinfo_endpoint);
    free(d->end_session_endpoint);
    for (size_t i = 0; i < RG_OIDC_MAX_ALGS && d->id_token_algs[i]; i++)
        free(d->id_token_algs[i]);
    memset(d, 0, sizeof *d);
}

static rg_err get_endpoint(const json_t *doc, const char *name, int required, char **out,
                           struct rg_msg *msg)
{
    const json_t *v = json_object_get(doc, name);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return rg_fail(msg, RG_ERR_CONFIG, "discovery document lacks '%s'", name);
        return RG_OK;
    }
    if (!json_is_string(v))
        return rg_fail(msg, RG_ERR_CONFIG, "discovery '%s' is not a string", name);
    if (!rg_url_https_or_loopback(json_string_value(v)) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return rg_fail(msg, RG_ERR_CONFIG,
                       "discovery '%s' is not an acceptable URL (https required; http only "
                       "for loopback; no fragment)", name);
    *out = strdup(json_string_value(v));
    return *out ? RG_OK : rg_fail(msg, RG_ERR_NOMEM, "out of memory");
}

static int array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    return 0;
}

rg_err rg_oidc_discovery_parse(const char *text, size_t len, const char *issuer_url,
                               struct rg_oidc_discovery *out, struct rg_msg *msg)
{
    json_t *doc = NULL;
    const json_t *iss, *algs, *methods, *rtypes;
    json_error_t jerr;
    rg_err e = RG_OK;
    size_t nalg = 0;

    memset(out, 0, sizeof *out);
    if (!issuer_url)
        return rg_fail(msg, RG_ERR_INVALID, "no issuer URL");
    if (len > RG_OIDC_DISCOVERY_MAX)
        return rg_fail(msg, RG_ERR_LIMIT, "discovery document larger than %d bytes",
                       RG_OIDC_DISCOVERY_MAX);
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        e = rg_fail(msg, RG_ERR_INVALID, "discovery document is not JSON (line %d: %s)",
                    jerr.line, jerr.text);
        goto out;
    }
    if (!json_is_object(doc)) {
        e = rg_fail(msg, RG_ERR_INVALID, "discovery document is not a JSON object");
        goto out;
    }
    iss = json_object_get(doc, "issuer");
    if (!json_is_string(iss)) {
        e = rg_fail(msg, RG_ERR_CONFIG, "discovery document has no string 'issuer'");
        goto out;
    }
    if (strcmp(json_string_value(iss), issuer_url) != 0 ||
        strlen(json_string_value(iss)) != json_string_length(iss)) {
        /* exact comparison on purpose (Discovery §4.3); the admin sees both strings */
        rg_warn("discovery issuer mismatch: configured '%s', document says '%.300s'", issuer_url,
                json_string_value(iss));
        e = rg_fail(msg, RG_ERR_CONFIG,
                    "discovery issuer mismatch: configured '%.200s', document says '%.200s'",
                    issuer_url, json_string_value(iss));
        goto out;
    }
    if (!rg_url_https_or_loopback(issuer_url)) {
        e = rg_fail(msg, RG_ERR_CONFIG, "issuer URL must be https (http only for loopback)");
        goto out;
    }
    out->issuer = strdup(issuer_url);
    if (!out->issuer) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((e = get_endpoint(doc, "authorization_endpoint", 1, &out->authorization_endpoint, msg)) ||
        (e = get_endpoint(doc, "token_endpoint", 1, &out->token_endpoint, msg)) ||
        (e = get_endpoint(doc, "jwks_uri", 1, &out->jwks_uri, msg)) ||
        (e = get_endpoint(doc, "userinfo_endpoint", 0, &out->userinfo_endpoint, msg)) ||
        (e = get_endpoint(doc, "end_session_endpoint", 0, &out->end_session_endpoint, msg)))
        goto out;

    out->iss_in_response =
        json_is_true(json_object_get(doc, "authorization_response_iss_parameter_supported"));
    rtypes = json_object_get(doc, "response_types_supported");
    if (rtypes && (!json_is_array(rtypes) || !array_has(rtypes, "code"))) {
        e = rg_fail(msg, RG_ERR_CONFIG, "provider does not support response_type 'code'");
        goto out;
    }

    algs = json_object_get(doc, "id_token_signing_alg_values_supported");
    if (algs && !json_is_null(algs)) {
        size_t i;
        json_t *v;
        if (!json_is_array(algs)) {
            e = rg_fail(msg, RG_ERR_CONFIG,
                        "discovery 'id_token_signing_alg_values_supported' is not an array");
            goto out;
        }
        json_array_foreach(algs, i, v) {
            const char *a;
            if (!json_is_string(v))
                continue;
            a = json_string_value(v);
            /* an unsigned ID token is never acceptable here (RFC 8725 §3.1) */
            if (strcasecmp(a, "none") == 0 || json_string_length(v) == 0 ||
                json_string_length(v) > 15)
                continue;
            if (nalg == RG_OIDC_MAX_ALGS)
                break;
            out->id_token_algs[nalg] = strdup(a);
            if (!out->id_token_algs[nalg]) {
                e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
                goto out;
            }
            nalg++;
        }
        if (nalg == 0) {
            e = rg_fail(msg, RG_ERR_CONFIG,
                        "provider advertises no usable ID token signing algorithm");
            goto out;
        }
    } else {
        out->id_token_algs[0] = strdup("RS256");
        if (!out->id_token_algs[0]) {
            e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
            goto out;
        }
    }

    methods = json_object_get(doc, "token_endpoint_auth_methods_supported");
    if (json_is_array(methods)) {
        out->auth_methods_listed = 1;
        out->auth_basic = array_has(methods, "client_secret_basic");
        out->auth_post = array_has(methods, "client_secret_post");
        out->auth_pkjwt = array_has(methods, "private_key_jwt");
    }
    methods = json_object_get(doc, "token_endpoint_auth_signing_alg_values_supported");
    if (json_is_array(methods)) { /* the client-assertion algorithm (clientauth.h) */
        out->auth_algs_listed = 1;
        out->auth_alg_ps256 = array_has(methods, "PS256");
        out->auth_alg_rs256 = array_has(methods, "RS256");
    }
out:
    json_decref(doc);
    if (e)
        rg_oidc_discovery_clear(out);
    return e;
}

static char *dup_or_null(const char *s, int *bad)
{
    char *d;
    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *bad = 1;
    return d;
}

static rg_err discovery_copy(const struct rg_oidc_discovery *s, struct rg_oidc_discovery *d)
{
    int bad = 0;
    memset(d, 0, sizeof *d);
    d->issuer = dup_or_null(s->issuer, &bad);
    d->authorization_endpoint = dup_or_null(s->authorization_endpoint, &bad);
    d->token_endpoint = dup_or_null(s->token_endpoint, &bad);
    d->jwks_uri = dup_or_null(s->jwks_uri, &bad);
    d->userinfo_endpoint = dup_or_null(s->userinfo_endpoint, &bad);
    d->end_session_endpoint = dup_or_null(s->end_session_endpoint, &bad);
    for (size_t i = 0; i < RG_OIDC_MAX_ALGS && s->id_token_algs[i]; i++)
        d->id_token_algs[i] = dup_or_null(s->id_token_algs[i], &bad);
    d->auth_methods_listed = s->auth_methods_listed;
    d->auth_basic = s->auth_basic;
    d->auth_post = s->auth_post;
    d->auth_pkjwt = s->auth_pkjwt;
    d->auth_algs_listed = s->auth_algs_listed;
    d->auth_alg_ps256 = s->auth_alg_ps256;
    d->auth_alg_rs256 = s->auth_alg_rs256;
    d->iss_in_response = s->iss_in_response;
    if (bad) {
        rg_oidc_discovery_clear(d);
        return RG_ERR_NOMEM;
    }
    return RG_OK;
}

/* ---- fetching ---- */

struct cache_entry {
    char *issuer;                     /* configured issuer URL (the key) */
    struct rg_oidc_provider *snap;    /* current snapshot (one reference held here) */
    time_t last_refetch;              /* last unknown-kid JWKS refetch attempt */
    time_t last_used;
};

struct rg_oidc_cache {
    pthread_mutex_t mu;
    struct cache_entry entries[RG_OIDC_CACHE_MAX_ISSUERS];
    size_t n;
    char *ca_file;
    time_t (*now)(void);
};

static time_t default_now(void) { return time(NULL); }

static rg_err http_get_json(const char *ca_file, const char *url, size_t max,
                            const char *what, struct rg_httpc_resp *resp, struct rg_msg *msg)
{
    struct rg_httpc_opts o = {.max_body = max, .ca_file = ca_file};
    rg_err e = rg_httpc_get(url, &o, resp, msg);
    if (e)
        return e;
    if (resp->status != 200) {
        e = rg_fail(msg, RG_ERR_NET, "%s fetch from %.200s: HTTP status %ld", what, url,
                    resp->status);
        rg_httpc_resp_free(resp);
    }
    return e;
}

static rg_err fetch_keys(const char *ca_file, const char *jwks_uri, struct rg_jwks *keys,
                         struct rg_msg *msg)
{
    struct rg_httpc_resp r;
    struct rg_msg why = {{0}};
    rg_err e = http_get_json(ca_file, jwks_uri, RG_OIDC_JWKS_MAX, "JWKS", &r, msg);
    if (e)
        return e;
    e = rg_jwks_parse(r.body, r.body_len, keys, &why);
    if (e)
        rg_fail(msg, e, "JWKS from %.200s refused: %s", jwks_uri, why.text);
    else if (keys->skipped)
        rg_info("JWKS from %s: %zu usable keys, %zu skipped", jwks_uri, keys->n, keys->skipped);
    rg_httpc_resp_free(&r);
    return e;
}

static rg_err fetch_provider(struct rg_oidc_cache *c, const char *issuer_url, const char *ca_file,
                             struct rg_oidc_provider **out, struct rg_msg *msg)
{
    char url[RG_HTTPC_URL_MAX + 64];
    struct rg_httpc_resp r;
    struct rg_msg why = {{0}};
    struct rg_oidc_provider *p;
    rg_err e;

    *out = NULL;
    if (!rg_url_https_or_loopback(issuer_url))
        return rg_fail(msg, RG_ERR_CONFIG,
                       "issuer URL '%.200s' refused: https required (http only for loopback)",
                       issuer_url);
    if (rg_oidc_discovery_url(issuer_url, url, sizeof url))
        return rg_fail(msg, RG_ERR_CONFIG, "issuer URL too long");
    p = calloc(1, sizeof *p);
    if (!p || (ca_file && !(p->ca_file = strdup(ca_file)))) {
        free(p);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    e = http_get_json(ca_file, url, RG_OIDC_DISCOVERY_MAX, "discovery", &r, msg);
    if (e)
        goto out;
    e = rg_oidc_discovery_parse(r.body, r.body_len, issuer_url, &p->disc, &why);
    if (e) {
        rg_fail(msg, e, "discovery from %.200s refused: %s", url, why.text);
        if (e == RG_ERR_INVALID)
            rg_debug("discovery content type was '%s'", r.content_type);
    }
    rg_httpc_resp_free(&r);
    if (e)
        goto out;
    e = fetch_keys(ca_file, p->disc.jwks_uri, &p->keys, msg);
    if (e)
        goto out;
    p->fetched = p->keys_fetched = c->now();
    p->refs = 1;
    *out = p;
out:
    if (e) {
        rg_oidc_discovery_clear(&p->disc);
        rg_jwks_free(&p->keys);
        free(p->ca_file);
        free(p);
    }
    return e;
}

static void snap_free(struct rg_oidc_provider *p)
{
    rg_oidc_discovery_clear(&p->disc);
    rg_jwks_free(&p->keys);
    free(p->ca_file);
    free(p);
}

/* The cache key: the configured issuer URL and the CA bundle trusted for it (two realms may
 * reach one issuer through different trust anchors). malloc'd. */
static char *cache_key(const char *issuer, const char *ca_file)
{
    char *k = NULL;
    if (asprintf(&k, "%s\n%s", issuer, ca_file ? ca_file : "") < 0)
        return NULL;
    return k;
}

/* Must hold c->mu. */
static void snap_unref_locked(struct rg_oidc_provider *p)
{
    if (p && --p->refs == 0)
        snap_free(p);
}

static struct cache_entry *find_locked(struct rg_oidc_cache *c, const char *issuer)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->entries[i].issuer, issuer) == 0)
            return &c->entries[i];
    return NULL;
}

/* Finds or creates the entry for issuer, evicting the least recently used one when full.
 * Must hold c->mu. NULL on allocation failure. */
static struct cache_entry *entry_locked(struct rg_oidc_cache *c, const char *issuer)
{
    struct cache_entry *e = find_locked(c, issuer);
    char *key;

    if (e)
        return e;
    key = strdup(issuer);
    if (!key)
        return NULL;
    if (c->n == RG_OIDC_CACHE_MAX_ISSUERS) {
        size_t old = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->entries[i].last_used < c->entries[old].last_used)
                old = i;
        free(c->entries[old].issuer);
        snap_unref_locked(c->entries[old].snap);
        c->entries[old] = c->entries[--c->n];
    }
    e = &c->entries[c->n++];
    memset(e, 0, sizeof *e);
    e->issuer = key;
    return e;
}

rg_err rg_oidc_cache_new(const char *ca_file, struct rg_oidc_cache **out)
{
    struct rg_oidc_cache *c = calloc(1, sizeof *c);

    *out = NULL;
    if (!c)
        return RG_ERR_NOMEM;
    if (ca_file && !(c->ca_file = strdup(ca_file))) {
        free(c);
        return RG_ERR_NOMEM;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->ca_file);
        free(c);
        return RG_ERR_NOMEM;
    }
    c->now = default_now;
    *out = c;
    return RG_OK;
}

void rg_oidc_cache_free(struct rg_oidc_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].issuer);
        snap_unref_locked(c->entries[i].snap);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->ca_file);
    free(c);
}

const char *rg_oidc_cache_ca_file(const struct rg_oidc_cache *c)
{
    return c->ca_file;
}

void rg_oidc_cache_set_clock(struct rg_oidc_cache *c, time_t (*now)(void))
{
    c->now = now ? now : default_now;
}

rg_err rg_oidc_provider_get(struct rg_oidc_cache *c, const char *issuer_url,
                            const char *ca_file, const struct rg_oidc_provider **out,
                            struct rg_msg *msg)
{
    struct rg_oidc_provider *fresh = NULL;
    struct cache_entry *ent;
    time_t now = c->now();
    char *key;
    rg_err e;

    *out = NULL;
    if (!issuer_url || !*issuer_url)
        return rg_fail(msg, RG_ERR_CONFIG, "no issuer URL configured");
    if (!ca_file)
        ca_file = c->ca_file;
    if (!(key = cache_key(issuer_url, ca_file)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&c->mu);
    ent = find_locked(c, key);
    if (ent && ent->snap && now - ent->snap->fetched < RG_OIDC_CACHE_TTL &&
        now >= ent->snap->fetched) {
        ent->snap->refs++;
        ent->last_used = now;
        *out = ent->snap;
        pthread_mutex_unlock(&c->mu);
        free(key);
        return RG_OK;
    }
    pthread_mutex_unlock(&c->mu);

    /* network I/O without the lock; concurrent misses may fetch twice, which is harmless */
    e = fetch_provider(c, issuer_url, ca_file, &fresh, msg);
    if (e) {
        free(key);
        return e;
    }
    pthread_mutex_lock(&c->mu);
    ent = entry_locked(c, key);
    free(key);
    if (!ent) {
        pthread_mutex_unlock(&c->mu);
        *out = fresh; /* uncached, still usable: the caller's reference is the only one */
        return RG_OK;
    }
    snap_unref_locked(ent->snap);
    ent->snap = fresh;       /* the cache's reference */
    ent->last_used = now;
    fresh->refs++;           /* the caller's reference */
    *out = fresh;
    pthread_mutex_unlock(&c->mu);
    rg_info("openid provider '%s': discovery and %zu keys loaded", issuer_url, fresh->keys.n);
    return RG_OK;
}

rg_err rg_oidc_provider_refresh_keys(struct rg_oidc_cache *c, const struct rg_oidc_provider *stale,
                                     const struct rg_oidc_provider **out, struct rg_msg *msg)
{
    struct rg_oidc_provider *fresh = NULL;
    struct cache_entry *ent;
    time_t now = c->now();
    char *key = cache_key(stale->disc.issuer, stale->ca_file);
    rg_err e;

    *out = NULL;
    if (!key)
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&c->mu);
    ent = entry_locked(c, key);
    if (!ent) {
        pthread_mutex_unlock(&c->mu);
        free(key);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    if (ent->snap && ent->snap != stale) {
        /* someone replaced the snapshot meanwhile (refetch or TTL reload): use theirs */
        ent->snap->refs++;
        *out = ent->snap;
        pthread_mutex_unlock(&c->mu);
        free(key);
        return RG_OK;
    }
    if (ent->last_refetch && now - ent->last_refetch < RG_OIDC_REFETCH_COOLDOWN &&
        now >= ent->last_refetch) {
        pthread_mutex_unlock(&c->mu);
        free(key);
        return rg_fail(msg, RG_ERR_BUSY, "JWKS refetch for '%.200s' throttled (last %ld s ago)",
                       stale->disc.issuer, (long)(now - ent->last_refetch));
    }
    ent->last_refetch = now;
    pthread_mutex_unlock(&c->mu);

    fresh = calloc(1, sizeof *fresh);
    if (!fresh || (stale->ca_file && !(fresh->ca_file = strdup(stale->ca_file))) ||
        discovery_copy(&stale->disc, &fresh->disc)) {
        if (fresh)
            free(fresh->ca_file);
        free(fresh);
        free(key);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    e = fetch_keys(stale->ca_file, stale->disc.jwks_uri, &fresh->keys, msg);
    if (e) {
        /* the last good keys stay in the cache */
        rg_warn("JWKS refetch for '%s' failed; keeping the last good keys", stale->disc.issuer);
        snap_free(fresh);
        free(key);
        return e;
    }
    fresh->fetched = stale->fetched; /* the discovery document keeps its age */
    fresh->keys_fetched = now;
    fresh->refs = 1;
    pthread_mutex_lock(&c->mu);
    ent = find_locked(c, key);
    free(key);
    if (ent) {
        snap_unref_locked(ent->snap);
        ent->snap = fresh;
        fresh->refs++;
    }
    *out = fresh;
    pthread_mutex_unlock(&c->mu);
    rg_info("openid provider '%s': JWKS refetched, %zu keys", stale->disc.issuer, fresh->keys.n);
    return RG_OK;
}

void rg_oidc_provider_release(struct rg_oidc_cache *c, const struct rg_oidc_provider *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&c->mu);
    snap_unref_locked((struct rg_oidc_provider *)p);
    pthread_mutex_unlock(&c->mu);
}
