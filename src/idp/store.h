/* store.h — realmgate-idp's state directory: where the files are, how they are locked,
 * loaded and saved. Owner: idp.
 *
 * Layout of DIR (created 0700):
 *   idp.json         the directory (model.h), mode 0600 (password and secret hashes)
 *   keys/<kid>.pem   private signing keys, mode 0600, directory 0700 (keys.h)
 *   .lock            flock()ed by every writer for the whole read-modify-write
 * Writes go through rg_file_write_atomic, so `serve` (which re-reads idp.json whenever its
 * stamp — device, inode, size, mtime — changes) never sees a half-written file.
 *
 * Errors: RG_ERR_IO, RG_ERR_BUSY (lock), RG_ERR_LIMIT (path or file too long),
 * RG_ERR_INVALID (state file refused, msg says why). */
#ifndef RG_IDP_STORE_H
#define RG_IDP_STORE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/err.h"
#include "idp/model.h"

#define RG_IDP_STATE_FILE_MAX (32u << 20)

struct rg_idp_store {
    char dir[2048];
    char state_path[2100];
    char lock_path[2100];
    char keys_dir[2100];
};

struct rg_idp_stamp {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/* Fills the paths; with create, makes DIR (0700) if absent. */
rg_err rg_idp_store_open(struct rg_idp_store *s, const char *dir, bool create,
                         struct rg_msg *msg);
rg_err rg_idp_store_lock(const struct rg_idp_store *s, int *fd, struct rg_msg *msg);
void rg_idp_store_unlock(int fd);
/* Stamp of idp.json now (exists=false when absent). */
rg_err rg_idp_store_stamp(const struct rg_idp_store *s, struct rg_idp_stamp *out);
bool rg_idp_stamp_eq(const struct rg_idp_stamp *a, const struct rg_idp_stamp *b);
/* Loads idp.json into st (an absent file is an empty state). If stamp is not NULL it gets
 * the stamp taken before reading, so a change racing the read causes one more reload,
 * never a missed one. */
rg_err rg_idp_store_load(const struct rg_idp_store *s, struct rg_idp_state *st,
                         struct rg_idp_stamp *stamp, struct rg_msg *msg);
rg_err rg_idp_store_save(const struct rg_idp_store *s, const struct rg_idp_state *st,
                         struct rg_msg *msg);

#endif
