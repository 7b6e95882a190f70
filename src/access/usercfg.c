#include "access/usercfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/domains.h" /* rg_cfg_escape / rg_cfg_unescape / rg_cfg_digest */
#include "base/log.h"

/* ================================================================ small helpers */

struct warner {
    rg_cfg_warn_fn *fn;
    void *ctx;
};

#define warnf(w, line, ...) rg_cfg_warnf((w)->fn, (w)->ctx, "user.cfg", (line), __VA_ARGS__)

/* Perl truthiness of a field: false for "" and "0". */
static int truthy(const char *s)
{
    return s && s[0] && strcmp(s, "0") != 0;
}

/* Digits only (possibly empty -> 0), fitting int64. */
static int parse_uint(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (!s || !*s) {
        *out = 0;
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

/* An expire field: digits (possibly empty -> 0). A value beyond int64 is a date billions of
 * years away: kept as the largest one (Proxmox keeps the digits; dropping the user or token
 * for it would lose data on the next write). */
static int parse_expire(const char *s, int64_t *out)
{
    if (s[strspn(s, "0123456789")] != '\0')
        return -1;
    if (parse_uint(s, out) != 0)
        *out = INT64_MAX;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
}

static void set_str(char **dst, char *val)
{
    free(*dst);
    *dst = val;
}

/* Every struct kept in a sorted array here starts with `char id[...]`. */
static size_t sorted_find(const void *base, size_t n, size_t size, const char *id, int *found)
{
    size_t lo = 0, hi = n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp((const char *)base + mid * size, id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Makes room at index idx of a growable array; the new slot is zeroed. */
static void *array_insert(void **base, size_t *n, size_t *cap, size_t size, size_t idx)
{
    char *b;

    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *nb = realloc(*base, ncap * size);
        if (!nb)
            return NULL;
        *base = nb;
        *cap = ncap;
    }
    b = *base;
    memmove(b + (idx + 1) * size, b + idx * size, (*n - idx) * size);
    memset(b + idx * size, 0, size);
    (*n)++;
    return b + idx * size;
}

static void array_remove(void *base, size_t *n, size_t size, size_t idx)
{
    char *b = base;
    memmove(b + idx * size, b + (idx + 1) * size, (*n - idx - 1) * size);
    (*n)--;
}

/* Inserts id into a sorted strlist (no duplicates). */
static rg_err strlist_insert_sorted(struct rg_strlist *l, const char *s)
{
    size_t lo = 0, hi = l->n;
    rg_err e;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid], s);
        if (c == 0)
            return RG_OK;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if ((e = rg_strlist_add(l, s)))
        return e;
    char *last = l->items[l->n - 1];
    memmove(&l->items[lo + 1], &l->items[lo], (l->n - 1 - lo) * sizeof *l->items);
    l->items[lo] = last;
    return RG_OK;
}

static int strlist_bsearch(const struct rg_strlist *l, const char *s)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid], s);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ACL paths sort in tree order: '/' ranks below every other path character. */
static int path_cmp(const char *a, const char *b)
{
    size_t i = 0;
    unsigned char ca, cb;

    while (a[i] == b[i] && a[i])
        i++;
    ca = (unsigned char)a[i];
    cb = (unsigned char)b[i];
    if (ca == '/')
        ca = 1;
    if (cb == '/')
        cb = 1;
    return (int)ca - (int)cb;
}

/* Interned strings of one pool are equal exactly when their pointers are; the pointer test
 * comes first because most comparisons while sorting are between entries of one path. */
static int acl_cmp(const struct rg_acl_entry *a, const struct rg_acl_entry *b)
{
    int c;

    if (a->path != b->path && (c = path_cmp(a->path, b->path)))
        return c;
    if (a->ugid != b->ugid && (c = strcmp(a->ugid, b->ugid)))
        return c;
    return a->role == b->role ? 0 : strcmp(a->role, b->role);
}

/* ================================================================ init / free */

static void token_clear(struct rg_token *t)
{
    free(t->comment);
    t->comment = NULL;
}

static void user_clear(struct rg_user *u)
{
    free(u->firstname);
    free(u->lastname);
    free(u->email);
    free(u->comment);
    free(u->keys);
    for (size_t i = 0; i < u->ntokens; i++)
        token_clear(&u->tokens[i]);
    free(u->tokens);
    memset(u, 0, sizeof *u);
}

static void group_clear(struct rg_group *g)
{
    rg_strlist_free(&g->members);
    free(g->comment);
    g->comment = NULL;
}

static void pool_clear(struct rg_pool *p)
{
    free(p->comment);
    free(p->vmids);
    rg_strlist_free(&p->storages);
    p->comment = NULL;
    p->vmids = NULL;
    p->nvmids = 0;
}

void rg_usercfg_init(struct rg_usercfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

void rg_usercfg_free(struct rg_usercfg *cfg)
{
    for (size_t i = 0; i < cfg->nusers; i++)
        user_clear(&cfg->users[i]);
    for (size_t i = 0; i < cfg->ngroups; i++)
        group_clear(&cfg->groups[i]);
    for (size_t i = 0; i < cfg->npools; i++)
        pool_clear(&cfg->pools[i]);
    free(cfg->users);
    free(cfg->groups);
    free(cfg->pools);
    free(cfg->roles);
    free(cfg->acl);
    rg_strpool_free(&cfg->strings);
    rg_usercfg_init(cfg);
}

/* ================================================================ lookups */

/* The element of a sorted array (whose elements start with their id) named id, or NULL. */
static void *find_by_id(void *base, size_t n, size_t size, const char *id)
{
    int found;
    size_t i;

    if (!id)
        return NULL;
    i = sorted_find(base, n, size, id, &found);
    return found ? (char *)base + i * size : NULL;
}

static struct rg_user *user_mut(struct rg_usercfg *cfg, const char *id)
{
    return find_by_id(cfg->users, cfg->nusers, sizeof *cfg->users, id);
}

static struct rg_group *group_mut(struct rg_usercfg *cfg, const char *id)
{
    return find_by_id(cfg->groups, cfg->ngroups, sizeof *cfg->groups, id);
}

static struct rg_pool *pool_mut(struct rg_usercfg *cfg, const char *id)
{
    return find_by_id(cfg->pools, cfg->npools, sizeof *cfg->pools, id);
}

static struct rg_role *role_mut(struct rg_usercfg *cfg, const char *id)
{
    return find_by_id(cfg->roles, cfg->nroles, sizeof *cfg->roles, id);
}

const struct rg_user *rg_usercfg_user(const struct rg_usercfg *cfg, const char *userid)
{
    return user_mut((struct rg_usercfg *)cfg, userid);
}

const struct rg_group *rg_usercfg_group(const struct rg_usercfg *cfg, const char *groupid)
{
    return group_mut((struct rg_usercfg *)cfg, groupid);
}

const struct rg_pool *rg_usercfg_pool(const struct rg_usercfg *cfg, const char *poolid)
{
    return pool_mut((struct rg_usercfg *)cfg, poolid);
}

const struct rg_role *rg_usercfg_custom_role(const struct rg_usercfg *cfg, const char *roleid)
{
    return role_mut((struct rg_usercfg *)cfg, roleid);
}

static struct rg_token *token_mut(struct rg_usercfg *cfg, const char *tokenid)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    struct rg_user *u;

    if (rg_tokenid_split(tokenid, uid, name) != RG_OK || !(u = user_mut(cfg, uid)))
        return NULL;
    return find_by_id(u->tokens, u->ntokens, sizeof *u->tokens, tokenid);
}

const struct rg_token *rg_usercfg_token(const struct rg_usercfg *cfg, const char *tokenid)
{
    return token_mut((struct rg_usercfg *)cfg, tokenid);
}

bool rg_usercfg_role_privs(const struct rg_usercfg *cfg, const char *roleid, rg_privmask *out)
{
    const struct rg_builtin_role *b = rg_builtin_role_find(roleid);
    const struct rg_role *r;

    if (b) {
        *out = b->privs;
        return true;
    }
    if ((r = rg_usercfg_custom_role(cfg, roleid))) {
        *out = r->privs;
        return true;
    }
    *out = 0;
    return false;
}

bool rg_group_has_member(const struct rg_group *g, const char *userid)
{
    return strlist_bsearch(&g->members, userid);
}

rg_err rg_usercfg_user_groups(const struct rg_usercfg *cfg, const char *userid,
                              struct rg_strlist *out)
{
    rg_strlist_init(out);
    for (size_t i = 0; i < cfg->ngroups; i++) {
        if (rg_group_has_member(&cfg->groups[i], userid)) {
            rg_err e = rg_strlist_add(out, cfg->groups[i].id);
            if (e) {
                rg_strlist_free(out);
                return e;
            }
        }
    }
    return RG_OK;
}

rg_err rg_usercfg_check_user(const struct rg_usercfg *cfg, const char *userid, time_t now,
                             struct rg_msg *msg)
{
    const struct rg_user *u = rg_usercfg_user(cfg, userid);

    if (!u)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such user ('%.64s')", userid ? userid : "");
    if (!u->enable)
        return rg_fail(msg, RG_ERR_AUTH, "user '%s' is disabled", u->id);
    if (u->expire && u->expire < (int64_t)now)
        return rg_fail(msg, RG_ERR_AUTH, "user '%s' access expired", u->id);
    return RG_OK;
}

rg_err rg_usercfg_check_token(const struct rg_usercfg *cfg, const char *tokenid, time_t now,
                              struct rg_msg *msg)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    const struct rg_token *t;
    rg_err e;

    if (rg_tokenid_split(tokenid, uid, name) != RG_OK)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such token '%.130s'", tokenid ? tokenid : "");
    if ((e = rg_usercfg_check_user(cfg, uid, now, msg)))
        return e;
    if (!(t = rg_usercfg_token(cfg, tokenid)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such token '%s'", tokenid);
    if (t->expire && t->expire < (int64_t)now)
        return rg_fail(msg, RG_ERR_AUTH, "token '%s' expired", tokenid);
    return RG_OK;
}

/* ================================================================ insertion primitives */

/* The element named id of a sorted array whose elements start with `char id[idsize]`;
 * inserted (zeroed, id set) when absent. NULL only on allocation failure. */
static void *insert_by_id(void **base, size_t *n, size_t *cap, size_t size, size_t idsize,
                          const char *id)
{
    int found;
    size_t i = sorted_find(*base, *n, size, id, &found);
    char *e;

    if (found)
        return (char *)*base + i * size;
    e = array_insert(base, n, cap, size, i);
    if (e)
        snprintf(e, idsize, "%s", id);
    return e;
}

/* (a zeroed rg_strlist is an initialised, empty one, so new groups and pools need no more) */
static struct rg_user *user_insert(struct rg_usercfg *cfg, const char *id)
{
    return insert_by_id((void **)&cfg->users, &cfg->nusers, &cfg->capusers, sizeof *cfg->users,
                        sizeof cfg->users->id, id);
}

static struct rg_group *group_insert(struct rg_usercfg *cfg, const char *id)
{
    return insert_by_id((void **)&cfg->groups, &cfg->ngroups, &cfg->capgroups,
                        sizeof *cfg->groups, sizeof cfg->groups->id, id);
}

static struct rg_pool *pool_insert(struct rg_usercfg *cfg, const char *id)
{
    return insert_by_id((void **)&cfg->pools, &cfg->npools, &cfg->cappools, sizeof *cfg->pools,
                        sizeof cfg->pools->id, id);
}

static struct rg_role *role_insert(struct rg_usercfg *cfg, const char *id)
{
    return insert_by_id((void **)&cfg->roles, &cfg->nroles, &cfg->caproles, sizeof *cfg->roles,
                        sizeof cfg->roles->id, id);
}

static struct rg_token *token_insert(struct rg_user *u, const char *tokenid)
{
    size_t cap = u->ntokens; /* tokens grow one by one: lists are short */
    return insert_by_id((void **)&u->tokens, &u->ntokens, &cap, sizeof *u->tokens,
                        sizeof u->tokens->id, tokenid);
}

/* Finds the ACL entry (path, ugid, role); index where it would go otherwise. */
static size_t acl_find(const struct rg_usercfg *cfg, const char *path, const char *ugid,
                       const char *role, int *found)
{
    struct rg_acl_entry key = {path, ugid, role, 0};
    size_t lo = 0, hi = cfg->nacl;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = acl_cmp(&cfg->acl[mid], &key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static rg_err acl_set(struct rg_usercfg *cfg, const char *path, const char *ugid,
                      const char *role, int propagate)
{
    int found;
    size_t i = acl_find(cfg, path, ugid, role, &found);
    struct rg_acl_entry *a;
    const char *ip, *iu, *ir;

    if (found) {
        cfg->acl[i].propagate = propagate ? 1 : 0;
        return RG_OK;
    }
    if (!(ip = rg_strpool_add(&cfg->strings, path)) ||
        !(iu = rg_strpool_add(&cfg->strings, ugid)) ||
        !(ir = rg_strpool_add(&cfg->strings, role)))
        return RG_ERR_NOMEM;
    a = array_insert((void **)&cfg->acl, &cfg->nacl, &cfg->capacl, sizeof *a, i);
    if (!a)
        return RG_ERR_NOMEM;
    a->path = ip;
    a->ugid = iu;
    a->role = ir;
    a->propagate = propagate ? 1 : 0;
    return RG_OK;
}

/* Removes entries matching a predicate on (ugid) or (role). */
static void acl_remove_where(struct rg_usercfg *cfg, const char *ugid, const char *role,
                             const char *ugid_prefix)
{
    size_t o = 0;

    for (size_t i = 0; i < cfg->nacl; i++) {
        const struct rg_acl_entry *a = &cfg->acl[i];
        int drop = (ugid && !strcmp(a->ugid, ugid)) || (role && !strcmp(a->role, role)) ||
                   (ugid_prefix && !strncmp(a->ugid, ugid_prefix, strlen(ugid_prefix)));
        if (!drop)
            cfg->acl[o++] = cfg->acl[i];
    }
    cfg->nacl = o;
}

size_t rg_usercfg_acl_at(const struct rg_usercfg *cfg, const char *path, size_t *count)
{
    size_t lo = 0, hi = cfg->nacl, first, n = 0;

    while (lo < hi) { /* first entry with entry.path >= path */
        size_t mid = lo + (hi - lo) / 2;
        if (path_cmp(cfg->acl[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    first = lo;
    while (first + n < cfg->nacl && !strcmp(cfg->acl[first + n].path, path))
        n++;
    *count = n;
    return first;
}

/* ================================================================ parser */

#define MAX_FIELDS 16

/* Splits a trimmed line on every ':' and trims each field (in place). */
static size_t split_fields(char *line, char **f)
{
    size_t n = 0;
    char *p = line;

    for (;;) {
        char *c = strchr(p, ':');
        char *s = p, *e;
        if (c)
            *c = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (n < MAX_FIELDS)
            f[n++] = s;
        if (!c)
            break;
        p = c + 1;
    }
    /* Perl's split drops trailing empty fields; missing ones read as "" */
    while (n > 0 && f[n - 1][0] == '\0')
        n--;
    for (size_t i = n; i < MAX_FIELDS; i++)
        f[i] = "";
    return n;
}

/* Lists in the file have no item limit of their own (Proxmox's neither): whatever the writer
 * puts on one line must parse again, e.g. 5,000 members with one role set on one acl line.
 * The file size bounds them: a list in a file of at most RG_USERCFG_FILE_MAX bytes never
 * reaches FILE_LIST_MAX items, so rg_split_list fails only for want of memory. */
#define FILE_LIST_MAX (RG_USERCFG_FILE_MAX / 2)

struct pctx {
    struct rg_usercfg *cfg;
    struct warner w;
    int line;
    /* ACL entries in file order with a sequence number, so later lines win */
    struct pacl {
        struct rg_acl_entry e;
        size_t seq;
    } *acl;
    size_t nacl, capacl;
    /* scratch for splitting an acl line's member and role lists in place */
    char **items;
    size_t capitems;
};

/* Unescaped copy of an optional text field of a `kind` record (NULL when empty). Badly
 * escaped text drops the record: warned here, RG_ERR_INVALID returned (the caller answers
 * RG_OK for the line); other errors are returned as they are. */
static rg_err text_field(struct pctx *p, const char *kind, const char *id, const char *v,
                         char **out)
{
    rg_err e;

    *out = NULL;
    if (!v[0])
        return RG_OK;
    if ((e = rg_cfg_unescape(v, out)) == RG_ERR_INVALID)
        warnf(&p->w, p->line, "ignore %s '%s' - invalid escaped text", kind, id);
    return e;
}

static rg_err parse_user(struct pctx *p, char **f)
{
    struct rg_user *u;
    int64_t expire;
    char *first = NULL, *last = NULL, *comment = NULL;
    rg_err e;

    if (!rg_userid_check(f[1])) {
        warnf(&p->w, p->line, "ignore user '%.64s' - invalid user name", f[1]);
        return RG_OK;
    }
    if (parse_expire(f[3], &expire) != 0) {
        warnf(&p->w, p->line, "ignore user '%s' - (illegal characters in expire '%.32s')", f[1],
              f[3]);
        return RG_OK;
    }
    if ((e = text_field(p, "user", f[1], f[4], &first)) ||
        (e = text_field(p, "user", f[1], f[5], &last)) ||
        (e = text_field(p, "user", f[1], f[7], &comment))) {
        free(first);
        free(last);
        return e == RG_ERR_INVALID ? RG_OK : e;
    }
    if (!(u = user_insert(p->cfg, f[1]))) {
        free(first);
        free(last);
        free(comment);
        return RG_ERR_NOMEM;
    }
    /* a repeated user line replaces the earlier one (tokens included), as in PVE */
    {
        char id[RG_USERID_MAX + 1];
        memcpy(id, u->id, sizeof id);
        user_clear(u);
        memcpy(u->id, id, sizeof id);
    }
    u->enable = truthy(f[2]);
    u->expire = expire;
    u->firstname = first;
    u->lastname = last;
    u->comment = comment;
    u->email = dup_or_null(f[6]);
    u->keys = dup_or_null(f[8]);
    if ((f[6][0] && !u->email) || (f[8][0] && !u->keys))
        return RG_ERR_NOMEM;
    return RG_OK;
}

static rg_err parse_token(struct pctx *p, char **f)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    struct rg_user *u;
    struct rg_token *t;
    int64_t expire;
    char *comment = NULL;
    rg_err e;

    if (rg_tokenid_split(f[1], uid, name) != RG_OK) {
        warnf(&p->w, p->line, "ignore invalid tokenid '%.130s'", f[1]);
        return RG_OK;
    }
    if (parse_expire(f[2], &expire) != 0) {
        warnf(&p->w, p->line, "ignore token '%s' - (illegal characters in expire '%.32s')", f[1],
              f[2]);
        return RG_OK;
    }
    if (!(u = user_mut(p->cfg, uid))) {
        warnf(&p->w, p->line, "ignore token '%s' - user does not exist", f[1]);
        return RG_OK;
    }
    if ((e = text_field(p, "token", f[1], f[4], &comment)))
        return e == RG_ERR_INVALID ? RG_OK : e;
    if (!(t = token_insert(u, f[1]))) {
        free(comment);
        return RG_ERR_NOMEM;
    }
    t->expire = expire;
    t->privsep = truthy(f[3]);
    if (comment)
        set_str(&t->comment, comment);
    return RG_OK;
}

static rg_err parse_group(struct pctx *p, char **f)
{
    struct rg_group *g;
    struct rg_strlist members;
    char *comment = NULL;
    rg_err e;

    if (!rg_groupid_check(f[1])) {
        warnf(&p->w, p->line, "ignore group '%.64s' - invalid characters in group name", f[1]);
        return RG_OK;
    }
    if ((e = text_field(p, "group", f[1], f[3], &comment)))
        return e == RG_ERR_INVALID ? RG_OK : e;
    if ((e = rg_split_list(f[2], FILE_LIST_MAX, &members))) { /* only NOMEM: see FILE_LIST_MAX */
        free(comment);
        return e;
    }
    if (!(g = group_insert(p->cfg, f[1]))) {
        free(comment);
        rg_strlist_free(&members);
        return RG_ERR_NOMEM;
    }
    if (comment)
        set_str(&g->comment, comment);
    for (size_t i = 0; i < members.n && !e; i++) {
        const char *m = members.items[i];
        if (!rg_userid_check(m)) {
            warnf(&p->w, p->line, "ignore invalid group member '%.64s'", m);
            continue;
        }
        if (!user_mut(p->cfg, m))
            warnf(&p->w, p->line, "group '%s' member '%s' does not exist", g->id, m);
        e = rg_strlist_add(&g->members, m);
    }
    rg_strlist_free(&members);
    return e;
}

static int vmid_in_any_pool(const struct rg_usercfg *cfg, uint32_t vmid)
{
    for (size_t i = 0; i < cfg->npools; i++)
        for (size_t k = 0; k < cfg->pools[i].nvmids; k++)
            if (cfg->pools[i].vmids[k] == vmid)
                return 1;
    return 0;
}

static rg_err parse_pool(struct pctx *p, char **f)
{
    struct rg_pool *pool;
    struct rg_strlist vms, stores;
    char *comment = NULL;
    rg_err e;

    if (!rg_poolid_check(f[1])) {
        warnf(&p->w, p->line, "ignore pool '%.64s' - invalid characters in pool name", f[1]);
        return RG_OK;
    }
    if ((e = text_field(p, "pool", f[1], f[2], &comment)))
        return e == RG_ERR_INVALID ? RG_OK : e;
    /* parents of nested pools exist implicitly */
    {
        char parent[RG_POOLID_MAX + 1];
        snprintf(parent, sizeof parent, "%s", f[1]);
        for (char *s = strchr(parent, '/'); s; s = strchr(s + 1, '/')) {
            *s = '\0';
            if (!pool_insert(p->cfg, parent)) {
                free(comment);
                return RG_ERR_NOMEM;
            }
            *s = '/';
        }
    }
    if (!(pool = pool_insert(p->cfg, f[1]))) {
        free(comment);
        return RG_ERR_NOMEM;
    }
    if (comment)
        set_str(&pool->comment, comment);
    if ((e = rg_split_list(f[3], FILE_LIST_MAX, &vms)))
        return e;
    if ((e = rg_split_list(f[4], FILE_LIST_MAX, &stores))) {
        rg_strlist_free(&vms);
        return e;
    }
    for (size_t i = 0; i < vms.n && !e; i++) {
        int64_t v;
        uint32_t *nv;
        if (parse_uint(vms.items[i], &v) != 0 || v > UINT32_MAX) {
            warnf(&p->w, p->line, "ignore invalid vmid '%.32s' in pool '%s'", vms.items[i],
                  pool->id);
            continue;
        }
        if (vmid_in_any_pool(p->cfg, (uint32_t)v)) {
            warnf(&p->w, p->line, "ignore duplicate vmid '%u' in pool '%s'", (unsigned)v,
                  pool->id);
            continue;
        }
        nv = realloc(pool->vmids, (pool->nvmids + 1) * sizeof *nv);
        if (!nv) {
            e = RG_ERR_NOMEM;
            break;
        }
        pool->vmids = nv;
        pool->vmids[pool->nvmids++] = (uint32_t)v;
    }
    for (size_t i = 0; i < stores.n && !e; i++) {
        if (!rg_storageid_check(stores.items[i])) {
            warnf(&p->w, p->line, "ignore invalid storage '%.64s' in pool '%s'", stores.items[i],
                  pool->id);
            continue;
        }
        e = strlist_insert_sorted(&pool->storages, stores.items[i]);
    }
    rg_strlist_free(&vms);
    rg_strlist_free(&stores);
    return e;
}

static rg_err parse_role(struct pctx *p, char **f)
{
    struct rg_role *r;
    struct rg_strlist privs;
    rg_err e;

    if (!rg_roleid_check(f[1])) {
        warnf(&p->w, p->line, "ignore role '%.64s' - invalid characters in role name", f[1]);
        return RG_OK;
    }
    if (rg_builtin_role_find(f[1])) {
        warnf(&p->w, p->line, "ignore role '%s' - built-in role", f[1]);
        return RG_OK;
    }
    if ((e = rg_split_list(f[2], FILE_LIST_MAX, &privs)))
        return e;
    if (!(r = role_insert(p->cfg, f[1]))) {
        rg_strlist_free(&privs);
        return RG_ERR_NOMEM;
    }
    for (size_t i = 0; i < privs.n; i++) {
        rg_privmask bit = rg_priv_bit(privs.items[i]);
        if (bit)
            r->privs |= bit;
        else
            warnf(&p->w, p->line, "ignore invalid privilege '%.64s'", privs.items[i]);
    }
    rg_strlist_free(&privs);
    return RG_OK;
}

/* Adds an entry to the parse buffer; path and role are interned already. */
static rg_err pacl_add(struct pctx *p, const char *path, const char *ugid, const char *role,
                       int prop)
{
    struct pacl *a;
    const char *iu = rg_strpool_add(&p->cfg->strings, ugid);

    if (!iu)
        return RG_ERR_NOMEM;
    if (p->nacl == RG_ACL_MAX_ENTRIES) {
        warnf(&p->w, p->line, "ignore acl entry - more than %d entries", RG_ACL_MAX_ENTRIES);
        return RG_OK;
    }
    if (p->nacl == p->capacl) {
        size_t ncap = p->capacl ? p->capacl * 2 : 64;
        struct pacl *n = realloc(p->acl, ncap * sizeof *n);
        if (!n)
            return RG_ERR_NOMEM;
        p->acl = n;
        p->capacl = ncap;
    }
    a = &p->acl[p->nacl];
    a->e.path = path;
    a->e.ugid = iu;
    a->e.role = role;
    a->e.propagate = prop;
    a->seq = p->nacl++;
    return RG_OK;
}

static rg_err parse_acl(struct pctx *p, char **f)
{
    char npath[RG_ACL_PATH_MAX + 1];
    const char *path;
    size_t nroles, nugs;
    int prop = truthy(f[1]);
    rg_err e = RG_OK;

    if (!f[2][0] || rg_path_normalize(f[2], npath) != RG_OK) {
        warnf(&p->w, p->line, "ignore invalid path in acl '%.64s'", f[2]);
        return RG_OK;
    }
    {
        /* a list of n bytes has at most n/2 + 1 items: room for both lists, no limit */
        size_t need = strlen(f[3]) / 2 + strlen(f[4]) / 2 + 2;
        if (need > p->capitems) {
            char **n = realloc(p->items, need * sizeof *n);
            if (!n)
                return RG_ERR_NOMEM;
            p->items = n;
            p->capitems = need;
        }
        nroles = rg_split_list_inplace(f[4], p->items, strlen(f[4]) / 2 + 1);
        if (nroles == RG_SPLIT_TOO_MANY)
            return RG_ERR_INVALID; /* cannot happen: the bound above holds */
        nugs = rg_split_list_inplace(f[3], p->items + nroles, strlen(f[3]) / 2 + 1);
        if (nugs == RG_SPLIT_TOO_MANY)
            return RG_ERR_INVALID;
    }
    if (!(path = rg_strpool_add(&p->cfg->strings, npath)))
        return RG_ERR_NOMEM;
    for (size_t r = 0; r < nroles && !e; r++) {
        const char *role = p->items[r];
        if (!rg_roleid_check(role)) {
            warnf(&p->w, p->line, "ignore invalid role name '%.64s' in acl", role);
            continue;
        }
        if (!rg_builtin_role_find(role) && !role_mut(p->cfg, role)) {
            warnf(&p->w, p->line, "ignore unknown role '%s' in acl", role);
            continue;
        }
        if (!(role = rg_strpool_add(&p->cfg->strings, role)))
            return RG_ERR_NOMEM;
        for (size_t u = 0; u < nugs && !e; u++) {
            const char *ug = p->items[nroles + u];
            if (ug[0] == '@' && rg_groupid_check(ug + 1)) {
                if (!group_mut(p->cfg, ug + 1))
                    warnf(&p->w, p->line, "unknown acl group '%s' (kept)", ug + 1);
                e = pacl_add(p, path, ug, role, prop);
            } else if (rg_userid_check(ug)) {
                /* kept silently: entries for users who do not exist yet are how rights are
                 * granted to OpenID users before their first (autocreating) login */
                e = pacl_add(p, path, ug, role, prop);
            } else if (rg_tokenid_check(ug)) {
                if (token_mut(p->cfg, ug))
                    e = pacl_add(p, path, ug, role, prop);
                else
                    warnf(&p->w, p->line, "ignore unknown acl token '%s'", ug);
            } else {
                warnf(&p->w, p->line, "invalid user/group '%.64s' in acl", ug);
            }
        }
    }
    return e;
}

static int pacl_cmp(const struct pacl *x, const struct pacl *y)
{
    int c = acl_cmp(&x->e, &y->e);
    if (c)
        return c;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0; /* newest first */
}

static const char *pacl_field(const struct pacl *a, int k)
{
    return k == 0 ? a->e.path : k == 1 ? a->e.ugid : a->e.role;
}

static int path_ptr_cmp(const void *a, const void *b)
{
    return path_cmp(*(const char *const *)a, *(const char *const *)b);
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort key of a parsed entry: the ranks of its path, member and role among the distinct
 * strings of their kind, then its line order. */
struct pacl_key {
    uint32_t rank[3];
    uint32_t seq;
};

static int key_cmp(const void *a, const void *b)
{
    const struct pacl_key *x = a, *y = b;

    for (int k = 0; k < 3; k++)
        if (x->rank[k] != y->rank[k])
            return x->rank[k] < y->rank[k] ? -1 : 1;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0; /* newest first */
}

/* Stores in key[i].rank[k] the rank of field k of entry i. The strings are interned, so each
 * distinct one is sorted once (a few thousand paths instead of 100,000 entries) and the
 * entries are then sorted by integers. */
static rg_err rank_field(const struct pctx *p, int k, struct pacl_key *key)
{
    size_t npool = p->cfg->strings.count, n = 0;
    uint32_t *rank = malloc(npool * sizeof *rank);
    const char **distinct = malloc(npool * sizeof *distinct);

    if (!rank || !distinct) {
        free(rank);
        free(distinct);
        return RG_ERR_NOMEM;
    }
    memset(rank, 0xff, npool * sizeof *rank);
    for (size_t i = 0; i < p->nacl; i++) {
        const char *s = pacl_field(&p->acl[i], k);
        uint32_t id = rg_strpool_id(s);
        if (rank[id] == UINT32_MAX) {
            rank[id] = 0;
            distinct[n++] = s;
        }
    }
    qsort(distinct, n, sizeof *distinct, k == 0 ? path_ptr_cmp : str_ptr_cmp);
    for (size_t i = 0; i < n; i++)
        rank[rg_strpool_id(distinct[i])] = (uint32_t)i;
    for (size_t i = 0; i < p->nacl; i++)
        key[i].rank[k] = rank[rg_strpool_id(pacl_field(&p->acl[i], k))];
    free(rank);
    free(distinct);
    return RG_OK;
}

/* Sorted, de-duplicated (later lines win) ACL list from the parse buffer. A file in
 * canonical order (as the writer leaves it) needs no sort at all. */
static rg_err pacl_finish(struct pctx *p)
{
    struct rg_usercfg *cfg = p->cfg;
    struct pacl_key *key;
    int sorted = 1;
    rg_err e = RG_OK;

    if (p->nacl == 0)
        return RG_OK;
    for (size_t i = 1; i < p->nacl && sorted; i++)
        sorted = pacl_cmp(&p->acl[i - 1], &p->acl[i]) <= 0;
    if (!(cfg->acl = malloc(p->nacl * sizeof *cfg->acl)))
        return RG_ERR_NOMEM;
    cfg->capacl = p->nacl;
    cfg->nacl = 0;
    if (sorted) {
        for (size_t i = 0; i < p->nacl; i++)
            if (!cfg->nacl || acl_cmp(&cfg->acl[cfg->nacl - 1], &p->acl[i].e) != 0)
                cfg->acl[cfg->nacl++] = p->acl[i].e;
        return RG_OK;
    }
    if (!(key = malloc(p->nacl * sizeof *key)))
        return RG_ERR_NOMEM;
    for (int k = 0; k < 3 && !e; k++)
        e = rank_field(p, k, key);
    if (e) {
        free(key);
        return e;
    }
    for (size_t i = 0; i < p->nacl; i++)
        key[i].seq = (uint32_t)i;
    qsort(key, p->nacl, sizeof *key, key_cmp);
    for (size_t i = 0; i < p->nacl; i++)
        if (!i || memcmp(key[i - 1].rank, key[i].rank, sizeof key[i].rank) != 0)
            cfg->acl[cfg->nacl++] = p->acl[key[i].seq].e;
    free(key);
    return RG_OK;
}

rg_err rg_usercfg_parse(const char *text, size_t len, struct rg_usercfg *out,
                        rg_cfg_warn_fn *warn, void *warn_ctx)
{
    struct pctx p = {.cfg = out, .w = {warn, warn_ctx}};
    size_t pos = 0;
    char *copy;
    rg_err e = RG_OK;

    rg_usercfg_init(out);
    if (len > RG_USERCFG_FILE_MAX)
        return RG_ERR_LIMIT;
    rg_cfg_digest(text, len, out->digest);
    /* a UTF-8 byte-order mark (an editor's doing) would spoil the first line */
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
        warnf(&p.w, 1, "ignoring the byte-order mark at the start of the file");
        text += 3;
        len -= 3;
    }
    /* one mutable copy; each line is terminated and split inside it */
    if (!(copy = malloc(len + 1)))
        return RG_ERR_NOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    while (pos < len && !e) {
        char *line = copy + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        char *s, *end, *f[MAX_FIELDS];

        pos += n + (nl ? 1 : 0);
        p.line++;
        if (memchr(line, '\0', n)) {
            warnf(&p.w, p.line, "ignore config line with NUL byte");
            continue;
        }
        line[n] = '\0';
        s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f')
            s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                           end[-1] == '\v' || end[-1] == '\f'))
            *--end = '\0';
        if (*s) {
            char shown[80];
            size_t k = strnlen(s, sizeof shown - 1);
            memcpy(shown, s, k);
            shown[k] = '\0';
            split_fields(s, f);
            if (!strcmp(f[0], "user"))
                e = parse_user(&p, f);
            else if (!strcmp(f[0], "token"))
                e = parse_token(&p, f);
            else if (!strcmp(f[0], "group"))
                e = parse_group(&p, f);
            else if (!strcmp(f[0], "pool"))
                e = parse_pool(&p, f);
            else if (!strcmp(f[0], "role"))
                e = parse_role(&p, f);
            else if (!strcmp(f[0], "acl"))
                e = parse_acl(&p, f);
            else
                warnf(&p.w, p.line, "ignore config line: %s", shown);
        }
    }
    free(copy);
    if (!e) {
        for (size_t i = 0; i < out->ngroups; i++)
            rg_strlist_sort_unique(&out->groups[i].members);
        for (size_t i = 0; i < out->npools; i++) {
            struct rg_pool *pl = &out->pools[i];
            /* insertion sort: pools are small */
            for (size_t a = 1; a < pl->nvmids; a++)
                for (size_t b = a; b > 0 && pl->vmids[b - 1] > pl->vmids[b]; b--) {
                    uint32_t t = pl->vmids[b];
                    pl->vmids[b] = pl->vmids[b - 1];
                    pl->vmids[b - 1] = t;
                }
        }
        e = pacl_finish(&p);
    }
    if (!e && !user_mut(out, "root@pam")) {
        struct rg_user *root = user_insert(out, "root@pam");
        if (!root)
            e = RG_ERR_NOMEM;
        else
            root->enable = 1;
    }
    free(p.acl);
    free(p.items);
    if (e)
        rg_usercfg_free(out);
    return e;
}

/* ================================================================ writer */

static rg_err put_text(struct rg_buf *b, const char *s)
{
    return s ? rg_cfg_escape(s, b) : RG_OK;
}

static rg_err put_raw(struct rg_buf *b, const char *s)
{
    return s ? rg_buf_appends(b, s) : RG_OK;
}

struct member_roles {
    const char *ugid;
    char *roles; /* comma-joined, sorted */
};

static int mr_cmp(const void *a, const void *b)
{
    const struct member_roles *x = a, *y = b;
    int c = strcmp(x->roles, y->roles);
    return c ? c : strcmp(x->ugid, y->ugid);
}

/* Writes the lines of one path (entries [first, first+n)). */
static rg_err write_acl_path(const struct rg_usercfg *cfg, size_t first, size_t n,
                             struct rg_buf *out)
{
    struct member_roles *mr = calloc(n ? n : 1, sizeof *mr);
    rg_err e = RG_OK;

    if (!mr)
        return RG_ERR_NOMEM;
    for (int prop = 0; prop <= 1 && !e; prop++) {
        size_t nm = 0;
        for (size_t i = first; i < first + n && !e;) {
            const char *ug = cfg->acl[i].ugid;
            struct rg_buf roles;
            size_t j = i;
            rg_buf_init(&roles, 64 * 1024);
            for (; j < first + n && !strcmp(cfg->acl[j].ugid, ug); j++) {
                if (cfg->acl[j].propagate != prop)
                    continue;
                if ((roles.len && (e = rg_buf_appends(&roles, ","))) ||
                    (e = rg_buf_appends(&roles, cfg->acl[j].role)))
                    break;
            }
            if (!e && roles.len && strcmp(ug, "root@pam") != 0) {
                mr[nm].ugid = ug;
                if (!(mr[nm].roles = rg_buf_steal(&roles)))
                    e = RG_ERR_NOMEM;
                else
                    nm++;
            }
            rg_buf_free(&roles);
            i = j;
        }
        if (!e)
            qsort(mr, nm, sizeof *mr, mr_cmp);
        for (size_t i = 0; i < nm && !e;) {
            size_t j = i;
            e = rg_buf_appendf(out, "acl:%d:%s:", prop, cfg->acl[first].path);
            for (; !e && j < nm && !strcmp(mr[j].roles, mr[i].roles); j++)
                e = rg_buf_appendf(out, "%s%s", j > i ? "," : "", mr[j].ugid);
            if (!e)
                e = rg_buf_appendf(out, ":%s:\n", mr[i].roles);
            i = j;
        }
        for (size_t i = 0; i < nm; i++)
            free(mr[i].roles);
    }
    free(mr);
    return e;
}

rg_err rg_usercfg_write(const struct rg_usercfg *cfg, struct rg_buf *out)
{
    rg_err e = RG_OK;

    for (size_t i = 0; i < cfg->nusers && !e; i++) {
        const struct rg_user *u = &cfg->users[i];
        if ((e = rg_buf_appendf(out, "user:%s:%d:%lld:", u->id, u->enable ? 1 : 0,
                                (long long)u->expire)) ||
            (e = put_text(out, u->firstname)) || (e = rg_buf_appends(out, ":")) ||
            (e = put_text(out, u->lastname)) || (e = rg_buf_appends(out, ":")) ||
            (e = put_raw(out, u->email)) || (e = rg_buf_appends(out, ":")) ||
            (e = put_text(out, u->comment)) || (e = rg_buf_appends(out, ":")) ||
            (e = put_raw(out, u->keys)) || (e = rg_buf_appends(out, ":\n")))
            break;
        for (size_t k = 0; k < u->ntokens && !e; k++) {
            const struct rg_token *t = &u->tokens[k];
            if ((e = rg_buf_appendf(out, "token:%s:%lld:%d:", t->id, (long long)t->expire,
                                    t->privsep ? 1 : 0)) ||
                (e = put_text(out, t->comment)))
                break;
            e = rg_buf_appends(out, ":\n");
        }
    }
    if (!e)
        e = rg_buf_appends(out, "\n");
    for (size_t i = 0; i < cfg->ngroups && !e; i++) {
        const struct rg_group *g = &cfg->groups[i];
        e = rg_buf_appendf(out, "group:%s:", g->id);
        for (size_t k = 0; k < g->members.n && !e; k++)
            e = rg_buf_appendf(out, "%s%s", k ? "," : "", g->members.items[k]);
        if (!e && !(e = rg_buf_appends(out, ":")) && !(e = put_text(out, g->comment)))
            e = rg_buf_appends(out, ":\n");
    }
    if (!e)
        e = rg_buf_appends(out, "\n");
    for (size_t i = 0; i < cfg->npools && !e; i++) {
        const struct rg_pool *pl = &cfg->pools[i];
        e = rg_buf_appendf(out, "pool:%s:", pl->id);
        if (!e)
            e = put_text(out, pl->comment);
        if (!e)
            e = rg_buf_appends(out, ":");
        /* PVE sorts vmids as strings */
        if (!e && pl->nvmids) {
            struct rg_strlist l;
            rg_strlist_init(&l);
            for (size_t k = 0; k < pl->nvmids && !e; k++) {
                char num[16];
                snprintf(num, sizeof num, "%u", (unsigned)pl->vmids[k]);
                e = rg_strlist_add(&l, num);
            }
            if (!e) {
                rg_strlist_sort_unique(&l);
                for (size_t k = 0; k < l.n && !e; k++)
                    e = rg_buf_appendf(out, "%s%s", k ? "," : "", l.items[k]);
            }
            rg_strlist_free(&l);
        }
        if (!e)
            e = rg_buf_appends(out, ":");
        for (size_t k = 0; k < pl->storages.n && !e; k++)
            e = rg_buf_appendf(out, "%s%s", k ? "," : "", pl->storages.items[k]);
        if (!e)
            e = rg_buf_appends(out, ":\n");
    }
    if (!e)
        e = rg_buf_appends(out, "\n");
    for (size_t i = 0; i < cfg->nroles && !e; i++) {
        if (rg_builtin_role_find(cfg->roles[i].id))
            continue;
        if (!(e = rg_buf_appendf(out, "role:%s:", cfg->roles[i].id)) &&
            !(e = rg_privmask_join(cfg->roles[i].privs, ",", out)))
            e = rg_buf_appends(out, ":\n");
    }
    if (!e)
        e = rg_buf_appends(out, "\n");
    for (size_t i = 0; i < cfg->nacl && !e;) {
        size_t n = 0;
        while (i + n < cfg->nacl && !strcmp(cfg->acl[i + n].path, cfg->acl[i].path))
            n++;
        e = write_acl_path(cfg, i, n, out);
        i += n;
    }
    return e;
}

/* ================================================================ copy */

static char *xdup(const char *s, rg_err *e)
{
    char *r;
    if (!s)
        return NULL;
    if (!(r = strdup(s)))
        *e = RG_ERR_NOMEM;
    return r;
}

static rg_err strlist_copy(const struct rg_strlist *s, struct rg_strlist *d)
{
    rg_strlist_init(d);
    for (size_t i = 0; i < s->n; i++) {
        rg_err e = rg_strlist_add(d, s->items[i]);
        if (e) {
            rg_strlist_free(d);
            return e;
        }
    }
    return RG_OK;
}

rg_err rg_usercfg_copy(const struct rg_usercfg *src, struct rg_usercfg *dst)
{
    rg_err e = RG_OK;

    rg_usercfg_init(dst);
    memcpy(dst->digest, src->digest, sizeof dst->digest);
    if (src->nusers && !(dst->users = calloc(src->nusers, sizeof *dst->users)))
        goto nomem;
    dst->capusers = src->nusers;
    for (size_t i = 0; i < src->nusers && !e; i++) {
        const struct rg_user *s = &src->users[i];
        struct rg_user *d = &dst->users[dst->nusers++];
        *d = *s;
        d->firstname = xdup(s->firstname, &e);
        d->lastname = xdup(s->lastname, &e);
        d->email = xdup(s->email, &e);
        d->comment = xdup(s->comment, &e);
        d->keys = xdup(s->keys, &e);
        d->tokens = NULL;
        d->ntokens = 0;
        if (s->ntokens && !(d->tokens = calloc(s->ntokens, sizeof *d->tokens))) {
            e = RG_ERR_NOMEM;
            break;
        }
        for (size_t k = 0; k < s->ntokens; k++) {
            d->tokens[k] = s->tokens[k];
            d->tokens[k].comment = xdup(s->tokens[k].comment, &e);
            d->ntokens++;
        }
    }
    if (!e && src->ngroups && !(dst->groups = calloc(src->ngroups, sizeof *dst->groups)))
        e = RG_ERR_NOMEM;
    dst->capgroups = src->ngroups;
    for (size_t i = 0; i < src->ngroups && !e; i++) {
        struct rg_group *d = &dst->groups[dst->ngroups++];
        memcpy(d->id, src->groups[i].id, sizeof d->id);
        d->comment = xdup(src->groups[i].comment, &e);
        if (!e)
            e = strlist_copy(&src->groups[i].members, &d->members);
        else
            rg_strlist_init(&d->members);
    }
    if (!e && src->npools && !(dst->pools = calloc(src->npools, sizeof *dst->pools)))
        e = RG_ERR_NOMEM;
    dst->cappools = src->npools;
    for (size_t i = 0; i < src->npools && !e; i++) {
        const struct rg_pool *s = &src->pools[i];
        struct rg_pool *d = &dst->pools[dst->npools++];
        memcpy(d->id, s->id, sizeof d->id);
        rg_strlist_init(&d->storages);
        d->comment = xdup(s->comment, &e);
        if (s->nvmids) {
            if (!(d->vmids = malloc(s->nvmids * sizeof *d->vmids))) {
                e = RG_ERR_NOMEM;
                break;
            }
            memcpy(d->vmids, s->vmids, s->nvmids * sizeof *d->vmids);
            d->nvmids = s->nvmids;
        }
        if (!e)
            e = strlist_copy(&s->storages, &d->storages);
    }
    if (!e && src->nroles) {
        if (!(dst->roles = malloc(src->nroles * sizeof *dst->roles)))
            e = RG_ERR_NOMEM;
        else {
            memcpy(dst->roles, src->roles, src->nroles * sizeof *dst->roles);
            dst->nroles = dst->caproles = src->nroles;
        }
    }
    if (!e && src->nacl) {
        if (!(dst->acl = malloc(src->nacl * sizeof *dst->acl)))
            e = RG_ERR_NOMEM;
        else
            dst->capacl = src->nacl;
        /* the copy owns its strings: re-intern them into its own pool */
        for (size_t i = 0; i < src->nacl && !e; i++) {
            const struct rg_acl_entry *a = &src->acl[i];
            struct rg_acl_entry *b = &dst->acl[i];
            if (!(b->path = rg_strpool_add(&dst->strings, a->path)) ||
                !(b->ugid = rg_strpool_add(&dst->strings, a->ugid)) ||
                !(b->role = rg_strpool_add(&dst->strings, a->role)))
                e = RG_ERR_NOMEM;
            b->propagate = a->propagate;
            dst->nacl = i + 1;
        }
    }
    if (e)
        rg_usercfg_free(dst);
    return e;
nomem:
    rg_usercfg_free(dst);
    return RG_ERR_NOMEM;
}

/* ================================================================ user edits */

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* Fields written verbatim (email, keys) must not break the line format. */
static int verbatim_ok(const char *s)
{
    return !has_ctl(s) && !strchr(s, ':');
}

static int parse_api_bool(const char *v)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
        !strcasecmp(v, "true"))
        return 1;
    if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
        !strcasecmp(v, "false"))
        return 0;
    return -1;
}

static int user_key_ignored(const char *k)
{
    return !strcmp(k, "userid") || !strcmp(k, "password") ||
           !strcmp(k, "confirmation-password") || !strcmp(k, "digest") || !strcmp(k, "append");
}

/* Validates and applies opts to u (a scratch copy); group changes are returned in *groups
 * (NULL if not given). */
static rg_err apply_user_opts(struct rg_usercfg *cfg, struct rg_user *u,
                              const struct rg_params *opts, struct rg_strlist *groups,
                              int *have_groups, int *count, struct rg_msg *msg)
{
    *have_groups = 0;
    *count = 0;
    rg_strlist_init(groups);
    for (size_t i = 0; opts && i < opts->n; i++) {
        const char *k = opts->items[i].key, *v = opts->items[i].val;
        char **field = NULL;
        size_t max = 0;
        int verbatim = 0;

        if (user_key_ignored(k))
            continue;
        if (rg_params_count(opts, k) > 1)
            return rg_fail(msg, RG_ERR_INVALID, "duplicate parameter '%.64s'", k);
        (*count)++;
        if (!strcmp(k, "enable")) {
            int b = parse_api_bool(v);
            if (b < 0)
                return rg_fail(msg, RG_ERR_INVALID, "enable: type check ('boolean') failed");
            u->enable = b;
            continue;
        }
        if (!strcmp(k, "expire")) {
            int64_t x;
            if (parse_uint(v, &x) != 0)
                return rg_fail(msg, RG_ERR_INVALID, "expire: type check ('integer') failed");
            u->expire = x;
            continue;
        }
        if (!strcmp(k, "groups")) {
            rg_err e = rg_split_list(v, RG_LIST_MAX_ITEMS, groups);
            if (e)
                return rg_fail(msg, e, "groups: too many items");
            for (size_t g = 0; g < groups->n; g++)
                if (!group_mut(cfg, groups->items[g]))
                    return rg_fail(msg, RG_ERR_NOTFOUND, "group '%.128s' does not exist",
                                   groups->items[g]);
            *have_groups = 1;
            continue;
        }
        if (!strcmp(k, "firstname")) {
            field = &u->firstname;
            max = RG_USER_NAME_MAX;
        } else if (!strcmp(k, "lastname")) {
            field = &u->lastname;
            max = RG_USER_NAME_MAX;
        } else if (!strcmp(k, "email")) {
            field = &u->email;
            max = RG_USER_EMAIL_MAX;
            verbatim = 1;
        } else if (!strcmp(k, "comment")) {
            field = &u->comment;
            max = RG_USER_COMMENT_MAX;
        } else if (!strcmp(k, "keys")) {
            field = &u->keys;
            max = RG_USER_COMMENT_MAX;
            verbatim = 1;
        } else {
            return rg_fail(msg, RG_ERR_INVALID, "unknown parameter '%.64s'", k);
        }
        if (strlen(v) > max)
            return rg_fail(msg, RG_ERR_INVALID, "%s: value too long (max %zu)", k, max);
        if (verbatim ? !verbatim_ok(v) : has_ctl(v))
            return rg_fail(msg, RG_ERR_INVALID, "%s: invalid characters", k);
        if (!strcmp(k, "email") && v[0] && (strchr(v, ' ') || !strchr(v, '@')))
            return rg_fail(msg, RG_ERR_INVALID, "email: value does not look like an email "
                                                "address");
        free(*field);
        *field = NULL;
        if (v[0] && !(*field = strdup(v)))
            return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    return RG_OK;
}

static rg_err user_set_groups(struct rg_usercfg *cfg, const char *userid,
                              const struct rg_strlist *groups, int append)
{
    if (!append)
        rg_usercfg_user_leave_all_groups(cfg, userid);
    for (size_t g = 0; g < groups->n; g++) {
        struct rg_group *grp = group_mut(cfg, groups->items[g]);
        rg_err e;
        if (grp && (e = strlist_insert_sorted(&grp->members, userid)))
            return e;
    }
    return RG_OK;
}

rg_err rg_usercfg_user_add(struct rg_usercfg *cfg, const char *userid,
                           const struct rg_params *opts, struct rg_msg *msg)
{
    struct rg_user tmp, *slot;
    struct rg_strlist groups;
    int have_groups, count;
    rg_err e;

    if (!rg_userid_check(userid))
        return rg_fail(msg, RG_ERR_INVALID, "invalid user id '%.64s'", userid ? userid : "");
    if (user_mut(cfg, userid))
        return rg_fail(msg, RG_ERR_EXISTS, "user '%s' already exists", userid);
    memset(&tmp, 0, sizeof tmp);
    snprintf(tmp.id, sizeof tmp.id, "%s", userid);
    tmp.enable = 1;
    e = apply_user_opts(cfg, &tmp, opts, &groups, &have_groups, &count, msg);
    if (!e && !(slot = user_insert(cfg, userid)))
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    if (e) {
        user_clear(&tmp);
        rg_strlist_free(&groups);
        return e;
    }
    *slot = tmp;
    if (have_groups && (e = user_set_groups(cfg, userid, &groups, 1)))
        rg_fail(msg, e, "out of memory");
    rg_strlist_free(&groups);
    return e;
}

rg_err rg_usercfg_user_modify(struct rg_usercfg *cfg, const char *userid,
                              const struct rg_params *opts, struct rg_msg *msg)
{
    struct rg_user *u = user_mut(cfg, userid), tmp;
    struct rg_strlist groups;
    int have_groups, count, append = 0;
    const char *ap;
    rg_err e = RG_OK;

    if (!u)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such user ('%.64s')", userid ? userid : "");
    if (opts && (ap = rg_params_get(opts, "append")) && (append = parse_api_bool(ap)) < 0)
        return rg_fail(msg, RG_ERR_INVALID, "append: type check ('boolean') failed");
    /* scratch copy of the editable scalar fields; tokens stay with u */
    memset(&tmp, 0, sizeof tmp);
    tmp.enable = u->enable;
    tmp.expire = u->expire;
    tmp.firstname = xdup(u->firstname, &e);
    tmp.lastname = xdup(u->lastname, &e);
    tmp.email = xdup(u->email, &e);
    tmp.comment = xdup(u->comment, &e);
    tmp.keys = xdup(u->keys, &e);
    if (!e)
        e = apply_user_opts(cfg, &tmp, opts, &groups, &have_groups, &count, msg);
    else
        rg_strlist_init(&groups);
    if (!e && count == 0 && append)
        e = rg_fail(msg, RG_ERR_INVALID, "no options specified");
    if (!e && append && !have_groups)
        e = rg_fail(msg, RG_ERR_INVALID, "parameter 'append' requires 'groups'");
    if (e) {
        user_clear(&tmp);
        rg_strlist_free(&groups);
        return e;
    }
    free(u->firstname);
    free(u->lastname);
    free(u->email);
    free(u->comment);
    free(u->keys);
    u->enable = tmp.enable;
    u->expire = tmp.expire;
    u->firstname = tmp.firstname;
    u->lastname = tmp.lastname;
    u->email = tmp.email;
    u->comment = tmp.comment;
    u->keys = tmp.keys;
    if (have_groups && (e = user_set_groups(cfg, userid, &groups, append)))
        rg_fail(msg, e, "out of memory");
    rg_strlist_free(&groups);
    return e;
}

void rg_usercfg_user_leave_all_groups(struct rg_usercfg *cfg, const char *userid)
{
    for (size_t i = 0; i < cfg->ngroups; i++)
        rg_strlist_remove(&cfg->groups[i].members, userid);
}

rg_err rg_usercfg_user_delete(struct rg_usercfg *cfg, const char *userid, struct rg_msg *msg)
{
    struct rg_user *u = user_mut(cfg, userid);
    char prefix[RG_USERID_MAX + 2];

    if (!u)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such user ('%.64s')", userid ? userid : "");
    if (!strcmp(u->id, "root@pam"))
        return rg_fail(msg, RG_ERR_INVALID, "cannot delete user 'root@pam'");
    snprintf(prefix, sizeof prefix, "%s!", u->id);
    rg_usercfg_user_leave_all_groups(cfg, u->id);
    acl_remove_where(cfg, u->id, NULL, prefix);
    user_clear(u);
    array_remove(cfg->users, &cfg->nusers, sizeof *cfg->users, (size_t)(u - cfg->users));
    return RG_OK;
}

/* ================================================================ tokens */

rg_err rg_usercfg_token_add(struct rg_usercfg *cfg, const char *tokenid, int64_t expire,
                            int privsep, const char *comment, struct rg_msg *msg)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    struct rg_user *u;
    struct rg_token *t;
    char *c = NULL;

    if (rg_tokenid_split(tokenid, uid, name) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "invalid token id '%.130s'", tokenid ? tokenid : "");
    if (!(u = user_mut(cfg, uid)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such user ('%s')", uid);
    if (token_mut(cfg, tokenid))
        return rg_fail(msg, RG_ERR_EXISTS, "Token already exists.");
    if (expire < 0)
        return rg_fail(msg, RG_ERR_INVALID, "expire: must be >= 0");
    if (comment && (strlen(comment) > RG_USER_COMMENT_MAX || has_ctl(comment)))
        return rg_fail(msg, RG_ERR_INVALID, "comment: invalid value");
    if (comment && comment[0] && !(c = strdup(comment)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    if (!(t = token_insert(u, tokenid))) {
        free(c);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    t->expire = expire;
    t->privsep = privsep ? 1 : 0;
    t->comment = c;
    return RG_OK;
}

rg_err rg_usercfg_token_modify(struct rg_usercfg *cfg, const char *tokenid, int64_t expire,
                               int privsep, const char *comment, struct rg_msg *msg)
{
    struct rg_token *t = token_mut(cfg, tokenid);
    char *c = NULL;

    if (!t)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such token '%.130s'", tokenid ? tokenid : "");
    if (comment && (strlen(comment) > RG_USER_COMMENT_MAX || has_ctl(comment)))
        return rg_fail(msg, RG_ERR_INVALID, "comment: invalid value");
    if (comment && comment[0] && !(c = strdup(comment)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    if (expire >= 0)
        t->expire = expire;
    if (privsep >= 0)
        t->privsep = privsep ? 1 : 0;
    if (comment) {
        free(t->comment);
        t->comment = c;
    }
    return RG_OK;
}

rg_err rg_usercfg_token_delete(struct rg_usercfg *cfg, const char *tokenid, struct rg_msg *msg)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    struct rg_user *u;
    struct rg_token *t = token_mut(cfg, tokenid);

    if (!t || rg_tokenid_split(tokenid, uid, name) != RG_OK || !(u = user_mut(cfg, uid)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such token '%.130s'", tokenid ? tokenid : "");
    acl_remove_where(cfg, tokenid, NULL, NULL);
    token_clear(t);
    array_remove(u->tokens, &u->ntokens, sizeof *u->tokens, (size_t)(t - u->tokens));
    return RG_OK;
}

/* ================================================================ groups */

rg_err rg_usercfg_group_add(struct rg_usercfg *cfg, const char *groupid, const char *comment,
                            struct rg_msg *msg)
{
    struct rg_group *g;
    char *c = NULL;

    if (!rg_groupid_check(groupid))
        return rg_fail(msg, RG_ERR_INVALID, "invalid group id '%.128s'", groupid ? groupid : "");
    if (group_mut(cfg, groupid))
        return rg_fail(msg, RG_ERR_EXISTS, "group '%s' already exists", groupid);
    if (comment && (strlen(comment) > RG_USER_COMMENT_MAX || has_ctl(comment)))
        return rg_fail(msg, RG_ERR_INVALID, "comment: invalid value");
    if (comment && comment[0] && !(c = strdup(comment)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    if (!(g = group_insert(cfg, groupid))) {
        free(c);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    g->comment = c;
    return RG_OK;
}

rg_err rg_usercfg_group_set_comment(struct rg_usercfg *cfg, const char *groupid,
                                    const char *comment, struct rg_msg *msg)
{
    struct rg_group *g = group_mut(cfg, groupid);
    char *c = NULL;

    if (!g)
        return rg_fail(msg, RG_ERR_NOTFOUND, "group '%.128s' does not exist",
                       groupid ? groupid : "");
    if (!comment)
        return RG_OK;
    if (strlen(comment) > RG_USER_COMMENT_MAX || has_ctl(comment))
        return rg_fail(msg, RG_ERR_INVALID, "comment: invalid value");
    if (comment[0] && !(c = strdup(comment)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    set_str(&g->comment, c);
    return RG_OK;
}

rg_err rg_usercfg_group_delete(struct rg_usercfg *cfg, const char *groupid, struct rg_msg *msg)
{
    struct rg_group *g = group_mut(cfg, groupid);
    char ug[RG_GROUPID_MAX + 2];

    if (!g)
        return rg_fail(msg, RG_ERR_NOTFOUND, "group '%.128s' does not exist",
                       groupid ? groupid : "");
    snprintf(ug, sizeof ug, "@%s", g->id);
    acl_remove_where(cfg, ug, NULL, NULL);
    group_clear(g);
    array_remove(cfg->groups, &cfg->ngroups, sizeof *cfg->groups, (size_t)(g - cfg->groups));
    return RG_OK;
}

rg_err rg_usercfg_group_add_member(struct rg_usercfg *cfg, const char *groupid,
                                   const char *userid, struct rg_msg *msg)
{
    struct rg_group *g = group_mut(cfg, groupid);

    if (!g)
        return rg_fail(msg, RG_ERR_NOTFOUND, "group '%.128s' does not exist",
                       groupid ? groupid : "");
    if (!rg_userid_check(userid))
        return rg_fail(msg, RG_ERR_INVALID, "invalid user id '%.64s'", userid ? userid : "");
    if (strlist_insert_sorted(&g->members, userid))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    return RG_OK;
}

/* ================================================================ roles */

static rg_err parse_privs_strict(const char *privs, rg_privmask *out, struct rg_msg *msg)
{
    char bad[64];
    size_t unknown = 0;
    rg_err e = rg_privmask_parse(privs, out, &unknown, bad);

    if (e)
        return rg_fail(msg, e, "privs: too many items");
    if (unknown)
        return rg_fail(msg, RG_ERR_INVALID, "invalid privilege '%s'", bad);
    return RG_OK;
}

rg_err rg_usercfg_role_add(struct rg_usercfg *cfg, const char *roleid, const char *privs,
                           struct rg_msg *msg)
{
    rg_privmask m;
    struct rg_role *r;
    rg_err e;

    if (!rg_roleid_check(roleid))
        return rg_fail(msg, RG_ERR_INVALID, "invalid role id '%.128s'", roleid ? roleid : "");
    if (rg_builtin_role_find(roleid) || role_mut(cfg, roleid))
        return rg_fail(msg, RG_ERR_EXISTS, "role '%s' already exists", roleid);
    if (!strncasecmp(roleid, "PVE", 3))
        return rg_fail(msg, RG_ERR_INVALID, "cannot create role '%s' (reserved name)", roleid);
    if ((e = parse_privs_strict(privs, &m, msg)))
        return e;
    if (!(r = role_insert(cfg, roleid)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    r->privs = m;
    return RG_OK;
}

rg_err rg_usercfg_role_modify(struct rg_usercfg *cfg, const char *roleid, const char *privs,
                              int append, struct rg_msg *msg)
{
    struct rg_role *r;
    rg_privmask m;
    rg_err e;

    if (rg_builtin_role_find(roleid))
        return rg_fail(msg, RG_ERR_INVALID, "cannot modify built-in role '%s'", roleid);
    if (!(r = role_mut(cfg, roleid)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "role '%.128s' does not exist",
                       roleid ? roleid : "");
    if ((e = parse_privs_strict(privs, &m, msg)))
        return e;
    r->privs = append ? (r->privs | m) : m;
    return RG_OK;
}

rg_err rg_usercfg_role_delete(struct rg_usercfg *cfg, const char *roleid, struct rg_msg *msg)
{
    struct rg_role *r;

    if (rg_builtin_role_find(roleid))
        return rg_fail(msg, RG_ERR_INVALID, "cannot delete built-in role '%s'", roleid);
    if (!(r = role_mut(cfg, roleid)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "role '%.128s' does not exist",
                       roleid ? roleid : "");
    acl_remove_where(cfg, NULL, r->id, NULL);
    array_remove(cfg->roles, &cfg->nroles, sizeof *cfg->roles, (size_t)(r - cfg->roles));
    return RG_OK;
}

/* ================================================================ ACL edits */

rg_err rg_usercfg_acl_change(struct rg_usercfg *cfg, const char *path, const char *roles,
                             const char *users, const char *groups, const char *tokens,
                             int propagate, int remove, struct rg_msg *msg)
{
    return rg_usercfg_acl_change_ex(cfg, path, roles, users, groups, tokens, propagate, remove,
                                    NULL, NULL, msg);
}

rg_err rg_usercfg_acl_change_ex(struct rg_usercfg *cfg, const char *path, const char *roles,
                                const char *users, const char *groups, const char *tokens,
                                int propagate, int remove, rg_absent_user_fn *absent_ok,
                                void *absent_ctx, struct rg_msg *msg)
{
    char npath[RG_ACL_PATH_MAX + 1];
    struct rg_strlist rl, ul, gl, tl;
    rg_err e;

    rg_strlist_init(&rl);
    rg_strlist_init(&ul);
    rg_strlist_init(&gl);
    rg_strlist_init(&tl);
    if (!path || !path[0] || rg_path_normalize(path, npath) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "invalid ACL path '%.64s'", path ? path : "");
    if (!remove && !rg_acl_path_valid(npath))
        return rg_fail(msg, RG_ERR_INVALID, "invalid ACL path '%.64s'", path);
    if ((e = rg_split_list(roles, 256, &rl)) || (e = rg_split_list(users, RG_LIST_MAX_ITEMS, &ul)) ||
        (e = rg_split_list(groups, RG_LIST_MAX_ITEMS, &gl)) ||
        (e = rg_split_list(tokens, RG_LIST_MAX_ITEMS, &tl))) {
        e = rg_fail(msg, e, "too many items in list");
        goto out;
    }
    if (ul.n + gl.n + tl.n == 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "either 'users', 'groups' or 'tokens' is required");
        goto out;
    }
    if (rl.n == 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "roles: property is missing and it is not optional");
        goto out;
    }
    /* validate everything first so a failure changes nothing */
    for (size_t i = 0; i < rl.n; i++) {
        rg_privmask m;
        if (!rg_roleid_check(rl.items[i]) ||
            (!remove && !rg_usercfg_role_privs(cfg, rl.items[i], &m))) {
            e = rg_fail(msg, RG_ERR_NOTFOUND, "role '%.128s' does not exist", rl.items[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < gl.n; i++) {
        if (!rg_groupid_check(gl.items[i]) || (!remove && !group_mut(cfg, gl.items[i]))) {
            e = rg_fail(msg, RG_ERR_NOTFOUND, "group '%.128s' does not exist", gl.items[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < ul.n; i++) {
        if (!rg_userid_check(ul.items[i])) {
            e = rg_fail(msg, RG_ERR_INVALID, "invalid user id '%.64s'", ul.items[i]);
            goto out;
        }
        if (!remove && !strcmp(ul.items[i], "root@pam")) {
            /* the writer never stores them (Proxmox neither): say so instead of a silent 200 */
            e = rg_fail(msg, RG_ERR_INVALID, "root@pam has every privilege on every path; "
                                             "ACL entries for it are not stored");
            goto out;
        }
        if (!remove && !user_mut(cfg, ul.items[i]) &&
            !(absent_ok && absent_ok(absent_ctx, ul.items[i]))) {
            e = rg_fail(msg, RG_ERR_NOTFOUND, "user '%s' does not exist", ul.items[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < tl.n; i++) {
        if (!rg_tokenid_check(tl.items[i]) || (!remove && !token_mut(cfg, tl.items[i]))) {
            e = rg_fail(msg, RG_ERR_NOTFOUND, "no such token '%.130s'", tl.items[i]);
            goto out;
        }
    }
    if (!remove && cfg->nacl + rl.n * (gl.n + ul.n + tl.n) > RG_ACL_MAX_ENTRIES) {
        e = rg_fail(msg, RG_ERR_LIMIT, "too many ACL entries (at most %d)", RG_ACL_MAX_ENTRIES);
        goto out;
    }
    /* only allocation can fail from here on */
    for (size_t r = 0; r < rl.n && !e; r++) {
        struct rg_strlist *lists[3] = {&gl, &ul, &tl};
        for (int k = 0; k < 3 && !e; k++) {
            for (size_t i = 0; i < lists[k]->n && !e; i++) {
                char ug[RG_UGID_MAX + 1];
                snprintf(ug, sizeof ug, "%s%s", k == 0 ? "@" : "", lists[k]->items[i]);
                if (remove) {
                    int found;
                    size_t idx = acl_find(cfg, npath, ug, rl.items[r], &found);
                    if (found)
                        array_remove(cfg->acl, &cfg->nacl, sizeof *cfg->acl, idx);
                } else {
                    e = acl_set(cfg, npath, ug, rl.items[r], propagate);
                }
            }
        }
    }
    if (e)
        rg_fail(msg, e, "out of memory");
out:
    rg_strlist_free(&rl);
    rg_strlist_free(&ul);
    rg_strlist_free(&gl);
    rg_strlist_free(&tl);
    return e;
}
