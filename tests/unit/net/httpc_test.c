/* Unit tests for src/net/httpc.c against a scripted HTTP/1.1 server on loopback (a real
 * socket, so what curl puts on the wire is what we assert on). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/b64.h"
#include "net/httpc.h"

struct srv {
    int lfd;
    int port;
    pthread_t th;
    const char *response;   /* raw bytes sent back */
    size_t response_len;
    int stall_ms;           /* sleep this long before answering (0 = answer at once) */
    int max_conns;          /* stop after this many connections (or 1.5 s idle) */
    int conns;              /* connections accepted */
    char req[128 * 1024];   /* first request, headers + body */
    size_t req_len;
};

static struct srv S;

static void read_request(int fd, struct srv *s)
{
    size_t need = 0;
    char *hdr_end = NULL;

    for (;;) {
        ssize_t n;
        struct pollfd p = {fd, POLLIN, 0};
        if (hdr_end && s->req_len >= need)
            break;
        if (poll(&p, 1, 1000) <= 0)
            break;
        n = recv(fd, s->req + s->req_len, sizeof s->req - 1 - s->req_len, 0);
        if (n <= 0)
            break;
        s->req_len += (size_t)n;
        s->req[s->req_len] = '\0';
        if (!hdr_end && (hdr_end = strstr(s->req, "\r\n\r\n")) != NULL) {
            const char *cl = strcasestr(s->req, "\r\nContent-Length:");
            need = (size_t)(hdr_end + 4 - s->req);
            if (cl && cl < hdr_end)
                need += strtoul(cl + 17, NULL, 10);
        }
    }
}

static void *serve(void *arg)
{
    struct srv *s = arg;
    while (s->conns < s->max_conns) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        int fd;
        if (poll(&p, 1, 1500) <= 0)
            break;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        s->conns++;
        if (s->conns == 1)
            read_request(fd, s);
        if (s->stall_ms) {
            struct timespec ts = {s->stall_ms / 1000, (long)(s->stall_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        } else {
            size_t off = 0;
            while (off < s->response_len) {
                ssize_t n = send(fd, s->response + off, s->response_len - off, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                off += (size_t)n;
            }
        }
        close(fd);
    }
    return NULL;
}

static void srv_start_n(const char *response, size_t len, int stall_ms, int max_conns)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1;

    memset(&S, 0, sizeof S);
    S.response = response;
    S.response_len = len;
    S.stall_ms = stall_ms;
    S.max_conns = max_conns;
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(S.lfd, 0);
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(S.lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(S.lfd, 8), 0);
    ck_assert_int_eq(getsockname(S.lfd, (struct sockaddr *)&a, &alen), 0);
    S.port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&S.th, NULL, serve, &S), 0);
}

static void srv_start(const char *response, size_t len, int stall_ms)
{
    srv_start_n(response, len, stall_ms, 1);
}

static void srv_stop(void)
{
    pthread_join(S.th, NULL);
    close(S.lfd);
}

static char *url(const char *path)
{
    static char u[256];
    snprintf(u, sizeof u, "http://127.0.0.1:%d%s", S.port, path);
    return u;
}

static const char OK_JSON[] = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: application/json; charset=utf-8\r\n"
                              "Date: Tue, 03 Dec 2024 10:00:00 GMT\r\n"
                              "Content-Length: 7\r\n"
                              "\r\n"
                              "{\"a\":1}";

START_TEST(get_returns_status_body_headers)
{
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_resp r;
    struct rg_msg msg = {{0}};

    srv_start(OK_JSON, sizeof OK_JSON - 1, 0);
    ck_assert_int_eq(rg_httpc_get(url("/t/.well-known/openid-configuration?x=1"), &o, &r, &msg),
                     RG_OK);
    srv_stop();
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 7);
    ck_assert_str_eq(r.body, "{\"a\":1}");
    ck_assert_str_eq(r.content_type, "application/json; charset=utf-8");
    ck_assert_str_eq(r.date, "Tue, 03 Dec 2024 10:00:00 GMT");
    ck_assert_int_eq((long)r.date_parsed, 1733220000L);
    ck_assert(rg_httpc_is_media_type(r.content_type, "application/json"));
    ck_assert_ptr_nonnull(strstr(S.req, "GET /t/.well-known/openid-configuration?x=1 HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(S.req, "\r\nAccept: application/json\r\n"));
    ck_assert_ptr_null(strcasestr(S.req, "Authorization:"));
    ck_assert_int_eq(S.conns, 1);
    rg_httpc_resp_free(&r);
    ck_assert_ptr_null(r.body);
}
END_TEST

START_TEST(post_form_content_length_and_basic)
{
    const char body[] = "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fx";
    struct rg_httpc_opts o = {.max_body = 1024, .basic_user = "client%3Aid",
                              .basic_pass = "s%26cret"};
    struct rg_httpc_resp r;
    struct rg_msg msg = {{0}};
    char expect[256], *cred;

    srv_start(OK_JSON, sizeof OK_JSON - 1, 0);
    ck_assert_int_eq(rg_httpc_post_form(url("/token"), body, sizeof body - 1, &o, &r, &msg),
                     RG_OK);
    srv_stop();
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(S.req, "POST /token HTTP/1.1\r\n"));
    snprintf(expect, sizeof expect, "\r\nContent-Length: %zu\r\n", sizeof body - 1);
    ck_assert_ptr_nonnull(strstr(S.req, expect));
    ck_assert_ptr_nonnull(strstr(S.req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    ck_assert_ptr_null(strcasestr(S.req, "Transfer-Encoding"));
    ck_assert_ptr_null(strcasestr(S.req, "Expect:"));
    cred = rg_b64_encode("client%3Aid:s%26cret", 20);
    snprintf(expect, sizeof expect, "\r\nAuthorization: Basic %s\r\n", cred);
    ck_assert_ptr_nonnull(strstr(S.req, expect));
    ck_assert_str_eq(strstr(S.req, "\r\n\r\n") + 4, body);
    free(cred);
    rg_httpc_resp_free(&r);
}
END_TEST

START_TEST(post_large_body_not_chunked)
{
    static char body[6000];
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_resp r;

    memset(body, 'a', sizeof body - 1);
    memcpy(body, "code=", 5);
    srv_start(OK_JSON, sizeof OK_JSON - 1, 0);
    ck_assert_int_eq(rg_httpc_post_form(url("/token"), body, strlen(body), &o, &r, NULL), RG_OK);
    srv_stop();
    ck_assert_ptr_nonnull(strstr(S.req, "\r\nContent-Length: 5999\r\n"));
    ck_assert_ptr_null(strcasestr(S.req, "Expect:"));
    ck_assert_ptr_null(strcasestr(S.req, "chunked"));
    ck_assert_uint_eq(strlen(strstr(S.req, "\r\n\r\n") + 4), 5999);
    rg_httpc_resp_free(&r);
}
END_TEST

START_TEST(bearer_header)
{
    struct rg_httpc_opts o = {.max_body = 1024, .bearer = "eyJ0eXAi.abc.def"};
    struct rg_httpc_resp r;

    srv_start(OK_JSON, sizeof OK_JSON - 1, 0);
    ck_assert_int_eq(rg_httpc_get(url("/userinfo"), &o, &r, NULL), RG_OK);
    srv_stop();
    ck_assert_ptr_nonnull(strstr(S.req, "\r\nAuthorization: Bearer eyJ0eXAi.abc.def\r\n"));
    rg_httpc_resp_free(&r);
}
END_TEST

static char big_resp[8192];

static size_t make_big(int with_length, size_t body_len)
{
    int n;
    if (with_length)
        n = snprintf(big_resp, sizeof big_resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     body_len);
    else
        n = snprintf(big_resp, sizeof big_resp, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    memset(big_resp + n, 'x', body_len);
    return (size_t)n + body_len;
}

START_TEST(body_limit)
{
    struct rg_httpc_opts o = {.max_body = 1000};
    struct rg_httpc_resp r;
    struct rg_msg msg = {{0}};
    size_t len;

    /* declared too large: refused before reading */
    len = make_big(1, 1001);
    srv_start(big_resp, len, 0);
    ck_assert_int_eq(rg_httpc_get(url("/big"), &o, &r, &msg), RG_ERR_LIMIT);
    srv_stop();
    ck_assert_ptr_null(r.body);
    ck_assert_ptr_nonnull(strstr(msg.text, "larger than 1000 bytes"));
    /* undeclared length: cut while reading */
    len = make_big(0, 5000);
    srv_start(big_resp, len, 0);
    ck_assert_int_eq(rg_httpc_get(url("/big"), &o, &r, &msg), RG_ERR_LIMIT);
    srv_stop();
    ck_assert_ptr_null(r.body);
    /* exactly at the limit is fine */
    len = make_big(1, 1000);
    srv_start(big_resp, len, 0);
    ck_assert_int_eq(rg_httpc_get(url("/big"), &o, &r, &msg), RG_OK);
    srv_stop();
    ck_assert_uint_eq(r.body_len, 1000);
    ck_assert_uint_eq(strlen(r.body), 1000);
    rg_httpc_resp_free(&r);
}
END_TEST

START_TEST(redirect_not_followed)
{
    static char resp[512];
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_resp r;
    size_t len;

    srv_start_n(resp, 0, 0, 2); /* a followed redirect would be a second connection */
    len = (size_t)snprintf(resp, sizeof resp,
                           "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
                           "Content-Length: 0\r\n\r\n", S.port);
    S.response_len = len;
    ck_assert_int_eq(rg_httpc_get(url("/disc"), &o, &r, NULL), RG_OK);
    srv_stop();
    ck_assert_int_eq(r.status, 302);
    ck_assert_uint_eq(r.body_len, 0);
    ck_assert_str_eq(r.body, "");
    ck_assert_int_eq(S.conns, 1);
    rg_httpc_resp_free(&r);
}
END_TEST

START_TEST(error_status_is_returned)
{
    static const char resp[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                               "Content-Length: 25\r\n\r\n{\"error\":\"invalid_grant\"}";
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_resp r;

    srv_start(resp, sizeof resp - 1, 0);
    ck_assert_int_eq(rg_httpc_post_form(url("/token"), "a=b", 3, &o, &r, NULL), RG_OK);
    srv_stop();
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(r.body, "{\"error\":\"invalid_grant\"}");
    ck_assert_str_eq(r.date, "");
    ck_assert_int_eq((long)r.date_parsed, -1L);
    rg_httpc_resp_free(&r);
}
END_TEST

START_TEST(total_timeout)
{
    struct rg_httpc_opts o = {.max_body = 1024, .total_timeout_ms = 400};
    struct rg_httpc_resp r;
    struct rg_msg msg = {{0}};
    struct timespec t0, t1;
    double dt;

    srv_start(OK_JSON, sizeof OK_JSON - 1, 2000);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(rg_httpc_get(url("/stall?secret=1"), &o, &r, &msg), RG_ERR_NET);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    srv_stop();
    dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert(dt < 1.5);
    ck_assert_ptr_nonnull(strstr(msg.text, "/stall"));
    ck_assert_ptr_null(strstr(msg.text, "secret")); /* query strings stay out of messages */
}
END_TEST

START_TEST(connection_refused)
{
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_resp r;
    struct rg_msg msg = {{0}};
    char u[64];

    srv_start_n(OK_JSON, sizeof OK_JSON - 1, 0, 0);
    srv_stop(); /* no connection served; the socket is closed */
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", S.port);
    ck_assert_int_eq(rg_httpc_get(u, &o, &r, &msg), RG_ERR_NET);
    ck_assert_ptr_nonnull(strstr(msg.text, "HTTP GET http://127.0.0.1:"));
}
END_TEST

START_TEST(tls_to_plain_server_fails)
{
    struct rg_httpc_opts o = {.max_body = 1024, .total_timeout_ms = 3000};
    struct rg_httpc_resp r;
    char u[64];

    srv_start(OK_JSON, sizeof OK_JSON - 1, 0);
    snprintf(u, sizeof u, "https://127.0.0.1:%d/", S.port);
    ck_assert_int_eq(rg_httpc_get(u, &o, &r, NULL), RG_ERR_NET);
    srv_stop();
    /* a CA file that does not exist is an error, not a fallback to no verification */
    o.ca_file = "/nonexistent/ca.pem";
    ck_assert_int_eq(rg_httpc_get("https://127.0.0.1:1/", &o, &r, NULL), RG_ERR_NET);
}
END_TEST

START_TEST(bad_urls_refused)
{
    struct rg_httpc_opts o = {.max_body = 1024};
    struct rg_httpc_opts nolimit = {.max_body = 0};
    struct rg_httpc_resp r;
    char longurl[RG_HTTPC_URL_MAX + 32];

    ck_assert_int_eq(rg_httpc_get("file:///etc/passwd", &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get("ftp://127.0.0.1/", &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get("http://127.0.0.1/a b", &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get("http://127.0.0.1/\r\nX: y", &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get(NULL, &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get("http://127.0.0.1/", &nolimit, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_get("http://127.0.0.1/", NULL, &r, NULL), RG_ERR_INVALID);
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "http://", 7);
    longurl[sizeof longurl - 1] = '\0';
    ck_assert_int_eq(rg_httpc_get(longurl, &o, &r, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_httpc_post_form("http://127.0.0.1/", NULL, 0, &o, &r, NULL),
                     RG_ERR_INVALID);
}
END_TEST

START_TEST(media_type)
{
    ck_assert(rg_httpc_is_media_type("application/json", "application/json"));
    ck_assert(rg_httpc_is_media_type("Application/JSON;charset=UTF-8", "application/json"));
    ck_assert(!rg_httpc_is_media_type("application/jsonp", "application/json"));
    ck_assert(!rg_httpc_is_media_type("text/html", "application/json"));
    ck_assert(!rg_httpc_is_media_type("", "application/json"));
    ck_assert(!rg_httpc_is_media_type(NULL, "application/json"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpc");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, get_returns_status_body_headers);
    tcase_add_test(tc, post_form_content_length_and_basic);
    tcase_add_test(tc, post_large_body_not_chunked);
    tcase_add_test(tc, bearer_header);
    tcase_add_test(tc, body_limit);
    tcase_add_test(tc, redirect_not_followed);
    tcase_add_test(tc, error_status_is_returned);
    tcase_add_test(tc, total_timeout);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, tls_to_plain_server_fails);
    tcase_add_test(tc, bad_urls_refused);
    tcase_add_test(tc, media_type);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
