/* Unit tests for src/oidc/idtoken.c: every claim check, with exact messages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/idtoken.h"

#define NOW 1733220000
#define ISS "https://login.example.test/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
#define CID "6731de76-14a6-49ae-97bc-6eba6914391e"

static const char *const extra_aud[] = {"api://trusted", NULL};

static struct rg_idtoken_expect expect(void)
{
    struct rg_idtoken_expect x = {.issuer = ISS, .client_id = CID, .audiences = extra_aud,
                                  .nonce = "n-0S6_WzA2Mj", .now = NOW, .leeway = 120,
                                  .max_iat_age = 86400};
    return x;
}

/* A valid Entra-style claim set: iat/nbf back-dated by 300 s, exp = iat + 3900. */
static json_t *good(void)
{
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s}", "iss", ISS, "aud", CID,
                     "iat", (json_int_t)(NOW - 300), "nbf", (json_int_t)(NOW - 300), "exp",
                     (json_int_t)(NOW - 300 + 3900), "sub", "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
                     "nonce", "n-0S6_WzA2Mj", "tid", "72f988bf-86f1-41af-91ab-2d7cd011db47",
                     "preferred_username", "alice@contoso.test");
}

static rg_err run(json_t *c, struct rg_msg *msg)
{
    struct rg_idtoken_expect x = expect();
    rg_err e = rg_idtoken_check(c, &x, msg);
    json_decref(c);
    return e;
}

START_TEST(valid_token_accepted)
{
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(run(good(), &msg), RG_OK);
}
END_TEST

START_TEST(entra_backdated_accepted)
{
    /* iat/nbf 300 s in the past, exp in 3600 s: exactly what Entra issues */
    json_t *c = good();
    struct rg_idtoken_expect x = expect();
    struct rg_msg msg = {{0}};
    x.leeway = 0;
    ck_assert_int_eq(rg_idtoken_check(c, &x, &msg), RG_OK);
    /* negative leeway means the default of 120 s */
    x.leeway = -1;
    json_object_set_new(c, "iat", json_integer(NOW + 100));
    ck_assert_int_eq(rg_idtoken_check(c, &x, &msg), RG_OK);
    json_decref(c);
}
END_TEST

START_TEST(wrong_iss)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "iss", json_string("https://evil.test"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "iss mismatch: expected '" ISS "', got 'https://evil.test'");
    /* a trailing slash is a different issuer */
    c = good();
    json_object_set_new(c, "iss", json_string(ISS "/"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    /* wrong type */
    c = good();
    json_object_set_new(c, "iss", json_pack("[s]", ISS));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "iss missing or not a string (expected '" ISS "')");
}
END_TEST

START_TEST(wrong_aud)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "aud", json_string("another-client"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "aud mismatch: expected '" CID "', got 'another-client'");
    c = good();
    json_object_set_new(c, "aud", json_pack("[s]", "api://trusted"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "aud mismatch: '" CID "' not among 1 audiences");
    c = good();
    json_object_del(c, "aud");
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "aud missing or not a string/array");
    c = good();
    json_object_set_new(c, "aud", json_array());
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    c = good();
    json_object_set_new(c, "aud", json_pack("[s,i]", CID, 1));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
}
END_TEST

START_TEST(extra_untrusted_aud)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "aud", json_pack("[s,s]", CID, "some-api"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "aud contains untrusted audience 'some-api' (client_id '" CID "')");
    /* configured extra audience is fine, azp equal to client_id too */
    c = good();
    json_object_set_new(c, "aud", json_pack("[s,s]", "api://trusted", CID));
    json_object_set_new(c, "azp", json_string(CID));
    ck_assert_int_eq(run(c, &msg), RG_OK);
    /* azp naming someone else is refused */
    c = good();
    json_object_set_new(c, "aud", json_pack("[s,s]", CID, "api://trusted"));
    json_object_set_new(c, "azp", json_string("api://trusted"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "azp mismatch: expected '" CID "', got 'api://trusted'");
}
END_TEST

START_TEST(expired)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "exp", json_integer(NOW - 121));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "token expired: exp 1733219879, now 1733220000 (leeway 120 s)");
    /* within the leeway */
    c = good();
    json_object_set_new(c, "exp", json_integer(NOW - 119));
    ck_assert_int_eq(run(c, &msg), RG_OK);
    /* missing, string, boolean */
    c = good();
    json_object_del(c, "exp");
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "exp missing");
    c = good();
    json_object_set_new(c, "exp", json_string("2000000000"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "exp is not a number");
    c = good();
    json_object_set_new(c, "exp", json_true());
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    /* a fractional NumericDate is valid (RFC 7519 §2) */
    c = good();
    json_object_set_new(c, "exp", json_real(NOW + 3600.5));
    ck_assert_int_eq(run(c, &msg), RG_OK);
}
END_TEST

START_TEST(nbf_in_future)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "nbf", json_integer(NOW + 121));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "token not yet valid: nbf 1733220121, now 1733220000 (leeway 120 s)");
    c = good();
    json_object_set_new(c, "nbf", json_integer(NOW + 120));
    ck_assert_int_eq(run(c, &msg), RG_OK);
    c = good();
    json_object_set_new(c, "nbf", json_string("x"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
}
END_TEST

START_TEST(iat_in_future)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "iat", json_integer(NOW + 86400));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "iat in the future: iat 1733306400, now 1733220000 (leeway 120 s)");
    c = good();
    json_object_del(c, "iat");
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "iat missing");
    /* three days old */
    c = good();
    json_object_set_new(c, "iat", json_integer(NOW - 3 * 86400));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(msg.text, "iat too old"));
}
END_TEST

START_TEST(missing_nonce)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_del(c, "nonce");
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "nonce missing from the ID token");
    c = good();
    json_object_set_new(c, "nonce", json_integer(123));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "nonce is not a string");
}
END_TEST

START_TEST(wrong_nonce)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "nonce", json_string("n-0S6_WzA2Mk"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "nonce mismatch (not the nonce of this login)");
    /* prefix of the right nonce */
    c = good();
    json_object_set_new(c, "nonce", json_string("n-0S6_WzA2M"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
}
END_TEST

START_TEST(missing_sub)
{
    struct rg_msg msg = {{0}};
    char longsub[300];
    json_t *c = good();
    json_object_del(c, "sub");
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "sub missing, empty or not a string");
    c = good();
    json_object_set_new(c, "sub", json_string(""));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    c = good();
    json_object_set_new(c, "sub", json_integer(42));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    c = good();
    memset(longsub, 'a', 256);
    longsub[256] = '\0';
    json_object_set_new(c, "sub", json_string(longsub));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "sub longer than 255 characters (256)");
    c = good();
    longsub[255] = '\0';
    json_object_set_new(c, "sub", json_string(longsub));
    ck_assert_int_eq(run(c, &msg), RG_OK);
    c = good();
    json_object_set_new(c, "sub", json_string("adm\nin"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
}
END_TEST

START_TEST(message_sanitised)
{
    struct rg_msg msg = {{0}};
    json_t *c = good();
    json_object_set_new(c, "iss", json_string("evil\r\nX-Injected: 1"));
    ck_assert_int_eq(run(c, &msg), RG_ERR_AUTH);
    ck_assert_ptr_null(strchr(msg.text, '\n'));
    ck_assert_ptr_nonnull(strstr(msg.text, "got 'evil??X-Injected: 1'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idtoken");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, valid_token_accepted);
    tcase_add_test(tc, entra_backdated_accepted);
    tcase_add_test(tc, wrong_iss);
    tcase_add_test(tc, wrong_aud);
    tcase_add_test(tc, extra_untrusted_aud);
    tcase_add_test(tc, expired);
    tcase_add_test(tc, nbf_in_future);
    tcase_add_test(tc, iat_in_future);
    tcase_add_test(tc, missing_nonce);
    tcase_add_test(tc, wrong_nonce);
    tcase_add_test(tc, missing_sub);
    tcase_add_test(tc, message_sanitised);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
