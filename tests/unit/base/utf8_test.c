/* Unit tests for src/base/utf8.c: strict decoding and the deceptive characters. */
#include <check.h>

#include "base/utf8.h"

START_TEST(decodes_strictly)
{
    unsigned cp = 0;

    ck_assert_uint_eq(rg_utf8_next("A", &cp), 1);
    ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(rg_utf8_next("\xc3\xbc", &cp), 2);
    ck_assert_uint_eq(cp, 0xfc);
    ck_assert_uint_eq(rg_utf8_next("\xe2\x80\xae", &cp), 3);
    ck_assert_uint_eq(cp, 0x202e);
    ck_assert_uint_eq(rg_utf8_next("\xf0\x9f\x94\x91", &cp), 4);
    ck_assert_uint_eq(cp, 0x1f511);
    ck_assert_uint_eq(rg_utf8_next("\xc0\xaf", &cp), 0);         /* overlong '/' */
    ck_assert_uint_eq(rg_utf8_next("\xe0\x80\xaf", &cp), 0);     /* overlong, 3 bytes */
    ck_assert_uint_eq(rg_utf8_next("\xed\xa0\x80", &cp), 0);     /* surrogate */
    ck_assert_uint_eq(rg_utf8_next("\xf4\x90\x80\x80", &cp), 0); /* above U+10FFFF */
    ck_assert_uint_eq(rg_utf8_next("\xe2\x80", &cp), 0);         /* truncated at the NUL */
    ck_assert_uint_eq(rg_utf8_next("\x80", &cp), 0);             /* lone continuation */
    ck_assert_uint_eq(rg_utf8_next("\xff", &cp), 0);
}
END_TEST

START_TEST(deceptive_characters)
{
    static const unsigned bad[] = {0x80, 0x85, 0x9b, 0xa0, 0x1680, 0x2000, 0x200b, 0x200e,
                                   0x200f, 0x2028, 0x2029, 0x202a, 0x202e, 0x202f, 0x205f,
                                   0x2060, 0x2066, 0x2069, 0x3000, 0xfeff};
    static const unsigned fine[] = {'a', 0xa1, 0xfc, 0x20ac, 0x2010, 0x2030, 0x65e5, 0x1f511};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(rg_unicode_deceptive(bad[i]), "U+%04X", bad[i]);
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
        ck_assert_msg(!rg_unicode_deceptive(fine[i]), "U+%04X", fine[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, decodes_strictly);
    tcase_add_test(tc, deceptive_characters);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
