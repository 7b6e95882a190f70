/* groups_api.c — /access/groups and /access/roles (PVE's Group.pm and Role.pm).
 *
 *   GET    /access/groups             everyone; only groups on which the caller has
 *                                     User.Modify, Sys.Audit or Group.Allocate
 *                                     (/access/groups/<g>); {groupid, comment?, users}
 *   POST   /access/groups             Group.Allocate on /access/groups
 *   GET    /access/groups/{groupid}   Sys.Audit or Group.Allocate on /access/groups;
 *                                     {comment?, members: [...]}
 *   PUT    /access/groups/{groupid}   Group.Allocate on /access/groups (comment)
 *   DELETE /access/groups/{groupid}   Group.Allocate on /access/groups (ACL entries go too)
 *   GET    /access/roles              everyone; {roleid, privs, special (1 = built-in)}
 *   GET    /access/roles/{roleid}     everyone; {<priv>: 1, ...}
 *   POST/PUT/DELETE /access/roles...  Sys.Modify on /access; built-in roles are immutable and
 *                                     new ids starting with "PVE" (any case) are refused
 *                                     (rules and messages in usercfg.h).
 * Missing objects are HTTP 500 with PVE's message, as PVE dies with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "base/log.h"

#define PRIVS_PARAM_MAX 4096

struct group_edit {
    const char *id, *comment, *privs;
    int op; /* 0 add, 1 set comment, 2 delete; 10 role add, 11 role modify, 12 role delete */
    int append;
};

static rg_err group_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct group_edit *g = ctx;

    switch (g->op) {
    case 0:
        return rg_usercfg_group_add(cfg, g->id, g->comment, msg);
    case 1:
        return rg_usercfg_group_set_comment(cfg, g->id, g->comment, msg);
    case 2:
        return rg_usercfg_group_delete(cfg, g->id, msg);
    case 10:
        return rg_usercfg_role_add(cfg, g->id, g->privs, msg);
    case 11:
        return rg_usercfg_role_modify(cfg, g->id, g->privs, g->append, msg);
    default:
        return rg_usercfg_role_delete(cfg, g->id, msg);
    }
}

static void run_edit(struct rg_call *c, struct group_edit *g)
{
    struct rg_msg msg = {{0}};
    rg_err e = rg_store_update_usercfg(c->api->store, group_apply, g, &msg);

    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("%s %s %s by %s", g->op >= 10 ? "role" : "group", g->id,
            g->op % 10 == 0 ? "created" : g->op % 10 == 1 ? "updated" : "deleted", c->userid);
    rg_reply_data(c, NULL);
}

static char *members_csv(const struct rg_group *g)
{
    struct rg_buf b;

    rg_buf_init(&b, 1 << 20);
    for (size_t k = 0; k < g->members.n; k++)
        rg_buf_appendf(&b, "%s%s", k ? "," : "", g->members.items[k]);
    return rg_buf_steal(&b);
}

void rg_h_groups_list(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    json_t *list = json_array();

    for (size_t i = 0; i < u->ngroups; i++) {
        const struct rg_group *g = &u->groups[i];
        char path[RG_ACL_PATH_MAX + 1], *csv;
        json_t *o;

        snprintf(path, sizeof path, "/access/groups/%s", g->id);
        if (!rg_api_has(c, path, "User.Modify,Sys.Audit,Group.Allocate", true))
            continue;
        o = json_object();
        json_object_set_new(o, "groupid", json_string(g->id));
        if (g->comment && g->comment[0])
            json_object_set_new(o, "comment", json_string(g->comment));
        csv = members_csv(g);
        json_object_set_new(o, "users", json_string(csv ? csv : ""));
        free(csv);
        json_array_append_new(list, o);
    }
    rg_reply_data(c, list);
}

void rg_h_group_create(struct rg_call *c)
{
    struct group_edit g = {0};

    if (rg_api_required(c, "groupid", RG_GROUPID_MAX, &g.id) ||
        rg_api_str(c, "comment", RG_USER_COMMENT_MAX, &g.comment))
        return;
    if (!rg_groupid_check(g.id)) {
        rg_reply_error(c, 400, "parameter verification failed: groupid: invalid format");
        return;
    }
    if (!rg_api_require(c, "/access/groups", "Group.Allocate", false))
        return;
    g.op = 0;
    run_edit(c, &g);
}

void rg_h_group_read(struct rg_call *c)
{
    const char *id = rg_call_pathp(c, "groupid");
    const struct rg_group *g;
    json_t *o, *members;

    if (!rg_api_require(c, "/access/groups", "Sys.Audit,Group.Allocate", true))
        return;
    if (!(g = rg_usercfg_group(&c->snap->users, id))) {
        rg_reply_error(c, 404, "group '%s' does not exist", id);
        return;
    }
    o = json_object();
    if (g->comment && g->comment[0])
        json_object_set_new(o, "comment", json_string(g->comment));
    members = json_array();
    for (size_t k = 0; k < g->members.n; k++)
        json_array_append_new(members, json_string(g->members.items[k]));
    json_object_set_new(o, "members", members);
    rg_reply_data(c, o);
}

void rg_h_group_update(struct rg_call *c)
{
    struct group_edit g = {0};

    g.id = rg_call_pathp(c, "groupid");
    if (rg_api_str(c, "comment", RG_USER_COMMENT_MAX, &g.comment) ||
        !rg_api_require(c, "/access/groups", "Group.Allocate", false))
        return;
    g.op = 1;
    run_edit(c, &g);
}

void rg_h_group_delete(struct rg_call *c)
{
    struct group_edit g = {0};

    g.id = rg_call_pathp(c, "groupid");
    if (!rg_api_require(c, "/access/groups", "Group.Allocate", false))
        return;
    g.op = 2;
    run_edit(c, &g);
}

/* ---------------------------------------------------------------- roles */

static json_t *role_row(const char *id, rg_privmask privs, int special)
{
    json_t *o = json_object();
    struct rg_buf b;

    rg_buf_init(&b, 4096);
    rg_privmask_join(privs, ",", &b);
    json_object_set_new(o, "roleid", json_string(id));
    json_object_set_new(o, "privs", json_string(b.data ? b.data : ""));
    if (special)
        json_object_set_new(o, "special", json_integer(1));
    rg_buf_free(&b);
    return o;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "roleid")),
                  json_string_value(json_object_get(*(json_t *const *)b, "roleid")));
}

void rg_h_roles_list(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    size_t nb, n = 0;
    const struct rg_builtin_role *b = rg_builtin_roles(&nb);
    json_t **rows = calloc(nb + u->nroles + 1, sizeof *rows), *list;

    if (!rows) {
        rg_reply_error(c, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < nb; i++)
        rows[n++] = role_row(b[i].id, b[i].privs, 1);
    for (size_t i = 0; i < u->nroles; i++)
        if (!rg_builtin_role_find(u->roles[i].id)) /* built-ins win over same-named lines */
            rows[n++] = role_row(u->roles[i].id, u->roles[i].privs, 0);
    qsort(rows, n, sizeof *rows, cmp_row);
    list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, rows[i]);
    free(rows);
    rg_reply_data(c, list);
}

void rg_h_role_read(struct rg_call *c)
{
    const char *id = rg_call_pathp(c, "roleid");
    rg_privmask m;
    json_t *o;

    if (!rg_usercfg_role_privs(&c->snap->users, id, &m)) {
        rg_reply_error(c, 404, "role '%s' does not exist", id);
        return;
    }
    o = json_object();
    for (unsigned i = 0; i < RG_PRIV_COUNT; i++)
        if (m & ((rg_privmask)1 << i))
            json_object_set_new(o, rg_priv_name(i), json_integer(1));
    rg_reply_data(c, o);
}

void rg_h_role_create(struct rg_call *c)
{
    struct group_edit g = {0};

    if (rg_api_required(c, "roleid", RG_ROLEID_MAX, &g.id) ||
        rg_api_str(c, "privs", PRIVS_PARAM_MAX, &g.privs))
        return;
    if (!rg_roleid_check(g.id)) {
        rg_reply_error(c, 400, "parameter verification failed: roleid: invalid format");
        return;
    }
    if (!rg_api_require(c, "/access", "Sys.Modify", false))
        return;
    g.op = 10;
    run_edit(c, &g);
}

void rg_h_role_update(struct rg_call *c)
{
    struct group_edit g = {0};

    g.id = rg_call_pathp(c, "roleid");
    if (rg_api_str(c, "privs", PRIVS_PARAM_MAX, &g.privs) ||
        rg_api_bool(c, "append", 0, &g.append) ||
        !rg_api_require(c, "/access", "Sys.Modify", false))
        return;
    g.op = 11;
    run_edit(c, &g);
}

void rg_h_role_delete(struct rg_call *c)
{
    struct group_edit g = {0};

    g.id = rg_call_pathp(c, "roleid");
    if (!rg_api_require(c, "/access", "Sys.Modify", false))
        return;
    g.op = 12;
    run_edit(c, &g);
}
