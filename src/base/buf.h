/* buf.h — the one growable byte buffer, with a hard size limit chosen by its owner.
 *
 * Every text assembled from or for the network goes through rg_buf. Appending past `max`
 * fails with RG_ERR_LIMIT and leaves the buffer unchanged. The data is always
 * NUL-terminated (the terminator is not counted in len). The buffer owns `data`;
 * rg_buf_free wipes it before freeing, so buffers may hold secrets. */
#ifndef RG_BASE_BUF_H
#define RG_BASE_BUF_H

#include <stddef.h>

#include "base/err.h"

struct rg_buf {
    char *data;   /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;   /* limit on len */
};

void rg_buf_init(struct rg_buf *b, size_t max);
rg_err rg_buf_append(struct rg_buf *b, const void *data, size_t len);
rg_err rg_buf_appends(struct rg_buf *b, const char *s);
rg_err rg_buf_appendf(struct rg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer (wiping the old content), keeping its memory and limit. */
void rg_buf_reset(struct rg_buf *b);
/* Hands the NUL-terminated data to the caller (who frees it with free()); b becomes empty.
 * Returns an empty allocated string for an empty buffer, NULL only on allocation failure. */
char *rg_buf_steal(struct rg_buf *b);
/* Wipes and frees. */
void rg_buf_free(struct rg_buf *b);

#endif
