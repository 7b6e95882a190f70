#include "access/ids.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/utf8.h"

/* ASCII only: the locale must never widen what an identifier may contain. */
static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

/* [A-Za-z0-9._-] */
static bool is_idchar(unsigned char c)
{
    return is_alnum(c) || c == '.' || c == '-' || c == '_';
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Letter followed by >= 1 id chars, over s[0..len). */
static bool realm_pattern_n(const char *s, size_t len)
{
    if (len < 2 || !is_alpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_idchar((unsigned char)s[i]))
            return false;
    return true;
}

bool rg_realmid_pattern(const char *id)
{
    return id && realm_pattern_n(id, strlen(id));
}

bool rg_realmid_check(const char *id)
{
    return id && strlen(id) <= RG_REALMID_MAX && realm_pattern_n(id, strlen(id));
}

bool rg_userid_check(const char *id)
{
    size_t len;
    const char *at;

    if (!id)
        return false;
    len = strlen(id);
    if (len < 3 || len > RG_USERID_MAX)
        return false;
    at = strrchr(id, '@');
    if (!at || at == id)
        return false;
    if (!realm_pattern_n(at + 1, strlen(at + 1)) || strlen(at + 1) > RG_REALMID_MAX)
        return false;
    for (const char *p = id; p < at;) {
        unsigned char c = (unsigned char)*p;
        unsigned cp;
        size_t n = rg_utf8_next(p, &cp);
        /* ',' and ';' too: user.cfg stores group members and ACL members as split_lists,
         * so a name "x,admin@pve" would read back as two members (a deliberate difference
         * from Proxmox, whose pattern lets it through) */
        if (c < 0x20 || c == 0x7f || is_space(c) || c == ':' || c == '/' || c == ',' ||
            c == ';')
            return false;
        /* no invalid UTF-8, no Unicode whitespace (Proxmox's \s on decoded text), and none
         * of the invisible or bidi characters that make one name look like another */
        if (n == 0 || p + n > at || (n > 1 && rg_unicode_deceptive(cp)))
            return false;
        p += n;
    }
    return true;
}

rg_err rg_userid_split(const char *id, char name[RG_USERID_MAX + 1],
                       char realm[RG_REALMID_MAX + 1])
{
    const char *at;

    if (!rg_userid_check(id))
        return RG_ERR_INVALID;
    at = strrchr(id, '@');
    memcpy(name, id, (size_t)(at - id));
    name[at - id] = '\0';
    strcpy(realm, at + 1); /* length checked by rg_userid_check */
    return RG_OK;
}

static bool idchars_check(const char *id, size_t max)
{
    size_t len;

    if (!id)
        return false;
    len = strlen(id);
    if (len < 1 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_idchar((unsigned char)id[i]))
            return false;
    return true;
}

bool rg_groupid_check(const char *id)
{
    return idchars_check(id, RG_GROUPID_MAX);
}

bool rg_roleid_check(const char *id)
{
    return idchars_check(id, RG_ROLEID_MAX);
}

bool rg_tokenname_check(const char *name)
{
    return name && strlen(name) <= RG_TOKENNAME_MAX && realm_pattern_n(name, strlen(name));
}

rg_err rg_tokenid_split(const char *id, char userid[RG_USERID_MAX + 1],
                        char name[RG_TOKENNAME_MAX + 1])
{
    const char *bang;
    size_t ulen;

    if (!id || !(bang = strrchr(id, '!')))
        return RG_ERR_INVALID;
    ulen = (size_t)(bang - id);
    if (ulen > RG_USERID_MAX || !rg_tokenname_check(bang + 1))
        return RG_ERR_INVALID;
    memcpy(userid, id, ulen);
    userid[ulen] = '\0';
    if (!rg_userid_check(userid))
        return RG_ERR_INVALID;
    strcpy(name, bang + 1);
    return RG_OK;
}

bool rg_tokenid_check(const char *id)
{
    char u[RG_USERID_MAX + 1], n[RG_TOKENNAME_MAX + 1];
    return rg_tokenid_split(id, u, n) == RG_OK;
}

const char *rg_ugid_type(const char *ugid)
{
    return ugid[0] == '@' ? "group" : rg_tokenid_check(ugid) ? "token" : "user";
}

bool rg_poolid_check(const char *id)
{
    size_t len, levels = 1, seglen = 0;

    if (!id)
        return false;
    len = strlen(id);
    if (len < 1 || len > RG_POOLID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c == '/') {
            if (seglen == 0)
                return false;
            seglen = 0;
            if (++levels > 3)
                return false;
        } else if (is_idchar(c)) {
            seglen++;
        } else {
            return false;
        }
    }
    return seglen > 0;
}

bool rg_storageid_check(const char *id)
{
    size_t len;

    if (!id)
        return false;
    len = strlen(id);
    if (len < 2 || len > RG_POOLID_MAX)
        return false;
    if (!is_alpha((unsigned char)id[0]) || !is_alnum((unsigned char)id[len - 1]))
        return false;
    for (size_t i = 1; i < len - 1; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

rg_err rg_path_normalize(const char *in, char out[RG_ACL_PATH_MAX + 1])
{
    size_t o = 0;

    if (!in)
        in = "";
    /* Always start with '/', then copy while collapsing runs of '/'. */
    out[o++] = '/';
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' && out[o - 1] == '/')
            continue;
        if (!is_idchar(c) && c != '/')
            return RG_ERR_INVALID;
        if (o >= RG_ACL_PATH_MAX + 1) /* one spare byte: a trailing '/' may still go */
            return RG_ERR_LIMIT;
        out[o++] = (char)c;
    }
    if (o > 1 && out[o - 1] == '/')
        o--;
    if (o > RG_ACL_PATH_MAX)
        return RG_ERR_LIMIT;
    out[o] = '\0';
    return RG_OK;
}

/* Splits a normalised path into at most max components (pointers into buf). */
static size_t path_components(const char *path, char *buf, size_t bufsz, char **comp,
                              size_t max)
{
    size_t n = 0;
    char *save = NULL, *tok;

    if (strlen(path) >= bufsz)
        return (size_t)-1;
    strcpy(buf, path);
    for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (n == max)
            return (size_t)-1;
        comp[n++] = tok;
    }
    return n;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!is_digit((unsigned char)*s))
            return false;
    return true;
}

bool rg_acl_path_valid(const char *path)
{
    char buf[RG_ACL_PATH_MAX + 1];
    char *c[8];
    size_t n;

    if (!path || path[0] != '/')
        return false;
    n = path_components(path, buf, sizeof buf, c, 8);
    if (n == (size_t)-1)
        return false;
    if (n == 0)
        return true;
    if (!strcmp(c[0], "access")) {
        if (n == 1)
            return true;
        if (!strcmp(c[1], "groups") || !strcmp(c[1], "realm"))
            return n <= 3;
        return false;
    }
    if (!strcmp(c[0], "nodes"))
        return n <= 2;
    if (!strcmp(c[0], "pool"))
        return n <= 4;
    if (!strcmp(c[0], "sdn")) {
        static const char *const sub[] = {"controllers", "dns", "fabrics", "ipams",
                                          "prefix-lists", "route-maps"};
        if (n == 1)
            return true;
        for (size_t i = 0; i < sizeof sub / sizeof *sub; i++)
            if (!strcmp(c[1], sub[i]))
                return n <= 3; /* /sdn/<kind>[/<id>] */
        if (!strcmp(c[1], "zones")) {
            if (n <= 4)
                return true;
            if (n == 5) {
                long v;
                if (!all_digits(c[4]) || strlen(c[4]) > 4)
                    return false;
                v = strtol(c[4], NULL, 10);
                return v >= 1 && v <= 9999;
            }
        }
        return false;
    }
    if (!strcmp(c[0], "storage"))
        return n <= 2;
    if (!strcmp(c[0], "vms")) {
        if (n == 1)
            return true;
        /* a VM id as Proxmox writes it: >= 100, no leading zero (/vms/0100 is no VM) */
        if (n == 2 && all_digits(c[1]) && c[1][0] != '0' && strlen(c[1]) <= 9)
            return strtol(c[1], NULL, 10) >= 100;
        return false;
    }
    if (!strcmp(c[0], "mapping"))
        return n <= 3;
    return false;
}

/* ---- string lists ---- */

void rg_strlist_init(struct rg_strlist *l)
{
    l->items = NULL;
    l->n = 0;
    l->cap = 0;
}

void rg_strlist_free(struct rg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    rg_strlist_init(l);
}

rg_err rg_strlist_add(struct rg_strlist *l, const char *s)
{
    char *copy;

    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        char **ni = realloc(l->items, ncap * sizeof *ni);
        if (!ni)
            return RG_ERR_NOMEM;
        l->items = ni;
        l->cap = ncap;
    }
    copy = strdup(s);
    if (!copy)
        return RG_ERR_NOMEM;
    l->items[l->n++] = copy;
    return RG_OK;
}

bool rg_strlist_contains(const struct rg_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i], s))
            return true;
    return false;
}

rg_err rg_strlist_add_unique(struct rg_strlist *l, const char *s)
{
    return rg_strlist_contains(l, s) ? RG_OK : rg_strlist_add(l, s);
}

size_t rg_strlist_remove(struct rg_strlist *l, const char *s)
{
    size_t o = 0, removed = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->items[i], s)) {
            free(l->items[i]);
            removed++;
        } else {
            l->items[o++] = l->items[i];
        }
    }
    l->n = o;
    return removed;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rg_strlist_sort_unique(struct rg_strlist *l)
{
    size_t o = 0;

    if (l->n < 2)
        return;
    qsort(l->items, l->n, sizeof *l->items, cmp_str);
    for (size_t i = 0; i < l->n; i++) {
        if (o > 0 && !strcmp(l->items[o - 1], l->items[i]))
            free(l->items[i]);
        else
            l->items[o++] = l->items[i];
    }
    l->n = o;
}

static bool is_list_sep(unsigned char c)
{
    return is_space(c) || c == ',' || c == ';';
}

/* The next item of a split_list at or after s (its length in *len), or NULL at the end. */
static const char *next_item(const char *s, size_t *len)
{
    const char *start;

    while (*s && is_list_sep((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    start = s;
    while (*s && !is_list_sep((unsigned char)*s))
        s++;
    *len = (size_t)(s - start);
    return start;
}

rg_err rg_split_list(const char *s, size_t max_items, struct rg_strlist *out)
{
    size_t len;

    rg_strlist_init(out);
    for (const char *it = s ? next_item(s, &len) : NULL; it; it = next_item(it + len, &len)) {
        char *item;
        rg_err e;

        if (out->n >= max_items) {
            rg_strlist_free(out);
            return RG_ERR_LIMIT;
        }
        if (!(item = strndup(it, len))) {
            rg_strlist_free(out);
            return RG_ERR_NOMEM;
        }
        e = rg_strlist_add(out, item);
        free(item);
        if (e) {
            rg_strlist_free(out);
            return e;
        }
    }
    return RG_OK;
}

size_t rg_split_list_inplace(char *s, char **items, size_t max_items)
{
    size_t n = 0, len;

    for (char *it = (char *)next_item(s, &len); it; it = (char *)next_item(it + len + 1, &len)) {
        if (n == max_items)
            return RG_SPLIT_TOO_MANY;
        items[n++] = it;
        if (!it[len]) /* last item: nothing after it */
            break;
        it[len] = '\0';
    }
    return n;
}

/* ---- parser warnings ---- */

void rg_cfg_warnf(rg_cfg_warn_fn *warn, void *ctx, const char *file, int line, const char *fmt,
                  ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (warn)
        warn(ctx, line, text);
    else
        rg_warn("%s line %d: %s", file, line, text);
}
