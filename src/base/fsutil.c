#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

rg_err rg_file_read(const char *path, size_t max, struct rg_buf *out)
{
    char chunk[8192];
    struct stat sb;
    ssize_t n;
    rg_err e = RG_OK;
    int fd;

    rg_buf_init(out, max);
    /* O_NONBLOCK: opening a FIFO without a writer must not block; regular files ignore it */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? RG_ERR_NOTFOUND : RG_ERR_IO;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return RG_ERR_INVALID;
    }
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = RG_ERR_IO;
            break;
        }
        e = rg_buf_append(out, chunk, (size_t)n);
        if (e)
            break;
    }
    close(fd);
    if (!e && !out->data)
        e = rg_buf_append(out, "", 0);
    if (e)
        rg_buf_free(out);
    return e;
}

static rg_err write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return RG_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    return RG_OK;
}

rg_err rg_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    static atomic_uint counter;
    char tmp[4096], dirbuf[4096];
    rg_err e;
    int fd, dfd;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%d.%u", path, (int)getpid(),
                         atomic_fetch_add(&counter, 1)) >= sizeof tmp)
        return RG_ERR_LIMIT;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rg_error("cannot create %s: %s", tmp, strerror(errno));
        return RG_ERR_IO;
    }
    e = write_all(fd, data, len);
    if (!e && fchmod(fd, mode) != 0)
        e = RG_ERR_IO;
    if (!e && fsync(fd) != 0)
        e = RG_ERR_IO;
    if (close(fd) != 0 && !e)
        e = RG_ERR_IO;
    if (!e && rename(tmp, path) != 0)
        e = RG_ERR_IO;
    if (e) {
        rg_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return e;
    }
    snprintf(dirbuf, sizeof dirbuf, "%s", path);
    dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return RG_OK;
}

rg_err rg_lock_acquire(const char *lockpath, int timeout_ms, int *fd_out)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    int waited = 0;
    int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    *fd_out = -1;
    if (fd < 0) {
        rg_error("cannot open lock %s: %s", lockpath, strerror(errno));
        return RG_ERR_IO;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            close(fd);
            return RG_ERR_IO;
        }
        if (waited >= timeout_ms) {
            close(fd);
            rg_warn("lock %s not obtained within %d ms", lockpath, timeout_ms);
            return RG_ERR_BUSY;
        }
        nanosleep(&pause, NULL);
        waited += 10;
    }
    *fd_out = fd;
    return RG_OK;
}

void rg_lock_release(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

rg_err rg_mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof tmp)
        return RG_ERR_INVALID;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return RG_ERR_IO;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return RG_ERR_IO;
    return RG_OK;
}

rg_err rg_path_join(char *out, size_t outsz, const char *dir, const char *name)
{
    int n = snprintf(out, outsz, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outsz)
        return RG_ERR_LIMIT;
    return RG_OK;
}
