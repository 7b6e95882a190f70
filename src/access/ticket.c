#include "access/ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/mem.h"

#define PREFIX_MAX 32

static int prefix_ok(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;

    if (n == 0 || n > PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = prefix[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* The signed text: PREFIX:[DATA:]TIME[:AAD]. */
static rg_err signed_text(struct rg_buf *b, const char *prefix, const char *data_enc, size_t dlen,
                          const char *timehex, const char *aad)
{
    rg_err e = rg_buf_appends(b, prefix);

    if (!e)
        e = rg_buf_appends(b, ":");
    if (!e && data_enc) {
        if (!(e = rg_buf_append(b, data_enc, dlen)))
            e = rg_buf_appends(b, ":");
    }
    if (!e)
        e = rg_buf_appends(b, timehex);
    if (!e && aad) {
        if (!(e = rg_buf_appends(b, ":")))
            e = rg_buf_appends(b, aad);
    }
    return e;
}

static rg_err rsa_sign(EVP_PKEY *key, const void *msg, size_t len, unsigned char **sig,
                       size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    rg_err e = RG_ERR_CRYPTO;

    *sig = NULL;
    if (!ctx)
        return RG_ERR_NOMEM;
    if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_DigestSign(ctx, NULL, siglen, msg, len) != 1)
        goto out;
    if (!(*sig = malloc(*siglen))) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestSign(ctx, *sig, siglen, msg, len) != 1) {
        free(*sig);
        *sig = NULL;
        goto out;
    }
    e = RG_OK;
out:
    EVP_MD_CTX_free(ctx);
    return e;
}

static rg_err rsa_verify(EVP_PKEY *key, const void *msg, size_t len, const unsigned char *sig,
                         size_t siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    rg_err e = RG_ERR_CRYPTO;

    if (!ctx)
        return RG_ERR_NOMEM;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
        (size_t)EVP_PKEY_get_size(key) == siglen &&
        EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1)
        e = RG_OK;
    EVP_MD_CTX_free(ctx);
    return e;
}

rg_err rg_ticket_create(EVP_PKEY *key, const char *prefix, const char *data, const char *aad,
                        time_t now, char **out)
{
    struct rg_buf enc, text;
    char timehex[16];
    unsigned char *sig = NULL;
    size_t siglen = 0;
    char *sig64 = NULL;
    rg_err e = RG_OK;

    *out = NULL;
    if (!key || !prefix_ok(prefix) || now < 0 || (unsigned long long)now > 0xFFFFFFFFULL)
        return RG_ERR_INVALID;
    if (data && (!data[0] || strpbrk(data, " \t\r\n")))
        return RG_ERR_INVALID;
    snprintf(timehex, sizeof timehex, "%08llX", (unsigned long long)now);
    rg_buf_init(&enc, RG_TICKET_MAX);
    rg_buf_init(&text, RG_TICKET_MAX + 1024);
    for (const char *p = data; p && *p && !e; p++)
        e = *p == ':' ? rg_buf_appends(&enc, "%3A") : rg_buf_append(&enc, p, 1);
    if (!e)
        e = signed_text(&text, prefix, data ? (enc.data ? enc.data : "") : NULL, enc.len, timehex,
                        aad);
    if (!e)
        e = rsa_sign(key, text.data, text.len, &sig, &siglen);
    if (!e && !(sig64 = rg_b64_encode(sig, siglen)))
        e = RG_ERR_NOMEM;
    if (!e) {
        /* the transmitted ticket is the signed text without AAD */
        struct rg_buf t;
        rg_buf_init(&t, RG_TICKET_MAX);
        if (!(e = signed_text(&t, prefix, data ? (enc.data ? enc.data : "") : NULL, enc.len,
                              timehex, NULL)) &&
            !(e = rg_buf_appends(&t, "::")) && !(e = rg_buf_appends(&t, sig64)))
            *out = rg_buf_steal(&t);
        if (!e && !*out)
            e = RG_ERR_NOMEM;
        rg_buf_free(&t);
    }
    free(sig);
    free(sig64);
    rg_buf_free(&enc);
    rg_buf_free(&text);
    return e;
}

static int is_hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

rg_err rg_ticket_verify(EVP_PKEY *pub, const char *prefix, const char *ticket, const char *aad,
                        time_t now, long min_age, long max_age, char **data_out)
{
    size_t tlen, plen, slen;
    const char *sep, *sigtxt, *body, *timehex;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    struct rg_buf text;
    char *data = NULL;
    long long age;
    unsigned long t = 0;
    rg_err e;

    if (data_out)
        *data_out = NULL;
    if (!pub || !prefix_ok(prefix) || !ticket)
        return RG_ERR_INVALID;
    tlen = strnlen(ticket, RG_TICKET_MAX + 1);
    if (tlen > RG_TICKET_MAX)
        return RG_ERR_LIMIT;
    plen = strlen(prefix);
    if (tlen <= plen + 1 || memcmp(ticket, prefix, plen) != 0 || ticket[plen] != ':')
        return RG_ERR_INVALID;
    /* signed part = up to the (only) "::" */
    sep = strstr(ticket + plen + 1, "::");
    if (!sep)
        return RG_ERR_INVALID;
    sigtxt = sep + 2;
    slen = tlen - (size_t)(sigtxt - ticket);
    for (size_t i = 0; i < slen; i++)
        if (sigtxt[i] == ':' || sigtxt[i] == ' ' || (unsigned char)sigtxt[i] < 0x21)
            return RG_ERR_INVALID;
    /* body = "[DATA:]TIME" */
    body = ticket + plen + 1;
    if ((size_t)(sep - body) < 8)
        return RG_ERR_INVALID;
    timehex = sep - 8;
    for (int i = 0; i < 8; i++)
        if (!is_hex_upper(timehex[i]))
            return RG_ERR_INVALID;
    if (timehex != body) {
        if (timehex - body < 2 || timehex[-1] != ':')
            return RG_ERR_INVALID;
        for (const char *p = body; p < timehex - 1; p++)
            if ((unsigned char)*p <= 0x20 || *p == ':' || *p == 0x7f)
                return RG_ERR_INVALID;
    }
    for (int i = 0; i < 8; i++)
        t = t * 16 + (unsigned long)(timehex[i] <= '9' ? timehex[i] - '0' : timehex[i] - 'A' + 10);
    if ((e = rg_b64_decode(sigtxt, slen, &sig, &siglen)))
        return RG_ERR_INVALID;
    rg_buf_init(&text, RG_TICKET_MAX + 1024);
    e = rg_buf_append(&text, ticket, (size_t)(sep - ticket));
    if (!e && aad && (!(e = rg_buf_appends(&text, ":"))))
        e = rg_buf_appends(&text, aad);
    if (!e)
        e = rsa_verify(pub, text.data, text.len, sig, siglen);
    rg_buf_free(&text);
    free(sig);
    if (e)
        return e;
    age = (long long)now - (long long)t;
    if (!(age > min_age && age < max_age))
        return RG_ERR_AUTH;
    if (data_out) {
        /* decode "%3A" back to ':' (the only escape the format has) */
        size_t dlen = timehex == body ? 0 : (size_t)(timehex - 1 - body), o = 0;
        if (!(data = malloc(dlen + 1)))
            return RG_ERR_NOMEM;
        for (size_t i = 0; i < dlen; i++) {
            if (body[i] == '%' && i + 2 < dlen && body[i + 1] == '3' &&
                (body[i + 2] == 'A' || body[i + 2] == 'a')) {
                data[o++] = ':';
                i += 2;
            } else {
                data[o++] = body[i];
            }
        }
        data[o] = '\0';
        *data_out = data;
    }
    return RG_OK;
}

rg_err rg_login_ticket_create(EVP_PKEY *key, const char *userid, time_t now, char **out)
{
    return rg_ticket_create(key, "PVE", userid, NULL, now, out);
}

rg_err rg_login_ticket_verify(EVP_PKEY *pub, const char *ticket, time_t now, char **userid_out)
{
    return rg_ticket_verify(pub, "PVE", ticket, NULL, now, RG_TICKET_MIN_AGE, RG_TICKET_MAX_AGE,
                            userid_out);
}
