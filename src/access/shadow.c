#include "access/shadow.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

#define SALT_LEN 16

void rg_shadow_init(struct rg_shadow *sh)
{
    sh->entries = NULL;
    sh->n = 0;
    sh->cap = 0;
}

void rg_shadow_free(struct rg_shadow *sh)
{
    for (size_t i = 0; i < sh->n; i++)
        rg_free_secret(sh->entries[i].hash);
    free(sh->entries);
    rg_shadow_init(sh);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A token of the line format: no whitespace, no ':', no control characters. */
static int token_char(char c)
{
    return !is_ws(c) && c != ':' && (unsigned char)c >= 0x20 && c != 0x7f;
}

static rg_err put(struct rg_shadow *sh, const char *name, size_t nlen, char *hash)
{
    for (size_t i = 0; i < sh->n; i++) {
        if (strlen(sh->entries[i].name) == nlen && !memcmp(sh->entries[i].name, name, nlen)) {
            rg_free_secret(sh->entries[i].hash);
            sh->entries[i].hash = hash;
            return RG_OK;
        }
    }
    if (sh->n == sh->cap) {
        size_t ncap = sh->cap ? sh->cap * 2 : 16;
        struct rg_shadow_entry *ne = realloc(sh->entries, ncap * sizeof *ne);
        if (!ne)
            return RG_ERR_NOMEM;
        sh->entries = ne;
        sh->cap = ncap;
    }
    memcpy(sh->entries[sh->n].name, name, nlen);
    sh->entries[sh->n].name[nlen] = '\0';
    sh->entries[sh->n].hash = hash;
    sh->n++;
    return RG_OK;
}

rg_err rg_shadow_parse(const char *text, size_t len, struct rg_shadow *out,
                       rg_cfg_warn_fn *warn, void *warn_ctx)
{
    size_t pos = 0;
    int lineno = 0;
    rg_err e = RG_OK;

    rg_shadow_init(out);
    if (len > RG_SHADOW_FILE_MAX)
        return RG_ERR_LIMIT;
    while (pos < len && !e) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        size_t i = 0, ns, nlen, hs, hlen;

        pos += n + (nl ? 1 : 0);
        lineno++;
        while (i < n && is_ws(s[i]))
            i++;
        if (i == n)
            continue;
        ns = i;
        while (i < n && token_char(s[i]))
            i++;
        nlen = i - ns;
        if (nlen == 0 || nlen > RG_USERID_MAX || i >= n || s[i] != ':')
            goto bad;
        hs = ++i;
        while (i < n && token_char(s[i]))
            i++;
        hlen = i - hs;
        if (hlen == 0 || hlen > RG_SHADOW_HASH_MAX || i >= n || s[i] != ':')
            goto bad;
        for (i++; i < n; i++)
            if (!is_ws(s[i]))
                goto bad;
        {
            char *hash = strndup(s + hs, hlen);
            if (!hash) {
                e = RG_ERR_NOMEM;
                break;
            }
            if ((e = put(out, s + ns, nlen, hash)))
                rg_free_secret(hash);
        }
        continue;
    bad:
        if (warn)
            warn(warn_ctx, lineno, "shadow.cfg - ignore invalid line");
        else
            rg_warn("shadow.cfg line %d: ignore invalid line", lineno);
    }
    if (e)
        rg_shadow_free(out);
    return e;
}

rg_err rg_shadow_write(const struct rg_shadow *sh, struct rg_buf *out)
{
    for (size_t i = 0; i < sh->n; i++) {
        rg_err e = rg_buf_appendf(out, "%s:%s:\n", sh->entries[i].name, sh->entries[i].hash);
        if (e)
            return e;
    }
    return RG_OK;
}

const char *rg_shadow_get(const struct rg_shadow *sh, const char *name)
{
    for (size_t i = 0; i < sh->n; i++)
        if (!strcmp(sh->entries[i].name, name))
            return sh->entries[i].hash;
    return NULL;
}

rg_err rg_shadow_delete(struct rg_shadow *sh, const char *name)
{
    for (size_t i = 0; i < sh->n; i++) {
        if (strcmp(sh->entries[i].name, name))
            continue;
        rg_free_secret(sh->entries[i].hash);
        memmove(&sh->entries[i], &sh->entries[i + 1], (sh->n - i - 1) * sizeof *sh->entries);
        sh->n--;
        return RG_OK;
    }
    return RG_ERR_NOTFOUND;
}

rg_err rg_password_hash(const char *password, char **out)
{
    static const char alphabet[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[SALT_LEN];
    char setting[4 + SALT_LEN + 1] = "$5$";
    struct crypt_data *cd;
    const char *res;
    rg_err e = RG_OK;

    *out = NULL;
    if (!password || strlen(password) > RG_PASSWORD_MAX)
        return RG_ERR_INVALID;
    if ((e = rg_random_bytes(rnd, sizeof rnd)))
        return e;
    for (size_t i = 0; i < SALT_LEN; i++)
        setting[3 + i] = alphabet[rnd[i] & 63]; /* 64 symbols: no modulo bias */
    setting[3 + SALT_LEN] = '\0';
    rg_wipe(rnd, sizeof rnd);
    if (!(cd = calloc(1, sizeof *cd)))
        return RG_ERR_NOMEM;
    res = crypt_rn(password, setting, cd, (int)sizeof *cd);
    if (!res || res[0] == '*')
        e = RG_ERR_CRYPTO;
    else if (!(*out = strdup(res)))
        e = RG_ERR_NOMEM;
    rg_wipe(cd, sizeof *cd);
    free(cd);
    return e;
}

rg_err rg_password_check(const char *password, const char *hash)
{
    struct crypt_data *cd;
    const char *res;
    rg_err e;

    if (!password || !hash || !hash[0] || strlen(password) > RG_PASSWORD_MAX)
        return RG_ERR_INVALID;
    if (!(cd = calloc(1, sizeof *cd)))
        return RG_ERR_NOMEM;
    res = crypt_rn(password, hash, cd, (int)sizeof *cd);
    if (!res || res[0] == '*')
        e = RG_ERR_INVALID; /* unknown or malformed hash: never a match */
    else
        e = rg_ct_streq(res, hash) ? RG_OK : RG_ERR_AUTH;
    rg_wipe(cd, sizeof *cd);
    free(cd);
    return e;
}

rg_err rg_shadow_set(struct rg_shadow *sh, const char *name, const char *password,
                     struct rg_msg *msg)
{
    char *hash;
    rg_err e;

    if (!name || !name[0] || strlen(name) > RG_USERID_MAX)
        return rg_fail(msg, RG_ERR_INVALID, "invalid user name");
    for (const char *p = name; *p; p++)
        if (!token_char(*p))
            return rg_fail(msg, RG_ERR_INVALID, "invalid user name");
    if (!password || !password[0])
        return rg_fail(msg, RG_ERR_INVALID, "no password");
    if ((e = rg_password_hash(password, &hash)))
        return rg_fail(msg, e, "unable to hash password");
    if ((e = put(sh, name, strlen(name), hash))) {
        rg_free_secret(hash);
        return rg_fail(msg, e, "out of memory");
    }
    return RG_OK;
}

rg_err rg_shadow_verify(const struct rg_shadow *sh, const char *name, const char *password,
                        struct rg_msg *msg)
{
    const char *hash;
    rg_err e;

    if (!password || !password[0])
        return rg_fail(msg, RG_ERR_AUTH, "no password");
    if (!name || !(hash = rg_shadow_get(sh, name)))
        return rg_fail(msg, RG_ERR_AUTH, "no password set");
    e = rg_password_check(password, hash);
    if (e == RG_ERR_NOMEM)
        return rg_fail(msg, e, "out of memory");
    if (e)
        return rg_fail(msg, RG_ERR_AUTH, "invalid credentials");
    return RG_OK;
}
