/* store.h — the configuration directory and its immutable snapshots.
 *
 * Layout (Proxmox names, see docs/config-files.md):
 *   <dir>/domains.cfg          realms (client keys inside!)  (0600)
 *   <dir>/user.cfg             users, groups, roles, ACLs   (0640)
 *   <dir>/authkey.pub          ticket public key (PEM SPKI) (0644)
 *   <dir>/pve-www.key          CSRF secret input            (0600)
 *   <dir>/priv/                0700
 *   <dir>/priv/shadow.cfg      pve-realm password hashes    (0600)
 *   <dir>/priv/authkey.key     ticket private key, RSA-2048 PEM PKCS#8 (0600)
 *   <dir>/priv/openid/         pending OpenID logins (owned by the OpenID RP layer)
 *   <dir>/priv/lock/           lock files of the read-modify-write updates
 *   <dir>/local/               TLS certificate and key (owned by the server)
 * rg_store_open creates missing directories and generates a missing key pair / www key.
 * Missing domains.cfg / user.cfg are treated as empty files (built-ins only).
 *
 * Snapshots: rg_store_acquire returns the current snapshot with its reference count raised;
 * it is immutable and safe to read from any thread until rg_store_release. Every acquire
 * stats the snapshot's files (domains.cfg, user.cfg, priv/token.cfg and the keys: mtime,
 * size, inode) unless another thread is doing so; when one changed, a new snapshot is built
 * outside any reader's way and swapped in; the old one is freed when its last reader
 * releases it. A file that fails to load (unreadable, oversize, bad key) keeps the last good
 * snapshot and logs why. The hot path takes one short mutex (pointer + refcount), nothing
 * else.
 *
 * Updates: rg_store_update_* take the file's exclusive lock (10 s, across processes), re-read
 * and parse the file inside the lock, call fn on the parsed copy, write it atomically when
 * fn returns RG_OK and the text changed (fn's error is returned unchanged and nothing is
 * written), then refresh the snapshot so the caller's next acquire sees the change. RG_ERR_BUSY if the lock is not
 * obtained in time. The CLI and the server use the same functions, so they can run together.
 *
 * Thread-safety: every function may be called from any thread, except rg_store_close (once,
 * when no snapshot is held any more and no call is running). */
#ifndef RG_ACCESS_STORE_H
#define RG_ACCESS_STORE_H

#include <openssl/evp.h>
#include <time.h>

#include "access/csrf.h"
#include "access/domains.h"
#include "access/shadow.h"
#include "access/tokens.h"
#include "access/usercfg.h"
#include "base/err.h"

#define RG_STORE_LOCK_TIMEOUT_MS 10000
#define RG_STORE_KEY_MAX (64 * 1024)   /* PEM files and pve-www.key */

struct rg_store;

struct rg_snapshot {
    struct rg_domains domains;
    struct rg_usercfg users;
    struct rg_tokencfg tokens;  /* priv/token.cfg: API-token secrets (hashed) */
    EVP_PKEY *ticket_key;       /* private key: signs tickets (and can verify) */
    EVP_PKEY *ticket_pub;       /* public key from authkey.pub: verifies tickets */
    char csrf_secret[RG_CSRF_SECRET_LEN + 1];
    time_t loaded;              /* when this snapshot was built */
    unsigned long generation;   /* increases with every swap, starting at 1 */
    /* private to store.c */
    int refs_;
};

/* Opens (and initialises) dir. The first snapshot is loaded here; failure to load it is an
 * error (RG_ERR_IO / RG_ERR_CONFIG with msg). */
rg_err rg_store_open(const char *dir, struct rg_store **out, struct rg_msg *msg);
void rg_store_close(struct rg_store *st);
const char *rg_store_dir(const struct rg_store *st);
/* Builds "<dir>/<rel>" into out; RG_ERR_LIMIT if it does not fit. */
rg_err rg_store_path(const struct rg_store *st, const char *rel, char *out, size_t outsz);

/* Never NULL once the store is open. */
const struct rg_snapshot *rg_store_acquire(struct rg_store *st);
void rg_store_release(const struct rg_snapshot *snap);
/* Checks the files now (waiting for a check another thread is doing) and swaps if something
 * changed. */
rg_err rg_store_refresh(struct rg_store *st);
/* Reads <dir>/<rel> (at most max bytes, RG_ERR_LIMIT beyond); a missing file reads as empty
 * text. out is initialised here; msg names the file on failure. */
rg_err rg_store_read_cfg(const struct rg_store *st, const char *rel, size_t max,
                         struct rg_buf *out, struct rg_msg *msg);

typedef rg_err rg_usercfg_update_fn(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg);
typedef rg_err rg_domains_update_fn(struct rg_domains *d, void *ctx, struct rg_msg *msg);
typedef rg_err rg_shadow_update_fn(struct rg_shadow *sh, void *ctx, struct rg_msg *msg);
typedef rg_err rg_tokencfg_update_fn(struct rg_tokencfg *tc, void *ctx, struct rg_msg *msg);

rg_err rg_store_update_usercfg(struct rg_store *st, rg_usercfg_update_fn *fn, void *ctx,
                               struct rg_msg *msg);
rg_err rg_store_update_domains(struct rg_store *st, rg_domains_update_fn *fn, void *ctx,
                               struct rg_msg *msg);
rg_err rg_store_update_shadow(struct rg_store *st, rg_shadow_update_fn *fn, void *ctx,
                              struct rg_msg *msg);
rg_err rg_store_update_tokens(struct rg_store *st, rg_tokencfg_update_fn *fn, void *ctx,
                              struct rg_msg *msg);

/* ACL edit (PUT /access/acl, `acl modify|delete`) under the user.cfg lock: as
 * rg_usercfg_acl_change, except that an ACL may name a user who does not exist yet when the
 * user's realm is an `openid` realm with autocreate: such users are created at their first
 * login, and admins grant them rights beforehand (Proxmox keeps such entries in user.cfg but
 * offers no way to add them). */
rg_err rg_store_acl_change(struct rg_store *st, const char *path, const char *roles,
                           const char *users, const char *groups, const char *tokens,
                           int propagate, int remove, struct rg_msg *msg);

/* Password login check against the user's realm (read from snap): `pve` reads
 * priv/shadow.cfg now (rg_shadow_verify); `pam` asks the PAM helper process for the name
 * part of the user id (rg_pam_authenticate, access/pam.h: RG_ERR_AUTH when PAM refuses);
 * `openid` → RG_ERR_AUTH "OpenID realm does not allow password verification."; `ldap`,
 * `ad` → RG_ERR_CONFIG "<type> authentication is not supported"; unknown realm →
 * RG_ERR_NOTFOUND "authentication domain '<r>' does not exist". Does not check user
 * existence/enable (rg_usercfg_check_user does). */
rg_err rg_store_verify_password(struct rg_store *st, const struct rg_snapshot *snap,
                                const char *userid, const char *password, struct rg_msg *msg);
/* The same with the client address, which the `pam` realm passes to PAM as PAM_RHOST
 * (rhost NULL or "" = not set). */
rg_err rg_store_verify_password_from(struct rg_store *st, const struct rg_snapshot *snap,
                                     const char *userid, const char *password,
                                     const char *rhost, struct rg_msg *msg);
/* Sets the password of a `pve`-realm user (8..64 chars is the API's rule, enforced by the
 * caller; here only 1..RG_PASSWORD_MAX). Other realms: RG_ERR_CONFIG "can't set password on
 * auth type '<type>'". */
rg_err rg_store_set_password(struct rg_store *st, const char *userid, const char *password,
                             struct rg_msg *msg);
/* Removes a pve-realm user's hash (user delete); absent entry is fine. */
rg_err rg_store_delete_password(struct rg_store *st, const char *userid, struct rg_msg *msg);

#endif
