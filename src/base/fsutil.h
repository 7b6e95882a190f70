/* fsutil.h — bounded file reads, atomic writes and advisory locks for config files.
 *
 * rg_file_read: reads a whole file into a fresh rg_buf (caller frees with rg_buf_free);
 *   RG_ERR_NOTFOUND if absent, RG_ERR_LIMIT if larger than max, RG_ERR_INVALID if it is not
 *   a regular file (a FIFO or a device could block a reader forever or never end; symlinks
 *   to regular files are fine), RG_ERR_IO otherwise.
 * rg_file_write_atomic: writes to "<path>.tmp.<pid>.<n>", fsyncs, renames over path and
 *   fsyncs the directory, so readers see the old or the new file, never a mix.
 * rg_lock_acquire: exclusive flock() on a lock file (created 0600), waiting up to
 *   timeout_ms; RG_ERR_BUSY on timeout. Works across processes and threads (each call opens
 *   its own descriptor). Release with rg_lock_release. */
#ifndef RG_BASE_FSUTIL_H
#define RG_BASE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"

rg_err rg_file_read(const char *path, size_t max, struct rg_buf *out);
rg_err rg_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
rg_err rg_lock_acquire(const char *lockpath, int timeout_ms, int *fd_out);
void rg_lock_release(int fd);
/* mkdir -p with the given mode for directories it creates. */
rg_err rg_mkdir_p(const char *path, mode_t mode);
/* Joins dir and name into out (size outsz); RG_ERR_LIMIT if it does not fit. */
rg_err rg_path_join(char *out, size_t outsz, const char *dir, const char *name);

#endif
