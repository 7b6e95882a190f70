#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *rg_err_str(rg_err e)
{
    switch (e) {
    case RG_OK: return "ok";
    case RG_ERR_NOMEM: return "out of memory";
    case RG_ERR_INVALID: return "invalid input";
    case RG_ERR_LIMIT: return "size limit exceeded";
    case RG_ERR_NOTFOUND: return "not found";
    case RG_ERR_EXISTS: return "already exists";
    case RG_ERR_IO: return "i/o error";
    case RG_ERR_BUSY: return "busy";
    case RG_ERR_CRYPTO: return "cryptographic failure";
    case RG_ERR_AUTH: return "authentication failure";
    case RG_ERR_DENIED: return "permission denied";
    case RG_ERR_NET: return "network error";
    case RG_ERR_CONFIG: return "configuration error";
    }
    return "unknown error";
}

rg_err rg_fail(struct rg_msg *msg, rg_err e, const char *fmt, ...)
{
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg->text, sizeof msg->text, fmt, ap);
        va_end(ap);
    }
    return e;
}
