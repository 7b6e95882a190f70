#include "access/perm.h"

#include <stdlib.h>
#include <string.h>

/* A role set: role name -> propagate flag. Names point into the usercfg (or are literals),
 * so a set lives no longer than the config it was computed from. */
struct roleset {
    struct rs_item {
        const char *role;
        int propagate;
    } *items;
    size_t n, cap;
};

static void rs_free(struct roleset *s)
{
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

static void rs_clear(struct roleset *s)
{
    s->n = 0;
}

static rg_err rs_set(struct roleset *s, const char *role, int propagate)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->items[i].role, role)) {
            s->items[i].propagate = propagate;
            return RG_OK;
        }
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        struct rs_item *ni = realloc(s->items, ncap * sizeof *ni);
        if (!ni)
            return RG_ERR_NOMEM;
        s->items = ni;
        s->cap = ncap;
    }
    s->items[s->n].role = role;
    s->items[s->n].propagate = propagate;
    s->n++;
    return RG_OK;
}

static int rs_has(const struct roleset *s, const char *role)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i].role, role))
            return 1;
    return 0;
}

static void rs_swap(struct roleset *a, struct roleset *b)
{
    struct roleset t = *a;
    *a = *b;
    *b = t;
}

/* Token/user/group subject kinds for one ACL walk. */
enum subj_kind { SUBJ_USER, SUBJ_TOKEN };

/* Spec §5.7 steps 2-3 for a user (or a privilege-separated token), on a normalised path. */
static rg_err walk_roles(const struct rg_usercfg *cfg, const char *subject, enum subj_kind kind,
                         const char *path, struct roleset *out)
{
    struct roleset cur = {0}, tok = {0}, usr = {0}, grp = {0};
    char prefix[RG_ACL_PATH_MAX + 1];
    const char *p = path;
    rg_err e = RG_OK;

    rs_clear(out);
    /* visit "/" then every prefix of path, component by component */
    for (;;) {
        size_t plen, first, count;
        int final;

        if (p == path) {
            strcpy(prefix, "/");
            while (*p == '/')
                p++;
        } else {
            const char *slash = strchr(p, '/');
            const char *end = slash ? slash : p + strlen(p);
            plen = (size_t)(end - path);
            memcpy(prefix, path, plen);
            prefix[plen] = '\0';
            p = slash ? slash + 1 : end;
        }
        final = *p == '\0';
        first = rg_usercfg_acl_at(cfg, prefix, &count);
        rs_clear(&tok);
        rs_clear(&usr);
        rs_clear(&grp);
        for (size_t i = first; i < first + count && !e; i++) {
            const struct rg_acl_entry *a = &cfg->acl[i];
            if (!final && !a->propagate)
                continue;
            if (a->ugid[0] == '@') {
                const struct rg_group *g;
                if (kind == SUBJ_TOKEN)
                    continue;
                g = rg_usercfg_group(cfg, a->ugid + 1);
                if (g && rg_group_has_member(g, subject))
                    e = rs_set(&grp, a->role, a->propagate);
            } else if (!strcmp(a->ugid, subject)) {
                e = rs_set(kind == SUBJ_TOKEN ? &tok : &usr, a->role, a->propagate);
            }
        }
        if (e)
            break;
        /* priority: token entries, then user entries, then the union of group entries;
         * whatever applies replaces the inherited set completely */
        if (tok.n)
            rs_swap(&cur, &tok);
        else if (usr.n)
            rs_swap(&cur, &usr);
        else if (grp.n)
            rs_swap(&cur, &grp);
        if (final)
            break;
    }
    if (!e) {
        if (rs_has(&cur, "NoAccess")) {
            int prop = 0;
            for (size_t i = 0; i < cur.n; i++)
                if (!strcmp(cur.items[i].role, "NoAccess"))
                    prop = cur.items[i].propagate;
            rs_clear(&cur);
            e = rs_set(&cur, "NoAccess", prop);
        }
        rs_swap(out, &cur);
    }
    rs_free(&cur);
    rs_free(&tok);
    rs_free(&usr);
    rs_free(&grp);
    return e;
}

/* Steps 1-3: root, tokens, then the walk. */
static rg_err resolve_roles(const struct rg_usercfg *cfg, const char *subject, const char *path,
                            struct roleset *out)
{
    rs_clear(out);
    if (!strcmp(subject, "root@pam"))
        return rs_set(out, "Administrator", 1);
    if (strchr(subject, '!')) {
        char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
        const struct rg_token *t;
        if (rg_tokenid_split(subject, uid, name) != RG_OK ||
            !(t = rg_usercfg_token(cfg, subject)))
            return RG_OK;
        if (!t->privsep)
            return resolve_roles(cfg, uid, path, out);
        return walk_roles(cfg, subject, SUBJ_TOKEN, path, out);
    }
    return walk_roles(cfg, subject, SUBJ_USER, path, out);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

rg_err rg_perm_roles(const struct rg_usercfg *cfg, const char *subject, const char *path,
                     struct rg_strlist *out)
{
    char np[RG_ACL_PATH_MAX + 1];
    struct roleset rs = {0};
    rg_err e;

    rg_strlist_init(out);
    if (!subject)
        return RG_ERR_INVALID;
    if ((e = rg_path_normalize(path, np)))
        return e;
    if ((e = resolve_roles(cfg, subject, np, &rs)))
        goto out;
    for (size_t i = 0; i < rs.n && !e; i++)
        e = rg_strlist_add(out, rs.items[i].role);
    if (!e && out->n > 1)
        qsort(out->items, out->n, sizeof *out->items, cmp_strp);
out:
    rs_free(&rs);
    if (e)
        rg_strlist_free(out);
    return e;
}

/* Adds the roles of /pool/<poolid> (propagate 0) to rs with the NoAccess rules of step 4. */
static rg_err merge_pool_roles(const struct rg_usercfg *cfg, const char *subject,
                               const char *poolid, struct roleset *rs)
{
    char ppath[RG_ACL_PATH_MAX + 1];
    struct roleset pr = {0};
    rg_err e;

    if (rs_has(rs, "NoAccess"))
        return RG_OK;
    if (snprintf(ppath, sizeof ppath, "/pool/%s", poolid) >= (int)sizeof ppath)
        return RG_OK;
    if ((e = resolve_roles(cfg, subject, ppath, &pr)))
        goto out;
    if (rs_has(&pr, "NoAccess")) {
        rs_clear(rs);
        e = rs_set(rs, "NoAccess", 0);
        goto out;
    }
    for (size_t i = 0; i < pr.n && !e; i++)
        if (!rs_has(rs, pr.items[i].role))
            e = rs_set(rs, pr.items[i].role, 0);
out:
    rs_free(&pr);
    return e;
}

static int parse_vmid(const char *s, uint32_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int pool_has_vm(const struct rg_pool *p, uint32_t vmid)
{
    for (size_t i = 0; i < p->nvmids; i++)
        if (p->vmids[i] == vmid)
            return 1;
    return 0;
}

/* Privileges of one (non-root) subject on a normalised path, without token intersection. */
static rg_err subject_privs(const struct rg_usercfg *cfg, const char *subject, const char *np,
                            struct rg_privset *out)
{
    struct roleset rs = {0};
    rg_err e;

    out->privs = out->propagate = 0;
    if ((e = resolve_roles(cfg, subject, np, &rs)))
        goto out;
    /* step 4: pool membership of /vms/<id> and /storage/<id> */
    if (!strncmp(np, "/vms/", 5) && !strchr(np + 5, '/')) {
        uint32_t vmid;
        if (parse_vmid(np + 5, &vmid) == 0)
            for (size_t i = 0; i < cfg->npools && !e; i++)
                if (pool_has_vm(&cfg->pools[i], vmid))
                    e = merge_pool_roles(cfg, subject, cfg->pools[i].id, &rs);
    } else if (!strncmp(np, "/storage/", 9) && np[9] && !strchr(np + 9, '/')) {
        for (size_t i = 0; i < cfg->npools && !e; i++)
            if (rg_strlist_contains(&cfg->pools[i].storages, np + 9))
                e = merge_pool_roles(cfg, subject, cfg->pools[i].id, &rs);
    }
    /* step 5: union, propagate = OR */
    for (size_t i = 0; i < rs.n && !e; i++) {
        rg_privmask m;
        if (!rg_usercfg_role_privs(cfg, rs.items[i].role, &m))
            continue;
        out->privs |= m;
        if (rs.items[i].propagate)
            out->propagate |= m;
    }
out:
    rs_free(&rs);
    return e;
}

static rg_err privs_normalized(const struct rg_usercfg *cfg, const char *subject,
                               const char *np, struct rg_privset *out)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    const struct rg_token *t;
    struct rg_privset user;
    rg_err e;

    out->privs = out->propagate = 0;
    if (!strcmp(subject, "root@pam")) {
        out->privs = out->propagate = RG_PRIV_ALL;
        return RG_OK;
    }
    if (!strchr(subject, '!'))
        return subject_privs(cfg, subject, np, out);
    if (rg_tokenid_split(subject, uid, name) != RG_OK || !(t = rg_usercfg_token(cfg, subject)))
        return RG_OK;
    if (!t->privsep)
        return privs_normalized(cfg, uid, np, out);
    if ((e = subject_privs(cfg, subject, np, out)))
        return e;
    /* step 6: a separated token never exceeds its user */
    if ((e = privs_normalized(cfg, uid, np, &user)))
        return e;
    out->privs &= user.privs;
    out->propagate &= user.propagate & out->privs;
    return RG_OK;
}

rg_err rg_perm_privs(const struct rg_usercfg *cfg, const char *subject, const char *path,
                     struct rg_privset *out)
{
    char np[RG_ACL_PATH_MAX + 1];
    rg_err e;

    out->privs = out->propagate = 0;
    if (!subject)
        return RG_ERR_INVALID;
    if ((e = rg_path_normalize(path, np)))
        return e;
    return privs_normalized(cfg, subject, np, out);
}

bool rg_perm_check(const struct rg_usercfg *cfg, const char *subject, const char *path,
                   rg_privmask need, bool any)
{
    struct rg_privset ps;

    if (rg_perm_privs(cfg, subject, path, &ps) != RG_OK)
        return false;
    if (any)
        return (ps.privs & need) != 0;
    return (ps.privs & need) == need;
}

json_t *rg_privset_json(const struct rg_privset *ps)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    for (unsigned i = 0; i < RG_PRIV_COUNT; i++) {
        rg_privmask bit = ((rg_privmask)1) << i;
        if (!(ps->privs & bit))
            continue;
        if (json_object_set_new(o, rg_priv_name(i),
                                json_integer((ps->propagate & bit) ? 1 : 0)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The path set of §5.9 / §5.10: fixed paths + every ACL path (+ pool members), sorted. */
static rg_err collect_paths(const struct rg_usercfg *cfg, const char *const *fixed, size_t nfixed,
                            int pool_members, struct rg_strlist *out)
{
    rg_err e = RG_OK;

    rg_strlist_init(out);
    for (size_t i = 0; i < nfixed && !e; i++)
        e = rg_strlist_add(out, fixed[i]);
    for (size_t i = 0; i < cfg->nacl && !e; i++)
        if (i == 0 || strcmp(cfg->acl[i - 1].path, cfg->acl[i].path))
            e = rg_strlist_add(out, cfg->acl[i].path);
    for (size_t i = 0; pool_members && i < cfg->npools && !e; i++) {
        const struct rg_pool *p = &cfg->pools[i];
        char buf[RG_ACL_PATH_MAX + 1];
        for (size_t k = 0; k < p->nvmids && !e; k++) {
            snprintf(buf, sizeof buf, "/vms/%u", (unsigned)p->vmids[k]);
            e = rg_strlist_add(out, buf);
        }
        for (size_t k = 0; k < p->storages.n && !e; k++) {
            if (snprintf(buf, sizeof buf, "/storage/%s", p->storages.items[k]) <
                (int)sizeof buf)
                e = rg_strlist_add(out, buf);
        }
    }
    if (e)
        rg_strlist_free(out);
    else
        rg_strlist_sort_unique(out);
    return e;
}

rg_err rg_perm_all(const struct rg_usercfg *cfg, const char *subject, json_t **out)
{
    static const char *const defaults[] = {"/",     "/access", "/access/groups", "/nodes",
                                           "/pool", "/sdn",    "/storage",       "/vms"};
    struct rg_strlist paths;
    json_t *res;
    rg_err e;

    *out = NULL;
    if (!subject)
        return RG_ERR_INVALID;
    if ((e = collect_paths(cfg, defaults, sizeof defaults / sizeof *defaults, 1, &paths)))
        return e;
    if (!(res = json_object())) {
        rg_strlist_free(&paths);
        return RG_ERR_NOMEM;
    }
    for (size_t i = 0; i < paths.n && !e; i++) {
        struct rg_privset ps;
        json_t *o;
        if ((e = privs_normalized(cfg, subject, paths.items[i], &ps)))
            break;
        if (!ps.privs)
            continue;
        if (!(o = rg_privset_json(&ps)) || json_object_set_new(res, paths.items[i], o) != 0)
            e = RG_ERR_NOMEM;
    }
    rg_strlist_free(&paths);
    if (e) {
        json_decref(res);
        return e;
    }
    *out = res;
    return RG_OK;
}

rg_err rg_perm_path_json(const struct rg_usercfg *cfg, const char *subject, const char *path,
                         json_t **out)
{
    char np[RG_ACL_PATH_MAX + 1];
    struct rg_privset ps;
    json_t *res, *o;
    rg_err e;

    *out = NULL;
    if (!subject)
        return RG_ERR_INVALID;
    if ((e = rg_path_normalize(path, np)))
        return e;
    if ((e = privs_normalized(cfg, subject, np, &ps)))
        return e;
    res = json_object();
    o = rg_privset_json(&ps);
    if (!res || !o || json_object_set_new(res, np, o) != 0) {
        json_decref(res);
        return RG_ERR_NOMEM;
    }
    *out = res;
    return RG_OK;
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* Whether a privilege belongs in a cap bucket (spec §5.10). */
static int cap_match(const char *bucket, const char *priv)
{
    int pm = !strcmp(priv, "Permissions.Modify");

    if (!strcmp(bucket, "vms"))
        return starts(priv, "VM.") || pm;
    if (!strcmp(bucket, "access"))
        return starts(priv, "User.") || starts(priv, "Group.") || pm;
    if (!strcmp(bucket, "storage"))
        return starts(priv, "Datastore.") || pm;
    if (!strcmp(bucket, "nodes"))
        return starts(priv, "Sys.") || pm;
    if (!strcmp(bucket, "sdn"))
        return starts(priv, "SDN.") || pm;
    if (!strcmp(bucket, "dc"))
        return starts(priv, "Sys.Audit") || starts(priv, "Sys.Modify") || starts(priv, "SDN.");
    if (!strcmp(bucket, "mapping"))
        return starts(priv, "Mapping.") || pm;
    return 0;
}

rg_err rg_perm_cap(const struct rg_usercfg *cfg, const char *subject, json_t **out)
{
    static const char *const buckets[] = {"vms", "access", "storage", "nodes",
                                          "sdn", "dc",     "mapping"};
    static const char *const required[] = {"/",        "/nodes", "/access/groups", "/vms",
                                           "/storage", "/sdn",   "/mapping"};
    rg_privmask acc[7] = {0};
    struct rg_strlist paths;
    json_t *res;
    rg_err e;

    *out = NULL;
    if (!subject)
        return RG_ERR_INVALID;
    if ((e = collect_paths(cfg, required, 7, 0, &paths)))
        return e;
    for (size_t i = 0; i < paths.n && !e; i++) {
        const char *path = paths.items[i];
        char top[64] = "dc";
        struct rg_privset ps;
        size_t k = 0;

        if ((e = privs_normalized(cfg, subject, path, &ps)))
            break;
        /* top-level component: /^\/(\w+)/ */
        while (k < sizeof top - 1 && path[1 + k] &&
               ((path[1 + k] >= 'a' && path[1 + k] <= 'z') ||
                (path[1 + k] >= 'A' && path[1 + k] <= 'Z') ||
                (path[1 + k] >= '0' && path[1 + k] <= '9') || path[1 + k] == '_')) {
            top[k] = path[1 + k];
            k++;
        }
        if (k > 0)
            top[k] = '\0';
        for (unsigned p = 0; p < RG_PRIV_COUNT; p++) {
            rg_privmask bit = ((rg_privmask)1) << p;
            const char *name = rg_priv_name(p);
            if (!(ps.privs & bit))
                continue;
            if (!strcmp(top, "pool")) {
                if (starts(name, "VM."))
                    acc[0] |= bit;
                else if (starts(name, "Datastore."))
                    acc[2] |= bit;
                else if (!strcmp(name, "Permissions.Modify"))
                    acc[0] |= bit, acc[2] |= bit;
                continue;
            }
            for (size_t b = 0; b < 7; b++)
                if (!strcmp(top, buckets[b]) && cap_match(buckets[b], name))
                    acc[b] |= bit;
        }
    }
    rg_strlist_free(&paths);
    if (e)
        return e;
    if (!(res = json_object()))
        return RG_ERR_NOMEM;
    for (size_t b = 0; b < 7; b++) {
        json_t *o = json_object();
        if (!o || json_object_set_new(res, buckets[b], o) != 0) {
            json_decref(res);
            return RG_ERR_NOMEM;
        }
        for (unsigned p = 0; p < RG_PRIV_COUNT; p++)
            if ((acc[b] & (((rg_privmask)1) << p)) &&
                json_object_set_new(o, rg_priv_name(p), json_integer(1)) != 0) {
                json_decref(res);
                return RG_ERR_NOMEM;
            }
    }
    *out = res;
    return RG_OK;
}
