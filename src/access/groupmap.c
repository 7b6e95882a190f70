/* groupmap.c — see groupmap.h. */
#include "access/groupmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/domains.h"
#include "base/log.h"

/* ---------------------------------------------------------------- the map option */

void rg_groupmap_init(struct rg_groupmap *m)
{
    m->items = NULL;
    m->n = 0;
}

void rg_groupmap_free(struct rg_groupmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->items[i].value);
    free(m->items);
    rg_groupmap_init(m);
}

static int is_sep(char c)
{
    return c == ',' || c == ';' || c == ' ' || c == '\t';
}

/* One "value=name" pair (len bytes at p, not NUL-terminated) into a new entry. */
static rg_err parse_pair(const char *p, size_t len, struct rg_groupmap *m, struct rg_msg *msg)
{
    const char *eq = NULL;
    char enc[RG_GROUPMAP_VALUE_MAX * 3 + 1], name[RG_GROUPID_MAX + 1], *value = NULL;
    struct rg_groupmap_entry *grown;
    size_t vlen, nlen;
    rg_err e;

    for (size_t i = len; i-- > 0;)
        if (p[i] == '=') {
            eq = p + i;
            break;
        }
    if (!eq)
        return rg_fail(msg, RG_ERR_INVALID, "pair '%.*s' has no '='", (int)(len > 80 ? 80 : len),
                       p);
    vlen = (size_t)(eq - p);
    nlen = len - vlen - 1;
    if (vlen == 0)
        return rg_fail(msg, RG_ERR_INVALID, "pair '%.*s' has an empty claim value",
                       (int)(len > 80 ? 80 : len), p);
    if (vlen >= sizeof enc)
        return rg_fail(msg, RG_ERR_LIMIT, "claim value longer than %d bytes",
                       RG_GROUPMAP_VALUE_MAX);
    if (nlen == 0 || nlen > RG_GROUPID_MAX)
        return rg_fail(msg, RG_ERR_INVALID, "invalid group name '%.*s'",
                       (int)(nlen > 80 ? 80 : nlen), eq + 1);
    memcpy(name, eq + 1, nlen);
    name[nlen] = '\0';
    if (!rg_groupid_check(name))
        return rg_fail(msg, RG_ERR_INVALID, "invalid group name '%.80s'", name);
    memcpy(enc, p, vlen);
    enc[vlen] = '\0';
    e = rg_cfg_unescape(enc, &value);
    if (e)
        return rg_fail(msg, RG_ERR_INVALID, "claim value '%.80s' decodes to a NUL byte", enc);
    if (strlen(value) > RG_GROUPMAP_VALUE_MAX) {
        free(value);
        return rg_fail(msg, RG_ERR_LIMIT, "claim value longer than %d bytes",
                       RG_GROUPMAP_VALUE_MAX);
    }
    if (rg_groupmap_lookup(m, value)) {
        rg_fail(msg, RG_ERR_INVALID, "claim value '%.80s' is mapped twice", enc);
        free(value);
        return RG_ERR_INVALID;
    }
    if (m->n >= RG_GROUPMAP_MAX_ENTRIES) {
        free(value);
        return rg_fail(msg, RG_ERR_LIMIT, "more than %d mappings", RG_GROUPMAP_MAX_ENTRIES);
    }
    grown = realloc(m->items, (m->n + 1) * sizeof *m->items);
    if (!grown) {
        free(value);
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    }
    m->items = grown;
    m->items[m->n].value = value;
    memcpy(m->items[m->n].group, name, nlen + 1);
    m->n++;
    return RG_OK;
}

rg_err rg_groupmap_parse(const char *text, struct rg_groupmap *out, struct rg_msg *msg)
{
    const char *p = text;
    rg_err e = RG_OK;

    rg_groupmap_init(out);
    if (!text)
        return RG_OK;
    if (strlen(text) > RG_GROUPMAP_TEXT_MAX)
        return rg_fail(msg, RG_ERR_LIMIT, "value longer than %d bytes", RG_GROUPMAP_TEXT_MAX);
    for (const char *q = text; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q == 0x7f)
            return rg_fail(msg, RG_ERR_INVALID, "control characters are not allowed");
    while (*p) {
        size_t len;
        while (is_sep(*p))
            p++;
        if (!*p)
            break;
        len = 0;
        while (p[len] && !is_sep(p[len]))
            len++;
        if ((e = parse_pair(p, len, out, msg)))
            break;
        p += len;
    }
    if (e)
        rg_groupmap_free(out);
    return e;
}

const char *rg_groupmap_lookup(const struct rg_groupmap *m, const char *value)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->items[i].value, value))
            return m->items[i].group;
    return NULL;
}

/* ---------------------------------------------------------------- claims -> group ids */

void rg_groups_result_free(struct rg_groups_result *r)
{
    rg_strlist_free(&r->groups);
    r->status = RG_GROUPS_MISSING;
    r->skipped = 0;
}

static void result_init(struct rg_groups_result *r)
{
    rg_strlist_init(&r->groups);
    r->status = RG_GROUPS_MISSING;
    r->skipped = 0;
}

/* A printable, bounded rendering of an untrusted value for the log. */
static void log_value(const char *v, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *v && o + 1 < outsz && o < 80; v++)
        out[o++] = ((unsigned char)*v < 0x20 || (unsigned char)*v == 0x7f) ? '?' : *v;
    out[o] = '\0';
}

rg_err rg_groups_from_array(const json_t *arr, const char *realm, const struct rg_groupmap *m,
                            struct rg_groups_result *out)
{
    size_t i;
    const json_t *el;
    rg_err e = RG_OK;

    result_init(out);
    if (!json_is_array(arr)) {
        out->status = RG_GROUPS_NOT_ARRAY;
        return RG_OK;
    }
    if (json_array_size(arr) > RG_GROUPS_CLAIM_MAX) {
        out->status = RG_GROUPS_TOO_MANY;
        return RG_OK;
    }
    out->status = RG_GROUPS_LIST;
    json_array_foreach(arr, i, el) {
        const char *v = json_string_value(el), *local;
        char gid[RG_GROUPID_MAX + 2], shown[96];
        int n;

        if (!v || strlen(v) != json_string_length(el) || strlen(v) > RG_GROUPS_ELEMENT_MAX) {
            rg_warn("openid realm '%s': groups claim element %zu skipped (not a string, NUL "
                    "byte or longer than %d bytes)", realm, i, RG_GROUPS_ELEMENT_MAX);
            out->skipped++;
            continue;
        }
        local = rg_groupmap_lookup(m, v);
        if (!local)
            local = v;
        log_value(v, shown, sizeof shown);
        if (!rg_groupid_check(local)) {
            rg_warn("openid realm '%s': skipping invalid group name '%s' from the groups claim",
                    realm, shown);
            out->skipped++;
            continue;
        }
        n = snprintf(gid, sizeof gid, "%s-%s", local, realm);
        if (n < 0 || (size_t)n > RG_GROUPID_MAX) {
            rg_warn("openid realm '%s': skipping group '%s': '<name>-%s' is longer than %d "
                    "characters", realm, shown, realm, RG_GROUPID_MAX);
            out->skipped++;
            continue;
        }
        if ((e = rg_strlist_add_unique(&out->groups, gid)))
            break;
    }
    if (e) {
        rg_groups_result_free(out);
        return e;
    }
    rg_strlist_sort_unique(&out->groups);
    return RG_OK;
}

const char *rg_groups_overage_source(const json_t *claims, const char *claim)
{
    const json_t *names = json_object_get(claims, "_claim_names");
    const json_t *sources = json_object_get(claims, "_claim_sources");
    const char *src = json_string_value(json_object_get(names, claim));
    const json_t *s;

    if (!src || !json_is_object(sources))
        return NULL;
    s = json_object_get(sources, src);
    return json_string_value(json_object_get(s, "endpoint"));
}

rg_err rg_groups_from_claims(const json_t *claims, const char *claim, const char *realm,
                             const struct rg_groupmap *m, struct rg_groups_result *out)
{
    const json_t *v = json_object_get(claims, claim);

    result_init(out);
    if (!v || json_is_null(v)) {
        const json_t *names = json_object_get(claims, "_claim_names");
        if ((json_is_object(names) && json_object_get(names, claim)) ||
            json_is_true(json_object_get(claims, "hasgroups")))
            out->status = RG_GROUPS_OVERAGE;
        return RG_OK;
    }
    return rg_groups_from_array(v, realm, m, out);
}

/* ---------------------------------------------------------------- user.cfg */

rg_err rg_groups_apply(struct rg_usercfg *cfg, const char *userid,
                       const struct rg_strlist *groups, int autocreate, int overwrite,
                       struct rg_groups_change *chg, struct rg_msg *msg)
{
    struct rg_strlist before;
    rg_err e;

    memset(chg, 0, sizeof *chg);
    if (!rg_usercfg_user(cfg, userid))
        return rg_fail(msg, RG_ERR_NOTFOUND, "no such user ('%.64s')", userid);
    if ((e = rg_usercfg_user_groups(cfg, userid, &before)))
        return rg_fail(msg, e, "out of memory");
    if (overwrite)
        rg_usercfg_user_leave_all_groups(cfg, userid);
    for (size_t i = 0; i < groups->n && !e; i++) {
        const char *g = groups->items[i];
        if (!rg_usercfg_group(cfg, g)) {
            if (!autocreate) {
                chg->missing++;
                continue;
            }
            if ((e = rg_usercfg_group_add(cfg, g, NULL, msg)))
                break;
            rg_info("openid: created group '%s' (groups-autocreate)", g);
            chg->created++;
        }
        if (!rg_group_has_member(rg_usercfg_group(cfg, g), userid)) {
            if ((e = rg_usercfg_group_add_member(cfg, g, userid, msg)))
                break;
            if (!rg_strlist_contains(&before, g))
                chg->added++;
        }
    }
    if (!e && overwrite)
        for (size_t i = 0; i < before.n; i++)
            if (!rg_strlist_contains(groups, before.items[i]) ||
                !rg_usercfg_group(cfg, before.items[i]))
                chg->removed++;
    rg_strlist_free(&before);
    return e;
}

/* ---------------------------------------------------------------- the login step */

struct login_apply {
    const char *userid;
    const struct rg_strlist *groups;
    int autocreate, overwrite;
    struct rg_groups_change chg;
};

/* Runs under the user.cfg lock. RG_ERR_EXISTS stands for "nothing to change", so the store
 * does not rewrite the file (and its digest stays) on the usual login with the same groups. */
static rg_err login_apply_fn(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct login_apply *a = ctx;
    rg_err e = rg_groups_apply(cfg, a->userid, a->groups, a->autocreate, a->overwrite,
                               &a->chg, msg);

    if (!e && a->chg.added == 0 && a->chg.removed == 0 && a->chg.created == 0)
        e = RG_ERR_EXISTS;
    return e;
}

rg_err rg_groups_login(struct rg_store *st, const struct rg_realm *r, const char *userid,
                       const json_t *claims, int *changed, struct rg_msg *msg)
{
    struct rg_groupmap map;
    struct rg_groups_result res;
    struct login_apply a;
    struct rg_msg why = {{0}};
    rg_err e;

    if (changed)
        *changed = 0;
    if (!r->groups_claim)
        return RG_OK;
    /* the stored value passed the same parser when it was set; a failure here means the
     * file was edited by hand: keep memberships rather than guess */
    if ((e = rg_groupmap_parse(r->groups_map, &map, &why))) {
        rg_error("openid realm '%s': groups-map unusable (%s); group memberships of '%s' "
                 "unchanged", r->id, why.text, userid);
        return RG_OK;
    }
    e = rg_groups_from_claims(claims, r->groups_claim, r->id, &map, &res);
    rg_groupmap_free(&map);
    if (e)
        return rg_fail(msg, e, "out of memory");
    switch (res.status) {
    case RG_GROUPS_MISSING:
        rg_error("openid realm '%s': groups claim '%s' missing for '%s'; group memberships "
                 "unchanged", r->id, r->groups_claim, userid);
        goto done;
    case RG_GROUPS_NOT_ARRAY:
        rg_error("openid realm '%s': groups claim '%s' of '%s' is not an array; group "
                 "memberships unchanged", r->id, r->groups_claim, userid);
        goto done;
    case RG_GROUPS_TOO_MANY:
        rg_error("openid realm '%s': groups claim '%s' of '%s' has more than %d elements; "
                 "group memberships unchanged", r->id, r->groups_claim, userid,
                 RG_GROUPS_CLAIM_MAX);
        goto done;
    case RG_GROUPS_OVERAGE:
        rg_warn("openid realm '%s': groups overage for '%s': the ID token does not carry the "
                "groups claim '%s' (the provider lists too many groups and points to %s); group "
                "memberships unchanged", r->id, userid, r->groups_claim,
                rg_groups_overage_source(claims, r->groups_claim) ? "a claim source"
                                                                 : "no claim source");
        goto done;
    case RG_GROUPS_LIST:
        break;
    }
    memset(&a, 0, sizeof a);
    a.userid = userid;
    a.groups = &res.groups;
    a.autocreate = r->groups_autocreate == 1;
    a.overwrite = r->groups_overwrite == 1;
    e = rg_store_update_usercfg(st, login_apply_fn, &a, msg);
    if (e == RG_ERR_EXISTS) {
        e = RG_OK; /* nothing changed */
    } else if (!e) {
        if (changed)
            *changed = 1;
        rg_info("openid realm '%s': groups of '%s' updated: %zu added, %zu removed, %zu "
                "created%s", r->id, userid, a.chg.added, a.chg.removed, a.chg.created,
                a.chg.missing ? " (claimed groups that do not exist were ignored)" : "");
    }
    if (!e && a.chg.missing)
        rg_info("openid realm '%s': %zu claimed group(s) of '%s' do not exist and "
                "groups-autocreate is off", r->id, a.chg.missing, userid);
done:
    rg_groups_result_free(&res);
    return e;
}
