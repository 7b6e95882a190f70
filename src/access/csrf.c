#include "access/csrf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/b64.h"
#include "base/mem.h"

/* base64 of a 32-byte MAC without the trailing '=' (43 chars). */
static rg_err b64_nopad_32(const unsigned char mac[32], char out[44])
{
    char *s = rg_b64_encode(mac, 32);

    if (!s)
        return RG_ERR_NOMEM;
    if (strlen(s) != 44 || s[43] != '=') {
        free(s);
        return RG_ERR_CRYPTO;
    }
    memcpy(out, s, 43);
    out[43] = '\0';
    free(s);
    return RG_OK;
}

static rg_err hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                          unsigned char out[32])
{
    unsigned int len = 0;
    static const unsigned char empty = 0;

    if (!HMAC(EVP_sha256(), klen ? key : &empty, (int)klen, msg, mlen, out, &len) || len != 32)
        return RG_ERR_CRYPTO;
    return RG_OK;
}

rg_err rg_csrf_secret(const void *www_key, size_t len, char out[RG_CSRF_SECRET_LEN + 1])
{
    unsigned char mac[32];
    rg_err e;

    out[0] = '\0';
    if ((e = hmac_sha256("", 0, www_key, len, mac)))
        return e;
    e = b64_nopad_32(mac, out);
    rg_wipe(mac, sizeof mac);
    return e;
}

static rg_err token_mac(const char *secret, const char *timehex, const char *userid,
                        char out[44])
{
    char msg[8 + 1 + 256 + 1];
    unsigned char mac[32];
    int n;
    rg_err e;

    n = snprintf(msg, sizeof msg, "%s:%s", timehex, userid);
    if (n < 0 || (size_t)n >= sizeof msg)
        return RG_ERR_LIMIT;
    if ((e = hmac_sha256(secret, strlen(secret), msg, (size_t)n, mac)))
        return e;
    e = b64_nopad_32(mac, out);
    rg_wipe(mac, sizeof mac);
    return e;
}

rg_err rg_csrf_token_create(const char *secret, const char *userid, time_t now,
                            char out[RG_CSRF_TOKEN_LEN + 1])
{
    char timehex[16], mac[44];
    rg_err e;

    out[0] = '\0';
    if (!secret || strlen(secret) != RG_CSRF_SECRET_LEN || !userid || now < 0 ||
        (unsigned long long)now > 0xFFFFFFFFULL)
        return RG_ERR_INVALID;
    snprintf(timehex, sizeof timehex, "%08llX", (unsigned long long)now);
    if ((e = token_mac(secret, timehex, userid, mac)))
        return e;
    memcpy(out, timehex, 8);
    out[8] = ':';
    memcpy(out + 9, mac, 43);
    out[RG_CSRF_TOKEN_LEN] = '\0';
    return RG_OK;
}

rg_err rg_csrf_token_verify(const char *secret, const char *userid, const char *token,
                            time_t now)
{
    char timehex[9], mac[44];
    unsigned long t = 0;
    long long age;
    rg_err e;

    if (!secret || strlen(secret) != RG_CSRF_SECRET_LEN || !userid || !token)
        return RG_ERR_INVALID;
    if (strnlen(token, RG_CSRF_TOKEN_LEN + 1) != RG_CSRF_TOKEN_LEN || token[8] != ':')
        return RG_ERR_INVALID;
    for (int i = 0; i < 8; i++) {
        char c = token[i];
        if (c >= '0' && c <= '9')
            t = t * 16 + (unsigned long)(c - '0');
        else if (c >= 'A' && c <= 'F')
            t = t * 16 + (unsigned long)(c - 'A' + 10);
        else
            return RG_ERR_INVALID;
    }
    for (int i = 9; i < RG_CSRF_TOKEN_LEN; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return RG_ERR_INVALID;
    }
    memcpy(timehex, token, 8);
    timehex[8] = '\0';
    if ((e = token_mac(secret, timehex, userid, mac)))
        return e == RG_ERR_LIMIT ? RG_ERR_AUTH : e;
    if (!rg_ct_eq(mac, 43, token + 9, 43))
        return RG_ERR_AUTH;
    age = (long long)now - (long long)t;
    if (!(age > -300 && age < 7200))
        return RG_ERR_AUTH;
    return RG_OK;
}
