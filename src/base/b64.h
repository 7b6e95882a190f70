/* b64.h — base64 (RFC 4648 §4, padded) and base64url (§5, unpadded, as JOSE uses it).
 *
 * Encoders return a malloc'd NUL-terminated string (NULL on allocation failure).
 * Decoders are strict: any character outside the alphabet, bad padding, or non-zero
 * trailing bits gives RG_ERR_INVALID; base64url refuses '=' padding. They return a malloc'd
 * buffer (with a spare NUL byte after *outlen bytes) that the caller frees. */
#ifndef RG_BASE_B64_H
#define RG_BASE_B64_H

#include <stddef.h>

#include "base/err.h"

char *rg_b64_encode(const void *data, size_t len);
char *rg_b64url_encode(const void *data, size_t len);
rg_err rg_b64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen);
rg_err rg_b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen);

#endif
