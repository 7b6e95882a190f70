/* Unit tests for src/base/fsutil.c: bounded reads, atomic writes, locks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rg-fsutil-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(write_then_read)
{
    char path[128];
    struct rg_buf b;
    struct stat st;

    rg_path_join(path, sizeof path, dir, "user.cfg");
    ck_assert_int_eq(rg_file_read(path, 100, &b), RG_ERR_NOTFOUND);
    ck_assert_int_eq(rg_file_write_atomic(path, "old\n", 4, 0640), RG_OK);
    ck_assert_int_eq(rg_file_write_atomic(path, "new content\n", 12, 0600), RG_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(rg_file_read(path, 100, &b), RG_OK);
    ck_assert_str_eq(b.data, "new content\n");
    ck_assert_uint_eq(b.len, 12);
    rg_buf_free(&b);
    /* larger than the caller's limit */
    ck_assert_int_eq(rg_file_read(path, 11, &b), RG_ERR_LIMIT);
    ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(empty_file_reads_as_empty_string)
{
    char path[128];
    struct rg_buf b;
    rg_path_join(path, sizeof path, dir, "empty");
    ck_assert_int_eq(rg_file_write_atomic(path, "", 0, 0600), RG_OK);
    ck_assert_int_eq(rg_file_read(path, 10, &b), RG_OK);
    ck_assert_str_eq(b.data, "");
    rg_buf_free(&b);
}
END_TEST

/* A FIFO (or a device, a directory) is refused at once instead of blocking the reader. */
START_TEST(non_regular_files_are_refused)
{
    char path[128], link[128];
    struct rg_buf b;

    rg_path_join(path, sizeof path, dir, "fifo");
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_eq(rg_file_read(path, 100, &b), RG_ERR_INVALID);
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(rg_file_read("/dev/zero", 100, &b), RG_ERR_INVALID);
    ck_assert_int_eq(rg_file_read(dir, 100, &b), RG_ERR_INVALID);
    /* a symlink to a regular file is read */
    rg_path_join(path, sizeof path, dir, "target");
    rg_path_join(link, sizeof link, dir, "link");
    ck_assert_int_eq(rg_file_write_atomic(path, "via link", 8, 0600), RG_OK);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(rg_file_read(link, 100, &b), RG_OK);
    ck_assert_str_eq(b.data, "via link");
    rg_buf_free(&b);
}
END_TEST

START_TEST(lock_excludes_second_holder)
{
    char path[128];
    int a, b;
    rg_path_join(path, sizeof path, dir, "x.lck");
    ck_assert_int_eq(rg_lock_acquire(path, 100, &a), RG_OK);
    ck_assert_int_eq(rg_lock_acquire(path, 50, &b), RG_ERR_BUSY);
    ck_assert_int_eq(b, -1);
    rg_lock_release(a);
    ck_assert_int_eq(rg_lock_acquire(path, 50, &b), RG_OK);
    rg_lock_release(b);
}
END_TEST

START_TEST(mkdir_p_and_join_limit)
{
    char path[128], small[8];
    rg_path_join(path, sizeof path, dir, "a/b/c");
    ck_assert_int_eq(rg_mkdir_p(path, 0700), RG_OK);
    ck_assert_int_eq(access(path, W_OK), 0);
    ck_assert_int_eq(rg_mkdir_p(path, 0700), RG_OK);
    ck_assert_int_eq(rg_path_join(small, sizeof small, "/etc", "realmgate"), RG_ERR_LIMIT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fsutil");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_then_read);
    tcase_add_test(tc, empty_file_reads_as_empty_string);
    tcase_add_test(tc, non_regular_files_are_refused);
    tcase_add_test(tc, lock_excludes_second_holder);
    tcase_add_test(tc, mkdir_p_and_join_limit);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
