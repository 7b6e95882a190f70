#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/log.h"
#include "base/mem.h"

#define RESP_BODY_MAX (16u << 20)

/* Responses held back until a minimum time after the request arrived (rg_http_response
 * .min_latency_ms). The connection is suspended, so no worker thread waits; a timer thread
 * resumes it when due. Bounded: when the table is full the response goes out at once. */
#define DELAY_SLOTS 1024

struct delayed {
    struct MHD_Connection *conn;
    struct timespec due;
};

struct rg_http_server {
    struct MHD_Daemon *daemon;
    struct rg_http_server_opts opts;
    int port;
    pthread_t timer;
    int timer_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    struct delayed slots[DELAY_SLOTS];
    size_t nslots;
};

struct conn_state {
    struct rg_buf body;
    int too_large;
    struct timespec start;          /* when the request arrived */
    struct MHD_Response *held;      /* response waiting for its minimum latency */
    unsigned held_status;
};

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void ts_add_ms(struct timespec *t, unsigned ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static void *timer_main(void *arg)
{
    struct rg_http_server *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec now, next;
        int have_next = 0;

        clock_gettime(CLOCK_MONOTONIC, &now);
        for (size_t i = 0; i < s->nslots;) {
            if (!ts_before(&now, &s->slots[i].due)) {
                MHD_resume_connection(s->slots[i].conn);
                s->slots[i] = s->slots[--s->nslots];
                continue;
            }
            if (!have_next || ts_before(&s->slots[i].due, &next))
                next = s->slots[i].due;
            have_next = 1;
            i++;
        }
        if (have_next)
            pthread_cond_timedwait(&s->wake, &s->lock, &next);
        else
            pthread_cond_wait(&s->wake, &s->lock);
    }
    /* shutting down: let every held response go */
    for (size_t i = 0; i < s->nslots; i++)
        MHD_resume_connection(s->slots[i].conn);
    s->nslots = 0;
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* 1 if the connection was suspended (its response is sent when it resumes). */
static int hold_response(struct rg_http_server *s, struct MHD_Connection *conn,
                         struct conn_state *st, struct MHD_Response *mr, unsigned status,
                         unsigned min_latency_ms)
{
    struct timespec due = st->start, now;
    int held = 0;

    if (!min_latency_ms || !s->timer_started)
        return 0;
    ts_add_ms(&due, min_latency_ms);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!ts_before(&now, &due))
        return 0;
    pthread_mutex_lock(&s->lock);
    if (!s->stopping && s->nslots < DELAY_SLOTS) {
        st->held = mr;
        st->held_status = status;
        MHD_suspend_connection(conn);
        s->slots[s->nslots].conn = conn;
        s->slots[s->nslots].due = due;
        s->nslots++;
        pthread_cond_signal(&s->wake);
        held = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return held;
}

const char *rg_http_header(const struct rg_http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

char *rg_http_cookie(const struct rg_http_request *req, const char *name)
{
    const char *v = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
    char *out = NULL;
    if (!v || strlen(v) > 8192 || rg_url_decode(v, strlen(v), 0, &out))
        return NULL;
    return out;
}

const char *rg_http_param(const struct rg_http_request *req, const char *name)
{
    const char *v = rg_params_get(&req->body, name);
    return v ? v : rg_params_get(&req->query, name);
}

rg_err rg_http_respond(struct rg_http_response *resp, int status, const char *content_type,
                       const char *body, size_t len)
{
    resp->status = status;
    resp->content_type = content_type;
    rg_buf_reset(&resp->body);
    return rg_buf_append(&resp->body, body, len);
}

rg_err rg_http_add_header(struct rg_http_response *resp, const char *name, const char *value)
{
    char *n, *v;
    if (resp->nheaders >= RG_HTTP_MAX_HEADERS)
        return RG_ERR_LIMIT;
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return RG_ERR_NOMEM;
    }
    resp->headers[resp->nheaders][0] = n;
    resp->headers[resp->nheaders][1] = v;
    resp->nheaders++;
    return RG_OK;
}

struct query_ctx {
    struct rg_params *p;
    rg_err err;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_ctx *q = cls;
    (void)kind;
    if (!q->err)
        q->err = rg_params_add(q->p, key, value ? value : "");
    return q->err ? MHD_NO : MHD_YES;
}

static enum MHD_Result send_simple(struct MHD_Connection *conn, int status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static rg_err parse_body(struct rg_http_request *req, const char *ctype)
{
    if (req->body_len == 0)
        return RG_OK;
    if (ctype && strncasecmp(ctype, "application/json", 16) == 0)
        return rg_params_parse_json(&req->body, req->body_raw, req->body_len);
    if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
        return rg_params_parse_form(&req->body, req->body_raw, req->body_len);
    return RG_ERR_INVALID;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outsz, "unknown");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
                  (socklen_t)outsz);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
                  (socklen_t)outsz);
}

static enum MHD_Result dispatch(struct rg_http_server *s, struct MHD_Connection *conn,
                                const char *url, const char *method, struct conn_state *st)
{
    struct rg_http_request req;
    struct rg_http_response resp;
    struct MHD_Response *mr;
    struct query_ctx q;
    enum MHD_Result ret;
    int cache_set = 0;

    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    req.method = method;
    req.path = url;
    req.conn = conn;
    req.body_raw = st->body.data ? st->body.data : "";
    req.body_len = st->body.len;
    rg_params_init(&req.query);
    rg_params_init(&req.body);
    client_ip(conn, req.remote_ip, sizeof req.remote_ip);

    q.p = &req.query;
    q.err = RG_OK;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    if (q.err || parse_body(&req, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                              "Content-Type"))) {
        rg_params_free(&req.query);
        rg_params_free(&req.body);
        return send_simple(conn, 400, "malformed request parameters\n");
    }

    rg_buf_init(&resp.body, RESP_BODY_MAX);
    resp.status = 500;
    resp.content_type = "text/plain; charset=utf-8";
    s->opts.handler(s->opts.ctx, &req, &resp);

    mr = MHD_create_response_from_buffer(resp.body.len, resp.body.data ? resp.body.data : "",
                                         MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(mr, "Content-Type", resp.content_type);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < resp.nheaders; i++) {
        if (strcasecmp(resp.headers[i][0], "Cache-Control") == 0)
            cache_set = 1;
        MHD_add_response_header(mr, resp.headers[i][0], resp.headers[i][1]);
        free(resp.headers[i][0]);
        free(resp.headers[i][1]);
    }
    /* nothing the servers answer is cacheable unless the handler says so */
    if (!cache_set)
        MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (hold_response(s, conn, st, mr, (unsigned)resp.status, resp.min_latency_ms)) {
        ret = MHD_YES;
    } else {
        ret = MHD_queue_response(conn, (unsigned)resp.status, mr);
        MHD_destroy_response(mr);
    }
    rg_buf_free(&resp.body);
    rg_params_free(&req.query);
    rg_params_free(&req.body);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct rg_http_server *s = cls;
    struct conn_state *st = *con_cls;
    (void)version;

    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        rg_buf_init(&st->body, s->opts.max_body);
        clock_gettime(CLOCK_MONOTONIC, &st->start);
        *con_cls = st;
        return MHD_YES;
    }
    if (st->held) {
        /* resumed after the minimum latency */
        enum MHD_Result ret = MHD_queue_response(conn, st->held_status, st->held);
        MHD_destroy_response(st->held);
        st->held = NULL;
        return ret;
    }
    if (*upload_data_size) {
        if (!st->too_large && rg_buf_append(&st->body, upload_data, *upload_data_size))
            st->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large)
        return send_simple(conn, 413, "request body too large\n");
    return dispatch(s, conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (st) {
        if (st->held)
            MHD_destroy_response(st->held);
        rg_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    rg_debug("http: %s", line);
}

rg_err rg_http_server_start(const struct rg_http_server_opts *opts, struct rg_http_server **out,
                            struct rg_msg *msg)
{
    struct rg_http_server *s;
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    const union MHD_DaemonInfo *di;
    const char *addr = opts->listen_addr ? opts->listen_addr : "0.0.0.0";

    *out = NULL;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)opts->port);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)opts->port);
        flags |= MHD_USE_IPv6;
    } else {
        return rg_fail(msg, RG_ERR_INVALID, "listen address '%s' is not an IP address", addr);
    }
    if (opts->port < 0 || opts->port > 65535)
        return rg_fail(msg, RG_ERR_INVALID, "port %d out of range", opts->port);

    s = calloc(1, sizeof *s);
    if (!s)
        return RG_ERR_NOMEM;
    s->opts = *opts;
    if (opts->tls_cert_pem)
        flags |= MHD_USE_TLS;

    if (opts->tls_cert_pem)
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_THREAD_POOL_SIZE, opts->threads ? opts->threads : 1,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
            MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
            MHD_OPTION_HTTPS_MEM_CERT, opts->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
            opts->tls_key_pem, MHD_OPTION_END);
    else
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_THREAD_POOL_SIZE, opts->threads ? opts->threads : 1,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
            MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
            MHD_OPTION_END);
    if (!s->daemon) {
        free(s);
        return rg_fail(msg, RG_ERR_IO, "cannot listen on %s port %d (in use, or bad TLS key)",
                       addr, opts->port);
    }
    pthread_mutex_init(&s->lock, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    s->timer_started = pthread_create(&s->timer, NULL, timer_main, s) == 0;
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : opts->port;
    *out = s;
    return RG_OK;
}

int rg_http_server_port(const struct rg_http_server *s)
{
    return s->port;
}

void rg_http_server_stop(struct rg_http_server *s)
{
    if (!s)
        return;
    if (s->timer_started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->timer, NULL);
    }
    MHD_stop_daemon(s->daemon);
    if (s->timer_started) {
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
    }
    free(s);
}
