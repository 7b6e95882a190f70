/* ids.h — identifier grammar of the access layer (user, realm, group, role, token, pool ids),
 * ACL path normalisation and the PVE list splitter.
 *
 * Every identifier that reaches the access layer (from a config file, an API call, the CLI
 * or an OpenID claim) is checked here and nowhere else. The rules are those of Proxmox VE
 * (spec §2.2, §5.2, §5.5, §5.6); where Perl's `$` would tolerate a trailing newline we refuse
 * every control character instead (spec §5.2 implementation note).
 *
 * Bounds chosen on purpose (PVE has none for some of them; we need one for fixed buffers):
 *   user id 3..64 (PVE), realm id 2..32 (PVE), token name 2..64, group/role id 1..128,
 *   pool id 1..128 (1-3 levels), normalised ACL path 1..256.
 *
 * The check functions return true/false and never allocate. rg_userid_split, rg_tokenid_split
 * and rg_path_normalize write into caller buffers and return RG_ERR_INVALID (bad grammar) or
 * RG_ERR_LIMIT (too long). String lists own their strings (rg_strlist_free). */
#ifndef RG_ACCESS_IDS_H
#define RG_ACCESS_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define RG_USERID_MAX 64
#define RG_REALMID_MAX 32
#define RG_TOKENNAME_MAX 64
#define RG_TOKENID_MAX (RG_USERID_MAX + 1 + RG_TOKENNAME_MAX)
#define RG_GROUPID_MAX 128
#define RG_ROLEID_MAX 128
#define RG_POOLID_MAX 128
#define RG_ACL_PATH_MAX 256
/* Any subject of a permission check: user id, token id, or "@group" in ACL member lists. */
#define RG_UGID_MAX RG_TOKENID_MAX

/* Warning sink used by every config parser of this layer: one call per dropped or suspicious
 * line, `line` is 1-based (0 when not tied to a line). NULL sink = log with rg_warn(). */
typedef void rg_cfg_warn_fn(void *ctx, int line, const char *text);
/* Formats a warning (at most 511 bytes) and hands it to warn(ctx, ...), or logs it as
 * "<file> line <n>: <text>" when warn is NULL. */
void rg_cfg_warnf(rg_cfg_warn_fn *warn, void *ctx, const char *file, int line, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));

/* Realm id: ASCII letter followed by >= 1 of [A-Za-z0-9._-], at most 32 chars. */
bool rg_realmid_check(const char *id);
/* Realm-id pattern without the 32-char limit (what the domains.cfg parser checks). */
bool rg_realmid_pattern(const char *id);
/* User id `<name>@<realm>`: realm after the LAST '@' (valid realm id); name >= 1 char of
 * valid UTF-8 without whitespace (Unicode's too), ':', '/', ',', ';', control chars or the
 * invisible/bidi characters of base/utf8.h (may contain '@'); whole id 3..64 bytes.
 * ',' and ';' are refused although Proxmox allows them: they separate list items in
 * user.cfg, and a member "x,admin@pve" would read back as "admin@pve". */
bool rg_userid_check(const char *id);
/* Splits a valid user id into name (<= 64) and realm (<= 32). RG_ERR_INVALID if not valid. */
rg_err rg_userid_split(const char *id, char name[RG_USERID_MAX + 1],
                       char realm[RG_REALMID_MAX + 1]);
/* Group id / role id: [A-Za-z0-9._-]+, at most 128. */
bool rg_groupid_check(const char *id);
bool rg_roleid_check(const char *id);
/* Token name: same pattern as realm ids, at most 64. */
bool rg_tokenname_check(const char *name);
/* Full token id `<userid>!<tokenname>` (split at the LAST '!'). */
bool rg_tokenid_check(const char *id);
/* The type of an ACL member as user.cfg writes it: "group" ("@g"), "token" (a valid token id)
 * or "user" (anything else; user names may contain '!': "x!y@pve" is a user). */
const char *rg_ugid_type(const char *ugid);
rg_err rg_tokenid_split(const char *id, char userid[RG_USERID_MAX + 1],
                        char name[RG_TOKENNAME_MAX + 1]);
/* Pool id: 1..3 levels of [A-Za-z0-9._-]+ separated by single '/', at most 128. */
bool rg_poolid_check(const char *id);
/* Storage id (pool member): ^[a-z][a-z0-9\-_.]*[a-z0-9]$, case-insensitive, at most 128. */
bool rg_storageid_check(const char *id);

/* Spec §5.6: collapse repeated '/', strip one trailing '/', empty -> "/", prepend '/' if
 * missing; then only [A-Za-z0-9._/-] may remain. out must hold RG_ACL_PATH_MAX + 1 bytes.
 * RG_ERR_INVALID for other characters, RG_ERR_LIMIT when longer than RG_ACL_PATH_MAX. */
rg_err rg_path_normalize(const char *in, char out[RG_ACL_PATH_MAX + 1]);
/* Spec §5.5: whether a NORMALISED path may receive a new ACL entry through the API/CLI. */
bool rg_acl_path_valid(const char *path);

/* A bounded, owned list of strings. */
struct rg_strlist {
    char **items;
    size_t n;
    size_t cap;
};

void rg_strlist_init(struct rg_strlist *l);
void rg_strlist_free(struct rg_strlist *l);
rg_err rg_strlist_add(struct rg_strlist *l, const char *s);
/* Adds s unless already present (exact match). */
rg_err rg_strlist_add_unique(struct rg_strlist *l, const char *s);
bool rg_strlist_contains(const struct rg_strlist *l, const char *s);
/* Removes every exact occurrence of s; returns how many were removed. */
size_t rg_strlist_remove(struct rg_strlist *l, const char *s);
/* Byte-wise sort (strcmp), then drop duplicates. */
void rg_strlist_sort_unique(struct rg_strlist *l);
/* PVE split_list: ',' and ';' act as whitespace, split on whitespace runs, empty items
 * dropped. At most max_items items (RG_ERR_LIMIT beyond); s may be NULL (empty list). */
rg_err rg_split_list(const char *s, size_t max_items, struct rg_strlist *out);
/* The same split without copies: terminates each item inside s and points items[] at them
 * (items has room for max_items). Returns the number of items, or RG_SPLIT_TOO_MANY (s is
 * then partly split). */
#define RG_SPLIT_TOO_MANY ((size_t)-1)
size_t rg_split_list_inplace(char *s, char **items, size_t max_items);

#endif
