/* Unit tests for src/oidc/pending.c: store/take, single use (threads and processes), expiry,
 * the limit, and refusal of malformed states. Runs in a fresh temporary directory. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oidc/pending.h"

static char base[256], dir[300];

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/rg-pending-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(dir, sizeof dir, "%s/priv/openid", base);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    ck_assert_int_eq(system(cmd), 0);
}

static struct rg_oidc_pending sample(time_t ctime)
{
    struct rg_oidc_pending p;
    memset(&p, 0, sizeof p);
    strcpy(p.realm, "entra");
    p.nonce = "nonce-abcdefghijklmnopqr";
    p.pkce_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    p.redirect_url = "https://pve.example.test:8006";
    p.ctime = ctime;
    return p;
}

static void hashed_path(const char *state, char *out, size_t outsz)
{
    unsigned char md[32];
    unsigned int n;
    char hex[65];
    EVP_Digest(state, strlen(state), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, outsz, "%s/%s.json", dir, hex);
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

START_TEST(store_and_take)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now), got;
    char state[RG_STATE_LEN + 1], path[512];
    struct rg_msg msg = {{0}};
    struct stat st;
    struct rg_buf text;
    json_t *doc;

    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, &msg), RG_OK);
    ck_assert_uint_eq(strlen(state), 43);
    ck_assert(rg_pending_state_valid(state));
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    hashed_path(state, path, sizeof path);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq((long)st.st_mtime, (long)now);
    ck_assert_int_eq(count_files(), 1);
    /* the state itself is not in the file name nor in the file */
    ck_assert_int_eq(rg_file_read(path, 8192, &text), RG_OK);
    ck_assert_ptr_null(strstr(text.data, state));
    doc = json_loads(text.data, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "realm")), "entra");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "nonce")), p.nonce);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "pkce_verifier")), p.pkce_verifier);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "redirect_url")), p.redirect_url);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "ctime")), now);
    json_decref(doc);
    rg_buf_free(&text);

    ck_assert_int_eq(rg_pending_take(dir, state, now + 5, &got, &msg), RG_OK);
    ck_assert_str_eq(got.realm, "entra");
    ck_assert_str_eq(got.nonce, p.nonce);
    ck_assert_str_eq(got.pkce_verifier, p.pkce_verifier);
    ck_assert_str_eq(got.redirect_url, p.redirect_url);
    ck_assert_int_eq((long)got.ctime, (long)now);
    rg_oidc_pending_clear(&got);
    ck_assert_ptr_null(got.nonce);
    ck_assert_int_eq(count_files(), 0);

    /* single use */
    ck_assert_int_eq(rg_pending_take(dir, state, now + 5, &got, &msg), RG_ERR_NOTFOUND);
    ck_assert_str_eq(msg.text, "no openid auth state found (possible timeout)");
    ck_assert_ptr_null(got.nonce);
}
END_TEST

START_TEST(states_are_fresh)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now);
    char s1[RG_STATE_LEN + 1], s2[RG_STATE_LEN + 1];
    ck_assert_int_eq(rg_pending_store(dir, &p, now, s1, NULL), RG_OK);
    ck_assert_int_eq(rg_pending_store(dir, &p, now, s2, NULL), RG_OK);
    ck_assert_str_ne(s1, s2);
    ck_assert_int_eq(count_files(), 2);
}
END_TEST

START_TEST(expired_refused)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now - 601), got;
    char state[RG_STATE_LEN + 1];
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, &msg), RG_OK);
    ck_assert_int_eq(rg_pending_take(dir, state, now, &got, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "openid auth state expired (started 601 s ago)");
    ck_assert_ptr_null(got.nonce);
    /* used up all the same */
    ck_assert_int_eq(count_files(), 0);
    /* exactly at the edge it is still valid */
    p = sample(now - 600);
    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, &msg), RG_OK);
    ck_assert_int_eq(rg_pending_take(dir, state, now, &got, &msg), RG_OK);
    rg_oidc_pending_clear(&got);
}
END_TEST

START_TEST(store_sweeps_expired)
{
    time_t now = time(NULL);
    struct rg_oidc_pending old = sample(now - 700), fresh = sample(now);
    char state[RG_STATE_LEN + 1], keep[RG_STATE_LEN + 1];

    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(rg_pending_store(dir, &old, now - 700, state, NULL), RG_OK);
    ck_assert_int_eq(rg_pending_store(dir, &fresh, now - 700, keep, NULL), RG_OK);
    ck_assert_int_eq(count_files(), 6);
    ck_assert_int_eq(rg_pending_store(dir, &fresh, now, state, NULL), RG_OK);
    ck_assert_int_eq(count_files(), 2);
}
END_TEST

START_TEST(limit)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now);
    char state[RG_STATE_LEN + 1], path[512];
    struct rg_msg msg = {{0}};
    struct timespec old[2] = {{now - 1000, 0}, {now - 1000, 0}};

    /* fill up with RG_PENDING_MAX entries written directly (storing 1000 times is slow) */
    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, NULL), RG_OK);
    for (int i = 1; i < RG_PENDING_MAX; i++) {
        char fake[RG_STATE_LEN + 1];
        int fd;
        snprintf(fake, sizeof fake, "%043d", i);
        hashed_path(fake, path, sizeof path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    ck_assert_int_eq(count_files(), RG_PENDING_MAX);
    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, &msg), RG_ERR_LIMIT);
    ck_assert_str_eq(msg.text, "too many pending openid auth requests");
    ck_assert_int_eq(count_files(), RG_PENDING_MAX);
    /* one expires: room again */
    ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, &msg), RG_OK);
    ck_assert_int_eq(count_files(), RG_PENDING_MAX);
}
END_TEST

START_TEST(bad_state_refused)
{
    const char *bad[] = {
        "",
        "short",
        "../../../../../../../../../../../etc/passwd",   /* 43 chars, '.' and '/' */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* 42 */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* 44 */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",   /* padding */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",   /* std alphabet */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "{\"csrf_token\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"r\":1}",
    };
    struct rg_oidc_pending got;
    struct rg_msg msg = {{0}};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(rg_pending_take(dir, bad[i], time(NULL), &got, &msg), RG_ERR_INVALID);
        ck_assert_str_eq(msg.text, "malformed openid state");
    }
    ck_assert_int_eq(rg_pending_take(dir, NULL, time(NULL), &got, &msg), RG_ERR_INVALID);
    /* well-formed but unknown */
    ck_assert_int_eq(rg_pending_take(dir, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-", time(NULL),
                                     &got, &msg),
                     RG_ERR_NOTFOUND);
}
END_TEST

START_TEST(corrupt_file_refused)
{
    const char *state = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyAAA";
    char path[512];
    struct rg_oidc_pending got;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_mkdir_p(dir, 0700), RG_OK);
    hashed_path(state, path, sizeof path);
    ck_assert_int_eq(rg_file_write_atomic(path, "{\"realm\":\"x\"}", 13, 0600), RG_OK);
    ck_assert_int_eq(rg_pending_take(dir, state, time(NULL), &got, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "pending login file is corrupt");
    ck_assert_int_eq(count_files(), 0);
}
END_TEST

struct racer {
    const char *state;
    rg_err result;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct rg_oidc_pending got;
    r->result = rg_pending_take(dir, r->state, time(NULL), &got, NULL);
    if (r->result == RG_OK)
        rg_oidc_pending_clear(&got);
    return NULL;
}

START_TEST(concurrent_take_threads)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now);
    char state[RG_STATE_LEN + 1];
    struct racer r[16];
    pthread_t th[16];
    int ok = 0, notfound = 0;

    for (int round = 0; round < 20; round++) {
        ck_assert_int_eq(rg_pending_store(dir, &p, now, state, NULL), RG_OK);
        for (int i = 0; i < 16; i++) {
            r[i].state = state;
            ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < 16; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].result == RG_OK;
            notfound += r[i].result == RG_ERR_NOTFOUND;
        }
    }
    ck_assert_int_eq(ok, 20);
    ck_assert_int_eq(notfound, 20 * 15);
    ck_assert_int_eq(count_files(), 0);
}
END_TEST

START_TEST(concurrent_take_processes)
{
    time_t now = time(NULL);
    struct rg_oidc_pending p = sample(now);
    char state[RG_STATE_LEN + 1];
    pid_t kids[8];
    int ok = 0, notfound = 0;

    ck_assert_int_eq(rg_pending_store(dir, &p, now, state, NULL), RG_OK);
    for (int i = 0; i < 8; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            struct rg_oidc_pending got;
            rg_err e = rg_pending_take(dir, state, time(NULL), &got, NULL);
            _exit(e == RG_OK ? 0 : e == RG_ERR_NOTFOUND ? 1 : 2);
        }
    }
    for (int i = 0; i < 8; i++) {
        int st;
        ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
        ck_assert(WIFEXITED(st));
        ok += WEXITSTATUS(st) == 0;
        notfound += WEXITSTATUS(st) == 1;
    }
    ck_assert_int_eq(ok, 1);
    ck_assert_int_eq(notfound, 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pending");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_and_take);
    tcase_add_test(tc, states_are_fresh);
    tcase_add_test(tc, expired_refused);
    tcase_add_test(tc, store_sweeps_expired);
    tcase_add_test(tc, limit);
    tcase_add_test(tc, bad_state_refused);
    tcase_add_test(tc, corrupt_file_refused);
    tcase_add_test(tc, concurrent_take_threads);
    tcase_add_test(tc, concurrent_take_processes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
