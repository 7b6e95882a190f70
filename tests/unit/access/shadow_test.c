/* Unit tests for src/access/shadow.c: pve-realm password hashes (spec §6). */
#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/shadow.h"

/* crypt("correct horse", "$6$saltsalt$") — SHA-512-crypt, produced by glibc/libxcrypt */
static const char SHA512_HASH[] =
    "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/"
    "uamSo5z0";

static int nwarn;

static void count(void *ctx, int line, const char *text)
{
    (void)ctx;
    (void)line;
    (void)text;
    nwarn++;
}

START_TEST(hash_and_check)
{
    char *h1, *h2;

    ck_assert_int_eq(rg_password_hash("s3cret!", &h1), RG_OK);
    ck_assert_int_eq(rg_password_hash("s3cret!", &h2), RG_OK);
    /* $5$ + 16 salt chars + '$' + 43 hash chars */
    ck_assert_int_eq(strncmp(h1, "$5$", 3), 0);
    ck_assert_uint_eq(strlen(h1), 3 + 16 + 1 + 43);
    ck_assert_int_eq(h1[19], '$');
    ck_assert_str_ne(h1, h2); /* random salt */
    ck_assert_int_eq(rg_password_check("s3cret!", h1), RG_OK);
    ck_assert_int_eq(rg_password_check("s3cret", h1), RG_ERR_AUTH);
    ck_assert_int_eq(rg_password_check("", h1), RG_ERR_AUTH);
    /* a hash that is not a crypt setting: treated as DES by crypt(), never equal */
    ck_assert_int_eq(rg_password_check("s3cret!", "garbage"), RG_ERR_AUTH);
    ck_assert_int_eq(rg_password_check("s3cret!", "$9$unknown$x"), RG_ERR_INVALID);
    ck_assert_int_eq(rg_password_check("s3cret!", ""), RG_ERR_INVALID);
    free(h1);
    free(h2);
}
END_TEST

START_TEST(other_schemes_verify)
{
    struct crypt_data cd;
    const char *y;

    ck_assert_int_eq(rg_password_check("correct horse", SHA512_HASH), RG_OK);
    ck_assert_int_eq(rg_password_check("correct horsf", SHA512_HASH), RG_ERR_AUTH);
    /* and one made right now by crypt_r with yescrypt */
    memset(&cd, 0, sizeof cd);
    y = crypt_r("pw", "$y$j9T$abcdefghijklmnop$", &cd);
    ck_assert_ptr_nonnull(y);
    if (y[0] == '$')
        ck_assert_int_eq(rg_password_check("pw", y), RG_OK);
}
END_TEST

START_TEST(file_format)
{
    const char *in = "alice:$5$abc$def:\n"
                     "bad line\n"
                     "  \n"
                     "bob:$6$saltsalt$x:  \n"
                     "noend:$5$x\n"
                     "sp ace:$5$x:\n"
                     "alice:$5$new$hash:\n";
    struct rg_shadow sh;
    struct rg_buf b;

    nwarn = 0;
    ck_assert_int_eq(rg_shadow_parse(in, strlen(in), &sh, count, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 3);
    ck_assert_uint_eq(sh.n, 2);
    ck_assert_str_eq(rg_shadow_get(&sh, "alice"), "$5$new$hash");
    ck_assert_str_eq(rg_shadow_get(&sh, "bob"), "$6$saltsalt$x");
    ck_assert_ptr_null(rg_shadow_get(&sh, "carol"));
    rg_buf_init(&b, 4096);
    ck_assert_int_eq(rg_shadow_write(&sh, &b), RG_OK);
    ck_assert_str_eq(b.data, "alice:$5$new$hash:\nbob:$6$saltsalt$x:\n");
    rg_buf_free(&b);
    ck_assert_int_eq(rg_shadow_delete(&sh, "alice"), RG_OK);
    ck_assert_int_eq(rg_shadow_delete(&sh, "alice"), RG_ERR_NOTFOUND);
    ck_assert_uint_eq(sh.n, 1);
    rg_shadow_free(&sh);
}
END_TEST

START_TEST(set_and_verify)
{
    struct rg_shadow sh;
    struct rg_msg m;
    char line[256];

    rg_shadow_init(&sh);
    ck_assert_int_eq(rg_shadow_set(&sh, "alice", "good password", &m), RG_OK);
    ck_assert_int_eq(rg_shadow_verify(&sh, "alice", "good password", &m), RG_OK);
    ck_assert_int_eq(rg_shadow_verify(&sh, "alice", "bad password", &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "invalid credentials");
    ck_assert_int_eq(rg_shadow_verify(&sh, "alice", "", &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "no password");
    ck_assert_int_eq(rg_shadow_verify(&sh, "bob", "x", &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "no password set");
    ck_assert_int_eq(rg_shadow_set(&sh, "alice", "", &m), RG_ERR_INVALID);
    ck_assert_int_eq(rg_shadow_set(&sh, "a:b", "x", &m), RG_ERR_INVALID);
    /* replacing keeps one entry */
    ck_assert_int_eq(rg_shadow_set(&sh, "alice", "second", &m), RG_OK);
    ck_assert_uint_eq(sh.n, 1);
    ck_assert_int_eq(rg_shadow_verify(&sh, "alice", "good password", &m), RG_ERR_AUTH);
    ck_assert_int_eq(rg_shadow_verify(&sh, "alice", "second", &m), RG_OK);
    /* a stored $6$ hash verifies */
    snprintf(line, sizeof line, "carol:%s:\n", SHA512_HASH);
    rg_shadow_free(&sh);
    ck_assert_int_eq(rg_shadow_parse(line, strlen(line), &sh, count, NULL), RG_OK);
    ck_assert_int_eq(rg_shadow_verify(&sh, "carol", "correct horse", &m), RG_OK);
    rg_shadow_free(&sh);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shadow");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, hash_and_check);
    tcase_add_test(tc, other_schemes_verify);
    tcase_add_test(tc, file_format);
    tcase_add_test(tc, set_and_verify);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
