/* jwk.c — JWK import/export on OpenSSL 3 EVP (see jwk.h for the contract).
 *
 * Keys are built with EVP_PKEY_fromdata from the decoded members, never via PEM/DER text
 * parsing, so a JWK can only ever produce the public key type its `kty` names. */
#include "jose/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/log.h"
#include "base/mem.h"

/* RSA moduli below 2048 bits are refused (NIST SP 800-131A); 8192 bits bounds the work a
 * hostile key set can make us do. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BYTES 1024
#define RSA_E_MAX_BYTES 8

/* Members that only a private or symmetric key carries (RFC 7518 §6.2.2, §6.3.2, §6.4;
 * RFC 8037 §2). Their presence means someone published a secret: refuse the key. */
static const char *const PRIVATE_MEMBERS[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL};

struct curve {
    const char *jwk_name;   /* "P-256" */
    const char *ossl_name;  /* "prime256v1" */
    size_t coord_len;       /* bytes per coordinate */
};

static const struct curve CURVES[] = {
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
};

static const struct curve *curve_by_jwk(const char *name)
{
    for (size_t i = 0; i < sizeof CURVES / sizeof *CURVES; i++)
        if (strcmp(CURVES[i].jwk_name, name) == 0)
            return &CURVES[i];
    return NULL;
}

static const struct curve *curve_by_ossl(const char *name)
{
    for (size_t i = 0; i < sizeof CURVES / sizeof *CURVES; i++)
        if (strcmp(CURVES[i].ossl_name, name) == 0 || strcmp(CURVES[i].jwk_name, name) == 0)
            return &CURVES[i];
    return NULL;
}

/* Algorithms a key of this type may carry in its own `alg` member. */
static int alg_fits_kty(enum rg_jwk_kty kty, const char *crv, const char *alg)
{
    switch (kty) {
    case RG_KTY_RSA:
        return strcmp(alg, "RS256") == 0 || strcmp(alg, "RS384") == 0 ||
               strcmp(alg, "RS512") == 0 || strcmp(alg, "PS256") == 0 ||
               strcmp(alg, "PS384") == 0 || strcmp(alg, "PS512") == 0;
    case RG_KTY_EC:
        return (strcmp(alg, "ES256") == 0 && strcmp(crv, "P-256") == 0) ||
               (strcmp(alg, "ES384") == 0 && strcmp(crv, "P-384") == 0) ||
               (strcmp(alg, "ES512") == 0 && strcmp(crv, "P-521") == 0);
    case RG_KTY_OKP:
        return strcmp(alg, "EdDSA") == 0;
    case RG_KTY_OCT:
        return 0;
    }
    return 0;
}

/* Decodes a required base64url string member. */
static rg_err get_b64(const json_t *obj, const char *name, size_t maxlen, unsigned char **out,
                      size_t *outlen, struct rg_msg *msg)
{
    const json_t *v = json_object_get(obj, name);
    const char *s;
    size_t len;

    *out = NULL;
    if (!json_is_string(v))
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' missing or not a string", name);
    s = json_string_value(v);
    len = json_string_length(v);
    if (len == 0 || len > (maxlen / 3 + 1) * 4)
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' has a bad length", name);
    if (rg_b64url_decode(s, len, out, outlen) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' is not base64url", name);
    if (*outlen == 0 || *outlen > maxlen) {
        free(*out);
        *out = NULL;
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' has a bad length", name);
    }
    return RG_OK;
}

/* Copies an optional string member into dst (size dstsz); absent -> "". */
static rg_err get_opt_str(const json_t *obj, const char *name, char *dst, size_t dstsz,
                          struct rg_msg *msg)
{
    const json_t *v = json_object_get(obj, name);
    size_t len;

    dst[0] = '\0';
    if (!v)
        return RG_OK;
    if (!json_is_string(v))
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' is not a string", name);
    len = json_string_length(v);
    if (len >= dstsz || strlen(json_string_value(v)) != len)
        return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' is too long", name);
    /* these values end up in log lines: no control characters */
    for (const unsigned char *c = (const unsigned char *)json_string_value(v); *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return rg_fail(msg, RG_ERR_INVALID, "JWK member '%s' has control characters", name);
    memcpy(dst, json_string_value(v), len + 1);
    return RG_OK;
}

static rg_err pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out,
                               struct rg_msg *msg)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = NULL;
    rg_err e = RG_OK;

    *out = NULL;
    if (!params) {
        e = rg_fail(msg, RG_ERR_NOMEM, "cannot build key parameters");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0 || !*out) {
        e = rg_fail(msg, RG_ERR_INVALID, "OpenSSL refused the %s public key", type);
        goto out;
    }
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return e;
}

static rg_err import_rsa(const json_t *obj, EVP_PKEY **out, struct rg_msg *msg)
{
    unsigned char *n = NULL, *e_raw = NULL;
    size_t nlen, elen;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    rg_err e;

    e = get_b64(obj, "n", RSA_MAX_BYTES + 1, &n, &nlen, msg);
    if (e)
        goto out;
    e = get_b64(obj, "e", RSA_E_MAX_BYTES, &e_raw, &elen, msg);
    if (e)
        goto out;
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e_raw, (int)elen, NULL);
    if (!bn_n || !bn_e) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (BN_num_bits(bn_n) < RSA_MIN_BITS || BN_num_bytes(bn_n) > RSA_MAX_BYTES) {
        e = rg_fail(msg, RG_ERR_INVALID, "RSA modulus of %d bits refused (%d..%d)",
                    BN_num_bits(bn_n), RSA_MIN_BITS, RSA_MAX_BYTES * 8);
        goto out;
    }
    if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        e = rg_fail(msg, RG_ERR_INVALID, "RSA exponent refused");
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = pkey_from_params("RSA", bld, out, msg);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e_raw);
    return e;
}

static rg_err import_ec(const json_t *obj, const char *crv, EVP_PKEY **out, struct rg_msg *msg)
{
    const struct curve *c = curve_by_jwk(crv);
    unsigned char *x = NULL, *y = NULL, point[1 + 2 * 66];
    size_t xlen, ylen;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY_CTX *chk = NULL;
    rg_err e;

    if (!c)
        return rg_fail(msg, RG_ERR_INVALID, "EC curve '%s' not supported", crv);
    e = get_b64(obj, "x", c->coord_len, &x, &xlen, msg);
    if (e)
        goto out;
    e = get_b64(obj, "y", c->coord_len, &y, &ylen, msg);
    if (e)
        goto out;
    /* RFC 7518 §6.2.1.2: coordinates are exactly the field size, zero-padded */
    if (xlen != c->coord_len || ylen != c->coord_len) {
        e = rg_fail(msg, RG_ERR_INVALID, "EC coordinates must be %zu bytes for %s",
                    c->coord_len, crv);
        goto out;
    }
    point[0] = 0x04;
    memcpy(point + 1, x, xlen);
    memcpy(point + 1 + xlen, y, ylen);
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl_name, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                          1 + 2 * c->coord_len)) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = pkey_from_params("EC", bld, out, msg);
    if (e)
        goto out;
    /* the point must lie on the curve (invalid-curve attacks) */
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
    if (!chk || EVP_PKEY_public_check(chk) != 1) {
        EVP_PKEY_free(*out);
        *out = NULL;
        e = rg_fail(msg, RG_ERR_INVALID, "EC public key is not a valid %s point", crv);
    }
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(chk);
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return e;
}

static rg_err import_okp(const json_t *obj, const char *crv, EVP_PKEY **out, struct rg_msg *msg)
{
    unsigned char *x = NULL;
    size_t xlen;
    OSSL_PARAM_BLD *bld = NULL;
    rg_err e;

    if (strcmp(crv, "Ed25519") != 0)
        return rg_fail(msg, RG_ERR_INVALID, "OKP curve '%s' not supported", crv);
    e = get_b64(obj, "x", 32, &x, &xlen, msg);
    if (e)
        goto out;
    if (xlen != 32) {
        e = rg_fail(msg, RG_ERR_INVALID, "Ed25519 public key must be 32 bytes");
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x, xlen)) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = pkey_from_params("ED25519", bld, out, msg);
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    return e;
}

rg_err rg_jwk_from_json(const json_t *obj, struct rg_jwk *out, struct rg_msg *msg)
{
    const json_t *kty_j, *use_j, *ops_j;
    const char *kty;
    rg_err e;

    memset(out, 0, sizeof *out);
    if (!json_is_object(obj))
        return rg_fail(msg, RG_ERR_INVALID, "JWK is not a JSON object");
    for (size_t i = 0; PRIVATE_MEMBERS[i]; i++)
        if (json_object_get(obj, PRIVATE_MEMBERS[i]))
            return rg_fail(msg, RG_ERR_INVALID,
                           "JWK carries private or secret member '%s'; refused",
                           PRIVATE_MEMBERS[i]);
    e = get_opt_str(obj, "kid", out->kid, sizeof out->kid, msg);
    if (e)
        return e;
    e = get_opt_str(obj, "alg", out->alg, sizeof out->alg, msg);
    if (e)
        return e;
    e = get_opt_str(obj, "crv", out->crv, sizeof out->crv, msg);
    if (e)
        return e;

    use_j = json_object_get(obj, "use");
    if (use_j && (!json_is_string(use_j) || strcmp(json_string_value(use_j), "sig") != 0))
        return rg_fail(msg, RG_ERR_INVALID, "JWK '%s' is not for signatures (use '%s')",
                       out->kid, json_is_string(use_j) ? json_string_value(use_j) : "?");
    /* RFC 7517 §4.3: if key_ops is given it must allow verification */
    ops_j = json_object_get(obj, "key_ops");
    if (ops_j) {
        int ok = 0;
        size_t i;
        json_t *op;
        if (!json_is_array(ops_j))
            return rg_fail(msg, RG_ERR_INVALID, "JWK key_ops is not an array");
        json_array_foreach(ops_j, i, op)
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                ok = 1;
        if (!ok)
            return rg_fail(msg, RG_ERR_INVALID, "JWK '%s' key_ops does not allow verify",
                           out->kid);
    }

    kty_j = json_object_get(obj, "kty");
    if (!json_is_string(kty_j))
        return rg_fail(msg, RG_ERR_INVALID, "JWK has no kty");
    kty = json_string_value(kty_j);
    if (strcmp(kty, "RSA") == 0) {
        out->kty = RG_KTY_RSA;
        out->crv[0] = '\0';
        e = import_rsa(obj, &out->pkey, msg);
    } else if (strcmp(kty, "EC") == 0) {
        out->kty = RG_KTY_EC;
        e = import_ec(obj, out->crv, &out->pkey, msg);
    } else if (strcmp(kty, "OKP") == 0) {
        out->kty = RG_KTY_OKP;
        e = import_okp(obj, out->crv, &out->pkey, msg);
    } else {
        /* "oct" keys are secrets and never belong in a published key set */
        return rg_fail(msg, RG_ERR_INVALID, "JWK kty '%.16s' not supported", kty);
    }
    if (e)
        return e;
    if (out->alg[0] && !alg_fits_kty(out->kty, out->crv, out->alg)) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWK '%s' alg '%s' does not fit kty %s", out->kid,
                    out->alg, kty);
        rg_jwk_clear(out);
        return e;
    }
    return RG_OK;
}

void rg_jwk_clear(struct rg_jwk *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

rg_err rg_jwks_parse(const char *text, size_t len, struct rg_jwks *out, struct rg_msg *msg)
{
    json_t *doc = NULL, *keys, *item;
    json_error_t jerr;
    size_t i;
    rg_err e = RG_OK;

    memset(out, 0, sizeof *out);
    if (len > RG_JWKS_MAX_LEN)
        return rg_fail(msg, RG_ERR_LIMIT, "JWKS larger than %d bytes", RG_JWKS_MAX_LEN);
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWKS is not JSON (line %d: %s)", jerr.line, jerr.text);
        goto out;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWKS has no 'keys' array");
        goto out;
    }
    json_array_foreach(keys, i, item) {
        struct rg_msg why;
        struct rg_jwk k;
        if (out->n == RG_JWKS_MAX_KEYS) {
            out->skipped += json_array_size(keys) - i;
            rg_warn("JWKS: more than %d keys, the rest ignored", RG_JWKS_MAX_KEYS);
            break;
        }
        why.text[0] = '\0';
        if (rg_jwk_from_json(item, &k, &why) != RG_OK) {
            out->skipped++;
            rg_debug("JWKS: key %zu skipped: %s", i, why.text);
            continue;
        }
        /* a repeated kid would make key selection ambiguous: the first one wins */
        if (k.kid[0] && rg_jwks_find(out, k.kid)) {
            out->skipped++;
            rg_warn("JWKS: duplicate kid '%s' skipped", k.kid);
            rg_jwk_clear(&k);
            continue;
        }
        out->keys[out->n++] = k;
    }
    if (out->n == 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWKS has no usable signing key (%zu skipped)",
                    out->skipped);
        goto out;
    }
out:
    json_decref(doc);
    if (e)
        rg_jwks_free(out);
    return e;
}

void rg_jwks_free(struct rg_jwks *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        rg_jwk_clear(&set->keys[i]);
    set->n = 0;
    set->skipped = 0;
}

const struct rg_jwk *rg_jwks_find(const struct rg_jwks *set, const char *kid)
{
    if (!set || !kid || !kid[0])
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->keys[i].kid, kid) == 0)
            return &set->keys[i];
    return NULL;
}

/* ---- export ---- */

static char *bn_param_b64(EVP_PKEY *pkey, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[RSA_MAX_BYTES * 2];
    char *s = NULL;
    int len;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
        goto out;
    len = pad ? (int)pad : BN_num_bytes(bn);
    if (len <= 0 || (size_t)len > sizeof buf)
        goto out;
    if (BN_bn2binpad(bn, buf, len) != len)
        goto out;
    s = rg_b64url_encode(buf, (size_t)len);
out:
    BN_free(bn);
    return s;
}

/* The public members of pkey: kty and (n, e) / (crv, x, y) / (crv, x) as base64url. */
struct pubparts {
    const char *kty;
    const char *crv;
    char *a;   /* n or x */
    char *b;   /* e or y; NULL for OKP */
};

static void pubparts_free(struct pubparts *p)
{
    free(p->a);
    free(p->b);
    memset(p, 0, sizeof *p);
}

static int pubparts_get(EVP_PKEY *pkey, struct pubparts *p)
{
    memset(p, 0, sizeof *p);
    if (!pkey)
        return 0;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        p->kty = "RSA";
        p->a = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        p->b = bn_param_b64(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        const struct curve *c;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof group, NULL))
            goto fail;
        c = curve_by_ossl(group);
        if (!c)
            goto fail;
        p->kty = "EC";
        p->crv = c->jwk_name;
        p->a = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_X, c->coord_len);
        p->b = bn_param_b64(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, c->coord_len);
    } else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        unsigned char raw[32];
        size_t rawlen = sizeof raw;
        if (!EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) || rawlen != 32)
            goto fail;
        p->kty = "OKP";
        p->crv = "Ed25519";
        p->a = rg_b64url_encode(raw, rawlen);
        if (!p->a)
            goto fail;
        ERR_clear_error();
        return 1;
    } else {
        goto fail;
    }
    if (!p->a || !p->b)
        goto fail;
    ERR_clear_error();
    return 1;
fail:
    ERR_clear_error();
    pubparts_free(p);
    return 0;
}

json_t *rg_jwk_public_json(EVP_PKEY *pkey, const char *kid, const char *x5t)
{
    struct pubparts p;
    json_t *o;
    int bad = 0;

    if (!pubparts_get(pkey, &p))
        return NULL;
    o = json_object();
    if (!o)
        goto out;
    bad |= json_object_set_new(o, "kty", json_string(p.kty));
    bad |= json_object_set_new(o, "use", json_string("sig"));
    if (kid)
        bad |= json_object_set_new(o, "kid", json_string(kid));
    if (x5t)
        bad |= json_object_set_new(o, "x5t", json_string(x5t));
    if (strcmp(p.kty, "RSA") == 0) {
        bad |= json_object_set_new(o, "n", json_string(p.a));
        bad |= json_object_set_new(o, "e", json_string(p.b));
    } else {
        bad |= json_object_set_new(o, "crv", json_string(p.crv));
        bad |= json_object_set_new(o, "x", json_string(p.a));
        if (p.b)
            bad |= json_object_set_new(o, "y", json_string(p.b));
    }
    if (bad) {
        json_decref(o);
        o = NULL;
    }
out:
    pubparts_free(&p);
    return o;
}

char *rg_jwk_thumbprint(EVP_PKEY *pkey)
{
    struct pubparts p;
    char *canon = NULL, *res = NULL;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int n;

    if (!pubparts_get(pkey, &p))
        return NULL;
    /* RFC 7638 §3.2: required members only, lexicographic order, no whitespace */
    if (strcmp(p.kty, "RSA") == 0)
        n = asprintf(&canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", p.b, p.a);
    else if (strcmp(p.kty, "EC") == 0)
        n = asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", p.crv,
                     p.a, p.b);
    else
        n = asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}", p.crv, p.a);
    if (n < 0) {
        canon = NULL;
        goto out;
    }
    if (!EVP_Digest(canon, (size_t)n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        goto out;
    res = rg_b64url_encode(md, mdlen);
out:
    free(canon);
    pubparts_free(&p);
    return res;
}
