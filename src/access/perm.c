#include "access/perm.h"

#include <stdint.h>
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

/* ---------------------------------------------------------------- index
 *
 * Why: without it a query scans every group entry of every visited ACL node (group lookup +
 * member search each) and every pool, tens of microseconds on a large config. The index is
 * built once per immutable config (rg_perm_index_build) and gives:
 *   - ACL node by path: hash map path -> [first, count) in cfg->acl;
 *   - per node, its group entries as (group index, acl index) sorted, so the entries of a
 *     user's groups are found by binary search;
 *   - user id -> sorted group indices (from the groups' member lists);
 *   - vmid -> pools and storage id -> pools (sorted pool indices).
 * Keys point into the config's own strings, so the index lives exactly as long as the
 * (unchanged) config. Every answer equals the index-free path's (tests compare both). */

struct strmap {
    struct sm_slot {
        const char *key;
        uint32_t val;
    } *slots;
    size_t mask; /* capacity - 1 (capacity is a power of two, load <= 1/2) */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

static rg_err sm_init(struct strmap *m, size_t n)
{
    size_t cap = 16;

    while (cap < 2 * n + 1)
        cap <<= 1;
    if (!(m->slots = calloc(cap, sizeof *m->slots)))
        return RG_ERR_NOMEM;
    m->mask = cap - 1;
    return RG_OK;
}

/* Returns the slot for key: existing (key set) or the empty one to fill. */
static struct sm_slot *sm_slot(const struct strmap *m, const char *key)
{
    size_t i = (size_t)hash_str(key) & m->mask;

    while (m->slots[i].key && strcmp(m->slots[i].key, key))
        i = (i + 1) & m->mask;
    return &m->slots[i];
}

static int sm_get(const struct strmap *m, const char *key, uint32_t *val)
{
    const struct sm_slot *sl;

    if (!m->slots)
        return 0;
    sl = sm_slot(m, key);
    if (!sl->key)
        return 0;
    *val = sl->val;
    return 1;
}

struct pair {
    uint32_t a, b;
};

struct ix_node {
    uint32_t first, count;   /* entries in cfg->acl */
    uint32_t gfirst, gcount; /* group entries in ix->gents, sorted by (group, acl) */
};

struct rg_perm_index {
    struct strmap nodes;  /* path -> node number */
    struct ix_node *node;
    struct pair *gents;   /* (group index, acl index) */
    struct strmap users;  /* user id -> number */
    uint32_t *ug_off;     /* groups of user k: ug_list[ug_off[k] .. ug_off[k + 1]) */
    uint32_t *ug_list;
    struct pair *vmpools; /* (vmid, pool index), sorted */
    size_t nvmpools;
    struct strmap stores; /* storage id -> number */
    uint32_t *sp_off;     /* pools of storage k: sp_list[sp_off[k] .. sp_off[k + 1]) */
    uint32_t *sp_list;
};

static int pair_cmp(const void *x, const void *y)
{
    const struct pair *a = x, *b = y;

    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

static void index_free(struct rg_perm_index *ix)
{
    if (!ix)
        return;
    free(ix->nodes.slots);
    free(ix->node);
    free(ix->gents);
    free(ix->users.slots);
    free(ix->ug_off);
    free(ix->ug_list);
    free(ix->vmpools);
    free(ix->stores.slots);
    free(ix->sp_off);
    free(ix->sp_list);
    free(ix);
}

/* Group index of an "@group" ACL member, -1 if the group does not exist. */
static long group_index(const struct rg_usercfg *cfg, const char *gid)
{
    size_t lo = 0, hi = cfg->ngroups;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(cfg->groups[mid].id, gid);
        if (!c)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* CSR build shared by user->groups and storage->pools: keys[i] belongs to owner[i]. */
static rg_err build_csr(const char *const *keys, const uint32_t *owner, size_t n,
                        struct strmap *map, uint32_t **off_out, uint32_t **list_out)
{
    uint32_t nk = 0, *off = NULL, *list = NULL, *fill = NULL;
    rg_err e;

    if ((e = sm_init(map, n)))
        return e;
    /* pass 1: number the keys and count */
    off = calloc(n + 2, sizeof *off);
    list = malloc((n ? n : 1) * sizeof *list);
    if (!off || !list)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        struct sm_slot *sl = sm_slot(map, keys[i]);
        if (!sl->key) {
            sl->key = keys[i];
            sl->val = nk++;
        }
        off[sl->val + 1]++;
    }
    for (uint32_t k = 0; k < nk; k++)
        off[k + 1] += off[k];
    if (!(fill = malloc((nk ? nk : 1) * sizeof *fill)))
        goto nomem;
    memcpy(fill, off, nk * sizeof *fill);
    /* pass 2: owners in input order (callers pass them ascending, so each run is sorted) */
    for (size_t i = 0; i < n; i++) {
        uint32_t k = sm_slot(map, keys[i])->val;
        list[fill[k]++] = owner[i];
    }
    free(fill);
    *off_out = off;
    *list_out = list;
    return RG_OK;
nomem:
    free(off);
    free(list);
    free(map->slots);
    map->slots = NULL;
    return RG_ERR_NOMEM;
}

static rg_err index_build(const struct rg_usercfg *cfg, struct rg_perm_index *ix)
{
    const char **keys = NULL;
    uint32_t *owner = NULL;
    size_t nnodes = 0, ngents = 0, n = 0;
    rg_err e = RG_OK;

    if (cfg->nacl > UINT32_MAX || cfg->ngroups > UINT32_MAX || cfg->npools > UINT32_MAX)
        return RG_ERR_LIMIT;
    /* ACL nodes: entries of one path are contiguous */
    for (size_t i = 0; i < cfg->nacl; i++) {
        if (i == 0 || strcmp(cfg->acl[i - 1].path, cfg->acl[i].path))
            nnodes++;
        ngents += cfg->acl[i].ugid[0] == '@';
    }
    if ((e = sm_init(&ix->nodes, nnodes)))
        return e;
    ix->node = calloc(nnodes ? nnodes : 1, sizeof *ix->node);
    ix->gents = malloc((ngents ? ngents : 1) * sizeof *ix->gents);
    if (!ix->node || !ix->gents)
        return RG_ERR_NOMEM;
    nnodes = ngents = 0;
    for (size_t i = 0; i < cfg->nacl;) {
        struct ix_node *nd = &ix->node[nnodes];
        struct sm_slot *sl = sm_slot(&ix->nodes, cfg->acl[i].path);
        size_t j = i;

        sl->key = cfg->acl[i].path;
        sl->val = (uint32_t)nnodes++;
        nd->first = (uint32_t)i;
        nd->gfirst = (uint32_t)ngents;
        while (j < cfg->nacl && !strcmp(cfg->acl[j].path, cfg->acl[i].path)) {
            long g;
            if (cfg->acl[j].ugid[0] == '@' && (g = group_index(cfg, cfg->acl[j].ugid + 1)) >= 0) {
                ix->gents[ngents].a = (uint32_t)g;
                ix->gents[ngents].b = (uint32_t)j;
                ngents++;
            }
            j++;
        }
        nd->count = (uint32_t)(j - i);
        nd->gcount = (uint32_t)(ngents - nd->gfirst);
        qsort(ix->gents + nd->gfirst, nd->gcount, sizeof *ix->gents, pair_cmp);
        i = j;
    }
    /* user -> groups (groups ascending, so each user's list comes out sorted) */
    for (size_t g = 0; g < cfg->ngroups; g++)
        n += cfg->groups[g].members.n;
    keys = malloc((n ? n : 1) * sizeof *keys);
    owner = malloc((n ? n : 1) * sizeof *owner);
    if (!keys || !owner) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    n = 0;
    for (size_t g = 0; g < cfg->ngroups; g++)
        for (size_t k = 0; k < cfg->groups[g].members.n; k++) {
            keys[n] = cfg->groups[g].members.items[k];
            owner[n++] = (uint32_t)g;
        }
    if ((e = build_csr(keys, owner, n, &ix->users, &ix->ug_off, &ix->ug_list)))
        goto out;
    /* pools: vmid -> pools, storage -> pools */
    n = 0;
    for (size_t p = 0; p < cfg->npools; p++)
        n += cfg->pools[p].nvmids;
    if (!(ix->vmpools = malloc((n ? n : 1) * sizeof *ix->vmpools))) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    for (size_t p = 0; p < cfg->npools; p++)
        for (size_t k = 0; k < cfg->pools[p].nvmids; k++) {
            ix->vmpools[ix->nvmpools].a = cfg->pools[p].vmids[k];
            ix->vmpools[ix->nvmpools++].b = (uint32_t)p;
        }
    qsort(ix->vmpools, ix->nvmpools, sizeof *ix->vmpools, pair_cmp);
    n = 0;
    for (size_t p = 0; p < cfg->npools; p++)
        n += cfg->pools[p].storages.n;
    free(keys);
    free(owner);
    keys = malloc((n ? n : 1) * sizeof *keys);
    owner = malloc((n ? n : 1) * sizeof *owner);
    if (!keys || !owner) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    n = 0;
    for (size_t p = 0; p < cfg->npools; p++)
        for (size_t k = 0; k < cfg->pools[p].storages.n; k++) {
            keys[n] = cfg->pools[p].storages.items[k];
            owner[n++] = (uint32_t)p;
        }
    e = build_csr(keys, owner, n, &ix->stores, &ix->sp_off, &ix->sp_list);
out:
    free(keys);
    free(owner);
    return e;
}

rg_err rg_perm_index_build(struct rg_usercfg *cfg)
{
    struct rg_perm_index *ix;
    rg_err e;

    rg_perm_index_drop(cfg);
    if (!(ix = calloc(1, sizeof *ix)))
        return RG_ERR_NOMEM;
    if ((e = index_build(cfg, ix))) {
        index_free(ix);
        return e;
    }
    cfg->perm_index = ix;
    return RG_OK;
}

void rg_perm_index_drop(struct rg_usercfg *cfg)
{
    index_free(cfg->perm_index);
    cfg->perm_index = NULL;
}

/* Token/user/group subject kinds for one ACL walk. */
enum subj_kind { SUBJ_USER, SUBJ_TOKEN };

/* The walk over a normalised path visits "/" and then one more component each round: p is
 * where the walk stands in path (path itself at the start); writes the next prefix and
 * returns the new position ("" after the last component). */
static const char *next_prefix(const char *path, const char *p, char prefix[RG_ACL_PATH_MAX + 1])
{
    const char *slash, *end;
    size_t plen;

    if (p == path) {
        strcpy(prefix, "/");
        while (*p == '/')
            p++;
        return p;
    }
    slash = strchr(p, '/');
    end = slash ? slash : p + strlen(p);
    plen = (size_t)(end - path);
    memcpy(prefix, path, plen);
    prefix[plen] = '\0';
    return slash ? slash + 1 : end;
}

/* The end of a walk: a set holding NoAccess is NoAccess alone (with its propagate flag);
 * the result moves into out. */
static rg_err finish_roles(struct roleset *cur, struct roleset *out)
{
    for (size_t i = 0; i < cur->n; i++)
        if (!strcmp(cur->items[i].role, "NoAccess")) {
            int prop = cur->items[i].propagate;
            rs_clear(cur);
            return rs_set(out, "NoAccess", prop);
        }
    rs_swap(out, cur);
    return RG_OK;
}

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
        size_t first, count;
        int final;

        p = next_prefix(path, p, prefix);
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
    if (!e)
        e = finish_roles(&cur, out);
    rs_free(&cur);
    rs_free(&tok);
    rs_free(&usr);
    rs_free(&grp);
    return e;
}

/* First index in cfg->acl[lo, hi) whose ugid is >= id (entries there are sorted by ugid). */
static size_t ugid_lower(const struct rg_usercfg *cfg, size_t lo, size_t hi, const char *id)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(cfg->acl[mid].ugid, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first pair with .a == key in p[0, n), or n. */
static size_t pair_lower(const struct pair *p, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].a < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* walk_roles with the index: the same steps, entries found by lookup instead of a scan. */
static rg_err walk_roles_ix(const struct rg_usercfg *cfg, const struct rg_perm_index *ix,
                            const char *subject, enum subj_kind kind, const char *path,
                            struct roleset *out)
{
    struct roleset cur = {0}, own = {0}, grp = {0};
    char prefix[RG_ACL_PATH_MAX + 1];
    const uint32_t *ugroups = NULL;
    size_t nug = 0;
    const char *p = path;
    uint32_t k;
    rg_err e = RG_OK;

    rs_clear(out);
    if (kind == SUBJ_USER && sm_get(&ix->users, subject, &k)) {
        ugroups = ix->ug_list + ix->ug_off[k];
        nug = ix->ug_off[k + 1] - ix->ug_off[k];
    }
    for (;;) {
        const struct ix_node *nd;
        int final;

        /* next prefix: "/" first, then one more component each round */
        p = next_prefix(path, p, prefix);
        final = *p == '\0';
        if (!sm_get(&ix->nodes, prefix, &k)) {
            if (final)
                break;
            continue;
        }
        nd = &ix->node[k];
        rs_clear(&own);
        rs_clear(&grp);
        /* the subject's own entries (user, or the token itself) */
        for (size_t i = ugid_lower(cfg, nd->first, nd->first + nd->count, subject);
             i < nd->first + nd->count && !strcmp(cfg->acl[i].ugid, subject) && !e; i++)
            if (final || cfg->acl[i].propagate)
                e = rs_set(&own, cfg->acl[i].role, cfg->acl[i].propagate);
        /* entries of the user's groups, in ACL order (group index order = ugid order) */
        for (size_t g = 0; g < nug && nd->gcount && !e; g++) {
            const struct pair *ge = ix->gents + nd->gfirst;
            for (size_t i = pair_lower(ge, nd->gcount, ugroups[g]);
                 i < nd->gcount && ge[i].a == ugroups[g] && !e; i++) {
                const struct rg_acl_entry *a = &cfg->acl[ge[i].b];
                if (final || a->propagate)
                    e = rs_set(&grp, a->role, a->propagate);
            }
        }
        if (e)
            break;
        if (own.n)
            rs_swap(&cur, &own);
        else if (grp.n)
            rs_swap(&cur, &grp);
        if (final)
            break;
    }
    if (!e)
        e = finish_roles(&cur, out);
    rs_free(&cur);
    rs_free(&own);
    rs_free(&grp);
    return e;
}

/* Steps 1-3: root, tokens, then the walk. */
static rg_err resolve_roles(const struct rg_usercfg *cfg, const char *subject, const char *path,
                            struct roleset *out)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];

    rs_clear(out);
    if (!strcmp(subject, "root@pam"))
        return rs_set(out, "Administrator", 1);
    /* only a valid token id is a token: "x!y@pve" is a user whose name holds a '!' */
    if (rg_tokenid_split(subject, uid, name) == RG_OK) {
        const struct rg_token *t = rg_usercfg_token(cfg, subject);
        if (!t)
            return RG_OK;
        if (!t->privsep)
            return resolve_roles(cfg, uid, path, out);
        return cfg->perm_index
                   ? walk_roles_ix(cfg, cfg->perm_index, subject, SUBJ_TOKEN, path, out)
                   : walk_roles(cfg, subject, SUBJ_TOKEN, path, out);
    }
    return cfg->perm_index ? walk_roles_ix(cfg, cfg->perm_index, subject, SUBJ_USER, path, out)
                           : walk_roles(cfg, subject, SUBJ_USER, path, out);
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

/* A VM id as Proxmox writes it in a path: digits without a leading zero. Proxmox attaches
 * pool roles to the exact string "/vms/<vmid>", so "/vms/0100" is not VM 100. */
static int parse_vmid(const char *s, uint32_t *out)
{
    uint64_t v = 0;

    if (!*s || (s[0] == '0' && s[1]))
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
    const struct rg_perm_index *ix = cfg->perm_index;
    struct roleset rs = {0};
    rg_err e;

    out->privs = out->propagate = 0;
    if ((e = resolve_roles(cfg, subject, np, &rs)))
        goto out;
    /* step 4: pool membership of /vms/<id> and /storage/<id> */
    if (ix && !strncmp(np, "/vms/", 5) && !strchr(np + 5, '/')) {
        uint32_t vmid;
        if (parse_vmid(np + 5, &vmid) == 0)
            for (size_t i = pair_lower(ix->vmpools, ix->nvmpools, vmid);
                 i < ix->nvmpools && ix->vmpools[i].a == vmid && !e; i++)
                e = merge_pool_roles(cfg, subject, cfg->pools[ix->vmpools[i].b].id, &rs);
    } else if (ix && !strncmp(np, "/storage/", 9) && np[9] && !strchr(np + 9, '/')) {
        uint32_t k;
        if (sm_get(&ix->stores, np + 9, &k))
            for (uint32_t i = ix->sp_off[k]; i < ix->sp_off[k + 1] && !e; i++)
                e = merge_pool_roles(cfg, subject, cfg->pools[ix->sp_list[i]].id, &rs);
    } else if (!strncmp(np, "/vms/", 5) && !strchr(np + 5, '/')) {
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
    if (rg_tokenid_split(subject, uid, name) != RG_OK) /* a user (its name may hold '!') */
        return subject_privs(cfg, subject, np, out);
    if (!(t = rg_usercfg_token(cfg, subject)))
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

bool rg_perm_may_read_permissions(const struct rg_usercfg *cfg, const char *caller,
                                  const char *target)
{
    char owner[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];

    if (!caller || !target)
        return false;
    if (!strcmp(caller, target))
        return true;
    /* a user may read the permissions of its own tokens */
    if (rg_tokenid_split(target, owner, name) == RG_OK && !strcmp(owner, caller))
        return true;
    return rg_perm_check(cfg, caller, "/access", rg_priv_bit("Sys.Audit"), false);
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
