/* Unit tests for src/access/csrf.c: CSRFPreventionToken (spec §4.3). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access/csrf.h"
#include "base/b64.h"

#define NOW 1700000000L

START_TEST(secret_derivation)
{
    char s[RG_CSRF_SECRET_LEN + 1];
    unsigned char mac[32];
    unsigned int len;
    char *b64;
    const char www[] = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";

    ck_assert_int_eq(rg_csrf_secret(www, strlen(www), s), RG_OK);
    ck_assert_uint_eq(strlen(s), 43);
    /* independent computation: base64(HMAC-SHA256(key="", www)) without '=' */
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), "", 0, (const unsigned char *)www, strlen(www), mac,
                               &len));
    b64 = rg_b64_encode(mac, 32);
    b64[43] = '\0';
    ck_assert_str_eq(s, b64);
    free(b64);
}
END_TEST

START_TEST(token_create_verify)
{
    char s[RG_CSRF_SECRET_LEN + 1], tok[RG_CSRF_TOKEN_LEN + 1], msg[64];
    unsigned char mac[32];
    unsigned int len;
    char *b64;

    ck_assert_int_eq(rg_csrf_secret("k", 1, s), RG_OK);
    ck_assert_int_eq(rg_csrf_token_create(s, "alice@sso", NOW, tok), RG_OK);
    ck_assert_uint_eq(strlen(tok), 52);
    ck_assert_int_eq(strncmp(tok, "6553F100:", 9), 0);
    /* independent MAC: key = the 43-char secret string, message "<TIME>:<userid>" */
    strcpy(msg, "6553F100:alice@sso");
    HMAC(EVP_sha256(), s, 43, (const unsigned char *)msg, strlen(msg), mac, &len);
    b64 = rg_b64_encode(mac, 32);
    b64[43] = '\0';
    ck_assert_str_eq(tok + 9, b64);
    free(b64);

    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", tok, NOW), RG_OK);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", tok, NOW + 7199), RG_OK);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", tok, NOW - 299), RG_OK);
    /* wrong user, expired, from the future */
    ck_assert_int_eq(rg_csrf_token_verify(s, "bob@sso", tok, NOW), RG_ERR_AUTH);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", tok, NOW + 7200), RG_ERR_AUTH);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", tok, NOW - 300), RG_ERR_AUTH);
    /* another secret */
    {
        char s2[RG_CSRF_SECRET_LEN + 1];
        ck_assert_int_eq(rg_csrf_secret("other", 5, s2), RG_OK);
        ck_assert_int_eq(rg_csrf_token_verify(s2, "alice@sso", tok, NOW), RG_ERR_AUTH);
    }
}
END_TEST

START_TEST(malformed)
{
    char s[RG_CSRF_SECRET_LEN + 1], tok[RG_CSRF_TOKEN_LEN + 1], bad[80];

    ck_assert_int_eq(rg_csrf_secret("k", 1, s), RG_OK);
    ck_assert_int_eq(rg_csrf_token_create(s, "alice@sso", NOW, tok), RG_OK);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", "", NOW), RG_ERR_INVALID);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", "6553F100", NOW), RG_ERR_INVALID);
    strcpy(bad, tok);
    bad[8] = ';';
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", bad, NOW), RG_ERR_INVALID);
    strcpy(bad, tok);
    bad[0] = 'g';
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", bad, NOW), RG_ERR_INVALID);
    strcpy(bad, tok);
    bad[20] = ' ';
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", bad, NOW), RG_ERR_INVALID);
    snprintf(bad, sizeof bad, "%sA", tok);
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", bad, NOW), RG_ERR_INVALID);
    /* a changed MAC character: well-formed, but refused */
    strcpy(bad, tok);
    bad[30] = bad[30] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rg_csrf_token_verify(s, "alice@sso", bad, NOW), RG_ERR_AUTH);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csrf");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, secret_derivation);
    tcase_add_test(tc, token_create_verify);
    tcase_add_test(tc, malformed);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
