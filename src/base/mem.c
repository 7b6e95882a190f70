#include "base/mem.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

bool rg_ct_eq(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    if (alen == 0)
        return true;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

bool rg_ct_streq(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    return rg_ct_eq(a, strlen(a), b, strlen(b));
}

void rg_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

void rg_free_secret(char *s)
{
    if (!s)
        return;
    rg_wipe(s, strlen(s));
    free(s);
}
