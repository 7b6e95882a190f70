/* groupmap.h — group mapping at OpenID login (spec §3.7) plus our `groups-map` and
 * `groups-overage` realm options.
 *
 * Data flow: rg_groups_from_claims reads the realm's `groups-claim` from the login's claim
 * object and turns it into the list of PVE group ids the user should be in; then
 * rg_groups_apply changes user.cfg accordingly (the caller runs it inside
 * rg_store_update_usercfg, i.e. under the user.cfg lock, after the user check and before the
 * ticket is issued).
 *
 * Mapping of one claim element (a JSON string):
 *   1. if `groups-map` has an entry for the exact value, the local name is the entry's name;
 *   2. else the value itself is the local name (Proxmox's rule);
 *   3. the local name must match [A-Za-z0-9.-_]+ (else skipped with a log line), and the
 *      PVE group is "<local name>-<realm>" (skipped with a log line when longer than 128).
 *   Non-string elements are skipped with a log line. Duplicates collapse.
 *
 * `groups-map` syntax (one domains.cfg value, survives the SectionConfig format because it
 * has no newline and no leading/trailing blanks):
 *     <claim value>=<group name>[,<claim value>=<group name>...]
 * pairs separated by ',' or ';' (blanks around them ignored); the pair is split at its LAST
 * '='; the group name follows the group-id pattern; the claim value is %XX-decoded, so a
 * claim value containing ',', ';', '=', '%' or a blank is written %2C, %3B, %3D, %25, %20.
 * At most RG_GROUPMAP_MAX_ENTRIES pairs, RG_GROUPMAP_TEXT_MAX bytes; a claim value may appear
 * once. Example: `6f1c0e7a-...=admins,9a2b44d0-...=auditors`.
 *
 * What the claim can say (enum rg_groups_claim):
 *   RG_GROUPS_LIST      an array (possibly empty): `groups` holds the mapped ids;
 *   RG_GROUPS_MISSING   claim absent (or null): memberships stay unchanged, log line;
 *   RG_GROUPS_NOT_ARRAY claim present but not an array: unchanged (even with overwrite);
 *   RG_GROUPS_TOO_MANY  more than RG_GROUPS_CLAIM_MAX elements: unchanged (bounded work);
 *   RG_GROUPS_OVERAGE   the claim is absent and `_claim_names` names it (Entra's groups
 *                       overage, more than 200 groups), or `hasgroups` is true: the token
 *                       does not carry the groups, so memberships stay unchanged and the
 *                       log line says why — never an empty list that would drop the user
 *                       out of every group with groups-overwrite.
 *   With `groups-overage resolve` the caller may resolve an overage through the source
 *   endpoint (rg_groups_overage_source gives it) and pass the resolved array to
 *   rg_groups_from_array.
 *
 * Ownership: structures own their strings; free with the matching _free function. */
#ifndef RG_ACCESS_GROUPMAP_H
#define RG_ACCESS_GROUPMAP_H

#include <jansson.h>
#include <stddef.h>

#include "access/domains.h"
#include "access/ids.h"
#include "access/store.h"
#include "access/usercfg.h"
#include "base/err.h"

#define RG_GROUPMAP_TEXT_MAX 16384
#define RG_GROUPMAP_MAX_ENTRIES 256
#define RG_GROUPMAP_VALUE_MAX 256     /* one claim value in the map (decoded) */
#define RG_GROUPS_CLAIM_MAX 4096      /* elements of a groups claim we look at */
#define RG_GROUPS_ELEMENT_MAX 256     /* bytes of one claim element */

struct rg_groupmap_entry {
    char *value;                      /* claim value, decoded */
    char group[RG_GROUPID_MAX + 1];   /* local group name, before the -<realm> suffix */
};

struct rg_groupmap {
    struct rg_groupmap_entry *items;
    size_t n;
};

void rg_groupmap_init(struct rg_groupmap *m);
void rg_groupmap_free(struct rg_groupmap *m);
/* Parses the option text (NULL or "" = empty map). RG_ERR_INVALID / RG_ERR_LIMIT with a
 * reason in msg ("pair '<p>' has no '='", "invalid group name '<n>'", ...). */
rg_err rg_groupmap_parse(const char *text, struct rg_groupmap *out, struct rg_msg *msg);
/* The local group name mapped to value, or NULL. */
const char *rg_groupmap_lookup(const struct rg_groupmap *m, const char *value);

enum rg_groups_claim {
    RG_GROUPS_LIST = 0,
    RG_GROUPS_MISSING,
    RG_GROUPS_NOT_ARRAY,
    RG_GROUPS_TOO_MANY,
    RG_GROUPS_OVERAGE,
};

struct rg_groups_result {
    enum rg_groups_claim status;
    struct rg_strlist groups;         /* PVE group ids, sorted, unique (status LIST only) */
    size_t skipped;                   /* elements skipped (invalid, too long, not a string) */
};

void rg_groups_result_free(struct rg_groups_result *r);

/* Evaluates claims[claim] for realm `realm` with map m (may be NULL). Each skipped element
 * is logged (rg_warn, naming the realm and the value, cut to 80 bytes). Errors only for
 * allocation failure. out is initialised here. */
rg_err rg_groups_from_claims(const json_t *claims, const char *claim, const char *realm,
                             const struct rg_groupmap *m, struct rg_groups_result *out);
/* Same for an already extracted JSON array (e.g. a resolved overage). */
rg_err rg_groups_from_array(const json_t *arr, const char *realm, const struct rg_groupmap *m,
                            struct rg_groups_result *out);

/* For RG_GROUPS_OVERAGE: the endpoint URL of the claim source named by
 * _claim_names[claim] (borrowed from claims), or NULL when there is none. */
const char *rg_groups_overage_source(const json_t *claims, const char *claim);

/* What rg_groups_apply did (for the log and tests). */
struct rg_groups_change {
    size_t added;      /* memberships added */
    size_t removed;    /* memberships removed by overwrite (and not re-added) */
    size_t created;    /* groups created (autocreate) */
    size_t missing;    /* mapped groups that do not exist (no autocreate): ignored */
};

/* Applies a LIST result to user `userid` in cfg (spec §3.7 steps 3-5): without autocreate
 * only existing groups are kept; with it missing groups are created (empty comment, logged);
 * with overwrite the user first leaves every group. The user must exist (RG_ERR_NOTFOUND). */
rg_err rg_groups_apply(struct rg_usercfg *cfg, const char *userid,
                       const struct rg_strlist *groups, int autocreate, int overwrite,
                       struct rg_groups_change *chg, struct rg_msg *msg);

/* The whole login step for realm r (does nothing when r has no groups-claim): evaluates the
 * claims with the realm's groups-map, logs what it finds (missing claim, not an array,
 * overage, skipped names), and for a LIST runs rg_groups_apply with the realm's
 * groups-autocreate / groups-overwrite inside rg_store_update_usercfg (user.cfg lock).
 * *changed (may be NULL) is set to 1 when user.cfg was written. Errors: the store's
 * (RG_ERR_BUSY, RG_ERR_IO, ...) or RG_ERR_NOTFOUND when the user vanished; msg says why. */
rg_err rg_groups_login(struct rg_store *st, const struct rg_realm *r, const char *userid,
                       const json_t *claims, int *changed, struct rg_msg *msg);

#endif
