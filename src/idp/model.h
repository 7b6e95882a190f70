/* model.h — the directory realmgate-idp serves: tenants with their signing keys, app
 * registrations (redirect URIs, client secrets), users and consent grants. Owner: idp.
 *
 * The model is plain C data parsed once from the state file (idp.json) and written back
 * as JSON. rg_idp_state_from_json validates every field as the CLI would on input, so the
 * rest of the program works only on checked values; a state file that fails is refused
 * whole, with msg naming the first bad entry.
 *
 * Shape of idp.json (version 1):
 *   {"version":1,"tenants":[{"id","name","domain"?,"created",
 *     "keys":[{"kid","x5c","created","not_after","activates"?}],  newest active signs
 *     "apps":[{"client_id","display_name","created","redirect_uris":[...],
 *              "secrets":[{"key_id","hint","salt","hash","created","expires"}],
 *              "group_claims"?,"assignment_required"?,"front_channel_logout_url"?,
 *              "optional_claims"?:[names],"platform"?:"web"|"spa"|"public",
 *              "implicit_id_token"?,
 *              "roles"?:[{"id","value","display_name"}],
 *              "certs"?:[{"x5t","x5t256","x5c","created","not_after"}]}],
 *     "users":[{"oid","upn","display_name","mail"?,"given_name"?,"surname"?,
 *               "enabled","guest"?,"password_hash","created"}],
 *     "consents":[{"client_id","principal":"admin"|<user oid>,"scopes"}],
 *     "groups"?:[{"id","display_name","security","members":[oid...]}],
 *     "assignments"?:[{"client_id","principal","role_id"}]}]}
 * Times are Unix seconds. Private keys are not in this file (see keys.h).
 *
 * Ownership: the state owns every string and array in it; rg_idp_state_free releases all
 * (wiping password and secret hashes). Finders return borrowed pointers valid until the
 * state is changed or freed. Adders copy their arguments. */
#ifndef RG_IDP_MODEL_H
#define RG_IDP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "idp/check.h"

#define RG_IDP_MAX_TENANTS 64
#define RG_IDP_MAX_KEYS 8
#define RG_IDP_MAX_APPS 1000
#define RG_IDP_MAX_USERS 10000
#define RG_IDP_MAX_REDIRECTS 256
#define RG_IDP_MAX_SECRETS 16
#define RG_IDP_MAX_CONSENTS 10000
#define RG_IDP_KID_LEN 27
#define RG_IDP_X5C_MAX 8192

struct rg_idp_key {
    char kid[RG_IDP_KID_LEN + 1];  /* = x5t, base64url SHA-1 of the certificate DER */
    char *x5c;                     /* base64 (standard) DER certificate */
    int64_t created, not_after;
    int64_t activates;             /* signs from then on (scheduled rollover); >= created */
};

struct rg_idp_secret {
    char key_id[RG_IDP_GUID_LEN + 1];
    char hint[4];                  /* first three characters of the value */
    unsigned char salt[16];
    unsigned char hash[32];        /* SHA-256(salt || value) */
    int64_t created, expires;
};

/* Platform of the app's redirect URIs (§1.14): web = confidential (secret or certificate at
 * /token); spa = PKCE required, code redeemed cross-origin (Origin header), no client
 * credentials, 24 h refresh tokens; public = mobile/desktop, must not send credentials. */
enum rg_idp_platform { RG_IDP_PLATFORM_WEB, RG_IDP_PLATFORM_SPA, RG_IDP_PLATFORM_PUBLIC };

/* Optional ID-token claims (Token configuration) that are modelled. */
#define RG_IDP_OC_EMAIL 0x01u       /* email even without the email scope */
#define RG_IDP_OC_UPN 0x02u
#define RG_IDP_OC_GIVEN_NAME 0x04u
#define RG_IDP_OC_FAMILY_NAME 0x08u
#define RG_IDP_OC_ACCT 0x10u        /* 0 member, 1 guest */
#define RG_IDP_OC_AUTH_TIME 0x20u
#define RG_IDP_OC_LOGIN_HINT 0x40u  /* opaque, reusable as login_hint / logout_hint */
#define RG_IDP_OC_CTRY 0x80u        /* not stored per user: never emitted (accepted name) */

/* groupMembershipClaims (§1.14); DirectoryRole is not modelled (no directory roles). */
enum rg_idp_group_claims { RG_IDP_GC_NONE, RG_IDP_GC_SECURITY, RG_IDP_GC_ALL,
                           RG_IDP_GC_APPLICATION };

struct rg_idp_app_role {
    char id[RG_IDP_GUID_LEN + 1];
    char *value;                   /* what the `roles` claim carries */
    char *display_name;
};

/* A certificate credential (private_key_jwt): public certificate only. */
struct rg_idp_cert {
    char x5t[RG_IDP_KID_LEN + 1];  /* base64url SHA-1 of the DER */
    char x5t256[44];               /* base64url SHA-256 of the DER (43 chars) */
    char *x5c;                     /* base64 DER */
    int64_t created, not_after;
};

struct rg_idp_app {
    char client_id[RG_IDP_GUID_LEN + 1];
    char *display_name;
    int64_t created;
    char **redirect_uris;
    size_t n_redirect;
    struct rg_idp_secret *secrets;
    size_t n_secrets;
    enum rg_idp_group_claims group_claims;
    bool assignment_required;
    char *front_channel_logout_url;    /* NULL when none */
    struct rg_idp_app_role *roles;
    size_t n_roles;
    struct rg_idp_cert *certs;
    size_t n_certs;
    unsigned optional_claims;          /* RG_IDP_OC_* bits (ID token) */
    bool implicit_id_token;            /* oauth2AllowIdTokenImplicitFlow ("ID tokens" box) */
    enum rg_idp_platform platform;
};

/* A group: members are user object ids. security=false is a Microsoft 365 / distribution
 * group (only in `All`). */
struct rg_idp_group {
    char id[RG_IDP_GUID_LEN + 1];
    char *display_name;
    bool security;
    char (*members)[RG_IDP_GUID_LEN + 1];
    size_t n_members;
};

/* An app-role assignment of a user or group to an app ("default access" = nil role id). */
struct rg_idp_assignment {
    char client_id[RG_IDP_GUID_LEN + 1];
    char principal[RG_IDP_GUID_LEN + 1];   /* user or group object id */
    char role_id[RG_IDP_GUID_LEN + 1];
};

#define RG_IDP_NIL_GUID "00000000-0000-0000-0000-000000000000"
#define RG_IDP_MAX_GROUPS 5000
#define RG_IDP_MAX_MEMBERS 10000
#define RG_IDP_MAX_ROLES 64
#define RG_IDP_MAX_CERTS 8
#define RG_IDP_MAX_ASSIGNMENTS 20000

struct rg_idp_user {
    char oid[RG_IDP_GUID_LEN + 1];
    char *upn;
    char *display_name;
    char *mail;                    /* NULL when the user has none */
    char *given_name;              /* NULL when unset */
    char *surname;                 /* NULL when unset */
    char *password_hash;
    bool enabled;
    bool guest;                    /* invited: upn is "<mail with _>#EXT#@<tenant domain>" */
    int64_t created;
};

#define RG_IDP_PRINCIPAL_ADMIN "admin"

struct rg_idp_consent {
    char client_id[RG_IDP_GUID_LEN + 1];
    char principal[RG_IDP_GUID_LEN + 1]; /* "admin" (tenant-wide) or a user's oid */
    char *scopes;                        /* canonical scope list (check.h) */
};

struct rg_idp_tenant {
    char id[RG_IDP_GUID_LEN + 1];
    char *name;
    char *domain;                  /* NULL when none */
    int64_t created;
    struct rg_idp_key *keys;
    size_t n_keys;
    struct rg_idp_app *apps;
    size_t n_apps;
    struct rg_idp_user *users;
    size_t n_users;
    struct rg_idp_consent *consents;
    size_t n_consents;
    struct rg_idp_group *groups;
    size_t n_groups;
    struct rg_idp_assignment *assignments;
    size_t n_assignments;
};

struct rg_idp_state {
    struct rg_idp_tenant *tenants;
    size_t n_tenants;
};

void rg_idp_state_init(struct rg_idp_state *st);
void rg_idp_state_free(struct rg_idp_state *st);
/* Parses and validates idp.json text (st must be initialised; it is filled only on success). */
rg_err rg_idp_state_from_json(const char *text, size_t len, struct rg_idp_state *st,
                              struct rg_msg *msg);
/* Serialises the state (malloc'd, pretty-printed JSON text) or NULL on allocation failure. */
char *rg_idp_state_to_json(const struct rg_idp_state *st);

/* Tenant by GUID (any case) or by domain (case-insensitive); NULL if none. */
struct rg_idp_tenant *rg_idp_tenant_find(const struct rg_idp_state *st, const char *ref);
struct rg_idp_app *rg_idp_app_find(const struct rg_idp_tenant *t, const char *client_id);
/* The tenant that registered client_id (app ids are unique across tenants). */
struct rg_idp_tenant *rg_idp_app_owner(const struct rg_idp_state *st, const char *client_id);
struct rg_idp_user *rg_idp_user_find_upn(const struct rg_idp_tenant *t, const char *upn);
/* The user who signs in as login: by UPN, or a guest by the external address (mail). */
struct rg_idp_user *rg_idp_user_find_login(const struct rg_idp_tenant *t, const char *login);
struct rg_idp_user *rg_idp_user_find_oid(const struct rg_idp_tenant *t, const char *oid);
/* The key tokens are signed with at time now (the newest whose activation time has come),
 * or NULL when the tenant has none. */
const struct rg_idp_key *rg_idp_signing_key(const struct rg_idp_tenant *t, int64_t now);

/* True if admin consent plus (when user_oid is not NULL) the user's own consent cover every
 * scope in `scopes` (canonical). ".default" is covered by any consent for the app. */
bool rg_idp_consent_covers(const struct rg_idp_tenant *t, const char *client_id,
                           const char *user_oid, const char *scopes);
/* True if some user (not admin) has a consent record for the app. */
bool rg_idp_consent_has_user_grants(const struct rg_idp_tenant *t, const char *client_id);

/* Adders: validate uniqueness and limits, copy, and return the new element (borrowed). */
rg_err rg_idp_tenant_add(struct rg_idp_state *st, const char *id, const char *name,
                         const char *domain, int64_t now, struct rg_idp_tenant **out,
                         struct rg_msg *msg);
rg_err rg_idp_key_add(struct rg_idp_tenant *t, const char *kid, const char *x5c,
                      int64_t created, int64_t not_after, struct rg_msg *msg);
rg_err rg_idp_app_add(struct rg_idp_state *st, struct rg_idp_tenant *t, const char *client_id,
                      const char *display_name, const char *const *redirect_uris, size_t n,
                      int64_t now, struct rg_idp_app **out, struct rg_msg *msg);
rg_err rg_idp_secret_add(struct rg_idp_app *a, const struct rg_idp_secret *s,
                         struct rg_msg *msg);
/* The user struct is copied field by field (strings duplicated; NULL optional fields kept). */
rg_err rg_idp_user_add(struct rg_idp_tenant *t, const struct rg_idp_user *u,
                       struct rg_idp_user **out, struct rg_msg *msg);
/* Adds scopes to the principal's consent for the app (creating the record). */
rg_err rg_idp_consent_grant(struct rg_idp_tenant *t, const char *client_id,
                            const char *principal, const char *scopes, struct rg_msg *msg);
/* Groups, roles, assignments, certificates (validating as the CLI does). */
rg_err rg_idp_group_add(struct rg_idp_tenant *t, const char *id, const char *display_name,
                        bool security, struct rg_idp_group **out, struct rg_msg *msg);
struct rg_idp_group *rg_idp_group_find(const struct rg_idp_tenant *t, const char *ref);
rg_err rg_idp_group_member_add(struct rg_idp_tenant *t, struct rg_idp_group *g,
                               const char *oid, struct rg_msg *msg);
bool rg_idp_group_has(const struct rg_idp_group *g, const char *oid);
rg_err rg_idp_role_add(struct rg_idp_app *a, const char *id, const char *value,
                       const char *display_name, struct rg_msg *msg);
const struct rg_idp_app_role *rg_idp_role_find(const struct rg_idp_app *a, const char *ref);
rg_err rg_idp_assign(struct rg_idp_tenant *t, const char *client_id, const char *principal,
                     const char *role_id, struct rg_msg *msg);
/* True if the user is assigned to the app, directly or through a group. */
bool rg_idp_user_assigned(const struct rg_idp_tenant *t, const char *client_id,
                          const char *oid);
rg_err rg_idp_cert_add(struct rg_idp_app *a, const char *x5c, const char *x5t,
                       const char *x5t256, int64_t created, int64_t not_after,
                       struct rg_msg *msg);
/* Optional-claim name <-> bit; 0 if unknown. Names written space-separated into out. */
unsigned rg_idp_optional_claim_bit(const char *name);
void rg_idp_optional_claims_names(unsigned bits, char *out, size_t outsz);
/* "web", "spa", "public" <-> enum; -1 if unknown. */
int rg_idp_platform_parse(const char *s);
const char *rg_idp_platform_name(enum rg_idp_platform p);
/* "None", "SecurityGroup", "All", "ApplicationGroup" <-> enum; -1 if unknown. */
int rg_idp_group_claims_parse(const char *s);
const char *rg_idp_group_claims_name(enum rg_idp_group_claims gc);

/* Removes the principal's consent record for the app; RG_ERR_NOTFOUND if none. */
rg_err rg_idp_consent_revoke(struct rg_idp_tenant *t, const char *client_id,
                             const char *principal);

#endif
