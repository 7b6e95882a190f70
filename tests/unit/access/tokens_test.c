/* Unit tests for src/access/tokens.c: token.cfg parsing/writing, salted hashes, Proxmox
 * plain-text import and conversion, and the locked file operations on a config directory. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/store.h"
#include "access/tokens.h"
#include "base/fsutil.h"

#define UUID1 "2ba1c3b4-6a4f-4c5e-9d1a-0f9e8d7c6b5a"
#define UUID2 "0c1d2e3f-4a5b-4c6d-8e7f-a1b2c3d4e5f6"

static int nwarn;

static void count_warn(void *ctx, int line, const char *text)
{
    (void)ctx;
    (void)line;
    (void)text;
    nwarn++;
}

START_TEST(hash_and_check)
{
    char *h1 = NULL, *h2 = NULL;

    ck_assert_int_eq(rg_token_secret_hash(UUID1, &h1), RG_OK);
    ck_assert_int_eq(rg_token_secret_hash(UUID1, &h2), RG_OK);
    ck_assert_uint_eq(strlen(h1), 13 + 22 + 1 + 43);
    ck_assert(strncmp(h1, "$hmac-sha256$", 13) == 0);
    ck_assert_str_ne(h1, h2); /* salted */
    ck_assert_ptr_null(strstr(h1, UUID1));
    ck_assert_int_eq(rg_token_secret_check(UUID1, h1), RG_OK);
    ck_assert_int_eq(rg_token_secret_check(UUID1, h2), RG_OK);
    ck_assert_int_eq(rg_token_secret_check(UUID2, h1), RG_ERR_AUTH);
    ck_assert_int_eq(rg_token_secret_check("", h1), RG_ERR_AUTH);
    /* one changed MAC character */
    h1[strlen(h1) - 2] = h1[strlen(h1) - 2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rg_token_secret_check(UUID1, h1), RG_ERR_AUTH);
    /* plain (Proxmox) values compare exactly */
    ck_assert_int_eq(rg_token_secret_check(UUID1, UUID1), RG_OK);
    ck_assert_int_eq(rg_token_secret_check(UUID1 "x", UUID1), RG_ERR_AUTH);
    ck_assert_int_eq(rg_token_secret_check(UUID1, "$hmac-sha256$short$x"), RG_ERR_INVALID);
    free(h1);
    free(h2);
}
END_TEST

START_TEST(parse_plain_and_hashed)
{
    char *h = NULL, text[1024];
    struct rg_tokencfg tc;
    struct rg_buf out;

    ck_assert_int_eq(rg_token_secret_hash(UUID2, &h), RG_OK);
    snprintf(text, sizeof text,
             "root@pam!zz " UUID1 "\n"
             "\n"
             "  alice@pve!ci %s  \n"
             "bad line\n"
             "nobody " UUID1 "\n"
             "bob@pve!xy $hmac-sha256$broken\n"
             "bob@pve!yy \n"
             "carol@pve!old " UUID2 "\n"
             "carol@pve!old " UUID1 "\n",
             h);
    nwarn = 0;
    ck_assert_int_eq(rg_tokencfg_parse(text, strlen(text), &tc, count_warn, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 5); /* 4 bad lines + the repeated id */
    ck_assert_uint_eq(tc.n, 3);
    ck_assert_str_eq(tc.entries[0].id, "alice@pve!ci"); /* sorted */
    ck_assert_str_eq(tc.entries[1].id, "carol@pve!old");
    ck_assert_str_eq(tc.entries[2].id, "root@pam!zz");
    ck_assert_uint_eq(rg_tokencfg_nplain(&tc), 2); /* carol's and root's; alice's is hashed */
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "alice@pve!ci", UUID2), RG_OK);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "alice@pve!ci", UUID1), RG_ERR_AUTH);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "root@pam!zz", UUID1), RG_OK);
    /* a repeated id replaces the earlier line */
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "carol@pve!old", UUID1), RG_OK);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "carol@pve!old", UUID2), RG_ERR_AUTH);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "dave@pve!x", UUID1), RG_ERR_NOTFOUND);

    /* the writer emits hashes only: plain secrets are converted */
    rg_buf_init(&out, 1 << 20);
    ck_assert_int_eq(rg_tokencfg_write(&tc, &out), RG_OK);
    ck_assert_ptr_null(strstr(out.data, UUID1));
    ck_assert_ptr_null(strstr(out.data, UUID2));
    {
        struct rg_tokencfg again;
        nwarn = 0;
        ck_assert_int_eq(rg_tokencfg_parse(out.data, out.len, &again, count_warn, NULL), RG_OK);
        ck_assert_int_eq(nwarn, 0);
        ck_assert_uint_eq(again.n, 3);
        ck_assert_uint_eq(rg_tokencfg_nplain(&again), 0);
        for (size_t i = 0; i < again.n; i++)
            ck_assert(strncmp(again.entries[i].stored, "$hmac-sha256$", 13) == 0);
        ck_assert_int_eq(rg_tokencfg_verify(&again, "root@pam!zz", UUID1), RG_OK);
        ck_assert_int_eq(rg_tokencfg_verify(&again, "carol@pve!old", UUID1), RG_OK);
        ck_assert_int_eq(rg_tokencfg_verify(&again, "alice@pve!ci", UUID2), RG_OK);
        /* the hashed line of alice is written unchanged */
        ck_assert_str_eq(again.entries[0].stored, h);
        rg_tokencfg_free(&again);
    }
    rg_buf_free(&out);
    rg_tokencfg_free(&tc);
    free(h);
}
END_TEST

START_TEST(set_remove)
{
    struct rg_tokencfg tc;

    rg_tokencfg_init(&tc);
    ck_assert_int_eq(rg_tokencfg_set(&tc, "b@pve!t1", UUID1), RG_OK);
    ck_assert_int_eq(rg_tokencfg_set(&tc, "a@pve!t1", UUID1), RG_OK);
    ck_assert_int_eq(rg_tokencfg_set(&tc, "a@pve!t2", UUID2), RG_OK);
    ck_assert_int_eq(rg_tokencfg_set(&tc, "a@pve!t2", UUID1), RG_OK); /* replaces */
    ck_assert_int_eq(rg_tokencfg_set(&tc, "not a token", UUID1), RG_ERR_INVALID);
    ck_assert_int_eq(rg_tokencfg_set(&tc, "a@pve!t3", ""), RG_ERR_INVALID);
    ck_assert_uint_eq(tc.n, 3);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "a@pve!t2", UUID1), RG_OK);
    ck_assert_int_eq(rg_tokencfg_verify(&tc, "a@pve!t2", UUID2), RG_ERR_AUTH);
    /* "a@pve" must not match "a@pve2!..." or "b@pve!..." */
    ck_assert_int_eq(rg_tokencfg_set(&tc, "a@pve2!t1", UUID1), RG_OK);
    ck_assert_uint_eq(rg_tokencfg_remove_user(&tc, "a@pve"), 2);
    ck_assert_uint_eq(tc.n, 2);
    ck_assert_str_eq(tc.entries[0].id, "a@pve2!t1");
    ck_assert_str_eq(tc.entries[1].id, "b@pve!t1");
    ck_assert_int_eq(rg_tokencfg_remove(&tc, "b@pve!t1"), RG_OK);
    ck_assert_int_eq(rg_tokencfg_remove(&tc, "b@pve!t1"), RG_ERR_NOTFOUND);
    ck_assert_uint_eq(tc.n, 1);
    rg_tokencfg_free(&tc);
}
END_TEST

START_TEST(oversize_refused)
{
    struct rg_tokencfg tc;
    size_t n = RG_TOKENCFG_FILE_MAX + 1;
    char *big = malloc(n);

    memset(big, '\n', n);
    ck_assert_int_eq(rg_tokencfg_parse(big, n, &tc, count_warn, NULL), RG_ERR_LIMIT);
    free(big);
}
END_TEST

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *read_text(const char *path)
{
    struct rg_buf b;
    if (rg_file_read(path, 1 << 20, &b) != RG_OK)
        return NULL;
    return rg_buf_steal(&b);
}

/* Verifies a secret the way a token request does: against the store's current snapshot. */
static rg_err snap_verify(struct rg_store *st, const char *tokenid, const char *secret)
{
    const struct rg_snapshot *snap = rg_store_acquire(st);
    rg_err e = rg_tokencfg_verify(&snap->tokens, tokenid, secret);
    rg_store_release(snap);
    return e;
}

START_TEST(store_operations)
{
    char dir[] = "/tmp/rg-tokens-XXXXXX", path[512], secret[RG_TOKEN_SECRET_LEN + 1], *text;
    struct rg_store *st = NULL;
    struct rg_msg msg = {{0}};
    struct stat sb;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(rg_store_open(dir, &st, &msg), RG_OK);
    snprintf(path, sizeof path, "%s/priv/token.cfg", dir);

    /* no file: nothing verifies */
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", UUID1), RG_ERR_NOTFOUND);

    ck_assert_int_eq(rg_tokens_generate(st, "a@pve!ci", secret, &msg), RG_OK);
    ck_assert_uint_eq(strlen(secret), 36);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", secret), RG_OK);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", UUID1), RG_ERR_AUTH);
    text = read_text(path);
    ck_assert_ptr_nonnull(text);
    ck_assert(strncmp(text, "a@pve!ci $hmac-sha256$", 22) == 0);
    ck_assert_ptr_null(strstr(text, secret));
    free(text);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);

    /* a Proxmox token.cfg (plain text) dropped in is accepted, then converted */
    f = fopen(path, "w");
    fputs("a@pve!ci " UUID1 "\nb@pve!xy " UUID2 "\n", f);
    fclose(f);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", UUID1), RG_OK);
    ck_assert_int_eq(snap_verify(st, "b@pve!xy", UUID2), RG_OK);
    {
        size_t n = 99;
        ck_assert_int_eq(rg_tokens_convert(st, &n, &msg), RG_OK);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(rg_tokens_convert(st, &n, &msg), RG_OK); /* nothing left to do */
        ck_assert_uint_eq(n, 0);
    }
    text = read_text(path);
    ck_assert_ptr_null(strstr(text, UUID1));
    ck_assert_ptr_null(strstr(text, UUID2));
    ck_assert_ptr_nonnull(strstr(text, "b@pve!xy $hmac-sha256$"));
    free(text);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", UUID1), RG_OK);
    ck_assert_int_eq(snap_verify(st, "b@pve!xy", UUID2), RG_OK);

    /* regenerate replaces; delete and delete_user remove */
    ck_assert_int_eq(rg_tokens_generate(st, "a@pve!ci", secret, &msg), RG_OK);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", UUID1), RG_ERR_AUTH);
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", secret), RG_OK);
    ck_assert_int_eq(rg_tokens_delete(st, "a@pve!ci", &msg), RG_OK);
    ck_assert_int_eq(rg_tokens_delete(st, "a@pve!ci", &msg), RG_OK); /* absent is fine */
    ck_assert_int_eq(snap_verify(st, "a@pve!ci", secret), RG_ERR_NOTFOUND);
    ck_assert_int_eq(rg_tokens_delete_user(st, "b@pve", &msg), RG_OK);
    text = read_text(path);
    ck_assert_str_eq(text, "");
    free(text);
    ck_assert_int_eq(rg_tokens_generate(st, "not-a-token", secret, &msg), RG_ERR_INVALID);
    rg_store_close(st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tokens");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, hash_and_check);
    tcase_add_test(tc, parse_plain_and_hashed);
    tcase_add_test(tc, set_remove);
    tcase_add_test(tc, oversize_refused);
    tcase_add_test(tc, store_operations);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
