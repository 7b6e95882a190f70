/* privs.h — the 47 Proxmox VE privileges (spec §5.3) and the 17 built-in roles (§5.4).
 *
 * Privileges are numbered 0..46 in byte-wise (strcmp) order of their names, so iterating a
 * mask from bit 0 upwards yields names already sorted the way PVE prints them. A privilege
 * set is a 64-bit mask plus a second mask of "propagate" flags (spec §5.7 step 5).
 *
 * Everything here is static, read-only data: no allocation, nothing to free, thread-safe. */
#ifndef RG_ACCESS_PRIVS_H
#define RG_ACCESS_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define RG_PRIV_COUNT 47
#define RG_BUILTIN_ROLE_COUNT 17

typedef uint64_t rg_privmask;

#define RG_PRIV_ALL ((((rg_privmask)1) << RG_PRIV_COUNT) - 1)

struct rg_privset {
    rg_privmask privs;
    rg_privmask propagate; /* subset of privs */
};

struct rg_builtin_role {
    const char *id;
    rg_privmask privs;
};

/* Name of privilege number i (0..46), NULL when out of range. */
const char *rg_priv_name(unsigned i);
/* Index of a privilege name (exact, case-sensitive), -1 if unknown. */
int rg_priv_index(const char *name);
/* Single-bit mask of a privilege name, 0 if unknown. */
rg_privmask rg_priv_bit(const char *name);
/* Number of privileges in a mask. */
unsigned rg_privmask_count(rg_privmask m);
/* Appends the names in m, sorted, joined by sep ("," in user.cfg), to b. */
rg_err rg_privmask_join(rg_privmask m, const char *sep, struct rg_buf *b);
/* Parses a split_list of privilege names into a mask. Unknown names are skipped and counted
 * in *unknown (may be NULL); if first_unknown is not NULL it receives a copy of the first
 * unknown name (truncated to 63 chars, "" when none). RG_ERR_LIMIT beyond 256 items. */
rg_err rg_privmask_parse(const char *list, rg_privmask *out, size_t *unknown,
                         char first_unknown[64]);

/* The 17 built-in roles, in the order of the table in spec §5.4. */
const struct rg_builtin_role *rg_builtin_roles(size_t *n);
/* Built-in role by exact id, NULL if none. */
const struct rg_builtin_role *rg_builtin_role_find(const char *id);

#endif
