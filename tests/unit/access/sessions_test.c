/* Unit tests for src/access/sessions.c: session records, renewal chains, revocation by
 * ticket and by sid, expiry, and two handles on one directory (two server processes). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/sessions.h"
#include "access/ticket.h"
#include "base/buf.h"
#include "base/fsutil.h"

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rg-sessions-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    strcat(dir, "/sessions");
}

static struct rg_sessions *open_dir(void)
{
    struct rg_sessions *s = NULL;
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(rg_sessions_open(dir, &s, &msg), RG_OK);
    return s;
}

START_TEST(ticket_time_parse)
{
    time_t t = 0;
    ck_assert_int_eq(rg_ticket_time("PVE:alice@pve:6553F100::c2ln", &t), RG_OK);
    ck_assert_int_eq((long)t, 0x6553F100L);
    ck_assert_int_eq(rg_ticket_time("PVE:alice@pve:6553f100::c2ln", &t), RG_ERR_INVALID);
    ck_assert_int_eq(rg_ticket_time("PVE:alice@pve:6553F10::c2ln", &t), RG_ERR_INVALID);
    ck_assert_int_eq(rg_ticket_time("PVE:alice@pve6553F100::c2ln", &t), RG_ERR_INVALID);
    ck_assert_int_eq(rg_ticket_time("garbage", &t), RG_ERR_INVALID);
}
END_TEST

START_TEST(logout_revokes_whole_renewal_chain)
{
    struct rg_sessions *s = open_dir();
    struct rg_session_info info = {"entra", "sid-1", "eyJ.hint.sig"};
    struct rg_session_ended ended;
    struct rg_msg msg = {{0}};
    time_t now = 1700000000;

    ck_assert_int_eq(rg_sessions_record(s, "alice@entra", now, -1, &info, now, &msg), RG_OK);
    /* two renewals, and a second independent login of the same user */
    ck_assert_int_eq(rg_sessions_record(s, "alice@entra", now + 600, now, NULL, now + 600, &msg),
                     RG_OK);
    ck_assert_int_eq(rg_sessions_record(s, "alice@entra", now + 1200, now + 600, NULL,
                                        now + 1200, &msg), RG_OK);
    ck_assert_int_eq(rg_sessions_record(s, "alice@entra", now + 5, -1, NULL, now + 5, &msg),
                     RG_OK);
    ck_assert_int_eq(rg_sessions_revoked(s, "alice@entra", now), 0);

    ck_assert_int_eq(rg_sessions_end(s, "alice@entra", now + 1200, now + 1300, &ended, &msg),
                     RG_OK);
    ck_assert_str_eq(ended.realm, "entra");
    ck_assert_str_eq(ended.sid, "sid-1");
    ck_assert_str_eq(ended.id_token, "eyJ.hint.sig");
    ck_assert_uint_eq(ended.revoked, 3);
    rg_session_ended_clear(&ended);
    ck_assert_int_eq(rg_sessions_revoked(s, "alice@entra", now), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "alice@entra", now + 600), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "alice@entra", now + 1200), 1);
    /* the other session and other users are untouched */
    ck_assert_int_eq(rg_sessions_revoked(s, "alice@entra", now + 5), 0);
    ck_assert_int_eq(rg_sessions_revoked(s, "bob@entra", now), 0);

    /* a second logout with the same ticket finds no record and revokes just that ticket */
    ck_assert_int_eq(rg_sessions_end(s, "alice@entra", now + 1200, now + 1300, &ended, &msg),
                     RG_OK);
    ck_assert_str_eq(ended.realm, "");
    ck_assert_ptr_null(ended.id_token);
    ck_assert_uint_eq(ended.revoked, 1);
    rg_session_ended_clear(&ended);
    rg_sessions_close(s);
}
END_TEST

/* Overflowing a record must not let a ticket escape sign-out (adversarial review). */
START_TEST(overflow_revokes_what_the_record_forgets)
{
    struct rg_sessions *s = open_dir();
    struct rg_session_info info = {"entra", "sid-9", NULL};
    struct rg_session_ended ended;
    struct rg_msg msg = {{0}};
    time_t now = 1700000000, t;

    /* one chain renewed RG_SESSION_TICKETS_MAX + 1 times: the first ticket drops out */
    ck_assert_int_eq(rg_sessions_record(s, "carol@entra", now, -1, &info, now, &msg), RG_OK);
    for (t = 1; t <= RG_SESSION_TICKETS_MAX; t++)
        ck_assert_int_eq(rg_sessions_record(s, "carol@entra", now + t, now + t - 1, NULL,
                                            now + t, &msg), RG_OK);
    ck_assert_int_eq(rg_sessions_revoked(s, "carol@entra", now), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "carol@entra", now + 1), 0);
    ck_assert_int_eq(rg_sessions_end(s, "carol@entra", now + RG_SESSION_TICKETS_MAX, now + 100,
                                     &ended, &msg), RG_OK);
    rg_session_ended_clear(&ended);
    for (t = 0; t <= RG_SESSION_TICKETS_MAX; t++)
        ck_assert_msg(rg_sessions_revoked(s, "carol@entra", now + t), "ticket %ld alive", (long)t);

    /* RG_SESSIONS_PER_USER + 1 logins: the oldest session ends with its renewal */
    now += 1000;
    ck_assert_int_eq(rg_sessions_record(s, "dan@entra", now, -1, &info, now, &msg), RG_OK);
    ck_assert_int_eq(rg_sessions_record(s, "dan@entra", now + 1, now, NULL, now + 1, &msg),
                     RG_OK);
    for (t = 2; t < RG_SESSIONS_PER_USER + 2; t++)
        ck_assert_int_eq(rg_sessions_record(s, "dan@entra", now + t, -1, NULL, now + t, &msg),
                         RG_OK);
    ck_assert_int_eq(rg_sessions_revoked(s, "dan@entra", now), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "dan@entra", now + 1), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "dan@entra", now + 2), 0);
    rg_sessions_close(s);
}
END_TEST

START_TEST(password_login_without_record)
{
    struct rg_sessions *s = open_dir();
    struct rg_session_ended ended;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_sessions_end(s, "admin@pve", 1700000000, 1700000010, &ended, &msg),
                     RG_OK);
    ck_assert_uint_eq(ended.revoked, 1);
    ck_assert_str_eq(ended.realm, "");
    rg_session_ended_clear(&ended);
    ck_assert_int_eq(rg_sessions_revoked(s, "admin@pve", 1700000000), 1);
    ck_assert_int_eq(rg_sessions_revoked(s, "admin@pve", 1700000001), 0);
    ck_assert_int_eq(rg_sessions_end(s, "not a user", 1, 2, &ended, &msg), RG_ERR_INVALID);
    rg_sessions_close(s);
}
END_TEST

START_TEST(frontchannel_by_sid_and_realm_filter)
{
    struct rg_sessions *a = open_dir(), *b = open_dir(); /* two server processes */
    struct rg_session_info alice = {"entra", "browser-sid", NULL};
    struct rg_session_info alice2 = {"other", "browser-sid", NULL};
    struct rg_session_info bob = {"entra", "bob-sid", NULL};
    const char *only_other[] = {"other", NULL};
    struct rg_msg msg = {{0}};
    time_t now = 1700000000;
    size_t n = 99;

    ck_assert_int_eq(rg_sessions_record(a, "alice@entra", now, -1, &alice, now, &msg), RG_OK);
    ck_assert_int_eq(rg_sessions_record(a, "alice@other", now, -1, &alice2, now, &msg), RG_OK);
    ck_assert_int_eq(rg_sessions_record(a, "bob@entra", now, -1, &bob, now, &msg), RG_OK);
    /* renewal on the other process joins the session */
    ck_assert_int_eq(rg_sessions_record(b, "alice@entra", now + 60, now, NULL, now + 60, &msg),
                     RG_OK);

    ck_assert_int_eq(rg_sessions_end_sid(b, "unknown-sid", NULL, now + 70, &n, &msg), RG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(rg_sessions_end_sid(b, "browser-sid", only_other, now + 70, &n, &msg),
                     RG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rg_sessions_revoked(a, "alice@other", now), 1);
    ck_assert_int_eq(rg_sessions_revoked(a, "alice@entra", now), 0);

    ck_assert_int_eq(rg_sessions_end_sid(b, "browser-sid", NULL, now + 80, &n, &msg), RG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rg_sessions_revoked(a, "alice@entra", now), 1);
    ck_assert_int_eq(rg_sessions_revoked(a, "alice@entra", now + 60), 1);
    ck_assert_int_eq(rg_sessions_revoked(a, "bob@entra", now), 0);
    /* replay of the same front-channel call: nothing left */
    ck_assert_int_eq(rg_sessions_end_sid(a, "browser-sid", NULL, now + 90, &n, &msg), RG_OK);
    ck_assert_uint_eq(n, 0);
    /* a sid nobody could have recorded */
    ck_assert_int_eq(rg_sessions_end_sid(a, "bad sid", NULL, now + 90, &n, &msg), RG_OK);
    ck_assert_uint_eq(n, 0);
    rg_sessions_close(a);
    rg_sessions_close(b);
}
END_TEST

START_TEST(expired_entries_pruned)
{
    struct rg_sessions *s = open_dir();
    struct rg_session_ended ended;
    struct rg_msg msg = {{0}};
    char path[512];
    struct rg_buf text;
    time_t now = 1700000000;

    ck_assert_int_eq(rg_sessions_end(s, "admin@pve", now, now, &ended, &msg), RG_OK);
    rg_session_ended_clear(&ended);
    ck_assert_int_eq(rg_sessions_end(s, "carol@pve", now + RG_TICKET_MAX_AGE, now +
                                     RG_TICKET_MAX_AGE, &ended, &msg), RG_OK);
    rg_session_ended_clear(&ended);
    /* the first entry's ticket had expired when the second was written: it is gone */
    snprintf(path, sizeof path, "%s/revoked", dir);
    ck_assert_int_eq(rg_file_read(path, 4096, &text), RG_OK);
    ck_assert_str_eq(text.data, "65540D20 carol@pve\n");
    rg_buf_free(&text);
    /* a damaged list fails closed */
    ck_assert_int_eq(rg_file_write_atomic(path, "junk\n", 5, 0600), RG_OK);
    ck_assert_int_eq(rg_sessions_revoked(s, "nobody@pve", 1), 1);
    rg_sessions_close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("sessions");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, ticket_time_parse);
    tcase_add_test(tc, logout_revokes_whole_renewal_chain);
    tcase_add_test(tc, overflow_revokes_what_the_record_forgets);
    tcase_add_test(tc, password_login_without_record);
    tcase_add_test(tc, frontchannel_by_sid_and_realm_filter);
    tcase_add_test(tc, expired_entries_pruned);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
