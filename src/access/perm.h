/* perm.h — role and privilege resolution (spec §5.7), the `/access/permissions` object
 * (§5.9) and the GUI `cap` map (§5.10).
 *
 * Pure functions over a parsed, immutable struct rg_usercfg: no parsing, no locking, no
 * I/O, so request threads call them on a snapshot (store.h) without synchronisation.
 *
 * Subject: a user id ("alice@sso") or a full token id ("alice@sso!ci"). Existence, enable
 * and expiry are NOT checked here (rg_usercfg_check_user/_token do that at authentication);
 * an unknown token has no roles. root@pam has Administrator on every path (and all 47
 * privileges), whatever the ACLs say.
 *
 * Paths are normalised here (rg_path_normalize); an invalid path gives RG_ERR_INVALID.
 * JSON results are new references owned by the caller (json_decref). */
#ifndef RG_ACCESS_PERM_H
#define RG_ACCESS_PERM_H

#include <jansson.h>
#include <stdbool.h>

#include "access/ids.h"
#include "access/privs.h"
#include "access/usercfg.h"
#include "base/err.h"

/* Lookup index for a config that no longer changes (store snapshots, the benchmark): hash
 * maps for ACL nodes, user -> groups and pool members, so a query does no linear scans.
 * Every function below answers the same with or without it. The config must not be edited
 * while it has one (edit a copy: rg_usercfg_copy does not copy the index). Build replaces
 * an older index; RG_ERR_NOMEM leaves the config without one (queries still work). */
rg_err rg_perm_index_build(struct rg_usercfg *cfg);
void rg_perm_index_drop(struct rg_usercfg *cfg);

/* Effective roles of subject on path (spec §5.7 steps 1-3), sorted, with NoAccess
 * collapsing the set to {"NoAccess"}. *out is initialised here. */
rg_err rg_perm_roles(const struct rg_usercfg *cfg, const char *subject, const char *path,
                     struct rg_strlist *out);
/* Effective privileges (steps 1-6: pools, union, token privilege separation). */
rg_err rg_perm_privs(const struct rg_usercfg *cfg, const char *subject, const char *path,
                     struct rg_privset *out);
/* Convenience for API checks: all (any=false) or at least one (any=true) of `need`.
 * false on an invalid path. */
bool rg_perm_check(const struct rg_usercfg *cfg, const char *subject, const char *path,
                   rg_privmask need, bool any);
/* Access rule of GET /access/permissions?userid=<target> (spec §5.9): true without extra
 * privileges when target is the caller itself, or a token id whose owner is the caller
 * (by name, as PVE: the token need not exist; a token caller owns no tokens); otherwise
 * true iff the caller holds Sys.Audit on /access (a token caller: the token's own effective
 * privileges, i.e. intersected with its owner's when privilege-separated). */
bool rg_perm_may_read_permissions(const struct rg_usercfg *cfg, const char *caller,
                                  const char *target);
/* {"Priv.Name": 0|1, ...} for a privilege set (1 = propagated). */
json_t *rg_privset_json(const struct rg_privset *ps);
/* GET /access/permissions without `path`: object path -> {priv -> 0|1} over the default
 * paths, every ACL path and the /vms/<id>, /storage/<id> of pool members; paths without
 * privileges omitted. */
rg_err rg_perm_all(const struct rg_usercfg *cfg, const char *subject, json_t **out);
/* GET /access/permissions with `path`: {"<normalised path>": {...}} (possibly {}). */
rg_err rg_perm_path_json(const struct rg_usercfg *cfg, const char *subject, const char *path,
                         json_t **out);
/* The `cap` object of §5.10: {"vms":{},"access":{},"storage":{},"nodes":{},"sdn":{},
 * "dc":{},"mapping":{}} with privilege -> 1 entries. */
rg_err rg_perm_cap(const struct rg_usercfg *cfg, const char *subject, json_t **out);

#endif
