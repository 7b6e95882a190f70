/* Seed corpus of hostile inputs (tests/data/jose): every token in bad-tokens/ must be refused
 * by rg_jws_parse or rg_jws_verify (against a key set holding one RSA key with kid "k1",
 * allowing RS256 only), and every key set in bad-jwks/ must yield no usable key.
 * The files are made by hand-written rules (see the names); each is one case of the
 * malformed-input catalogue in the RP test specification. */
#include <check.h>
#include <dirent.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "jose/jws.h"

static char datadir[1024];

/* RG_TEST_DATA (set by ctest), else tests/data next to this source file. */
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

typedef void (*case_fn)(const char *name, const char *text, size_t len);

static int each_file(const char *sub, const char *suffix, case_fn fn)
{
    char dir[1200], path[1500];
    DIR *d;
    struct dirent *de;
    int n = 0;

    snprintf(dir, sizeof dir, "%s/%s", datadir, sub);
    d = opendir(dir);
    ck_assert_msg(d != NULL, "corpus directory %s missing", dir);
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        struct rg_buf b;
        if (l <= strlen(suffix) || strcmp(de->d_name + l - strlen(suffix), suffix) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        ck_assert_int_eq(rg_file_read(path, 4 * 1024 * 1024, &b), RG_OK);
        fn(de->d_name, b.data, b.len);
        rg_buf_free(&b);
        n++;
    }
    closedir(d);
    return n;
}

static struct rg_jwks keys;

static void token_case(const char *name, const char *text, size_t len)
{
    const char *algs[] = {"RS256", NULL};
    struct rg_jws jws;
    struct rg_msg msg = {{0}};
    rg_err e = rg_jws_parse(text, len, &jws, &msg);
    if (e == RG_OK) {
        e = rg_jws_verify(&jws, &keys, algs, NULL, &msg);
        rg_jws_free(&jws);
    }
    ck_assert_msg(e != RG_OK, "token %s was accepted", name);
    ck_assert_msg(msg.text[0] != '\0', "token %s refused without a reason", name);
    ck_assert_msg(strchr(msg.text, '\n') == NULL, "token %s: message has a newline", name);
}

static void jwks_case(const char *name, const char *text, size_t len)
{
    struct rg_jwks set;
    struct rg_msg msg = {{0}};
    ck_assert_msg(rg_jwks_parse(text, len, &set, &msg) != RG_OK, "key set %s was accepted", name);
    ck_assert_uint_eq(set.n, 0);
}

START_TEST(bad_tokens)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    json_t *j = rg_jwk_public_json(k, "k1", NULL);
    memset(&keys, 0, sizeof keys);
    ck_assert_int_eq(rg_jwk_from_json(j, &keys.keys[0], NULL), RG_OK);
    keys.n = 1;
    find_data();
    ck_assert_int_ge(each_file("jose/bad-tokens", ".jwt", token_case), 50);
    rg_jwks_free(&keys);
    json_decref(j);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(bad_key_sets)
{
    find_data();
    ck_assert_int_ge(each_file("jose/bad-jwks", ".json", jwks_case), 18);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jose_corpus");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, bad_tokens);
    tcase_add_test(tc, bad_key_sets);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
