/* acl_api.c — GET/PUT /access/acl and GET /access/permissions (spec §5.7 step 7, §5.8, §5.9).
 *
 * "perm-modify" (PVE's check_perm_modify): Permissions.Modify on the path, or the substitute
 * of its subtree — Datastore.Allocate on /storage/<id>..., VM.Allocate on /vms/<id>...,
 * Pool.Allocate on /pool/<id>... (only below the top-level node, as in PVE).
 *
 * GET /access/acl lists entries of paths where the caller has Sys.Audit on /access or passes
 * perm-modify. PUT /access/acl needs perm-modify on the path; a caller without
 * Permissions.Modify there may only add or remove roles whose every privilege the caller holds
 * on that path (propagated, when adding with propagation) and never NoAccess — refused with
 * 400 and PVE's message. GET /access/permissions answers for the caller, a token the caller
 * owns, or (with Sys.Audit on /access for the caller) anyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/perm.h"
#include "api/api_util.h"
#include "base/log.h"

/* The privileges that pass perm-modify on a normalised path, as a comma list. */
static const char *perm_modify_privs(const char *path)
{
    if (!strncmp(path, "/storage/", 9) && path[9])
        return "Permissions.Modify,Datastore.Allocate";
    if (!strncmp(path, "/vms/", 5) && path[5])
        return "Permissions.Modify,VM.Allocate";
    if (!strncmp(path, "/pool/", 6) && path[6])
        return "Permissions.Modify,Pool.Allocate";
    return "Permissions.Modify";
}

void rg_h_access_acl_get(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    bool auditor = rg_api_has(c, "/access", "Sys.Audit", false);
    json_t *list = json_array();
    const char *last_path = NULL;
    bool last_ok = false;

    for (size_t i = 0; i < u->nacl; i++) {
        const struct rg_acl_entry *a = &u->acl[i];
        const char *type = rg_ugid_type(a->ugid);
        json_t *o;

        /* entries are sorted by path: decide once per path */
        if (!last_path || strcmp(last_path, a->path) != 0) {
            last_path = a->path;
            last_ok = auditor || rg_api_has(c, a->path, perm_modify_privs(a->path), true);
        }
        if (!last_ok)
            continue;
        o = json_object();
        json_object_set_new(o, "path", json_string(a->path));
        json_object_set_new(o, "type", json_string(type));
        json_object_set_new(o, "ugid", json_string(a->ugid[0] == '@' ? a->ugid + 1 : a->ugid));
        json_object_set_new(o, "roleid", json_string(a->role));
        json_object_set_new(o, "propagate", json_integer(a->propagate));
        json_array_append_new(list, o);
    }
    rg_reply_data(c, list);
}

/* Spec §5.7 step 7 for a caller without Permissions.Modify on path: 0 = allowed, else
 * replied 400. */
static int check_grantable(struct rg_call *c, const char *path, const char *roles, int propagate,
                           int remove)
{
    const struct rg_usercfg *u = &c->snap->users;
    const char *verb = remove ? "remove" : "add";
    struct rg_privset mine;
    struct rg_strlist rl;
    int rc = 0;

    if (rg_perm_privs(u, c->userid, path, &mine) != RG_OK) {
        rg_reply_error(c, 400, "parameter verification failed: path: invalid ACL path");
        return -1;
    }
    if (rg_split_list(roles, RG_LIST_MAX_ITEMS, &rl) != RG_OK) {
        rg_reply_error(c, 400, "parameter verification failed: roles: too many items");
        return -1;
    }
    for (size_t i = 0; i < rl.n && !rc; i++) {
        const char *role = rl.items[i];
        rg_privmask m;

        if (!strcmp(role, "NoAccess")) {
            rg_reply_error(c, 400,
                           "parameter verification failed: role: Cannot %s role '%s' - "
                           "requires 'Permissions.Modify'",
                           verb, role);
            rc = -1;
        } else if (!rg_usercfg_role_privs(u, role, &m)) {
            continue; /* the edit below reports the unknown role */
        } else if ((m & mine.privs) != m) {
            rg_reply_error(c, 400,
                           "parameter verification failed: role: Cannot %s role '%s' - requires "
                           "'Permissions.Modify' or superset of privileges.",
                           verb, role);
            rc = -1;
        } else if (!remove && propagate && (m & mine.propagate) != m) {
            rg_reply_error(c, 400,
                           "parameter verification failed: role: Cannot %s role '%s' with "
                           "propagation - requires 'Permissions.Modify' or propagated superset "
                           "of privileges.",
                           verb, role);
            rc = -1;
        }
    }
    rg_strlist_free(&rl);
    return rc;
}

void rg_h_access_acl_put(struct rg_call *c)
{
    const char *path, *roles, *users, *groups, *tokens;
    char norm[RG_ACL_PATH_MAX + 1];
    struct rg_msg msg = {{0}};
    int propagate, remove;
    rg_err e;

    if (rg_api_required(c, "path", RG_ACL_PATH_MAX, &path) ||
        rg_api_required(c, "roles", 64 * 1024, &roles) ||
        rg_api_str(c, "users", 64 * 1024, &users) || rg_api_str(c, "groups", 64 * 1024, &groups) ||
        rg_api_str(c, "tokens", 64 * 1024, &tokens) ||
        rg_api_bool(c, "propagate", 1, &propagate) || rg_api_bool(c, "delete", 0, &remove))
        return;
    if (rg_path_normalize(path, norm)) {
        rg_reply_error(c, 400, "parameter verification failed: path: invalid ACL path");
        return;
    }
    if (!rg_api_require(c, norm, perm_modify_privs(norm), true))
        return;
    if (!rg_api_has(c, norm, "Permissions.Modify", false) &&
        check_grantable(c, norm, roles, propagate, remove))
        return;
    e = rg_store_acl_change(c->api->store, norm, roles, users, groups, tokens, propagate, remove,
                            &msg);
    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("ACL %s on %s by %s", remove ? "removed" : "updated", norm, c->userid);
    rg_reply_data(c, NULL);
}

void rg_h_access_permissions(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    const char *userid, *path;
    int is_token;
    json_t *out = NULL;
    rg_err e;

    if (rg_api_str(c, "userid", RG_TOKENID_MAX, &userid) ||
        rg_api_str(c, "path", RG_ACL_PATH_MAX, &path))
        return;
    if (!userid || !*userid)
        userid = c->userid;
    is_token = rg_tokenid_check(userid);
    if (!is_token && !rg_userid_check(userid)) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return;
    }
    if (!rg_perm_may_read_permissions(u, c->userid, userid)) {
        rg_reply_error(c, 403, "Permission check failed (/access, Sys.Audit)");
        return;
    }
    if (is_token ? !rg_usercfg_token(u, userid) : !rg_usercfg_user(u, userid)) {
        if (is_token)
            rg_reply_error(c, 404, "no such token '%s'", userid);
        else
            rg_reply_error(c, 404, "no such user ('%s')", userid);
        return;
    }
    e = path && *path ? rg_perm_path_json(u, userid, path, &out) : rg_perm_all(u, userid, &out);
    if (e) {
        rg_reply_error(c, 400, "parameter verification failed: path: invalid ACL path");
        return;
    }
    rg_reply_data(c, out);
}
