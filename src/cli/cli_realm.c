/* `realmgate realm add|modify|delete|list` — realms in domains.cfg (pveum realm ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/realm_check.h"
#include "oidc/clientauth.h"

static const struct cli_opt openid_opts[] = {
    {"type", CLI_OPT_VALUE},          {"issuer-url", CLI_OPT_VALUE},
    {"client-id", CLI_OPT_VALUE},     {"client-key", CLI_OPT_VALUE},
    {"autocreate", CLI_OPT_BOOL},     {"default", CLI_OPT_BOOL},
    {"comment", CLI_OPT_VALUE},       {"username-claim", CLI_OPT_VALUE},
    {"scopes", CLI_OPT_VALUE},        {"prompt", CLI_OPT_VALUE},
    {"acr-values", CLI_OPT_VALUE},    {"audiences", CLI_OPT_VALUE},
    {"groups-claim", CLI_OPT_VALUE},  {"groups-autocreate", CLI_OPT_BOOL},
    {"groups-map", CLI_OPT_VALUE},
    {"groups-overwrite", CLI_OPT_BOOL}, {"query-userinfo", CLI_OPT_BOOL},
    {"hmac-id-tokens", CLI_OPT_BOOL},
    {"tfa", CLI_OPT_VALUE},           {"delete", CLI_OPT_VALUE},
    {"digest", CLI_OPT_VALUE},        {"client-cert", CLI_OPT_VALUE},
    {"client-cert-key", CLI_OPT_VALUE}, {"ca-file", CLI_OPT_VALUE},
    {"id-token-algs", CLI_OPT_VALUE}, {NULL, 0},
};

/* --client-cert / --client-cert-key / --ca-file: stored as absolute paths (the server may run in another
 * directory), and when both are given they must load and belong together (clientauth.h), so
 * a wrong file is reported now rather than at the first login. */
static int cert_opts_check(struct rg_params *opts)
{
    static const char *const keys[] = {"client-cert", "client-cert-key", "ca-file"};
    struct rg_msg msg = {{0}};

    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < opts->n; i++) {
            char *abs;
            if (strcmp(opts->items[i].key, keys[k]) != 0 || !opts->items[i].val[0])
                continue;
            abs = realpath(opts->items[i].val, NULL);
            if (!abs) {
                fprintf(stderr, "--%s: cannot open '%s'\n", keys[k], opts->items[i].val);
                return CLI_EXIT_FAIL;
            }
            free(opts->items[i].val);
            opts->items[i].val = abs;
        }
    if (rg_params_get(opts, "client-cert") && rg_params_get(opts, "client-cert-key")) {
        struct rg_client_cred cred;
        if (rg_clientauth_load(rg_params_get(opts, "client-cert"),
                               rg_params_get(opts, "client-cert-key"), time(NULL), &cred, &msg))
            return cli_fail(RG_ERR_INVALID, &msg);
        rg_clientauth_free(&cred);
    }
    return CLI_EXIT_OK;
}

static const char *const realm_pos[] = {"realm"};

struct realm_ctx {
    const char *id;
    const char *type;
    const struct rg_params *opts;
    const char *delete_list;
    const char *digest;
    int op; /* 0 add, 1 modify, 2 delete */
};

static rg_err realm_apply(struct rg_domains *d, void *ctx, struct rg_msg *msg)
{
    struct realm_ctx *c = ctx;

    if (c->digest && strcmp(c->digest, d->digest) != 0)
        return rg_fail(msg, RG_ERR_CONFIG, "detected modified configuration - file changed by "
                                           "other user? Try again.");
    switch (c->op) {
    case 0:
        return rg_domains_add(d, c->id, c->type, c->opts, msg);
    case 1:
        return rg_domains_modify(d, c->id, c->opts, c->delete_list, msg);
    default:
        return rg_domains_delete(d, c->id, msg);
    }
}

static int realm_list(const struct cli_args *a, struct rg_store *st)
{
    static const char *const cols[] = {"realm", "type", "comment", "default", NULL};
    const struct rg_snapshot *s = rg_store_acquire(st);
    json_t *rows = json_array();

    for (size_t i = 0; i < s->domains.n; i++) {
        const struct rg_realm *r = &s->domains.realms[i];
        json_t *o = json_object();
        json_object_set_new(o, "realm", json_string(r->id));
        json_object_set_new(o, "type", json_string(r->type));
        if (r->comment)
            json_object_set_new(o, "comment", json_string(r->comment));
        if (r->is_default == 1)
            json_object_set_new(o, "default", json_integer(1));
        json_array_append_new(rows, o);
    }
    rg_store_release(s);
    cli_print_table(rows, cols, a->format);
    json_decref(rows);
    return CLI_EXIT_OK;
}

static int realm_check_args(struct cli_args *a, const char *usage)
{
    int add = !strcmp(a->cmd, "add");

    if (add && !rg_params_get(&a->opts, "type"))
        return cli_usage_error(usage, "missing option --type");
    if (add && rg_params_get(&a->opts, "delete"))
        return cli_usage_error(usage, "option --delete is only valid for 'realm modify'");
    if (!add && rg_params_get(&a->opts, "type"))
        return cli_usage_error(usage, "the realm type cannot be changed");
    return cert_opts_check(&a->opts);
}

static int realm_change(const struct cli_args *a, struct rg_store *st)
{
    struct realm_ctx c = {0};
    struct rg_msg msg = {{0}};
    rg_err e;

    c.id = a->pos[0];
    c.type = rg_params_get(&a->opts, "type");
    c.opts = &a->opts;
    c.delete_list = rg_params_get(&a->opts, "delete");
    c.digest = rg_params_get(&a->opts, "digest");
    c.op = !strcmp(a->cmd, "add") ? 0 : !strcmp(a->cmd, "modify") ? 1 : 2;
    e = rg_store_update_domains(st, realm_apply, &c, &msg);
    return e ? cli_fail(e, &msg) : CLI_EXIT_OK;
}

int cli_realm(int argc, char **argv, const char *config_dir)
{
    static const char usage[] =
        "realmgate realm add <realm> --type openid --issuer-url URL --client-id ID [options]\n"
        "       (openid options include --client-cert FILE --client-cert-key FILE:\n"
        "        certificate credentials, private_key_jwt, instead of --client-key)\n"
        "       realmgate realm modify <realm> [options] [--delete key,...]\n"
        "       realmgate realm delete <realm>\n"
        "       realmgate realm list [--output-format text|json|json-pretty]\n"
        "       realmgate realm check <realm> [--ca-file FILE]";
    static const struct cli_cmd cmds[] = {
        {"list", NULL, 1, 0, NULL, NULL, realm_list},
        {"add", openid_opts, 0, 1, realm_pos, realm_check_args, realm_change},
        {"modify", openid_opts, 0, 1, realm_pos, realm_check_args, realm_change},
        {"delete", NULL, 0, 1, realm_pos, NULL, realm_change},
        {NULL, NULL, 0, 0, NULL, NULL, NULL},
    };

    if (argc > 0 && !strcmp(argv[0], "check"))
        return cli_realm_check(argc - 1, argv + 1, config_dir);
    return cli_dispatch("realm", cmds, usage, argc, argv, config_dir);
}
