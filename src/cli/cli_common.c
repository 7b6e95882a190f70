#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

/* Bound for any single command-line value: generous, but not unbounded. */
#define CLI_VALUE_MAX 8192

static const struct cli_opt *find_opt(const struct cli_opt *allowed, const char *name,
                                      size_t len)
{
    for (; allowed && allowed->name; allowed++)
        if (strlen(allowed->name) == len && !strncmp(allowed->name, name, len))
            return allowed;
    return NULL;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (usage)
        fprintf(stderr, "usage: %s\n", usage);
    return CLI_EXIT_USAGE;
}

int cli_parse(int argc, char **argv, const struct cli_opt *allowed, int with_format, int npos,
              const char *const *pos_names, const char *usage, struct cli_args *out)
{
    memset(out, 0, sizeof *out);
    rg_params_init(&out->opts);
    out->format = CLI_FMT_TEXT;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        const struct cli_opt *o;
        size_t nlen;
        int is_format;

        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (out->npos >= npos || out->npos >= CLI_MAX_POS) {
                cli_args_free(out);
                return cli_usage_error(usage, "unexpected argument '%s'", a);
            }
            out->pos[out->npos++] = a;
            continue;
        }
        eq = strchr(a + 2, '=');
        nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        is_format = with_format && nlen == 13 && !strncmp(a + 2, "output-format", 13);
        o = find_opt(allowed, a + 2, nlen);
        if (!o && !is_format) {
            cli_args_free(out);
            return cli_usage_error(usage, "unknown option '%s'", a);
        }
        if (eq) {
            val = eq + 1;
        } else if (o && o->kind == CLI_OPT_BOOL &&
                   (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))) {
            val = "1";
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            cli_args_free(out);
            return cli_usage_error(usage, "option '%s' needs a value", a);
        }
        if (strlen(val) > CLI_VALUE_MAX) {
            cli_args_free(out);
            return cli_usage_error(usage, "value of '%s' is too long", a);
        }
        if (is_format) {
            if (!strcmp(val, "text"))
                out->format = CLI_FMT_TEXT;
            else if (!strcmp(val, "json"))
                out->format = CLI_FMT_JSON;
            else if (!strcmp(val, "json-pretty"))
                out->format = CLI_FMT_JSON_PRETTY;
            else {
                cli_args_free(out);
                return cli_usage_error(usage, "invalid output format '%s'", val);
            }
            continue;
        }
        {
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)nlen, a + 2);
            if (rg_params_count(&out->opts, key)) {
                cli_args_free(out);
                return cli_usage_error(usage, "option '%s' given twice", a);
            }
            if (rg_params_add(&out->opts, key, val) != RG_OK) {
                cli_args_free(out);
                fprintf(stderr, "out of memory\n");
                return CLI_EXIT_FAIL;
            }
        }
    }
    if (out->npos < npos) {
        const char *missing = pos_names ? pos_names[out->npos] : "argument";
        cli_args_free(out);
        return cli_usage_error(usage, "missing argument <%s>", missing);
    }
    return CLI_EXIT_OK;
}

int cli_dispatch(const char *group, const struct cli_cmd *cmds, const char *usage, int argc,
                 char **argv, const char *config_dir)
{
    const struct cli_cmd *c = cmds;
    struct cli_args a;
    struct rg_store *st;
    int rc;

    if (argc < 1)
        return cli_usage_error(usage, "missing command");
    while (c->name && strcmp(c->name, argv[0]) != 0)
        c++;
    if (!c->name)
        return cli_usage_error(usage, "unknown command '%s %.64s'", group, argv[0]);
    if ((rc = cli_parse(argc - 1, argv + 1, c->opts, c->with_format, c->npos, c->pos, usage,
                        &a)))
        return rc;
    a.cmd = c->name;
    if (c->check && (rc = c->check(&a, usage))) {
        cli_args_free(&a);
        return rc;
    }
    if (!(st = cli_open_store(config_dir))) {
        cli_args_free(&a);
        return CLI_EXIT_FAIL;
    }
    rc = c->run(&a, st);
    rg_store_close(st);
    cli_args_free(&a);
    return rc;
}

void cli_args_free(struct cli_args *a)
{
    rg_params_free(&a->opts);
    a->npos = 0;
}

int cli_fail(rg_err e, const struct rg_msg *msg)
{
    fprintf(stderr, "%s\n", msg && msg->text[0] ? msg->text : rg_err_str(e));
    return CLI_EXIT_FAIL;
}

struct rg_store *cli_open_store(const char *config_dir)
{
    struct rg_store *st = NULL;
    struct rg_msg msg = {{0}};
    struct stat sb;
    rg_err e;

    /* A mistyped --config-dir must not silently start an empty configuration: the CLI only
     * works on an existing directory (`realmgate serve` creates and initialises one). */
    if (stat(config_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "configuration directory %s does not exist; create it (mkdir -m 0700 %s) or "
                "pass --config-dir / REALMGATE_CONFIG_DIR\n",
                config_dir, config_dir);
        return NULL;
    }
    e = rg_store_open(config_dir, &st, &msg);
    if (e) {
        fprintf(stderr, "cannot open config directory %s: %s\n", config_dir,
                msg.text[0] ? msg.text : rg_err_str(e));
        return NULL;
    }
    return st;
}

void cli_print_json(json_t *v, enum cli_format fmt)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | (fmt == CLI_FMT_JSON ? JSON_COMPACT : JSON_INDENT(4)));

    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

/* Text of a cell: strings with control characters escaped (rg_log_sanitize: a comment from
 * user.cfg or the API must not drive the admin's terminal or fake table rows), numbers in
 * decimal, anything else as compact JSON. */
static char *cell_text(json_t *v)
{
    const char *s;
    char *out;
    size_t n;

    if (!v || json_is_null(v))
        return strdup("");
    if (!json_is_string(v))
        return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    s = json_string_value(v);
    n = strlen(s) * 4 + 8;
    if ((out = malloc(n)))
        rg_log_sanitize(s, out, n);
    return out;
}

void cli_print_table(json_t *rows, const char *const *cols, enum cli_format fmt)
{
    size_t ncols = 0, widths[16] = {0}, i;
    json_t *row;

    if (fmt != CLI_FMT_TEXT) {
        cli_print_json(rows, fmt);
        return;
    }
    while (cols[ncols] && ncols < 16)
        ncols++;
    for (size_t c = 0; c < ncols; c++)
        widths[c] = strlen(cols[c]);
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; c < ncols; c++) {
            char *t = cell_text(json_object_get(row, cols[c]));
            if (t && strlen(t) > widths[c])
                widths[c] = strlen(t);
            free(t);
        }
    }
    for (size_t c = 0; c < ncols; c++)
        printf(c + 1 < ncols ? "%-*s  " : "%-*s\n", c + 1 < ncols ? (int)widths[c] : 0, cols[c]);
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; c < ncols; c++) {
            char *t = cell_text(json_object_get(row, cols[c]));
            printf(c + 1 < ncols ? "%-*s  " : "%-*s\n", c + 1 < ncols ? (int)widths[c] : 0,
                   t ? t : "");
            free(t);
        }
    }
}
