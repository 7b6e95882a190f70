#include "base/rand.h"

#include <openssl/rand.h>
#include <stdio.h>

#include "base/b64.h"
#include "base/mem.h"

rg_err rg_random_bytes(void *out, size_t len)
{
    if (len > 1 << 20 || RAND_bytes(out, (int)len) != 1)
        return RG_ERR_CRYPTO;
    return RG_OK;
}

char *rg_random_token(size_t nbytes)
{
    unsigned char raw[64];
    char *s;
    if (nbytes > sizeof raw || rg_random_bytes(raw, nbytes))
        return NULL;
    s = rg_b64url_encode(raw, nbytes);
    rg_wipe(raw, sizeof raw);
    return s;
}

rg_err rg_random_uuid(char out[37])
{
    unsigned char r[16];
    if (rg_random_bytes(r, sizeof r))
        return RG_ERR_CRYPTO;
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
    return RG_OK;
}
