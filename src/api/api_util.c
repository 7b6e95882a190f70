/* api_util.c — permission checks and parameter parsing shared by the access-control handlers. */
#include "api/api_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/perm.h"

static rg_privmask mask_of(const char *privs)
{
    rg_privmask m = 0;
    rg_privmask_parse(privs, &m, NULL, NULL);
    return m;
}

bool rg_api_has(const struct rg_call *c, const char *path, const char *privs, bool any)
{
    return rg_perm_check(&c->snap->users, c->userid, path, mask_of(privs), any);
}

/* "A,B" → "A|B" (any) for the message, as PVE prints check_any failures. */
static void deny(struct rg_call *c, const char *path, const char *privs, bool any)
{
    char list[256];

    snprintf(list, sizeof list, "%s", privs);
    if (any)
        for (char *p = list; *p; p++)
            if (*p == ',')
                *p = '|';
    rg_reply_error(c, 403, "Permission check failed (%s, %s)", path, list);
}

int rg_api_require(struct rg_call *c, const char *path, const char *privs, bool any)
{
    if (rg_api_has(c, path, privs, any))
        return 1;
    deny(c, path, privs, any);
    return 0;
}

int rg_api_require_realm_user(struct rg_call *c, const char *userid)
{
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1], path[RG_ACL_PATH_MAX + 1];

    if (rg_userid_split(userid, name, realm) != RG_OK) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return 0;
    }
    snprintf(path, sizeof path, "/access/realm/%s", realm);
    return rg_api_require(c, path, "Realm.AllocateUser", false);
}

/* Whether the caller has privs (any) on /access/groups/<g>. */
static bool on_group(const struct rg_call *c, const char *g, rg_privmask m)
{
    char path[RG_ACL_PATH_MAX + 1];

    if (snprintf(path, sizeof path, "/access/groups/%s", g) >= (int)sizeof path)
        return false;
    return rg_perm_check(&c->snap->users, c->userid, path, m, true);
}

int rg_api_require_userid_group(struct rg_call *c, const char *userid, const char *privs,
                                int mode, const char *groups)
{
    const struct rg_usercfg *u = &c->snap->users;
    rg_privmask m = mask_of(privs);
    bool existing = mode != 1;

    if (existing && !rg_usercfg_user(u, userid)) {
        rg_reply_error(c, 404, "no such user ('%s')", userid);
        return 0;
    }
    if (rg_perm_check(u, c->userid, "/access/groups", m, true))
        return 1;
    if (mode != 0) { /* create and update name their groups */
        struct rg_strlist gl;
        if (rg_split_list(groups, RG_LIST_MAX_ITEMS, &gl) != RG_OK) {
            rg_reply_error(c, 400, "parameter verification failed: groups: too many items");
            return 0;
        }
        if (gl.n == 0) {
            rg_strlist_free(&gl);
            deny(c, "/access/groups", privs, true);
            return 0;
        }
        for (size_t i = 0; i < gl.n; i++) {
            if (!on_group(c, gl.items[i], m)) {
                char path[RG_ACL_PATH_MAX + 1];
                snprintf(path, sizeof path, "/access/groups/%.200s", gl.items[i]);
                rg_strlist_free(&gl);
                deny(c, path, privs, true);
                return 0;
            }
        }
        rg_strlist_free(&gl);
    }
    if (existing) {
        /* the target must be a member of a group the caller holds privs on */
        for (size_t i = 0; i < u->ngroups; i++)
            if (rg_group_has_member(&u->groups[i], userid) && on_group(c, u->groups[i].id, m))
                return 1;
        deny(c, "/access/groups", privs, true);
        return 0;
    }
    return 1;
}

void rg_api_reply_err(struct rg_call *c, rg_err e, const struct rg_msg *msg)
{
    const char *text = msg && msg->text[0] ? msg->text : rg_err_str(e);
    int status;

    /* a refused request is the client's to fix: 4xx by kind (Proxmox answers 500 for most) */
    switch (e) {
    case RG_ERR_INVALID:
    case RG_ERR_LIMIT:
    case RG_ERR_EXISTS:
    case RG_ERR_CONFIG:
        status = 400;
        break;
    case RG_ERR_NOTFOUND:
        status = 404;
        break;
    case RG_ERR_DENIED:
        status = 403;
        break;
    case RG_ERR_BUSY:
        status = 503;
        break;
    default:
        status = 500;
    }
    rg_reply_error(c, status, "%s", text);
}

static int bad(struct rg_call *c, const char *name, const char *why)
{
    rg_reply_error(c, 400, "parameter verification failed: %s: %s", name, why);
    return -1;
}

int rg_api_bool(struct rg_call *c, const char *name, int dflt, int *out)
{
    const char *v = rg_http_param(c->req, name);
    static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no",
                                                                                "false", "off"};

    *out = dflt;
    if (!v)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(v, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return bad(c, name, "type check ('boolean') failed");
}

int rg_api_uint(struct rg_call *c, const char *name, int64_t dflt, int64_t *out)
{
    const char *v = rg_http_param(c->req, name);
    int64_t n = 0;

    *out = dflt;
    if (!v)
        return 0;
    if (!*v || strlen(v) > 16)
        return bad(c, name, "type check ('integer') failed");
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return bad(c, name, "type check ('integer') failed");
        n = n * 10 + (*p - '0');
    }
    if (n > ((int64_t)1 << 53))
        return bad(c, name, "value too large");
    *out = n;
    return 0;
}

int rg_api_str(struct rg_call *c, const char *name, size_t max, const char **out)
{
    const char *v = rg_http_param(c->req, name);

    *out = v;
    if (v && strlen(v) > max) {
        char why[64];
        snprintf(why, sizeof why, "value may only be %zu characters long", max);
        return bad(c, name, why);
    }
    return 0;
}

int rg_api_required(struct rg_call *c, const char *name, size_t max, const char **out)
{
    if (rg_api_str(c, name, max, out))
        return -1;
    if (!*out || !**out)
        return bad(c, name, "property is missing and it is not optional");
    return 0;
}
