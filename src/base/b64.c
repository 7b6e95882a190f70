#include "base/b64.h"

#include <stdlib.h>
#include <string.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const unsigned char *in, size_t len, const char *alpha, int pad)
{
    size_t olen = 4 * ((len + 2) / 3) + 1;
    char *out, *o;
    size_t i;

    if (len > ((size_t)-1) / 2)
        return NULL;
    out = malloc(olen);
    if (!out)
        return NULL;
    o = out;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        *o++ = alpha[v >> 6 & 63];
        *o++ = alpha[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        *o++ = alpha[v >> 6 & 63];
        if (pad)
            *o++ = '=';
    }
    *o = '\0';
    return out;
}

char *rg_b64_encode(const void *data, size_t len) { return encode(data, len, STD, 1); }
char *rg_b64url_encode(const void *data, size_t len) { return encode(data, len, URL, 0); }

static int val(char c, int url)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (!url && c == '+') return 62;
    if (!url && c == '/') return 63;
    if (url && c == '-') return 62;
    if (url && c == '_') return 63;
    return -1;
}

static rg_err decode(const char *in, size_t inlen, int url, unsigned char **out, size_t *outlen)
{
    size_t pad = 0, n, i, o = 0;
    unsigned char *buf;
    unsigned acc = 0;
    int bits = 0;

    *out = NULL;
    *outlen = 0;
    if (!url) {
        if (inlen % 4)
            return RG_ERR_INVALID;
        while (pad < 2 && inlen > pad && in[inlen - 1 - pad] == '=')
            pad++;
    }
    n = inlen - pad;
    if (n % 4 == 1)
        return RG_ERR_INVALID;
    buf = malloc(n / 4 * 3 + 3);
    if (!buf)
        return RG_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        int v = val(in[i], url);
        if (v < 0) {
            free(buf);
            return RG_ERR_INVALID;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if (acc != 0 || (!url && pad && (n % 4) + pad != 4)) {
        free(buf);
        return RG_ERR_INVALID;
    }
    buf[o] = 0;
    *out = buf;
    *outlen = o;
    return RG_OK;
}

rg_err rg_b64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
    return decode(in, inlen, 0, out, outlen);
}

rg_err rg_b64url_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
    return decode(in, inlen, 1, out, outlen);
}
