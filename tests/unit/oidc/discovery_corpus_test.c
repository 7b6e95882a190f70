/* Seed corpus of discovery documents (tests/data/oidc/discovery): ok-*.json must be accepted
 * and bad-*.json refused for the configured issuer https://idp.example.test/t/v2.0. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "oidc/provider.h"

#define ISSUER "https://idp.example.test/t/v2.0"

static char datadir[1024];

static void find_data(void)
{
    const char *env = getenv("RG_TEST_DATA");
    if (env && *env) {
        snprintf(datadir, sizeof datadir, "%s", env);
    } else {
        /* __FILE__ is absolute under CMake, relative when compiled by hand from the root */
        const char *file = __FILE__;
        const char *cut = strstr(file, "tests/unit/");
        ck_assert_ptr_nonnull(cut);
        snprintf(datadir, sizeof datadir, "%.*stests/data", (int)(cut - file), file);
    }
}

START_TEST(documents)
{
    char dir[1200], path[1500];
    DIR *d;
    struct dirent *de;
    int ok = 0, bad = 0;

    find_data();
    snprintf(dir, sizeof dir, "%s/oidc/discovery", datadir);
    d = opendir(dir);
    ck_assert_msg(d != NULL, "corpus directory %s missing", dir);
    while ((de = readdir(d)) != NULL) {
        struct rg_oidc_discovery disc;
        struct rg_msg msg = {{0}};
        struct rg_buf b;
        rg_err e;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(rg_file_read(path, 1024 * 1024, &b), RG_OK);
        e = rg_oidc_discovery_parse(b.data, b.len, ISSUER, &disc, &msg);
        rg_buf_free(&b);
        if (strncmp(de->d_name, "ok-", 3) == 0) {
            ck_assert_msg(e == RG_OK, "%s refused: %s", de->d_name, msg.text);
            ck_assert_str_eq(disc.issuer, ISSUER);
            rg_oidc_discovery_clear(&disc);
            ok++;
        } else {
            ck_assert_msg(e != RG_OK, "%s accepted", de->d_name);
            ck_assert_ptr_null(disc.issuer);
            bad++;
        }
    }
    closedir(d);
    ck_assert_int_ge(ok, 3);
    ck_assert_int_ge(bad, 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("discovery_corpus");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, documents);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
