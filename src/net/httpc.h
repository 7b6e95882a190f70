/* httpc.h — the outbound HTTP(S) client (libcurl) the OpenID Connect RP talks to providers with.
 *
 * One request per call, on its own curl handle, so any thread may call it (curl_global_init
 * runs once, behind pthread_once). What the client does on every request, on purpose:
 *   - only http:// and https:// URLs (RG_ERR_INVALID otherwise); redirects are NOT followed
 *     (a 3xx comes back as a status, the caller decides; discovery must not be moved);
 *   - TLS peer and host name verified against the system store, or ca_file when given;
 *     TLS 1.2 at least;
 *   - response body capped at opts->max_body (RG_ERR_LIMIT when larger, nothing returned);
 *   - connect timeout 5 s and total timeout 15 s unless the options say otherwise;
 *   - POST bodies are sent with Content-Length (never chunked) and without Expect: 100-continue;
 *   - proxies come from the usual environment variables (libcurl's default), except for
 *     loopback addresses (localhost, 127.0.0.0/8, ::1), which are always reached directly.
 * Errors: RG_ERR_INVALID (bad URL/arguments), RG_ERR_LIMIT (body too large), RG_ERR_NET
 * (DNS, connect, TLS, timeout, protocol), RG_ERR_NOMEM. Any HTTP status is a success at this
 * layer: the caller checks resp->status. msg names the URL (query string stripped) and the
 * curl reason; no header values or bodies are copied into it.
 *
 * Ownership: the response owns body; rg_httpc_resp_free wipes and frees it (a token
 * response holds secrets). Credentials in the options are borrowed and wiped from the
 * request headers after use. */
#ifndef RG_NET_HTTPC_H
#define RG_NET_HTTPC_H

#include <stddef.h>
#include <time.h>

#include "base/err.h"

#define RG_HTTPC_CONNECT_TIMEOUT_MS 5000
#define RG_HTTPC_TOTAL_TIMEOUT_MS 15000
#define RG_HTTPC_URL_MAX 2048

struct rg_httpc_opts {
    size_t max_body;            /* required: largest body accepted (e.g. 512 KiB) */
    const char *ca_file;        /* PEM bundle to trust instead of the system store; NULL */
    const char *accept;         /* Accept header value; NULL = "application/json" */
    /* Authorization, at most one of: */
    const char *basic_user;     /* sent as "Basic base64(user:pass)"; the values are used as */
    const char *basic_pass;     /*   given (OAuth callers form-urlencode them first) */
    const char *bearer;         /* "Bearer <token>" */
    long connect_timeout_ms;    /* 0 = RG_HTTPC_CONNECT_TIMEOUT_MS */
    long total_timeout_ms;      /* 0 = RG_HTTPC_TOTAL_TIMEOUT_MS */
};

struct rg_httpc_resp {
    long status;                /* HTTP status code */
    char *body;                 /* NUL-terminated; body_len bytes before the NUL; owned */
    size_t body_len;
    char content_type[128];     /* Content-Type header ("" when absent; cut when longer) */
    char date[64];              /* Date header as sent ("" when absent) */
    time_t date_parsed;         /* Date header parsed, or (time_t)-1 */
};

/* Initialises libcurl once (also done implicitly by the first request). Call it from main
 * before starting threads if you want a failure reported early. */
rg_err rg_httpc_global_init(void);

rg_err rg_httpc_get(const char *url, const struct rg_httpc_opts *opts,
                    struct rg_httpc_resp *resp, struct rg_msg *msg);

/* POSTs body (application/x-www-form-urlencoded, len bytes). */
rg_err rg_httpc_post_form(const char *url, const char *body, size_t len,
                          const struct rg_httpc_opts *opts, struct rg_httpc_resp *resp,
                          struct rg_msg *msg);

void rg_httpc_resp_free(struct rg_httpc_resp *resp);

/* Media type of a Content-Type value equals `type` (case-insensitive, parameters ignored):
 * rg_httpc_is_media_type("application/json; charset=utf-8", "application/json") == 1. */
int rg_httpc_is_media_type(const char *content_type, const char *type);

#endif
