/* domains_api.c — realm management: POST /access/domains, GET/PUT/DELETE
 * /access/domains/{realm} (spec §2.5). The public list GET /access/domains is in
 * access_api.c.
 *
 * Permissions: Realm.Allocate on /access/realm for every change; reading one realm needs
 * Realm.Allocate or Sys.Audit there. Refused: 403 "Permission check failed (/access/realm,
 * <priv>)".
 *
 * Changes go through rg_store_update_domains (lock, re-read, edit, atomic write), with the
 * editing rules and messages of domains.h. `digest` (PUT, also accepted on POST and DELETE)
 * is compared inside the lock with the SHA-1 of the file as it is then; a mismatch is 400
 * "detected modified configuration - file changed by other user? Try again.".
 *
 * Deliberate difference to Proxmox: GET /access/domains/{realm} never returns `client-key`;
 * an openid realm answers "client-key-set": 1|0 instead, so the secret never leaves the
 * node through the API (Proxmox returns it in plain text).
 *
 * Status codes: 400 for every refused request (Proxmox answers 500 for most of them; the
 * message is the same), 403 permission, 503 when the config lock is not obtained in time,
 * 500 for I/O and memory failures. Secrets (client-key) are never logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/perm.h"
#include "api/api_util.h"
#include "api/call.h"
#include "base/log.h"

#define DIGEST_PARAM_MAX 64
#define DELETE_PARAM_MAX 4096

enum domain_op { OP_ADD, OP_MODIFY, OP_DELETE };

struct domain_edit {
    enum domain_op op;
    const char *id;
    const char *type;
    const struct rg_params *opts;
    const char *delete_list;
    const char *digest;
};

static const char digest_msg[] =
    "detected modified configuration - file changed by other user? Try again.";

static rg_err domain_edit_apply(struct rg_domains *d, void *ctx, struct rg_msg *msg)
{
    struct domain_edit *ed = ctx;

    if (ed->digest && strcmp(ed->digest, d->digest) != 0)
        return rg_fail(msg, RG_ERR_CONFIG, "%s", digest_msg);
    switch (ed->op) {
    case OP_ADD:
        return rg_domains_add(d, ed->id, ed->type, ed->opts, msg);
    case OP_MODIFY:
        return rg_domains_modify(d, ed->id, ed->opts, ed->delete_list, msg);
    case OP_DELETE:
        return rg_domains_delete(d, ed->id, msg);
    }
    return rg_fail(msg, RG_ERR_INVALID, "unknown operation");
}

/* 1 when the caller holds priv on /access/realm (or one of two privs when alt is given);
 * else replies 403 and returns 0. */
static int allowed(struct rg_call *c, const char *priv, const char *alt)
{
    rg_privmask need = rg_priv_bit(priv);

    if (alt)
        need |= rg_priv_bit(alt);
    if (rg_perm_check(&c->snap->users, c->userid, "/access/realm", need, alt != NULL))
        return 1;
    rg_info("request %s %s by %s refused: no %s on /access/realm", c->req->method,
            c->req->path, c->userid, priv);
    rg_reply_error(c, 403, "Permission check failed (/access/realm, %s)", priv);
    return 0;
}

/* All request parameters, body first, then query keys the body does not have (Proxmox
 * accepts both). p is initialised here. */
static rg_err collect_params(const struct rg_http_request *req, struct rg_params *p)
{
    rg_err e = RG_OK;

    rg_params_init(p);
    for (size_t i = 0; i < req->body.n && !e; i++)
        e = rg_params_add(p, req->body.items[i].key, req->body.items[i].val);
    for (size_t i = 0; i < req->query.n && !e; i++)
        if (!rg_params_get(&req->body, req->query.items[i].key))
            e = rg_params_add(p, req->query.items[i].key, req->query.items[i].val);
    if (e)
        rg_params_free(p);
    return e;
}

/* The {realm} path segment, checked; replies 400 and returns NULL when invalid. */
static const char *path_realm(struct rg_call *c)
{
    const char *id = rg_call_pathp(c, "realm");

    if (!id || !rg_realmid_check(id)) {
        rg_reply_error(c, 400, "parameter verification failed: realm: invalid format");
        return NULL;
    }
    return id;
}

/* Runs an edit and replies (null data on success). */
static void run_edit(struct rg_call *c, struct domain_edit *ed, const char *verb)
{
    struct rg_msg msg = {{0}};
    rg_err e;

    if (ed->digest && (strlen(ed->digest) > DIGEST_PARAM_MAX)) {
        rg_reply_error(c, 400, "parameter verification failed: digest: value too long");
        return;
    }
    if (ed->delete_list && strlen(ed->delete_list) > DELETE_PARAM_MAX) {
        rg_reply_error(c, 400, "parameter verification failed: delete: value too long");
        return;
    }
    e = rg_store_update_domains(c->api->store, domain_edit_apply, ed, &msg);
    if (e) {
        rg_info("realm %s of '%s' by %s refused: %s", verb, ed->id, c->userid,
                msg.text[0] ? msg.text : rg_err_str(e));
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("realm '%s' %s by %s", ed->id, verb, c->userid);
    rg_reply_data(c, NULL);
}

void rg_h_domains_create(struct rg_call *c)
{
    struct domain_edit ed = {OP_ADD, NULL, NULL, NULL, NULL, NULL};
    struct rg_params p;

    if (!allowed(c, "Realm.Allocate", NULL))
        return;
    if (collect_params(c->req, &p)) {
        rg_reply_error(c, 500, "out of memory");
        return;
    }
    ed.id = rg_params_get(&p, "realm");
    ed.type = rg_params_get(&p, "type");
    ed.opts = &p;
    ed.digest = rg_params_get(&p, "digest");
    if (!ed.id || !ed.type) {
        rg_reply_error(c, 400, "parameter verification failed: realm and type are required");
    } else if (!rg_realmid_check(ed.id)) {
        rg_reply_error(c, 400, "parameter verification failed: realm: invalid format");
    } else if (rg_params_get(&p, "delete")) {
        rg_reply_error(c, 400, "parameter verification failed: delete: not allowed on create");
    } else {
        run_edit(c, &ed, "created");
    }
    rg_params_free(&p);
}

void rg_h_domain_update(struct rg_call *c)
{
    struct domain_edit ed = {OP_MODIFY, NULL, NULL, NULL, NULL, NULL};
    const struct rg_realm *cur;
    struct rg_params p;
    const char *type;

    if (!allowed(c, "Realm.Allocate", NULL) || !(ed.id = path_realm(c)))
        return;
    if (collect_params(c->req, &p)) {
        rg_reply_error(c, 500, "out of memory");
        return;
    }
    type = rg_params_get(&p, "type");
    cur = rg_domains_find(&c->snap->domains, ed.id);
    if (type && (!cur || strcmp(type, cur->type) != 0)) {
        /* the type is part of the section header; a realm keeps it for life */
        rg_reply_error(c, 400, "parameter verification failed: type: the realm type cannot "
                               "be changed");
    } else {
        ed.opts = &p;
        ed.delete_list = rg_params_get(&p, "delete");
        ed.digest = rg_params_get(&p, "digest");
        run_edit(c, &ed, "modified");
    }
    rg_params_free(&p);
}

void rg_h_domain_delete(struct rg_call *c)
{
    struct domain_edit ed = {OP_DELETE, NULL, NULL, NULL, NULL, NULL};

    if (!allowed(c, "Realm.Allocate", NULL) || !(ed.id = path_realm(c)))
        return;
    ed.digest = rg_http_param(c->req, "digest");
    run_edit(c, &ed, "deleted");
}

/* ldap/ad sections are kept verbatim; show their "key value" lines as strings. */
static void raw_options(const char *raw, json_t *o)
{
    const char *p = raw;

    while (p && *p) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        const char *k = p, *ke, *v;
        while (k < end && (*k == ' ' || *k == '\t'))
            k++;
        ke = k;
        while (ke < end && *ke != ' ' && *ke != '\t')
            ke++;
        v = ke;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        if (ke > k && ke - k < 64) {
            char key[64];
            memcpy(key, k, (size_t)(ke - k));
            key[ke - k] = '\0';
            if (strcmp(key, "password") != 0)
                json_object_set_new(o, key, json_stringn(v, (size_t)(end - v)));
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* One realm option into the GET reply; the client key is replaced by client-key-set. */
static void put_option(void *ctx, const char *key, const char *str, int boolean)
{
    json_t *o = ctx;

    if (!strcmp(key, "client-key"))
        return;
    if (str)
        json_object_set_new(o, key, json_string(str));
    else
        json_object_set_new(o, key, json_integer(boolean));
}

void rg_h_domain_get(struct rg_call *c)
{
    const struct rg_snapshot *snap;
    const struct rg_realm *r;
    const char *id;
    json_t *o;

    if (!allowed(c, "Realm.Allocate", "Sys.Audit") || !(id = path_realm(c)))
        return;
    /* the digest is for an update that follows: it must be the file's current one, even if
     * another thread is refreshing the snapshot right now (the CLI may just have written) */
    rg_store_refresh(c->api->store);
    snap = rg_store_acquire(c->api->store);
    r = rg_domains_find(&snap->domains, id);
    if (!r) {
        rg_store_release(snap);
        rg_reply_error(c, 404, "domain '%s' does not exist", id);
        return;
    }
    o = json_object();
    json_object_set_new(o, "type", json_string(r->type));
    json_object_set_new(o, "digest", json_string(snap->domains.digest));
    rg_realm_options(r, put_option, o);
    if (!strcmp(r->type, "openid")) {
        /* never the secret itself (see the header comment) */
        json_object_set_new(o, "client-key-set", json_integer(r->client_key ? 1 : 0));
    } else if (r->raw) {
        raw_options(r->raw, o);
    }
    rg_store_release(snap);
    rg_reply_data(c, o);
}
