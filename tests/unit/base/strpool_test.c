/* Unit tests for src/base/strpool.c: one copy per distinct string, stable pointers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strpool.h"

START_TEST(same_bytes_same_pointer)
{
    struct rg_strpool p = {0};
    char buf[8] = "/vms/1";
    const char *a = rg_strpool_add(&p, "/vms/1");
    const char *b = rg_strpool_add(&p, buf);
    const char *c = rg_strpool_add(&p, "/vms/10");
    const char *d = rg_strpool_intern(&p, "/vms/10x", 7);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_ne(a, buf);
    ck_assert_ptr_ne(a, c);
    ck_assert_ptr_eq(c, d);
    ck_assert_str_eq(c, "/vms/10");
    ck_assert_str_eq(rg_strpool_add(&p, ""), "");
    ck_assert_uint_eq(p.count, 3);
    ck_assert_uint_eq(rg_strpool_id(a), 0);
    ck_assert_uint_eq(rg_strpool_id(c), 1);
    ck_assert_uint_eq(rg_strpool_id(rg_strpool_add(&p, "")), 2);
    rg_strpool_free(&p);
    ck_assert_uint_eq(p.count, 0);
    ck_assert_ptr_null(p.chunks);
}
END_TEST

/* Many strings: the table grows and chunks fill up; every pointer stays valid and unique. */
START_TEST(many_strings_stay_put)
{
    enum { N = 50000 };
    struct rg_strpool p = {0};
    const char **got = malloc(N * sizeof *got);
    char s[64];

    ck_assert_ptr_nonnull(got);
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "user%d@realm-with-a-longer-name", i);
        got[i] = rg_strpool_add(&p, s);
        ck_assert_ptr_nonnull(got[i]);
    }
    ck_assert_uint_eq(p.count, N);
    ck_assert_uint_gt(p.nchunks, 1);
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "user%d@realm-with-a-longer-name", i);
        ck_assert_str_eq(got[i], s);
        ck_assert_ptr_eq(rg_strpool_add(&p, s), got[i]);
        ck_assert_uint_eq(rg_strpool_id(got[i]), (uint32_t)i);
    }
    ck_assert_uint_eq(p.count, N);
    free(got);
    rg_strpool_free(&p);
}
END_TEST

/* A string larger than a chunk gets its own; the current chunk keeps filling. */
START_TEST(oversized_and_limits)
{
    struct rg_strpool p = {0};
    size_t big = 200 * 1024;
    char *s = malloc(RG_STRPOOL_STR_MAX + 2);
    const char *a, *b, *c, *d;

    ck_assert_ptr_nonnull(s);
    a = rg_strpool_add(&p, "first");
    memset(s, 'x', big);
    s[big] = '\0';
    b = rg_strpool_add(&p, s);
    c = rg_strpool_add(&p, "second");
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(strlen(b), big);
    ck_assert_uint_eq(p.nchunks, 2);
    /* same chunk as "first": after its NUL, aligned, and the number of "second" */
    ck_assert_ptr_eq(c, a + ((strlen("first") + 1 + 3) & ~(size_t)3) + 4);
    ck_assert_uint_eq(rg_strpool_id(b), 1);
    ck_assert_uint_eq(rg_strpool_id(c), 2);
    ck_assert_ptr_eq(rg_strpool_add(&p, s), b);
    memset(s, 'y', RG_STRPOOL_STR_MAX + 1);
    s[RG_STRPOOL_STR_MAX + 1] = '\0';
    ck_assert_ptr_null(rg_strpool_add(&p, s));
    d = rg_strpool_intern(&p, s, RG_STRPOOL_STR_MAX);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(strlen(d), RG_STRPOOL_STR_MAX);
    ck_assert_uint_eq(p.count, 4);
    free(s);
    rg_strpool_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strpool");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, same_bytes_same_pointer);
    tcase_add_test(tc, many_strings_stay_put);
    tcase_add_test(tc, oversized_and_limits);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
