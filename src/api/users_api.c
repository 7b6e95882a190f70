/* users_api.c — /access/users, /access/users/{userid}/token[/{tokenid}], /access/password.
 *
 * Paths, parameters and privilege checks of Proxmox VE (spec §5.11, §7; PVE's Users.pm and
 * AccessControl.pm):
 *   GET    /access/users                 everyone; lists users the caller may see (User.Modify
 *                                         on /access/groups, User.Modify|Sys.Audit on a group
 *                                         of the user, or the caller itself); `enabled` filters,
 *                                         `full` adds `groups` (comma list) and `tokens`
 *   POST   /access/users                 Realm.AllocateUser on /access/realm/<realm> and
 *                                         User.Modify on the given groups (or /access/groups)
 *   GET    /access/users/{userid}        User.Modify|Sys.Audit (userid-group)
 *   PUT    /access/users/{userid}        User.Modify (userid-group, groups checked too)
 *   DELETE /access/users/{userid}        Realm.AllocateUser + User.Modify; also removes the
 *                                         user's tokens (and their secrets), group
 *                                         memberships, ACL entries and pve-realm password
 *   .../token[/{tokenid}]                the user itself, or User.Modify (userid-group)
 *   PUT    /access/password              the user itself, or Realm.AllocateUser + User.Modify;
 *                                         confirmation-password (the caller's own password)
 *                                         unless the caller is root@pam; never with a token.
 * Changes go through the store's locked read-modify-write (store.h), so they are safe against
 * concurrent requests and CLI runs. Token secrets are returned once and stored hashed
 * (tokens.h). PUT .../token/{tokenid} with regenerate=1 replies like POST ({info, value,
 * full-tokenid}); otherwise it replies with the token's info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/perm.h"
#include "access/tokens.h"
#include "api/api_util.h"
#include "base/log.h"
#include "base/mem.h"

#define PW_MIN 8
#define PW_MAX 64

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && v[0])
        json_object_set_new(o, k, json_string(v));
}

static json_t *token_info(const struct rg_token *t, int with_id)
{
    char uid[RG_USERID_MAX + 1], name[RG_TOKENNAME_MAX + 1];
    json_t *o = json_object();

    if (with_id && rg_tokenid_split(t->id, uid, name) == RG_OK)
        json_object_set_new(o, "tokenid", json_string(name));
    json_object_set_new(o, "expire", json_integer(t->expire));
    json_object_set_new(o, "privsep", json_integer(t->privsep));
    set_str(o, "comment", t->comment);
    return o;
}

static char *groups_csv(const struct rg_usercfg *u, const char *userid)
{
    struct rg_strlist g;
    struct rg_buf b;

    rg_buf_init(&b, 1 << 20);
    if (rg_usercfg_user_groups(u, userid, &g) == RG_OK) {
        for (size_t k = 0; k < g.n; k++)
            rg_buf_appendf(&b, "%s%s", k ? "," : "", g.items[k]);
        rg_strlist_free(&g);
    }
    return rg_buf_steal(&b);
}

/* The caller may see userid in the list (PVE: filter_groups + group_member_join). */
static bool may_see(const struct rg_call *c, const char *userid)
{
    const struct rg_usercfg *u = &c->snap->users;

    if (!strcmp(userid, c->userid))
        return true;
    for (size_t i = 0; i < u->ngroups; i++) {
        char path[RG_ACL_PATH_MAX + 1];
        if (!rg_group_has_member(&u->groups[i], userid))
            continue;
        snprintf(path, sizeof path, "/access/groups/%s", u->groups[i].id);
        if (rg_api_has(c, path, "User.Modify,Sys.Audit", true))
            return true;
    }
    return false;
}

void rg_h_users_list(struct rg_call *c)
{
    const struct rg_usercfg *u = &c->snap->users;
    int full, enabled;
    bool all;
    json_t *list;

    if (rg_api_bool(c, "full", 0, &full) || rg_api_bool(c, "enabled", -1, &enabled))
        return;
    all = rg_api_has(c, "/access/groups", "User.Modify", false);
    list = json_array();
    for (size_t i = 0; i < u->nusers; i++) {
        const struct rg_user *usr = &u->users[i];
        char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
        const struct rg_realm *r;
        json_t *o;

        if (!all && !may_see(c, usr->id))
            continue;
        if (enabled >= 0 && usr->enable != enabled)
            continue;
        o = json_object();
        json_object_set_new(o, "userid", json_string(usr->id));
        json_object_set_new(o, "enable", json_integer(usr->enable));
        json_object_set_new(o, "expire", json_integer(usr->expire));
        set_str(o, "firstname", usr->firstname);
        set_str(o, "lastname", usr->lastname);
        set_str(o, "email", usr->email);
        set_str(o, "comment", usr->comment);
        set_str(o, "keys", usr->keys);
        if (rg_userid_split(usr->id, name, realm) == RG_OK &&
            (r = rg_domains_find(&c->snap->domains, realm)))
            json_object_set_new(o, "realm-type", json_string(r->type));
        if (full) {
            char *g = groups_csv(u, usr->id);
            json_t *toks = json_array();
            set_str(o, "groups", g);
            free(g);
            for (size_t k = 0; k < usr->ntokens; k++)
                json_array_append_new(toks, token_info(&usr->tokens[k], 1));
            json_object_set_new(o, "tokens", toks);
        }
        json_array_append_new(list, o);
    }
    rg_reply_data(c, list);
}

/* ---------------------------------------------------------------- create / update / delete */

static const char *const user_keys[] = {"enable", "expire", "firstname", "lastname", "email",
                                        "comment", "keys", "groups", NULL};

/* Copies the user options present in the request, with their API length limits. */
static int user_opts(struct rg_call *c, struct rg_params *opts)
{
    static const size_t max[] = {8, 20, RG_USER_NAME_MAX, RG_USER_NAME_MAX, RG_USER_EMAIL_MAX,
                                 RG_USER_COMMENT_MAX, 4096, 64 * 1024};
    rg_params_init(opts);
    for (size_t i = 0; user_keys[i]; i++) {
        const char *v;
        int b;
        int64_t n;
        if (rg_api_str(c, user_keys[i], max[i], &v))
            goto fail;
        if (!v)
            continue;
        if (!strcmp(user_keys[i], "enable")) {
            if (rg_api_bool(c, "enable", 1, &b))
                goto fail;
            v = b ? "1" : "0";
        } else if (!strcmp(user_keys[i], "expire") && rg_api_uint(c, "expire", 0, &n)) {
            goto fail;
        }
        if (rg_params_add(opts, user_keys[i], v)) {
            rg_reply_error(c, 500, "out of memory");
            goto fail;
        }
    }
    return 0;
fail:
    rg_params_free(opts);
    return -1;
}

struct user_edit {
    const char *id;
    const struct rg_params *opts;
    int op; /* 0 add, 1 modify, 2 delete */
};

static rg_err user_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct user_edit *u = ctx;

    if (u->op == 0)
        return rg_usercfg_user_add(cfg, u->id, u->opts, msg);
    if (u->op == 1)
        return rg_usercfg_user_modify(cfg, u->id, u->opts, msg);
    return rg_usercfg_user_delete(cfg, u->id, msg);
}

/* The user's realm must exist; with a password it must be able to store one. */
static int check_realm(struct rg_call *c, const char *userid, int with_password)
{
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
    const struct rg_realm *r;

    if (rg_userid_split(userid, name, realm) != RG_OK) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return -1;
    }
    if (!(r = rg_domains_find(&c->snap->domains, realm))) {
        rg_reply_error(c, 404, "domain '%s' does not exist", realm);
        return -1;
    }
    if (with_password && strcmp(r->type, "pve") != 0) {
        rg_reply_error(c, 400, "can't set password on auth type '%s'", r->type);
        return -1;
    }
    return 0;
}

static int password_param(struct rg_call *c, const char *name, int required, const char **out)
{
    const char *pw = rg_http_param(c->req, name);
    size_t n = pw ? strlen(pw) : 0;

    *out = pw;
    if (!pw && !required)
        return 0;
    if (!pw || n < PW_MIN || n > PW_MAX) {
        rg_reply_error(c, 400, "parameter verification failed: %s: %s", name,
                       !pw ? "property is missing and it is not optional"
                           : "value must have 8 to 64 characters");
        return -1;
    }
    return 0;
}

void rg_h_user_create(struct rg_call *c)
{
    const char *userid, *pw;
    struct rg_params opts;
    struct rg_msg msg = {{0}};
    struct user_edit ed;
    rg_err e;

    if (rg_api_required(c, "userid", RG_USERID_MAX, &userid))
        return;
    if (!rg_userid_check(userid)) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return;
    }
    if (password_param(c, "password", 0, &pw))
        return;
    if (!rg_api_require_realm_user(c, userid) ||
        !rg_api_require_userid_group(c, userid, "User.Modify", 1,
                                     rg_http_param(c->req, "groups")))
        return;
    if (check_realm(c, userid, pw != NULL) || user_opts(c, &opts))
        return;
    ed = (struct user_edit){userid, &opts, 0};
    e = rg_store_update_usercfg(c->api->store, user_apply, &ed, &msg);
    rg_params_free(&opts);
    if (!e && pw && (e = rg_store_set_password(c->api->store, userid, pw, &msg))) {
        struct rg_msg m2 = {{0}};
        ed.op = 2; /* no user without the password that was asked for */
        rg_store_update_usercfg(c->api->store, user_apply, &ed, &m2);
    }
    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("user %s created by %s", userid, c->userid);
    rg_reply_data(c, NULL);
}

void rg_h_user_read(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    const struct rg_user *usr;
    struct rg_strlist g;
    json_t *o, *groups, *toks;

    if (!rg_api_require_userid_group(c, userid, "User.Modify,Sys.Audit", 0, NULL))
        return;
    usr = rg_usercfg_user(&c->snap->users, userid);
    o = json_object();
    json_object_set_new(o, "enable", json_integer(usr->enable));
    json_object_set_new(o, "expire", json_integer(usr->expire));
    set_str(o, "firstname", usr->firstname);
    set_str(o, "lastname", usr->lastname);
    set_str(o, "email", usr->email);
    set_str(o, "comment", usr->comment);
    set_str(o, "keys", usr->keys);
    groups = json_array();
    if (rg_usercfg_user_groups(&c->snap->users, userid, &g) == RG_OK) {
        for (size_t k = 0; k < g.n; k++)
            json_array_append_new(groups, json_string(g.items[k]));
        rg_strlist_free(&g);
    }
    json_object_set_new(o, "groups", groups);
    toks = json_object();
    for (size_t k = 0; k < usr->ntokens; k++) {
        const char *name = strrchr(usr->tokens[k].id, '!');
        json_object_set_new(toks, name ? name + 1 : usr->tokens[k].id,
                            token_info(&usr->tokens[k], 0));
    }
    json_object_set_new(o, "tokens", toks);
    rg_reply_data(c, o);
}

void rg_h_user_update(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid"), *groups = rg_http_param(c->req, "groups");
    struct rg_params opts;
    struct rg_msg msg = {{0}};
    struct user_edit ed;
    int append;
    rg_err e;

    if (rg_api_bool(c, "append", 0, &append))
        return;
    if (append && (!groups || !*groups)) {
        rg_reply_error(c, 400, "parameter verification failed: append: requires option 'groups'");
        return;
    }
    if (!rg_api_require_userid_group(c, userid, "User.Modify", 2, groups) || user_opts(c, &opts))
        return;
    if (append && rg_params_add(&opts, "append", "1")) {
        rg_params_free(&opts);
        rg_reply_error(c, 500, "out of memory");
        return;
    }
    ed = (struct user_edit){userid, &opts, 1};
    e = rg_store_update_usercfg(c->api->store, user_apply, &ed, &msg);
    rg_params_free(&opts);
    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_reply_data(c, NULL);
}

void rg_h_user_delete(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    struct rg_msg msg = {{0}};
    struct user_edit ed = {userid, NULL, 2};
    rg_err e;

    if (!rg_userid_check(userid)) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return;
    }
    if (!rg_api_require_realm_user(c, userid) ||
        !rg_api_require_userid_group(c, userid, "User.Modify", 0, NULL))
        return;
    e = rg_store_update_usercfg(c->api->store, user_apply, &ed, &msg);
    if (!e)
        e = rg_tokens_delete_user(c->api->store, userid, &msg);
    if (!e)
        e = rg_store_delete_password(c->api->store, userid, &msg);
    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("user %s deleted by %s", userid, c->userid);
    rg_reply_data(c, NULL);
}

/* ---------------------------------------------------------------- tokens */

/* PVE: ['or', ['userid-param', 'self'], ['userid-group', ['User.Modify']]]. */
static int token_access(struct rg_call *c, const char *userid)
{
    if (!rg_usercfg_user(&c->snap->users, userid)) {
        rg_reply_error(c, 404, "no such user ('%s')", userid);
        return 0;
    }
    if (!strcmp(c->userid, userid))
        return 1;
    return rg_api_require_userid_group(c, userid, "User.Modify", 0, NULL);
}

/* Builds the full token id from the path; replies 400 on a bad name. */
static int full_tokenid(struct rg_call *c, char out[RG_TOKENID_MAX + 1])
{
    const char *userid = rg_call_pathp(c, "userid"), *name = rg_call_pathp(c, "tokenid");

    if (!rg_tokenname_check(name)) {
        rg_reply_error(c, 400, "parameter verification failed: tokenid: invalid format");
        return -1;
    }
    snprintf(out, RG_TOKENID_MAX + 1, "%s!%s", userid, name);
    return 0;
}

void rg_h_tokens_list(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    const struct rg_user *usr;
    json_t *list;

    if (!token_access(c, userid))
        return;
    usr = rg_usercfg_user(&c->snap->users, userid);
    list = json_array();
    for (size_t k = 0; k < usr->ntokens; k++)
        json_array_append_new(list, token_info(&usr->tokens[k], 1));
    rg_reply_data(c, list);
}

void rg_h_token_read(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    char id[RG_TOKENID_MAX + 1];
    const struct rg_token *t;

    if (!token_access(c, userid) || full_tokenid(c, id))
        return;
    if (!(t = rg_usercfg_token(&c->snap->users, id))) {
        rg_reply_error(c, 404, "no such token '%s' for user '%s'", rg_call_pathp(c, "tokenid"),
                       userid);
        return;
    }
    rg_reply_data(c, token_info(t, 0));
}

struct token_edit {
    const char *id;
    int op; /* 0 add, 1 modify, 2 delete */
    int64_t expire;
    int privsep;
    const char *comment;
    struct rg_token result; /* copy of the metadata after the change (comment not owned) */
    char comment_copy[RG_USER_COMMENT_MAX + 1];
};

static rg_err token_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct token_edit *t = ctx;
    const struct rg_token *now;
    rg_err e;

    if (t->op == 0)
        e = rg_usercfg_token_add(cfg, t->id, t->expire < 0 ? 0 : t->expire, t->privsep,
                                 t->comment, msg);
    else if (t->op == 1)
        e = rg_usercfg_token_modify(cfg, t->id, t->expire, t->privsep, t->comment, msg);
    else
        return rg_usercfg_token_delete(cfg, t->id, msg);
    if (!e && (now = rg_usercfg_token(cfg, t->id))) {
        t->result = *now;
        snprintf(t->comment_copy, sizeof t->comment_copy, "%s", now->comment ? now->comment : "");
        t->result.comment = t->comment_copy;
    }
    return e;
}

static int token_params(struct rg_call *c, struct token_edit *t, int dflt_privsep)
{
    return rg_api_uint(c, "expire", -1, &t->expire) ||
           rg_api_bool(c, "privsep", dflt_privsep, &t->privsep) ||
           rg_api_str(c, "comment", RG_USER_COMMENT_MAX, &t->comment)
               ? -1
               : 0;
}

static void reply_secret(struct rg_call *c, struct token_edit *t, char *secret)
{
    json_t *o = json_object();

    json_object_set_new(o, "info", token_info(&t->result, 0));
    json_object_set_new(o, "value", json_string(secret));
    json_object_set_new(o, "full-tokenid", json_string(t->id));
    rg_wipe(secret, RG_TOKEN_SECRET_LEN + 1);
    rg_reply_data(c, o);
}

void rg_h_token_create(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    char id[RG_TOKENID_MAX + 1], secret[RG_TOKEN_SECRET_LEN + 1];
    struct token_edit t;
    struct rg_msg msg = {{0}};
    rg_err e;

    memset(&t, 0, sizeof t);
    if (!token_access(c, userid) || full_tokenid(c, id) || token_params(c, &t, 1))
        return;
    t.id = id;
    t.op = 0;
    if ((e = rg_store_update_usercfg(c->api->store, token_apply, &t, &msg))) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    if ((e = rg_tokens_generate(c->api->store, id, secret, &msg))) {
        struct rg_msg m2 = {{0}};
        t.op = 2; /* a token without a secret is of no use: take it back */
        rg_store_update_usercfg(c->api->store, token_apply, &t, &m2);
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("API token %s created by %s", id, c->userid);
    reply_secret(c, &t, secret);
}

void rg_h_token_update(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    char id[RG_TOKENID_MAX + 1], secret[RG_TOKEN_SECRET_LEN + 1];
    struct token_edit t;
    struct rg_msg msg = {{0}};
    int regenerate;
    rg_err e;

    memset(&t, 0, sizeof t);
    if (!token_access(c, userid) || full_tokenid(c, id) || token_params(c, &t, -1) ||
        rg_api_bool(c, "regenerate", 0, &regenerate))
        return;
    t.id = id;
    t.op = 1;
    if ((e = rg_store_update_usercfg(c->api->store, token_apply, &t, &msg))) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    if (!regenerate) {
        rg_reply_data(c, token_info(&t.result, 0));
        return;
    }
    if ((e = rg_tokens_generate(c->api->store, id, secret, &msg))) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("API token %s regenerated by %s", id, c->userid);
    reply_secret(c, &t, secret);
}

void rg_h_token_delete(struct rg_call *c)
{
    const char *userid = rg_call_pathp(c, "userid");
    char id[RG_TOKENID_MAX + 1];
    struct token_edit t;
    struct rg_msg msg = {{0}};
    rg_err e;

    memset(&t, 0, sizeof t);
    if (!token_access(c, userid) || full_tokenid(c, id))
        return;
    t.id = id;
    t.op = 2;
    e = rg_store_update_usercfg(c->api->store, token_apply, &t, &msg);
    if (!e)
        e = rg_tokens_delete(c->api->store, id, &msg);
    if (e) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("API token %s deleted by %s", id, c->userid);
    rg_reply_data(c, NULL);
}

/* ---------------------------------------------------------------- password */

void rg_h_password_put(struct rg_call *c)
{
    const char *userid, *pw, *confirm;
    struct rg_msg msg = {{0}};
    rg_err e;

    if (rg_api_required(c, "userid", RG_USERID_MAX, &userid) ||
        password_param(c, "password", 1, &pw) ||
        rg_api_str(c, "confirmation-password", RG_PASSWORD_MAX, &confirm))
        return;
    if (!rg_userid_check(userid)) {
        rg_reply_error(c, 400, "parameter verification failed: userid: invalid format");
        return;
    }
    if (!rg_usercfg_user(&c->snap->users, userid)) {
        rg_reply_error(c, 404, "no such user ('%s')", userid);
        return;
    }
    if (strcmp(c->userid, userid) != 0 &&
        (!rg_api_require_realm_user(c, userid) ||
         !rg_api_require_userid_group(c, userid, "User.Modify", 0, NULL)))
        return;
    if (strcmp(c->userid, "root@pam") != 0) {
        if (!confirm || !*confirm) {
            rg_reply_error(c, 400, "parameter verification failed: confirmation-password: "
                                   "property is missing and it is not optional");
            return;
        }
        if ((e = rg_store_verify_password(c->api->store, c->snap, c->userid, confirm, &msg))) {
            rg_info("password change for %s by %s refused: confirmation failed (%s); rhost=%s",
                    userid, c->userid, msg.text, c->req->remote_ip);
            rg_reply_error(c, 403, "confirmation password is wrong");
            return;
        }
    }
    if ((e = rg_store_set_password(c->api->store, userid, pw, &msg))) {
        rg_api_reply_err(c, e, &msg);
        return;
    }
    rg_info("password of %s changed by %s", userid, c->userid);
    rg_reply_data(c, NULL);
}
