#include "idp/flow.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/rand.h"

#define CODE_BYTES 48   /* 64 base64url characters */
#define TOKEN_BYTES 32

struct entry {
    bool live;
    unsigned char key[32];      /* SHA-256 of the handle */
    int64_t created, expires;
    int attempts;               /* authreq: failed sign-ins; lockout: failures */
    bool used;                  /* code: redeemed */
    int64_t locked_until;       /* lockout */
    bool has_link[2];
    unsigned char link[2][32];  /* code: access and refresh token issued for it */
    struct rg_idp_authreq a;    /* authreq uses all of it, the others only a.g */
    char *apps;                 /* session: client ids signed in through it, space-separated */
};

struct table {
    struct entry *e;
    size_t cap;
};

struct rg_idp_flow {
    pthread_mutex_t mu;
    int64_t code_ttl;
    struct table authreqs, codes, access, refresh, sessions, lockouts;
};

/* ---- grants ----------------------------------------------------------------------------- */

void rg_idp_grant_clear(struct rg_idp_grant *g)
{
    free(g->redirect_uri);
    free(g->scopes);
    free(g->nonce);
    free(g->code_challenge);
    memset(g, 0, sizeof *g);
}

static rg_err dup_into(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return RG_OK;
    *dst = strdup(src);
    return *dst ? RG_OK : RG_ERR_NOMEM;
}

rg_err rg_idp_grant_copy(struct rg_idp_grant *dst, const struct rg_idp_grant *src)
{
    *dst = *src;
    dst->redirect_uri = dst->scopes = dst->nonce = dst->code_challenge = NULL;
    if (dup_into(&dst->redirect_uri, src->redirect_uri) || dup_into(&dst->scopes, src->scopes) ||
        dup_into(&dst->nonce, src->nonce) ||
        dup_into(&dst->code_challenge, src->code_challenge)) {
        rg_idp_grant_clear(dst);
        return RG_ERR_NOMEM;
    }
    return RG_OK;
}

void rg_idp_authreq_clear(struct rg_idp_authreq *r)
{
    rg_idp_grant_clear(&r->g);
    free(r->state);
    free(r->login_hint);
    memset(r, 0, sizeof *r);
}

static rg_err authreq_copy(struct rg_idp_authreq *dst, const struct rg_idp_authreq *src)
{
    memset(dst, 0, sizeof *dst);
    dst->mode = src->mode;
    dst->force_consent = src->force_consent;
    dst->want_code = src->want_code;
    dst->want_id_token = src->want_id_token;
    if (rg_idp_grant_copy(&dst->g, &src->g))
        return RG_ERR_NOMEM;
    if (dup_into(&dst->state, src->state) || dup_into(&dst->login_hint, src->login_hint)) {
        rg_idp_authreq_clear(dst);
        return RG_ERR_NOMEM;
    }
    return RG_OK;
}

/* ---- tables ----------------------------------------------------------------------------- */

static void entry_clear(struct entry *e)
{
    rg_idp_authreq_clear(&e->a);
    free(e->apps);
    memset(e, 0, sizeof *e);
}

static rg_err table_init(struct table *t, size_t cap)
{
    t->e = calloc(cap, sizeof *t->e);
    t->cap = cap;
    return t->e ? RG_OK : RG_ERR_NOMEM;
}

static void table_free(struct table *t)
{
    if (!t->e)
        return;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].live)
            entry_clear(&t->e[i]);
    free(t->e);
    t->e = NULL;
}

/* Table key of a handle; the tag keeps keys of different tables apart. */
static bool hash_handle(const char *tag, const char *handle, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, tag, strlen(tag) + 1) == 1 &&
              EVP_DigestUpdate(ctx, handle, strlen(handle)) == 1 &&
              EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static struct entry *table_find(struct table *t, const unsigned char key[32])
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].live && memcmp(t->e[i].key, key, 32) == 0)
            return &t->e[i];
    return NULL;
}

/* A free slot: an empty one, else an expired one, else the oldest. */
static struct entry *table_slot(struct table *t, int64_t now)
{
    struct entry *oldest = NULL;

    for (size_t i = 0; i < t->cap; i++) {
        struct entry *e = &t->e[i];
        if (!e->live)
            return e;
        if (e->expires <= now) {
            entry_clear(e);
            return e;
        }
        if (!oldest || e->created < oldest->created)
            oldest = e;
    }
    entry_clear(oldest);
    return oldest;
}

/* Creates an entry under a fresh random handle (returned malloc'd in *handle). */
static rg_err table_new_entry(struct table *t, const char *tag, size_t nbytes, int64_t now,
                              int64_t ttl, struct entry **out, char **handle)
{
    struct entry *e;
    unsigned char key[32];
    char *h = rg_random_token(nbytes);

    *out = NULL;
    *handle = NULL;
    if (!h || !hash_handle(tag, h, key)) {
        free(h);
        return RG_ERR_CRYPTO;
    }
    e = table_slot(t, now);
    memcpy(e->key, key, sizeof key);
    e->live = true;
    e->created = now;
    e->expires = now + ttl;
    *out = e;
    *handle = h;
    return RG_OK;
}

static struct entry *table_lookup(struct table *t, const char *tag, const char *handle)
{
    unsigned char key[32];
    if (!handle || strlen(handle) > 512 || !hash_handle(tag, handle, key))
        return NULL;
    return table_find(t, key);
}

rg_err rg_idp_flow_new(int64_t code_ttl, struct rg_idp_flow **out)
{
    struct rg_idp_flow *f = calloc(1, sizeof *f);

    *out = NULL;
    if (!f)
        return RG_ERR_NOMEM;
    f->code_ttl = code_ttl;
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return RG_ERR_NOMEM;
    }
    if (table_init(&f->authreqs, RG_IDP_FLOW_AUTHREQS) ||
        table_init(&f->codes, RG_IDP_FLOW_CODES) ||
        table_init(&f->access, RG_IDP_FLOW_ACCESS) ||
        table_init(&f->refresh, RG_IDP_FLOW_REFRESH) ||
        table_init(&f->sessions, RG_IDP_FLOW_SESSIONS) ||
        table_init(&f->lockouts, RG_IDP_FLOW_LOCKOUTS)) {
        rg_idp_flow_free(f);
        return RG_ERR_NOMEM;
    }
    *out = f;
    return RG_OK;
}

void rg_idp_flow_free(struct rg_idp_flow *f)
{
    if (!f)
        return;
    table_free(&f->authreqs);
    table_free(&f->codes);
    table_free(&f->access);
    table_free(&f->refresh);
    table_free(&f->sessions);
    table_free(&f->lockouts);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* ---- authorize requests ----------------------------------------------------------------- */

rg_err rg_idp_authreq_put(struct rg_idp_flow *f, const struct rg_idp_authreq *r, int64_t now,
                          char **ctx)
{
    struct entry *e;
    rg_err err;

    pthread_mutex_lock(&f->mu);
    err = table_new_entry(&f->authreqs, "ctx", TOKEN_BYTES, now, RG_IDP_AUTHREQ_TTL, &e, ctx);
    if (!err && (err = authreq_copy(&e->a, r))) {
        entry_clear(e);
        free(*ctx);
        *ctx = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    return err;
}

rg_err rg_idp_authreq_get(struct rg_idp_flow *f, const char *ctx, int64_t now,
                          struct rg_idp_authreq *out)
{
    struct entry *e;
    rg_err err = RG_ERR_NOTFOUND;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->authreqs, "ctx", ctx);
    if (e && e->expires <= now)
        entry_clear(e);
    else if (e)
        err = authreq_copy(out, &e->a);
    pthread_mutex_unlock(&f->mu);
    return err;
}

int rg_idp_authreq_failed(struct rg_idp_flow *f, const char *ctx)
{
    struct entry *e;
    int left = 0;

    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->authreqs, "ctx", ctx);
    if (e) {
        left = RG_IDP_AUTHREQ_ATTEMPTS - ++e->attempts;
        if (left <= 0) {
            entry_clear(e);
            left = 0;
        }
    }
    pthread_mutex_unlock(&f->mu);
    return left;
}

void rg_idp_authreq_drop(struct rg_idp_flow *f, const char *ctx)
{
    struct entry *e;
    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->authreqs, "ctx", ctx);
    if (e)
        entry_clear(e);
    pthread_mutex_unlock(&f->mu);
}

/* ---- codes ------------------------------------------------------------------------------ */

rg_err rg_idp_code_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                       char **code)
{
    struct entry *e;
    rg_err err;

    pthread_mutex_lock(&f->mu);
    err = table_new_entry(&f->codes, "code", CODE_BYTES, now, f->code_ttl, &e, code);
    if (!err && (err = rg_idp_grant_copy(&e->a.g, g))) {
        entry_clear(e);
        free(*code);
        *code = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    return err;
}

bool rg_idp_code_wellformed(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n != (CODE_BYTES * 4) / 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)code[i]) && code[i] != '-' && code[i] != '_')
            return false;
    return true;
}

static void revoke_key(struct table *t, const unsigned char key[32])
{
    struct entry *e = table_find(t, key);
    if (e)
        entry_clear(e);
}

enum rg_idp_redeem rg_idp_code_redeem(struct rg_idp_flow *f, const char *code, int64_t now,
                                      struct rg_idp_grant *out)
{
    struct entry *e;
    enum rg_idp_redeem r;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->codes, "code", code);
    if (!e) {
        r = RG_IDP_REDEEM_UNKNOWN;
    } else if (e->used) {
        /* replay: whoever holds the code may be an attacker; withdraw what it bought */
        if (e->has_link[0])
            revoke_key(&f->access, e->link[0]);
        if (e->has_link[1])
            revoke_key(&f->refresh, e->link[1]);
        e->has_link[0] = e->has_link[1] = false;
        r = RG_IDP_REDEEM_USED;
    } else if (e->expires <= now) {
        entry_clear(e);
        r = RG_IDP_REDEEM_EXPIRED;
    } else {
        e->used = true;
        r = rg_idp_grant_copy(out, &e->a.g) ? RG_IDP_REDEEM_UNKNOWN : RG_IDP_REDEEM_OK;
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}

void rg_idp_code_link(struct rg_idp_flow *f, const char *code, const char *access,
                      const char *refresh)
{
    struct entry *e;

    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->codes, "code", code);
    if (e) {
        if (access)
            e->has_link[0] = hash_handle("at", access, e->link[0]);
        if (refresh)
            e->has_link[1] = hash_handle("rt", refresh, e->link[1]);
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---- tokens and sessions ---------------------------------------------------------------- */

static rg_err grant_put(struct rg_idp_flow *f, struct table *t, const char *tag,
                        const struct rg_idp_grant *g, int64_t now, int64_t ttl, char **handle)
{
    struct entry *e;
    rg_err err;

    pthread_mutex_lock(&f->mu);
    err = table_new_entry(t, tag, TOKEN_BYTES, now, ttl, &e, handle);
    if (!err && (err = rg_idp_grant_copy(&e->a.g, g))) {
        entry_clear(e);
        free(*handle);
        *handle = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    return err;
}

static enum rg_idp_redeem grant_get(struct rg_idp_flow *f, struct table *t, const char *tag,
                                    const char *handle, int64_t now, struct rg_idp_grant *out)
{
    struct entry *e;
    enum rg_idp_redeem r = RG_IDP_REDEEM_UNKNOWN;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&f->mu);
    e = table_lookup(t, tag, handle);
    if (e && e->expires <= now) {
        entry_clear(e);
        r = RG_IDP_REDEEM_EXPIRED;
    } else if (e) {
        r = rg_idp_grant_copy(out, &e->a.g) ? RG_IDP_REDEEM_UNKNOWN : RG_IDP_REDEEM_OK;
    }
    pthread_mutex_unlock(&f->mu);
    return r;
}

rg_err rg_idp_access_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                         int64_t ttl, char **token)
{
    return grant_put(f, &f->access, "at", g, now, ttl, token);
}

rg_err rg_idp_access_get(struct rg_idp_flow *f, const char *token, int64_t now,
                         struct rg_idp_grant *out)
{
    return grant_get(f, &f->access, "at", token, now, out) == RG_IDP_REDEEM_OK
               ? RG_OK
               : RG_ERR_NOTFOUND;
}

rg_err rg_idp_refresh_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                          int64_t ttl, char **token)
{
    return grant_put(f, &f->refresh, "rt", g, now, ttl, token);
}

enum rg_idp_redeem rg_idp_refresh_redeem(struct rg_idp_flow *f, const char *token,
                                         int64_t now, struct rg_idp_grant *out)
{
    return grant_get(f, &f->refresh, "rt", token, now, out);
}

void rg_idp_revoke_user(struct rg_idp_flow *f, const char *tenant, const char *oid)
{
    struct table *tabs[] = {&f->access, &f->refresh, &f->sessions};

    pthread_mutex_lock(&f->mu);
    for (size_t k = 0; k < sizeof tabs / sizeof *tabs; k++)
        for (size_t i = 0; i < tabs[k]->cap; i++) {
            struct entry *e = &tabs[k]->e[i];
            if (e->live && strcmp(e->a.g.tenant, tenant) == 0 && strcmp(e->a.g.oid, oid) == 0)
                entry_clear(e);
        }
    pthread_mutex_unlock(&f->mu);
}

rg_err rg_idp_session_put(struct rg_idp_flow *f, const struct rg_idp_grant *g, int64_t now,
                          int64_t ttl, char **cookie)
{
    return grant_put(f, &f->sessions, "sess", g, now, ttl, cookie);
}

rg_err rg_idp_session_get(struct rg_idp_flow *f, const char *cookie, int64_t now,
                          struct rg_idp_grant *out)
{
    return grant_get(f, &f->sessions, "sess", cookie, now, out) == RG_IDP_REDEEM_OK
               ? RG_OK
               : RG_ERR_NOTFOUND;
}

void rg_idp_session_drop(struct rg_idp_flow *f, const char *cookie)
{
    struct entry *e;
    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->sessions, "sess", cookie);
    if (e)
        entry_clear(e);
    pthread_mutex_unlock(&f->mu);
}

rg_err rg_idp_session_add_app(struct rg_idp_flow *f, const char *cookie, const char *client_id)
{
    struct entry *e;
    rg_err err = RG_ERR_NOTFOUND;
    size_t n;

    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->sessions, "sess", cookie);
    if (e) {
        err = RG_OK;
        n = e->apps ? strlen(e->apps) : 0;
        if (!e->apps || !strstr(e->apps, client_id)) {
            if (n / (RG_IDP_GUID_LEN + 1) >= RG_IDP_SESSION_APPS) {
                err = RG_ERR_LIMIT;
            } else {
                char *p = realloc(e->apps, n + RG_IDP_GUID_LEN + 2);
                if (!p) {
                    err = RG_ERR_NOMEM;
                } else {
                    snprintf(p + n, RG_IDP_GUID_LEN + 2, "%s%s", n ? " " : "", client_id);
                    e->apps = p;
                }
            }
        }
    }
    pthread_mutex_unlock(&f->mu);
    return err;
}

char *rg_idp_session_apps(struct rg_idp_flow *f, const char *cookie)
{
    struct entry *e;
    char *out = NULL;

    pthread_mutex_lock(&f->mu);
    e = table_lookup(&f->sessions, "sess", cookie);
    if (e)
        out = strdup(e->apps ? e->apps : "");
    pthread_mutex_unlock(&f->mu);
    return out;
}

/* ---- lockout ---------------------------------------------------------------------------- */

static bool lockout_key(const char *tenant, const char *upn, unsigned char key[32])
{
    char buf[RG_IDP_GUID_LEN + 2 + 512];
    size_t n = 0;

    n = (size_t)snprintf(buf, sizeof buf, "%s|", tenant);
    for (const char *c = upn; *c && n + 1 < sizeof buf; c++)
        buf[n++] = (char)tolower((unsigned char)*c);
    buf[n] = '\0';
    return hash_handle("lock", buf, key);
}

bool rg_idp_lockout_active(struct rg_idp_flow *f, const char *tenant, const char *upn,
                           int64_t now)
{
    unsigned char key[32];
    struct entry *e;
    bool locked = false;

    if (!lockout_key(tenant, upn, key))
        return false;
    pthread_mutex_lock(&f->mu);
    e = table_find(&f->lockouts, key);
    if (e && e->locked_until > now)
        locked = true;
    pthread_mutex_unlock(&f->mu);
    return locked;
}

void rg_idp_lockout_fail(struct rg_idp_flow *f, const char *tenant, const char *upn,
                         int64_t now)
{
    unsigned char key[32];
    struct entry *e;

    if (!lockout_key(tenant, upn, key))
        return;
    pthread_mutex_lock(&f->mu);
    e = table_find(&f->lockouts, key);
    if (e && e->expires <= now)
        entry_clear(e), e = NULL;
    if (!e) {
        e = table_slot(&f->lockouts, now);
        memcpy(e->key, key, 32);
        e->live = true;
        e->created = now;
    }
    /* failures are forgotten an hour after the last one */
    e->expires = now + 3600;
    if (++e->attempts >= RG_IDP_LOCKOUT_THRESHOLD) {
        e->locked_until = now + RG_IDP_LOCKOUT_SECONDS;
        e->attempts = 0;
    }
    pthread_mutex_unlock(&f->mu);
}

void rg_idp_lockout_clear(struct rg_idp_flow *f, const char *tenant, const char *upn)
{
    unsigned char key[32];
    struct entry *e;

    if (!lockout_key(tenant, upn, key))
        return;
    pthread_mutex_lock(&f->mu);
    e = table_find(&f->lockouts, key);
    if (e)
        entry_clear(e);
    pthread_mutex_unlock(&f->mu);
}
