/* Unit tests for src/access/pam.c: the helper wire protocol (bounds, malformed frames) and
 * the client pool (restart after a crash, timeout, protocol garbage, idle death, parallel
 * requests) against tests/data/access/fake-pam-helper, which speaks the same protocol
 * without PAM. The real helper with real PAM is covered by tests/e2e/pam_test.py. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access/pam.h"

static char fake[1024];

static void use_fake(int timeout_ms)
{
    const char *dir = getenv("RG_TEST_DATA");

    snprintf(fake, sizeof fake, "%s/access/fake-pam-helper", dir ? dir : "tests/data");
    ck_assert_int_eq(access(fake, X_OK), 0);
    ck_assert_int_eq(rg_pam_configure(fake, 2, timeout_ms), RG_OK);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(request_roundtrip)
{
    unsigned char f[4 + RG_PAM_FRAME_MAX];
    struct rg_pam_request rq;
    size_t n;

    ck_assert_int_eq(rg_pam_request_encode("bob", "s3cret", "192.0.2.1", f, sizeof f, &n), RG_OK);
    ck_assert_uint_eq(n, 4 + 1 + 2 + 3 + 2 + 6 + 2 + 9);
    ck_assert_int_eq(memcmp(f, "\x00\x00\x00\x19\x01\x00\x03" "bob\x00\x06" "s3cret", 17), 0);
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_OK);
    ck_assert_str_eq(rq.user, "bob");
    ck_assert_str_eq(rq.password, "s3cret");
    ck_assert_str_eq(rq.rhost, "192.0.2.1");
    /* rhost optional */
    ck_assert_int_eq(rg_pam_request_encode("bob", "pw", NULL, f, sizeof f, &n), RG_OK);
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_OK);
    ck_assert_str_eq(rq.rhost, "");
}
END_TEST

START_TEST(request_bounds)
{
    static unsigned char f[4 + RG_PAM_FRAME_MAX];
    static char pw[RG_PAM_PASSWORD_MAX + 2];
    struct rg_pam_request rq;
    char user[RG_PAM_USER_MAX + 2];
    size_t n;

    memset(pw, 'p', RG_PAM_PASSWORD_MAX);
    pw[RG_PAM_PASSWORD_MAX] = '\0';
    ck_assert_int_eq(rg_pam_request_encode("bob", pw, "::1", f, sizeof f, &n), RG_OK);
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_OK);
    ck_assert_uint_eq(strlen(rq.password), RG_PAM_PASSWORD_MAX);
    pw[RG_PAM_PASSWORD_MAX] = 'p';
    pw[RG_PAM_PASSWORD_MAX + 1] = '\0';
    ck_assert_int_eq(rg_pam_request_encode("bob", pw, "::1", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("bob", "", "::1", f, sizeof f, &n), RG_ERR_INVALID);
    memset(user, 'u', RG_PAM_USER_MAX);
    user[RG_PAM_USER_MAX] = '\0';
    ck_assert_int_eq(rg_pam_request_encode(user, "x", "", f, sizeof f, &n), RG_OK);
    user[RG_PAM_USER_MAX] = 'u';
    user[RG_PAM_USER_MAX + 1] = '\0';
    ck_assert_int_eq(rg_pam_request_encode(user, "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("a:b", "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("a b", "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("../x", "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("-x", "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("", "x", "", f, sizeof f, &n), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("bob", "x", "1.2.3.4 x", f, sizeof f, &n),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_request_encode("bob", "x", "", f, 10, &n), RG_ERR_LIMIT);
}
END_TEST

START_TEST(request_malformed)
{
    unsigned char f[64];
    struct rg_pam_request rq;
    size_t n;

    ck_assert_int_eq(rg_pam_request_encode("bob", "pw", "h", f, sizeof f, &n), RG_OK);
    /* truncated at every length */
    for (size_t k = 0; k < n - 4; k++)
        ck_assert_int_eq(rg_pam_request_decode(f + 4, k, &rq), RG_ERR_INVALID);
    /* trailing byte */
    f[n] = 'x';
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 3, &rq), RG_ERR_INVALID);
    /* wrong version */
    f[4] = 2;
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_ERR_INVALID);
    f[4] = 1;
    /* NUL inside the password (offset: 4 + 1 + 2 + 3 + 2) */
    f[12] = '\0';
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_ERR_INVALID);
    ck_assert_str_eq(rq.password, ""); /* wiped on failure */
    /* a length field pointing past the end */
    ck_assert_int_eq(rg_pam_request_encode("bob", "pw", "h", f, sizeof f, &n), RG_OK);
    f[10] = 0xff;
    ck_assert_int_eq(rg_pam_request_decode(f + 4, n - 4, &rq), RG_ERR_INVALID);
}
END_TEST

START_TEST(reply_roundtrip)
{
    unsigned char f[4 + 3 + RG_PAM_REASON_MAX];
    char reason[RG_PAM_REASON_MAX + 1], longr[400];
    enum rg_pam_status st;
    size_t n;

    ck_assert_int_eq(rg_pam_reply_encode(RG_PAM_DENIED, "Authentication failure", f, sizeof f,
                                         &n),
                     RG_OK);
    ck_assert_uint_eq(n, 4 + 3 + 22);
    ck_assert_int_eq(rg_pam_reply_decode(f + 4, n - 4, &st, reason), RG_OK);
    ck_assert_int_eq(st, RG_PAM_DENIED);
    ck_assert_str_eq(reason, "Authentication failure");
    ck_assert_int_eq(rg_pam_reply_encode(RG_PAM_OK, "a\nb\x01", f, sizeof f, &n), RG_OK);
    ck_assert_int_eq(rg_pam_reply_decode(f + 4, n - 4, &st, reason), RG_OK);
    ck_assert_int_eq(st, RG_PAM_OK);
    ck_assert_str_eq(reason, "a?b?");
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = '\0';
    ck_assert_int_eq(rg_pam_reply_encode(RG_PAM_FAILED, longr, f, sizeof f, &n), RG_OK);
    ck_assert_int_eq(rg_pam_reply_decode(f + 4, n - 4, &st, reason), RG_OK);
    ck_assert_uint_eq(strlen(reason), RG_PAM_REASON_MAX);
    /* bad status, bad length, control char */
    ck_assert_int_eq(rg_pam_reply_decode((const unsigned char *)"\x03\x00\x00", 3, &st, reason),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_reply_decode((const unsigned char *)"\x01\x00\x02x", 4, &st, reason),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_reply_decode((const unsigned char *)"\x01\x00\x01\n", 4, &st, reason),
                     RG_ERR_INVALID);
}
END_TEST

START_TEST(client_answers)
{
    struct rg_msg msg = {{0}};

    use_fake(5000);
    ck_assert_int_eq(rg_pam_authenticate("alice", "right", "192.0.2.7", &msg), RG_OK);
    ck_assert_int_eq(rg_pam_authenticate("alice", "wrong", "192.0.2.7", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "Authentication failure");
    ck_assert_int_eq(rg_pam_authenticate("rhost", "12345", "2001:db8::1", &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "rhost=2001:db8::1|pw=5");
    ck_assert_int_eq(rg_pam_authenticate("nobody", "x", NULL, &msg), RG_ERR_IO);
    ck_assert_str_eq(msg.text, "PAM error: unexpected user");
    /* refused before any helper is involved */
    ck_assert_int_eq(rg_pam_authenticate("a:b", "x", NULL, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_pam_authenticate("alice", "", NULL, &msg), RG_ERR_INVALID);
    rg_pam_shutdown();
}
END_TEST

static void helper_pid_via_request(void)
{
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_pam_authenticate("pid", "x", NULL, &msg), RG_OK);
    ck_assert_int_eq(strncmp(msg.text, "", 1), 0); /* RG_OK leaves msg untouched */
}

START_TEST(client_restarts)
{
    struct rg_msg msg = {{0}};
    int pids[RG_PAM_POOL_MAX], first;
    double t0;

    use_fake(1500);
    helper_pid_via_request();
    ck_assert_uint_eq(rg_pam_helper_pids(pids, RG_PAM_POOL_MAX), 2);
    first = pids[0];
    ck_assert_int_gt(first, 0);
    ck_assert_int_eq(pids[1], 0); /* one request at a time: the second slot never started */
    helper_pid_via_request();
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_eq(pids[0], first); /* the helper is reused */

    /* crash while answering: an error for that request, a fresh helper for the next */
    ck_assert_int_eq(rg_pam_authenticate("crash", "x", NULL, &msg), RG_ERR_IO);
    ck_assert_str_eq(msg.text, "PAM helper failed");
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_eq(pids[0], 0);
    ck_assert_int_eq(rg_pam_authenticate("alice", "right", NULL, &msg), RG_OK);
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_gt(pids[0], 0);
    ck_assert_int_ne(pids[0], first);

    /* no answer within the timeout: killed, error, restarted afterwards */
    t0 = now_s();
    ck_assert_int_eq(rg_pam_authenticate("slow", "x", NULL, &msg), RG_ERR_IO);
    ck_assert(now_s() - t0 >= 1.4 && now_s() - t0 < 6.0);
    ck_assert_int_eq(rg_pam_authenticate("alice", "right", NULL, &msg), RG_OK);

    /* nonsense reply */
    ck_assert_int_eq(rg_pam_authenticate("garbage", "x", NULL, &msg), RG_ERR_IO);
    ck_assert_int_eq(rg_pam_authenticate("alice", "wrong", NULL, &msg), RG_ERR_AUTH);

    /* died while idle (killed from outside): the request is retried on a new helper */
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    first = pids[0];
    ck_assert_int_eq(kill(first, SIGKILL), 0);
    usleep(200 * 1000);
    ck_assert_int_eq(rg_pam_authenticate("alice", "right", NULL, &msg), RG_OK);
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_ne(pids[0], first);
    rg_pam_shutdown();
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_eq(pids[0], 0);
}
END_TEST

START_TEST(client_missing_helper)
{
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_pam_configure("/nonexistent/realmgate-pam-helper", 1, 1000), RG_OK);
    ck_assert_int_eq(rg_pam_authenticate("alice", "right", NULL, &msg), RG_ERR_CONFIG);
    ck_assert_str_eq(msg.text, "PAM helper '/nonexistent/realmgate-pam-helper' cannot be "
                               "started: No such file or directory");
    ck_assert_int_eq(rg_pam_start(&msg), RG_ERR_CONFIG);
}
END_TEST

static void *parallel_one(void *arg)
{
    struct rg_msg msg = {{0}};

    *(rg_err *)arg = rg_pam_authenticate("wait", "x", "127.0.0.1", &msg);
    return NULL;
}

START_TEST(client_parallel_pool)
{
    pthread_t th[4];
    rg_err res[4];
    int pids[RG_PAM_POOL_MAX];
    double t0, dt;

    use_fake(5000);
    t0 = now_s();
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, parallel_one, &res[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(res[i], RG_OK);
    }
    dt = now_s() - t0;
    /* two helpers, four 0.5 s requests: at least two rounds (never more than two at once);
     * that both helpers served shows they ran side by side */
    ck_assert_msg(dt >= 0.95 && dt < 10.0, "elapsed %.2f s", dt);
    rg_pam_helper_pids(pids, RG_PAM_POOL_MAX);
    ck_assert_int_gt(pids[0], 0);
    ck_assert_int_gt(pids[1], 0);
    ck_assert_int_ne(pids[0], pids[1]);
    rg_pam_shutdown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pam");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, request_roundtrip);
    tcase_add_test(tc, request_bounds);
    tcase_add_test(tc, request_malformed);
    tcase_add_test(tc, reply_roundtrip);
    tcase_add_test(tc, client_answers);
    tcase_add_test(tc, client_restarts);
    tcase_add_test(tc, client_missing_helper);
    tcase_add_test(tc, client_parallel_pool);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
