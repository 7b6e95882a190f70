/* access_api.c — GET /access/domains (the login form's realm list) and /access/ticket
 * (password login, renewal with a ticket, and the path/privs verification mode).
 *
 * Semantics follow Proxmox (spec §2.5, §4.1). Login failures answer 401
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

/* Renewal: a valid ticket of the same user (or of root@pam) stands in for the password,
 * unless it was signed out (sessions.h). *parent = the old ticket's time when the new one
 * continues the same user's session, else -1. */
static int is_renewal(struct rg_call *c, const char *userid, const char *password,
                      time_t *parent)
{
    char *tuser = NULL;
    time_t t = 0;
    int ok = 0;

    *parent = -1;
    if (strncmp(password, "PVE:", 4) != 0)
        return 0;
    if (rg_login_ticket_verify(c->snap->ticket_pub, password, time(NULL), &tuser) == RG_OK &&
        rg_ticket_time(password, &t) == RG_OK) {
        ok = strcmp(tuser, userid) == 0 || strcmp(tuser, "root@pam") == 0;
        if (ok && rg_sessions_revoked(c->api->sessions, tuser, t)) {
            rg_info("renewal refused: ticket of '%s' was signed out; rhost=%s", tuser,
                    c->req->remote_ip);
            ok = 0;
        }
        if (ok && strcmp(tuser, userid) == 0)
            *parent = t;
    }
    free(tuser);
    return ok;
}

void rg_h_ticket_post(struct rg_call *c)
{
    const char *username = rg_http_param(c->req, "username");
    const char *realm = rg_http_param(c->req, "realm");
    const char *password = rg_http_param(c->req, "password");
    const char *vpath = rg_http_param(c->req, "path"), *vprivs = rg_http_param(c->req, "privs");
    struct rg_msg msg = {{0}};
    char userid[RG_USERID_MAX + 2 + RG_REALMID_MAX], npath[RG_ACL_PATH_MAX + 1];
    rg_privmask need = 0;
    size_t unknown = 0;
    time_t parent = -1;
    rg_err e;

    if (!username || !password || !*username) {
        rg_reply_error(c, 400, "parameter verification failed: username and password are required");
        return;
    }
    /* verification mode (console proxies): credentials plus privileges on a path */
    if ((vpath != NULL) != (vprivs != NULL)) {
        rg_reply_error(c, 400, "parameter verification failed: 'path' and 'privs' go together");
        return;
    }
    if (vpath && (strlen(vpath) > 64 || strlen(vprivs) > 64 * 32 ||
                  rg_path_normalize(vpath, npath) != RG_OK ||
                  rg_privmask_parse(vprivs, &need, &unknown, NULL) != RG_OK || unknown ||
                  !need)) {
        rg_reply_error(c, 400, "parameter verification failed: invalid 'path' or 'privs'");
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
    if (is_renewal(c, userid, password, &parent))
        e = RG_OK;
    else
        e = rg_store_verify_password_from(c->api->store, c->snap, userid, password,
                                          c->req->remote_ip, &msg);
    if (!e)
        e = rg_usercfg_check_user(&c->snap->users, userid, time(NULL), &msg);
    if (e) {
        rg_info("authentication failure; rhost=%s user=%s msg=%s", c->req->remote_ip, userid,
                msg.text[0] ? msg.text : rg_err_str(e));
        rg_reply_auth_failure(c);
        return;
    }
    if (vpath) {
        if (!rg_perm_check(&c->snap->users, userid, npath, need, false)) {
            rg_info("authentication failure; rhost=%s user=%s msg=privileges '%s' missing on %s",
                    c->req->remote_ip, userid, vprivs, npath);
            rg_reply_auth_failure(c);
            return;
        }
        rg_reply_data(c, json_pack("{s:s}", "username", userid));
        return;
    }
    rg_reply_login_session(c, c->snap, userid, NULL, parent);
}
