/* pending.c — the pending-login store (see pending.h). */
#include "oidc/pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

#define HASH_HEX 64
#define FILE_MAX 8192
#define LOCK_WAIT_MS 10000
#define NAME_LEN (HASH_HEX + 5) /* "<hex>.json" */

static int b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

int rg_pending_state_valid(const char *state)
{
    size_t i;
    if (!state)
        return 0;
    for (i = 0; i < RG_STATE_LEN; i++)
        if (!b64url_char(state[i]))
            return 0;
    return state[i] == '\0';
}

void rg_oidc_pending_clear(struct rg_oidc_pending *p)
{
    if (!p)
        return;
    rg_free_secret(p->nonce);
    rg_free_secret(p->pkce_verifier);
    free(p->redirect_url);
    free(p->browser);
    rg_wipe(p, sizeof *p);
}

/* "<hex sha256(state)>.json" */
static rg_err file_name(const char *state, char out[NAME_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (!EVP_Digest(state, strlen(state), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return RG_ERR_CRYPTO;
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    memcpy(out + HASH_HEX, ".json", 6);
    return RG_OK;
}

/* Does name look like one of ours: "<64 hex>.json", optionally followed by ".tmp..." or
 * ".claim..." (leftovers of an interrupted write or take)? 2 = live entry, 1 = leftover. */
static int our_file(const char *name)
{
    for (size_t i = 0; i < HASH_HEX; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    if (strncmp(name + HASH_HEX, ".json", 5) != 0)
        return 0;
    if (name[NAME_LEN] == '\0')
        return 2;
    if (strncmp(name + NAME_LEN, ".tmp.", 5) == 0 || strncmp(name + NAME_LEN, ".claim.", 7) == 0)
        return 1;
    return 0;
}

/* Removes expired entries and leftovers; returns the number of live entries in *live. */
static rg_err sweep(const char *dir, time_t now, size_t *live)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int dfd;

    *live = 0;
    if (!d) {
        rg_error("cannot open pending directory %s: %s", dir, strerror(errno));
        return RG_ERR_IO;
    }
    dfd = dirfd(d);
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        int kind = our_file(de->d_name);
        if (!kind)
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* taken meanwhile */
        if (!S_ISREG(st.st_mode) || st.st_mtime + RG_PENDING_TTL < now) {
            if (unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT)
                rg_warn("cannot remove expired pending login %s/%s: %s", dir, de->d_name,
                        strerror(errno));
            continue;
        }
        if (kind == 2)
            (*live)++;
    }
    closedir(d);
    return RG_OK;
}

static rg_err ensure_dir(const char *dir, struct rg_msg *msg)
{
    struct stat st;
    if (rg_mkdir_p(dir, 0700) != RG_OK || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rg_error("pending directory %s unusable: %s", dir, strerror(errno));
        return rg_fail(msg, RG_ERR_IO, "pending login directory unusable");
    }
    return RG_OK;
}

rg_err rg_pending_store(const char *dir, const struct rg_oidc_pending *p, time_t now,
                        char state_out[RG_STATE_LEN + 1], struct rg_msg *msg)
{
    char lockpath[4096], path[4096], name[NAME_LEN + 1];
    char *state = NULL, *text = NULL;
    json_t *doc = NULL;
    size_t live;
    int lockfd = -1;
    rg_err e;

    state_out[0] = '\0';
    if (!dir || !p || !p->realm[0] || !p->nonce || !p->pkce_verifier || !p->redirect_url)
        return rg_fail(msg, RG_ERR_INVALID, "incomplete pending login");
    e = ensure_dir(dir, msg);
    if (e)
        return e;
    if (rg_path_join(lockpath, sizeof lockpath, dir, ".lock"))
        return rg_fail(msg, RG_ERR_LIMIT, "pending directory path too long");
    e = rg_lock_acquire(lockpath, LOCK_WAIT_MS, &lockfd);
    if (e)
        return rg_fail(msg, e, "cannot lock the pending login directory");
    e = sweep(dir, now, &live);
    if (e) {
        rg_fail(msg, e, "cannot read the pending login directory");
        goto out;
    }
    if (live >= RG_PENDING_MAX) {
        e = rg_fail(msg, RG_ERR_LIMIT, "too many pending openid auth requests");
        goto out;
    }
    state = rg_random_token(32);
    if (!state || strlen(state) != RG_STATE_LEN) {
        e = rg_fail(msg, RG_ERR_CRYPTO, "random generator failed");
        goto out;
    }
    if ((e = file_name(state, name)) != RG_OK || rg_path_join(path, sizeof path, dir, name)) {
        e = rg_fail(msg, e ? e : RG_ERR_LIMIT, "cannot name the pending login file");
        goto out;
    }
    doc = json_pack("{s:s,s:s,s:s,s:s,s:I}", "realm", p->realm, "nonce", p->nonce,
                    "pkce_verifier", p->pkce_verifier, "redirect_url", p->redirect_url,
                    "ctime", (json_int_t)p->ctime);
    if (doc && p->browser)
        json_object_set_new(doc, "browser", json_string(p->browser));
    text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!text) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = rg_file_write_atomic(path, text, strlen(text), 0600);
    if (e) {
        rg_fail(msg, e, "cannot write the pending login file");
        goto out;
    }
    {
        /* mtime = ctime, so the sweep can judge age with stat() alone */
        struct timespec ts[2] = {{p->ctime, 0}, {p->ctime, 0}};
        if (utimensat(AT_FDCWD, path, ts, 0) != 0)
            rg_warn("cannot set the time of %s: %s", path, strerror(errno));
    }
    memcpy(state_out, state, RG_STATE_LEN + 1);
out:
    rg_lock_release(lockfd);
    rg_free_secret(text);
    if (doc) {
        /* the document holds the nonce and verifier: wipe its copies too */
        json_t *v;
        const char *k;
        json_object_foreach(doc, k, v)
            if (json_is_string(v))
                rg_wipe((char *)json_string_value(v), json_string_length(v));
        json_decref(doc);
    }
    rg_free_secret(state);
    return e;
}

static rg_err get_str(const json_t *doc, const char *key, size_t min, size_t max, char **out)
{
    const json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!json_is_string(v) || json_string_length(v) < min || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return RG_ERR_INVALID;
    *out = strdup(json_string_value(v));
    return *out ? RG_OK : RG_ERR_NOMEM;
}

rg_err rg_pending_take(const char *dir, const char *state, time_t now,
                       struct rg_oidc_pending *out, struct rg_msg *msg)
{
    static atomic_uint counter;
    char path[4096], claim[4096], name[NAME_LEN + 1];
    unsigned char rnd[8];
    struct rg_buf text;
    json_t *doc = NULL;
    const json_t *ct;
    char *realm = NULL;
    rg_err e;

    memset(out, 0, sizeof *out);
    rg_buf_init(&text, FILE_MAX);
    /* client input: check it completely before it goes anywhere near a path */
    if (!rg_pending_state_valid(state))
        return rg_fail(msg, RG_ERR_INVALID, "malformed openid state");
    if (!dir)
        return rg_fail(msg, RG_ERR_INVALID, "no pending directory");
    if (file_name(state, name) || rg_path_join(path, sizeof path, dir, name))
        return rg_fail(msg, RG_ERR_LIMIT, "cannot name the pending login file");
    if (rg_random_bytes(rnd, sizeof rnd))
        return rg_fail(msg, RG_ERR_CRYPTO, "random generator failed");
    if ((size_t)snprintf(claim, sizeof claim, "%s.claim.%d.%u.%02x%02x%02x%02x%02x%02x%02x%02x",
                         path, (int)getpid(), atomic_fetch_add(&counter, 1), rnd[0], rnd[1],
                         rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) >= sizeof claim)
        return rg_fail(msg, RG_ERR_LIMIT, "pending directory path too long");

    /* the claim: rename is atomic, so exactly one taker gets the file */
    if (rename(path, claim) != 0) {
        if (errno == ENOENT)
            return rg_fail(msg, RG_ERR_NOTFOUND, "no openid auth state found (possible timeout)");
        rg_error("cannot claim pending login %s: %s", path, strerror(errno));
        return rg_fail(msg, RG_ERR_IO, "cannot claim the pending login");
    }
    e = rg_file_read(claim, FILE_MAX, &text);
    if (unlink(claim) != 0)
        rg_warn("cannot remove claimed pending login %s: %s", claim, strerror(errno));
    if (e)
        return rg_fail(msg, e, "cannot read the pending login");
    doc = json_loadb(text.data, text.len, JSON_REJECT_DUPLICATES, NULL);
    rg_buf_free(&text);
    if (!json_is_object(doc)) {
        e = rg_fail(msg, RG_ERR_INVALID, "pending login file is corrupt");
        goto out;
    }
    ct = json_object_get(doc, "ctime");
    if (get_str(doc, "realm", 1, RG_PENDING_REALM_MAX, &realm) ||
        get_str(doc, "nonce", 1, 256, &out->nonce) ||
        get_str(doc, "pkce_verifier", 43, 128, &out->pkce_verifier) ||
        get_str(doc, "redirect_url", 1, 1024, &out->redirect_url) || !json_is_integer(ct)) {
        e = rg_fail(msg, RG_ERR_INVALID, "pending login file is corrupt");
        goto out;
    }
    if (json_object_get(doc, "browser") && get_str(doc, "browser", 43, 43, &out->browser)) {
        e = rg_fail(msg, RG_ERR_INVALID, "pending login file is corrupt");
        goto out;
    }
    memcpy(out->realm, realm, strlen(realm) + 1);
    out->ctime = (time_t)json_integer_value(ct);
    if (out->ctime + RG_PENDING_TTL < now) {
        e = rg_fail(msg, RG_ERR_AUTH, "openid auth state expired (started %ld s ago)",
                    (long)(now - out->ctime));
        goto out;
    }
    e = RG_OK;
out:
    free(realm);
    if (doc) {
        json_t *v;
        const char *k;
        json_object_foreach(doc, k, v)
            if (json_is_string(v))
                rg_wipe((char *)json_string_value(v), json_string_length(v));
        json_decref(doc);
    }
    if (e)
        rg_oidc_pending_clear(out);
    return e;
}
