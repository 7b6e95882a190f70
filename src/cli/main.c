/* main.c — `realmgate [--config-dir DIR] <command> ...`.
 *
 * The config directory comes from --config-dir, else $REALMGATE_CONFIG_DIR, else
 * /etc/realmgate. `serve` hands over to the HTTP server (src/api/serve.h); every other
 * command is an admin command in the style of Proxmox's pveum (cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/serve.h"
#include "cli/cli.h"

#define DEFAULT_CONFIG_DIR "/etc/realmgate"

static void help(FILE *out)
{
    fputs("usage: realmgate [--config-dir DIR] <command> [arguments]\n"
          "\n"
          "commands:\n"
          "  serve [options]                       run the HTTPS API and web GUI\n"
          "  realm add|modify|delete|list          manage realms (domains.cfg)\n"
          "  realm check <realm>                   diagnose an OpenID realm's provider\n"
          "  user add|modify|delete|list           manage users (user.cfg)\n"
          "  user token add|list|remove|modify     manage API tokens\n"
          "  user permissions <userid> [--path P]  show effective privileges\n"
          "  passwd <userid>                       set a pve-realm password (from stdin)\n"
          "  group add|modify|delete|list          manage groups\n"
          "  acl modify|delete|list                manage access control lists\n"
          "  role list|add|modify|delete           manage roles\n"
          "\n"
          "options:\n"
          "  --config-dir DIR   configuration directory (default: $REALMGATE_CONFIG_DIR,\n"
          "                     else " DEFAULT_CONFIG_DIR ")\n"
          "  --help             show this help\n"
          "  --version          show the version\n"
          "\n"
          "The configuration directory must exist (`serve` creates it on first start).\n"
          "Run `realmgate <command>` without arguments for the command's usage.\n",
          out);
}

int main(int argc, char **argv)
{
    const char *config_dir = getenv("REALMGATE_CONFIG_DIR");
    int i = 1;

    if (!config_dir || !config_dir[0])
        config_dir = DEFAULT_CONFIG_DIR;
    /* global options come before the command */
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--help")) {
            help(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("realmgate %s\n", RG_VERSION);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--config-dir")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "option '--config-dir' needs a value\n");
                return CLI_EXIT_USAGE;
            }
            config_dir = argv[++i];
        } else if (!strncmp(argv[i], "--config-dir=", 13)) {
            config_dir = argv[i] + 13;
        } else {
            fprintf(stderr, "unknown option '%s'\n", argv[i]);
            help(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!config_dir[0]) {
        fprintf(stderr, "empty config directory\n");
        return CLI_EXIT_USAGE;
    }
    if (i >= argc) {
        help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "serve"))
        return rg_serve_main(argc - i, argv + i, config_dir);
    if (!strcmp(argv[i], "help")) {
        help(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[i], "realm"))
        return cli_realm(argc - i - 1, argv + i + 1, config_dir);
    if (!strcmp(argv[i], "user"))
        return cli_user(argc - i - 1, argv + i + 1, config_dir);
    if (!strcmp(argv[i], "passwd"))
        return cli_passwd(argc - i - 1, argv + i + 1, config_dir);
    if (!strcmp(argv[i], "group"))
        return cli_group(argc - i - 1, argv + i + 1, config_dir);
    if (!strcmp(argv[i], "acl"))
        return cli_acl(argc - i - 1, argv + i + 1, config_dir);
    if (!strcmp(argv[i], "role"))
        return cli_role(argc - i - 1, argv + i + 1, config_dir);
    fprintf(stderr, "unknown command '%s'\n", argv[i]);
    help(stderr);
    return CLI_EXIT_USAGE;
}
