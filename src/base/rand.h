/* rand.h — random values from OpenSSL's CSPRNG.
 *
 * rg_random_token returns a malloc'd base64url string of nbytes random bytes (22 chars for
 * 16 bytes, 43 for 32); NULL if the generator or allocation fails. rg_random_uuid writes a
 * version-4 UUID (36 chars + NUL) into out. */
#ifndef RG_BASE_RAND_H
#define RG_BASE_RAND_H

#include <stddef.h>

#include "base/err.h"

rg_err rg_random_bytes(void *out, size_t len);
char *rg_random_token(size_t nbytes);
rg_err rg_random_uuid(char out[37]);

#endif
