#include "access/pam.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

/* ---------------------------------------------------------------- wire */

static void put_u16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_u32(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static size_t get_u16(const unsigned char *p)
{
    return ((size_t)p[0] << 8) | p[1];
}

static size_t get_u32(const unsigned char *p)
{
    return ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
}

int rg_pam_user_ok(const char *user)
{
    size_t n = user ? strlen(user) : 0;

    if (n == 0 || n > RG_PAM_USER_MAX || user[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c <= 0x20 || c == 0x7f || c == ':' || c == '/')
            return 0;
    }
    return 1;
}

static int rhost_ok(const char *rhost)
{
    size_t n = strlen(rhost);

    if (n > RG_PAM_RHOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)rhost[i] <= 0x20 || (unsigned char)rhost[i] >= 0x7f)
            return 0;
    return 1;
}

rg_err rg_pam_request_encode(const char *user, const char *password, const char *rhost,
                             unsigned char *out, size_t outsz, size_t *outlen)
{
    size_t ul, pl, rl, n;
    unsigned char *p;

    if (!rhost)
        rhost = "";
    if (!rg_pam_user_ok(user) || !password || !rhost_ok(rhost))
        return RG_ERR_INVALID;
    ul = strlen(user);
    pl = strlen(password);
    rl = strlen(rhost);
    if (pl == 0 || pl > RG_PAM_PASSWORD_MAX)
        return RG_ERR_INVALID;
    n = 1 + 2 + ul + 2 + pl + 2 + rl;
    if (outsz < 4 + n)
        return RG_ERR_LIMIT;
    p = out;
    put_u32(p, n);
    p += 4;
    *p++ = 1;
    put_u16(p, ul);
    memcpy(p + 2, user, ul);
    p += 2 + ul;
    put_u16(p, pl);
    memcpy(p + 2, password, pl);
    p += 2 + pl;
    put_u16(p, rl);
    memcpy(p + 2, rhost, rl);
    *outlen = 4 + n;
    return RG_OK;
}

/* One length-prefixed field into dst (NUL-terminated); fails if longer than max or if it
 * holds a NUL byte. */
static int take_field(const unsigned char **p, size_t *left, char *dst, size_t max)
{
    size_t n;

    if (*left < 2)
        return -1;
    n = get_u16(*p);
    if (n > max || n > *left - 2 || memchr(*p + 2, 0, n))
        return -1;
    memcpy(dst, *p + 2, n);
    dst[n] = '\0';
    *p += 2 + n;
    *left -= 2 + n;
    return 0;
}

rg_err rg_pam_request_decode(const unsigned char *p, size_t len, struct rg_pam_request *req)
{
    size_t left = len;

    memset(req, 0, sizeof *req);
    if (len > RG_PAM_FRAME_MAX || len < 1 || p[0] != 1)
        return RG_ERR_INVALID;
    p++;
    left--;
    if (take_field(&p, &left, req->user, RG_PAM_USER_MAX) ||
        take_field(&p, &left, req->password, RG_PAM_PASSWORD_MAX) ||
        take_field(&p, &left, req->rhost, RG_PAM_RHOST_MAX) || left != 0 ||
        !rg_pam_user_ok(req->user) || !req->password[0] || !rhost_ok(req->rhost)) {
        rg_wipe(req, sizeof *req);
        return RG_ERR_INVALID;
    }
    return RG_OK;
}

rg_err rg_pam_reply_encode(enum rg_pam_status st, const char *reason, unsigned char *out,
                           size_t outsz, size_t *outlen)
{
    size_t rl = reason ? strlen(reason) : 0;

    if (rl > RG_PAM_REASON_MAX)
        rl = RG_PAM_REASON_MAX;
    if (outsz < 4 + 1 + 2 + rl)
        return RG_ERR_LIMIT;
    put_u32(out, 1 + 2 + rl);
    out[4] = (unsigned char)st;
    put_u16(out + 5, rl);
    for (size_t i = 0; i < rl; i++) {
        unsigned char c = (unsigned char)reason[i];
        out[7 + i] = (c < 0x20 || c >= 0x7f) ? '?' : c;
    }
    *outlen = 7 + rl;
    return RG_OK;
}

rg_err rg_pam_reply_decode(const unsigned char *p, size_t len, enum rg_pam_status *st,
                           char reason[RG_PAM_REASON_MAX + 1])
{
    size_t rl;

    reason[0] = '\0';
    if (len < 3 || p[0] > RG_PAM_FAILED)
        return RG_ERR_INVALID;
    rl = get_u16(p + 1);
    if (rl > RG_PAM_REASON_MAX || len != 3 + rl)
        return RG_ERR_INVALID;
    for (size_t i = 0; i < rl; i++) {
        if (p[3 + i] < 0x20 || p[3 + i] >= 0x7f)
            return RG_ERR_INVALID;
        reason[i] = (char)p[3 + i];
    }
    reason[rl] = '\0';
    *st = (enum rg_pam_status)p[0];
    return RG_OK;
}

/* ---------------------------------------------------------------- client */

struct slot {
    pid_t pid;  /* 0 = not running */
    int fd;     /* our end of the socketpair, -1 if not running */
    int busy;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char helper[PATH_MAX];
    unsigned size;
    int timeout_ms;
    struct slot slots[RG_PAM_POOL_MAX];
    int inited;
} g_pam = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, "", 0, 0, {{0, 0, 0}}, 0};

static void init_locked(void)
{
    if (g_pam.inited)
        return;
    for (size_t i = 0; i < RG_PAM_POOL_MAX; i++) {
        g_pam.slots[i].pid = 0;
        g_pam.slots[i].fd = -1;
        g_pam.slots[i].busy = 0;
    }
    g_pam.size = RG_PAM_POOL_MAX;
    g_pam.timeout_ms = RG_PAM_TIMEOUT_MS;
    g_pam.inited = 1;
}

/* Default helper: next to the running executable (build dir or install prefix). */
static rg_err default_helper(char *out, size_t outsz)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash;

    if (n <= 0)
        return RG_ERR_IO;
    exe[n] = '\0';
    if (!(slash = strrchr(exe, '/')))
        return RG_ERR_IO;
    *slash = '\0';
    if (snprintf(out, outsz, "%s/%s", exe, RG_PAM_HELPER_NAME) >= (int)outsz)
        return RG_ERR_LIMIT;
    return RG_OK;
}

static void stop_slot(struct slot *s, int hard)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->pid > 0) {
        /* closing our end makes a healthy helper exit; a stuck one (inside PAM) is killed */
        if (hard)
            kill(s->pid, SIGKILL);
        while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    s->pid = 0;
}

rg_err rg_pam_configure(const char *helper_path, unsigned pool_size, int timeout_ms)
{
    rg_err e = RG_OK;

    pthread_mutex_lock(&g_pam.mu);
    init_locked();
    for (size_t i = 0; i < RG_PAM_POOL_MAX; i++)
        stop_slot(&g_pam.slots[i], 1);
    if (helper_path) {
        if (snprintf(g_pam.helper, sizeof g_pam.helper, "%s", helper_path) >=
            (int)sizeof g_pam.helper)
            e = RG_ERR_LIMIT;
    } else {
        g_pam.helper[0] = '\0';
    }
    g_pam.size = pool_size == 0 ? RG_PAM_POOL_MAX : pool_size > RG_PAM_POOL_MAX ? RG_PAM_POOL_MAX : pool_size;
    g_pam.timeout_ms = timeout_ms > 0 ? timeout_ms : RG_PAM_TIMEOUT_MS;
    pthread_mutex_unlock(&g_pam.mu);
    return e;
}

static rg_err spawn_slot(struct slot *s, const char *helper, struct rg_msg *msg)
{
    /* the helper gets no inherited environment: PAM modules read some variables */
    char *const argv[] = {(char *)RG_PAM_HELPER_NAME, NULL};
    char *const envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    posix_spawn_file_actions_t fa;
    int sv[2], rc;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return rg_fail(msg, RG_ERR_IO, "PAM helper: socketpair: %s", strerror(errno));
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
        close(sv[0]);
        close(sv[1]);
        return rg_fail(msg, RG_ERR_NOMEM, "PAM helper: %s", strerror(rc));
    }
    /* dup2 clears close-on-exec on the targets: the helper sees only fds 0, 1 and 2 */
    rc = posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    if (!rc)
        rc = posix_spawn(&pid, helper, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        rg_error("PAM helper '%s' cannot be started: %s", helper, strerror(rc));
        return rg_fail(msg, RG_ERR_CONFIG, "PAM helper '%s' cannot be started: %s", helper,
                       strerror(rc));
    }
    s->pid = pid;
    s->fd = sv[0];
    return RG_OK;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to become ready for ev before the deadline: 0, or -1 (timeout/error). */
static int wait_fd(int fd, short ev, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {fd, ev, 0};
        int r;

        if (left <= 0)
            return -1;
        r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return (pfd.revents & (ev | POLLHUP)) ? 0 : -1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int send_all(int fd, const unsigned char *p, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w;
        if (wait_fd(fd, POLLOUT, deadline))
            return -1;
        w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes; -1 on EOF, error or timeout. *got counts bytes read so far. */
static int recv_all(int fd, unsigned char *p, size_t n, long long deadline, size_t *got)
{
    while (n > 0) {
        ssize_t r;
        if (wait_fd(fd, POLLIN, deadline))
            return -1;
        r = recv(fd, p, n, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        if (r == 0)
            return -1;
        p += r;
        n -= (size_t)r;
        *got += (size_t)r;
    }
    return 0;
}

/* One request on a running helper. Returns 0 with *st/reason set, or -1 (helper unusable);
 * *answered tells whether the helper had started to reply (then no retry: PAM ran). */
static int exchange(struct slot *s, const unsigned char *frame, size_t flen, int timeout_ms,
                    enum rg_pam_status *st, char reason[RG_PAM_REASON_MAX + 1], int *answered)
{
    long long deadline = now_ms() + timeout_ms;
    unsigned char hdr[4], body[3 + RG_PAM_REASON_MAX];
    size_t got = 0, n;

    *answered = 0;
    if (send_all(s->fd, frame, flen, deadline))
        return -1;
    /* the request is sent: from here on PAM may have run, so never silently retry */
    *answered = 1;
    if (recv_all(s->fd, hdr, 4, deadline, &got))
        return -1;
    n = get_u32(hdr);
    if (n < 3 || n > sizeof body)
        return -1;
    if (recv_all(s->fd, body, n, deadline, &got))
        return -1;
    return rg_pam_reply_decode(body, n, st, reason) == RG_OK ? 0 : -1;
}

static rg_err acquire_slot(struct slot **out, char helper[PATH_MAX], int *timeout_ms,
                           struct rg_msg *msg)
{
    struct timespec until;
    rg_err e = RG_OK;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += RG_PAM_QUEUE_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&g_pam.mu);
    init_locked();
    for (;;) {
        struct slot *free_slot = NULL;
        for (size_t i = 0; i < g_pam.size && !free_slot; i++)
            if (!g_pam.slots[i].busy)
                free_slot = &g_pam.slots[i];
        if (free_slot) {
            free_slot->busy = 1;
            *out = free_slot;
            break;
        }
        if (pthread_cond_timedwait(&g_pam.cv, &g_pam.mu, &until) == ETIMEDOUT) {
            e = rg_fail(msg, RG_ERR_BUSY, "all PAM helpers are busy");
            break;
        }
    }
    if (!e) {
        if (g_pam.helper[0])
            memcpy(helper, g_pam.helper, PATH_MAX);
        else if (default_helper(helper, PATH_MAX) != RG_OK)
            e = rg_fail(msg, RG_ERR_CONFIG, "cannot locate %s", RG_PAM_HELPER_NAME);
        *timeout_ms = g_pam.timeout_ms;
        if (e)
            (*out)->busy = 0;
    }
    pthread_mutex_unlock(&g_pam.mu);
    return e;
}

static void release_slot(struct slot *s)
{
    pthread_mutex_lock(&g_pam.mu);
    s->busy = 0;
    pthread_cond_signal(&g_pam.cv);
    pthread_mutex_unlock(&g_pam.mu);
}

rg_err rg_pam_start(struct rg_msg *msg)
{
    char helper[PATH_MAX];
    struct slot *s;
    int tmo;
    rg_err e;

    if ((e = acquire_slot(&s, helper, &tmo, msg)))
        return e;
    if (s->pid == 0)
        e = spawn_slot(s, helper, msg);
    release_slot(s);
    return e;
}

rg_err rg_pam_authenticate(const char *user, const char *password, const char *rhost,
                           struct rg_msg *msg)
{
    unsigned char frame[4 + RG_PAM_FRAME_MAX];
    char reason[RG_PAM_REASON_MAX + 1], helper[PATH_MAX];
    enum rg_pam_status st = RG_PAM_FAILED;
    size_t flen = 0;
    struct slot *s = NULL;
    int tmo, done = 0;
    rg_err e;

    if ((e = rg_pam_request_encode(user, password, rhost, frame, sizeof frame, &flen)))
        return rg_fail(msg, RG_ERR_INVALID, "invalid PAM user name, password or rhost");
    if ((e = acquire_slot(&s, helper, &tmo, msg)))
        goto out;
    /* a helper that died while idle shows up as a failed send: retry once on a fresh one */
    for (int attempt = 0; attempt < 2 && !done; attempt++) {
        int fresh = 0, answered = 0;
        if (s->pid == 0) {
            if ((e = spawn_slot(s, helper, msg)))
                break;
            fresh = 1;
        }
        if (exchange(s, frame, flen, tmo, &st, reason, &answered) == 0) {
            done = 1;
            break;
        }
        rg_warn("PAM helper (pid %d) died, timed out or broke the protocol; replacing it",
                (int)s->pid);
        stop_slot(s, 1);
        if (fresh || answered)
            break;
    }
    if (!e && !done)
        e = rg_fail(msg, RG_ERR_IO, "PAM helper failed");
    release_slot(s);
    if (e)
        goto out;
    if (st == RG_PAM_OK)
        e = RG_OK;
    else if (st == RG_PAM_DENIED)
        e = rg_fail(msg, RG_ERR_AUTH, "%s", reason[0] ? reason : "PAM authentication failed");
    else
        e = rg_fail(msg, RG_ERR_IO, "PAM error: %s", reason[0] ? reason : "unknown");
out:
    rg_wipe(frame, sizeof frame);
    return e;
}

size_t rg_pam_helper_pids(int *pids, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&g_pam.mu);
    init_locked();
    for (size_t i = 0; i < g_pam.size && n < max; i++)
        pids[n++] = (int)g_pam.slots[i].pid;
    pthread_mutex_unlock(&g_pam.mu);
    return n;
}

void rg_pam_shutdown(void)
{
    pthread_mutex_lock(&g_pam.mu);
    init_locked();
    for (size_t i = 0; i < RG_PAM_POOL_MAX; i++)
        stop_slot(&g_pam.slots[i], 0);
    pthread_mutex_unlock(&g_pam.mu);
}
