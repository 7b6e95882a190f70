/* server.h — the HTTP(S) server both programs use: libmicrohttpd with an epoll thread pool.
 *
 * The layer reads the whole request (body bounded by opts.max_body; larger → 413), parses
 * query and body parameters (form-encoded or JSON; unparsable → 400) and calls one handler
 * per request on a worker thread. The handler fills a response; the layer sends it and frees
 * it. Handlers must be thread-safe. Everything in the request is valid only during the call.
 *
 * TLS: when tls_cert_pem/tls_key_pem are given the server speaks HTTPS only (TLS is done by
 * libmicrohttpd's GnuTLS backend; see docs/dependencies.md). */
#ifndef RG_HTTP_SERVER_H
#define RG_HTTP_SERVER_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/form.h"

struct MHD_Connection;

struct rg_http_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* decoded URL path, e.g. "/api2/json/access/ticket" */
    struct rg_params query;   /* query-string parameters */
    struct rg_params body;    /* form or JSON body parameters */
    const char *body_raw;     /* raw body (NUL-terminated), "" when none */
    size_t body_len;
    char remote_ip[64];       /* textual client address */
    struct MHD_Connection *conn;
};

/* Header value (case-insensitive name) or NULL. */
const char *rg_http_header(const struct rg_http_request *req, const char *name);
/* Cookie value, URL-decoded into a malloc'd string the caller frees; NULL if absent/invalid. */
char *rg_http_cookie(const struct rg_http_request *req, const char *name);
/* Parameter from body, else from query (Proxmox accepts both); NULL if absent. */
const char *rg_http_param(const struct rg_http_request *req, const char *name);

#define RG_HTTP_MAX_HEADERS 8

struct rg_http_response {
    int status;
    const char *content_type;       /* static string */
    struct rg_buf body;             /* limit 16 MiB */
    char *headers[RG_HTTP_MAX_HEADERS][2]; /* owned name/value pairs */
    size_t nheaders;
    /* Send no earlier than this many ms after the request arrived (0 = at once). The
     * connection is suspended meanwhile; no worker thread waits. Used to slow down password
     * guessing (Proxmox holds every 401 for 3 s). */
    unsigned min_latency_ms;
};

/* Sets status, content type and body (copied). */
rg_err rg_http_respond(struct rg_http_response *resp, int status, const char *content_type,
                       const char *body, size_t len);
/* Adds a response header (at most RG_HTTP_MAX_HEADERS). Responses carry
 * "Cache-Control: no-store" unless the handler adds its own Cache-Control. */
rg_err rg_http_add_header(struct rg_http_response *resp, const char *name, const char *value);

typedef void (*rg_http_handler)(void *ctx, struct rg_http_request *req,
                                struct rg_http_response *resp);

struct rg_http_server_opts {
    const char *listen_addr;   /* IPv4 or IPv6 literal; NULL = 0.0.0.0 */
    int port;                  /* 0 = pick a free port (see rg_http_server_port) */
    const char *tls_cert_pem;  /* PEM text (not a path), or NULL for plain HTTP */
    const char *tls_key_pem;
    unsigned threads;          /* worker threads (>= 1) */
    size_t max_body;           /* request body limit in bytes */
    rg_http_handler handler;
    void *ctx;
};

struct rg_http_server;

rg_err rg_http_server_start(const struct rg_http_server_opts *opts, struct rg_http_server **out,
                            struct rg_msg *msg);
int rg_http_server_port(const struct rg_http_server *s);
void rg_http_server_stop(struct rg_http_server *s);

#endif
