/* tokens.c — API-token secrets (priv/token.cfg); see tokens.h for the format and why. */
#include "access/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access/store.h"
#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

#define HASH_PREFIX "$hmac-sha256$"
#define SALT_BYTES 16
#define MAC_BYTES 32
#define SALT_B64 22
#define MAC_B64 43
#define HASHED_LEN (sizeof HASH_PREFIX - 1 + SALT_B64 + 1 + MAC_B64)

void rg_tokencfg_init(struct rg_tokencfg *tc)
{
    memset(tc, 0, sizeof *tc);
}

void rg_tokencfg_free(struct rg_tokencfg *tc)
{
    for (size_t i = 0; i < tc->n; i++)
        rg_free_secret(tc->entries[i].stored);
    free(tc->entries);
    rg_tokencfg_init(tc);
}

/* Index of id, or of where it would be inserted; *found says which. */
static size_t find(const struct rg_tokencfg *tc, const char *id, int *found)
{
    size_t lo = 0, hi = tc->n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(tc->entries[mid].id, id);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Takes ownership of stored (also on failure). */
static rg_err put(struct rg_tokencfg *tc, const char *id, char *stored)
{
    int found;
    size_t i = find(tc, id, &found);

    if (found) {
        rg_free_secret(tc->entries[i].stored);
        tc->entries[i].stored = stored;
        return RG_OK;
    }
    if (tc->n == tc->cap) {
        size_t ncap = tc->cap ? tc->cap * 2 : 16;
        struct rg_token_secret *ne = realloc(tc->entries, ncap * sizeof *ne);
        if (!ne) {
            rg_free_secret(stored);
            return RG_ERR_NOMEM;
        }
        tc->entries = ne;
        tc->cap = ncap;
    }
    memmove(&tc->entries[i + 1], &tc->entries[i], (tc->n - i) * sizeof *tc->entries);
    snprintf(tc->entries[i].id, sizeof tc->entries[i].id, "%s", id);
    tc->entries[i].stored = stored;
    tc->n++;
    return RG_OK;
}

static void remove_at(struct rg_tokencfg *tc, size_t i)
{
    rg_free_secret(tc->entries[i].stored);
    memmove(&tc->entries[i], &tc->entries[i + 1], (tc->n - i - 1) * sizeof *tc->entries);
    tc->n--;
}

static int is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

/* Splits a hashed value into its salt and MAC parts (pointers into stored). */
static int hashed_parts(const char *stored, const char **salt, const char **mac)
{
    size_t plen = sizeof HASH_PREFIX - 1;

    if (strlen(stored) != HASHED_LEN || strncmp(stored, HASH_PREFIX, plen) != 0)
        return 0;
    *salt = stored + plen;
    *mac = *salt + SALT_B64 + 1;
    return (*salt)[SALT_B64] == '$' && is_b64url(*salt, SALT_B64) && is_b64url(*mac, MAC_B64);
}

static int has_ctl_or_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || *s == 0x7f)
            return 1;
    return 0;
}

#define warnf(warn, ctx, line, ...) rg_cfg_warnf((warn), (ctx), "token.cfg", (line), __VA_ARGS__)

rg_err rg_tokencfg_parse(const char *text, size_t len, struct rg_tokencfg *out,
                         rg_cfg_warn_fn *warn, void *warn_ctx)
{
    const char *p = text, *end = text + len;
    int lineno = 0;
    rg_err e = RG_OK;

    rg_tokencfg_init(out);
    if (len > RG_TOKENCFG_FILE_MAX)
        return RG_ERR_LIMIT;
    while (p < end && !e) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char line[RG_TOKENID_MAX + RG_TOKEN_SECRET_MAX + 8];
        char *s, *sp, *id, *sec;
        size_t n = (size_t)(le - p);

        lineno++;
        if (n >= sizeof line) {
            warnf(warn, warn_ctx, lineno, "ignoring overlong line");
            p = nl ? nl + 1 : end;
            continue;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;
        s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!*s)
            continue;
        if (!(sp = strchr(s, ' '))) {
            warnf(warn, warn_ctx, lineno, "ignoring line without secret");
            rg_wipe(line, sizeof line);
            continue;
        }
        *sp = '\0';
        id = s;
        sec = sp + 1;
        if (!rg_tokenid_check(id)) {
            warnf(warn, warn_ctx, lineno, "ignoring invalid token id");
        } else if (!*sec || strlen(sec) > RG_TOKEN_SECRET_MAX || has_ctl_or_space(sec)) {
            warnf(warn, warn_ctx, lineno, "ignoring token '%s': invalid secret", id);
        } else {
            const char *salt, *mac;
            if (sec[0] == '$' && !hashed_parts(sec, &salt, &mac)) {
                warnf(warn, warn_ctx, lineno, "ignoring token '%s': malformed hash", id);
            } else {
                char *copy = strdup(sec);
                if (rg_tokencfg_get(out, id))
                    warnf(warn, warn_ctx, lineno,
                          "token '%s' listed again: this line replaces the earlier one", id);
                e = copy ? put(out, id, copy) : RG_ERR_NOMEM;
            }
        }
        rg_wipe(line, sizeof line);
    }
    if (e)
        rg_tokencfg_free(out);
    return e;
}

/* HMAC-SHA256(salt, secret) into mac. */
static rg_err mac_of(const unsigned char *salt, size_t saltlen, const char *secret,
                     unsigned char mac[MAC_BYTES])
{
    unsigned int maclen = 0;

    if (!HMAC(EVP_sha256(), salt, (int)saltlen, (const unsigned char *)secret, strlen(secret),
              mac, &maclen) ||
        maclen != MAC_BYTES)
        return RG_ERR_CRYPTO;
    return RG_OK;
}

rg_err rg_token_secret_hash(const char *secret, char **out)
{
    unsigned char salt[SALT_BYTES], mac[MAC_BYTES];
    char *s = NULL, *m = NULL;
    rg_err e;

    *out = NULL;
    if ((e = rg_random_bytes(salt, sizeof salt)) || (e = mac_of(salt, sizeof salt, secret, mac)))
        goto out;
    s = rg_b64url_encode(salt, sizeof salt);
    m = rg_b64url_encode(mac, sizeof mac);
    if (!s || !m || !(*out = malloc(HASHED_LEN + 1))) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    snprintf(*out, HASHED_LEN + 1, "%s%s$%s", HASH_PREFIX, s, m);
out:
    rg_wipe(mac, sizeof mac);
    free(s);
    free(m);
    return e;
}

rg_err rg_token_secret_check(const char *secret, const char *stored)
{
    const char *salt_b64, *mac_b64;
    unsigned char *salt = NULL, *want = NULL, mac[MAC_BYTES];
    size_t saltlen = 0, wantlen = 0;
    rg_err e;

    if (!secret || !stored)
        return RG_ERR_AUTH;
    if (stored[0] != '$')
        return rg_ct_streq(secret, stored) ? RG_OK : RG_ERR_AUTH;
    if (!hashed_parts(stored, &salt_b64, &mac_b64))
        return RG_ERR_INVALID;
    if (rg_b64url_decode(salt_b64, SALT_B64, &salt, &saltlen) != RG_OK ||
        rg_b64url_decode(mac_b64, MAC_B64, &want, &wantlen) != RG_OK || wantlen != MAC_BYTES) {
        e = RG_ERR_INVALID;
        goto out;
    }
    if ((e = mac_of(salt, saltlen, secret, mac)))
        goto out;
    e = rg_ct_eq(mac, sizeof mac, want, wantlen) ? RG_OK : RG_ERR_AUTH;
out:
    rg_wipe(mac, sizeof mac);
    free(salt);
    free(want);
    return e;
}

rg_err rg_tokencfg_write(const struct rg_tokencfg *tc, struct rg_buf *out)
{
    rg_err e = RG_OK;

    for (size_t i = 0; i < tc->n && !e; i++) {
        const char *stored = tc->entries[i].stored;
        char *hashed = NULL;
        if (stored[0] != '$') {
            if ((e = rg_token_secret_hash(stored, &hashed)))
                break;
            stored = hashed;
        }
        e = rg_buf_appendf(out, "%s %s\n", tc->entries[i].id, stored);
        free(hashed);
    }
    return e;
}

rg_err rg_tokencfg_set(struct rg_tokencfg *tc, const char *tokenid, const char *secret)
{
    char *h;
    rg_err e;

    if (!rg_tokenid_check(tokenid) || !secret || !*secret ||
        strlen(secret) > RG_TOKEN_SECRET_MAX)
        return RG_ERR_INVALID;
    if ((e = rg_token_secret_hash(secret, &h)))
        return e;
    return put(tc, tokenid, h);
}

rg_err rg_tokencfg_remove(struct rg_tokencfg *tc, const char *tokenid)
{
    int found;
    size_t i = find(tc, tokenid, &found);

    if (!found)
        return RG_ERR_NOTFOUND;
    remove_at(tc, i);
    return RG_OK;
}

size_t rg_tokencfg_remove_user(struct rg_tokencfg *tc, const char *userid)
{
    size_t removed = 0, ulen = strlen(userid);

    for (size_t i = 0; i < tc->n;) {
        if (strncmp(tc->entries[i].id, userid, ulen) == 0 && tc->entries[i].id[ulen] == '!') {
            remove_at(tc, i);
            removed++;
        } else {
            i++;
        }
    }
    return removed;
}

size_t rg_tokencfg_nplain(const struct rg_tokencfg *tc)
{
    size_t n = 0;

    for (size_t i = 0; i < tc->n; i++)
        n += tc->entries[i].stored[0] != '$';
    return n;
}

const char *rg_tokencfg_get(const struct rg_tokencfg *tc, const char *tokenid)
{
    int found;
    size_t i = find(tc, tokenid, &found);
    return found ? tc->entries[i].stored : NULL;
}

rg_err rg_tokencfg_verify(const struct rg_tokencfg *tc, const char *tokenid, const char *secret)
{
    const char *stored = rg_tokencfg_get(tc, tokenid);
    rg_err e;

    if (!stored)
        return RG_ERR_NOTFOUND;
    e = rg_token_secret_check(secret, stored);
    return e == RG_OK ? RG_OK : RG_ERR_AUTH;
}

/* ---------------------------------------------------------------- on the config directory */

enum edit_op { OP_SET, OP_DELETE, OP_DELETE_USER, OP_CONVERT };

struct token_edit {
    enum edit_op op;
    const char *id, *secret;
    size_t plain; /* plain-text lines found */
};

/* Applied to a fresh copy of token.cfg under its lock (rg_store_update_tokens). The writer
 * hashes plain lines, so every edit converts them; the store skips writing an unchanged
 * text (a delete of an absent token, a convert with nothing plain). */
static rg_err apply_edit(struct rg_tokencfg *tc, void *ctx, struct rg_msg *msg)
{
    struct token_edit *t = ctx;
    rg_err e = RG_OK;

    t->plain = rg_tokencfg_nplain(tc);
    switch (t->op) {
    case OP_SET:
        if ((e = rg_tokencfg_set(tc, t->id, t->secret)))
            rg_fail(msg, e, "cannot store the token secret");
        break;
    case OP_DELETE:
        rg_tokencfg_remove(tc, t->id);
        break;
    case OP_DELETE_USER:
        rg_tokencfg_remove_user(tc, t->id);
        break;
    case OP_CONVERT:
        break;
    }
    if (!e && t->plain)
        rg_info("converting %zu plain-text secret(s) in token.cfg to salted hashes", t->plain);
    return e;
}

static rg_err edit(struct rg_store *st, enum edit_op op, const char *id, const char *secret,
                   size_t *nplain, struct rg_msg *msg)
{
    struct token_edit t = {op, id, secret, 0};
    rg_err e = rg_store_update_tokens(st, apply_edit, &t, msg);

    if (nplain)
        *nplain = t.plain;
    return e;
}

rg_err rg_tokens_generate(struct rg_store *st, const char *tokenid,
                          char secret[RG_TOKEN_SECRET_LEN + 1], struct rg_msg *msg)
{
    rg_err e;

    if (!rg_tokenid_check(tokenid))
        return rg_fail(msg, RG_ERR_INVALID, "invalid token id");
    if ((e = rg_random_uuid(secret)))
        return rg_fail(msg, e, "cannot generate a token secret");
    if ((e = edit(st, OP_SET, tokenid, secret, NULL, msg)))
        rg_wipe(secret, RG_TOKEN_SECRET_LEN + 1);
    return e;
}

rg_err rg_tokens_delete(struct rg_store *st, const char *tokenid, struct rg_msg *msg)
{
    return edit(st, OP_DELETE, tokenid, NULL, NULL, msg);
}

rg_err rg_tokens_delete_user(struct rg_store *st, const char *userid, struct rg_msg *msg)
{
    return edit(st, OP_DELETE_USER, userid, NULL, NULL, msg);
}

rg_err rg_tokens_convert(struct rg_store *st, size_t *converted, struct rg_msg *msg)
{
    const struct rg_snapshot *snap = rg_store_acquire(st);
    size_t plain = rg_tokencfg_nplain(&snap->tokens);

    rg_store_release(snap);
    if (converted)
        *converted = 0;
    if (!plain)
        return RG_OK;
    return edit(st, OP_CONVERT, NULL, NULL, converted, msg);
}
