/* httpc.c — bounded, verifying HTTP client on libcurl (see httpc.h). */
#include "net/httpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#ifndef RG_VERSION
#define RG_VERSION "0"
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_FAILED_INIT;

static void global_init(void)
{
    init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

rg_err rg_httpc_global_init(void)
{
    pthread_once(&init_once, global_init);
    if (init_result != CURLE_OK) {
        rg_error("curl_global_init failed: %s", curl_easy_strerror(init_result));
        return RG_ERR_NET;
    }
    return RG_OK;
}

void rg_httpc_resp_free(struct rg_httpc_resp *resp)
{
    if (!resp)
        return;
    if (resp->body) {
        rg_wipe(resp->body, resp->body_len);
        free(resp->body);
    }
    memset(resp, 0, sizeof *resp);
    resp->date_parsed = (time_t)-1;
}

int rg_httpc_is_media_type(const char *content_type, const char *type)
{
    size_t n;
    if (!content_type || !type)
        return 0;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    n = strlen(type);
    if (strncasecmp(content_type, type, n) != 0)
        return 0;
    content_type += n;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    return *content_type == '\0' || *content_type == ';';
}

/* The URL for messages: scheme, host and path; the query (which may carry data) cut off. */
static void url_for_msg(const char *url, char *out, size_t outsz)
{
    size_t n = strcspn(url, "?#");
    if (n > 200)
        n = 200;
    snprintf(out, outsz, "%.*s", (int)n, url);
}

static int url_ok(const char *url)
{
    size_t len;
    if (!url)
        return 0;
    len = strlen(url);
    if (len > RG_HTTPC_URL_MAX)
        return 0;
    if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
        return 0;
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

struct xfer {
    struct rg_buf body;
    int over_limit;
    struct rg_httpc_resp *resp;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (rg_buf_append(&x->body, ptr, n) != RG_OK) {
        x->over_limit = 1;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    return n;
}

/* Copies the value of "Name: value\r\n" into dst when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char *dst, size_t dstsz)
{
    size_t nl = strlen(name), vlen;
    const char *v, *end = line + len;

    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    v = line + nl + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    vlen = (size_t)(end - v);
    if (vlen >= dstsz)
        vlen = dstsz - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    /* no control characters survive into values we may log */
    for (char *c = dst; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;

    /* a new status line (after 100 Continue or a proxy CONNECT) starts a new header set */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        x->resp->content_type[0] = '\0';
        x->resp->date[0] = '\0';
        return n;
    }
    header_value(ptr, n, "Content-Type", x->resp->content_type, sizeof x->resp->content_type);
    header_value(ptr, n, "Date", x->resp->date, sizeof x->resp->date);
    return n;
}

static rg_err add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n)
        return RG_ERR_NOMEM;
    *list = n;
    return RG_OK;
}

/* Authorization header line (a secret): built in a wiped buffer. */
static rg_err add_auth(struct curl_slist **list, const struct rg_httpc_opts *o)
{
    struct rg_buf b;
    char *cred = NULL;
    rg_err e = RG_OK;

    rg_buf_init(&b, 16 * 1024);
    if (o->basic_user) {
        struct rg_buf pair;
        rg_buf_init(&pair, 8 * 1024);
        e = rg_buf_appendf(&pair, "%s:%s", o->basic_user, o->basic_pass ? o->basic_pass : "");
        if (!e) {
            cred = rg_b64_encode(pair.data, pair.len);
            if (!cred)
                e = RG_ERR_NOMEM;
        }
        rg_buf_free(&pair);
        if (!e)
            e = rg_buf_appendf(&b, "Authorization: Basic %s", cred);
    } else if (o->bearer) {
        e = rg_buf_appendf(&b, "Authorization: Bearer %s", o->bearer);
    } else {
        goto out;
    }
    if (!e)
        e = add_header(list, b.data);
out:
    rg_free_secret(cred);
    rg_buf_free(&b);
    return e;
}

static void wipe_headers(struct curl_slist *list)
{
    for (struct curl_slist *n = list; n; n = n->next)
        rg_wipe(n->data, strlen(n->data));
    curl_slist_free_all(list);
}

static rg_err request(const char *url, const char *post, size_t post_len,
                      const struct rg_httpc_opts *o, struct rg_httpc_resp *resp,
                      struct rg_msg *msg)
{
    char where[256], errbuf[CURL_ERROR_SIZE], accept[256], noproxy[1024];
    struct curl_slist *hdrs = NULL;
    struct xfer x;
    CURL *c = NULL;
    CURLcode cc;
    rg_err e;

    memset(resp, 0, sizeof *resp);
    resp->date_parsed = (time_t)-1;
    rg_buf_init(&x.body, o ? o->max_body : 0);
    x.over_limit = 0;
    x.resp = resp;
    if (!o || o->max_body == 0)
        return rg_fail(msg, RG_ERR_INVALID, "HTTP request without a body limit");
    if (!url_ok(url))
        return rg_fail(msg, RG_ERR_INVALID, "refusing to fetch a URL that is not http(s) or "
                                            "is malformed");
    url_for_msg(url, where, sizeof where);
    if (rg_httpc_global_init() != RG_OK)
        return rg_fail(msg, RG_ERR_NET, "HTTP client initialisation failed");

    c = curl_easy_init();
    if (!c) {
        e = rg_fail(msg, RG_ERR_NOMEM, "cannot create an HTTP handle");
        goto out;
    }
    errbuf[0] = '\0';
    snprintf(accept, sizeof accept, "Accept: %s", o->accept ? o->accept : "application/json");
    e = add_header(&hdrs, accept);
    if (!e)
        e = add_header(&hdrs, "Expect:"); /* no 100-continue round trip */
    if (!e && post)
        e = add_header(&hdrs, "Content-Type: application/x-www-form-urlencoded");
    if (!e)
        e = add_auth(&hdrs, o);
    if (e) {
        e = rg_fail(msg, e, "cannot build request headers for %s", where);
        goto out;
    }

    {
        /* loopback never goes through a proxy (local test providers), whatever the
         * environment says; the environment's own no_proxy list is kept */
        const char *env = getenv("no_proxy");
        if (!env || !*env)
            env = getenv("NO_PROXY");
        if (env && *env && strlen(env) < sizeof noproxy - 64)
            snprintf(noproxy, sizeof noproxy, "%s,localhost,127.0.0.0/8,::1", env);
        else
            snprintf(noproxy, sizeof noproxy, "localhost,127.0.0.0/8,::1");
        curl_easy_setopt(c, CURLOPT_NOPROXY, noproxy);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "realmgate/" RG_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                               : (long)RG_HTTPC_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     o->total_timeout_ms > 0 ? o->total_timeout_ms
                                             : (long)RG_HTTPC_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    }

    cc = curl_easy_perform(c);
    if (x.over_limit || cc == CURLE_FILESIZE_EXCEEDED) {
        e = rg_fail(msg, RG_ERR_LIMIT, "response from %s larger than %zu bytes", where,
                    o->max_body);
        goto out;
    }
    if (cc != CURLE_OK) {
        e = rg_fail(msg, RG_ERR_NET, "HTTP %s %s failed: %s", post ? "POST" : "GET", where,
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->date[0])
        resp->date_parsed = curl_getdate(resp->date, NULL);
    if (!x.body.data && rg_buf_append(&x.body, "", 0) != RG_OK) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    resp->body_len = x.body.len;
    resp->body = rg_buf_steal(&x.body);
    if (!resp->body) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = RG_OK;
out:
    if (c)
        curl_easy_cleanup(c);
    wipe_headers(hdrs);
    rg_buf_free(&x.body);
    if (e)
        rg_httpc_resp_free(resp);
    return e;
}

rg_err rg_httpc_get(const char *url, const struct rg_httpc_opts *opts,
                    struct rg_httpc_resp *resp, struct rg_msg *msg)
{
    return request(url, NULL, 0, opts, resp, msg);
}

rg_err rg_httpc_post_form(const char *url, const char *body, size_t len,
                          const struct rg_httpc_opts *opts, struct rg_httpc_resp *resp,
                          struct rg_msg *msg)
{
    if (!body)
        return rg_fail(msg, RG_ERR_INVALID, "POST without a body");
    return request(url, body, len, opts, resp, msg);
}
