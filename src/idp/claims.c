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

bool rg_idp_group_counts(const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                         const struct rg_idp_group *g, const char *oid,
                         enum rg_idp_group_claims gc)
{
    if (!rg_idp_group_has(g, oid))
        return false;
    switch (gc) {
    case RG_IDP_GC_SECURITY:
        return g->security;
    case RG_IDP_GC_ALL:
        return true;
    case RG_IDP_GC_APPLICATION:
        for (size_t i = 0; i < t->n_assignments; i++)
            if (!strcmp(t->assignments[i].client_id, app->client_id) &&
                !strcmp(t->assignments[i].principal, g->id))
                return true;
        return false;
    default:
        return false;
    }
}

/* groups (GUIDs) or, above the JWT limit, the overage pointer (§1.8, §1.14). */
static int add_groups(json_t *o, const char *base, const struct rg_idp_tenant *t,
                      const struct rg_idp_app *app, const struct rg_idp_user *u, bool implicit)
{
    json_t *arr;
    char endpoint[2300];
    size_t n = 0;

    if (!app || app->group_claims == RG_IDP_GC_NONE)
        return 0;
    if (!(arr = json_array()))
        return -1;
    for (size_t i = 0; i < t->n_groups; i++)
        if (rg_idp_group_counts(t, app, &t->groups[i], u->oid, app->group_claims)) {
            n++;
            if (json_array_append_new(arr, json_string(t->groups[i].id))) {
                json_decref(arr);
                return -1;
            }
        }
    if (n == 0) { /* Entra omits the claim when no group qualifies */
        json_decref(arr);
        return 0;
    }
    if (implicit && n > RG_IDP_GROUPS_IMPLICIT_MAX) {
        json_decref(arr);
        return json_object_set_new(o, "hasgroups", json_true());
    }
    if (n <= RG_IDP_GROUPS_JWT_MAX)
        return json_object_set_new(o, "groups", arr);
    json_decref(arr);
    snprintf(endpoint, sizeof endpoint, "%s/%s/users/%s/getMemberObjects", base, t->id, u->oid);
    return json_object_set_new(o, "_claim_names", json_pack("{s:s}", "groups", "src1")) ||
           json_object_set_new(o, "_claim_sources",
                               json_pack("{s:{s:s}}", "src1", "endpoint", endpoint));
}

/* roles: values of the app roles assigned to the user or to a group the user is in. */
static int add_roles(json_t *o, const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                     const struct rg_idp_user *u)
{
    json_t *arr;
    if (!app || app->n_roles == 0)
        return 0;
    if (!(arr = json_array()))
        return -1;
    for (size_t r = 0; r < app->n_roles; r++) {
        bool has = false;
        for (size_t i = 0; !has && i < t->n_assignments; i++) {
            const struct rg_idp_assignment *as = &t->assignments[i];
            const struct rg_idp_group *g;
            if (strcmp(as->client_id, app->client_id) || strcmp(as->role_id, app->roles[r].id))
                continue;
            has = rg_idp_ieq(as->principal, u->oid) ||
                  ((g = rg_idp_group_find(t, as->principal)) && rg_idp_group_has(g, u->oid));
        }
        if (has && json_array_append_new(arr, json_string(app->roles[r].value))) {
            json_decref(arr);
            return -1;
        }
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return 0;
    }
    return json_object_set_new(o, "roles", arr);
}

json_t *rg_idp_id_token_claims(const char *issuer, const char *base,
                               const struct rg_idp_tenant *t, const struct rg_idp_app *app,
                               const struct rg_idp_grant *g, const struct rg_idp_user *u,
                               int64_t now, int with_nonce, bool implicit)
{
    char sub[RG_IDP_SUB_LEN + 1];
    char *uti = rg_random_token(16);
    bool profile = rg_idp_scopes_has(g->scopes, "profile");
    /* guests get email by default (their mail is their sign-in address) */
    unsigned oc = app ? app->optional_claims : 0;
    bool email = (rg_idp_scopes_has(g->scopes, "email") || u->guest || (oc & RG_IDP_OC_EMAIL)) &&
                 u->mail;
    char *hint = (oc & RG_IDP_OC_LOGIN_HINT) ? rg_idp_login_hint(g->tenant, u->oid) : NULL;
    const char *username = u->guest && u->mail ? u->mail : u->upn;
    int64_t iat = now - RG_IDP_ID_TOKEN_BACKDATE;
    json_t *o = json_object();
    int bad = !o || !uti || rg_idp_pairwise_sub(g->tenant, g->client_id, u->oid, sub) ||
              ((oc & RG_IDP_OC_LOGIN_HINT) && !hint);

    bad = bad || json_object_set_new(o, "aud", json_string(g->client_id)) ||
          json_object_set_new(o, "iss", json_string(issuer)) ||
          json_object_set_new(o, "iat", json_integer(iat)) ||
          json_object_set_new(o, "nbf", json_integer(iat)) ||
          json_object_set_new(o, "exp", json_integer(iat + RG_IDP_ID_TOKEN_LIFETIME)) ||
          ((oc & RG_IDP_OC_ACCT) && json_object_set_new(o, "acct", json_integer(u->guest))) ||
          ((g->has_max_age || (oc & RG_IDP_OC_AUTH_TIME)) &&
           json_object_set_new(o, "auth_time", json_integer(g->auth_time))) ||
          (email && json_object_set_new(o, "email", json_string(u->mail))) ||
          ((oc & RG_IDP_OC_FAMILY_NAME) && u->surname &&
           json_object_set_new(o, "family_name", json_string(u->surname))) ||
          ((oc & RG_IDP_OC_GIVEN_NAME) && u->given_name &&
           json_object_set_new(o, "given_name", json_string(u->given_name))) ||
          add_groups(o, base, t, app, u, implicit) ||
          (hint && json_object_set_new(o, "login_hint", json_string(hint))) ||
          (profile && json_object_set_new(o, "name", json_string(u->display_name))) ||
          (with_nonce && g->nonce && json_object_set_new(o, "nonce", json_string(g->nonce))) ||
          (profile && json_object_set_new(o, "oid", json_string(u->oid))) ||
          (profile && json_object_set_new(o, "preferred_username", json_string(username))) ||
          add_roles(o, t, app, u) ||
          (g->sid[0] && json_object_set_new(o, "sid", json_string(g->sid))) ||
          json_object_set_new(o, "sub", json_string(sub)) ||
          json_object_set_new(o, "tid", json_string(g->tenant)) ||
          /* upn: members only (a guest's needs include_externally_authenticated_upn) */
          ((oc & RG_IDP_OC_UPN) && !u->guest && json_object_set_new(o, "upn", json_string(u->upn))) ||
          json_object_set_new(o, "uti", json_string(uti)) ||
          json_object_set_new(o, "ver", json_string("2.0"));
    free(hint);
    free(uti);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *rg_idp_login_hint(const char *tid, const char *oid)
{
    char json[2 * RG_IDP_GUID_LEN + 32];
    int n = snprintf(json, sizeof json, "{\"oid\":\"%s\",\"tid\":\"%s\"}", oid, tid);
    return n > 0 && (size_t)n < sizeof json ? rg_b64url_encode(json, (size_t)n) : NULL;
}

bool rg_idp_login_hint_oid(const char *hint, const char *tid, char oid[RG_IDP_GUID_LEN + 1])
{
    unsigned char *raw = NULL;
    size_t len = 0;
    json_t *j;
    const char *o, *t;
    bool ok = false;

    if (!hint || strlen(hint) > 256 || rg_b64url_decode(hint, strlen(hint), &raw, &len))
        return false;
    j = json_loadb((const char *)raw, len, 0, NULL);
    o = json_string_value(json_object_get(j, "oid"));
    t = json_string_value(json_object_get(j, "tid"));
    if (o && t && rg_idp_ieq(t, tid) && rg_idp_guid_norm(o, oid) == RG_OK)
        ok = true;
    json_decref(j);
    free(raw);
    return ok;
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
