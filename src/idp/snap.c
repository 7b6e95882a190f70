#include "idp/snap.h"

#include <time.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "idp/keys.h"
#include "jose/jwk.h"

void rg_idp_issuer(const char *base, const char *tid, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s/v2.0", base, tid);
}

static void snap_free(struct rg_idp_snap *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->st.n_tenants; i++) {
        if (s->pkeys && s->pkeys[i]) {
            for (size_t k = 0; k < s->st.tenants[i].n_keys; k++)
                EVP_PKEY_free(s->pkeys[i][k]);
            free(s->pkeys[i]);
        }
        if (s->jwks)
            free(s->jwks[i]);
    }
    free(s->pkeys);
    free(s->jwks);
    rg_idp_state_free(&s->st);
    free(s);
}

/* The JWKS as Entra serves it: per key kty, use, kid, x5t, n, e, x5c, issuer; no alg. */
static char *tenant_jwks(const struct rg_idp_tenant *t, EVP_PKEY **pkeys, const char *base)
{
    json_t *doc = json_object(), *arr = json_array();
    char issuer[2300], *text = NULL;
    int bad = !doc || !arr;

    rg_idp_issuer(base, t->id, issuer, sizeof issuer);
    /* newest first: the key in use leads, as in Entra's documents */
    for (size_t k = t->n_keys; !bad && k-- > 0;) {
        json_t *jwk, *x5c;
        if (!pkeys[k])
            continue;
        jwk = rg_jwk_public_json(pkeys[k], t->keys[k].kid, t->keys[k].kid);
        x5c = json_array();
        bad |= !jwk || !x5c || json_array_append_new(x5c, json_string(t->keys[k].x5c)) ||
               json_object_set_new(jwk, "x5c", x5c) ||
               json_object_set_new(jwk, "issuer", json_string(issuer));
        if (!jwk || !x5c) {
            json_decref(x5c);
            json_decref(jwk);
            break;
        }
        bad |= json_array_append_new(arr, jwk);
    }
    if (!bad && !json_object_set(doc, "keys", arr))
        text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    json_decref(doc);
    return text;
}

static rg_err snap_build(const struct rg_idp_store *store, const char *base,
                         struct rg_idp_snap **out, struct rg_msg *msg)
{
    struct rg_idp_snap *s = calloc(1, sizeof *s);
    rg_err e;

    *out = NULL;
    if (!s)
        return RG_ERR_NOMEM;
    atomic_init(&s->refs, 1);
    rg_idp_state_init(&s->st);
    e = rg_idp_store_load(store, &s->st, &s->stamp, msg);
    if (e)
        goto out;
    s->pkeys = calloc(s->st.n_tenants ? s->st.n_tenants : 1, sizeof *s->pkeys);
    s->jwks = calloc(s->st.n_tenants ? s->st.n_tenants : 1, sizeof *s->jwks);
    if (!s->pkeys || !s->jwks) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->st.n_tenants; i++) {
        const struct rg_idp_tenant *t = &s->st.tenants[i];
        s->pkeys[i] = calloc(t->n_keys ? t->n_keys : 1, sizeof **s->pkeys);
        if (!s->pkeys[i]) {
            e = RG_ERR_NOMEM;
            goto out;
        }
        for (size_t k = 0; k < t->n_keys; k++) {
            struct rg_msg why;
            if (rg_idp_key_load(store->keys_dir, &t->keys[k], &s->pkeys[i][k], &why))
                rg_warn("tenant %s: key %s left out: %s", t->id, t->keys[k].kid, why.text);
        }
        s->jwks[i] = tenant_jwks(t, s->pkeys[i], base);
        if (!s->jwks[i]) {
            e = RG_ERR_NOMEM;
            goto out;
        }
    }
    *out = s;
    s = NULL;
out:
    snap_free(s);
    return e;
}

rg_err rg_idp_snaps_init(struct rg_idp_snaps *m, const struct rg_idp_store *store,
                         const char *issuer_base, struct rg_msg *msg)
{
    memset(m, 0, sizeof *m);
    m->store = store;
    m->issuer_base = issuer_base;
    if (pthread_mutex_init(&m->mu, NULL) != 0)
        return rg_fail(msg, RG_ERR_NOMEM, "cannot create a mutex");
    return snap_build(store, issuer_base, &m->cur, msg);
}

void rg_idp_snaps_destroy(struct rg_idp_snaps *m)
{
    rg_idp_snap_put(m->cur);
    m->cur = NULL;
    pthread_mutex_destroy(&m->mu);
}

struct rg_idp_snap *rg_idp_snaps_get(struct rg_idp_snaps *m)
{
    struct rg_idp_stamp now;
    struct rg_idp_snap *s, *old = NULL;

    pthread_mutex_lock(&m->mu);
    if (rg_idp_store_stamp(m->store, &now) == RG_OK && !rg_idp_stamp_eq(&now, &m->cur->stamp) &&
        !(m->bad_stamp.exists && rg_idp_stamp_eq(&now, &m->bad_stamp))) {
        struct rg_msg why;
        if (snap_build(m->store, m->issuer_base, &s, &why) == RG_OK) {
            old = m->cur;
            m->cur = s;
            memset(&m->bad_stamp, 0, sizeof m->bad_stamp);
            rg_info("state reloaded: %zu tenant(s)", s->st.n_tenants);
        } else {
            m->bad_stamp = now;
            m->bad_stamp.exists = true;
            rg_error("state not reloaded, keeping the previous one: %s", why.text);
        }
    }
    s = m->cur;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&m->mu);
    rg_idp_snap_put(old);
    return s;
}

void rg_idp_snap_put(struct rg_idp_snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        snap_free(s);
}

EVP_PKEY *rg_idp_snap_signer(const struct rg_idp_snap *s, const struct rg_idp_tenant *t,
                             const char **kid)
{
    size_t i = (size_t)(t - s->st.tenants);

    if (i >= s->st.n_tenants)
        return NULL;
    int64_t now = (int64_t)time(NULL);

    /* the newest key whose activation has come (a scheduled key is published, not used) */
    for (size_t k = t->n_keys; k-- > 0;) {
        if (s->pkeys[i][k] && t->keys[k].activates <= now) {
            if (kid)
                *kid = t->keys[k].kid;
            return s->pkeys[i][k];
        }
    }
    return NULL;
}

const char *rg_idp_snap_jwks(const struct rg_idp_snap *s, const struct rg_idp_tenant *t)
{
    size_t i = (size_t)(t - s->st.tenants);
    return i < s->st.n_tenants ? s->jwks[i] : NULL;
}
