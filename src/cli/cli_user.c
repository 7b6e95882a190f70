/* `realmgate user ...`, `realmgate passwd`, `realmgate group ...` (pveum user/passwd/group). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "access/perm.h"
#include "access/tokens.h"
#include "base/mem.h"
#include "cli/cli.h"

#define PW_MIN 8
#define PW_MAX 64

static const struct cli_opt user_opts[] = {
    {"password", CLI_OPT_VALUE}, {"enable", CLI_OPT_BOOL},    {"email", CLI_OPT_VALUE},
    {"firstname", CLI_OPT_VALUE}, {"lastname", CLI_OPT_VALUE}, {"comment", CLI_OPT_VALUE},
    {"groups", CLI_OPT_VALUE},   {"expire", CLI_OPT_VALUE},   {"keys", CLI_OPT_VALUE},
    {NULL, 0},
};

static const struct cli_opt user_modify_opts[] = {
    {"enable", CLI_OPT_BOOL},    {"email", CLI_OPT_VALUE},   {"firstname", CLI_OPT_VALUE},
    {"lastname", CLI_OPT_VALUE}, {"comment", CLI_OPT_VALUE}, {"groups", CLI_OPT_VALUE},
    {"expire", CLI_OPT_VALUE},   {"keys", CLI_OPT_VALUE},    {"append", CLI_OPT_BOOL},
    {NULL, 0},
};

static const struct cli_opt path_opt[] = {{"path", CLI_OPT_VALUE}, {NULL, 0}};
static const struct cli_opt comment_opt[] = {{"comment", CLI_OPT_VALUE}, {NULL, 0}};
static const char *const user_pos[] = {"userid"};
static const char *const group_pos[] = {"groupid"};

static int password_length_ok(const char *pw)
{
    size_t n = strlen(pw);
    if (n < PW_MIN || n > PW_MAX) {
        fprintf(stderr, "password must be %d to %d characters long\n", PW_MIN, PW_MAX);
        return 0;
    }
    return 1;
}

/* The realm of userid must exist; with a password it must be able to store one. */
static rg_err check_realm(struct rg_store *st, const char *userid, int with_password,
                          struct rg_msg *msg)
{
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
    const struct rg_snapshot *s;
    const struct rg_realm *r;
    rg_err e = RG_OK;

    if (rg_userid_split(userid, name, realm) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "invalid user id '%.64s'", userid);
    s = rg_store_acquire(st);
    r = rg_domains_find(&s->domains, realm);
    if (!r)
        e = rg_fail(msg, RG_ERR_NOTFOUND, "domain '%s' does not exist", realm);
    else if (with_password && strcmp(r->type, "pve"))
        e = rg_fail(msg, RG_ERR_CONFIG, "can't set password on auth type '%s'", r->type);
    rg_store_release(s);
    return e;
}

struct user_ctx {
    const char *id;
    const struct rg_params *opts;
    int op; /* 0 add, 1 modify, 2 delete */
};

static rg_err user_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct user_ctx *c = ctx;

    switch (c->op) {
    case 0:
        return rg_usercfg_user_add(cfg, c->id, c->opts, msg);
    case 1:
        return rg_usercfg_user_modify(cfg, c->id, c->opts, msg);
    default:
        return rg_usercfg_user_delete(cfg, c->id, msg);
    }
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && v[0])
        json_object_set_new(o, k, json_string(v));
}

static int user_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"userid", "enable", "expire", "realm-type", "firstname",
                                       "lastname", "email", "groups", "comment", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    json_t *rows = json_array();

    for (size_t i = 0; i < s->users.nusers; i++) {
        const struct rg_user *u = &s->users.users[i];
        char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
        const struct rg_realm *r;
        struct rg_strlist g;
        json_t *o = json_object();

        json_object_set_new(o, "userid", json_string(u->id));
        json_object_set_new(o, "enable", json_integer(u->enable));
        json_object_set_new(o, "expire", json_integer(u->expire));
        if (rg_userid_split(u->id, name, realm) == RG_OK &&
            (r = rg_domains_find(&s->domains, realm)))
            json_object_set_new(o, "realm-type", json_string(r->type));
        set_str(o, "firstname", u->firstname);
        set_str(o, "lastname", u->lastname);
        set_str(o, "email", u->email);
        set_str(o, "comment", u->comment);
        if (rg_usercfg_user_groups(&s->users, u->id, &g) == RG_OK) {
            struct rg_buf b;
            rg_buf_init(&b, 1 << 20);
            for (size_t k = 0; k < g.n; k++)
                rg_buf_appendf(&b, "%s%s", k ? "," : "", g.items[k]);
            set_str(o, "groups", b.data);
            rg_buf_free(&b);
            rg_strlist_free(&g);
        }
        json_array_append_new(rows, o);
    }
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

static int user_permissions(const struct cli_args *a, struct rg_store *st)
{
    const struct rg_snapshot *s = rg_store_acquire(st);
    const char *path = rg_params_get(&a->opts, "path");
    json_t *res = NULL;
    rg_err e;

    if (!rg_userid_check(a->pos[0]) && !rg_tokenid_check(a->pos[0])) {
        rg_store_release(s);
        fprintf(stderr, "invalid user or token id '%.64s'\n", a->pos[0]);
        return CLI_EXIT_FAIL;
    }
    e = path ? rg_perm_path_json(&s->users, a->pos[0], path, &res)
             : rg_perm_all(&s->users, a->pos[0], &res);
    rg_store_release(s);
    if (e) {
        fprintf(stderr, "%s\n", e == RG_ERR_INVALID ? "invalid path" : rg_err_str(e));
        return CLI_EXIT_FAIL;
    }
    if (a->format == CLI_FMT_TEXT) {
        const char *p;
        json_t *privs;
        json_object_foreach(res, p, privs)
        {
            const char *priv;
            json_t *prop;
            printf("%s\n", p);
            json_object_foreach(privs, priv, prop)
                printf("\t%s (%lld)\n", priv, (long long)json_integer_value(prop));
        }
    } else {
        cli_print_json(res, a->format);
    }
    json_decref(res);
    return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- user token (pveum) */

static const struct cli_opt token_opts[] = {
    {"privsep", CLI_OPT_BOOL}, {"expire", CLI_OPT_VALUE}, {"comment", CLI_OPT_VALUE},
    {"regenerate", CLI_OPT_BOOL}, {NULL, 0},
};
static const char *const token_pos[] = {"userid", "tokenid"};

struct token_ctx {
    const char *id;
    int op; /* 0 add, 1 modify, 2 remove */
    int64_t expire;         /* -1 = unchanged / default */
    int privsep;            /* -1 = unchanged */
    const char *comment;    /* NULL = unchanged */
    struct rg_token result; /* metadata after the change; comment points into comment_copy */
    char comment_copy[RG_USER_COMMENT_MAX + 1];
};

static rg_err token_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct token_ctx *t = ctx;
    const struct rg_token *now;
    rg_err e;

    if (t->op == 2)
        return rg_usercfg_token_delete(cfg, t->id, msg);
    if (t->op == 0)
        e = rg_usercfg_token_add(cfg, t->id, t->expire < 0 ? 0 : t->expire,
                                 t->privsep < 0 ? 1 : t->privsep, t->comment, msg);
    else
        e = rg_usercfg_token_modify(cfg, t->id, t->expire, t->privsep, t->comment, msg);
    if (!e && (now = rg_usercfg_token(cfg, t->id))) {
        t->result = *now;
        snprintf(t->comment_copy, sizeof t->comment_copy, "%s", now->comment ? now->comment : "");
        t->result.comment = t->comment_copy;
    }
    return e;
}

static json_t *token_json(const struct rg_token *t, int with_name)
{
    json_t *o = json_object();
    const char *bang = strrchr(t->id, '!');

    if (with_name)
        json_object_set_new(o, "tokenid", json_string(bang ? bang + 1 : t->id));
    json_object_set_new(o, "expire", json_integer(t->expire));
    json_object_set_new(o, "privsep", json_integer(t->privsep));
    set_str(o, "comment", t->comment);
    return o;
}

/* Prints an object: text = a key/value table (pveum's layout), json = the object. */
static void print_object(json_t *obj, enum cli_format fmt)
{
    static const char *const cols[] = {"key", "value", NULL};
    const char *k;
    json_t *v, *rows;

    if (fmt != CLI_FMT_TEXT) {
        cli_print_json(obj, fmt);
        return;
    }
    rows = json_array();
    json_object_foreach(obj, k, v)
    {
        json_t *row = json_object();
        json_object_set_new(row, "key", json_string(k));
        json_object_set(row, "value", v);
        json_array_append_new(rows, row);
    }
    cli_print_table(rows, cols, fmt);
    json_decref(rows);
}

static int token_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"tokenid", "expire", "privsep", "comment", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    const struct rg_user *u = rg_usercfg_user(&s->users, a->pos[0]);
    json_t *rows;

    if (!u) {
        rg_store_release(s);
        fprintf(stderr, "no such user ('%.64s')\n", a->pos[0]);
        return CLI_EXIT_FAIL;
    }
    rows = json_array();
    for (size_t k = 0; k < u->ntokens; k++)
        json_array_append_new(rows, token_json(&u->tokens[k], 1));
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

/* Option values of token add/modify; CLI_EXIT_USAGE on a bad value. */
static int token_values(const struct cli_args *a, struct token_ctx *t, int *regenerate)
{
    const char *p = rg_params_get(&a->opts, "privsep"), *x = rg_params_get(&a->opts, "expire");
    const char *r = rg_params_get(&a->opts, "regenerate");

    t->privsep = -1;
    t->expire = -1;
    t->comment = rg_params_get(&a->opts, "comment");
    *regenerate = 0;
    if (p) {
        if (strcmp(p, "0") && strcmp(p, "1")) {
            fprintf(stderr, "--privsep: expected 0 or 1\n");
            return CLI_EXIT_USAGE;
        }
        t->privsep = p[0] == '1';
    }
    if (r) {
        if (strcmp(r, "0") && strcmp(r, "1")) {
            fprintf(stderr, "--regenerate: expected 0 or 1\n");
            return CLI_EXIT_USAGE;
        }
        *regenerate = r[0] == '1';
    }
    if (x) {
        size_t n = strlen(x);
        if (n == 0 || n > 16 || strspn(x, "0123456789") != n) {
            fprintf(stderr, "--expire: expected seconds since the epoch (0 = never)\n");
            return CLI_EXIT_USAGE;
        }
        t->expire = strtoll(x, NULL, 10);
    }
    return CLI_EXIT_OK;
}

/* Token option values and --regenerate's place are usage errors, found before the store. */
static int token_check(struct cli_args *a, const char *usage)
{
    struct token_ctx t;
    int regenerate, rc;

    if (!strcmp(a->cmd, "add") && rg_params_get(&a->opts, "regenerate"))
        return cli_usage_error(usage, "option '--regenerate' is only for 'modify'");
    if ((rc = token_values(a, &t, &regenerate)))
        fprintf(stderr, "usage: %s\n", usage);
    return rc;
}

static int token_change(const struct cli_args *a, struct rg_store *st)
{
    const char *cmd = a->cmd;
    char id[RG_TOKENID_MAX + 1], secret[RG_TOKEN_SECRET_LEN + 1];
    struct token_ctx t;
    struct rg_msg msg = {{0}};
    int regenerate, rc;
    json_t *out;
    rg_err e;

    memset(&t, 0, sizeof t);
    if (!rg_userid_check(a->pos[0])) {
        fprintf(stderr, "invalid user id '%.64s'\n", a->pos[0]);
        return CLI_EXIT_FAIL;
    }
    if (!rg_tokenname_check(a->pos[1])) {
        fprintf(stderr, "invalid token name '%.64s'\n", a->pos[1]);
        return CLI_EXIT_FAIL;
    }
    snprintf(id, sizeof id, "%s!%s", a->pos[0], a->pos[1]);
    t.id = id;
    t.op = !strcmp(cmd, "add") ? 0 : !strcmp(cmd, "modify") ? 1 : 2;
    if ((rc = token_values(a, &t, &regenerate)))
        return rc;
    if ((e = rg_store_update_usercfg(st, token_apply, &t, &msg)))
        return cli_fail(e, &msg);
    if (t.op == 2) {
        e = rg_tokens_delete(st, id, &msg);
        return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
    }
    if (t.op == 1 && !regenerate) {
        out = token_json(&t.result, 0);
        print_object(out, a->format);
        json_decref(out);
        return CLI_EXIT_OK;
    }
    if ((e = rg_tokens_generate(st, id, secret, &msg))) {
        if (t.op == 0) { /* a token without a secret is of no use: take it back */
            struct rg_msg m2 = {{0}};
            t.op = 2;
            rg_store_update_usercfg(st, token_apply, &t, &m2);
        }
        return cli_fail(e, &msg);
    }
    out = json_object();
    json_object_set_new(out, "full-tokenid", json_string(id));
    json_object_set_new(out, "info", token_json(&t.result, 0));
    json_object_set_new(out, "value", json_string(secret));
    rg_wipe(secret, sizeof secret);
    print_object(out, a->format);
    json_decref(out); /* the JSON string copy is freed unwiped: the process ends right after */
    return CLI_EXIT_OK;
}

/* `realmgate user token add|list|remove|modify` (pveum user token ...). The secret is printed
 * once, by add (and modify --regenerate 1); only its hash is stored (tokens.h). */
static int cli_user_token(int argc, char **argv, const char *config_dir)
{
    static const char usage[] =
        "realmgate user token add <userid> <tokenid> [--privsep 0|1] [--expire N] "
        "[--comment C] [--output-format text|json|json-pretty]\n"
        "       realmgate user token modify <userid> <tokenid> [--privsep 0|1] [--expire N] "
        "[--comment C] [--regenerate 1] [--output-format ...]\n"
        "       realmgate user token remove <userid> <tokenid>\n"
        "       realmgate user token list <userid> [--output-format ...]";
    static const struct cli_cmd cmds[] = {
        {"add", token_opts, 1, 2, token_pos, token_check, token_change},
        {"modify", token_opts, 1, 2, token_pos, token_check, token_change},
        {"remove", NULL, 0, 2, token_pos, NULL, token_change},
        {"list", NULL, 1, 1, token_pos, NULL, token_list},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    return cli_dispatch("user token", cmds, usage, argc, argv, config_dir);
}

static int user_check(struct cli_args *a, const char *usage)
{
    const char *pw = rg_params_get(&a->opts, "password");

    (void)usage;
    return pw && !password_length_ok(pw) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int user_change(const struct cli_args *a, struct rg_store *st)
{
    const char *pw = rg_params_get(&a->opts, "password");
    struct user_ctx c = {a->pos[0], &a->opts,
                         !strcmp(a->cmd, "add") ? 0 : !strcmp(a->cmd, "modify") ? 1 : 2};
    struct rg_msg msg = {{0}};
    rg_err e = c.op == 0 ? check_realm(st, c.id, pw != NULL, &msg) : RG_OK;

    if (!e)
        e = rg_store_update_usercfg(st, user_apply, &c, &msg);
    if (!e && pw)
        e = rg_store_set_password(st, c.id, pw, &msg);
    if (!e && c.op == 2)
        e = rg_tokens_delete_user(st, c.id, &msg);
    if (!e && c.op == 2)
        e = rg_store_delete_password(st, c.id, &msg);
    return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
}

int cli_user(int argc, char **argv, const char *config_dir)
{
    static const char usage[] =
        "realmgate user add <userid> [--password P] [--enable 0|1] [--email E] "
        "[--firstname F] [--lastname L] [--comment C] [--groups g1,g2] [--expire N]\n"
        "       realmgate user modify <userid> [options] [--append 1 --groups g]\n"
        "       realmgate user delete <userid>\n"
        "       realmgate user list [--output-format text|json|json-pretty]\n"
        "       realmgate user permissions <userid> [--path P] [--output-format ...]\n"
        "       realmgate user token add|list|remove|modify ...";
    static const struct cli_cmd cmds[] = {
        {"add", user_opts, 0, 1, user_pos, user_check, user_change},
        {"modify", user_modify_opts, 0, 1, user_pos, NULL, user_change},
        {"delete", NULL, 0, 1, user_pos, NULL, user_change},
        {"list", NULL, 1, 0, NULL, NULL, user_list},
        {"permissions", path_opt, 1, 1, user_pos, NULL, user_permissions},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    if (argc > 0 && !strcmp(argv[0], "token"))
        return cli_user_token(argc - 1, argv + 1, config_dir);
    return cli_dispatch("user", cmds, usage, argc, argv, config_dir);
}

/* ---------------------------------------------------------------- passwd */

/* Reads one line from stdin into buf (without the newline); echo off on a terminal. */
static int read_secret_line(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO), restored = 0;
    size_t n;

    if (tty) {
        fputs(prompt, stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
            restored = 1;
        }
    }
    if (!fgets(buf, (int)size, stdin))
        buf[0] = '\0';
    if (restored) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    n = strlen(buf);
    if (n == size - 1 && buf[n - 1] != '\n')
        return -1; /* longer than any password we accept */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

int cli_passwd(int argc, char **argv, const char *config_dir)
{
    static const char usage[] = "realmgate passwd <userid>   (new password on stdin)";
    char pw1[256], pw2[256];
    struct cli_args a;
    struct rg_store *st;
    struct rg_msg msg = {{0}};
    const struct rg_snapshot *s;
    int rc = CLI_EXIT_OK, exists;
    rg_err e;

    if ((rc = cli_parse(argc, argv, NULL, 0, 1, user_pos, usage, &a)))
        return rc;
    if (!(st = cli_open_store(config_dir))) {
        cli_args_free(&a);
        return CLI_EXIT_FAIL;
    }
    s = rg_store_acquire(st);
    exists = rg_usercfg_user(&s->users, a.pos[0]) != NULL;
    rg_store_release(s);
    if (!exists) {
        fprintf(stderr, "no such user ('%.64s')\n", a.pos[0]);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if ((e = check_realm(st, a.pos[0], 1, &msg))) {
        rc = cli_fail(e, &msg);
        goto out;
    }
    if (read_secret_line("Enter new password: ", pw1, sizeof pw1) != 0) {
        fprintf(stderr, "password too long\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (isatty(STDIN_FILENO)) {
        if (read_secret_line("Retype new password: ", pw2, sizeof pw2) != 0 ||
            !rg_ct_streq(pw1, pw2)) {
            fprintf(stderr, "passwords do not match\n");
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    if (!password_length_ok(pw1)) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if ((e = rg_store_set_password(st, a.pos[0], pw1, &msg)))
        rc = cli_fail(e, &msg);
out:
    rg_wipe(pw1, sizeof pw1);
    rg_wipe(pw2, sizeof pw2);
    rg_store_close(st);
    cli_args_free(&a);
    return rc;
}

/* ---------------------------------------------------------------- groups */

struct group_ctx {
    const char *id;
    const char *comment;
    int op; /* 0 add, 1 modify, 2 delete */
};

static rg_err group_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct group_ctx *c = ctx;

    switch (c->op) {
    case 0:
        return rg_usercfg_group_add(cfg, c->id, c->comment, msg);
    case 1:
        return rg_usercfg_group_set_comment(cfg, c->id, c->comment ? c->comment : "", msg);
    default:
        return rg_usercfg_group_delete(cfg, c->id, msg);
    }
}

static int group_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"groupid", "users", "comment", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    json_t *rows = json_array();

    for (size_t i = 0; i < s->users.ngroups; i++) {
        const struct rg_group *g = &s->users.groups[i];
        json_t *o = json_object();
        struct rg_buf b;

        json_object_set_new(o, "groupid", json_string(g->id));
        rg_buf_init(&b, 1 << 20);
        for (size_t k = 0; k < g->members.n; k++)
            rg_buf_appendf(&b, "%s%s", k ? "," : "", g->members.items[k]);
        set_str(o, "users", b.data);
        rg_buf_free(&b);
        set_str(o, "comment", g->comment);
        json_array_append_new(rows, o);
    }
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

static int group_change(const struct cli_args *a, struct rg_store *st)
{
    struct group_ctx c = {a->pos[0], rg_params_get(&a->opts, "comment"),
                          !strcmp(a->cmd, "add") ? 0 : !strcmp(a->cmd, "modify") ? 1 : 2};
    struct rg_msg msg = {{0}};
    rg_err e = rg_store_update_usercfg(st, group_apply, &c, &msg);

    return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
}

int cli_group(int argc, char **argv, const char *config_dir)
{
    static const char usage[] = "realmgate group add <groupid> [--comment C]\n"
                                "       realmgate group modify <groupid> --comment C\n"
                                "       realmgate group delete <groupid>\n"
                                "       realmgate group list [--output-format ...]";
    static const struct cli_cmd cmds[] = {
        {"add", comment_opt, 0, 1, group_pos, NULL, group_change},
        {"modify", comment_opt, 0, 1, group_pos, NULL, group_change},
        {"delete", NULL, 0, 1, group_pos, NULL, group_change},
        {"list", NULL, 1, 0, NULL, NULL, group_list},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    return cli_dispatch("group", cmds, usage, argc, argv, config_dir);
}
