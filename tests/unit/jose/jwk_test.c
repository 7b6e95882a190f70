/* Unit tests for src/jose/jwk.c: import of RSA/EC/Ed25519 public JWKs, refusals, key sets,
 * export and RFC 7638 thumbprints. Keys are generated with OpenSSL at run time. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "jose/jwk.h"

static EVP_PKEY *gen_rsa(unsigned bits)
{
    EVP_PKEY *k = EVP_RSA_gen(bits);
    ck_assert_ptr_nonnull(k);
    return k;
}

static EVP_PKEY *gen_ec(const char *curve)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    ck_assert_ptr_nonnull(k);
    return k;
}

static EVP_PKEY *gen_ed25519(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ck_assert_ptr_nonnull(k);
    return k;
}

static EVP_PKEY *rsa_key;

static void setup(void)
{
    rsa_key = gen_rsa(2048);
}

static void teardown(void)
{
    EVP_PKEY_free(rsa_key);
}

START_TEST(rsa_without_alg_as_entra)
{
    json_t *j = rg_jwk_public_json(rsa_key, "nOo3ZDrODXEK1jKWhXslHR_KXEg", "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    struct rg_jwk k;
    struct rg_msg msg = {{0}};

    ck_assert_ptr_nonnull(j);
    /* what Entra publishes: kty, use, kid, x5t, n, e, issuer — and no alg */
    ck_assert_ptr_null(json_object_get(j, "alg"));
    ck_assert_str_eq(json_string_value(json_object_get(j, "kty")), "RSA");
    ck_assert_str_eq(json_string_value(json_object_get(j, "use")), "sig");
    ck_assert_str_eq(json_string_value(json_object_get(j, "e")), "AQAB");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "n"))), 342);
    json_object_set_new(j, "issuer", json_string("https://login.microsoftonline.com/{tenantid}/v2.0"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_OK);
    ck_assert_int_eq(k.kty, RG_KTY_RSA);
    ck_assert_str_eq(k.kid, "nOo3ZDrODXEK1jKWhXslHR_KXEg");
    ck_assert_str_eq(k.alg, "");
    ck_assert_int_eq(EVP_PKEY_eq(k.pkey, rsa_key), 1);
    rg_jwk_clear(&k);
    ck_assert_ptr_null(k.pkey);
    json_decref(j);
}
END_TEST

START_TEST(ec_p256_import)
{
    EVP_PKEY *ec = gen_ec("P-256");
    json_t *j = rg_jwk_public_json(ec, "ec1", NULL);
    struct rg_jwk k;
    struct rg_msg msg = {{0}};

    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kty")), "EC");
    ck_assert_str_eq(json_string_value(json_object_get(j, "crv")), "P-256");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "x"))), 43);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "y"))), 43);
    ck_assert_ptr_null(json_object_get(j, "x5t"));
    json_object_set_new(j, "alg", json_string("ES256"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_OK);
    ck_assert_int_eq(k.kty, RG_KTY_EC);
    ck_assert_str_eq(k.crv, "P-256");
    ck_assert_str_eq(k.alg, "ES256");
    ck_assert_int_eq(EVP_PKEY_eq(k.pkey, ec), 1);
    rg_jwk_clear(&k);
    json_decref(j);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(ec_p384_p521_import)
{
    const char *curves[] = {"P-384", "P-521"};
    const size_t xlen[] = {64, 88};
    for (int i = 0; i < 2; i++) {
        EVP_PKEY *ec = gen_ec(curves[i]);
        json_t *j = rg_jwk_public_json(ec, NULL, NULL);
        struct rg_jwk k;
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "crv")), curves[i]);
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(j, "x"))), xlen[i]);
        ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_OK);
        ck_assert_str_eq(k.kid, "");
        ck_assert_int_eq(EVP_PKEY_eq(k.pkey, ec), 1);
        rg_jwk_clear(&k);
        json_decref(j);
        EVP_PKEY_free(ec);
    }
}
END_TEST

START_TEST(ed25519_import)
{
    EVP_PKEY *ed = gen_ed25519();
    json_t *j = rg_jwk_public_json(ed, "ed", NULL);
    struct rg_jwk k;

    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kty")), "OKP");
    ck_assert_str_eq(json_string_value(json_object_get(j, "crv")), "Ed25519");
    ck_assert_ptr_null(json_object_get(j, "y"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_OK);
    ck_assert_int_eq(k.kty, RG_KTY_OKP);
    ck_assert_str_eq(k.crv, "Ed25519");
    ck_assert_int_eq(EVP_PKEY_eq(k.pkey, ed), 1);
    rg_jwk_clear(&k);
    json_decref(j);
    EVP_PKEY_free(ed);
}
END_TEST

static rg_err import_text(const char *text, struct rg_msg *msg)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    struct rg_jwk k;
    rg_err e;

    ck_assert_ptr_nonnull(j);
    e = rg_jwk_from_json(j, &k, msg);
    ck_assert_ptr_null(k.pkey);
    json_decref(j);
    return e;
}

START_TEST(private_members_refused)
{
    const char *members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
    for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
        json_t *j = rg_jwk_public_json(rsa_key, "r", NULL);
        struct rg_jwk k;
        struct rg_msg msg = {{0}};
        char expect[64];
        json_object_set_new(j, members[i], json_string("AQAB"));
        ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
        ck_assert_ptr_null(k.pkey);
        snprintf(expect, sizeof expect, "member '%s'", members[i]);
        ck_assert_ptr_nonnull(strstr(msg.text, expect));
        json_decref(j);
    }
    /* an Ed25519 private key (RFC 8037 §A.1) */
    ck_assert_int_eq(import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                 "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
                                 "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                                 NULL),
                     RG_ERR_INVALID);
    /* symmetric keys never belong in a public set */
    ck_assert_int_eq(import_text("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", NULL), RG_ERR_INVALID);
}
END_TEST

START_TEST(bad_base64url_refused)
{
    struct rg_msg msg = {{0}};
    json_t *j = rg_jwk_public_json(rsa_key, "r", NULL);
    char *n = strdup(json_string_value(json_object_get(j, "n")));
    char *n0 = strdup(n);
    struct rg_jwk k;

    /* standard-alphabet character */
    n[10] = '+';
    json_object_set_new(j, "n", json_string(n));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "'n' is not base64url"));
    /* padding */
    json_object_set_new(j, "n", json_string(n0));
    json_object_set_new(j, "e", json_string("AQAB=="));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "'e'"));
    /* control: the untouched key imports */
    json_object_set_new(j, "e", json_string("AQAB"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_OK);
    rg_jwk_clear(&k);
    ck_assert_int_eq(import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                 "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
                                 NULL),
                     RG_ERR_INVALID);
    /* number instead of string */
    ck_assert_int_eq(import_text("{\"kty\":\"RSA\",\"n\":12345,\"e\":\"AQAB\"}", &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "'n' missing or not a string"));
    free(n);
    free(n0);
    json_decref(j);
}
END_TEST

START_TEST(wrong_crv_refused)
{
    EVP_PKEY *ec = gen_ec("P-256");
    json_t *j = rg_jwk_public_json(ec, "e", NULL);
    struct rg_jwk k;
    struct rg_msg msg = {{0}};

    /* P-256 coordinates claimed as P-384 */
    json_object_set_new(j, "crv", json_string("P-384"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "48 bytes"));
    json_object_set_new(j, "crv", json_string("secp256k1"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "not supported"));
    json_object_del(j, "crv");
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    /* X25519 is a key agreement curve */
    ck_assert_int_eq(import_text("{\"kty\":\"OKP\",\"crv\":\"X25519\","
                                 "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                                 NULL),
                     RG_ERR_INVALID);
    json_decref(j);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(ec_point_off_curve_refused)
{
    EVP_PKEY *ec = gen_ec("P-256");
    json_t *j = rg_jwk_public_json(ec, "e", NULL);
    char *y = strdup(json_string_value(json_object_get(j, "y")));
    struct rg_jwk k;

    y[5] = y[5] == 'A' ? 'B' : 'A';
    json_object_set_new(j, "y", json_string(y));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_ERR_INVALID);
    ck_assert_ptr_null(k.pkey);
    free(y);
    json_decref(j);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(use_enc_refused)
{
    json_t *j = rg_jwk_public_json(rsa_key, "r", NULL);
    struct rg_jwk k;
    struct rg_msg msg = {{0}};

    json_object_set_new(j, "use", json_string("enc"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "use 'enc'"));
    json_object_del(j, "use");
    json_object_set_new(j, "key_ops", json_pack("[s]", "encrypt"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    json_object_set_new(j, "key_ops", json_pack("[s]", "verify"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_OK);
    rg_jwk_clear(&k);
    json_decref(j);
}
END_TEST

START_TEST(alg_must_fit_kty)
{
    json_t *j = rg_jwk_public_json(rsa_key, "r", NULL);
    struct rg_jwk k;

    json_object_set_new(j, "alg", json_string("ES256"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_ERR_INVALID);
    ck_assert_ptr_null(k.pkey);
    json_object_set_new(j, "alg", json_string("HS256"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_ERR_INVALID);
    json_object_set_new(j, "alg", json_string("PS256"));
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_OK);
    ck_assert_str_eq(k.alg, "PS256");
    rg_jwk_clear(&k);
    json_decref(j);
}
END_TEST

START_TEST(small_rsa_refused)
{
    EVP_PKEY *small = gen_rsa(1024);
    json_t *j = rg_jwk_public_json(small, "s", NULL);
    struct rg_jwk k;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_jwk_from_json(j, &k, &msg), RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "1024 bits"));
    json_decref(j);
    EVP_PKEY_free(small);
}
END_TEST

START_TEST(kid_with_control_chars_refused)
{
    json_t *j = rg_jwk_public_json(rsa_key, "a\nb", NULL);
    struct rg_jwk k;
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_ERR_INVALID);
    json_decref(j);
}
END_TEST

static char *set_text(json_t *keys)
{
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

START_TEST(jwks_parse_skips_bad_keys)
{
    EVP_PKEY *ec = gen_ec("P-256");
    json_t *keys = json_array();
    json_t *enc = rg_jwk_public_json(rsa_key, "enc", NULL);
    json_t *priv = rg_jwk_public_json(rsa_key, "priv", NULL);
    json_t *dup = rg_jwk_public_json(ec, "rsa1", NULL);
    struct rg_jwks set;
    struct rg_msg msg = {{0}};
    char *txt;

    json_object_set_new(enc, "use", json_string("enc"));
    json_object_set_new(priv, "d", json_string("AQAB"));
    json_array_append_new(keys, rg_jwk_public_json(rsa_key, "rsa1", NULL));
    json_array_append_new(keys, enc);
    json_array_append_new(keys, priv);
    json_array_append_new(keys, json_string("not an object"));
    json_array_append_new(keys, rg_jwk_public_json(ec, "ec1", NULL));
    json_array_append_new(keys, dup);
    txt = set_text(keys);
    ck_assert_int_eq(rg_jwks_parse(txt, strlen(txt), &set, &msg), RG_OK);
    ck_assert_uint_eq(set.n, 2);
    ck_assert_uint_eq(set.skipped, 4);
    ck_assert_ptr_nonnull(rg_jwks_find(&set, "rsa1"));
    ck_assert_int_eq(rg_jwks_find(&set, "rsa1")->kty, RG_KTY_RSA);
    ck_assert_int_eq(rg_jwks_find(&set, "ec1")->kty, RG_KTY_EC);
    ck_assert_ptr_null(rg_jwks_find(&set, "enc"));
    ck_assert_ptr_null(rg_jwks_find(&set, "RSA1"));
    ck_assert_ptr_null(rg_jwks_find(&set, ""));
    ck_assert_ptr_null(rg_jwks_find(&set, NULL));
    rg_jwks_free(&set);
    ck_assert_uint_eq(set.n, 0);
    free(txt);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(jwks_parse_refusals)
{
    struct rg_jwks set;
    struct rg_msg msg = {{0}};
    json_t *keys = json_array();
    json_t *enc = rg_jwk_public_json(rsa_key, "enc", NULL);
    char *txt, *big;

    ck_assert_int_eq(rg_jwks_parse("[]", 2, &set, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jwks_parse("{\"keys\":{}}", 11, &set, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jwks_parse("<html>", 6, &set, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_jwks_parse("{\"keys\":[]}", 11, &set, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "JWKS has no usable signing key (0 skipped)");
    json_object_set_new(enc, "use", json_string("enc"));
    json_array_append_new(keys, enc);
    txt = set_text(keys);
    ck_assert_int_eq(rg_jwks_parse(txt, strlen(txt), &set, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "JWKS has no usable signing key (1 skipped)");
    ck_assert_uint_eq(set.n, 0);
    big = malloc(RG_JWKS_MAX_LEN + 1);
    memset(big, ' ', RG_JWKS_MAX_LEN + 1);
    ck_assert_int_eq(rg_jwks_parse(big, RG_JWKS_MAX_LEN + 1, &set, &msg), RG_ERR_LIMIT);
    free(big);
    free(txt);
}
END_TEST

START_TEST(jwks_max_keys)
{
    EVP_PKEY *ed = gen_ed25519();
    json_t *keys = json_array();
    struct rg_jwks set;
    char *txt;

    for (int i = 0; i < RG_JWKS_MAX_KEYS + 3; i++) {
        char kid[16];
        snprintf(kid, sizeof kid, "k%d", i);
        json_array_append_new(keys, rg_jwk_public_json(ed, kid, NULL));
    }
    txt = set_text(keys);
    ck_assert_int_eq(rg_jwks_parse(txt, strlen(txt), &set, NULL), RG_OK);
    ck_assert_uint_eq(set.n, RG_JWKS_MAX_KEYS);
    ck_assert_uint_eq(set.skipped, 3);
    ck_assert_ptr_nonnull(rg_jwks_find(&set, "k63"));
    ck_assert_ptr_null(rg_jwks_find(&set, "k64"));
    rg_jwks_free(&set);
    free(txt);
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(thumbprint_rfc7638)
{
    /* RFC 7638 §3.1 example */
    const char *rsa = "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4"
        "cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
        "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
        "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8"
        "awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";
    /* RFC 8037 §A.3 example */
    const char *ed = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                     "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
    struct rg_jwk k;
    json_t *j;
    char *t;

    j = json_loads(rsa, 0, NULL);
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_OK);
    t = rg_jwk_thumbprint(k.pkey);
    ck_assert_str_eq(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    free(t);
    rg_jwk_clear(&k);
    json_decref(j);

    j = json_loads(ed, 0, NULL);
    ck_assert_int_eq(rg_jwk_from_json(j, &k, NULL), RG_OK);
    t = rg_jwk_thumbprint(k.pkey);
    ck_assert_str_eq(t, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    free(t);
    /* export round trip keeps the exact members */
    json_decref(j);
    j = rg_jwk_public_json(k.pkey, NULL, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "x")),
                     "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    rg_jwk_clear(&k);
    json_decref(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jwk");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rsa_without_alg_as_entra);
    tcase_add_test(tc, ec_p256_import);
    tcase_add_test(tc, ec_p384_p521_import);
    tcase_add_test(tc, ed25519_import);
    tcase_add_test(tc, private_members_refused);
    tcase_add_test(tc, bad_base64url_refused);
    tcase_add_test(tc, wrong_crv_refused);
    tcase_add_test(tc, ec_point_off_curve_refused);
    tcase_add_test(tc, use_enc_refused);
    tcase_add_test(tc, alg_must_fit_kty);
    tcase_add_test(tc, small_rsa_refused);
    tcase_add_test(tc, kid_with_control_chars_refused);
    tcase_add_test(tc, jwks_parse_skips_bad_keys);
    tcase_add_test(tc, jwks_parse_refusals);
    tcase_add_test(tc, jwks_max_keys);
    tcase_add_test(tc, thumbprint_rfc7638);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
