/* `realmgate acl modify|delete|list` and `realmgate role list|add|modify|delete`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_opt acl_opts[] = {
    {"roles", CLI_OPT_VALUE}, {"users", CLI_OPT_VALUE},    {"groups", CLI_OPT_VALUE},
    {"tokens", CLI_OPT_VALUE}, {"propagate", CLI_OPT_BOOL}, {NULL, 0},
};

static const char *const path_pos[] = {"path"};
static const char *const role_pos[] = {"roleid"};

static int acl_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"path", "type", "ugid", "roleid", "propagate", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    json_t *rows = json_array();

    for (size_t i = 0; i < s->users.nacl; i++) {
        const struct rg_acl_entry *e = &s->users.acl[i];
        json_t *o = json_object();
        const char *type = rg_ugid_type(e->ugid);

        json_object_set_new(o, "path", json_string(e->path));
        json_object_set_new(o, "type", json_string(type));
        json_object_set_new(o, "ugid", json_string(e->ugid[0] == '@' ? e->ugid + 1 : e->ugid));
        json_object_set_new(o, "roleid", json_string(e->role));
        json_object_set_new(o, "propagate", json_integer(e->propagate));
        json_array_append_new(rows, o);
    }
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

static int acl_check(struct cli_args *a, const char *usage)
{
    const char *prop = rg_params_get(&a->opts, "propagate");

    if (!rg_params_get(&a->opts, "roles"))
        return cli_usage_error(usage, "missing option --roles");
    if (prop && strcmp(prop, "0") && strcmp(prop, "1"))
        return cli_usage_error(usage, "--propagate must be 0 or 1");
    return CLI_EXIT_OK;
}

static int acl_change(const struct cli_args *a, struct rg_store *st)
{
    const char *prop = rg_params_get(&a->opts, "propagate");
    struct rg_msg msg = {{0}};
    rg_err e;

    e = rg_store_acl_change(st, a->pos[0], rg_params_get(&a->opts, "roles"),
                            rg_params_get(&a->opts, "users"), rg_params_get(&a->opts, "groups"),
                            rg_params_get(&a->opts, "tokens"),
                            prop ? prop[0] == '1' : 1 /* PVE default: propagate */,
                            !strcmp(a->cmd, "delete"), &msg);
    return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
}

int cli_acl(int argc, char **argv, const char *config_dir)
{
    static const char usage[] =
        "realmgate acl modify <path> --roles R[,R] [--users u,..] [--groups g,..] "
        "[--tokens t,..] [--propagate 0|1]\n"
        "       realmgate acl delete <path> --roles R[,R] [--users u,..] [--groups g,..] "
        "[--tokens t,..]\n"
        "       realmgate acl list [--output-format text|json|json-pretty]";
    static const struct cli_cmd cmds[] = {
        {"modify", acl_opts, 0, 1, path_pos, acl_check, acl_change},
        {"delete", acl_opts, 0, 1, path_pos, acl_check, acl_change},
        {"list", NULL, 1, 0, NULL, NULL, acl_list},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    return cli_dispatch("acl", cmds, usage, argc, argv, config_dir);
}

/* ---------------------------------------------------------------- roles */

static const struct cli_opt role_opts[] = {
    {"privs", CLI_OPT_VALUE}, {"append", CLI_OPT_BOOL}, {NULL, 0},
};

struct role_ctx {
    const char *id, *privs;
    int append, op; /* 0 add, 1 modify, 2 delete */
};

static rg_err role_apply(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct role_ctx *c = ctx;

    switch (c->op) {
    case 0:
        return rg_usercfg_role_add(cfg, c->id, c->privs, msg);
    case 1:
        return rg_usercfg_role_modify(cfg, c->id, c->privs, c->append, msg);
    default:
        return rg_usercfg_role_delete(cfg, c->id, msg);
    }
}

static json_t *role_row(const char *id, rg_privmask privs, int special)
{
    json_t *o = json_object();
    struct rg_buf b;

    rg_buf_init(&b, 4096);
    rg_privmask_join(privs, ",", &b);
    json_object_set_new(o, "roleid", json_string(id));
    json_object_set_new(o, "privs", json_string(b.data ? b.data : ""));
    json_object_set_new(o, "special", json_integer(special));
    rg_buf_free(&b);
    return o;
}

static int role_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"roleid", "privs", "special", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    json_t *rows = json_array();
    const struct rg_builtin_role *b;
    size_t nb;

    b = rg_builtin_roles(&nb);
    for (size_t i = 0; i < nb; i++)
        json_array_append_new(rows, role_row(b[i].id, b[i].privs, 1));
    for (size_t i = 0; i < s->users.nroles; i++)
        json_array_append_new(rows, role_row(s->users.roles[i].id, s->users.roles[i].privs, 0));
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

static int role_change(const struct cli_args *a, struct rg_store *st)
{
    const char *app = rg_params_get(&a->opts, "append");
    struct role_ctx c = {a->pos[0], rg_params_get(&a->opts, "privs"),
                         app && strcmp(app, "0") != 0,
                         !strcmp(a->cmd, "add") ? 0 : !strcmp(a->cmd, "modify") ? 1 : 2};
    struct rg_msg msg = {{0}};
    rg_err e = rg_store_update_usercfg(st, role_apply, &c, &msg);

    return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
}

int cli_role(int argc, char **argv, const char *config_dir)
{
    static const char usage[] = "realmgate role list [--output-format ...]\n"
                                "       realmgate role add <roleid> --privs P[,P]\n"
                                "       realmgate role modify <roleid> --privs P[,P] "
                                "[--append 1]\n"
                                "       realmgate role delete <roleid>";
    static const struct cli_cmd cmds[] = {
        {"list", NULL, 1, 0, NULL, NULL, role_list},
        {"add", role_opts, 0, 1, role_pos, NULL, role_change},
        {"modify", role_opts, 0, 1, role_pos, NULL, role_change},
        {"delete", NULL, 0, 1, role_pos, NULL, role_change},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    return cli_dispatch("role", cmds, usage, argc, argv, config_dir);
}
