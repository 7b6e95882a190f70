/* err.h — error values shared by every layer.
 *
 * Every function that can fail returns an rg_err (0 = success). Where a person must read
 * the reason, the function also fills a caller-provided message buffer (struct rg_msg).
 * Messages never contain secrets or whole tokens. */
#ifndef RG_BASE_ERR_H
#define RG_BASE_ERR_H

#include <stddef.h>

typedef enum rg_err {
    RG_OK = 0,
    RG_ERR_NOMEM,     /* allocation failed */
    RG_ERR_INVALID,   /* malformed input (syntax, grammar, out of range) */
    RG_ERR_LIMIT,     /* input larger than the limit chosen for it */
    RG_ERR_NOTFOUND,  /* the thing asked for does not exist */
    RG_ERR_EXISTS,    /* the thing to create already exists */
    RG_ERR_IO,        /* file system error (errno is logged by the callee) */
    RG_ERR_BUSY,      /* lock not obtained in time */
    RG_ERR_CRYPTO,    /* OpenSSL failure or signature/MAC mismatch */
    RG_ERR_AUTH,      /* authentication or validation refused */
    RG_ERR_DENIED,    /* authenticated, but not allowed */
    RG_ERR_NET,       /* network or remote-server failure */
    RG_ERR_CONFIG,    /* configuration refuses the operation */
} rg_err;

/* Short constant name of an error value ("invalid input", ...). */
const char *rg_err_str(rg_err e);

/* A fixed-size message buffer for human-readable reasons. */
#define RG_MSG_MAX 512
struct rg_msg {
    char text[RG_MSG_MAX];
};

/* Formats into msg (truncating) and returns e, so callers can write
 * `return rg_fail(msg, RG_ERR_INVALID, "bad %s", what);`. msg may be NULL. */
rg_err rg_fail(struct rg_msg *msg, rg_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
