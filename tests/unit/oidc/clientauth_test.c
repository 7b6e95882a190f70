/* Unit tests for src/oidc/clientauth.c: the private_key_jwt client assertion is built the way
 * Entra expects (header x5t#S256/x5t of the certificate, claims aud/iss/sub/jti/nbf/iat/exp),
 * verifies with the certificate's public key, and bad certificate/key files are refused. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/fsutil.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "oidc/clientauth.h"
#include "oidc/provider.h"

#define TOKEN_EP "https://login.microsoftonline.com/tid/oauth2/v2.0/token"
#define CLIENT "6731de76-14a6-49ae-97bc-6eba6914391e"

static char dir[128], cert_path[256], key_path[256], other_key_path[256], ec_key_path[256],
    old_cert_path[256];
static EVP_PKEY *rsa, *rsa2, *ec;
static X509 *cert;

static X509 *make_cert(EVP_PKEY *key, long not_before, long not_after)
{
    X509 *x = X509_new();
    X509_NAME *n;
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), not_before);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after);
    X509_set_pubkey(x, key);
    n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"realmgate test",
                               -1, -1, 0);
    X509_set_issuer_name(x, n);
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    return x;
}

static void write_cert(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_X509(f, x), 1);
    fclose(f);
}

static void write_key(const char *path, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
}

/* once, in the parent process (Check forks per test): RSA key generation is slow */
static void keys(void)
{
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void setup(void)
{
    X509 *old;
    snprintf(dir, sizeof dir, "/tmp/rg-clientauth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(other_key_path, sizeof other_key_path, "%s/other.pem", dir);
    snprintf(ec_key_path, sizeof ec_key_path, "%s/ec.pem", dir);
    snprintf(old_cert_path, sizeof old_cert_path, "%s/old.pem", dir);
    ck_assert_ptr_nonnull(rsa);
    ck_assert_ptr_nonnull(rsa2);
    ck_assert_ptr_nonnull(ec);
    cert = make_cert(rsa, -3600, 86400);
    write_cert(cert_path, cert);
    write_key(key_path, rsa);
    write_key(other_key_path, rsa2);
    write_key(ec_key_path, ec);
    old = make_cert(rsa, -86400 * 2, -86400);
    write_cert(old_cert_path, old);
    X509_free(old);
}

static void teardown(void)
{
    X509_free(cert);
    cert = NULL;
}

static char *thumb(const EVP_MD *md)
{
    unsigned char *der = NULL, h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    int len = i2d_X509(cert, &der);
    char *s;
    ck_assert_int_gt(len, 0);
    ck_assert_int_eq(EVP_Digest(der, (size_t)len, h, &hl, md, NULL), 1);
    OPENSSL_free(der);
    s = rg_b64url_encode(h, hl);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Parses and verifies tok with the certificate's public key (rg_jws_verify). */
static void verify_with_cert(const char *tok, const char *alg, struct rg_jws *jws)
{
    const char *algs[] = {alg, NULL};
    struct rg_jwks set;
    struct rg_msg msg = {{0}};
    memset(&set, 0, sizeof set);
    set.n = 1;
    set.keys[0].kty = RG_KTY_RSA;
    set.keys[0].pkey = X509_get_pubkey(cert);
    ck_assert_int_eq(rg_jws_parse(tok, strlen(tok), jws, &msg), RG_OK);
    ck_assert_int_eq(rg_jws_verify(jws, &set, algs, NULL, &msg), RG_OK);
    rg_jwks_free(&set);
}

START_TEST(assertion_ps256_claims_and_signature)
{
    struct rg_client_cred c;
    struct rg_msg msg = {{0}};
    struct rg_jws jws;
    char *tok = NULL, *t256 = thumb(EVP_sha256()), *t1 = thumb(EVP_sha1());
    time_t now = time(NULL);
    const char *jti;

    ck_assert_int_eq(rg_clientauth_load(cert_path, key_path, now, &c, &msg), RG_OK);
    ck_assert_str_eq(c.x5t_s256, t256);
    ck_assert_str_eq(c.x5t, t1);
    ck_assert_int_eq(rg_clientauth_assertion(&c, CLIENT, TOKEN_EP, "PS256", now, &tok, &msg),
                     RG_OK);
    verify_with_cert(tok, "PS256", &jws);
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "alg")), "PS256");
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "typ")), "JWT");
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "x5t#S256")), t256);
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "x5t")), t1);
    ck_assert_uint_eq(json_object_size(jws.header), 4);
    ck_assert_str_eq(json_string_value(json_object_get(jws.payload, "aud")), TOKEN_EP);
    ck_assert_str_eq(json_string_value(json_object_get(jws.payload, "iss")), CLIENT);
    ck_assert_str_eq(json_string_value(json_object_get(jws.payload, "sub")), CLIENT);
    jti = json_string_value(json_object_get(jws.payload, "jti"));
    ck_assert_ptr_nonnull(jti);
    ck_assert_uint_eq(strlen(jti), 36);
    ck_assert_int_eq(json_integer_value(json_object_get(jws.payload, "iat")), now);
    ck_assert_int_eq(json_integer_value(json_object_get(jws.payload, "nbf")), now);
    ck_assert_int_eq(json_integer_value(json_object_get(jws.payload, "exp")), now + 300);
    ck_assert_uint_eq(json_object_size(jws.payload), 7);
    rg_jws_free(&jws);

    /* a second assertion has a fresh jti */
    {
        char *tok2 = NULL;
        struct rg_jws j2;
        ck_assert_int_eq(rg_clientauth_assertion(&c, CLIENT, TOKEN_EP, "PS256", now, &tok2, &msg),
                         RG_OK);
        verify_with_cert(tok2, "PS256", &j2);
        ck_assert_ptr_nonnull(strstr(tok, "."));
        verify_with_cert(tok, "PS256", &jws);
        ck_assert_str_ne(json_string_value(json_object_get(j2.payload, "jti")),
                         json_string_value(json_object_get(jws.payload, "jti")));
        rg_jws_free(&j2);
        rg_jws_free(&jws);
        free(tok2);
    }
    /* a changed payload no longer verifies with the certificate's key */
    {
        const char *algs[] = {"PS256", NULL};
        char *dot = strchr(tok, '.');
        struct rg_jwks set;
        memset(&set, 0, sizeof set);
        set.n = 1;
        set.keys[0].kty = RG_KTY_RSA;
        set.keys[0].pkey = X509_get_pubkey(cert);
        dot[1] = dot[1] == 'A' ? 'B' : 'A';
        if (rg_jws_parse(tok, strlen(tok), &jws, &msg) == RG_OK) {
            ck_assert_int_ne(rg_jws_verify(&jws, &set, algs, NULL, &msg), RG_OK);
            rg_jws_free(&jws);
        }
        rg_jwks_free(&set);
    }
    free(tok);
    free(t256);
    free(t1);
    rg_clientauth_free(&c);
}
END_TEST

START_TEST(assertion_rs256_and_alg_choice)
{
    struct rg_client_cred c;
    struct rg_msg msg = {{0}};
    struct rg_jws jws;
    char *tok = NULL;

    ck_assert_str_eq(rg_clientauth_alg(0, 0, 0), "PS256");   /* not advertised */
    ck_assert_str_eq(rg_clientauth_alg(1, 1, 1), "PS256");
    ck_assert_str_eq(rg_clientauth_alg(1, 0, 1), "RS256");
    ck_assert_ptr_null(rg_clientauth_alg(1, 0, 0));
    ck_assert_int_eq(rg_clientauth_load(cert_path, key_path, time(NULL), &c, &msg), RG_OK);
    ck_assert_int_eq(rg_clientauth_assertion(&c, CLIENT, TOKEN_EP, "RS256", 1700000000, &tok,
                                             &msg), RG_OK);
    verify_with_cert(tok, "RS256", &jws);
    ck_assert_str_eq(jws.alg, "RS256");
    ck_assert_int_eq(json_integer_value(json_object_get(jws.payload, "exp")), 1700000300);
    rg_jws_free(&jws);
    free(tok);
    /* only PS256/RS256, and every input is required */
    ck_assert_int_eq(rg_clientauth_assertion(&c, CLIENT, TOKEN_EP, "HS256", 1, &tok, &msg),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_clientauth_assertion(&c, CLIENT, TOKEN_EP, "none", 1, &tok, &msg),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_clientauth_assertion(&c, "", TOKEN_EP, "PS256", 1, &tok, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_null(tok);
    rg_clientauth_free(&c);
}
END_TEST

/* The provider metadata that picks the algorithm (provider.c). */
START_TEST(discovery_assertion_fields)
{
    static const char doc[] =
        "{\"issuer\":\"https://idp.example.test/t/v2.0\","
        "\"authorization_endpoint\":\"https://idp.example.test/t/authorize\","
        "\"token_endpoint\":\"https://idp.example.test/t/token\","
        "\"jwks_uri\":\"https://idp.example.test/t/keys\","
        "\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\",\"private_key_jwt\"],"
        "\"token_endpoint_auth_signing_alg_values_supported\":[\"RS256\",\"ES256\"]}";
    static const char plain[] =
        "{\"issuer\":\"https://idp.example.test/t/v2.0\","
        "\"authorization_endpoint\":\"https://idp.example.test/t/authorize\","
        "\"token_endpoint\":\"https://idp.example.test/t/token\","
        "\"jwks_uri\":\"https://idp.example.test/t/keys\"}";
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_discovery_parse(doc, strlen(doc), "https://idp.example.test/t/v2.0",
                                             &d, &msg), RG_OK);
    ck_assert_int_eq(d.auth_pkjwt, 1);
    ck_assert_int_eq(d.auth_algs_listed, 1);
    ck_assert_int_eq(d.auth_alg_ps256, 0);
    ck_assert_int_eq(d.auth_alg_rs256, 1);
    ck_assert_str_eq(rg_clientauth_alg(d.auth_algs_listed, d.auth_alg_ps256, d.auth_alg_rs256),
                     "RS256");
    rg_oidc_discovery_clear(&d);
    ck_assert_int_eq(rg_oidc_discovery_parse(plain, strlen(plain),
                                             "https://idp.example.test/t/v2.0", &d, &msg), RG_OK);
    ck_assert_int_eq(d.auth_algs_listed, 0);
    ck_assert_int_eq(d.auth_pkjwt, 0);
    ck_assert_str_eq(rg_clientauth_alg(d.auth_algs_listed, d.auth_alg_ps256, d.auth_alg_rs256),
                     "PS256");
    rg_oidc_discovery_clear(&d);
}
END_TEST

START_TEST(bad_files_refused)
{
    struct rg_client_cred c;
    struct rg_msg msg = {{0}};
    char missing[300];

    snprintf(missing, sizeof missing, "%s/nope.pem", dir);
    ck_assert_int_eq(rg_clientauth_load(missing, key_path, time(NULL), &c, &msg),
                     RG_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(msg.text, "does not exist"));
    ck_assert_int_eq(rg_clientauth_load(cert_path, other_key_path, time(NULL), &c, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "does not belong to client-cert"));
    ck_assert_int_eq(rg_clientauth_load(cert_path, ec_key_path, time(NULL), &c, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "not an RSA key"));
    ck_assert_int_eq(rg_clientauth_load(old_cert_path, key_path, time(NULL), &c, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "not valid now"));
    /* key and certificate swapped */
    ck_assert_int_eq(rg_clientauth_load(key_path, cert_path, time(NULL), &c, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.text, "no PEM certificate"));
    ck_assert_ptr_null(c.key);
    ck_assert_int_eq(rg_clientauth_load(cert_path, NULL, time(NULL), &c, &msg), RG_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clientauth");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, keys, NULL);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, assertion_ps256_claims_and_signature);
    tcase_add_test(tc, assertion_rs256_and_alg_choice);
    tcase_add_test(tc, bad_files_refused);
    tcase_add_test(tc, discovery_assertion_fields);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
