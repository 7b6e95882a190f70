/* serve.h — `realmgate serve`: the HTTPS API and web GUI.
 *
 * rg_serve_main parses the serve options (argv[0] is "serve") and runs until SIGINT/SIGTERM.
 * Returns the process exit code (0 clean shutdown, 1 start-up failure, 2 usage error). */
#ifndef RG_API_SERVE_H
#define RG_API_SERVE_H

int rg_serve_main(int argc, char **argv, const char *config_dir);

#endif
