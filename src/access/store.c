#include "access/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "access/pam.h"
#include "access/perm.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

/* The files a snapshot is built from, in stamp order. */
enum { F_DOMAINS, F_USERS, F_TOKENS, F_PUB, F_KEY, F_WWW, F_COUNT };
static const char *const file_rel[F_COUNT] = {"domains.cfg", "user.cfg", "priv/token.cfg",
                                              "authkey.pub", "priv/authkey.key", "pve-www.key"};

struct stamp {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct rg_store {
    char dir[PATH_MAX];
    pthread_mutex_t mu;        /* guards cur and the store's reference on it */
    pthread_mutex_t reload_mu; /* one rebuild at a time; guards seen[] */
    struct rg_snapshot *cur;
    struct stamp seen[F_COUNT]; /* stamps of the last load attempt (good or bad) */
    unsigned long generation;   /* guarded by reload_mu */
};

/* ---------------------------------------------------------------- paths, stamps */

rg_err rg_store_path(const struct rg_store *st, const char *rel, char *out, size_t outsz)
{
    return rg_path_join(out, outsz, st->dir, rel);
}

const char *rg_store_dir(const struct rg_store *st)
{
    return st->dir;
}

static void take_stamp(const char *path, struct stamp *s)
{
    struct stat sb;

    memset(s, 0, sizeof *s);
    if (stat(path, &sb) != 0)
        return;
    s->exists = 1;
    s->dev = sb.st_dev;
    s->ino = sb.st_ino;
    s->size = sb.st_size;
    s->mtime = sb.st_mtim;
}

static int stamp_eq(const struct stamp *a, const struct stamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void take_stamps(const struct rg_store *st, struct stamp s[F_COUNT])
{
    char path[PATH_MAX];

    for (int i = 0; i < F_COUNT; i++) {
        if (rg_store_path(st, file_rel[i], path, sizeof path) == RG_OK)
            take_stamp(path, &s[i]);
        else
            memset(&s[i], 0, sizeof s[i]);
    }
}

rg_err rg_store_read_cfg(const struct rg_store *st, const char *rel, size_t max,
                         struct rg_buf *out, struct rg_msg *msg)
{
    char path[PATH_MAX];
    rg_err e;

    if ((e = rg_store_path(st, rel, path, sizeof path)))
        return rg_fail(msg, e, "path too long");
    e = rg_file_read(path, max, out);
    if (e == RG_ERR_NOTFOUND) {
        rg_buf_init(out, max);
        return rg_buf_append(out, "", 0);
    }
    if (e == RG_ERR_LIMIT)
        return rg_fail(msg, e, "%s is larger than %zu bytes", rel, max);
    if (e == RG_ERR_INVALID)
        return rg_fail(msg, e, "%s is not a regular file", rel);
    if (e)
        return rg_fail(msg, e, "cannot read %s: %s", rel, strerror(errno));
    return RG_OK;
}

/* ---------------------------------------------------------------- keys */

static rg_err read_pem_key(const struct rg_store *st, const char *rel, int private,
                           EVP_PKEY **out, struct rg_msg *msg)
{
    struct rg_buf b;
    BIO *bio;
    rg_err e;
    char path[PATH_MAX];

    *out = NULL;
    if ((e = rg_store_path(st, rel, path, sizeof path)))
        return rg_fail(msg, e, "path too long");
    if ((e = rg_file_read(path, RG_STORE_KEY_MAX, &b)))
        return rg_fail(msg, e, "cannot read %s", rel);
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    if (bio) {
        *out = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                       : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    rg_buf_free(&b);
    if (!*out)
        return rg_fail(msg, RG_ERR_CONFIG, "%s: not a PEM %s key", rel,
                       private ? "private" : "public");
    if (EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA || EVP_PKEY_get_bits(*out) < 2048) {
        EVP_PKEY_free(*out);
        *out = NULL;
        return rg_fail(msg, RG_ERR_CONFIG, "%s: not an RSA key of at least 2048 bits", rel);
    }
    return RG_OK;
}

static rg_err write_key_file(const struct rg_store *st, const char *rel, EVP_PKEY *key,
                             int private, mode_t mode)
{
    char path[PATH_MAX];
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long len;
    rg_err e = RG_ERR_CRYPTO;

    if (!bio)
        return RG_ERR_NOMEM;
    if ((private ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_bio_PUBKEY(bio, key)) == 1 &&
        (len = BIO_get_mem_data(bio, &data)) > 0 &&
        rg_store_path(st, rel, path, sizeof path) == RG_OK)
        e = rg_file_write_atomic(path, data, (size_t)len, mode);
    BIO_free_all(bio); /* BIO_s_mem frees (and does not wipe) its buffer */
    return e;
}

/* Creates the ticket key pair and the www key if missing (under a lock: two processes may
 * start at once). */
static rg_err ensure_keys(const struct rg_store *st, struct rg_msg *msg)
{
    char lock[PATH_MAX], keypath[PATH_MAX], pubpath[PATH_MAX], wwwpath[PATH_MAX];
    int fd = -1;
    EVP_PKEY *key = NULL;
    rg_err e;

    if ((e = rg_store_path(st, "priv/lock/keys.lck", lock, sizeof lock)) ||
        (e = rg_store_path(st, file_rel[F_KEY], keypath, sizeof keypath)) ||
        (e = rg_store_path(st, file_rel[F_PUB], pubpath, sizeof pubpath)) ||
        (e = rg_store_path(st, file_rel[F_WWW], wwwpath, sizeof wwwpath)))
        return rg_fail(msg, e, "config path too long");
    if ((e = rg_lock_acquire(lock, RG_STORE_LOCK_TIMEOUT_MS, &fd)))
        return rg_fail(msg, e, "cannot lock %s", lock);
    if (access(keypath, F_OK) != 0) {
        rg_info("generating ticket signing key %s", keypath);
        if (!(key = EVP_RSA_gen(2048))) {
            e = rg_fail(msg, RG_ERR_CRYPTO, "RSA key generation failed");
            goto out;
        }
        if ((e = write_key_file(st, file_rel[F_KEY], key, 1, 0600)) ||
            (e = write_key_file(st, file_rel[F_PUB], key, 0, 0644))) {
            rg_fail(msg, e, "cannot write the ticket key files");
            goto out;
        }
    } else if (access(pubpath, F_OK) != 0) {
        if ((e = read_pem_key(st, file_rel[F_KEY], 1, &key, msg)))
            goto out;
        if ((e = write_key_file(st, file_rel[F_PUB], key, 0, 0644))) {
            rg_fail(msg, e, "cannot write %s", pubpath);
            goto out;
        }
    }
    if (access(wwwpath, F_OK) != 0) {
        unsigned char raw[48];
        char *txt = NULL;
        struct rg_buf b;
        rg_buf_init(&b, 256);
        if ((e = rg_random_bytes(raw, sizeof raw)) ||
            !(txt = rg_random_token(48)) || (e = rg_buf_appendf(&b, "%s\n", txt)) ||
            (e = rg_file_write_atomic(wwwpath, b.data, b.len, 0600))) {
            if (!e)
                e = RG_ERR_NOMEM;
            rg_fail(msg, e, "cannot create %s", wwwpath);
        }
        rg_wipe(raw, sizeof raw);
        rg_free_secret(txt);
        rg_buf_free(&b);
    }
out:
    EVP_PKEY_free(key);
    rg_lock_release(fd);
    return e;
}

/* ---------------------------------------------------------------- the parsed files */

static void log_warning(void *ctx, int line, const char *text)
{
    rg_warn("%s line %d: %s", (const char *)ctx, line, text);
}

/* How one config file is read, parsed, written and freed (snapshots and updates). */
struct rmw {
    const char *rel;
    const char *lock_rel;
    size_t max;
    mode_t mode;
    rg_err (*parse)(const char *text, size_t len, void *obj, struct rg_msg *msg);
    rg_err (*write)(const void *obj, struct rg_buf *out);
    void (*free_obj)(void *obj);
};

/* The parse/write/free adapters of one file type for struct rmw: rg_<T>_parse (warnings go
 * to the log, prefixed with the file name), rg_<T>_write, rg_<T>_free. */
#define RMW_ADAPTERS(tag, T, file)                                                             \
    static rg_err parse_##tag(const char *t, size_t n, void *o, struct rg_msg *msg)             \
    {                                                                                            \
        rg_err e = rg_##T##_parse(t, n, o, log_warning, (void *)(file));                        \
        return e ? rg_fail(msg, e, "cannot parse %s", file) : RG_OK;                             \
    }                                                                                            \
    static rg_err write_##tag(const void *o, struct rg_buf *b)                                  \
    {                                                                                            \
        return rg_##T##_write(o, b);                                                             \
    }                                                                                            \
    static void free_##tag(void *o)                                                             \
    {                                                                                            \
        rg_##T##_free(o);                                                                        \
    }

RMW_ADAPTERS(users, usercfg, "user.cfg")
RMW_ADAPTERS(domains, domains, "domains.cfg")
RMW_ADAPTERS(tokens, tokencfg, "token.cfg")
RMW_ADAPTERS(shadow, shadow, "shadow.cfg")

static const struct rmw rmw_users = {"user.cfg", "priv/lock/user.cfg.lck", RG_USERCFG_FILE_MAX,
                                     0640, parse_users, write_users, free_users};
static const struct rmw rmw_domains = {"domains.cfg", "priv/lock/domains.cfg.lck",
                                       RG_DOMAINS_FILE_MAX, 0600, parse_domains, write_domains,
                                       free_domains};
static const struct rmw rmw_tokens = {"priv/token.cfg", "priv/lock/token.cfg.lck",
                                      RG_TOKENCFG_FILE_MAX, 0600, parse_tokens, write_tokens,
                                      free_tokens};
static const struct rmw rmw_shadow = {"priv/shadow.cfg", "priv/lock/shadow.cfg.lck",
                                      RG_SHADOW_FILE_MAX, 0600, parse_shadow, write_shadow,
                                      free_shadow};

/* Reads and parses r's file into obj (initialised by the parser); a missing file parses as
 * empty text. */
static rg_err read_parse(const struct rg_store *st, const struct rmw *r, void *obj,
                         struct rg_buf *text, struct rg_msg *msg)
{
    rg_err e;

    if ((e = rg_store_read_cfg(st, r->rel, r->max, text, msg)))
        return e;
    if ((e = r->parse(text->data, text->len, obj, msg)))
        rg_buf_free(text);
    return e;
}

/* ---------------------------------------------------------------- snapshots */

static void snapshot_free(struct rg_snapshot *s)
{
    if (!s)
        return;
    rg_domains_free(&s->domains);
    rg_perm_index_drop(&s->users);
    rg_usercfg_free(&s->users);
    rg_tokencfg_free(&s->tokens);
    EVP_PKEY_free(s->ticket_key);
    EVP_PKEY_free(s->ticket_pub);
    rg_wipe(s->csrf_secret, sizeof s->csrf_secret);
    free(s);
}

/* Builds a complete snapshot from the files, or fails without side effects. */
static rg_err load_snapshot(const struct rg_store *st, struct rg_snapshot **out,
                            struct rg_msg *msg)
{
    struct rg_snapshot *s = calloc(1, sizeof *s);
    struct rg_buf b;
    rg_err e;

    *out = NULL;
    if (!s)
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    rg_domains_init(&s->domains);
    rg_usercfg_init(&s->users);
    rg_tokencfg_init(&s->tokens);
    if ((e = read_parse(st, &rmw_domains, &s->domains, &b, msg)))
        goto out;
    rg_buf_free(&b);
    if ((e = read_parse(st, &rmw_users, &s->users, &b, msg)))
        goto out;
    rg_buf_free(&b);
    /* snapshots never change: index them for the permission queries of every request */
    if (rg_perm_index_build(&s->users) != RG_OK)
        rg_warn("user.cfg: no permission index (out of memory); queries will be slower");
    if ((e = read_parse(st, &rmw_tokens, &s->tokens, &b, msg)))
        goto out;
    rg_buf_free(&b);
    if ((e = read_pem_key(st, file_rel[F_KEY], 1, &s->ticket_key, msg)) ||
        (e = read_pem_key(st, file_rel[F_PUB], 0, &s->ticket_pub, msg)))
        goto out;
    if (EVP_PKEY_eq(s->ticket_key, s->ticket_pub) != 1) {
        e = rg_fail(msg, RG_ERR_CONFIG, "authkey.pub does not match priv/authkey.key");
        goto out;
    }
    {
        char path[PATH_MAX];
        if ((e = rg_store_path(st, file_rel[F_WWW], path, sizeof path)) ||
            (e = rg_file_read(path, RG_STORE_KEY_MAX, &b))) {
            rg_fail(msg, e, "cannot read pve-www.key");
            goto out;
        }
        e = rg_csrf_secret(b.data, b.len, s->csrf_secret);
        rg_buf_free(&b);
        if (e) {
            rg_fail(msg, e, "cannot derive the CSRF secret");
            goto out;
        }
    }
    s->loaded = time(NULL);
    s->refs_ = 1;
out:
    if (e) {
        snapshot_free(s);
        return e;
    }
    *out = s;
    return RG_OK;
}

void rg_store_release(const struct rg_snapshot *snap)
{
    struct rg_snapshot *s = (struct rg_snapshot *)snap;

    if (s && __atomic_sub_fetch(&s->refs_, 1, __ATOMIC_ACQ_REL) == 0)
        snapshot_free(s);
}

/* Swaps in a new snapshot; the old one goes when its last reader releases it. */
static void swap_in(struct rg_store *st, struct rg_snapshot *s)
{
    struct rg_snapshot *old;

    s->generation = ++st->generation;
    pthread_mutex_lock(&st->mu);
    old = st->cur;
    st->cur = s;
    pthread_mutex_unlock(&st->mu);
    rg_store_release(old);
}

/* Rebuilds if a file changed since the last attempt. Caller holds reload_mu. */
static rg_err check_and_reload(struct rg_store *st, int force)
{
    struct stamp now[F_COUNT];
    struct rg_snapshot *s;
    struct rg_msg msg = {{0}};
    int changed = 0;
    rg_err e;

    take_stamps(st, now);
    for (int i = 0; i < F_COUNT; i++)
        if (!stamp_eq(&now[i], &st->seen[i]))
            changed = 1;
    if (!changed && !force)
        return RG_OK;
    memcpy(st->seen, now, sizeof now);
    if ((e = load_snapshot(st, &s, &msg))) {
        rg_error("configuration in %s not reloaded, keeping the last good one: %s", st->dir,
                 msg.text);
        return e;
    }
    swap_in(st, s);
    return RG_OK;
}

const struct rg_snapshot *rg_store_acquire(struct rg_store *st)
{
    struct rg_snapshot *s;

    /* Every acquire looks at the files (a few stat calls; parsing happens only when one
     * changed), so a disabled user or a removed ACL takes effect with the next request.
     * One thread looks at a time; the others never wait for it. */
    if (pthread_mutex_trylock(&st->reload_mu) == 0) {
        check_and_reload(st, 0);
        pthread_mutex_unlock(&st->reload_mu);
    }
    pthread_mutex_lock(&st->mu);
    s = st->cur;
    __atomic_add_fetch(&s->refs_, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&st->mu);
    return s;
}

rg_err rg_store_refresh(struct rg_store *st)
{
    rg_err e;

    pthread_mutex_lock(&st->reload_mu);
    e = check_and_reload(st, 0);
    pthread_mutex_unlock(&st->reload_mu);
    return e;
}

/* ---------------------------------------------------------------- open / close */

rg_err rg_store_open(const char *dir, struct rg_store **out, struct rg_msg *msg)
{
    static const char *const subdirs[] = {"priv", "priv/openid", "priv/lock", "local"};
    struct rg_store *st;
    struct rg_snapshot *s;
    char path[PATH_MAX];
    rg_err e;

    *out = NULL;
    if (!dir || !dir[0] || strlen(dir) >= sizeof st->dir - 64)
        return rg_fail(msg, RG_ERR_INVALID, "invalid config directory");
    if (!(st = calloc(1, sizeof *st)))
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    pthread_mutex_init(&st->mu, NULL);
    pthread_mutex_init(&st->reload_mu, NULL);
    if (rg_mkdir_p(st->dir, 0755) != RG_OK) {
        e = rg_fail(msg, RG_ERR_IO, "cannot create %s: %s", st->dir, strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
        if ((e = rg_store_path(st, subdirs[i], path, sizeof path)) ||
            (e = rg_mkdir_p(path, 0700))) {
            rg_fail(msg, e, "cannot create %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    if ((e = ensure_keys(st, msg)))
        goto fail;
    take_stamps(st, st->seen);
    if ((e = load_snapshot(st, &s, msg)))
        goto fail;
    s->generation = ++st->generation;
    st->cur = s;
    *out = st;
    return RG_OK;
fail:
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->reload_mu);
    free(st);
    return e;
}

void rg_store_close(struct rg_store *st)
{
    if (!st)
        return;
    rg_store_release(st->cur);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->reload_mu);
    free(st);
}

/* ---------------------------------------------------------------- read-modify-write */

/* The caller's typed callback, called through one adapter per file type. */
struct apply_ctx {
    rg_usercfg_update_fn *users;
    rg_domains_update_fn *domains;
    rg_shadow_update_fn *shadow;
    rg_tokencfg_update_fn *tokens;
    void *ctx;
};

static rg_err apply(void *obj, const struct apply_ctx *a, struct rg_msg *msg)
{
    if (a->users)
        return a->users(obj, a->ctx, msg);
    if (a->domains)
        return a->domains(obj, a->ctx, msg);
    if (a->tokens)
        return a->tokens(obj, a->ctx, msg);
    return a->shadow(obj, a->ctx, msg);
}

static rg_err update_file(struct rg_store *st, const struct rmw *r, void *obj,
                          const struct apply_ctx *a, struct rg_msg *msg)
{
    char lock[PATH_MAX], path[PATH_MAX];
    struct rg_buf in, out;
    int fd = -1, parsed = 0;
    rg_err e;

    if ((e = rg_store_path(st, r->lock_rel, lock, sizeof lock)) ||
        (e = rg_store_path(st, r->rel, path, sizeof path)))
        return rg_fail(msg, e, "config path too long");
    if ((e = rg_lock_acquire(lock, RG_STORE_LOCK_TIMEOUT_MS, &fd)))
        return rg_fail(msg, e, "cannot lock %s: timeout", r->rel);
    rg_buf_init(&in, r->max);
    rg_buf_init(&out, r->max);
    if ((e = read_parse(st, r, obj, &in, msg)))
        goto out;
    parsed = 1;
    if ((e = apply(obj, a, msg)))
        goto out;
    if ((e = r->write(obj, &out))) {
        rg_fail(msg, e, "%s would exceed its size limit", r->rel);
        goto out;
    }
    /* an edit that changes nothing leaves the file (and every node's snapshot) alone */
    if (out.len == in.len && memcmp(out.data ? out.data : "", in.data, in.len) == 0)
        goto out;
    if ((e = rg_file_write_atomic(path, out.data ? out.data : "", out.len, r->mode)))
        rg_fail(msg, e, "cannot write %s", r->rel);
out:
    rg_lock_release(fd);
    rg_buf_free(&in);
    rg_buf_free(&out);
    if (parsed)
        r->free_obj(obj);
    if (!e)
        rg_store_refresh(st); /* the caller's next acquire sees the change */
    return e;
}

rg_err rg_store_update_usercfg(struct rg_store *st, rg_usercfg_update_fn *fn, void *ctx,
                               struct rg_msg *msg)
{
    struct apply_ctx a = {.users = fn, .ctx = ctx};
    struct rg_usercfg cfg;

    return update_file(st, &rmw_users, &cfg, &a, msg);
}

rg_err rg_store_update_domains(struct rg_store *st, rg_domains_update_fn *fn, void *ctx,
                               struct rg_msg *msg)
{
    struct apply_ctx a = {.domains = fn, .ctx = ctx};
    struct rg_domains d;

    return update_file(st, &rmw_domains, &d, &a, msg);
}

rg_err rg_store_update_shadow(struct rg_store *st, rg_shadow_update_fn *fn, void *ctx,
                              struct rg_msg *msg)
{
    struct apply_ctx a = {.shadow = fn, .ctx = ctx};
    struct rg_shadow sh;

    return update_file(st, &rmw_shadow, &sh, &a, msg);
}

rg_err rg_store_update_tokens(struct rg_store *st, rg_tokencfg_update_fn *fn, void *ctx,
                              struct rg_msg *msg)
{
    struct apply_ctx a = {.tokens = fn, .ctx = ctx};
    struct rg_tokencfg tc;

    return update_file(st, &rmw_tokens, &tc, &a, msg);
}

/* ---------------------------------------------------------------- ACLs */

struct acl_edit {
    const char *path, *roles, *users, *groups, *tokens;
    int propagate, remove;
    const struct rg_domains *domains;
};

static bool user_autocreated_later(void *ctx, const char *userid)
{
    const struct acl_edit *a = ctx;
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
    const struct rg_realm *r;

    if (rg_userid_split(userid, name, realm) != RG_OK)
        return false;
    r = rg_domains_find(a->domains, realm);
    return r && strcmp(r->type, "openid") == 0 && r->autocreate == 1;
}

static rg_err apply_acl_edit(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct acl_edit *a = ctx;
    return rg_usercfg_acl_change_ex(cfg, a->path, a->roles, a->users, a->groups, a->tokens,
                                    a->propagate, a->remove, user_autocreated_later, a, msg);
}

rg_err rg_store_acl_change(struct rg_store *st, const char *path, const char *roles,
                           const char *users, const char *groups, const char *tokens,
                           int propagate, int remove, struct rg_msg *msg)
{
    const struct rg_snapshot *snap = rg_store_acquire(st);
    struct acl_edit a = {path, roles, users, groups, tokens, propagate, remove, &snap->domains};
    rg_err e = rg_store_update_usercfg(st, apply_acl_edit, &a, msg);

    rg_store_release(snap);
    return e;
}

/* ---------------------------------------------------------------- passwords */

rg_err rg_store_verify_password(struct rg_store *st, const struct rg_snapshot *snap,
                                const char *userid, const char *password, struct rg_msg *msg)
{
    return rg_store_verify_password_from(st, snap, userid, password, NULL, msg);
}

rg_err rg_store_verify_password_from(struct rg_store *st, const struct rg_snapshot *snap,
                                     const char *userid, const char *password,
                                     const char *rhost, struct rg_msg *msg)
{
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
    const struct rg_realm *r;
    struct rg_shadow sh;
    struct rg_buf b;
    rg_err e;

    if (rg_userid_split(userid, name, realm) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "invalid user id");
    if (!(r = rg_domains_find(&snap->domains, realm)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "authentication domain '%s' does not exist",
                       realm);
    if (!strcmp(r->type, "openid"))
        return rg_fail(msg, RG_ERR_AUTH, "OpenID realm does not allow password verification.");
    if (!strcmp(r->type, "pam")) {
        /* PAM runs in the separate helper process (pam.h), never in this one */
        if (!password || !password[0])
            return rg_fail(msg, RG_ERR_AUTH, "no password");
        return rg_pam_authenticate(name, password, rhost, msg);
    }
    if (strcmp(r->type, "pve"))
        return rg_fail(msg, RG_ERR_CONFIG, "%s authentication is not supported", r->type);
    if (!password || !password[0])
        return rg_fail(msg, RG_ERR_AUTH, "no password");
    if ((e = rg_store_read_cfg(st, rmw_shadow.rel, rmw_shadow.max, &b, msg)))
        return e;
    e = rg_shadow_parse(b.data, b.len, &sh, log_warning, (void *)"shadow.cfg");
    rg_buf_free(&b);
    if (e)
        return rg_fail(msg, e, "cannot parse shadow.cfg");
    e = rg_shadow_verify(&sh, name, password, msg);
    rg_shadow_free(&sh);
    return e;
}

struct pw_ctx {
    const char *name;
    const char *password; /* NULL = delete */
};

static rg_err pw_update(struct rg_shadow *sh, void *ctx, struct rg_msg *msg)
{
    struct pw_ctx *c = ctx;

    if (!c->password) {
        rg_shadow_delete(sh, c->name);
        return RG_OK;
    }
    return rg_shadow_set(sh, c->name, c->password, msg);
}

static rg_err pve_realm_user(struct rg_store *st, const char *userid, char name[RG_USERID_MAX + 1],
                             struct rg_msg *msg)
{
    char realm[RG_REALMID_MAX + 1];
    const struct rg_snapshot *snap;
    const struct rg_realm *r;
    rg_err e = RG_OK;

    if (rg_userid_split(userid, name, realm) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "invalid user id");
    snap = rg_store_acquire(st);
    if (!(r = rg_domains_find(&snap->domains, realm)))
        e = rg_fail(msg, RG_ERR_NOTFOUND, "authentication domain '%s' does not exist", realm);
    else if (strcmp(r->type, "pve"))
        e = rg_fail(msg, RG_ERR_CONFIG, "can't set password on auth type '%s'", r->type);
    rg_store_release(snap);
    return e;
}

rg_err rg_store_set_password(struct rg_store *st, const char *userid, const char *password,
                             struct rg_msg *msg)
{
    char name[RG_USERID_MAX + 1];
    struct pw_ctx c;
    rg_err e;

    if ((e = pve_realm_user(st, userid, name, msg)))
        return e;
    if (!password || !password[0] || strlen(password) > RG_PASSWORD_MAX)
        return rg_fail(msg, RG_ERR_INVALID, "invalid password length");
    c.name = name;
    c.password = password;
    return rg_store_update_shadow(st, pw_update, &c, msg);
}

rg_err rg_store_delete_password(struct rg_store *st, const char *userid, struct rg_msg *msg)
{
    char name[RG_USERID_MAX + 1];
    struct pw_ctx c;
    rg_err e;

    if ((e = pve_realm_user(st, userid, name, msg)))
        return (e == RG_ERR_CONFIG || e == RG_ERR_NOTFOUND) ? RG_OK : e;
    c.name = name;
    c.password = NULL;
    return rg_store_update_shadow(st, pw_update, &c, msg);
}
