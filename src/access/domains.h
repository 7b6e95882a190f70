/* domains.h — realm definitions: the SectionConfig file `domains.cfg` (spec §2).
 *
 * Parsing never aborts the whole file: a bad header skips its section, a bad or duplicate
 * key or a value failing its check drops that line; each is reported through the warning
 * sink (ids.h). After parsing, the built-in realms `pam` and `pve` are injected if absent
 * (their type forced), and at most one realm keeps `default` (the first one in file order).
 *
 * Realm types: `pam`, `pve` (options comment, default, tfa), `openid` (spec §2.3) are fully
 * understood. `ldap` and `ad` sections are KEPT VERBATIM (their property lines are stored
 * in `raw` and written back unchanged) so editing an openid realm never loses them; they
 * cannot be created, modified or used for login here. Any other type: section skipped with a
 * warning (and therefore dropped on the next write).
 *
 * Writer: sections in file order (new ones appended); `comment` first, then the type's
 * required options sorted, then the optional ones sorted; one TAB before each key, a blank
 * line after each section. Comments are %XX-escaped (bytes outside 0x20-0x7E, '%' and ':').
 *
 * Editing (the API's POST/PUT/DELETE /access/domains and the CLI) goes through
 * rg_domains_add/modify/delete, which apply the Proxmox rules and messages:
 *   "domain '<id>' already exists", "domain '<id>' does not exist",
 *   "authentication domain '<id>' does not exist" (delete), "unable to create builtin type
 *   '<type>'", "unsupported realm type '<type>'", "missing required option '<key>'",
 *   "can't change value of fixed parameter 'username-claim'", "no options specified",
 *   "unknown option '<key>'", "invalid value for '<key>': <why>",
 *   "cannot delete required option '<key>'", "cannot delete builtin realm '<id>'".
 * Option values are keyed by their file/API names ("issuer-url", "client-id", ...).
 * Our addition to the openid options: `groups-map` (claim value -> local group name, applied
 * before the -<realm> suffix; syntax and checks in access/groupmap.h).
 * Booleans accept 1/0, yes/no, on/off, true/false through the API and only 1/0 in the file.
 *
 * Ownership: struct rg_domains owns every string in it; rg_domains_free releases (and wipes
 * client keys). rg_domains_find returns a borrowed pointer, valid until the next edit. */
#ifndef RG_ACCESS_DOMAINS_H
#define RG_ACCESS_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>

#include "access/ids.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/form.h"

#define RG_DOMAINS_FILE_MAX (1024 * 1024)
#define RG_DOMAINS_MAX_REALMS 1024
#define RG_REALM_COMMENT_MAX 4096
#define RG_REALM_URL_MAX 256     /* issuer-url, client-id, client-key, groups-claim */
#define RG_REALM_VALUE_MAX 1024  /* our bound for scopes, username-claim, prompt, ... */

struct rg_realm {
    char id[RG_REALMID_MAX + 1];
    char type[16];           /* "pam", "pve", "openid", "ldap", "ad" */
    char *comment;           /* unescaped, NULL if unset */
    int is_default;          /* 0/1 */
    char *tfa;               /* pam/pve: property string, NULL if unset */
    /* openid (NULL / -1 when unset) */
    char *issuer_url;
    char *client_id;
    char *client_key;        /* secret: wiped on free, never logged */
    char *username_claim;
    char *scopes;
    char *prompt;
    char *acr_values;
    char *audiences;
    char *groups_claim;
    char *client_cert;       /* our option: PEM certificate file (private_key_jwt) */
    char *client_cert_key;   /* our option: its PEM private key file */
    char *ca_file;           /* our option: PEM bundle trusted for the provider's TLS */
    char *id_token_algs;     /* our option: allow-list of ID-token signing algorithms */
    char *groups_map;        /* our option: "<claim value>=<group>,..." (access/groupmap.h) */
    int autocreate;
    int groups_autocreate;
    int groups_overwrite;
    int query_userinfo;
    int hmac_id_tokens;      /* our option: accept HS* ID tokens keyed with client-key */
    /* ldap/ad: the property lines of the section, verbatim (each "\t..." + "\n"). */
    char *raw;
};

struct rg_domains {
    struct rg_realm *realms;
    size_t n;
    size_t cap;
    char digest[41];         /* SHA-1 hex of the parsed text ("" for a built config) */
};

void rg_domains_init(struct rg_domains *d);
void rg_domains_free(struct rg_domains *d);

/* Parses text (at most RG_DOMAINS_FILE_MAX bytes, else RG_ERR_LIMIT). Only allocation
 * failure or oversize fail; everything else is a warning. *out is initialised here. */
rg_err rg_domains_parse(const char *text, size_t len, struct rg_domains *out,
                        rg_cfg_warn_fn *warn, void *warn_ctx);
/* Appends the canonical file text to out. */
rg_err rg_domains_write(const struct rg_domains *d, struct rg_buf *out);
/* Deep copy (for building a new snapshot from an old one). */
rg_err rg_domains_copy(const struct rg_domains *src, struct rg_domains *dst);

const struct rg_realm *rg_domains_find(const struct rg_domains *d, const char *id);
/* The realm with `default 1`, or NULL. */
const struct rg_realm *rg_domains_default(const struct rg_domains *d);

/* Creates realm `id` of `type` (only "openid" can be created) with options from opts.
 * Keys "realm", "type", "digest" in opts are ignored; any other unknown key is an error. */
rg_err rg_domains_add(struct rg_domains *d, const char *id, const char *type,
                      const struct rg_params *opts, struct rg_msg *msg);
/* Changes options of realm `id`; delete_list (split_list of keys, may be NULL) removes keys
 * first. Keys "realm", "type", "digest", "delete" in opts are ignored. For pam/pve only
 * comment, default and tfa may be set. "no options specified" when nothing is given. */
rg_err rg_domains_modify(struct rg_domains *d, const char *id, const struct rg_params *opts,
                         const char *delete_list, struct rg_msg *msg);
/* Removes realm `id`; pam and pve cannot be removed. */
rg_err rg_domains_delete(struct rg_domains *d, const char *id, struct rg_msg *msg);

/* Calls fn for every option set on realm r (pam/pve/openid; none for ldap/ad), in table
 * order: string options with str set and boolean -1, booleans with str NULL and boolean 0/1.
 * `default` is reported only when 1. Values are borrowed (secrets included: the caller
 * decides what to show). */
typedef void rg_realm_option_fn(void *ctx, const char *key, const char *str, int boolean);
void rg_realm_options(const struct rg_realm *r, rg_realm_option_fn *fn, void *ctx);

/* %XX escaping shared with user.cfg (spec §2.1): appends the escaped form of s to b. */
rg_err rg_cfg_escape(const char *s, struct rg_buf *b);
/* Reverses rg_cfg_escape into a fresh malloc'd string; a malformed %-sequence is kept
 * literally (as PVE does); RG_ERR_INVALID if the result contains a NUL byte. */
rg_err rg_cfg_unescape(const char *s, char **out);
/* SHA-1 hex digest of a config text (the `digest` of PVE's optimistic locking). */
void rg_cfg_digest(const void *text, size_t len, char out[41]);

#endif
