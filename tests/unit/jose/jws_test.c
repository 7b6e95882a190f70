/* Unit tests for src/jose/jws.c: sign/verify round trips for every supported asymmetric
 * algorithm, and the refusals that matter for ID tokens (tampering, alg none, key confusion,
 * unknown kid, allow-list, crit, JWE, size). Keys are generated at run time. */
#include <check.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "jose/jws.h"

static EVP_PKEY *rsa, *rsa2, *ec256, *ec384, *ed;
static struct rg_jwks set;

static void add_key(struct rg_jwks *s, EVP_PKEY *pkey, const char *kid, const char *alg)
{
    json_t *j = rg_jwk_public_json(pkey, kid, NULL);
    ck_assert_ptr_nonnull(j);
    if (alg)
        json_object_set_new(j, "alg", json_string(alg));
    ck_assert_int_eq(rg_jwk_from_json(j, &s->keys[s->n], NULL), RG_OK);
    s->n++;
    json_decref(j);
}

static void setup(void)
{
    rsa = EVP_RSA_gen(2048);
    rsa2 = EVP_RSA_gen(2048);
    ec256 = EVP_EC_gen("P-256");
    ec384 = EVP_EC_gen("P-384");
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ck_assert(rsa && rsa2 && ec256 && ec384 && ed);
    memset(&set, 0, sizeof set);
    add_key(&set, rsa, "rsa1", NULL);
    add_key(&set, ec256, "ec1", NULL);
    add_key(&set, ec384, "ec384", NULL);
    add_key(&set, ed, "ed1", NULL);
}

static void teardown(void)
{
    rg_jwks_free(&set);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ed);
}

static json_t *claims(void)
{
    return json_pack("{s:s,s:s,s:i}", "iss", "https://idp.test/t/v2.0", "sub", "alice",
                     "exp", 2000000000);
}

/* Signs the standard claims with alg/pkey and header kid. */
static char *sign_with(const char *alg, EVP_PKEY *pkey, const char *kid)
{
    json_t *p = claims();
    json_t *h = kid ? json_pack("{s:s}", "kid", kid) : NULL;
    char *tok = NULL;
    ck_assert_int_eq(rg_jws_sign(p, h, alg, pkey, &tok), RG_OK);
    ck_assert_ptr_nonnull(tok);
    json_decref(p);
    json_decref(h);
    return tok;
}

static rg_err parse_verify(const char *tok, const char *const *algs, const char *secret,
                           struct rg_msg *msg)
{
    struct rg_jws jws;
    rg_err e = rg_jws_parse(tok, strlen(tok), &jws, msg);
    if (e)
        return e;
    e = rg_jws_verify(&jws, &set, algs, secret, msg);
    rg_jws_free(&jws);
    return e;
}

static char *b64j(const char *json)
{
    return rg_b64url_encode(json, strlen(json));
}

/* header.payload.sig with the given raw JSON texts and raw signature bytes */
static char *hand_token(const char *hdr, const char *payload, const unsigned char *sig,
                        size_t siglen)
{
    char *h = b64j(hdr), *p = b64j(payload), *s = rg_b64url_encode(sig, siglen), *t;
    ck_assert_int_ge(asprintf(&t, "%s.%s.%s", h, p, s), 0);
    free(h);
    free(p);
    free(s);
    return t;
}

static const struct {
    const char *alg;
    EVP_PKEY **key;
    const char *kid;
} ROUND[] = {
    {"RS256", &rsa, "rsa1"}, {"RS384", &rsa, "rsa1"}, {"RS512", &rsa, "rsa1"},
    {"PS256", &rsa, "rsa1"}, {"PS512", &rsa, "rsa1"}, {"ES256", &ec256, "ec1"},
    {"ES384", &ec384, "ec384"}, {"EdDSA", &ed, "ed1"},
};

START_TEST(valid_signatures_verify)
{
    const char *alg = ROUND[_i].alg;
    const char *algs[] = {"RS256", alg, NULL};
    char *tok = sign_with(alg, *ROUND[_i].key, ROUND[_i].kid);
    struct rg_jws jws;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_jws_parse(tok, strlen(tok), &jws, &msg), RG_OK);
    ck_assert_str_eq(jws.alg, alg);
    ck_assert_str_eq(jws.kid, ROUND[_i].kid);
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "typ")), "JWT");
    ck_assert_str_eq(json_string_value(json_object_get(jws.payload, "sub")), "alice");
    ck_assert_int_eq(json_integer_value(json_object_get(jws.payload, "exp")), 2000000000);
    if (strcmp(alg, "ES256") == 0)
        ck_assert_uint_eq(jws.sig_len, 64);
    if (strcmp(alg, "ES384") == 0)
        ck_assert_uint_eq(jws.sig_len, 96);
    if (strcmp(alg, "EdDSA") == 0)
        ck_assert_uint_eq(jws.sig_len, 64);
    if (alg[0] == 'R' || alg[0] == 'P')
        ck_assert_uint_eq(jws.sig_len, 256);
    ck_assert_int_eq(rg_jws_verify(&jws, &set, algs, NULL, &msg), RG_OK);

    /* one flipped bit anywhere in the signature is a mismatch */
    jws.sig[jws.sig_len / 2] ^= 0x01;
    ck_assert_int_eq(rg_jws_verify(&jws, &set, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "signature mismatch"));
    jws.sig[jws.sig_len / 2] ^= 0x01;
    jws.sig[0] ^= 0x80;
    ck_assert_int_eq(rg_jws_verify(&jws, &set, algs, NULL, &msg), RG_ERR_AUTH);
    rg_jws_free(&jws);
    free(tok);
}
END_TEST

START_TEST(ps256_is_pss_with_digest_salt)
{
    /* verify a PS256 signature made independently with salt length 32 */
    const char *algs[] = {"PS256", NULL};
    char *h = b64j("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}"), *p = b64j("{\"sub\":\"x\"}");
    char *input, *tok;
    unsigned char sig[512];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx;
    struct rg_msg msg = {{0}};

    ck_assert_int_ge(asprintf(&input, "%s.%s", h, p), 0);
    ck_assert_int_eq(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, rsa), 1);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)), 1);
    tok = hand_token("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", "{\"sub\":\"x\"}", sig, siglen);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_OK);
    free(tok);
    /* the same with a 20-byte salt is not PS256 */
    siglen = sizeof sig;
    ck_assert_int_eq(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, rsa), 1);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)), 1);
    tok = hand_token("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", "{\"sub\":\"x\"}", sig, siglen);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
    EVP_MD_CTX_free(ctx);
    free(input);
    free(h);
    free(p);
}
END_TEST

START_TEST(tampered_payload_refused)
{
    const char *algs[] = {"RS256", NULL};
    char *tok = sign_with("RS256", rsa, "rsa1");
    char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    char *evil = b64j("{\"iss\":\"https://idp.test/t/v2.0\",\"sub\":\"admin\",\"exp\":2000000000}");
    char *forged;
    struct rg_msg msg = {{0}};

    *d1 = '\0';
    ck_assert_int_ge(asprintf(&forged, "%s.%s%s", tok, evil, d2), 0);
    ck_assert_int_eq(parse_verify(forged, algs, NULL, &msg), RG_ERR_AUTH);
    free(forged);
    free(evil);
    free(tok);
}
END_TEST

START_TEST(wrong_key_same_kid_refused)
{
    const char *algs[] = {"RS256", NULL};
    char *tok = sign_with("RS256", rsa2, "rsa1");
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "signature mismatch (alg 'RS256', kid 'rsa1')");
    free(tok);
}
END_TEST

START_TEST(alg_none_refused)
{
    const char *algs[] = {"RS256", "none", NULL};
    const unsigned char junk[] = "sig";
    struct rg_msg msg = {{0}};
    char *tok = hand_token("{\"alg\":\"none\"}", "{\"sub\":\"admin\"}", junk, 3);
    char *h, *p, *unsigned_tok;

    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "alg 'none'"));
    free(tok);
    tok = hand_token("{\"alg\":\"NoNe\",\"kid\":\"rsa1\"}", "{\"sub\":\"admin\"}", junk, 3);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
    /* the usual unsecured form has an empty third segment */
    h = b64j("{\"alg\":\"none\"}");
    p = b64j("{\"sub\":\"admin\"}");
    ck_assert_int_ge(asprintf(&unsigned_tok, "%s.%s.", h, p), 0);
    ck_assert_int_eq(parse_verify(unsigned_tok, algs, NULL, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "empty signature"));
    free(unsigned_tok);
    free(h);
    free(p);
}
END_TEST

static char *hs_token(const char *alg_md, const char *hdr, const void *key, size_t keylen)
{
    char *h = b64j(hdr), *p = b64j("{\"sub\":\"admin\",\"exp\":2000000000}"), *input, *t;
    unsigned char mac[64];
    size_t maclen = 0;

    ck_assert_int_ge(asprintf(&input, "%s.%s", h, p), 0);
    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, alg_md, NULL, key, keylen,
                                    (unsigned char *)input, strlen(input), mac, sizeof mac,
                                    &maclen));
    t = hand_token(hdr, "{\"sub\":\"admin\",\"exp\":2000000000}", mac, maclen);
    free(input);
    free(h);
    free(p);
    return t;
}

START_TEST(hs256_key_confusion_refused)
{
    /* the attacker HMACs with the RSA public key (PEM text, as libraries that pass "the key"
     * to HMAC would use it) and names the RSA kid */
    const char *rs_only[] = {"RS256", NULL};
    const char *both[] = {"RS256", "HS256", NULL};
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *tok, *tok_der;
    long pemlen;
    unsigned char *der = NULL;
    int derlen;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, rsa), 1);
    pemlen = BIO_get_mem_data(bio, &pem);
    tok = hs_token("SHA256", "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", pem, (size_t)pemlen);
    derlen = i2d_PUBKEY(rsa, &der);
    ck_assert_int_gt(derlen, 0);
    tok_der = hs_token("SHA256", "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", der, (size_t)derlen);

    ck_assert_int_eq(parse_verify(tok, rs_only, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "not in the allowed list"));
    /* even when HS256 is allowed, the public key is never the HMAC key */
    ck_assert_int_eq(parse_verify(tok, both, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "needs a shared secret"));
    ck_assert_int_eq(parse_verify(tok_der, both, NULL, &msg), RG_ERR_AUTH);
    ck_assert_int_eq(parse_verify(tok, both, "an-unrelated-client-secret-of-40-chars!!", &msg),
                     RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "signature mismatch"));
    free(tok);
    free(tok_der);
    OPENSSL_free(der);
    BIO_free(bio);
}
END_TEST

START_TEST(hs256_with_configured_secret)
{
    const char *secret = "Zx8Q~abcdefghijklmnopqrstuvwxyz01234567";
    const char *algs[] = {"HS256", NULL};
    const char *algs512[] = {"HS512", NULL};
    char *tok = hs_token("SHA256", "{\"alg\":\"HS256\"}", secret, strlen(secret));
    char *tok512 = hs_token("SHA512", "{\"alg\":\"HS512\"}", secret, strlen(secret));
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(parse_verify(tok, algs, secret, &msg), RG_OK);
    ck_assert_int_eq(parse_verify(tok, algs, "Zx8Q~abcdefghijklmnopqrstuvwxyz01234568", &msg),
                     RG_ERR_AUTH);
    /* RFC 7518 §3.2: a 39-byte secret is too short for HS512 */
    ck_assert_int_eq(parse_verify(tok512, algs512, secret, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "too short"));
    free(tok);
    free(tok512);
}
END_TEST

START_TEST(unknown_kid_notfound)
{
    const char *algs[] = {"RS256", NULL};
    char *tok = sign_with("RS256", rsa2, "rotated-key");
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_NOTFOUND);
    ck_assert_str_eq(msg.text, "no key with kid 'rotated-key'");
    free(tok);
}
END_TEST

START_TEST(alg_not_allowed_refused)
{
    const char *algs[] = {"ES256", "PS256", NULL};
    char *tok = sign_with("RS256", rsa, "rsa1");
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "JWS alg 'RS256' not in the allowed list");
    ck_assert_int_eq(parse_verify(tok, NULL, NULL, &msg), RG_ERR_AUTH);
    free(tok);
}
END_TEST

START_TEST(alg_must_fit_key)
{
    /* ES256 signature, but kid names the RSA key */
    const char *algs[] = {"RS256", "ES256", NULL};
    char *tok = sign_with("ES256", ec256, "rsa1");
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "does not fit key 'rsa1'"));
    free(tok);
    /* ES256 header naming the P-384 key */
    tok = sign_with("ES256", ec256, "ec384");
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
}
END_TEST

START_TEST(key_alg_restricts)
{
    const char *algs[] = {"RS256", "PS256", NULL};
    char *tok;
    struct rg_msg msg = {{0}};

    add_key(&set, rsa2, "ps-only", "PS256");
    tok = sign_with("RS256", rsa2, "ps-only");
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "restricted to alg 'PS256'"));
    free(tok);
    tok = sign_with("PS256", rsa2, "ps-only");
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_OK);
    free(tok);
}
END_TEST

START_TEST(no_kid_selection)
{
    const char *algs[] = {"RS256", "EdDSA", NULL};
    char *tok = sign_with("EdDSA", ed, NULL);
    struct rg_msg msg = {{0}};

    /* exactly one OKP key: unambiguous */
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_OK);
    free(tok);
    /* two RSA keys: ambiguous */
    add_key(&set, rsa2, "rsa2", NULL);
    tok = sign_with("RS256", rsa, NULL);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "2 keys fit"));
    free(tok);
}
END_TEST

START_TEST(crit_refused)
{
    const char *algs[] = {"RS256", NULL};
    json_t *p = claims();
    json_t *h = json_pack("{s:s,s:[s],s:b}", "kid", "rsa1", "crit", "b64", "b64", 0);
    char *tok = NULL;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_jws_sign(p, h, "RS256", rsa, &tok), RG_OK);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "'crit'"));
    free(tok);
    json_decref(p);
    json_decref(h);
}
END_TEST

START_TEST(jwe_refused)
{
    const char *jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6"
                      "DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jw"
                      "Q.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8"
                      "iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ";
    struct rg_jws jws;
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(rg_jws_parse(jwe, strlen(jwe), &jws, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "JWE"));
    ck_assert_ptr_null(jws.header);
}
END_TEST

START_TEST(overlong_refused)
{
    char *big = malloc(RG_JWS_MAX_LEN + 2);
    struct rg_jws jws;
    struct rg_msg msg = {{0}};

    memset(big, 'a', RG_JWS_MAX_LEN + 1);
    big[10] = '.';
    big[20] = '.';
    big[RG_JWS_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(rg_jws_parse(big, RG_JWS_MAX_LEN + 1, &jws, &msg), RG_ERR_LIMIT);
    free(big);
}
END_TEST

START_TEST(syntax_refusals)
{
    const unsigned char sig[] = "0123456789";
    struct rg_jws jws;
    struct rg_msg msg = {{0}};
    char *t;

    ck_assert_int_eq(rg_jws_parse("a.b", 3, &jws, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_parse("a.b.c.d", 7, &jws, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_parse("", 0, &jws, &msg), RG_ERR_INVALID);
    /* duplicate member in the header: the second alg must not sneak past */
    t = hand_token("{\"alg\":\"RS256\",\"alg\":\"none\"}", "{}", sig, 10);
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_ERR_INVALID);
    free(t);
    /* header that is an array, payload that is a string */
    t = hand_token("[\"RS256\"]", "{}", sig, 10);
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_ERR_INVALID);
    free(t);
    t = hand_token("{\"alg\":\"RS256\"}", "\"x\"", sig, 10);
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_ERR_INVALID);
    free(t);
    /* alg not a string, kid not a string */
    t = hand_token("{\"alg\":1}", "{}", sig, 10);
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_ERR_INVALID);
    free(t);
    t = hand_token("{\"alg\":\"RS256\",\"kid\":[\"a\"]}", "{}", sig, 10);
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_ERR_INVALID);
    free(t);
    /* padded base64 segment */
    t = hand_token("{\"alg\":\"RS256\"}", "{}", sig, 10);
    {
        char *padded;
        ck_assert_int_ge(asprintf(&padded, "%s==", t), 0);
        ck_assert_int_eq(rg_jws_parse(padded, strlen(padded), &jws, &msg), RG_ERR_INVALID);
        free(padded);
    }
    /* control: the same well-formed token parses */
    ck_assert_int_eq(rg_jws_parse(t, strlen(t), &jws, &msg), RG_OK);
    ck_assert_uint_eq(jws.sig_len, 10);
    rg_jws_free(&jws);
    free(t);
}
END_TEST

START_TEST(ecdsa_der_signature_refused)
{
    /* a DER-encoded ECDSA signature (what OpenSSL emits) is not a JOSE signature */
    const char *algs[] = {"ES256", NULL};
    char *h = b64j("{\"alg\":\"ES256\",\"kid\":\"ec1\"}"), *p = b64j("{\"sub\":\"x\"}");
    char *input, *tok;
    unsigned char sig[128];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct rg_msg msg = {{0}};

    ck_assert_int_ge(asprintf(&input, "%s.%s", h, p), 0);
    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ec256), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)), 1);
    tok = hand_token("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "{\"sub\":\"x\"}", sig, siglen);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "expected 64"));
    free(tok);
    EVP_MD_CTX_free(ctx);
    free(input);
    free(h);
    free(p);
}
END_TEST

START_TEST(ecdsa_degenerate_signatures_refused)
{
    /* CVE-2022-21449 ("psychic signatures"): r = s = 0; also r = n, all 0xFF, 63/65 bytes */
    static const unsigned char order[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    const char *algs[] = {"ES256", NULL};
    unsigned char sig[65];
    struct rg_msg msg = {{0}};
    char *tok;

    memset(sig, 0, sizeof sig);
    tok = hand_token("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "{\"sub\":\"admin\"}", sig, 64);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
    memcpy(sig, order, 32);
    memset(sig + 32, 0, 32);
    sig[63] = 1;
    tok = hand_token("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "{\"sub\":\"admin\"}", sig, 64);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
    memset(sig, 0xFF, sizeof sig);
    tok = hand_token("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "{\"sub\":\"admin\"}", sig, 64);
    ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
    free(tok);
    for (size_t len = 63; len <= 65; len += 2) {
        tok = hand_token("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "{\"sub\":\"admin\"}", sig,
                         len);
        ck_assert_int_eq(parse_verify(tok, algs, NULL, &msg), RG_ERR_AUTH);
        ck_assert_ptr_nonnull(strstr(msg.text, "expected 64"));
        free(tok);
    }
}
END_TEST

START_TEST(sign_refuses_mismatched_key)
{
    json_t *p = claims();
    char *tok = NULL;
    ck_assert_int_eq(rg_jws_sign(p, NULL, "ES256", rsa, &tok), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_sign(p, NULL, "ES384", ec256, &tok), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_sign(p, NULL, "RS256", ec256, &tok), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_sign(p, NULL, "HS256", rsa, &tok), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jws_sign(p, NULL, "none", rsa, &tok), RG_ERR_INVALID);
    ck_assert_ptr_null(tok);
    json_decref(p);
}
END_TEST

START_TEST(sign_header_members)
{
    json_t *p = claims();
    /* extra header may not override alg */
    json_t *h = json_pack("{s:s,s:s,s:s}", "kid", "k1", "x5t", "abc", "alg", "none");
    char *tok = NULL;
    struct rg_jws jws;

    ck_assert_int_eq(rg_jws_sign(p, h, "RS256", rsa, &tok), RG_OK);
    ck_assert_int_eq(rg_jws_parse(tok, strlen(tok), &jws, NULL), RG_OK);
    ck_assert_str_eq(jws.alg, "RS256");
    ck_assert_str_eq(jws.kid, "k1");
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "x5t")), "abc");
    ck_assert_uint_eq(json_object_size(jws.header), 4);
    rg_jws_free(&jws);
    free(tok);
    json_decref(p);
    json_decref(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jws");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, valid_signatures_verify, 0, (int)(sizeof ROUND / sizeof *ROUND));
    tcase_add_test(tc, ps256_is_pss_with_digest_salt);
    tcase_add_test(tc, tampered_payload_refused);
    tcase_add_test(tc, wrong_key_same_kid_refused);
    tcase_add_test(tc, alg_none_refused);
    tcase_add_test(tc, hs256_key_confusion_refused);
    tcase_add_test(tc, hs256_with_configured_secret);
    tcase_add_test(tc, unknown_kid_notfound);
    tcase_add_test(tc, alg_not_allowed_refused);
    tcase_add_test(tc, alg_must_fit_key);
    tcase_add_test(tc, key_alg_restricts);
    tcase_add_test(tc, no_kid_selection);
    tcase_add_test(tc, crit_refused);
    tcase_add_test(tc, jwe_refused);
    tcase_add_test(tc, overlong_refused);
    tcase_add_test(tc, syntax_refusals);
    tcase_add_test(tc, ecdsa_der_signature_refused);
    tcase_add_test(tc, ecdsa_degenerate_signatures_refused);
    tcase_add_test(tc, sign_refuses_mismatched_key);
    tcase_add_test(tc, sign_header_members);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
