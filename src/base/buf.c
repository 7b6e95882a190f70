#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void rg_buf_init(struct rg_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static rg_err reserve(struct rg_buf *b, size_t extra)
{
    size_t need, ncap;
    char *nd;

    if (extra > b->max || b->len > b->max - extra)
        return RG_ERR_LIMIT;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return RG_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    /* grow by copy so that old (possibly secret) bytes are wiped, never left in freed memory */
    nd = malloc(ncap);
    if (!nd)
        return RG_ERR_NOMEM;
    if (b->data) {
        memcpy(nd, b->data, b->len + 1);
        rg_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = nd;
    b->cap = ncap;
    return RG_OK;
}

rg_err rg_buf_append(struct rg_buf *b, const void *data, size_t len)
{
    rg_err e = reserve(b, len);
    if (e)
        return e;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RG_OK;
}

rg_err rg_buf_appends(struct rg_buf *b, const char *s)
{
    return rg_buf_append(b, s, strlen(s));
}

rg_err rg_buf_appendf(struct rg_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    rg_err e;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RG_ERR_INVALID;
    e = reserve(b, (size_t)n);
    if (e)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RG_OK;
}

void rg_buf_reset(struct rg_buf *b)
{
    if (b->data) {
        rg_wipe(b->data, b->cap);
        b->data[0] = '\0';
    }
    b->len = 0;
}

char *rg_buf_steal(struct rg_buf *b)
{
    char *d = b->data;
    if (!d)
        return strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void rg_buf_free(struct rg_buf *b)
{
    if (b->data) {
        rg_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}
