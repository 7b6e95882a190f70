/* Unit tests for src/access/store.c: config directory, snapshots and locked updates. */
#include <check.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "access/store.h"
#include "access/ticket.h"
#include "base/fsutil.h"

static char dir[256];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rg-store-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void put_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ck_assert_int_eq(rg_file_write_atomic(path, text, strlen(text), 0600), RG_OK);
}

static char *get_file(const char *rel)
{
    char path[512];
    struct rg_buf b;
    char *s;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ck_assert_int_eq(rg_file_read(path, 1 << 24, &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

static mode_t mode_of(const char *rel)
{
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    ck_assert_int_eq(stat(path, &sb), 0);
    return sb.st_mode & 07777;
}

START_TEST(open_initialises)
{
    struct rg_store *st;
    struct rg_msg m;
    const struct rg_snapshot *s;
    char *t, *u;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    ck_assert_int_eq(mode_of("priv"), 0700);
    ck_assert_int_eq(mode_of("priv/openid"), 0700);
    ck_assert_int_eq(mode_of("local"), 0700);
    ck_assert_int_eq(mode_of("priv/authkey.key"), 0600);
    ck_assert_int_eq(mode_of("authkey.pub"), 0644);
    ck_assert_int_eq(mode_of("pve-www.key"), 0600);
    s = rg_store_acquire(st);
    ck_assert_uint_eq(s->generation, 1);
    ck_assert_ptr_nonnull(rg_domains_find(&s->domains, "pam"));
    ck_assert_ptr_nonnull(rg_domains_find(&s->domains, "pve"));
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "root@pam"));
    ck_assert_uint_eq(strlen(s->csrf_secret), 43);
    ck_assert_int_eq(EVP_PKEY_get_bits(s->ticket_key), 2048);
    /* tickets signed with the private key verify with authkey.pub */
    ck_assert_int_eq(rg_login_ticket_create(s->ticket_key, "root@pam", time(NULL), &t), RG_OK);
    ck_assert_int_eq(rg_login_ticket_verify(s->ticket_pub, t, time(NULL), &u), RG_OK);
    ck_assert_str_eq(u, "root@pam");
    free(t);
    free(u);
    rg_store_release(s);
    rg_store_close(st);

    /* a second open keeps the existing keys */
    t = get_file("authkey.pub");
    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    u = get_file("authkey.pub");
    ck_assert_str_eq(t, u);
    free(t);
    free(u);
    rg_store_close(st);
}
END_TEST

struct adder {
    struct rg_store *st;
    const char *prefix;
    int count;
    int failures;
};

struct add_one {
    char id[64];
};

static rg_err add_user(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    struct add_one *a = ctx;
    return rg_usercfg_user_add(cfg, a->id, NULL, msg);
}

static void *adder_thread(void *arg)
{
    struct adder *ad = arg;
    for (int i = 0; i < ad->count; i++) {
        struct add_one a;
        struct rg_msg m;
        snprintf(a.id, sizeof a.id, "%s%d@pve", ad->prefix, i);
        if (rg_store_update_usercfg(ad->st, add_user, &a, &m) != RG_OK)
            ad->failures++;
    }
    return NULL;
}

START_TEST(concurrent_updates_keep_both)
{
    struct rg_store *st;
    struct rg_msg m;
    struct adder a = {NULL, "a", 40, 0}, b = {NULL, "b", 40, 0};
    pthread_t ta, tb;
    const struct rg_snapshot *s;
    pid_t pid;
    int status;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    a.st = b.st = st;
    /* a second process writes at the same time, through its own store */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rg_store *cst;
        struct adder c = {NULL, "c", 40, 0};
        if (rg_store_open(dir, &cst, &m) != RG_OK)
            _exit(2);
        c.st = cst;
        adder_thread(&c);
        rg_store_close(cst);
        _exit(c.failures ? 1 : 0);
    }
    pthread_create(&ta, NULL, adder_thread, &a);
    pthread_create(&tb, NULL, adder_thread, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(a.failures + b.failures, 0);
    ck_assert_int_eq(rg_store_refresh(st), RG_OK);
    s = rg_store_acquire(st);
    ck_assert_uint_eq(s->users.nusers, 121); /* + root@pam */
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "a39@pve"));
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "b0@pve"));
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "c17@pve"));
    rg_store_release(s);
    rg_store_close(st);
}
END_TEST

static rg_err no_change(struct rg_usercfg *cfg, void *ctx, struct rg_msg *msg)
{
    (void)cfg;
    (void)ctx;
    (void)msg;
    return RG_OK;
}

/* An update that leaves the text as it was does not rewrite the file (same inode, same
 * mtime), so no other process rebuilds its snapshot; a real change does rewrite it. */
START_TEST(unchanged_update_writes_nothing)
{
    struct rg_store *st;
    struct rg_msg m;
    struct add_one a = {"dora@pve"};
    struct stat before, after;
    char path[512];
    unsigned long gen;
    const struct rg_snapshot *s;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    ck_assert_int_eq(rg_store_update_usercfg(st, add_user, &a, &m), RG_OK);
    snprintf(path, sizeof path, "%s/user.cfg", dir);
    ck_assert_int_eq(stat(path, &before), 0);
    s = rg_store_acquire(st);
    gen = s->generation;
    rg_store_release(s);
    ck_assert_int_eq(rg_store_update_usercfg(st, no_change, NULL, &m), RG_OK);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_uint_eq(after.st_ino, before.st_ino);
    ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    s = rg_store_acquire(st);
    ck_assert_uint_eq(s->generation, gen);
    rg_store_release(s);
    snprintf(a.id, sizeof a.id, "emil@pve");
    ck_assert_int_eq(rg_store_update_usercfg(st, add_user, &a, &m), RG_OK);
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_uint_ne(after.st_ino, before.st_ino);
    s = rg_store_acquire(st);
    ck_assert_uint_eq(s->generation, gen + 1);
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "emil@pve"));
    rg_store_release(s);
    rg_store_close(st);
}
END_TEST

START_TEST(snapshot_reload_and_lifetime)
{
    struct rg_store *st;
    struct rg_msg m;
    const struct rg_snapshot *old, *s;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    old = rg_store_acquire(st);
    ck_assert_ptr_null(rg_usercfg_user(&old->users, "ext@pve"));

    /* another writer changes the file; after at most a second acquire sees it */
    put_file("user.cfg", "user:ext@pve:1:0::::::\n");
    sleep(1);
    usleep(100 * 1000);
    s = rg_store_acquire(st);
    ck_assert_ptr_ne(s, old);
    ck_assert_uint_gt(s->generation, old->generation);
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "ext@pve"));
    /* the old snapshot is still intact for its reader */
    ck_assert_ptr_null(rg_usercfg_user(&old->users, "ext@pve"));
    ck_assert_ptr_nonnull(rg_usercfg_user(&old->users, "root@pam"));
    rg_store_release(old);
    rg_store_release(s);

    /* an update through the store is visible immediately */
    {
        struct add_one a = {"now@pve"};
        ck_assert_int_eq(rg_store_update_usercfg(st, add_user, &a, &m), RG_OK);
        s = rg_store_acquire(st);
        ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "now@pve"));
        rg_store_release(s);
    }
    /* a failing update changes nothing and reports fn's error */
    {
        struct add_one a = {"now@pve"};
        char *before = get_file("user.cfg"), *after;
        ck_assert_int_eq(rg_store_update_usercfg(st, add_user, &a, &m), RG_ERR_EXISTS);
        ck_assert_str_eq(m.text, "user 'now@pve' already exists");
        after = get_file("user.cfg");
        ck_assert_str_eq(before, after);
        free(before);
        free(after);
    }
    rg_store_close(st);
}
END_TEST

START_TEST(broken_file_keeps_last_good)
{
    struct rg_store *st;
    struct rg_msg m;
    const struct rg_snapshot *s;
    unsigned long gen;
    char *pub;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    s = rg_store_acquire(st);
    gen = s->generation;
    rg_store_release(s);
    pub = get_file("authkey.pub");

    put_file("user.cfg", "user:one@pve:1:0::::::\n");
    put_file("authkey.pub", "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n");
    ck_assert_int_ne(rg_store_refresh(st), RG_OK);
    s = rg_store_acquire(st);
    ck_assert_uint_eq(s->generation, gen);
    ck_assert_ptr_null(rg_usercfg_user(&s->users, "one@pve")); /* nothing half-applied */
    ck_assert_ptr_nonnull(s->ticket_pub);
    rg_store_release(s);

    /* repaired: the next check loads everything */
    put_file("authkey.pub", pub);
    ck_assert_int_eq(rg_store_refresh(st), RG_OK);
    s = rg_store_acquire(st);
    ck_assert_uint_gt(s->generation, gen);
    gen = s->generation;
    ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "one@pve"));
    rg_store_release(s);

    /* a FIFO in place of token.cfg would block a reader forever: refused at once, the last
     * good snapshot stays, and the next change after the repair is loaded */
    {
        char path[512];
        snprintf(path, sizeof path, "%s/priv/token.cfg", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(rg_store_refresh(st), RG_ERR_INVALID);
        s = rg_store_acquire(st);
        ck_assert_uint_eq(s->generation, gen);
        rg_store_release(s);
        ck_assert_int_eq(unlink(path), 0);
        put_file("user.cfg", "user:two@pve:1:0::::::\n");
        ck_assert_int_eq(rg_store_refresh(st), RG_OK);
        s = rg_store_acquire(st);
        ck_assert_ptr_nonnull(rg_usercfg_user(&s->users, "two@pve"));
        rg_store_release(s);
    }
    free(pub);
    rg_store_close(st);
}
END_TEST

static rg_err add_realm(struct rg_domains *d, void *ctx, struct rg_msg *msg)
{
    struct rg_params p;
    rg_err e;
    (void)ctx;
    rg_params_init(&p);
    rg_params_add(&p, "issuer-url", "https://idp.example");
    rg_params_add(&p, "client-id", "c");
    rg_params_add(&p, "client-key", "topsecret");
    e = rg_domains_add(d, "sso", "openid", &p, msg);
    rg_params_free(&p);
    return e;
}

START_TEST(passwords_and_domains)
{
    struct rg_store *st;
    struct rg_msg m;
    const struct rg_snapshot *s;
    char *shadow;

    ck_assert_int_eq(rg_store_open(dir, &st, &m), RG_OK);
    ck_assert_int_eq(rg_store_update_domains(st, add_realm, NULL, &m), RG_OK);
    ck_assert_int_eq(mode_of("domains.cfg"), 0600);
    ck_assert_int_eq(rg_store_set_password(st, "alice@pve", "wonderland", &m), RG_OK);
    ck_assert_int_eq(mode_of("priv/shadow.cfg"), 0600);
    shadow = get_file("priv/shadow.cfg");
    ck_assert_int_eq(strncmp(shadow, "alice:$5$", 9), 0);
    ck_assert_str_eq(shadow + strlen(shadow) - 2, ":\n");
    free(shadow);
    ck_assert_int_eq(rg_store_set_password(st, "x@sso", "pw", &m), RG_ERR_CONFIG);
    ck_assert_str_eq(m.text, "can't set password on auth type 'openid'");
    ck_assert_int_eq(rg_store_set_password(st, "x@nope", "pw", &m), RG_ERR_NOTFOUND);

    s = rg_store_acquire(st);
    ck_assert_ptr_nonnull(rg_domains_find(&s->domains, "sso"));
    ck_assert_int_eq(rg_store_verify_password(st, s, "alice@pve", "wonderland", &m), RG_OK);
    ck_assert_int_eq(rg_store_verify_password(st, s, "alice@pve", "wrong", &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "invalid credentials");
    ck_assert_int_eq(rg_store_verify_password(st, s, "bob@pve", "x", &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "no password set");
    ck_assert_int_eq(rg_store_verify_password(st, s, "alice@sso", "wonderland", &m),
                     RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "OpenID realm does not allow password verification.");
    ck_assert_int_eq(rg_store_verify_password(st, s, "a@gone", "x", &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "authentication domain 'gone' does not exist");
    ck_assert_int_eq(rg_store_delete_password(st, "alice@pve", &m), RG_OK);
    ck_assert_int_eq(rg_store_verify_password(st, s, "alice@pve", "wonderland", &m),
                     RG_ERR_AUTH);
    rg_store_release(s);
    rg_store_close(st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, open_initialises);
    tcase_add_test(tc, concurrent_updates_keep_both);
    tcase_add_test(tc, unchanged_update_writes_nothing);
    tcase_add_test(tc, snapshot_reload_and_lifetime);
    tcase_add_test(tc, broken_file_keeps_last_good);
    tcase_add_test(tc, passwords_and_domains);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
