/* Unit tests for src/base/b64.c: RFC 4648 §10 vectors and strict decoding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"

static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

START_TEST(rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        char *e = rg_b64_encode(plain[i], strlen(plain[i]));
        char *u = rg_b64url_encode(plain[i], strlen(plain[i]));
        unsigned char *d;
        size_t dl;
        ck_assert_str_eq(e, std[i]);
        ck_assert_str_eq(u, url[i]);
        ck_assert_int_eq(rg_b64_decode(std[i], strlen(std[i]), &d, &dl), RG_OK);
        ck_assert_uint_eq(dl, strlen(plain[i]));
        ck_assert_mem_eq(d, plain[i], dl);
        free(d);
        ck_assert_int_eq(rg_b64url_decode(url[i], strlen(url[i]), &d, &dl), RG_OK);
        ck_assert_uint_eq(dl, strlen(plain[i]));
        ck_assert_mem_eq(d, plain[i], dl);
        free(d);
        free(e);
        free(u);
    }
}
END_TEST

START_TEST(url_alphabet)
{
    const unsigned char raw[] = {0xfb, 0xff, 0xbf};
    char *u = rg_b64url_encode(raw, 3), *s = rg_b64_encode(raw, 3);
    ck_assert_str_eq(u, "-_-_");
    ck_assert_str_eq(s, "+/+/");
    free(u);
    free(s);
}
END_TEST

START_TEST(strict_decoding)
{
    unsigned char *d;
    size_t dl;
    /* padding is refused in base64url, required in base64 */
    ck_assert_int_eq(rg_b64url_decode("Zg==", 4, &d, &dl), RG_ERR_INVALID);
    ck_assert_int_eq(rg_b64_decode("Zg", 2, &d, &dl), RG_ERR_INVALID);
    /* wrong alphabet */
    ck_assert_int_eq(rg_b64url_decode("+/+/", 4, &d, &dl), RG_ERR_INVALID);
    ck_assert_int_eq(rg_b64_decode("-_-_", 4, &d, &dl), RG_ERR_INVALID);
    /* non-zero trailing bits ("Zh" would decode to 'f' with junk bits) */
    ck_assert_int_eq(rg_b64url_decode("Zh", 2, &d, &dl), RG_ERR_INVALID);
    /* impossible length */
    ck_assert_int_eq(rg_b64url_decode("Zm9vY", 5, &d, &dl), RG_ERR_INVALID);
    /* embedded whitespace */
    ck_assert_int_eq(rg_b64_decode("Zm9v Zg==", 9, &d, &dl), RG_ERR_INVALID);
    ck_assert_ptr_null(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("b64");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, rfc4648_vectors);
    tcase_add_test(tc, url_alphabet);
    tcase_add_test(tc, strict_decoding);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
