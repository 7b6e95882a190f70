/* cli.h — the admin command line (`realmgate <command> ...`, pveum syntax).
 *
 * Every command works on the config directory through src/access/store.h: reads use a
 * snapshot, changes go through the locked read-modify-write helpers, so the CLI may run
 * while the server does. Exit codes: 0 success, 1 the operation failed (message on stderr),
 * 2 usage error (unknown command/option, missing argument).
 *
 * Options are `--name value` or `--name=value`; boolean options may omit the value (= 1).
 * Parsed options are collected into an rg_params under their option name (without "--"),
 * which is also the key name of the access layer (e.g. "issuer-url"). */
#ifndef RG_CLI_CLI_H
#define RG_CLI_CLI_H

#include <jansson.h>

#include "access/store.h"
#include "base/form.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#define CLI_MAX_POS 4

enum cli_opt_kind { CLI_OPT_VALUE, CLI_OPT_BOOL };

struct cli_opt {
    const char *name;
    enum cli_opt_kind kind;
};

enum cli_format { CLI_FMT_TEXT, CLI_FMT_JSON, CLI_FMT_JSON_PRETTY };

struct cli_args {
    const char *cmd;            /* the sub-command ("add", ...), set by cli_dispatch */
    struct rg_params opts;      /* options other than --output-format */
    const char *pos[CLI_MAX_POS];
    int npos;
    enum cli_format format;
};

/* Parses argv[0..argc) (after the command words). `allowed` ends with a NULL name;
 * `--output-format` is accepted when with_format is set. Exactly npos positional arguments
 * are required (their names in pos_names, for the message). Returns CLI_EXIT_OK or
 * CLI_EXIT_USAGE (message already printed). */
int cli_parse(int argc, char **argv, const struct cli_opt *allowed, int with_format, int npos,
              const char *const *pos_names, const char *usage, struct cli_args *out);
void cli_args_free(struct cli_args *a);
/* Prints the message, then "usage: <usage>", to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One sub-command of a command group (a table of them ends with a NULL name). */
struct cli_cmd {
    const char *name;             /* "add", "list", ... */
    const struct cli_opt *opts;   /* options allowed (NULL: none) */
    int with_format;              /* --output-format accepted */
    int npos;                     /* positional arguments, named by pos */
    const char *const *pos;
    /* Optional: checks the arguments before the store is opened, so that a usage error needs
     * no config directory (cli_usage_error for those); may rewrite a->opts; CLI_EXIT_*. */
    int (*check)(struct cli_args *a, const char *usage);
    /* Runs the command on the open store; CLI_EXIT_*. */
    int (*run)(const struct cli_args *a, struct rg_store *st);
};

/* `realmgate <group> <cmd> ...`: finds argv[0] in cmds ("missing command" / "unknown command
 * '<group> <cmd>'" are usage errors), parses the rest (cli_parse), checks, opens the store
 * (cli_open_store), runs, and frees everything. */
int cli_dispatch(const char *group, const struct cli_cmd *cmds, const char *usage, int argc,
                 char **argv, const char *config_dir);

/* Prints "msg" (or the error name when msg is empty) to stderr and returns CLI_EXIT_FAIL. */
int cli_fail(rg_err e, const struct rg_msg *msg);
/* Opens the store or prints why; NULL on failure. */
struct rg_store *cli_open_store(const char *config_dir);
/* Prints a JSON value in the chosen format (text falls back to pretty JSON). */
void cli_print_json(json_t *v, enum cli_format fmt);

/* Prints rows (a JSON array of objects): text = aligned table of `cols` (missing values
 * empty), json / json-pretty = the array itself. */
void cli_print_table(json_t *rows, const char *const *cols, enum cli_format fmt);

/* Command groups: argv[0] is the sub-command ("add", "list", ...). */
int cli_realm(int argc, char **argv, const char *config_dir);
int cli_user(int argc, char **argv, const char *config_dir);
int cli_passwd(int argc, char **argv, const char *config_dir);
int cli_group(int argc, char **argv, const char *config_dir);
int cli_acl(int argc, char **argv, const char *config_dir);
int cli_role(int argc, char **argv, const char *config_dir);

#endif
