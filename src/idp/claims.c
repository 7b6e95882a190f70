#include "idp/claims.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/rand.h"

rg_err rg_idp_pairwise_sub(const char *tid, const char *client_id, const char *oid,
                           char out[RG_IDP_SUB_LEN + 1])
{
    char in[3 * (RG_IDP_GUID_LEN + 1)];
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *s;
    int n = snprintf(in, sizeof in, "%s|%s|%s", tid, client_id, oid);

    if (n < 0 || (size_t)n >= sizeof in)
        return RG_ERR_INVALID;
    if (!EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return RG_ERR_CRYPTO;
    s = rg_b64url_encode(md, sizeof md);
    if (!s)
        return RG_ERR_NOMEM;
    snprintf(out, RG_IDP_SUB_LEN + 1, "%s", s);
    free(s);
    return RG_OK;
}

json_t *rg_idp_id_token_claims(const char *issuer, const struct rg_idp_grant *g,
                               const struct rg_idp_user *u, int64_t now, int with_nonce)
{
    char sub[RG_IDP_SUB_LEN + 1];
    char *uti = rg_random_token(16);
    bool profile = rg_idp_scopes_has(g->scopes, "profile");
    bool email = rg_idp_scopes_has(g->scopes, "email") && u->mail;
    int64_t iat = now - RG_IDP_ID_TOKEN_BACKDATE;
    json_t *o = json_object();
    int bad = !o || !uti || rg_idp_pairwise_sub(g->tenant, g->client_id, u->oid, sub);

    bad = bad || json_object_set_new(o, "aud", json_string(g->client_id)) ||
          json_object_set_new(o, "iss", json_string(issuer)) ||
          json_object_set_new(o, "iat", json_integer(iat)) ||
          json_object_set_new(o, "nbf", json_integer(iat)) ||
          json_object_set_new(o, "exp", json_integer(iat + RG_IDP_ID_TOKEN_LIFETIME)) ||
          (email && json_object_set_new(o, "email", json_string(u->mail))) ||
          (profile && json_object_set_new(o, "name", json_string(u->display_name))) ||
          (with_nonce && g->nonce && json_object_set_new(o, "nonce", json_string(g->nonce))) ||
          (profile && json_object_set_new(o, "oid", json_string(u->oid))) ||
          (profile && json_object_set_new(o, "preferred_username", json_string(u->upn))) ||
          (g->sid[0] && json_object_set_new(o, "sid", json_string(g->sid))) ||
          json_object_set_new(o, "sub", json_string(sub)) ||
          json_object_set_new(o, "tid", json_string(g->tenant)) ||
          json_object_set_new(o, "uti", json_string(uti)) ||
          json_object_set_new(o, "ver", json_string("2.0"));
    free(uti);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *rg_idp_userinfo_claims(const struct rg_idp_grant *g, const struct rg_idp_user *u)
{
    char sub[RG_IDP_SUB_LEN + 1];
    bool profile = rg_idp_scopes_has(g->scopes, "profile");
    bool email = rg_idp_scopes_has(g->scopes, "email") && u->mail;
    json_t *o = json_object();
    int bad = !o || rg_idp_pairwise_sub(g->tenant, g->client_id, u->oid, sub);

    bad = bad || json_object_set_new(o, "sub", json_string(sub)) ||
          (profile && json_object_set_new(o, "name", json_string(u->display_name))) ||
          (profile && u->surname && json_object_set_new(o, "family_name",
                                                        json_string(u->surname))) ||
          (profile && u->given_name && json_object_set_new(o, "given_name",
                                                           json_string(u->given_name))) ||
          (email && json_object_set_new(o, "email", json_string(u->mail)));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
