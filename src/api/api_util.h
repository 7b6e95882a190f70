/* api_util.h — shared pieces of the access-control handlers (users_api.c, groups_api.c,
 * acl_api.c): Proxmox's permission checks and parameter parsing with its error replies.
 *
 * The rg_api_require* functions return 1 when allowed; otherwise they have already replied
 * 403 "Permission check failed (<path>, <privs>)" (or 500 "no such user ('<id>')" where PVE's
 * check first requires the user to exist) and return 0. Parameter helpers return 0 on success
 * and -1 after replying 400 "parameter verification failed: <name>: <reason>". */
#ifndef RG_API_API_UTIL_H
#define RG_API_API_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/call.h"

/* Whether the caller has all (any=false) or one (any=true) of privs (a comma list) on path. */
bool rg_api_has(const struct rg_call *c, const char *path, const char *privs, bool any);
int rg_api_require(struct rg_call *c, const char *path, const char *privs, bool any);
/* PVE's ['userid-param', 'Realm.AllocateUser']: the privilege on /access/realm/<realm>. */
int rg_api_require_realm_user(struct rg_call *c, const char *userid);
/* PVE's ['userid-group', privs, groups_param => mode] (any of privs):
 *   mode 0: target user must exist; allowed with privs on /access/groups or on a group the
 *           user is a member of;
 *   mode 1 ("create"): user need not exist; without privs on /access/groups every group in
 *           `groups` needs them on /access/groups/<g> and `groups` must be non-empty;
 *   mode 2 ("update"): the user check of mode 0 and the group check of mode 1, as in PVE
 *           (groups_param set): without privs on /access/groups an update must name the
 *           groups, every one of them the caller's, so an absent or empty `groups` (which
 *           would take the user out of all groups, NoAccess groups included) is refused.
 *           Note (PVE too): with append=0 the user leaves every group not named, also groups
 *           the caller holds no privilege on. */
int rg_api_require_userid_group(struct rg_call *c, const char *userid, const char *privs,
                                int mode, const char *groups);

/* Replies to an error of the access layer with its message and a status by kind: 400 for
 * invalid input and refused changes ("... already exists", reserved names, limits), 404 when
 * something named does not exist, 403 for a refusal, 503 when the config lock is busy, 500
 * only for internal failures. (Proxmox answers 500 for most of these; clients read the
 * message either way, and 4xx tells them the request, not the server, was at fault.) */
void rg_api_reply_err(struct rg_call *c, rg_err e, const struct rg_msg *msg);

/* Optional boolean (0/1, yes/no, true/false, on/off): *out = dflt when absent. */
int rg_api_bool(struct rg_call *c, const char *name, int dflt, int *out);
/* Optional non-negative integer (decimal digits, <= 2^53): *out = dflt when absent. */
int rg_api_uint(struct rg_call *c, const char *name, int64_t dflt, int64_t *out);
/* Optional string of at most max bytes, NULL when absent. */
int rg_api_str(struct rg_call *c, const char *name, size_t max, const char **out);
/* Required string (1..max bytes). */
int rg_api_required(struct rg_call *c, const char *name, size_t max, const char **out);

#endif
