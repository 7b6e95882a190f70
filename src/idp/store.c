#include "idp/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/mem.h"

#define LOCK_TIMEOUT_MS 10000

rg_err rg_idp_store_open(struct rg_idp_store *s, const char *dir, bool create,
                         struct rg_msg *msg)
{
    struct stat sb;

    memset(s, 0, sizeof *s);
    if (!dir || !*dir)
        return rg_fail(msg, RG_ERR_INVALID,
                       "no state directory: use --state-dir DIR or REALMGATE_IDP_STATE");
    if (strlen(dir) >= sizeof s->dir)
        return rg_fail(msg, RG_ERR_LIMIT, "state directory path too long");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (rg_path_join(s->state_path, sizeof s->state_path, dir, "idp.json") ||
        rg_path_join(s->lock_path, sizeof s->lock_path, dir, ".lock") ||
        rg_path_join(s->keys_dir, sizeof s->keys_dir, dir, "keys"))
        return rg_fail(msg, RG_ERR_LIMIT, "state directory path too long");
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return rg_fail(msg, RG_ERR_INVALID, "%s is not a directory", dir);
        return RG_OK;
    }
    if (errno != ENOENT)
        return rg_fail(msg, RG_ERR_IO, "cannot access %s: %s", dir, strerror(errno));
    if (!create)
        return rg_fail(msg, RG_ERR_NOTFOUND,
                       "state directory %s does not exist (create a tenant first)", dir);
    if (rg_mkdir_p(dir, 0700))
        return rg_fail(msg, RG_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    return RG_OK;
}

rg_err rg_idp_store_lock(const struct rg_idp_store *s, int *fd, struct rg_msg *msg)
{
    rg_err e = rg_lock_acquire(s->lock_path, LOCK_TIMEOUT_MS, fd);
    if (e == RG_ERR_BUSY)
        return rg_fail(msg, e, "another realmgate-idp command holds %s", s->lock_path);
    if (e)
        return rg_fail(msg, e, "cannot lock %s", s->lock_path);
    return RG_OK;
}

void rg_idp_store_unlock(int fd)
{
    rg_lock_release(fd);
}

rg_err rg_idp_store_stamp(const struct rg_idp_store *s, struct rg_idp_stamp *out)
{
    struct stat sb;

    memset(out, 0, sizeof *out);
    if (stat(s->state_path, &sb) != 0)
        return errno == ENOENT ? RG_OK : RG_ERR_IO;
    out->exists = true;
    out->dev = sb.st_dev;
    out->ino = sb.st_ino;
    out->size = sb.st_size;
    out->mtime = sb.st_mtim;
    return RG_OK;
}

bool rg_idp_stamp_eq(const struct rg_idp_stamp *a, const struct rg_idp_stamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

rg_err rg_idp_store_load(const struct rg_idp_store *s, struct rg_idp_state *st,
                         struct rg_idp_stamp *stamp, struct rg_msg *msg)
{
    struct rg_buf text;
    struct rg_msg why;
    rg_err e;

    if (stamp && rg_idp_store_stamp(s, stamp))
        return rg_fail(msg, RG_ERR_IO, "cannot stat %s", s->state_path);
    e = rg_file_read(s->state_path, RG_IDP_STATE_FILE_MAX, &text);
    if (e == RG_ERR_NOTFOUND) {
        rg_idp_state_free(st);
        return RG_OK;
    }
    if (e)
        return rg_fail(msg, e, "cannot read %s (%s)", s->state_path, rg_err_str(e));
    e = rg_idp_state_from_json(text.data, text.len, st, &why);
    rg_buf_free(&text);
    if (e)
        return rg_fail(msg, e, "%s: %s", s->state_path, why.text);
    return RG_OK;
}

rg_err rg_idp_store_save(const struct rg_idp_store *s, const struct rg_idp_state *st,
                         struct rg_msg *msg)
{
    char *text = rg_idp_state_to_json(st);
    rg_err e;

    if (!text)
        return rg_fail(msg, RG_ERR_NOMEM, "cannot serialise the state");
    e = rg_file_write_atomic(s->state_path, text, strlen(text), 0600);
    rg_free_secret(text);
    if (e)
        return rg_fail(msg, e, "cannot write %s", s->state_path);
    return RG_OK;
}
