/* sessions.c — session records and the ticket revocation list (see sessions.h). */
#include "access/sessions.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/ticket.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"

#define LOCK_WAIT_MS 10000
#define SWEEP_INTERVAL 60
#define UID_BUF (RG_USERID_MAX + RG_REALMID_MAX + 2)
#define REVOKED_LINE_MAX (8 + 1 + UID_BUF + 1)
#define PATH_BUF 4096

struct revoked {
    time_t t;
    char userid[UID_BUF];
};

struct rg_sessions {
    char dir[PATH_BUF];
    pthread_mutex_t mu;          /* guards the revocation cache and last_sweep */
    struct revoked *rev;         /* cached copy of the revoked file */
    size_t nrev;
    int have_stat;               /* the cache matches this stat of the file: */
    ino_t ino;
    off_t size;
    struct timespec mtime;
    time_t last_sweep;
};

/* ---- small helpers ---- */

static int sid_valid(const char *sid)
{
    size_t n = sid ? strlen(sid) : 0;
    if (n == 0 || n > RG_SESSION_SID_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)sid; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

static int userid_valid(const char *u)
{
    return u && strlen(u) < UID_BUF && rg_userid_check(u);
}

/* "<dir>/<prefix><sha256 hex of key>" */
static rg_err hashed_path(const struct rg_sessions *s, const char *prefix, const char *key,
                          char *out, size_t outsz)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char name[2 + 64 + 1];

    if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return RG_ERR_CRYPTO;
    snprintf(name, sizeof name, "%s", prefix);
    for (size_t i = 0; i < 32; i++)
        snprintf(name + strlen(prefix) + 2 * i, 3, "%02x", md[i]);
    return rg_path_join(out, outsz, s->dir, name);
}

static int ticket_alive(time_t t, time_t now)
{
    return now - t < RG_TICKET_MAX_AGE;
}

rg_err rg_ticket_time(const char *ticket, time_t *out)
{
    const char *sep, *p;
    time_t v = 0;

    if (!ticket || !(sep = strstr(ticket, "::")) || sep - ticket < 10 || sep[-9] != ':')
        return RG_ERR_INVALID;
    for (p = sep - 8; p < sep; p++) {
        int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
        if (d < 0)
            return RG_ERR_INVALID;
        v = v * 16 + d;
    }
    *out = v;
    return RG_OK;
}

/* ---- open/close ---- */

rg_err rg_sessions_open(const char *dir, struct rg_sessions **out, struct rg_msg *msg)
{
    struct rg_sessions *s;

    *out = NULL;
    if (strlen(dir) + 80 >= PATH_BUF)
        return rg_fail(msg, RG_ERR_LIMIT, "sessions directory path too long");
    if (rg_mkdir_p(dir, 0700))
        return rg_fail(msg, RG_ERR_IO, "cannot create the sessions directory %s", dir);
    s = calloc(1, sizeof *s);
    if (!s)
        return rg_fail(msg, RG_ERR_NOMEM, "out of memory");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return RG_OK;
}

void rg_sessions_close(struct rg_sessions *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->rev);
    free(s);
}

/* ---- the revocation list ---- */

/* Parses the revoked file's text into a fresh array. Malformed lines are an error: the file
 * is only written by this module, so damage means someone else wrote it. */
static rg_err revoked_parse(const char *text, size_t len, struct revoked **out, size_t *n)
{
    struct revoked *v = NULL;
    size_t cap = 0, cnt = 0;
    const char *p = text, *end = text + len;

    *out = NULL;
    *n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char tick[16];
        time_t t;

        if (ll > REVOKED_LINE_MAX || ll < 11 || p[8] != ' ')
            goto bad;
        /* the TIME field has the ticket's syntax: reuse its parser on "P:<8 hex>::" */
        snprintf(tick, sizeof tick, "P:%.8s::", p);
        if (rg_ticket_time(tick, &t))
            goto bad;
        if (cnt == RG_REVOKED_MAX)
            goto bad;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct revoked *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return RG_ERR_NOMEM;
            }
            v = nv;
            cap = nc;
        }
        if (ll - 9 >= UID_BUF)
            goto bad;
        memcpy(v[cnt].userid, p + 9, ll - 9);
        v[cnt].userid[ll - 9] = '\0';
        v[cnt].t = t;
        cnt++;
        p += ll + (nl ? 1 : 0);
    }
    *out = v;
    *n = cnt;
    return RG_OK;
bad:
    free(v);
    return RG_ERR_INVALID;
}

static rg_err revoked_load(const struct rg_sessions *s, struct revoked **out, size_t *n)
{
    char path[PATH_BUF];
    struct rg_buf b;
    rg_err e;

    *out = NULL;
    *n = 0;
    if (rg_path_join(path, sizeof path, s->dir, "revoked"))
        return RG_ERR_LIMIT;
    e = rg_file_read(path, (size_t)RG_REVOKED_MAX * (REVOKED_LINE_MAX + 1), &b);
    if (e == RG_ERR_NOTFOUND)
        return RG_OK;
    if (e)
        return e;
    e = revoked_parse(b.data ? b.data : "", b.len, out, n);
    rg_buf_free(&b);
    return e;
}

/* Adds (userid, times[]) to the revocation list, dropping entries of expired tickets.
 * Called with the lock held. */
static rg_err revoke_times(struct rg_sessions *s, const char *userid, const time_t *times,
                           size_t ntimes, time_t now)
{
    struct revoked *v = NULL;
    size_t n = 0;
    struct rg_buf out;
    char path[PATH_BUF];
    rg_err e;

    if (ntimes == 0)
        return RG_OK;
    e = revoked_load(s, &v, &n);
    if (e) {
        rg_error("sessions: the revocation list in %s is unreadable (%s)", s->dir, rg_err_str(e));
        return e;
    }
    rg_buf_init(&out, (size_t)RG_REVOKED_MAX * (REVOKED_LINE_MAX + 1));
    for (size_t i = 0; i < n && !e; i++)
        if (ticket_alive(v[i].t, now))
            e = rg_buf_appendf(&out, "%08llX %s\n", (unsigned long long)v[i].t, v[i].userid);
    for (size_t i = 0; i < ntimes && !e; i++)
        e = rg_buf_appendf(&out, "%08llX %s\n", (unsigned long long)times[i], userid);
    if (e == RG_ERR_LIMIT)
        rg_error("sessions: revocation list full (%d entries); sign-out refused", RG_REVOKED_MAX);
    if (!e)
        e = rg_path_join(path, sizeof path, s->dir, "revoked");
    if (!e)
        e = rg_file_write_atomic(path, out.data ? out.data : "", out.len, 0600);
    free(v);
    rg_buf_free(&out);
    return e;
}

int rg_sessions_revoked(struct rg_sessions *s, const char *userid, time_t t)
{
    char path[PATH_BUF];
    struct stat st;
    int revoked = 0;

    if (rg_path_join(path, sizeof path, s->dir, "revoked"))
        return 1;
    pthread_mutex_lock(&s->mu);
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            rg_error("sessions: cannot stat %s: %s; tickets refused", path, strerror(errno));
            revoked = 1;
            goto out;
        }
        free(s->rev);
        s->rev = NULL;
        s->nrev = 0;
        s->have_stat = 0;
        goto out;
    }
    if (!s->have_stat || st.st_ino != s->ino || st.st_size != s->size ||
        st.st_mtim.tv_sec != s->mtime.tv_sec || st.st_mtim.tv_nsec != s->mtime.tv_nsec) {
        struct revoked *v = NULL;
        size_t n = 0;
        rg_err e = revoked_load(s, &v, &n);
        if (e) {
            rg_error("sessions: the revocation list %s is unreadable (%s); tickets refused",
                     path, rg_err_str(e));
            s->have_stat = 0;
            revoked = 1;
            goto out;
        }
        free(s->rev);
        s->rev = v;
        s->nrev = n;
        s->have_stat = 1;
        s->ino = st.st_ino;
        s->size = st.st_size;
        s->mtime = st.st_mtim;
    }
    for (size_t i = 0; i < s->nrev; i++)
        if (s->rev[i].t == t && strcmp(s->rev[i].userid, userid) == 0) {
            revoked = 1;
            break;
        }
out:
    pthread_mutex_unlock(&s->mu);
    return revoked;
}

/* ---- per-user session files ---- */

static rg_err user_load(const struct rg_sessions *s, const char *userid, json_t **out)
{
    char path[PATH_BUF];
    struct rg_buf b;
    json_t *doc;
    rg_err e;

    *out = NULL;
    if ((e = hashed_path(s, "u-", userid, path, sizeof path)))
        return e;
    e = rg_file_read(path, RG_SESSION_USERFILE_MAX, &b);
    if (e == RG_ERR_NOTFOUND) {
        *out = json_pack("{s:s,s:[]}", "userid", userid, "sessions");
        return *out ? RG_OK : RG_ERR_NOMEM;
    }
    if (e)
        return e;
    doc = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, NULL);
    rg_buf_free(&b);
    if (!json_is_object(doc) || !json_is_array(json_object_get(doc, "sessions")) ||
        !json_is_string(json_object_get(doc, "userid")) ||
        strcmp(json_string_value(json_object_get(doc, "userid")), userid) != 0) {
        json_decref(doc);
        rg_warn("sessions: %s is damaged; starting it afresh", path);
        *out = json_pack("{s:s,s:[]}", "userid", userid, "sessions");
        return *out ? RG_OK : RG_ERR_NOMEM;
    }
    *out = doc;
    return RG_OK;
}

static void wipe_decref(json_t *doc)
{
    /* the ID tokens in a user file are credentials: wipe their text before freeing */
    json_t *arr = json_object_get(doc, "sessions"), *sess;
    size_t i;
    if (doc && doc->refcount == 1)
        json_array_foreach(arr, i, sess) {
            json_t *it = json_object_get(sess, "id_token");
            if (json_is_string(it))
                rg_wipe((char *)json_string_value(it), json_string_length(it));
        }
    json_decref(doc);
}

static rg_err user_store(const struct rg_sessions *s, const char *userid, const json_t *doc)
{
    char path[PATH_BUF], *text;
    rg_err e;

    if ((e = hashed_path(s, "u-", userid, path, sizeof path)))
        return e;
    if (json_array_size(json_object_get(doc, "sessions")) == 0) {
        if (unlink(path) != 0 && errno != ENOENT) {
            rg_error("sessions: cannot remove %s: %s", path, strerror(errno));
            return RG_ERR_IO;
        }
        return RG_OK;
    }
    text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        return RG_ERR_NOMEM;
    e = strlen(text) > RG_SESSION_USERFILE_MAX ? RG_ERR_LIMIT
                                               : rg_file_write_atomic(path, text, strlen(text), 0600);
    rg_free_secret(text);
    return e;
}

/* Drops expired ticket times and sessions left without one. */
static void user_prune(json_t *doc, time_t now)
{
    json_t *arr = json_object_get(doc, "sessions");
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *sess = json_array_get(arr, i);
        json_t *tk = json_object_get(sess, "tickets");
        for (size_t j = json_array_size(tk); j-- > 0;) {
            json_t *tv = json_array_get(tk, j);
            if (!json_is_integer(tv) || !ticket_alive((time_t)json_integer_value(tv), now))
                json_array_remove(tk, j);
        }
        if (!json_is_array(tk) || json_array_size(tk) == 0)
            json_array_remove(arr, i);
    }
}

static int session_has(const json_t *sess, time_t t)
{
    const json_t *tk = json_object_get(sess, "tickets"), *tv;
    size_t j;
    json_array_foreach(tk, j, tv)
        if (json_is_integer(tv) && (time_t)json_integer_value(tv) == t)
            return 1;
    return 0;
}

/* Collects a session's ticket times into times (capacity RG_SESSION_TICKETS_MAX + 1). */
static size_t session_times(const json_t *sess, time_t *times)
{
    const json_t *tk = json_object_get(sess, "tickets"), *tv;
    size_t j, n = 0;
    json_array_foreach(tk, j, tv)
        if (json_is_integer(tv) && n < RG_SESSION_TICKETS_MAX)
            times[n++] = (time_t)json_integer_value(tv);
    return n;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ---- sid index ---- */

static rg_err sid_users(const struct rg_sessions *s, const char *sid, char users[][UID_BUF],
                        size_t *n)
{
    char path[PATH_BUF];
    struct rg_buf b;
    const char *p, *end;
    rg_err e;

    *n = 0;
    if ((e = hashed_path(s, "s-", sid, path, sizeof path)))
        return e;
    e = rg_file_read(path, RG_SID_USERS_MAX * UID_BUF, &b);
    if (e == RG_ERR_NOTFOUND)
        return RG_OK;
    if (e)
        return e;
    p = b.data ? b.data : "";
    end = p + b.len;
    while (p < end && *n < RG_SID_USERS_MAX) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ll > 0 && ll < UID_BUF) {
            memcpy(users[*n], p, ll);
            users[*n][ll] = '\0';
            if (userid_valid(users[*n]))
                (*n)++;
        }
        p += ll + 1;
    }
    rg_buf_free(&b);
    return RG_OK;
}

static rg_err sid_write(const struct rg_sessions *s, const char *sid, char users[][UID_BUF],
                        size_t n)
{
    char path[PATH_BUF];
    struct rg_buf b;
    rg_err e;

    if ((e = hashed_path(s, "s-", sid, path, sizeof path)))
        return e;
    if (n == 0)
        return (unlink(path) == 0 || errno == ENOENT) ? RG_OK : RG_ERR_IO;
    rg_buf_init(&b, RG_SID_USERS_MAX * UID_BUF);
    for (size_t i = 0; i < n && !e; i++)
        e = rg_buf_appendf(&b, "%s\n", users[i]);
    if (!e)
        e = rg_file_write_atomic(path, b.data, b.len, 0600);
    rg_buf_free(&b);
    return e;
}

static rg_err sid_add_user(const struct rg_sessions *s, const char *sid, const char *userid)
{
    char users[RG_SID_USERS_MAX + 1][UID_BUF];
    size_t n;
    rg_err e = sid_users(s, sid, users, &n);
    if (e)
        return e;
    for (size_t i = 0; i < n; i++)
        if (strcmp(users[i], userid) == 0)
            return RG_OK;
    if (n == RG_SID_USERS_MAX) { /* drop the oldest entry */
        memmove(users[0], users[1], (n - 1) * sizeof users[0]);
        n--;
    }
    snprintf(users[n++], UID_BUF, "%s", userid);
    return sid_write(s, sid, users, n);
}

/* ---- sweep of files nobody wrote for a ticket lifetime ---- */

static void sweep(struct rg_sessions *s, time_t now)
{
    DIR *d;
    struct dirent *de;
    int due;

    pthread_mutex_lock(&s->mu);
    due = now - s->last_sweep >= SWEEP_INTERVAL;
    if (due)
        s->last_sweep = now;
    pthread_mutex_unlock(&s->mu);
    if (!due || !(d = opendir(s->dir)))
        return;
    while ((de = readdir(d))) {
        char path[PATH_BUF];
        struct stat st;
        if ((strncmp(de->d_name, "u-", 2) != 0 && strncmp(de->d_name, "s-", 2) != 0) ||
            rg_path_join(path, sizeof path, s->dir, de->d_name) || stat(path, &st) != 0)
            continue;
        if (st.st_mtime + RG_TICKET_MAX_AGE + RG_SESSION_SKEW < now)
            unlink(path);
    }
    closedir(d);
}

/* ---- public operations ---- */

static rg_err lock(const struct rg_sessions *s, int *fd, struct rg_msg *msg)
{
    char path[PATH_BUF];
    if (rg_path_join(path, sizeof path, s->dir, ".lock"))
        return rg_fail(msg, RG_ERR_LIMIT, "sessions: path too long");
    if (rg_lock_acquire(path, LOCK_WAIT_MS, fd))
        return rg_fail(msg, RG_ERR_BUSY, "sessions: lock not obtained in time");
    return RG_OK;
}

rg_err rg_sessions_record(struct rg_sessions *s, const char *userid, time_t t, time_t parent,
                          const struct rg_session_info *info, time_t now, struct rg_msg *msg)
{
    json_t *doc = NULL, *arr, *joined = NULL, *sess;
    const char *sid = info ? info->sid : NULL;
    size_t i;
    int fd = -1;
    rg_err e;

    if (!userid_valid(userid))
        return rg_fail(msg, RG_ERR_INVALID, "sessions: invalid user id");
    if (sid && !sid_valid(sid)) {
        rg_warn("sessions: login of '%s' has an unusable sid (empty, over %d bytes or not "
                "printable ASCII); front-channel logout will not find it", userid,
                RG_SESSION_SID_MAX);
        sid = NULL;
    }
    if ((e = lock(s, &fd, msg)))
        return e;
    if ((e = user_load(s, userid, &doc))) {
        rg_fail(msg, e, "sessions: cannot read the sessions of '%s'", userid);
        goto out;
    }
    user_prune(doc, now);
    arr = json_object_get(doc, "sessions");
    if (parent >= 0)
        json_array_foreach(arr, i, sess)
            if (session_has(sess, parent)) {
                joined = sess;
                break;
            }
    if (joined) {
        json_t *tk = json_object_get(joined, "tickets");
        if (!session_has(joined, t)) {
            if (json_array_size(tk) >= RG_SESSION_TICKETS_MAX) {
                /* a ticket the record forgets could not be signed out any more: it is
                 * revoked now instead (the chain's newer tickets stay valid) */
                time_t oldest = (time_t)json_integer_value(json_array_get(tk, 0));
                if ((e = revoke_times(s, userid, &oldest, 1, now))) {
                    rg_fail(msg, e, "sessions: cannot revoke a dropped ticket of '%s'", userid);
                    goto out;
                }
                json_array_remove(tk, 0);
            }
            json_array_append_new(tk, json_integer((json_int_t)t));
        }
        sid = NULL; /* the sid index already knows this session */
    } else {
        const char *idt = info ? info->id_token : NULL;
        sess = json_pack("{s:i,s:[I]}", "created", (json_int_t)now, "tickets", (json_int_t)t);
        if (!sess) {
            e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (info && info->realm)
            json_object_set_new(sess, "realm", json_string(info->realm));
        if (sid)
            json_object_set_new(sess, "sid", json_string(sid));
        if (idt && strlen(idt) <= RG_SESSION_IDTOKEN_MAX)
            json_object_set_new(sess, "id_token", json_string(idt));
        else if (idt)
            rg_warn("sessions: ID token of '%s' over %d bytes not kept (logout without hint)",
                    userid, RG_SESSION_IDTOKEN_MAX);
        if (json_array_size(arr) >= RG_SESSIONS_PER_USER) {
            /* the oldest session ends: its tickets are revoked rather than forgotten */
            time_t times[RG_SESSION_TICKETS_MAX + 1];
            size_t nt = session_times(json_array_get(arr, 0), times);
            if ((e = revoke_times(s, userid, times, nt, now))) {
                json_decref(sess);
                rg_fail(msg, e, "sessions: cannot end the oldest session of '%s'", userid);
                goto out;
            }
            rg_info("sessions: '%s' has %d sessions; the oldest was ended", userid,
                    RG_SESSIONS_PER_USER);
            json_array_remove(arr, 0);
        }
        json_array_append_new(arr, sess);
    }
    if ((e = user_store(s, userid, doc))) {
        rg_fail(msg, e, "sessions: cannot write the sessions of '%s'", userid);
        goto out;
    }
    if (sid && (e = sid_add_user(s, sid, userid))) {
        rg_fail(msg, e, "sessions: cannot index the session of '%s' by sid", userid);
        goto out;
    }
    sweep(s, now);
out:
    wipe_decref(doc);
    rg_lock_release(fd);
    return e;
}

void rg_session_ended_clear(struct rg_session_ended *x)
{
    free(x->sid);
    rg_free_secret(x->id_token);
    memset(x, 0, sizeof *x);
}

rg_err rg_sessions_end(struct rg_sessions *s, const char *userid, time_t t, time_t now,
                       struct rg_session_ended *out, struct rg_msg *msg)
{
    time_t times[RG_SESSION_TICKETS_MAX + 1];
    size_t n = 0, i, found = (size_t)-1;
    json_t *doc = NULL, *arr, *sess;
    int fd = -1;
    rg_err e;

    memset(out, 0, sizeof *out);
    if (!userid_valid(userid))
        return rg_fail(msg, RG_ERR_INVALID, "sessions: invalid user id");
    if ((e = lock(s, &fd, msg)))
        return e;
    if ((e = user_load(s, userid, &doc))) {
        rg_fail(msg, e, "sessions: cannot read the sessions of '%s'", userid);
        goto out;
    }
    user_prune(doc, now);
    arr = json_object_get(doc, "sessions");
    json_array_foreach(arr, i, sess)
        if (session_has(sess, t)) {
            found = i;
            break;
        }
    if (found != (size_t)-1) {
        sess = json_array_get(arr, found);
        n = session_times(sess, times);
        if (jstr(sess, "realm"))
            snprintf(out->realm, sizeof out->realm, "%s", jstr(sess, "realm"));
        if (jstr(sess, "sid") && !(out->sid = strdup(jstr(sess, "sid"))))
            e = RG_ERR_NOMEM;
        if (jstr(sess, "id_token") && !(out->id_token = strdup(jstr(sess, "id_token"))))
            e = RG_ERR_NOMEM;
        if (e) {
            rg_fail(msg, e, "out of memory");
            goto out;
        }
    }
    if (found == (size_t)-1)
        times[n++] = t; /* no record (password login, or pruned): revoke this ticket alone */
    /* revoke first: if that fails the record stays, and the caller reports the failure */
    if ((e = revoke_times(s, userid, times, n, now))) {
        rg_fail(msg, e, "sessions: cannot write the revocation list");
        goto out;
    }
    out->revoked = n;
    if (found != (size_t)-1) {
        json_array_remove(arr, found);
        if ((e = user_store(s, userid, doc)))
            rg_fail(msg, e, "sessions: cannot write the sessions of '%s'", userid);
    }
out:
    if (e)
        rg_session_ended_clear(out);
    wipe_decref(doc);
    rg_lock_release(fd);
    return e;
}

static int realm_listed(const char *realm, const char *const *realms)
{
    if (!realms)
        return 1;
    for (; realm && *realms; realms++)
        if (strcmp(*realms, realm) == 0)
            return 1;
    return 0;
}

rg_err rg_sessions_end_sid(struct rg_sessions *s, const char *sid, const char *const *realms,
                           time_t now, size_t *ended, struct rg_msg *msg)
{
    char users[RG_SID_USERS_MAX + 1][UID_BUF], keep[RG_SID_USERS_MAX + 1][UID_BUF];
    size_t nusers = 0, nkeep = 0;
    int fd = -1;
    rg_err e;

    *ended = 0;
    if (!sid_valid(sid))
        return RG_OK; /* cannot name a recorded session */
    if ((e = lock(s, &fd, msg)))
        return e;
    if ((e = sid_users(s, sid, users, &nusers))) {
        rg_fail(msg, e, "sessions: cannot read the sid index");
        goto out;
    }
    for (size_t u = 0; u < nusers && !e; u++) {
        time_t times[RG_SESSIONS_PER_USER * (RG_SESSION_TICKETS_MAX + 1)];
        size_t n = 0, before;
        int kept = 0;
        json_t *doc = NULL, *arr;

        if ((e = user_load(s, users[u], &doc))) {
            rg_fail(msg, e, "sessions: cannot read the sessions of '%s'", users[u]);
            break;
        }
        user_prune(doc, now);
        arr = json_object_get(doc, "sessions");
        before = json_array_size(arr);
        for (size_t i = json_array_size(arr); i-- > 0;) {
            json_t *sess = json_array_get(arr, i);
            const char *ssid = jstr(sess, "sid");
            if (!ssid || strcmp(ssid, sid) != 0)
                continue;
            if (!realm_listed(jstr(sess, "realm"), realms)) {
                kept = 1;
                continue;
            }
            n += session_times(sess, times + n);
            json_array_remove(arr, i);
            (*ended)++;
        }
        if (kept)
            memcpy(keep[nkeep++], users[u], UID_BUF);
        e = revoke_times(s, users[u], times, n, now);
        if (e)
            rg_fail(msg, e, "sessions: cannot write the revocation list");
        else if (json_array_size(arr) != before && (e = user_store(s, users[u], doc)))
            rg_fail(msg, e, "sessions: cannot write the sessions of '%s'", users[u]);
        wipe_decref(doc);
    }
    if (!e && nusers && (e = sid_write(s, sid, keep, nkeep)))
        rg_fail(msg, e, "sessions: cannot update the sid index");
out:
    rg_lock_release(fd);
    return e;
}
