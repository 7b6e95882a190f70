/* Unit tests for src/base/form.c and src/base/buf.c: parameter parsing and limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/form.h"

START_TEST(form_basic)
{
    struct rg_params p;
    const char *body = "username=alice%40pve&password=a+b%2Bc&realm=&flag&x=1&x=2";
    rg_params_init(&p);
    ck_assert_int_eq(rg_params_parse_form(&p, body, strlen(body)), RG_OK);
    ck_assert_str_eq(rg_params_get(&p, "username"), "alice@pve");
    ck_assert_str_eq(rg_params_get(&p, "password"), "a b+c");
    ck_assert_str_eq(rg_params_get(&p, "realm"), "");
    ck_assert_str_eq(rg_params_get(&p, "flag"), "");
    ck_assert_str_eq(rg_params_get(&p, "x"), "1");
    ck_assert_uint_eq(rg_params_count(&p, "x"), 2);
    ck_assert_ptr_null(rg_params_get(&p, "missing"));
    rg_params_free(&p);
}
END_TEST

START_TEST(form_refuses_bad_escapes_and_nul)
{
    static const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%00b", "%00=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct rg_params p;
        rg_params_init(&p);
        ck_assert_int_eq(rg_params_parse_form(&p, bad[i], strlen(bad[i])), RG_ERR_INVALID);
        rg_params_free(&p);
    }
}
END_TEST

START_TEST(form_item_limit)
{
    struct rg_buf b;
    struct rg_params p;
    rg_buf_init(&b, 1 << 20);
    for (int i = 0; i <= RG_PARAMS_MAX_ITEMS; i++)
        rg_buf_appendf(&b, "k%d=v&", i);
    rg_params_init(&p);
    ck_assert_int_eq(rg_params_parse_form(&p, b.data, b.len), RG_ERR_LIMIT);
    rg_params_free(&p);
    rg_buf_free(&b);
}
END_TEST

START_TEST(json_params)
{
    struct rg_params p;
    const char *ok = "{\"realm\":\"entra\",\"default\":true,\"n\":42,\"off\":false}";
    rg_params_init(&p);
    ck_assert_int_eq(rg_params_parse_json(&p, ok, strlen(ok)), RG_OK);
    ck_assert_str_eq(rg_params_get(&p, "realm"), "entra");
    ck_assert_str_eq(rg_params_get(&p, "default"), "1");
    ck_assert_str_eq(rg_params_get(&p, "n"), "42");
    ck_assert_str_eq(rg_params_get(&p, "off"), "0");
    rg_params_free(&p);

    static const char *bad[] = {"[1]", "{\"a\":{}}", "{\"a\":null}", "{\"a\":\"x\\u0000y\"}",
                                "{\"a\":1,\"a\":2}", "{"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rg_params_init(&p);
        ck_assert_int_eq(rg_params_parse_json(&p, bad[i], strlen(bad[i])), RG_ERR_INVALID);
        rg_params_free(&p);
    }
}
END_TEST

START_TEST(url_encode)
{
    struct rg_buf b;
    rg_buf_init(&b, 100);
    ck_assert_int_eq(rg_url_encode(&b, "a b&c=d/é~-._"), RG_OK);
    ck_assert_str_eq(b.data, "a%20b%26c%3Dd%2F%C3%A9~-._");
    rg_buf_free(&b);
}
END_TEST

START_TEST(buf_limit)
{
    struct rg_buf b;
    rg_buf_init(&b, 5);
    ck_assert_int_eq(rg_buf_appends(&b, "abc"), RG_OK);
    ck_assert_int_eq(rg_buf_appends(&b, "def"), RG_ERR_LIMIT);
    ck_assert_str_eq(b.data, "abc");
    ck_assert_int_eq(rg_buf_appendf(&b, "%d", 12), RG_OK);
    ck_assert_str_eq(b.data, "abc12");
    ck_assert_int_eq(rg_buf_appendf(&b, "%d", 3), RG_ERR_LIMIT);
    ck_assert_uint_eq(b.len, 5);
    rg_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, form_basic);
    tcase_add_test(tc, form_refuses_bad_escapes_and_nul);
    tcase_add_test(tc, form_item_limit);
    tcase_add_test(tc, json_params);
    tcase_add_test(tc, url_encode);
    tcase_add_test(tc, buf_limit);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
