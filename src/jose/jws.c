/* jws.c — JWS compact serialization on OpenSSL 3 EVP (see jws.h for the contract).
 *
 * The algorithm is looked up in one table that ties it to a key type, digest and padding;
 * nothing about how to verify is taken from the key or the token beyond that lookup, so a
 * token cannot make an RSA public key act as an HMAC secret (key confusion) or pick "none". */
#include "jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

enum alg_kind { K_RSA_PKCS1, K_RSA_PSS, K_ECDSA, K_EDDSA, K_HMAC };

struct alg_info {
    const char *name;
    enum alg_kind kind;
    const char *md;        /* digest name; NULL for EdDSA */
    const char *crv;       /* JWK curve for ECDSA */
    size_t coord_len;      /* ECDSA: bytes of R and of S */
};

static const struct alg_info ALGS[] = {
    {"RS256", K_RSA_PKCS1, "SHA256", NULL, 0},
    {"RS384", K_RSA_PKCS1, "SHA384", NULL, 0},
    {"RS512", K_RSA_PKCS1, "SHA512", NULL, 0},
    {"PS256", K_RSA_PSS, "SHA256", NULL, 0},
    {"PS384", K_RSA_PSS, "SHA384", NULL, 0},
    {"PS512", K_RSA_PSS, "SHA512", NULL, 0},
    {"ES256", K_ECDSA, "SHA256", "P-256", 32},
    {"ES384", K_ECDSA, "SHA384", "P-384", 48},
    {"ES512", K_ECDSA, "SHA512", "P-521", 66},
    {"EdDSA", K_EDDSA, NULL, "Ed25519", 0},
    {"HS256", K_HMAC, "SHA256", NULL, 32},
    {"HS384", K_HMAC, "SHA384", NULL, 48},
    {"HS512", K_HMAC, "SHA512", NULL, 64},
};

static const struct alg_info *alg_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof ALGS / sizeof *ALGS; i++)
        if (strcmp(ALGS[i].name, name) == 0)
            return &ALGS[i];
    return NULL;
}

static int has_ctl(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 1;
    return 0;
}

/* Decodes one base64url segment that must hold a JSON object. */
static rg_err decode_json_segment(const char *seg, size_t len, const char *what, json_t **out,
                                  struct rg_msg *msg)
{
    unsigned char *raw = NULL;
    size_t rawlen;
    json_error_t jerr;

    *out = NULL;
    if (len == 0)
        return rg_fail(msg, RG_ERR_INVALID, "JWS %s is empty", what);
    if (rg_b64url_decode(seg, len, &raw, &rawlen) != RG_OK)
        return rg_fail(msg, RG_ERR_INVALID, "JWS %s is not base64url", what);
    /* duplicate member names must be refused (RFC 7515 §5.2 step 4, RFC 8725 §3.11) */
    *out = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!*out)
        /* jansson quotes the offending text; a token is not logged, not even in part */
        return rg_fail(msg, RG_ERR_INVALID, "JWS %s is not JSON (at position %d)", what,
                       jerr.position);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return rg_fail(msg, RG_ERR_INVALID, "JWS %s is not a JSON object", what);
    }
    return RG_OK;
}

rg_err rg_jws_parse(const char *compact, size_t len, struct rg_jws *out, struct rg_msg *msg)
{
    const char *d1, *d2;
    size_t dots = 0;
    const json_t *alg, *kid;
    rg_err e;

    memset(out, 0, sizeof *out);
    if (!compact || len == 0)
        return rg_fail(msg, RG_ERR_INVALID, "empty JWS");
    if (len > RG_JWS_MAX_LEN)
        return rg_fail(msg, RG_ERR_LIMIT, "JWS of %zu bytes exceeds the limit of %d", len,
                       RG_JWS_MAX_LEN);
    if (memchr(compact, '\0', len))
        return rg_fail(msg, RG_ERR_INVALID, "JWS contains a NUL byte");
    for (size_t i = 0; i < len; i++)
        if (compact[i] == '.')
            dots++;
    if (dots == 4)
        return rg_fail(msg, RG_ERR_INVALID, "token is a JWE (encrypted); not supported");
    if (dots != 2)
        return rg_fail(msg, RG_ERR_INVALID, "JWS must have 3 segments, has %zu", dots + 1);
    d1 = memchr(compact, '.', len);
    d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact));

    e = decode_json_segment(compact, (size_t)(d1 - compact), "header", &out->header, msg);
    if (e)
        goto out;
    alg = json_object_get(out->header, "alg");
    if (!json_is_string(alg) || json_string_length(alg) == 0 ||
        json_string_length(alg) >= sizeof out->alg || has_ctl(json_string_value(alg))) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWS header has no usable 'alg'");
        goto out;
    }
    memcpy(out->alg, json_string_value(alg), json_string_length(alg) + 1);
    kid = json_object_get(out->header, "kid");
    if (kid) {
        if (!json_is_string(kid) || json_string_length(kid) > RG_JWK_KID_MAX ||
            strlen(json_string_value(kid)) != json_string_length(kid) ||
            has_ctl(json_string_value(kid))) {
            e = rg_fail(msg, RG_ERR_INVALID, "JWS header 'kid' is not a usable string");
            goto out;
        }
        memcpy(out->kid, json_string_value(kid), json_string_length(kid) + 1);
    }
    e = decode_json_segment(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &out->payload, msg);
    if (e)
        goto out;
    if ((size_t)(compact + len - d2 - 1) == 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWS has an empty signature (alg '%s')", out->alg);
        goto out;
    }
    if (rg_b64url_decode(d2 + 1, (size_t)(compact + len - d2 - 1), &out->sig, &out->sig_len)) {
        e = rg_fail(msg, RG_ERR_INVALID, "JWS signature is not base64url");
        goto out;
    }
    out->signing_input_len = (size_t)(d2 - compact);
    out->signing_input = malloc(out->signing_input_len + 1);
    if (!out->signing_input) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(out->signing_input, compact, out->signing_input_len);
    out->signing_input[out->signing_input_len] = '\0';
out:
    if (e)
        rg_jws_free(out);
    return e;
}

void rg_jws_free(struct rg_jws *jws)
{
    if (!jws)
        return;
    json_decref(jws->header);
    json_decref(jws->payload);
    free(jws->signing_input);
    free(jws->sig);
    memset(jws, 0, sizeof *jws);
}

/* Does this key type (and curve) fit the algorithm? */
static int key_fits(const struct alg_info *a, const struct rg_jwk *k)
{
    switch (a->kind) {
    case K_RSA_PKCS1:
    case K_RSA_PSS:
        return k->kty == RG_KTY_RSA;
    case K_ECDSA:
        return k->kty == RG_KTY_EC && strcmp(k->crv, a->crv) == 0;
    case K_EDDSA:
        return k->kty == RG_KTY_OKP && strcmp(k->crv, a->crv) == 0;
    case K_HMAC:
        return 0;
    }
    return 0;
}

/* JOSE ECDSA signatures are R||S, each exactly coord_len bytes (RFC 7518 §3.4);
 * OpenSSL wants DER. */
static rg_err ecdsa_raw_to_der(const unsigned char *raw, size_t rawlen, size_t coord_len,
                               unsigned char **der, size_t *derlen)
{
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *p = NULL;
    int n;
    rg_err e = RG_ERR_AUTH;

    *der = NULL;
    if (rawlen != 2 * coord_len)
        return RG_ERR_AUTH;
    r = BN_bin2bn(raw, (int)coord_len, NULL);
    s = BN_bin2bn(raw + coord_len, (int)coord_len, NULL);
    es = ECDSA_SIG_new();
    if (!r || !s || !es || !ECDSA_SIG_set0(es, r, s)) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    r = s = NULL; /* owned by es now */
    n = i2d_ECDSA_SIG(es, &p);
    if (n <= 0) {
        e = RG_ERR_CRYPTO;
        goto out;
    }
    *der = p;
    *derlen = (size_t)n;
    e = RG_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return e;
}

static rg_err ecdsa_der_to_raw(const unsigned char *der, size_t derlen, size_t coord_len,
                               unsigned char *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    const BIGNUM *r, *s;
    rg_err e = RG_ERR_CRYPTO;

    if (!es)
        return RG_ERR_CRYPTO;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, raw, (int)coord_len) == (int)coord_len &&
        BN_bn2binpad(s, raw + coord_len, (int)coord_len) == (int)coord_len)
        e = RG_OK;
    ECDSA_SIG_free(es);
    return e;
}

/* Sets up a DigestSign/DigestVerify context for alg on pkey. */
static int md_ctx_init(EVP_MD_CTX *ctx, const struct alg_info *a, EVP_PKEY *pkey, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    int ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, a->md, NULL, NULL, pkey, NULL)
                  : EVP_DigestVerifyInit_ex(ctx, &pctx, a->md, NULL, NULL, pkey, NULL);
    if (ok != 1)
        return 0;
    if (a->kind == K_RSA_PSS) {
        /* RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, a->md, NULL) != 1)
            return 0;
    } else if (a->kind == K_RSA_PKCS1) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
            return 0;
    }
    return 1;
}

static rg_err verify_asym(const struct rg_jws *jws, const struct alg_info *a,
                          const struct rg_jwk *k, struct rg_msg *msg)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    const unsigned char *sig = jws->sig;
    size_t sig_len = jws->sig_len;
    rg_err e;

    if (!ctx) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (a->kind == K_ECDSA) {
        e = ecdsa_raw_to_der(jws->sig, jws->sig_len, a->coord_len, &der, &sig_len);
        if (e == RG_ERR_AUTH) {
            e = rg_fail(msg, RG_ERR_AUTH, "%s signature has %zu bytes, expected %zu", a->name,
                        jws->sig_len, 2 * a->coord_len);
            goto out;
        }
        if (e) {
            e = rg_fail(msg, e, "cannot convert the ECDSA signature");
            goto out;
        }
        sig = der;
    }
    if (!md_ctx_init(ctx, a, k->pkey, 0)) {
        e = rg_fail(msg, RG_ERR_CRYPTO, "cannot set up %s verification", a->name);
        goto out;
    }
    if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                         jws->signing_input_len) != 1) {
        e = rg_fail(msg, RG_ERR_AUTH, "signature mismatch (alg '%s', kid '%s')", a->name,
                    k->kid);
        goto out;
    }
    e = RG_OK;
out:
    ERR_clear_error();
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    return e;
}

static rg_err verify_hmac(const struct rg_jws *jws, const struct alg_info *a,
                          const char *secret, struct rg_msg *msg)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0, klen;
    rg_err e;

    if (!secret || !secret[0])
        return rg_fail(msg, RG_ERR_AUTH, "alg '%s' needs a shared secret, none configured",
                       a->name);
    klen = strlen(secret);
    /* RFC 7518 §3.2: the key must be at least as long as the hash output */
    if (klen < a->coord_len)
        return rg_fail(msg, RG_ERR_AUTH, "shared secret too short for %s (%zu < %zu bytes)",
                       a->name, klen, a->coord_len);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, a->md, NULL, secret, klen,
                   (const unsigned char *)jws->signing_input, jws->signing_input_len, mac,
                   sizeof mac, &maclen)) {
        ERR_clear_error();
        return rg_fail(msg, RG_ERR_CRYPTO, "HMAC computation failed");
    }
    if (!rg_ct_eq(mac, maclen, jws->sig, jws->sig_len))
        e = rg_fail(msg, RG_ERR_AUTH, "signature mismatch (alg '%s')", a->name);
    else
        e = RG_OK;
    rg_wipe(mac, sizeof mac);
    return e;
}

rg_err rg_jws_verify(const struct rg_jws *jws, const struct rg_jwks *keys,
                     const char *const *allowed_algs, const char *hmac_secret,
                     struct rg_msg *msg)
{
    const struct alg_info *a;
    const struct rg_jwk *k = NULL;
    int allowed = 0;

    if (!jws || !jws->header || !jws->sig || !jws->signing_input)
        return rg_fail(msg, RG_ERR_INVALID, "JWS not parsed");
    if (json_object_get(jws->header, "crit"))
        return rg_fail(msg, RG_ERR_AUTH, "JWS header has 'crit'; no extension is understood");
    if (strcasecmp(jws->alg, "none") == 0)
        return rg_fail(msg, RG_ERR_AUTH, "unsigned JWS (alg 'none') refused");
    a = alg_lookup(jws->alg);
    if (!a)
        return rg_fail(msg, RG_ERR_AUTH, "JWS alg '%s' not supported", jws->alg);
    for (size_t i = 0; allowed_algs && allowed_algs[i]; i++)
        if (strcmp(allowed_algs[i], a->name) == 0)
            allowed = 1;
    if (!allowed)
        return rg_fail(msg, RG_ERR_AUTH, "JWS alg '%s' not in the allowed list", a->name);
    if (a->kind == K_HMAC)
        return verify_hmac(jws, a, hmac_secret, msg);

    if (!keys || keys->n == 0)
        return rg_fail(msg, RG_ERR_NOTFOUND, "no keys to verify the JWS");
    if (jws->kid[0]) {
        k = rg_jwks_find(keys, jws->kid);
        if (!k)
            return rg_fail(msg, RG_ERR_NOTFOUND, "no key with kid '%s'", jws->kid);
    } else {
        /* no kid: only unambiguous when exactly one key fits the algorithm */
        size_t fits = 0;
        for (size_t i = 0; i < keys->n; i++)
            if (key_fits(a, &keys->keys[i]) &&
                (!keys->keys[i].alg[0] || strcmp(keys->keys[i].alg, a->name) == 0)) {
                fits++;
                k = &keys->keys[i];
            }
        if (fits == 0)
            return rg_fail(msg, RG_ERR_NOTFOUND, "JWS has no kid and no key fits alg '%s'",
                           a->name);
        if (fits > 1)
            return rg_fail(msg, RG_ERR_AUTH, "JWS has no kid and %zu keys fit alg '%s'", fits,
                           a->name);
    }
    if (!key_fits(a, k))
        return rg_fail(msg, RG_ERR_AUTH, "alg '%s' does not fit key '%s' (kty %d%s%s)", a->name,
                       k->kid, (int)k->kty, k->crv[0] ? ", crv " : "", k->crv);
    if (k->alg[0] && strcmp(k->alg, a->name) != 0)
        return rg_fail(msg, RG_ERR_AUTH, "key '%s' is restricted to alg '%s', token uses '%s'",
                       k->kid, k->alg, a->name);
    return verify_asym(jws, a, k, msg);
}

/* Does pkey fit alg for signing (RSA for RS/PS, the right EC curve, Ed25519)? */
static int pkey_fits(const struct alg_info *a, EVP_PKEY *pkey)
{
    char group[64];

    switch (a->kind) {
    case K_RSA_PKCS1:
    case K_RSA_PSS:
        return EVP_PKEY_is_a(pkey, "RSA");
    case K_ECDSA:
        if (!EVP_PKEY_is_a(pkey, "EC") ||
            !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof group, NULL))
            return 0;
        return (strcmp(a->crv, "P-256") == 0 && strcmp(group, "prime256v1") == 0) ||
               (strcmp(a->crv, "P-384") == 0 && strcmp(group, "secp384r1") == 0) ||
               (strcmp(a->crv, "P-521") == 0 && strcmp(group, "secp521r1") == 0);
    case K_EDDSA:
        return EVP_PKEY_is_a(pkey, "ED25519");
    case K_HMAC:
        return 0;
    }
    return 0;
}

static char *json_b64(const json_t *j)
{
    char *txt = json_dumps(j, JSON_COMPACT);
    char *enc;
    if (!txt)
        return NULL;
    enc = rg_b64url_encode(txt, strlen(txt));
    free(txt);
    return enc;
}

rg_err rg_jws_sign(const json_t *payload, const json_t *extra_header, const char *alg,
                   EVP_PKEY *pkey, char **out)
{
    const struct alg_info *a = alg ? alg_lookup(alg) : NULL;
    json_t *hdr = NULL;
    char *h64 = NULL, *p64 = NULL, *s64 = NULL;
    unsigned char *sig = NULL, raw[2 * 66];
    size_t siglen = 0;
    EVP_MD_CTX *ctx = NULL;
    struct rg_buf b;
    rg_err e;

    *out = NULL;
    rg_buf_init(&b, RG_JWS_MAX_LEN);
    if (!a || !pkey || !json_is_object(payload) || (extra_header && !json_is_object(extra_header)))
        return RG_ERR_INVALID;
    if (!pkey_fits(a, pkey)) {
        ERR_clear_error();
        return RG_ERR_INVALID;
    }
    hdr = json_object();
    if (!hdr || json_object_set_new(hdr, "typ", json_string("JWT")) ||
        (extra_header && json_object_update(hdr, (json_t *)extra_header)) ||
        json_object_set_new(hdr, "alg", json_string(a->name))) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    h64 = json_b64(hdr);
    p64 = json_b64(payload);
    if (!h64 || !p64) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    e = rg_buf_appendf(&b, "%s.%s", h64, p64);
    if (e)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (!ctx || !md_ctx_init(ctx, a, pkey, 1) ||
        EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)b.data, b.len) != 1 ||
        !(sig = OPENSSL_malloc(siglen)) ||
        EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)b.data, b.len) != 1) {
        e = RG_ERR_CRYPTO;
        goto out;
    }
    if (a->kind == K_ECDSA) {
        e = ecdsa_der_to_raw(sig, siglen, a->coord_len, raw);
        if (e)
            goto out;
        s64 = rg_b64url_encode(raw, 2 * a->coord_len);
    } else {
        s64 = rg_b64url_encode(sig, siglen);
    }
    if (!s64) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    e = rg_buf_appendf(&b, ".%s", s64);
    if (e)
        goto out;
    *out = rg_buf_steal(&b);
    if (!*out)
        e = RG_ERR_NOMEM;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(sig);
    json_decref(hdr);
    free(h64);
    free(p64);
    free(s64);
    rg_buf_free(&b);
    return e;
}
