/* idtoken.c — ID token claim checks (see idtoken.h). */
#include "oidc/idtoken.h"

#include <stdio.h>
#include <string.h>

#include "base/mem.h"

/* A token value made safe for a message: at most 128 characters, no control bytes. */
static void shown(const char *s, char out[132])
{
    size_t i = 0;
    for (; s && s[i] && i < 128; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    out[i] = '\0';
    if (s && s[i])
        memcpy(out + i, "...", 4);
}

static int in_list(const char *v, const char *const *list)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], v) == 0)
            return 1;
    return 0;
}

static rg_err check_aud(const json_t *claims, const struct rg_idtoken_expect *x,
                        struct rg_msg *msg)
{
    const json_t *aud = json_object_get(claims, "aud"), *azp = json_object_get(claims, "azp");
    char a[132];
    int found = 0;

    if (json_is_string(aud)) {
        if (strcmp(json_string_value(aud), x->client_id) != 0) {
            shown(json_string_value(aud), a);
            return rg_fail(msg, RG_ERR_AUTH, "aud mismatch: expected '%s', got '%s'",
                           x->client_id, a);
        }
        found = 1;
    } else if (json_is_array(aud) && json_array_size(aud) > 0) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) {
            if (!json_is_string(v))
                return rg_fail(msg, RG_ERR_AUTH, "aud array holds a non-string value");
            if (strcmp(json_string_value(v), x->client_id) == 0) {
                found = 1;
                continue;
            }
            if (!in_list(json_string_value(v), x->audiences)) {
                shown(json_string_value(v), a);
                return rg_fail(msg, RG_ERR_AUTH,
                               "aud contains untrusted audience '%s' (client_id '%s')", a,
                               x->client_id);
            }
        }
        if (!found)
            return rg_fail(msg, RG_ERR_AUTH, "aud mismatch: '%s' not among %zu audiences",
                           x->client_id, json_array_size(aud));
    } else {
        return rg_fail(msg, RG_ERR_AUTH, "aud missing or not a string/array");
    }
    if (azp) {
        if (!json_is_string(azp))
            return rg_fail(msg, RG_ERR_AUTH, "azp is not a string");
        if (strcmp(json_string_value(azp), x->client_id) != 0) {
            shown(json_string_value(azp), a);
            return rg_fail(msg, RG_ERR_AUTH, "azp mismatch: expected '%s', got '%s'",
                           x->client_id, a);
        }
    }
    return RG_OK;
}

/* NumericDate claim as a double; returns 0 when absent, -1 when of the wrong type. */
static int get_time(const json_t *claims, const char *name, double *out)
{
    const json_t *v = json_object_get(claims, name);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return 1;
}

rg_err rg_idtoken_check(const json_t *claims, const struct rg_idtoken_expect *x,
                        struct rg_msg *msg)
{
    const json_t *iss, *sub, *nonce;
    double exp, nbf, iat, now;
    int leeway, r;
    char got[132];
    rg_err e;

    if (!json_is_object(claims) || !x || !x->issuer || !x->client_id || !x->nonce)
        return rg_fail(msg, RG_ERR_INVALID, "ID token check called without claims or expectations");
    leeway = x->leeway < 0 ? RG_IDTOKEN_LEEWAY_DEFAULT : x->leeway;
    now = (double)x->now;

    iss = json_object_get(claims, "iss");
    if (!json_is_string(iss))
        return rg_fail(msg, RG_ERR_AUTH, "iss missing or not a string (expected '%s')",
                       x->issuer);
    if (strcmp(json_string_value(iss), x->issuer) != 0 ||
        strlen(json_string_value(iss)) != json_string_length(iss)) {
        shown(json_string_value(iss), got);
        return rg_fail(msg, RG_ERR_AUTH, "iss mismatch: expected '%s', got '%s'", x->issuer, got);
    }

    e = check_aud(claims, x, msg);
    if (e)
        return e;

    r = get_time(claims, "exp", &exp);
    if (r <= 0)
        return rg_fail(msg, RG_ERR_AUTH, "exp %s", r ? "is not a number" : "missing");
    if (!(now < exp + leeway))
        return rg_fail(msg, RG_ERR_AUTH, "token expired: exp %.0f, now %.0f (leeway %d s)", exp,
                       now, leeway);

    r = get_time(claims, "nbf", &nbf);
    if (r < 0)
        return rg_fail(msg, RG_ERR_AUTH, "nbf is not a number");
    if (r > 0 && !(now >= nbf - leeway))
        return rg_fail(msg, RG_ERR_AUTH, "token not yet valid: nbf %.0f, now %.0f (leeway %d s)",
                       nbf, now, leeway);

    r = get_time(claims, "iat", &iat);
    if (r <= 0)
        return rg_fail(msg, RG_ERR_AUTH, "iat %s", r ? "is not a number" : "missing");
    if (iat > now + leeway)
        return rg_fail(msg, RG_ERR_AUTH, "iat in the future: iat %.0f, now %.0f (leeway %d s)",
                       iat, now, leeway);
    if (x->max_iat_age > 0 && iat < now - (double)x->max_iat_age - leeway)
        return rg_fail(msg, RG_ERR_AUTH, "iat too old: iat %.0f, now %.0f (max age %ld s)", iat,
                       now, x->max_iat_age);

    sub = json_object_get(claims, "sub");
    if (!json_is_string(sub) || json_string_length(sub) == 0)
        return rg_fail(msg, RG_ERR_AUTH, "sub missing, empty or not a string");
    if (json_string_length(sub) > RG_IDTOKEN_SUB_MAX)
        return rg_fail(msg, RG_ERR_AUTH, "sub longer than %d characters (%zu)",
                       RG_IDTOKEN_SUB_MAX, json_string_length(sub));
    for (size_t i = 0; i < json_string_length(sub); i++) {
        unsigned char c = (unsigned char)json_string_value(sub)[i];
        if (c < 0x20 || c > 0x7e)
            return rg_fail(msg, RG_ERR_AUTH, "sub contains a non-printable or non-ASCII byte");
    }

    nonce = json_object_get(claims, "nonce");
    if (!nonce)
        return rg_fail(msg, RG_ERR_AUTH, "nonce missing from the ID token");
    if (!json_is_string(nonce))
        return rg_fail(msg, RG_ERR_AUTH, "nonce is not a string");
    if (!rg_ct_eq(json_string_value(nonce), json_string_length(nonce), x->nonce,
                  strlen(x->nonce)))
        return rg_fail(msg, RG_ERR_AUTH, "nonce mismatch (not the nonce of this login)");
    return RG_OK;
}
