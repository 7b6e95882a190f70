/* usercfg.h — users, API-token metadata, groups, pools, custom roles and ACLs: `user.cfg`
 * (spec §5.1).
 *
 * Parse rules follow PVE: invalid lines are dropped with a warning (never the whole file);
 * ACL members that are unknown users or groups are kept, unknown tokens and unknown roles
 * are dropped; tokens must follow their user; custom roles must precede their use. root@pam
 * always exists (added enabled). The writer is canonical (the PVE test suite's format):
 * users (each followed by its tokens), groups, pools, roles, ACLs — each block sorted
 * byte-wise and followed by one blank line; ACLs in tree order, propagate 0 before 1,
 * members with an identical role set merged into one line; ACL entries of root@pam are
 * never written. Names and comments are %XX-escaped as in domains.cfg.
 *
 * Data structure: every array is kept sorted by id (users, groups, pools, roles) and the ACL
 * entries by (path, member, role), so lookups are binary searches and the writer needs no
 * extra sort. ACL entries are a flat list of (path, member, role, propagate), unique per
 * (path, member, role), members written as in the file: "user@realm", "@group",
 * "user@realm!token". Their strings are interned (base/strpool.h): 100,000 entries over a few
 * thousand distinct paths and members cost 32 bytes each plus one copy of every string.
 *
 * Edits apply the PVE rules and messages, e.g. "user '<id>' already exists", "no such user
 * ('<id>')", "group '<id>' already exists", "group '<id>' does not exist", "role '<id>' does
 * not exist", "invalid ACL path '<path>'", "no such token '<id>'". They keep the arrays
 * sorted. Ownership: struct rg_usercfg owns everything; pointers returned by the find
 * functions are borrowed and valid until the next edit. Not thread-safe by itself: shared
 * instances live in immutable snapshots (store.h), edits happen on private copies. */
#ifndef RG_ACCESS_USERCFG_H
#define RG_ACCESS_USERCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "access/ids.h"
#include "access/privs.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/form.h"
#include "base/strpool.h"

#define RG_USERCFG_FILE_MAX (8 * 1024 * 1024)
#define RG_USER_NAME_MAX 1024    /* firstname, lastname (API limit) */
#define RG_USER_EMAIL_MAX 254
#define RG_USER_COMMENT_MAX 2048
#define RG_LIST_MAX_ITEMS 4096   /* items in one list parameter of an API call or edit */
#define RG_ACL_MAX_ENTRIES 1000000 /* (path, member, role) entries in one user.cfg */

struct rg_token {
    char id[RG_TOKENID_MAX + 1]; /* full id "user@realm!name" */
    int64_t expire;              /* 0 = same as user / never */
    int privsep;                 /* 0/1 */
    char *comment;               /* NULL if empty */
};

struct rg_user {
    char id[RG_USERID_MAX + 1];
    int enable;                  /* 0/1 */
    int64_t expire;              /* epoch seconds, 0 = never */
    char *firstname, *lastname, *email, *comment, *keys; /* NULL if empty */
    struct rg_token *tokens;     /* sorted by id */
    size_t ntokens;
};

struct rg_group {
    char id[RG_GROUPID_MAX + 1];
    struct rg_strlist members;   /* user ids, sorted, unique */
    char *comment;
};

struct rg_pool {
    char id[RG_POOLID_MAX + 1];
    char *comment;
    uint32_t *vmids;             /* sorted */
    size_t nvmids;
    struct rg_strlist storages;  /* sorted */
};

struct rg_role {
    char id[RG_ROLEID_MAX + 1];
    rg_privmask privs;
};

/* The strings are interned in the owning config's pool (equal strings, equal pointers). */
struct rg_acl_entry {
    const char *path;               /* normalised */
    const char *ugid;               /* "user@realm", "@group" or "user@realm!token" */
    const char *role;
    int propagate;                  /* 0/1 */
};

struct rg_usercfg {
    struct rg_user *users;  size_t nusers;  size_t capusers;
    struct rg_group *groups; size_t ngroups; size_t capgroups;
    struct rg_pool *pools;  size_t npools;  size_t cappools;
    struct rg_role *roles;  size_t nroles;  size_t caproles;  /* custom roles only */
    struct rg_acl_entry *acl; size_t nacl;  size_t capacl;
    struct rg_strpool strings; /* owns the ACL entries' strings */
    char digest[41];        /* SHA-1 hex of the parsed text ("" for a built config) */
    /* private to perm.c: lookup index of an immutable config (rg_perm_index_build), NULL if
     * none; never copied by rg_usercfg_copy; drop it (rg_perm_index_drop) before freeing */
    struct rg_perm_index *perm_index;
};

void rg_usercfg_init(struct rg_usercfg *cfg);
void rg_usercfg_free(struct rg_usercfg *cfg);
/* Parses text (<= RG_USERCFG_FILE_MAX, else RG_ERR_LIMIT); *out is initialised here. */
rg_err rg_usercfg_parse(const char *text, size_t len, struct rg_usercfg *out,
                        rg_cfg_warn_fn *warn, void *warn_ctx);
/* Appends the canonical text to out. */
rg_err rg_usercfg_write(const struct rg_usercfg *cfg, struct rg_buf *out);
rg_err rg_usercfg_copy(const struct rg_usercfg *src, struct rg_usercfg *dst);

/* ---- lookups (borrowed pointers, NULL if absent) ---- */
const struct rg_user *rg_usercfg_user(const struct rg_usercfg *cfg, const char *userid);
const struct rg_token *rg_usercfg_token(const struct rg_usercfg *cfg, const char *tokenid);
const struct rg_group *rg_usercfg_group(const struct rg_usercfg *cfg, const char *groupid);
const struct rg_pool *rg_usercfg_pool(const struct rg_usercfg *cfg, const char *poolid);
/* Custom roles only (built-ins: privs.h). */
const struct rg_role *rg_usercfg_custom_role(const struct rg_usercfg *cfg, const char *roleid);
/* Privileges of a built-in or custom role; false if the role does not exist. Built-in
 * roles win over same-named custom ones. */
bool rg_usercfg_role_privs(const struct rg_usercfg *cfg, const char *roleid, rg_privmask *out);
/* Whether user `userid` is a member of group g. */
bool rg_group_has_member(const struct rg_group *g, const char *userid);
/* Groups of a user, sorted (into out, which is initialised here). */
rg_err rg_usercfg_user_groups(const struct rg_usercfg *cfg, const char *userid,
                              struct rg_strlist *out);

/* The login-time checks (spec §3.6, §4.2): RG_ERR_NOTFOUND "no such user ('<id>')",
 * RG_ERR_AUTH "user '<id>' is disabled" / "user '<id>' access expired". */
rg_err rg_usercfg_check_user(const struct rg_usercfg *cfg, const char *userid, time_t now,
                             struct rg_msg *msg);
/* Token check: owner checked as above, then "no such token '<id>'" (NOTFOUND),
 * "token '<id>' expired" (AUTH). */
rg_err rg_usercfg_check_token(const struct rg_usercfg *cfg, const char *tokenid, time_t now,
                              struct rg_msg *msg);

/* ---- users ----
 * Option keys (API names): enable, expire, firstname, lastname, email, comment, keys, groups
 * (split_list; every group must exist: "group '<id>' does not exist"). Ignored keys: userid,
 * password, confirmation-password, digest, append (modify only: with append=1 the groups
 * are added, else they replace the user's groups). Others: "unknown parameter '<key>'".
 * Add: enable defaults to 1, expire to 0. */
rg_err rg_usercfg_user_add(struct rg_usercfg *cfg, const char *userid,
                           const struct rg_params *opts, struct rg_msg *msg);
rg_err rg_usercfg_user_modify(struct rg_usercfg *cfg, const char *userid,
                              const struct rg_params *opts, struct rg_msg *msg);
/* Removes the user, its tokens, its group memberships and every ACL entry of the user and
 * of its tokens. root@pam cannot be deleted. */
rg_err rg_usercfg_user_delete(struct rg_usercfg *cfg, const char *userid, struct rg_msg *msg);

/* ---- tokens (metadata only; secrets live in priv/token.cfg, not handled here) ---- */
rg_err rg_usercfg_token_add(struct rg_usercfg *cfg, const char *tokenid, int64_t expire,
                            int privsep, const char *comment, struct rg_msg *msg);
/* Changes token metadata: expire < 0 and privsep < 0 mean unchanged; comment NULL =
 * unchanged, "" = clear. "no such token '<id>'" (NOTFOUND). ACL entries are kept. */
rg_err rg_usercfg_token_modify(struct rg_usercfg *cfg, const char *tokenid, int64_t expire,
                               int privsep, const char *comment, struct rg_msg *msg);
/* Removes the token and its ACL entries. */
rg_err rg_usercfg_token_delete(struct rg_usercfg *cfg, const char *tokenid, struct rg_msg *msg);

/* ---- groups ---- */
rg_err rg_usercfg_group_add(struct rg_usercfg *cfg, const char *groupid, const char *comment,
                            struct rg_msg *msg);
/* comment NULL = unchanged, "" = clear. */
rg_err rg_usercfg_group_set_comment(struct rg_usercfg *cfg, const char *groupid,
                                    const char *comment, struct rg_msg *msg);
/* Removes the group and its ACL entries. */
rg_err rg_usercfg_group_delete(struct rg_usercfg *cfg, const char *groupid, struct rg_msg *msg);
rg_err rg_usercfg_group_add_member(struct rg_usercfg *cfg, const char *groupid,
                                   const char *userid, struct rg_msg *msg);
/* Removes the user from every group (groups-overwrite, user delete). */
void rg_usercfg_user_leave_all_groups(struct rg_usercfg *cfg, const char *userid);

/* ---- custom roles ----
 * Ids starting with "PVE" (case-insensitive) and built-in ids are refused on add
 * ("cannot create role '<id>' (reserved name)" / "role '<id>' already exists"); built-in roles
 * cannot be modified or deleted. privs is a split_list of privilege names; an unknown name is
 * an error ("invalid privilege '<name>'"). modify: append=1 adds, else replaces. */
rg_err rg_usercfg_role_add(struct rg_usercfg *cfg, const char *roleid, const char *privs,
                           struct rg_msg *msg);
rg_err rg_usercfg_role_modify(struct rg_usercfg *cfg, const char *roleid, const char *privs,
                              int append, struct rg_msg *msg);
/* Removes the role and every ACL entry using it. */
rg_err rg_usercfg_role_delete(struct rg_usercfg *cfg, const char *roleid, struct rg_msg *msg);

/* ---- ACLs (PUT /access/acl, `acl modify|delete`) ----
 * path is normalised here; roles/users/groups/tokens are split_lists (NULL = none); at least
 * one member list must be non-empty ("either 'users', 'groups' or 'tokens' is required").
 * Adding: the path must be valid per spec §5.5, roles/users/groups/tokens must exist; the
 * entry's propagate flag is set (replacing an older flag). Deleting (remove=1): the given
 * roles are removed from the given members at that path, existence is not required. */
rg_err rg_usercfg_acl_change(struct rg_usercfg *cfg, const char *path, const char *roles,
                             const char *users, const char *groups, const char *tokens,
                             int propagate, int remove, struct rg_msg *msg);
/* Decides whether an ACL being added may name `userid` although the user does not exist. */
typedef bool rg_absent_user_fn(void *ctx, const char *userid);
/* rg_usercfg_acl_change, except that users for whom absent_ok returns true need not exist
 * (used for OpenID users of autocreate realms, who exist only after their first login). */
rg_err rg_usercfg_acl_change_ex(struct rg_usercfg *cfg, const char *path, const char *roles,
                                const char *users, const char *groups, const char *tokens,
                                int propagate, int remove, rg_absent_user_fn *absent_ok,
                                void *absent_ctx, struct rg_msg *msg);
/* The ACL entries at exactly this normalised path: index of the first one and count
 * (entries are contiguous because of the sort order). */
size_t rg_usercfg_acl_at(const struct rg_usercfg *cfg, const char *path, size_t *count);

#endif
