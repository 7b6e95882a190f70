/* Unit tests for src/base/log.c: what reaches the log is printable and valid UTF-8. */
#include <check.h>
#include <string.h>

#include "base/log.h"

START_TEST(sanitize)
{
    char out[256];
    ck_assert_str_eq(rg_log_sanitize("plain text", out, sizeof out), "plain text");
    ck_assert_str_eq(rg_log_sanitize("a\nb\rc\td", out, sizeof out), "a\\x0ab\\x0dc\\x09d");
    ck_assert_str_eq(rg_log_sanitize("esc \x1b[31mred", out, sizeof out), "esc \\x1b[31mred");
    /* valid UTF-8 stays, invalid bytes and overlong forms are escaped */
    ck_assert_str_eq(rg_log_sanitize("J\xc3\xbcrgen", out, sizeof out), "J\xc3\xbcrgen");
    ck_assert_str_eq(rg_log_sanitize("admin\xc0\xaf@pve", out, sizeof out),
                     "admin\\xc0\\xaf@pve");
    ck_assert_str_eq(rg_log_sanitize("\xed\xa0\x80", out, sizeof out), "\\xed\\xa0\\x80");
    ck_assert_str_eq(rg_log_sanitize("cut\xe2\x82", out, sizeof out), "cut\\xe2\\x82");
    ck_assert_str_eq(rg_log_sanitize("del\x7f", out, sizeof out), "del\\x7f");
    /* C1 controls (U+009B is an escape-sequence introducer), bidi overrides and isolates,
     * and the Unicode line separator are escaped; other non-ASCII text stays */
    ck_assert_str_eq(rg_log_sanitize("x\xc2\x9b" "2J", out, sizeof out), "x\\u009b2J");
    ck_assert_str_eq(rg_log_sanitize("a\xe2\x80\xaetxt.exe", out, sizeof out),
                     "a\\u202etxt.exe");
    ck_assert_str_eq(rg_log_sanitize("l\xe2\x80\xa8m\xe2\x81\xa6n\xe2\x80\x8f", out,
                                     sizeof out),
                     "l\\u2028m\\u2066n\\u200f");
    ck_assert_str_eq(rg_log_sanitize("\xc2\xa0nbsp \xe2\x82\xac \xf0\x9f\x94\x91", out,
                                     sizeof out),
                     "\\u00a0nbsp \xe2\x82\xac \xf0\x9f\x94\x91");
}
END_TEST

START_TEST(sanitize_truncates)
{
    char out[8];
    ck_assert_str_eq(rg_log_sanitize("abcdefghijkl", out, sizeof out), "abcdefg");
    /* an escape that does not fit whole is left out, never cut */
    ck_assert_str_eq(rg_log_sanitize("abcde\n", out, sizeof out), "abcde");
    ck_assert_uint_lt(strlen(rg_log_sanitize("\n\n\n\n", out, sizeof out)), sizeof out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, sanitize);
    tcase_add_test(tc, sanitize_truncates);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
