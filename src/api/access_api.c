/* access_api.c — /access/domains, /access/ticket, /access/permissions, /access/acl.
 *
 * Semantics follow Proxmox (spec §2.5, §4.1, §5.8, §5.9). Login failures answer 401
 * "authentication failure"; the log line names the reason
 * ("authentication failure; rhost=<ip> user=<id> msg=<reason>"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/perm.h"
#include "access/ticket.h"
#include "api/call.h"
#include "api/login.h"
#include "base/log.h"
#include "base/mem.h"

#define USERNAME_PARAM_MAX 64
#define PASSWORD_PARAM_MAX 4096

void rg_h_domains(struct rg_call *c)
{
    const struct rg_domains *d = &c->snap->domains;
    json_t *list = json_array();

    for (size_t i = 0; i < d->n; i++) {
        const struct rg_realm *r = &d->realms[i];
        json_t *o = json_object();
        json_object_set_new(o, "realm", json_string(r->id));
        json_object_set_new(o, "type", json_string(r->type));
        if (r->comment)
            json_object_set_new(o, "comment", json_string(r->comment));
        if (r->is_default)
            json_object_set_new(o, "default", json_integer(1));
        json_array_append_new(list, o);
    }
    rg_reply_data(c, list);
}

void rg_h_ticket_get(struct rg_call *c)
{
    rg_reply_data(c, NULL);
}

/* Renewal: a valid ticket of the same user (or of root@pam) stands in for the password. */
static int is_renewal(struct rg_call *c, const char *userid, const char *password)
{
    char *tuser = NULL;
    int ok = 0;

    if (strncmp(password, "PVE:", 4) != 0)
        return 0;
    if (rg_login_ticket_verify(c->snap->ticket_pub, password, time(NULL), &tuser) == RG_OK)
        ok = strcmp(tuser, userid) == 0 || strcmp(tuser, "root@pam") == 0;
    free(tuser);
    return ok;
}

void rg_h_ticket_post(struct rg_call *c)
{
    const char *username = rg_http_param(c->req, "username");
    const char *realm = rg_http_param(c->req, "realm");
    const char *password = rg_http_param(c->req, "password");
    struct rg_msg msg = {{0}};
    char userid[RG_USERID_MAX + 2 + RG_REALMID_MAX];
    rg_err e;

    if (!username || !password || !*username) {
        rg_reply_error(c, 400, "parameter verification failed: username and password are required");
        return;
    }
    if (strlen(username) > USERNAME_PARAM_MAX || strlen(password) > PASSWORD_PARAM_MAX ||
        (realm && strlen(realm) > RG_REALMID_MAX)) {
        rg_reply_error(c, 400, "parameter verification failed: value too long");
        return;
    }
    if (realm && *realm)
        snprintf(userid, sizeof userid, "%s@%s", username, realm);
    else
        snprintf(userid, sizeof userid, "%s", username);
    if (!rg_userid_check(userid)) {
        rg_info("authentication failure; rhost=%s msg=invalid user id", c->req->remote_ip);
        rg_reply_auth_failure(c);
        return;
    }
    if (is_renewal(c, userid, password))
        e = RG_OK;
    else
        e = rg_store_verify_password(c->api->store, c->snap, userid, password, &msg);
    if (!e)
        e = rg_usercfg_check_user(&c->snap->users, userid, time(NULL), &msg);
    if (e) {
        rg_info("authentication failure; rhost=%s user=%s msg=%s", c->req->remote_ip, userid,
                msg.text[0] ? msg.text : rg_err_str(e));
        rg_reply_auth_failure(c);
        return;
    }
    rg_reply_login(c, c->snap, userid);
}

void rg_h_permissions(struct rg_call *c)
{
    const char *userid = rg_http_param(c->req, "userid");
    const char *path = rg_http_param(c->req, "path");
    const struct rg_usercfg *u = &c->snap->users;
    json_t *out = NULL;
    rg_err e;

    if (!userid || !*userid) {
        userid = c->userid;
    } else if (strcmp(userid, c->userid) != 0 &&
               !rg_perm_check(u, c->userid, "/access", rg_priv_bit("Sys.Audit"), false)) {
        rg_reply_error(c, 403, "Permission check failed (/access, Sys.Audit)");
        return;
    }
    if (!rg_userid_check(userid) && !rg_tokenid_check(userid)) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return;
    }
    if (path && *path)
        e = rg_perm_path_json(u, userid, path, &out);
    else
        e = rg_perm_all(u, userid, &out);
    if (e) {
        rg_reply_error(c, 400, "parameter verification failed: path: invalid ACL path");
        return;
    }
    rg_reply_data(c, out);
}

void rg_h_acl_get(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    bool auditor = rg_perm_check(u, c->userid, "/access", rg_priv_bit("Sys.Audit"), false);
    json_t *list = json_array();

    for (size_t i = 0; i < u->nacl; i++) {
        const struct rg_acl_entry *a = &u->acl[i];
        json_t *o;
        const char *type = a->ugid[0] == '@' ? "group" : strchr(a->ugid, '!') ? "token" : "user";
        if (!auditor &&
            !rg_perm_check(u, c->userid, a->path, rg_priv_bit("Permissions.Modify"), false))
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

void rg_h_acl_put(struct rg_call *c)
{
    const char *path = rg_http_param(c->req, "path");
    const char *roles = rg_http_param(c->req, "roles");
    const char *prop = rg_http_param(c->req, "propagate");
    const char *del = rg_http_param(c->req, "delete");
    char norm[RG_ACL_PATH_MAX + 1];
    struct rg_msg msg = {{0}};
    rg_err e;

    int remove = del && *del && strcmp(del, "0") != 0;
    if (!path || !roles) {
        rg_reply_error(c, 400, "parameter verification failed: path and roles are required");
        return;
    }
    if (rg_path_normalize(path, norm)) {
        rg_reply_error(c, 400, "parameter verification failed: path: invalid ACL path");
        return;
    }
    /* Changing ACLs needs Permissions.Modify on the path (the finer substitutes of spec §5.7
     * step 7 come with the full access-control API). */
    if (!rg_perm_check(&c->snap->users, c->userid, norm, rg_priv_bit("Permissions.Modify"),
                       false)) {
        rg_reply_error(c, 403, "Permission check failed (%s, Permissions.Modify)", norm);
        return;
    }
    e = rg_store_acl_change(c->api->store, norm, roles, rg_http_param(c->req, "users"),
                            rg_http_param(c->req, "groups"), rg_http_param(c->req, "tokens"),
                            !prop || strcmp(prop, "0") != 0, remove, &msg);
    if (e) {
        rg_reply_error(c, e == RG_ERR_BUSY ? 503 : 400, "%s",
                       msg.text[0] ? msg.text : rg_err_str(e));
        return;
    }
    rg_info("ACL %s on %s by %s", remove ? "removed" : "updated", norm, c->userid);
    rg_reply_data(c, NULL);
}
