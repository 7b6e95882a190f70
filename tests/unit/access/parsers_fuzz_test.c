/* Robustness of the access-layer parsers: thousands of deterministic mutations of the test
 * fixtures (byte flips, insertions of separators and control bytes, truncation, splicing)
 * must parse without crashing, and the writers must reach a fixed point:
 * write(parse(write(parse(x)))) == write(parse(x)). Ticket and CSRF verifiers get mutated
 * tokens and must refuse every one that differs from the original. Run under ASan in CI. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "access/csrf.h"
#include "access/domains.h"
#include "access/shadow.h"
#include "access/ticket.h"
#include "access/usercfg.h"
#include "base/fsutil.h"

#define ROUNDS 3000

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void quiet(void *ctx, int line, const char *text)
{
    (void)ctx;
    (void)line;
    (void)text;
}

static char *read_data(const char *name, size_t *len)
{
    char path[1024];
    const char *dir = getenv("RG_TEST_DATA");
    struct rg_buf b;
    char *s;
    snprintf(path, sizeof path, "%s/access/%s", dir ? dir : "tests/data", name);
    ck_assert_int_eq(rg_file_read(path, 1 << 20, &b), RG_OK);
    *len = b.len;
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

/* Mutates src into a fresh buffer (NUL-terminated, *len bytes; may contain NULs). */
static char *mutate(const char *src, size_t slen, size_t *len)
{
    static const char alphabet[] = ":\n\t %@!/,;#=\r\x01\x7f\xc3\xa4" "0aZ";
    size_t cap = slen + 64, n = slen;
    char *b = malloc(cap + 1);
    unsigned ops = 1 + rnd(6);

    memcpy(b, src, slen);
    for (unsigned k = 0; k < ops; k++) {
        unsigned op = rnd(5);
        size_t at = n ? rnd((unsigned)n) : 0;
        if (op == 0 && n) { /* flip */
            b[at] = alphabet[rnd(sizeof alphabet - 1)];
        } else if (op == 1 && n + 1 < cap) { /* insert */
            memmove(b + at + 1, b + at, n - at);
            b[at] = alphabet[rnd(sizeof alphabet - 1)];
            n++;
        } else if (op == 2 && n) { /* delete */
            memmove(b + at, b + at + 1, n - at - 1);
            n--;
        } else if (op == 3) { /* truncate */
            n = at;
        } else if (n) { /* duplicate a chunk */
            size_t l = rnd(16);
            if (at + l <= n && n + l < cap) {
                memmove(b + at + l, b + at, n - at);
                n += l;
            }
        }
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static char *usercfg_canon(const char *text, size_t len)
{
    struct rg_usercfg cfg;
    struct rg_buf out;
    char *s;
    ck_assert_int_eq(rg_usercfg_parse(text, len, &cfg, quiet, NULL), RG_OK);
    rg_buf_init(&out, 1 << 22);
    ck_assert_int_eq(rg_usercfg_write(&cfg, &out), RG_OK);
    rg_usercfg_free(&cfg);
    s = rg_buf_steal(&out);
    rg_buf_free(&out);
    return s;
}

static char *domains_canon(const char *text, size_t len)
{
    struct rg_domains d;
    struct rg_buf out;
    char *s;
    ck_assert_int_eq(rg_domains_parse(text, len, &d, quiet, NULL), RG_OK);
    rg_buf_init(&out, 1 << 22);
    ck_assert_int_eq(rg_domains_write(&d, &out), RG_OK);
    rg_domains_free(&d);
    s = rg_buf_steal(&out);
    rg_buf_free(&out);
    return s;
}

START_TEST(usercfg_fixed_point)
{
    static const char *const seeds[] = {"perm-test1.cfg", "perm-test5.cfg",
                                        "perm-pools-tokens.cfg"};
    for (size_t s = 0; s < 3; s++) {
        size_t slen;
        char *seed = read_data(seeds[s], &slen);
        for (int i = 0; i < ROUNDS; i++) {
            size_t mlen;
            char *m = mutate(seed, slen, &mlen);
            char *c1 = usercfg_canon(m, mlen);
            char *c2 = usercfg_canon(c1, strlen(c1));
            ck_assert_msg(!strcmp(c1, c2), "not a fixed point for input:\n%s", m);
            free(m);
            free(c1);
            free(c2);
        }
        free(seed);
    }
}
END_TEST

START_TEST(domains_fixed_point)
{
    size_t slen;
    char *seed = read_data("domains-example.cfg", &slen);

    for (int i = 0; i < ROUNDS * 3; i++) {
        size_t mlen;
        char *m = mutate(seed, slen, &mlen);
        char *c1 = domains_canon(m, mlen);
        char *c2 = domains_canon(c1, strlen(c1));
        ck_assert_msg(!strcmp(c1, c2), "not a fixed point for input:\n%s", m);
        free(m);
        free(c1);
        free(c2);
    }
    free(seed);
}
END_TEST

START_TEST(shadow_never_crashes)
{
    const char seed[] = "alice:$5$abc$def:\nbob:$6$saltsalt$x:\n";
    for (int i = 0; i < ROUNDS; i++) {
        size_t mlen;
        char *m = mutate(seed, sizeof seed - 1, &mlen);
        struct rg_shadow sh;
        struct rg_buf out;
        ck_assert_int_eq(rg_shadow_parse(m, mlen, &sh, quiet, NULL), RG_OK);
        rg_buf_init(&out, 1 << 20);
        ck_assert_int_eq(rg_shadow_write(&sh, &out), RG_OK);
        /* every written line is in the accepted format */
        {
            struct rg_shadow again;
            ck_assert_int_eq(rg_shadow_parse(out.data ? out.data : "", out.len, &again, NULL,
                                             NULL),
                             RG_OK);
            ck_assert_uint_eq(again.n, sh.n);
            rg_shadow_free(&again);
        }
        rg_buf_free(&out);
        rg_shadow_free(&sh);
        free(m);
    }
}
END_TEST

START_TEST(tokens_refuse_mutations)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    char secret[RG_CSRF_SECRET_LEN + 1], csrf[RG_CSRF_TOKEN_LEN + 1], *ticket;
    const long now = 1700000000L;

    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(rg_login_ticket_create(key, "a:b@sso", now, &ticket), RG_OK);
    ck_assert_int_eq(rg_csrf_secret("k", 1, secret), RG_OK);
    ck_assert_int_eq(rg_csrf_token_create(secret, "a:b@sso", now, csrf), RG_OK);
    for (int i = 0; i < ROUNDS; i++) {
        size_t mlen;
        char *m = mutate(ticket, strlen(ticket), &mlen);
        char *user = NULL;
        rg_err e = rg_login_ticket_verify(key, m, now, &user);
        if (strlen(m) == mlen && !strcmp(m, ticket))
            ck_assert_int_eq(e, RG_OK);
        else
            ck_assert_msg(e != RG_OK, "accepted a mutated ticket: %s", m);
        free(user);
        free(m);
        m = mutate(csrf, strlen(csrf), &mlen);
        e = rg_csrf_token_verify(secret, "a:b@sso", m, now);
        if (strlen(m) == mlen && !strcmp(m, csrf))
            ck_assert_int_eq(e, RG_OK);
        else
            ck_assert_msg(e != RG_OK, "accepted a mutated csrf token: %s", m);
        free(m);
    }
    free(ticket);
    EVP_PKEY_free(key);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parsers_fuzz");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, usercfg_fixed_point);
    tcase_add_test(tc, domains_fixed_point);
    tcase_add_test(tc, shadow_never_crashes);
    tcase_add_test(tc, tokens_refuse_mutations);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
