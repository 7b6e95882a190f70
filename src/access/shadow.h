/* shadow.h — password hashes of the `pve` realm: `priv/shadow.cfg` (spec §6).
 *
 * One line per user `<name>:<crypt-hash>:` (name = user id WITHOUT "@pve"); other lines are
 * dropped with a warning. New hashes are SHA-256-crypt (`$5$`, default rounds) with a
 * 16-character salt from the CSPRNG (PVE uses 8 characters derived from the time; ours is
 * unpredictable and longer, and stays compatible because crypt() reads the salt from the
 * hash). Verification runs crypt_rn() with the stored hash as setting, so any scheme
 * libxcrypt knows ($5$, $6$, $y$, ...) verifies, and compares the result in constant time.
 *
 * Errors of rg_shadow_verify (messages as PVE): RG_ERR_AUTH "no password" (empty password),
 * "no password set" (no entry), "invalid credentials" (mismatch). Passwords are never
 * logged or copied into messages. Hashes are wiped when the structure is freed.
 * Ownership: struct rg_shadow owns its strings. */
#ifndef RG_ACCESS_SHADOW_H
#define RG_ACCESS_SHADOW_H

#include <stddef.h>

#include "access/ids.h"
#include "base/buf.h"
#include "base/err.h"

#define RG_SHADOW_FILE_MAX (4 * 1024 * 1024)
#define RG_PASSWORD_MAX 4096      /* longer input is refused before hashing */
#define RG_SHADOW_HASH_MAX 512

struct rg_shadow_entry {
    char name[RG_USERID_MAX + 1];
    char *hash;
};

struct rg_shadow {
    struct rg_shadow_entry *entries; /* file order */
    size_t n;
    size_t cap;
};

void rg_shadow_init(struct rg_shadow *sh);
void rg_shadow_free(struct rg_shadow *sh);
rg_err rg_shadow_parse(const char *text, size_t len, struct rg_shadow *out,
                       rg_cfg_warn_fn *warn, void *warn_ctx);
rg_err rg_shadow_write(const struct rg_shadow *sh, struct rg_buf *out);
/* Stored hash of name, NULL if none (borrowed). */
const char *rg_shadow_get(const struct rg_shadow *sh, const char *name);
/* Hashes password (SHA-256-crypt) and stores it for name (replacing an old hash). */
rg_err rg_shadow_set(struct rg_shadow *sh, const char *name, const char *password,
                     struct rg_msg *msg);
/* RG_OK if removed, RG_ERR_NOTFOUND if there was no entry. */
rg_err rg_shadow_delete(struct rg_shadow *sh, const char *name);
rg_err rg_shadow_verify(const struct rg_shadow *sh, const char *name, const char *password,
                        struct rg_msg *msg);

/* The primitives: a fresh `$5$` hash (malloc'd, caller frees) and a constant-time check
 * (RG_OK on match, RG_ERR_AUTH otherwise, RG_ERR_INVALID for an unusable hash). */
rg_err rg_password_hash(const char *password, char **out);
rg_err rg_password_check(const char *password, const char *hash);

#endif
