/* claims.h — what realmgate-idp says about a user: ID token claims and the Graph-style
 * UserInfo answer. Owner: idp.
 *
 * ID token (Entra v2.0, §1.8): aud, iss, iat = nbf = now - 300, exp = iat + 3900, then in
 * Entra's alphabetical order: email (only with the email scope AND a mail value), groups or
 * _claim_names/_claim_sources (overage above 200), name
 * (profile), nonce (when sent), oid and preferred_username (profile), roles, sid, sub, tid, uti,
 * ver "2.0". given_name/family_name are not emitted (optional claims in Entra).
 * sub is pairwise: base64url(SHA-256(tid "|" client_id "|" oid)), 43 characters, stable
 * per (tenant, app, user) and different for each app.
 * UserInfo (Graph, §1.9): sub always; name, given_name, family_name with profile (when
 * set); email with the email scope and a mail value. Nothing else.
 *
 * Returns new JSON references (NULL on allocation failure). */
#ifndef RG_IDP_CLAIMS_H
#define RG_IDP_CLAIMS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "idp/flow.h"
#include "idp/model.h"

#define RG_IDP_SUB_LEN 43
#define RG_IDP_ID_TOKEN_BACKDATE 300
#define RG_IDP_ID_TOKEN_LIFETIME 3900
#define RG_IDP_GROUPS_JWT_MAX 200
#define RG_IDP_GROUPS_IMPLICIT_MAX 5

rg_err rg_idp_pairwise_sub(const char *tid, const char *client_id, const char *oid,
                           char out[RG_IDP_SUB_LEN + 1]);
/* g: the grant (tenant, client, sid, scopes, nonce); nonce is included only if with_nonce.
 * t/app: the tenant and the app (groups by app->group_claims, roles from assignments);
 * base: the issuer base, for the overage endpoint
 * "<base>/<tid>/users/<oid>/getMemberObjects". auth_time appears when the request had
 * max_age (g->has_max_age). implicit: the token goes out from /authorize (in the URL), where
 * Entra replaces groups by "hasgroups":true from RG_IDP_GROUPS_IMPLICIT_MAX + 1 groups on. Guests: preferred_username is their own address (mail), and
 * email is emitted without the email scope. */
json_t *rg_idp_id_token_claims(const char *issuer, const char *base,
                               const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                               const struct rg_idp_grant *g, const struct rg_idp_user *u,
                               int64_t now, int with_nonce, bool implicit);
/* True if group g goes into the user's groups claim under setting gc. */
bool rg_idp_group_counts(const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                         const struct rg_idp_group *g, const char *oid,
                         enum rg_idp_group_claims gc);
/* The login_hint optional claim: opaque to apps (base64url of {"oid","tid"}); apps send it
 * back as login_hint / logout_hint. malloc'd, NULL on allocation failure. */
char *rg_idp_login_hint(const char *tid, const char *oid);
/* True (oid filled) if hint is such a value for tenant tid. */
bool rg_idp_login_hint_oid(const char *hint, const char *tid, char oid[RG_IDP_GUID_LEN + 1]);
json_t *rg_idp_userinfo_claims(const struct rg_idp_grant *g, const struct rg_idp_user *u);

#endif
