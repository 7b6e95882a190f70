/* claims.h — what realmgate-idp says about a user: ID token claims and the Graph-style
 * UserInfo answer. Owner: idp.
 *
 * ID token (Entra v2.0, §1.8): aud, iss, iat = nbf = now - 300, exp = iat + 3900, then in
 * Entra's alphabetical order: email (only with the email scope AND a mail value), name
 * (profile), nonce (when sent), oid and preferred_username (profile), sid, sub, tid, uti,
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

rg_err rg_idp_pairwise_sub(const char *tid, const char *client_id, const char *oid,
                           char out[RG_IDP_SUB_LEN + 1]);
/* g: the grant (tenant, client, sid, scopes, nonce); nonce is included only if with_nonce. */
json_t *rg_idp_id_token_claims(const char *issuer, const struct rg_idp_grant *g,
                               const struct rg_idp_user *u, int64_t now, int with_nonce);
json_t *rg_idp_userinfo_claims(const struct rg_idp_grant *g, const struct rg_idp_user *u);

#endif
