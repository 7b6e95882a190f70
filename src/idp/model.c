#include "idp/model.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/mem.h"
#include "idp/cred.h"

#define STATE_VERSION 1

void rg_idp_state_init(struct rg_idp_state *st)
{
    memset(st, 0, sizeof *st);
}

static void app_free(struct rg_idp_app *a)
{
    free(a->display_name);
    for (size_t i = 0; i < a->n_redirect; i++)
        free(a->redirect_uris[i]);
    free(a->redirect_uris);
    if (a->secrets)
        rg_wipe(a->secrets, a->n_secrets * sizeof *a->secrets);
    free(a->secrets);
    free(a->front_channel_logout_url);
    for (size_t i = 0; i < a->n_roles; i++) {
        free(a->roles[i].value);
        free(a->roles[i].display_name);
    }
    free(a->roles);
    for (size_t i = 0; i < a->n_certs; i++)
        free(a->certs[i].x5c);
    free(a->certs);
}

static void user_free(struct rg_idp_user *u)
{
    free(u->upn);
    free(u->display_name);
    free(u->mail);
    free(u->given_name);
    free(u->surname);
    rg_free_secret(u->password_hash);
}

static void tenant_free(struct rg_idp_tenant *t)
{
    free(t->name);
    free(t->domain);
    for (size_t i = 0; i < t->n_keys; i++)
        free(t->keys[i].x5c);
    free(t->keys);
    for (size_t i = 0; i < t->n_apps; i++)
        app_free(&t->apps[i]);
    free(t->apps);
    for (size_t i = 0; i < t->n_users; i++)
        user_free(&t->users[i]);
    free(t->users);
    for (size_t i = 0; i < t->n_consents; i++)
        free(t->consents[i].scopes);
    free(t->consents);
    for (size_t i = 0; i < t->n_groups; i++) {
        free(t->groups[i].display_name);
        free(t->groups[i].members);
    }
    free(t->groups);
    free(t->assignments);
}

void rg_idp_state_free(struct rg_idp_state *st)
{
    for (size_t i = 0; i < st->n_tenants; i++)
        tenant_free(&st->tenants[i]);
    free(st->tenants);
    memset(st, 0, sizeof *st);
}

/* Makes room for one more element in a dynamic array of n elements (limit max). The new
 * slot is zeroed. */
static rg_err grow(void **arr, size_t n, size_t elem, size_t max)
{
    void *p;
    if (n >= max)
        return RG_ERR_LIMIT;
    p = realloc(*arr, (n + 1) * elem);
    if (!p)
        return RG_ERR_NOMEM;
    memset((char *)p + n * elem, 0, elem);
    *arr = p;
    return RG_OK;
}

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* String member k of o: required or optional (absent/null → *out NULL), at most max bytes. */
static rg_err get_str(const json_t *o, const char *k, bool required, size_t max,
                      const char **out, const char *where, struct rg_msg *msg)
{
    const json_t *v = json_object_get(o, k);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" is missing", where, k);
        return RG_OK;
    }
    if (!json_is_string(v))
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" must be a string", where, k);
    if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
        return rg_fail(msg, RG_ERR_LIMIT, "%s: \"%s\" is too long or contains NUL", where, k);
    *out = json_string_value(v);
    return RG_OK;
}

static rg_err get_time(const json_t *o, const char *k, int64_t *out, const char *where,
                       struct rg_msg *msg)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" must be a non-negative integer", where,
                       k);
    *out = (int64_t)json_integer_value(v);
    return RG_OK;
}

static rg_err get_guid(const json_t *o, const char *k, char out[RG_IDP_GUID_LEN + 1],
                       const char *where, struct rg_msg *msg)
{
    const char *s;
    rg_err e = get_str(o, k, true, RG_IDP_GUID_LEN, &s, where, msg);
    if (e)
        return e;
    if (rg_idp_guid_norm(s, out))
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" is not a GUID", where, k);
    return RG_OK;
}

static const json_t *get_array(const json_t *o, const char *k, size_t max, const char *where,
                               struct rg_msg *msg, rg_err *e)
{
    const json_t *v = json_object_get(o, k);
    *e = RG_OK;
    if (!v)
        return NULL; /* absent = empty */
    if (!json_is_array(v)) {
        *e = rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" must be an array", where, k);
        return NULL;
    }
    if (json_array_size(v) > max) {
        *e = rg_fail(msg, RG_ERR_LIMIT, "%s: more than %zu entries in \"%s\"", where, max, k);
        return NULL;
    }
    return v;
}

static rg_err get_bytes(const json_t *o, const char *k, unsigned char *out, size_t want,
                        const char *where, struct rg_msg *msg)
{
    const char *s;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    rg_err e = get_str(o, k, true, 128, &s, where, msg);
    if (e)
        return e;
    if (rg_b64url_decode(s, strlen(s), &raw, &rawlen) || rawlen != want) {
        free(raw);
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" must be %zu bytes of base64url", where,
                       k, want);
    }
    memcpy(out, raw, want);
    rg_wipe(raw, rawlen);
    free(raw);
    return RG_OK;
}

static rg_err parse_key(const json_t *o, struct rg_idp_tenant *t, const char *where,
                        struct rg_msg *msg)
{
    const char *kid, *x5c;
    int64_t created, not_after;
    rg_err e;

    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: key entry must be an object", where);
    if ((e = get_str(o, "kid", true, RG_IDP_KID_LEN, &kid, where, msg)) ||
        (e = get_str(o, "x5c", true, RG_IDP_X5C_MAX, &x5c, where, msg)) ||
        (e = get_time(o, "created", &created, where, msg)) ||
        (e = get_time(o, "not_after", &not_after, where, msg)))
        return e;
    if ((e = rg_idp_key_add(t, kid, x5c, created, not_after, msg)))
        return e;
    if (json_object_get(o, "activates")) {
        int64_t act;
        if ((e = get_time(o, "activates", &act, where, msg)))
            return e;
        if (act < created)
            return rg_fail(msg, RG_ERR_INVALID, "%s: key %s activates before it was created",
                           where, kid);
        t->keys[t->n_keys - 1].activates = act;
    }
    return RG_OK;
}

static rg_err parse_secret(const json_t *o, struct rg_idp_app *a, const char *where,
                           struct rg_msg *msg)
{
    struct rg_idp_secret s;
    const char *hint;
    rg_err e;

    memset(&s, 0, sizeof s);
    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: secret entry must be an object", where);
    if ((e = get_guid(o, "key_id", s.key_id, where, msg)) ||
        (e = get_str(o, "hint", true, 3, &hint, where, msg)) ||
        (e = get_bytes(o, "salt", s.salt, sizeof s.salt, where, msg)) ||
        (e = get_bytes(o, "hash", s.hash, sizeof s.hash, where, msg)) ||
        (e = get_time(o, "created", &s.created, where, msg)) ||
        (e = get_time(o, "expires", &s.expires, where, msg)))
        goto out;
    memcpy(s.hint, hint, strlen(hint) + 1);
    e = rg_idp_secret_add(a, &s, msg);
out:
    rg_wipe(&s, sizeof s);
    return e;
}

static rg_err get_bool(const json_t *o, const char *k, bool *out, const char *where,
                       struct rg_msg *msg)
{
    const json_t *v = json_object_get(o, k);
    *out = false;
    if (!v)
        return RG_OK;
    if (!json_is_boolean(v))
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"%s\" must be true or false", where, k);
    *out = json_is_true(v);
    return RG_OK;
}

/* The optional per-app settings (absent in state files written before they existed). */
static rg_err parse_app_settings(const json_t *o, struct rg_idp_app *a, const char *w,
                                 struct rg_msg *msg)
{
    const char *gc, *fcl, *val, *dn, *x5c, *x5t, *x5t256;
    char id[RG_IDP_GUID_LEN + 1];
    const json_t *arr, *v;
    int64_t created, not_after;
    size_t i;
    int g;
    rg_err e;

    if ((e = get_str(o, "group_claims", false, 32, &gc, w, msg)) ||
        (e = get_bool(o, "assignment_required", &a->assignment_required, w, msg)) ||
        (e = get_bool(o, "implicit_id_token", &a->implicit_id_token, w, msg)) ||
        (e = get_str(o, "front_channel_logout_url", false, RG_IDP_REDIRECT_MAX, &fcl, w, msg)))
        return e;
    g = gc ? rg_idp_group_claims_parse(gc) : RG_IDP_GC_NONE;
    if (g < 0)
        return rg_fail(msg, RG_ERR_INVALID, "%s: unknown group_claims '%s'", w, gc);
    a->group_claims = (enum rg_idp_group_claims)g;
    if ((e = get_str(o, "platform", false, 16, &gc, w, msg)))
        return e;
    g = gc ? rg_idp_platform_parse(gc) : RG_IDP_PLATFORM_WEB;
    if (g < 0)
        return rg_fail(msg, RG_ERR_INVALID, "%s: unknown platform '%s'", w, gc);
    a->platform = (enum rg_idp_platform)g;
    arr = get_array(o, "optional_claims", 16, w, msg, &e);
    if (e)
        return e;
    json_array_foreach(arr, i, v) {
        unsigned bit = json_is_string(v) ? rg_idp_optional_claim_bit(json_string_value(v)) : 0;
        if (!bit)
            return rg_fail(msg, RG_ERR_INVALID, "%s: unknown optional claim", w);
        a->optional_claims |= bit;
    }
    if (fcl) {
        if ((e = rg_idp_check_redirect_uri(fcl, msg)))
            return e;
        if (!(a->front_channel_logout_url = strdup(fcl)))
            return RG_ERR_NOMEM;
    }
    arr = get_array(o, "roles", RG_IDP_MAX_ROLES, w, msg, &e);
    if (e)
        return e;
    json_array_foreach(arr, i, v) {
        if ((e = get_guid(v, "id", id, w, msg)) ||
            (e = get_str(v, "value", true, 120, &val, w, msg)) ||
            (e = get_str(v, "display_name", true, RG_IDP_TEXT_MAX, &dn, w, msg)) ||
            (e = rg_idp_role_add(a, id, val, dn, msg)))
            return e;
    }
    arr = get_array(o, "certs", RG_IDP_MAX_CERTS, w, msg, &e);
    if (e)
        return e;
    json_array_foreach(arr, i, v) {
        if ((e = get_str(v, "x5t", true, RG_IDP_KID_LEN, &x5t, w, msg)) ||
            (e = get_str(v, "x5t256", true, 43, &x5t256, w, msg)) ||
            (e = get_str(v, "x5c", true, RG_IDP_X5C_MAX, &x5c, w, msg)) ||
            (e = get_time(v, "created", &created, w, msg)) ||
            (e = get_time(v, "not_after", &not_after, w, msg)) ||
            (e = rg_idp_cert_add(a, x5c, x5t, x5t256, created, not_after, msg)))
            return e;
    }
    return RG_OK;
}

static rg_err parse_app(const json_t *o, struct rg_idp_state *st, struct rg_idp_tenant *t,
                        const char *where, struct rg_msg *msg)
{
    char id[RG_IDP_GUID_LEN + 1], w[160];
    const char *name;
    const char *uris[RG_IDP_MAX_REDIRECTS];
    const json_t *arr, *v;
    struct rg_idp_app *a;
    int64_t created;
    size_t i, n = 0;
    rg_err e;

    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: app entry must be an object", where);
    if ((e = get_guid(o, "client_id", id, where, msg)) ||
        (e = get_str(o, "display_name", true, RG_IDP_TEXT_MAX, &name, where, msg)) ||
        (e = get_time(o, "created", &created, where, msg)))
        return e;
    snprintf(w, sizeof w, "%s app %s", where, id);
    arr = get_array(o, "redirect_uris", RG_IDP_MAX_REDIRECTS, w, msg, &e);
    if (e)
        return e;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return rg_fail(msg, RG_ERR_INVALID, "%s: redirect URIs must be strings", w);
        uris[n++] = json_string_value(v);
    }
    e = rg_idp_app_add(st, t, id, name, uris, n, created, &a, msg);
    if (e)
        return e;
    arr = get_array(o, "secrets", RG_IDP_MAX_SECRETS, w, msg, &e);
    if (e)
        return e;
    json_array_foreach(arr, i, v) {
        e = parse_secret(v, a, w, msg);
        if (e)
            return e;
    }
    return parse_app_settings(o, a, w, msg);
}

static rg_err parse_user(const json_t *o, struct rg_idp_tenant *t, const char *where,
                         struct rg_msg *msg)
{
    struct rg_idp_user u;
    const char *upn, *dn, *mail, *gn, *sn, *pw;
    const json_t *en;
    char w[200];
    rg_err e;

    memset(&u, 0, sizeof u);
    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: user entry must be an object", where);
    if ((e = get_guid(o, "oid", u.oid, where, msg)))
        return e;
    snprintf(w, sizeof w, "%s user %s", where, u.oid);
    if ((e = get_str(o, "upn", true, RG_IDP_UPN_MAX, &upn, w, msg)) ||
        (e = get_str(o, "display_name", true, RG_IDP_TEXT_MAX, &dn, w, msg)) ||
        (e = get_str(o, "mail", false, RG_IDP_MAIL_MAX, &mail, w, msg)) ||
        (e = get_str(o, "given_name", false, RG_IDP_TEXT_MAX, &gn, w, msg)) ||
        (e = get_str(o, "surname", false, RG_IDP_TEXT_MAX, &sn, w, msg)) ||
        (e = get_str(o, "password_hash", true, RG_IDP_PW_HASH_MAX, &pw, w, msg)) ||
        (e = get_time(o, "created", &u.created, w, msg)))
        return e;
    en = json_object_get(o, "enabled");
    if (!json_is_boolean(en))
        return rg_fail(msg, RG_ERR_INVALID, "%s: \"enabled\" must be true or false", w);
    if (!rg_idp_password_hash_ok(pw))
        return rg_fail(msg, RG_ERR_INVALID, "%s: password_hash has an unknown format", w);
    u.enabled = json_is_true(en);
    if ((e = get_bool(o, "guest", &u.guest, w, msg)))
        return e;
    /* the adder validates the text fields; it only reads through these pointers */
    u.upn = (char *)upn;
    u.display_name = (char *)dn;
    u.mail = (char *)mail;
    u.given_name = (char *)gn;
    u.surname = (char *)sn;
    u.password_hash = (char *)pw;
    return rg_idp_user_add(t, &u, NULL, msg);
}

static rg_err parse_consent(const json_t *o, struct rg_idp_tenant *t, const char *where,
                            struct rg_msg *msg)
{
    char id[RG_IDP_GUID_LEN + 1], principal[RG_IDP_GUID_LEN + 1];
    const char *p, *scopes;
    rg_err e;

    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: consent entry must be an object", where);
    if ((e = get_guid(o, "client_id", id, where, msg)) ||
        (e = get_str(o, "principal", true, RG_IDP_GUID_LEN, &p, where, msg)) ||
        (e = get_str(o, "scopes", true, RG_IDP_SCOPE_LIST_MAX, &scopes, where, msg)))
        return e;
    if (strcmp(p, RG_IDP_PRINCIPAL_ADMIN) == 0)
        strcpy(principal, p);
    else if (rg_idp_guid_norm(p, principal))
        return rg_fail(msg, RG_ERR_INVALID, "%s: consent principal must be \"admin\" or a GUID",
                       where);
    return rg_idp_consent_grant(t, id, principal, scopes, msg);
}

static rg_err parse_group(const json_t *o, struct rg_idp_tenant *t, const char *where,
                         struct rg_msg *msg)
{
    char id[RG_IDP_GUID_LEN + 1];
    const char *dn;
    const json_t *sec, *arr, *v;
    struct rg_idp_group *g;
    size_t i;
    rg_err e;

    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: group entry must be an object", where);
    if ((e = get_guid(o, "id", id, where, msg)) ||
        (e = get_str(o, "display_name", true, RG_IDP_TEXT_MAX, &dn, where, msg)))
        return e;
    sec = json_object_get(o, "security");
    if (!json_is_boolean(sec))
        return rg_fail(msg, RG_ERR_INVALID, "%s group %s: \"security\" must be true or false",
                       where, id);
    if ((e = rg_idp_group_add(t, id, dn, json_is_true(sec), &g, msg)))
        return e;
    arr = get_array(o, "members", RG_IDP_MAX_MEMBERS, where, msg, &e);
    json_array_foreach(arr, i, v) {
        if (e)
            break;
        if (!json_is_string(v))
            return rg_fail(msg, RG_ERR_INVALID, "%s group %s: members must be strings", where,
                           id);
        e = rg_idp_group_member_add(t, g, json_string_value(v), msg);
    }
    return e;
}

static rg_err parse_assignment(const json_t *o, struct rg_idp_tenant *t, const char *where,
                               struct rg_msg *msg)
{
    char app[RG_IDP_GUID_LEN + 1], pr[RG_IDP_GUID_LEN + 1], role[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s: assignment entry must be an object", where);
    if ((e = get_guid(o, "client_id", app, where, msg)) ||
        (e = get_guid(o, "principal", pr, where, msg)) ||
        (e = get_guid(o, "role_id", role, where, msg)))
        return e;
    return rg_idp_assign(t, app, pr, role, msg);
}

static rg_err parse_tenant(const json_t *o, struct rg_idp_state *st, size_t idx,
                           struct rg_msg *msg)
{
    char id[RG_IDP_GUID_LEN + 1], where[80];
    const char *name, *domain;
    struct rg_idp_tenant *t;
    const json_t *arr, *v;
    int64_t created;
    size_t i;
    rg_err e;

    snprintf(where, sizeof where, "tenant #%zu", idx + 1);
    if (!json_is_object(o))
        return rg_fail(msg, RG_ERR_INVALID, "%s must be an object", where);
    if ((e = get_guid(o, "id", id, where, msg)))
        return e;
    snprintf(where, sizeof where, "tenant %s", id);
    if ((e = get_str(o, "name", true, RG_IDP_TEXT_MAX, &name, where, msg)) ||
        (e = get_str(o, "domain", false, 253, &domain, where, msg)) ||
        (e = get_time(o, "created", &created, where, msg)))
        return e;
    e = rg_idp_tenant_add(st, id, name, domain, created, &t, msg);
    if (e)
        return e;
    arr = get_array(o, "keys", RG_IDP_MAX_KEYS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_key(v, t, where, msg);
    if (e)
        return e;
    arr = get_array(o, "apps", RG_IDP_MAX_APPS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_app(v, st, t, where, msg);
    if (e)
        return e;
    arr = get_array(o, "users", RG_IDP_MAX_USERS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_user(v, t, where, msg);
    if (e)
        return e;
    arr = get_array(o, "consents", RG_IDP_MAX_CONSENTS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_consent(v, t, where, msg);
    if (e)
        return e;
    arr = get_array(o, "groups", RG_IDP_MAX_GROUPS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_group(v, t, where, msg);
    if (e)
        return e;
    arr = get_array(o, "assignments", RG_IDP_MAX_ASSIGNMENTS, where, msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_assignment(v, t, where, msg);
    return e;
}

rg_err rg_idp_state_from_json(const char *text, size_t len, struct rg_idp_state *st,
                              struct rg_msg *msg)
{
    struct rg_idp_state tmp;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *ver, *arr, *v;
    size_t i;
    rg_err e = RG_OK;

    rg_idp_state_init(&tmp);
    if (!root)
        return rg_fail(msg, RG_ERR_INVALID, "not valid JSON (line %d: %s)", jerr.line,
                       jerr.text);
    ver = json_object_get(root, "version");
    if (!json_is_object(root) || !json_is_integer(ver) ||
        json_integer_value(ver) != STATE_VERSION) {
        e = rg_fail(msg, RG_ERR_INVALID, "not a version %d realmgate-idp state", STATE_VERSION);
        goto out;
    }
    arr = get_array(root, "tenants", RG_IDP_MAX_TENANTS, "state", msg, &e);
    json_array_foreach(arr, i, v) if (!e) e = parse_tenant(v, &tmp, i, msg);
    if (e)
        goto out;
    rg_idp_state_free(st);
    *st = tmp;
    rg_idp_state_init(&tmp);
out:
    rg_idp_state_free(&tmp);
    json_decref(root);
    return e;
}

/* ---- serialising ------------------------------------------------------------------------ */

/* json_object_set_new that tolerates a NULL value (allocation failure) by reporting it. */
static int set(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static int set_opt_str(json_t *o, const char *k, const char *s)
{
    return s ? set(o, k, json_string(s)) : 0;
}

static json_t *b64url_json(const unsigned char *p, size_t n)
{
    char *s = rg_b64url_encode(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

static json_t *app_json(const struct rg_idp_app *a)
{
    json_t *o = json_object(), *uris = json_array(), *secs = json_array();
    int bad = !o || !uris || !secs;

    for (size_t i = 0; !bad && i < a->n_redirect; i++)
        bad |= json_array_append_new(uris, json_string(a->redirect_uris[i]));
    for (size_t i = 0; !bad && i < a->n_secrets; i++) {
        const struct rg_idp_secret *s = &a->secrets[i];
        json_t *so = json_object();
        bad |= !so || set(so, "key_id", json_string(s->key_id)) ||
               set(so, "hint", json_string(s->hint)) ||
               set(so, "salt", b64url_json(s->salt, sizeof s->salt)) ||
               set(so, "hash", b64url_json(s->hash, sizeof s->hash)) ||
               set(so, "created", json_integer(s->created)) ||
               set(so, "expires", json_integer(s->expires));
        bad |= json_array_append_new(secs, so);
    }
    if (!bad)
        bad = set(o, "client_id", json_string(a->client_id)) ||
              set(o, "display_name", json_string(a->display_name)) ||
              set(o, "created", json_integer(a->created)) ||
              json_object_set(o, "redirect_uris", uris) || json_object_set(o, "secrets", secs) ||
              set(o, "group_claims", json_string(rg_idp_group_claims_name(a->group_claims))) ||
              set(o, "assignment_required", json_boolean(a->assignment_required)) ||
              set_opt_str(o, "front_channel_logout_url", a->front_channel_logout_url) ||
              set(o, "platform", json_string(rg_idp_platform_name(a->platform))) ||
              (a->implicit_id_token && set(o, "implicit_id_token", json_true()));
    if (!bad && a->optional_claims) {
        json_t *oc = json_array();
        for (unsigned bit = 1; oc && !bad && bit <= RG_IDP_OC_CTRY; bit <<= 1)
            if (a->optional_claims & bit) {
                char name[32];
                rg_idp_optional_claims_names(bit, name, sizeof name);
                bad |= json_array_append_new(oc, json_string(name));
            }
        bad |= set(o, "optional_claims", oc);
    }
    if (!bad && a->n_roles) {
        json_t *roles = json_array();
        for (size_t i = 0; roles && !bad && i < a->n_roles; i++)
            bad |= json_array_append_new(
                roles, json_pack("{s:s,s:s,s:s}", "id", a->roles[i].id, "value",
                                 a->roles[i].value, "display_name", a->roles[i].display_name));
        bad |= set(o, "roles", roles);
    }
    if (!bad && a->n_certs) {
        json_t *certs = json_array();
        for (size_t i = 0; certs && !bad && i < a->n_certs; i++)
            bad |= json_array_append_new(
                certs, json_pack("{s:s,s:s,s:s,s:I,s:I}", "x5t", a->certs[i].x5t, "x5t256",
                                 a->certs[i].x5t256, "x5c", a->certs[i].x5c, "created",
                                 (json_int_t)a->certs[i].created, "not_after",
                                 (json_int_t)a->certs[i].not_after));
        bad |= set(o, "certs", certs);
    }
    json_decref(uris);
    json_decref(secs);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *user_json(const struct rg_idp_user *u)
{
    json_t *o = json_object();
    if (!o || set(o, "oid", json_string(u->oid)) || set(o, "upn", json_string(u->upn)) ||
        set(o, "display_name", json_string(u->display_name)) ||
        set_opt_str(o, "mail", u->mail) || set_opt_str(o, "given_name", u->given_name) ||
        set_opt_str(o, "surname", u->surname) || set(o, "enabled", json_boolean(u->enabled)) ||
        (u->guest && set(o, "guest", json_true())) ||
        set(o, "password_hash", json_string(u->password_hash)) ||
        set(o, "created", json_integer(u->created))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *tenant_json(const struct rg_idp_tenant *t)
{
    json_t *o = json_object(), *keys = json_array(), *apps = json_array(),
           *users = json_array(), *cons = json_array();
    int bad = !o || !keys || !apps || !users || !cons;

    for (size_t i = 0; !bad && i < t->n_keys; i++) {
        json_t *k = json_object();
        bad |= !k || set(k, "kid", json_string(t->keys[i].kid)) ||
               set(k, "x5c", json_string(t->keys[i].x5c)) ||
               set(k, "created", json_integer(t->keys[i].created)) ||
               set(k, "not_after", json_integer(t->keys[i].not_after)) ||
               (t->keys[i].activates != t->keys[i].created &&
                set(k, "activates", json_integer(t->keys[i].activates)));
        bad |= json_array_append_new(keys, k);
    }
    for (size_t i = 0; !bad && i < t->n_apps; i++)
        bad |= json_array_append_new(apps, app_json(&t->apps[i]));
    for (size_t i = 0; !bad && i < t->n_users; i++)
        bad |= json_array_append_new(users, user_json(&t->users[i]));
    for (size_t i = 0; !bad && i < t->n_consents; i++) {
        json_t *c = json_object();
        bad |= !c || set(c, "client_id", json_string(t->consents[i].client_id)) ||
               set(c, "principal", json_string(t->consents[i].principal)) ||
               set(c, "scopes", json_string(t->consents[i].scopes));
        bad |= json_array_append_new(cons, c);
    }
    if (!bad && t->n_groups) {
        json_t *groups = json_array();
        for (size_t i = 0; groups && !bad && i < t->n_groups; i++) {
            const struct rg_idp_group *g = &t->groups[i];
            json_t *m = json_array();
            for (size_t j = 0; m && !bad && j < g->n_members; j++)
                bad |= json_array_append_new(m, json_string(g->members[j]));
            bad |= !m || json_array_append_new(
                             groups, json_pack("{s:s,s:s,s:b,s:o}", "id", g->id, "display_name",
                                               g->display_name, "security", g->security,
                                               "members", m));
        }
        bad |= set(o, "groups", groups);
    }
    if (!bad && t->n_assignments) {
        json_t *as = json_array();
        for (size_t i = 0; as && !bad && i < t->n_assignments; i++)
            bad |= json_array_append_new(
                as, json_pack("{s:s,s:s,s:s}", "client_id", t->assignments[i].client_id,
                              "principal", t->assignments[i].principal, "role_id",
                              t->assignments[i].role_id));
        bad |= set(o, "assignments", as);
    }
    if (!bad)
        bad = set(o, "id", json_string(t->id)) || set(o, "name", json_string(t->name)) ||
              set_opt_str(o, "domain", t->domain) ||
              set(o, "created", json_integer(t->created)) || json_object_set(o, "keys", keys) ||
              json_object_set(o, "apps", apps) || json_object_set(o, "users", users) ||
              json_object_set(o, "consents", cons);
    json_decref(keys);
    json_decref(apps);
    json_decref(users);
    json_decref(cons);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *rg_idp_state_to_json(const struct rg_idp_state *st)
{
    json_t *root = json_object(), *arr = json_array();
    char *text = NULL;
    int bad = !root || !arr;

    for (size_t i = 0; !bad && i < st->n_tenants; i++)
        bad |= json_array_append_new(arr, tenant_json(&st->tenants[i]));
    if (!bad && !set(root, "version", json_integer(STATE_VERSION)) &&
        !json_object_set(root, "tenants", arr))
        text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    json_decref(root);
    return text;
}

/* ---- finders ---------------------------------------------------------------------------- */

struct rg_idp_tenant *rg_idp_tenant_find(const struct rg_idp_state *st, const char *ref)
{
    if (!ref)
        return NULL;
    for (size_t i = 0; i < st->n_tenants; i++) {
        struct rg_idp_tenant *t = &st->tenants[i];
        if (rg_idp_ieq(t->id, ref) || (t->domain && rg_idp_ieq(t->domain, ref)))
            return t;
    }
    return NULL;
}

struct rg_idp_app *rg_idp_app_find(const struct rg_idp_tenant *t, const char *client_id)
{
    if (!t || !client_id)
        return NULL;
    for (size_t i = 0; i < t->n_apps; i++)
        if (rg_idp_ieq(t->apps[i].client_id, client_id))
            return &t->apps[i];
    return NULL;
}

struct rg_idp_tenant *rg_idp_app_owner(const struct rg_idp_state *st, const char *client_id)
{
    for (size_t i = 0; i < st->n_tenants; i++)
        if (rg_idp_app_find(&st->tenants[i], client_id))
            return &st->tenants[i];
    return NULL;
}

struct rg_idp_user *rg_idp_user_find_upn(const struct rg_idp_tenant *t, const char *upn)
{
    if (!t || !upn)
        return NULL;
    for (size_t i = 0; i < t->n_users; i++)
        if (rg_idp_ieq(t->users[i].upn, upn))
            return &t->users[i];
    return NULL;
}

struct rg_idp_user *rg_idp_user_find_login(const struct rg_idp_tenant *t, const char *login)
{
    struct rg_idp_user *u = rg_idp_user_find_upn(t, login);
    for (size_t i = 0; !u && login && i < t->n_users; i++)
        if (t->users[i].guest && t->users[i].mail && rg_idp_ieq(t->users[i].mail, login))
            u = &t->users[i];
    return u;
}

struct rg_idp_user *rg_idp_user_find_oid(const struct rg_idp_tenant *t, const char *oid)
{
    if (!t || !oid)
        return NULL;
    for (size_t i = 0; i < t->n_users; i++)
        if (rg_idp_ieq(t->users[i].oid, oid))
            return &t->users[i];
    return NULL;
}

const struct rg_idp_key *rg_idp_signing_key(const struct rg_idp_tenant *t, int64_t now)
{
    for (size_t k = t->n_keys; k-- > 0;)
        if (t->keys[k].activates <= now)
            return &t->keys[k];
    return t->n_keys ? &t->keys[0] : NULL;
}

static struct rg_idp_consent *consent_find(const struct rg_idp_tenant *t, const char *client_id,
                                           const char *principal)
{
    for (size_t i = 0; i < t->n_consents; i++)
        if (rg_idp_ieq(t->consents[i].client_id, client_id) &&
            rg_idp_ieq(t->consents[i].principal, principal))
            return &t->consents[i];
    return NULL;
}

bool rg_idp_consent_covers(const struct rg_idp_tenant *t, const char *client_id,
                           const char *user_oid, const char *scopes)
{
    const struct rg_idp_consent *adm = consent_find(t, client_id, RG_IDP_PRINCIPAL_ADMIN);
    const struct rg_idp_consent *usr = user_oid ? consent_find(t, client_id, user_oid) : NULL;
    const char *p = scopes;

    while (*p) {
        char tok[RG_IDP_SCOPE_LEN_MAX + 1];
        size_t n = strcspn(p, " ");
        bool ok;
        if (n > RG_IDP_SCOPE_LEN_MAX)
            return false;
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (strcmp(tok, ".default") == 0)
            ok = adm || usr; /* .default = whatever was consented statically */
        else
            ok = (adm && rg_idp_scopes_has(adm->scopes, tok)) ||
                 (usr && rg_idp_scopes_has(usr->scopes, tok));
        if (n && !ok)
            return false;
        p += n;
        while (*p == ' ')
            p++;
    }
    return true;
}

bool rg_idp_consent_has_user_grants(const struct rg_idp_tenant *t, const char *client_id)
{
    for (size_t i = 0; i < t->n_consents; i++)
        if (rg_idp_ieq(t->consents[i].client_id, client_id) &&
            strcmp(t->consents[i].principal, RG_IDP_PRINCIPAL_ADMIN) != 0)
            return true;
    return false;
}

/* ---- adders ----------------------------------------------------------------------------- */

rg_err rg_idp_tenant_add(struct rg_idp_state *st, const char *id, const char *name,
                         const char *domain, int64_t now, struct rg_idp_tenant **out,
                         struct rg_msg *msg)
{
    struct rg_idp_tenant *t;
    char gid[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (out)
        *out = NULL;
    if (rg_idp_guid_norm(id, gid))
        return rg_fail(msg, RG_ERR_INVALID, "tenant id '%s' is not a GUID", id);
    if ((e = rg_idp_check_text("tenant name", name, RG_IDP_TEXT_MAX, msg)) ||
        (domain && (e = rg_idp_check_domain(domain, msg))))
        return e;
    if (rg_idp_tenant_find(st, gid))
        return rg_fail(msg, RG_ERR_EXISTS, "tenant %s already exists", gid);
    if (domain && rg_idp_tenant_find(st, domain))
        return rg_fail(msg, RG_ERR_EXISTS, "domain %s already belongs to tenant %s", domain,
                       rg_idp_tenant_find(st, domain)->id);
    if ((e = grow((void **)&st->tenants, st->n_tenants, sizeof *st->tenants,
                  RG_IDP_MAX_TENANTS)))
        return rg_fail(msg, e, "cannot add a tenant (at most %d)", RG_IDP_MAX_TENANTS);
    t = &st->tenants[st->n_tenants];
    memcpy(t->id, gid, sizeof gid);
    t->name = strdup(name);
    t->domain = dup_opt(domain);
    t->created = now;
    if (!t->name || (domain && !t->domain)) {
        tenant_free(t);
        return RG_ERR_NOMEM;
    }
    for (char *c = t->domain; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    st->n_tenants++;
    if (out)
        *out = t;
    return RG_OK;
}

rg_err rg_idp_key_add(struct rg_idp_tenant *t, const char *kid, const char *x5c,
                      int64_t created, int64_t not_after, struct rg_msg *msg)
{
    struct rg_idp_key *k;
    rg_err e;

    if (strlen(kid) != RG_IDP_KID_LEN || strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                     "opqrstuvwxyz0123456789-_") != RG_IDP_KID_LEN)
        return rg_fail(msg, RG_ERR_INVALID, "tenant %s: key id '%s' is not a SHA-1 thumbprint",
                       t->id, kid);
    if (strlen(x5c) > RG_IDP_X5C_MAX)
        return rg_fail(msg, RG_ERR_LIMIT, "tenant %s: certificate too large", t->id);
    for (size_t i = 0; i < t->n_keys; i++)
        if (strcmp(t->keys[i].kid, kid) == 0)
            return rg_fail(msg, RG_ERR_EXISTS, "tenant %s: key %s listed twice", t->id, kid);
    if ((e = grow((void **)&t->keys, t->n_keys, sizeof *t->keys, RG_IDP_MAX_KEYS)))
        return rg_fail(msg, e, "tenant %s: at most %d keys", t->id, RG_IDP_MAX_KEYS);
    k = &t->keys[t->n_keys];
    memcpy(k->kid, kid, RG_IDP_KID_LEN + 1);
    k->x5c = strdup(x5c);
    if (!k->x5c)
        return RG_ERR_NOMEM;
    k->created = created;
    k->activates = created;
    k->not_after = not_after;
    t->n_keys++;
    return RG_OK;
}

rg_err rg_idp_app_add(struct rg_idp_state *st, struct rg_idp_tenant *t, const char *client_id,
                      const char *display_name, const char *const *redirect_uris, size_t n,
                      int64_t now, struct rg_idp_app **out, struct rg_msg *msg)
{
    struct rg_idp_app *a;
    char id[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (out)
        *out = NULL;
    if (rg_idp_guid_norm(client_id, id))
        return rg_fail(msg, RG_ERR_INVALID, "client id '%s' is not a GUID", client_id);
    if ((e = rg_idp_check_text("app display name", display_name, RG_IDP_TEXT_MAX, msg)))
        return e;
    if (n > RG_IDP_MAX_REDIRECTS)
        return rg_fail(msg, RG_ERR_LIMIT, "at most %d redirect URIs", RG_IDP_MAX_REDIRECTS);
    for (size_t i = 0; i < n; i++) {
        if ((e = rg_idp_check_redirect_uri(redirect_uris[i], msg)))
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(redirect_uris[i], redirect_uris[j]) == 0)
                return rg_fail(msg, RG_ERR_EXISTS, "redirect URI '%s' given twice",
                               redirect_uris[i]);
    }
    if (rg_idp_app_owner(st, id))
        return rg_fail(msg, RG_ERR_EXISTS, "application id %s is already registered (in tenant %s)",
                       id, rg_idp_app_owner(st, id)->id);
    if ((e = grow((void **)&t->apps, t->n_apps, sizeof *t->apps, RG_IDP_MAX_APPS)))
        return rg_fail(msg, e, "tenant %s: at most %d apps", t->id, RG_IDP_MAX_APPS);
    a = &t->apps[t->n_apps];
    memcpy(a->client_id, id, sizeof id);
    a->created = now;
    a->display_name = strdup(display_name);
    a->redirect_uris = n ? calloc(n, sizeof *a->redirect_uris) : NULL;
    if (!a->display_name || (n && !a->redirect_uris)) {
        app_free(a);
        return RG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        a->redirect_uris[i] = strdup(redirect_uris[i]);
        a->n_redirect++;
        if (!a->redirect_uris[i]) {
            app_free(a);
            return RG_ERR_NOMEM;
        }
    }
    t->n_apps++;
    if (out)
        *out = a;
    return RG_OK;
}

rg_err rg_idp_secret_add(struct rg_idp_app *a, const struct rg_idp_secret *s, struct rg_msg *msg)
{
    rg_err e;

    if (strlen(s->hint) != 3)
        return rg_fail(msg, RG_ERR_INVALID, "app %s: secret hint must be 3 characters",
                       a->client_id);
    if (s->expires <= s->created)
        return rg_fail(msg, RG_ERR_INVALID, "app %s: secret expires before it was created",
                       a->client_id);
    for (size_t i = 0; i < a->n_secrets; i++)
        if (rg_idp_ieq(a->secrets[i].key_id, s->key_id))
            return rg_fail(msg, RG_ERR_EXISTS, "app %s: secret id %s listed twice",
                           a->client_id, s->key_id);
    if ((e = grow((void **)&a->secrets, a->n_secrets, sizeof *a->secrets, RG_IDP_MAX_SECRETS)))
        return rg_fail(msg, e, "app %s: at most %d client secrets", a->client_id,
                       RG_IDP_MAX_SECRETS);
    a->secrets[a->n_secrets++] = *s;
    return RG_OK;
}

rg_err rg_idp_user_add(struct rg_idp_tenant *t, const struct rg_idp_user *u,
                       struct rg_idp_user **out, struct rg_msg *msg)
{
    struct rg_idp_user *n;
    char oid[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (out)
        *out = NULL;
    if (rg_idp_guid_norm(u->oid, oid))
        return rg_fail(msg, RG_ERR_INVALID, "user object id is not a GUID");
    if ((e = rg_idp_check_upn(u->upn, msg)) ||
        (e = rg_idp_check_text("display name", u->display_name, RG_IDP_TEXT_MAX, msg)) ||
        (u->mail && (e = rg_idp_check_mail(u->mail, msg))) ||
        (u->given_name && (e = rg_idp_check_text("given name", u->given_name, 64, msg))) ||
        (u->surname && (e = rg_idp_check_text("surname", u->surname, 64, msg))))
        return e;
    if (!rg_idp_password_hash_ok(u->password_hash))
        return rg_fail(msg, RG_ERR_INVALID, "user %s: unusable password hash", u->upn);
    if (rg_idp_user_find_upn(t, u->upn))
        return rg_fail(msg, RG_ERR_EXISTS, "tenant %s already has a user %s", t->id, u->upn);
    if (rg_idp_user_find_oid(t, oid))
        return rg_fail(msg, RG_ERR_EXISTS, "tenant %s already has a user with object id %s",
                       t->id, oid);
    if ((e = grow((void **)&t->users, t->n_users, sizeof *t->users, RG_IDP_MAX_USERS)))
        return rg_fail(msg, e, "tenant %s: at most %d users", t->id, RG_IDP_MAX_USERS);
    n = &t->users[t->n_users];
    memcpy(n->oid, oid, sizeof oid);
    n->upn = strdup(u->upn);
    n->display_name = strdup(u->display_name);
    n->mail = dup_opt(u->mail);
    n->given_name = dup_opt(u->given_name);
    n->surname = dup_opt(u->surname);
    n->password_hash = strdup(u->password_hash);
    n->enabled = u->enabled;
    n->guest = u->guest;
    n->created = u->created;
    if (!n->upn || !n->display_name || (u->mail && !n->mail) ||
        (u->given_name && !n->given_name) || (u->surname && !n->surname) ||
        !n->password_hash) {
        user_free(n);
        memset(n, 0, sizeof *n);
        return RG_ERR_NOMEM;
    }
    t->n_users++;
    if (out)
        *out = n;
    return RG_OK;
}

rg_err rg_idp_consent_grant(struct rg_idp_tenant *t, const char *client_id,
                            const char *principal, const char *scopes, struct rg_msg *msg)
{
    struct rg_idp_consent *c;
    char *norm = NULL, *merged = NULL;
    rg_err e;

    if (!rg_idp_app_find(t, client_id))
        return rg_fail(msg, RG_ERR_NOTFOUND, "tenant %s has no app %s", t->id, client_id);
    if (strcmp(principal, RG_IDP_PRINCIPAL_ADMIN) != 0 && !rg_idp_user_find_oid(t, principal))
        return rg_fail(msg, RG_ERR_NOTFOUND, "tenant %s has no user %s", t->id, principal);
    if ((e = rg_idp_scopes_norm(scopes, &norm, msg)))
        return e;
    c = consent_find(t, client_id, principal);
    if (c) {
        /* union, kept canonical by normalising the concatenation */
        if (asprintf(&merged, "%s %s", c->scopes, norm) < 0) {
            free(norm);
            return RG_ERR_NOMEM;
        }
        free(norm);
        norm = NULL;
        e = rg_idp_scopes_norm(merged, &norm, msg);
        free(merged);
        if (e)
            return e;
        free(c->scopes);
        c->scopes = norm;
        return RG_OK;
    }
    if ((e = grow((void **)&t->consents, t->n_consents, sizeof *t->consents,
                  RG_IDP_MAX_CONSENTS))) {
        free(norm);
        return rg_fail(msg, e, "tenant %s: too many consent records", t->id);
    }
    c = &t->consents[t->n_consents];
    rg_idp_guid_norm(client_id, c->client_id);
    if (strcmp(principal, RG_IDP_PRINCIPAL_ADMIN) == 0)
        strcpy(c->principal, RG_IDP_PRINCIPAL_ADMIN);
    else
        rg_idp_guid_norm(principal, c->principal);
    c->scopes = norm;
    t->n_consents++;
    return RG_OK;
}

rg_err rg_idp_consent_revoke(struct rg_idp_tenant *t, const char *client_id,
                             const char *principal)
{
    struct rg_idp_consent *c = consent_find(t, client_id, principal);
    size_t i;

    if (!c)
        return RG_ERR_NOTFOUND;
    i = (size_t)(c - t->consents);
    free(c->scopes);
    memmove(&t->consents[i], &t->consents[i + 1], (t->n_consents - i - 1) * sizeof *c);
    t->n_consents--;
    return RG_OK;
}

/* ---- groups, roles, assignments, certificates ------------------------------------------- */

static const struct { const char *name; unsigned bit; } optional_claims[] = {
    {"email", RG_IDP_OC_EMAIL}, {"upn", RG_IDP_OC_UPN}, {"given_name", RG_IDP_OC_GIVEN_NAME},
    {"family_name", RG_IDP_OC_FAMILY_NAME}, {"acct", RG_IDP_OC_ACCT},
    {"auth_time", RG_IDP_OC_AUTH_TIME}, {"login_hint", RG_IDP_OC_LOGIN_HINT},
    {"ctry", RG_IDP_OC_CTRY}};

unsigned rg_idp_optional_claim_bit(const char *name)
{
    for (size_t i = 0; i < sizeof optional_claims / sizeof *optional_claims; i++)
        if (strcmp(name, optional_claims[i].name) == 0)
            return optional_claims[i].bit;
    return 0;
}

void rg_idp_optional_claims_names(unsigned bits, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof optional_claims / sizeof *optional_claims; i++)
        if (bits & optional_claims[i].bit) {
            int w = snprintf(out + n, outsz - n, "%s%s", n ? " " : "", optional_claims[i].name);
            if (w < 0 || (size_t)w >= outsz - n)
                return;
            n += (size_t)w;
        }
}

int rg_idp_platform_parse(const char *s)
{
    return !strcmp(s, "web") ? RG_IDP_PLATFORM_WEB
           : !strcmp(s, "spa") ? RG_IDP_PLATFORM_SPA
           : !strcmp(s, "public") ? RG_IDP_PLATFORM_PUBLIC
                                  : -1;
}

const char *rg_idp_platform_name(enum rg_idp_platform p)
{
    return p == RG_IDP_PLATFORM_SPA ? "spa" : p == RG_IDP_PLATFORM_PUBLIC ? "public" : "web";
}

int rg_idp_group_claims_parse(const char *s)
{
    static const char *const names[] = {"None", "SecurityGroup", "All", "ApplicationGroup"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *rg_idp_group_claims_name(enum rg_idp_group_claims gc)
{
    switch (gc) {
    case RG_IDP_GC_SECURITY: return "SecurityGroup";
    case RG_IDP_GC_ALL: return "All";
    case RG_IDP_GC_APPLICATION: return "ApplicationGroup";
    default: return "None";
    }
}

struct rg_idp_group *rg_idp_group_find(const struct rg_idp_tenant *t, const char *ref)
{
    for (size_t i = 0; ref && i < t->n_groups; i++)
        if (rg_idp_ieq(t->groups[i].id, ref) || strcmp(t->groups[i].display_name, ref) == 0)
            return &t->groups[i];
    return NULL;
}

rg_err rg_idp_group_add(struct rg_idp_tenant *t, const char *id, const char *display_name,
                        bool security, struct rg_idp_group **out, struct rg_msg *msg)
{
    struct rg_idp_group *g;
    char gid[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (out)
        *out = NULL;
    if (rg_idp_guid_norm(id, gid))
        return rg_fail(msg, RG_ERR_INVALID, "group id '%s' is not a GUID", id);
    if ((e = rg_idp_check_text("group display name", display_name, RG_IDP_TEXT_MAX, msg)))
        return e;
    if (rg_idp_group_find(t, gid) || rg_idp_group_find(t, display_name))
        return rg_fail(msg, RG_ERR_EXISTS, "tenant %s already has a group '%s' (or id %s)",
                       t->id, display_name, gid);
    if (rg_idp_user_find_oid(t, gid))
        return rg_fail(msg, RG_ERR_EXISTS, "object id %s is a user's", gid);
    if ((e = grow((void **)&t->groups, t->n_groups, sizeof *t->groups, RG_IDP_MAX_GROUPS)))
        return rg_fail(msg, e, "tenant %s: at most %d groups", t->id, RG_IDP_MAX_GROUPS);
    g = &t->groups[t->n_groups];
    memcpy(g->id, gid, sizeof gid);
    g->security = security;
    if (!(g->display_name = strdup(display_name)))
        return RG_ERR_NOMEM;
    t->n_groups++;
    if (out)
        *out = g;
    return RG_OK;
}

bool rg_idp_group_has(const struct rg_idp_group *g, const char *oid)
{
    for (size_t i = 0; i < g->n_members; i++)
        if (rg_idp_ieq(g->members[i], oid))
            return true;
    return false;
}

rg_err rg_idp_group_member_add(struct rg_idp_tenant *t, struct rg_idp_group *g,
                               const char *oid, struct rg_msg *msg)
{
    char id[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (rg_idp_guid_norm(oid, id) || !rg_idp_user_find_oid(t, id))
        return rg_fail(msg, RG_ERR_NOTFOUND, "group '%s': member %s is not a user of tenant %s",
                       g->display_name, oid, t->id);
    if (rg_idp_group_has(g, id))
        return rg_fail(msg, RG_ERR_EXISTS, "user %s is already a member of group '%s'", id,
                       g->display_name);
    if ((e = grow((void **)&g->members, g->n_members, sizeof *g->members, RG_IDP_MAX_MEMBERS)))
        return rg_fail(msg, e, "group '%s': at most %d members", g->display_name,
                       RG_IDP_MAX_MEMBERS);
    memcpy(g->members[g->n_members++], id, sizeof id);
    return RG_OK;
}

const struct rg_idp_app_role *rg_idp_role_find(const struct rg_idp_app *a, const char *ref)
{
    for (size_t i = 0; ref && i < a->n_roles; i++)
        if (rg_idp_ieq(a->roles[i].id, ref) || strcmp(a->roles[i].value, ref) == 0)
            return &a->roles[i];
    return NULL;
}

/* Entra: role values may not contain spaces and are at most 120 characters. */
rg_err rg_idp_role_add(struct rg_idp_app *a, const char *id, const char *value,
                       const char *display_name, struct rg_msg *msg)
{
    struct rg_idp_app_role *r;
    char rid[RG_IDP_GUID_LEN + 1];
    size_t n = strlen(value);
    rg_err e;

    if (rg_idp_guid_norm(id, rid) || strcmp(rid, RG_IDP_NIL_GUID) == 0)
        return rg_fail(msg, RG_ERR_INVALID, "role id '%s' is not a usable GUID", id);
    if (n == 0 || n > 120)
        return rg_fail(msg, RG_ERR_INVALID, "role value must be 1-120 characters");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] <= 0x20 || (unsigned char)value[i] >= 0x7f)
            return rg_fail(msg, RG_ERR_INVALID,
                           "role value '%s': only printable ASCII without spaces", value);
    if ((e = rg_idp_check_text("role display name", display_name, RG_IDP_TEXT_MAX, msg)))
        return e;
    if (rg_idp_role_find(a, rid) || rg_idp_role_find(a, value))
        return rg_fail(msg, RG_ERR_EXISTS, "app %s already has a role '%s'", a->client_id,
                       value);
    if ((e = grow((void **)&a->roles, a->n_roles, sizeof *a->roles, RG_IDP_MAX_ROLES)))
        return rg_fail(msg, e, "app %s: at most %d roles", a->client_id, RG_IDP_MAX_ROLES);
    r = &a->roles[a->n_roles];
    memcpy(r->id, rid, sizeof rid);
    r->value = strdup(value);
    r->display_name = strdup(display_name);
    if (!r->value || !r->display_name) {
        free(r->value);
        free(r->display_name);
        return RG_ERR_NOMEM;
    }
    a->n_roles++;
    return RG_OK;
}

rg_err rg_idp_assign(struct rg_idp_tenant *t, const char *client_id, const char *principal,
                     const char *role_id, struct rg_msg *msg)
{
    struct rg_idp_assignment *as;
    const struct rg_idp_app *a = rg_idp_app_find(t, client_id);
    char pr[RG_IDP_GUID_LEN + 1], role[RG_IDP_GUID_LEN + 1];
    rg_err e;

    if (!a)
        return rg_fail(msg, RG_ERR_NOTFOUND, "tenant %s has no app %s", t->id, client_id);
    if (rg_idp_guid_norm(principal, pr) ||
        (!rg_idp_user_find_oid(t, pr) && !rg_idp_group_find(t, pr)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "%s is not a user or group of tenant %s",
                       principal, t->id);
    if (rg_idp_guid_norm(role_id, role) ||
        (strcmp(role, RG_IDP_NIL_GUID) != 0 && !rg_idp_role_find(a, role)))
        return rg_fail(msg, RG_ERR_NOTFOUND, "app %s has no role %s", a->client_id, role_id);
    for (size_t i = 0; i < t->n_assignments; i++)
        if (!strcmp(t->assignments[i].client_id, a->client_id) &&
            !strcmp(t->assignments[i].principal, pr) && !strcmp(t->assignments[i].role_id, role))
            return rg_fail(msg, RG_ERR_EXISTS, "%s is already assigned to app %s with that role",
                           pr, a->client_id);
    if ((e = grow((void **)&t->assignments, t->n_assignments, sizeof *t->assignments,
                  RG_IDP_MAX_ASSIGNMENTS)))
        return rg_fail(msg, e, "tenant %s: too many assignments", t->id);
    as = &t->assignments[t->n_assignments++];
    memcpy(as->client_id, a->client_id, sizeof as->client_id);
    memcpy(as->principal, pr, sizeof pr);
    memcpy(as->role_id, role, sizeof role);
    return RG_OK;
}

bool rg_idp_user_assigned(const struct rg_idp_tenant *t, const char *client_id,
                          const char *oid)
{
    for (size_t i = 0; i < t->n_assignments; i++) {
        const struct rg_idp_assignment *as = &t->assignments[i];
        const struct rg_idp_group *g;
        if (strcmp(as->client_id, client_id) != 0)
            continue;
        if (rg_idp_ieq(as->principal, oid))
            return true;
        g = rg_idp_group_find(t, as->principal);
        if (g && rg_idp_group_has(g, oid))
            return true;
    }
    return false;
}

rg_err rg_idp_cert_add(struct rg_idp_app *a, const char *x5c, const char *x5t,
                       const char *x5t256, int64_t created, int64_t not_after,
                       struct rg_msg *msg)
{
    struct rg_idp_cert *c;
    rg_err e;

    if (strlen(x5t) != RG_IDP_KID_LEN || strlen(x5t256) != 43)
        return rg_fail(msg, RG_ERR_INVALID, "app %s: certificate thumbprints are malformed",
                       a->client_id);
    for (size_t i = 0; i < a->n_certs; i++)
        if (strcmp(a->certs[i].x5t, x5t) == 0)
            return rg_fail(msg, RG_ERR_EXISTS, "app %s already has certificate %s",
                           a->client_id, x5t);
    if ((e = grow((void **)&a->certs, a->n_certs, sizeof *a->certs, RG_IDP_MAX_CERTS)))
        return rg_fail(msg, e, "app %s: at most %d certificates", a->client_id,
                       RG_IDP_MAX_CERTS);
    c = &a->certs[a->n_certs];
    memcpy(c->x5t, x5t, RG_IDP_KID_LEN + 1);
    memcpy(c->x5t256, x5t256, 44);
    c->created = created;
    c->not_after = not_after;
    if (!(c->x5c = strdup(x5c)))
        return RG_ERR_NOMEM;
    a->n_certs++;
    return RG_OK;
}
