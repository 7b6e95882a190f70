/* Unit tests for src/access/ticket.c: PVE ticket format and validity window (spec §4.2). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "access/ticket.h"

static EVP_PKEY *key, *other;

static void setup(void)
{
    key = EVP_RSA_gen(2048);
    other = EVP_RSA_gen(2048);
    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(other);
}

static void teardown(void)
{
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

#define NOW 1700000000L /* 0x6553F100 */

START_TEST(create_format)
{
    char *t;

    ck_assert_int_eq(rg_login_ticket_create(key, "alice@sso", NOW, &t), RG_OK);
    ck_assert_int_eq(strncmp(t, "PVE:alice@sso:6553F100::", 24), 0);
    ck_assert_uint_eq(strlen(t), 24 + 344);
    ck_assert_str_eq(t + strlen(t) - 2, "==");
    free(t);
}
END_TEST

START_TEST(round_trip_and_colon)
{
    char *t, *user;

    ck_assert_int_eq(rg_login_ticket_create(key, "a:b@sso", NOW, &t), RG_OK);
    ck_assert_int_eq(strncmp(t, "PVE:a%3Ab@sso:6553F100::", 24), 0);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW + 10, &user), RG_OK);
    ck_assert_str_eq(user, "a:b@sso");
    free(user);
    /* a different key refuses */
    ck_assert_int_eq(rg_login_ticket_verify(other, t, NOW + 10, &user), RG_ERR_CRYPTO);
    ck_assert_ptr_null(user);
    free(t);
}
END_TEST

START_TEST(tampering)
{
    char *t, *copy;
    size_t len;

    ck_assert_int_eq(rg_login_ticket_create(key, "alice@sso", NOW, &t), RG_OK);
    len = strlen(t);
    copy = strdup(t);
    /* flip a byte of the user id, of the time, and of the signature */
    copy[4] = 'b';
    ck_assert_int_eq(rg_login_ticket_verify(key, copy, NOW, NULL), RG_ERR_CRYPTO);
    strcpy(copy, t);
    copy[14 + 7] = copy[14 + 7] == '0' ? '1' : '0';
    ck_assert_int_eq(rg_login_ticket_verify(key, copy, NOW, NULL), RG_ERR_CRYPTO);
    strcpy(copy, t);
    copy[len - 10] = copy[len - 10] == 'A' ? 'B' : 'A';
    ck_assert_int_ne(rg_login_ticket_verify(key, copy, NOW, NULL), RG_OK);
    /* truncated / syntax errors */
    strcpy(copy, t);
    copy[len - 1] = '\0';
    ck_assert_int_eq(rg_login_ticket_verify(key, copy, NOW, NULL), RG_ERR_INVALID);
    ck_assert_int_eq(rg_login_ticket_verify(key, "PVE:alice@sso:6553f100::AAAA", NOW, NULL),
                     RG_ERR_INVALID); /* lower-case hex */
    ck_assert_int_eq(rg_login_ticket_verify(key, "PVE:alice@sso:6553F10::AAAA", NOW, NULL),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_login_ticket_verify(key, "PVE:al ice@sso:6553F100::AAAA", NOW, NULL),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_login_ticket_verify(key, "", NOW, NULL), RG_ERR_INVALID);
    free(copy);
    free(t);
}
END_TEST

START_TEST(age_window)
{
    char *t;

    ck_assert_int_eq(rg_login_ticket_create(key, "alice@sso", NOW, &t), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW, NULL), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW + 7199, NULL), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW + 7200, NULL), RG_ERR_AUTH);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW + 100000, NULL), RG_ERR_AUTH);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW - 299, NULL), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW - 300, NULL), RG_ERR_AUTH);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW - 1000, NULL), RG_ERR_AUTH);
    free(t);
}
END_TEST

START_TEST(prefix_and_aad)
{
    char *t, *data;

    ck_assert_int_eq(rg_ticket_create(key, "PVEVNC", NULL, "alice@sso:/vms/100", NOW, &t), RG_OK);
    ck_assert_int_eq(strncmp(t, "PVEVNC:6553F100::", 17), 0);
    ck_assert_int_eq(rg_ticket_verify(key, "PVEVNC", t, "alice@sso:/vms/100", NOW + 5, -20, 40,
                                      &data),
                     RG_OK);
    ck_assert_str_eq(data, "");
    free(data);
    /* wrong AAD, wrong prefix, outside the short window */
    ck_assert_int_eq(rg_ticket_verify(key, "PVEVNC", t, "bob@sso:/vms/100", NOW, -20, 40, NULL),
                     RG_ERR_CRYPTO);
    ck_assert_int_eq(rg_ticket_verify(key, "PVE", t, "alice@sso:/vms/100", NOW, -20, 40, NULL),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_ticket_verify(key, "PVEVNC", t, "alice@sso:/vms/100", NOW + 40, -20, 40,
                                      NULL),
                     RG_ERR_AUTH);
    free(t);
    /* a login ticket is not accepted as another prefix and vice versa */
    ck_assert_int_eq(rg_ticket_create(key, "PVETUNNEL", "x", NULL, NOW, &t), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(key, t, NOW, NULL), RG_ERR_INVALID);
    free(t);
    /* limits */
    {
        char big[RG_TICKET_MAX + 10];
        memset(big, 'A', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        memcpy(big, "PVE:", 4);
        ck_assert_int_eq(rg_login_ticket_verify(key, big, NOW, NULL), RG_ERR_LIMIT);
    }
    ck_assert_int_eq(rg_ticket_create(key, "PV:E", "x", NULL, NOW, &t), RG_ERR_INVALID);
    ck_assert_int_eq(rg_ticket_create(key, "PVE", "a b", NULL, NOW, &t), RG_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create_format);
    tcase_add_test(tc, round_trip_and_colon);
    tcase_add_test(tc, tampering);
    tcase_add_test(tc, age_window);
    tcase_add_test(tc, prefix_and_aad);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
