/* serve.c — `realmgate serve [--listen ADDR:PORT] [--threads N] [--debug]`.
 *
 * Start-up: open the config directory (store.h: keys generated on first start), make sure
 * the TLS certificate exists (tlscert.h), open the OpenID relying party with its pending-login
 * directory <config>/priv/openid, then serve HTTPS until SIGINT/SIGTERM. */
#include "api/serve.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "access/pam.h"
#include "access/tokens.h"
#include "api/tlscert.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/server.h"

#define DEFAULT_PORT 8006
#define MAX_THREADS 64
#define REQUEST_BODY_MAX (64 * 1024)
#define AUTH_FAILURE_DELAY_MS 3000
#define AUTH_FAILURE_DELAY_MAX 10000
#define AUTH_URL_PER_MINUTE 20   /* per client address; a person needs one or two */

static void usage(FILE *f)
{
    fprintf(f, "usage: realmgate [--config-dir DIR] serve [--listen ADDR:PORT] [--threads N] "
               "[--debug]\n"
               "  --listen ADDR:PORT  address and port (default 0.0.0.0:%d; IPv6 as [::]:%d)\n"
               "  --threads N         worker threads (default 4, at most %d)\n"
               "  --auth-failure-delay MS\n"
               "                      answer refused logins no earlier than MS after the\n"
               "                      request (default %d, as Proxmox; at most %d)\n"
               "  --debug             log debug lines\n",
            DEFAULT_PORT, DEFAULT_PORT, MAX_THREADS, AUTH_FAILURE_DELAY_MS,
            AUTH_FAILURE_DELAY_MAX);
}

/* "1.2.3.4:8006", "[::1]:8006" or ":8006" → addr, port. */
static int parse_listen(const char *s, char *addr, size_t addrsz, int *port)
{
    const char *colon;
    char *end;
    long p;
    size_t alen;

    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        alen = (size_t)(rb - s - 1);
        if (alen >= addrsz)
            return -1;
        memcpy(addr, s + 1, alen);
        addr[alen] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        alen = (size_t)(colon - s);
        if (alen >= addrsz)
            return -1;
        memcpy(addr, s, alen);
        addr[alen] = '\0';
        if (!alen)
            snprintf(addr, addrsz, "0.0.0.0");
    }
    p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

int rg_serve_main(int argc, char **argv, const char *config_dir)
{
    struct rg_http_server_opts opts;
    struct rg_http_server *srv = NULL;
    struct rg_api api;
    struct rg_msg msg = {{0}};
    char addr[64] = "0.0.0.0", pending_dir[4096];
    char *cert = NULL, *key = NULL;
    int port = DEFAULT_PORT, rc = 1, sig;
    long threads = 4, delay = AUTH_FAILURE_DELAY_MS;
    sigset_t set;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--listen") && i + 1 < argc) {
            if (parse_listen(argv[++i], addr, sizeof addr, &port)) {
                fprintf(stderr, "realmgate serve: --listen wants ADDR:PORT, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            char *end;
            threads = strtol(argv[++i], &end, 10);
            if (*end || threads < 1 || threads > MAX_THREADS) {
                fprintf(stderr, "realmgate serve: --threads wants 1..%d\n", MAX_THREADS);
                return 2;
            }
        } else if (!strcmp(a, "--auth-failure-delay") && i + 1 < argc) {
            char *end;
            delay = strtol(argv[++i], &end, 10);
            if (*end || delay < 0 || delay > AUTH_FAILURE_DELAY_MAX) {
                fprintf(stderr, "realmgate serve: --auth-failure-delay wants 0..%d (ms)\n",
                        AUTH_FAILURE_DELAY_MAX);
                return 2;
            }
        } else if (!strcmp(a, "--debug")) {
            rg_log_set_level(RG_LOG_DEBUG);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "realmgate serve: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    memset(&api, 0, sizeof api);
    api.config_dir = config_dir;
    api.auth_failure_delay_ms = (unsigned)delay;
    api.auth_url_limit = malloc(sizeof *api.auth_url_limit);
    if (!api.auth_url_limit)
        goto out;
    rg_ratelimit_init(api.auth_url_limit, AUTH_URL_PER_MINUTE);
    if (rg_store_open(config_dir, &api.store, &msg)) {
        fprintf(stderr, "realmgate serve: %s\n", msg.text);
        goto out;
    }
    /* a token.cfg copied from Proxmox holds plain-text secrets: hash them now */
    if (rg_tokens_convert(api.store, NULL, &msg))
        rg_warn("token.cfg not converted to hashed secrets: %s", msg.text);
    /* the pam realm's privileged helper: started now so a broken installation shows at once */
    if (rg_pam_start(&msg))
        rg_warn("pam realm unavailable: %s", msg.text);
    if (rg_tlscert_ensure(config_dir, &cert, &key, &msg)) {
        fprintf(stderr, "realmgate serve: %s\n", msg.text);
        goto out;
    }
    if (rg_store_path(api.store, "priv/openid", pending_dir, sizeof pending_dir) ||
        rg_oidc_new(pending_dir, &api.oidc)) {
        fprintf(stderr, "realmgate serve: cannot set up the OpenID pending-login directory\n");
        goto out;
    }
    if (rg_store_path(api.store, "priv/sessions", pending_dir, sizeof pending_dir) ||
        rg_sessions_open(pending_dir, &api.sessions, &msg)) {
        fprintf(stderr, "realmgate serve: cannot set up the sessions directory: %s\n", msg.text);
        goto out;
    }

    /* block the stop signals before the worker threads start so that only sigwait sees them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&opts, 0, sizeof opts);
    opts.listen_addr = addr;
    opts.port = port;
    opts.tls_cert_pem = cert;
    opts.tls_key_pem = key;
    opts.threads = (unsigned)threads;
    opts.max_body = REQUEST_BODY_MAX;
    opts.handler = rg_api_handle;
    opts.ctx = &api;
    if (rg_http_server_start(&opts, &srv, &msg)) {
        fprintf(stderr, "realmgate serve: %s\n", msg.text);
        goto out;
    }
    rg_info("listening on https://%s%s%s:%d (config %s, %ld threads)", strchr(addr, ':') ? "[" : "",
            addr, strchr(addr, ':') ? "]" : "", rg_http_server_port(srv), config_dir, threads);
    sigwait(&set, &sig);
    rg_info("stopping on signal %d", sig);
    rc = 0;
out:
    rg_http_server_stop(srv);
    rg_sessions_close(api.sessions);
    if (api.oidc)
        rg_oidc_free(api.oidc);
    rg_pam_shutdown();
    if (api.store)
        rg_store_close(api.store);
    if (api.auth_url_limit) {
        rg_ratelimit_destroy(api.auth_url_limit);
        free(api.auth_url_limit);
    }
    free(cert);
    rg_free_secret(key);
    return rc;
}
