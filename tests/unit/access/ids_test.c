/* Unit tests for src/access/ids.c: identifier grammar, path normalisation, split_list. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "access/ids.h"

struct idcase {
    const char *id;
    bool valid;
};

static const struct idcase userids[] = {
    {"root@pam", true},
    {"a@pve", true},
    {"ab", false},                       /* no realm */
    {"@pve", false},                     /* empty name */
    {"a@p", false},                      /* realm needs >= 2 chars */
    {"alice@sso", true},
    {"example.user@google.com@myrealm1", true}, /* '@' in the name, realm after the last */
    {"a b@pve", false},                  /* whitespace */
    {"a\tb@pve", false},
    {"a:b@pve", false},                  /* ':' */
    {"a/b@pve", false},                  /* '/' */
    {"a\x01" "b@pve", false},            /* control char */
    {"a\x7f" "b@pve", false},            /* DEL */
    {"ab@pve\n", false},                 /* trailing newline (Perl '$' would allow it) */
    {"alice@1sso", false},               /* realm must start with a letter */
    {"alice@s!o", false},
    {"alice@pve!tok", false},            /* a token id is not a user id */
    {"J\xc3\xbcrgen@pve", true},         /* UTF-8 name bytes are fine */
    {"zz,admin@pve", false},             /* ',' and ';' split lists in user.cfg */
    {"q;carol@pve", false},
    {"x!y@pve", true},                   /* '!' in a name: a user, not a token */
    {"admin\xc2\xa0x@pve", false},        /* no-break space: whitespace (Perl's \s) */
    {"a\xe3\x80\x80" "b@pve", false},     /* ideographic space */
    {"\xe2\x80\xae" "evp@nimda@sso", false}, /* right-to-left override */
    {"ad\xe2\x80\x8bmin@pve", false},     /* zero-width space */
    {"a\xc2\x85" "b@pve", false},          /* C1 control NEL */
    {"a\xff" "b@pve", false},              /* not UTF-8 */
    {"a\xc3" "@pve", false},               /* truncated sequence */
    {"\xe6\x97\xa5\xe6\x9c\xac@pve", true}, /* other scripts are fine */
};

START_TEST(userid_grammar)
{
    for (size_t i = 0; i < sizeof userids / sizeof *userids; i++)
        ck_assert_msg(rg_userid_check(userids[i].id) == userids[i].valid, "case %zu: %s", i,
                      userids[i].id);
}
END_TEST

START_TEST(userid_length_limit)
{
    char id[80];
    /* 60 + "@pve" = 64: valid; one more: invalid */
    memset(id, 'x', 60);
    strcpy(id + 60, "@pve");
    ck_assert_uint_eq(strlen(id), 64);
    ck_assert(rg_userid_check(id));
    memset(id, 'x', 61);
    strcpy(id + 61, "@pve");
    ck_assert(!rg_userid_check(id));
    /* 3 chars minimum can never be met with a 2-char realm plus '@' plus 1: "a@bc" is 4 */
    ck_assert(rg_userid_check("a@bc"));
}
END_TEST

START_TEST(userid_split)
{
    char name[RG_USERID_MAX + 1], realm[RG_REALMID_MAX + 1];
    ck_assert_int_eq(rg_userid_split("example.user@google.com@myrealm1", name, realm), RG_OK);
    ck_assert_str_eq(name, "example.user@google.com");
    ck_assert_str_eq(realm, "myrealm1");
    ck_assert_int_eq(rg_userid_split("bad", name, realm), RG_ERR_INVALID);
}
END_TEST

START_TEST(realm_group_role_token_pool)
{
    char r32[40];
    memset(r32, 'a', 32);
    r32[32] = '\0';
    ck_assert(rg_realmid_check(r32));
    r32[32] = 'a';
    r32[33] = '\0';
    ck_assert(!rg_realmid_check(r32));
    ck_assert(rg_realmid_pattern(r32)); /* the file parser only checks the pattern */
    ck_assert(!rg_realmid_check("a"));
    ck_assert(rg_realmid_check("a1"));
    ck_assert(rg_realmid_check("my-realm_1.x"));
    ck_assert(!rg_realmid_check("1abc"));
    ck_assert(!rg_realmid_check("ab c"));

    ck_assert(rg_groupid_check("testgroup"));
    ck_assert(rg_groupid_check("a.b-c_d9"));
    ck_assert(!rg_groupid_check("inval!d"));
    ck_assert(!rg_groupid_check("a:b"));
    ck_assert(!rg_groupid_check(""));
    ck_assert(rg_roleid_check("PVEAdmin"));
    ck_assert(!rg_roleid_check("Role 1"));

    ck_assert(rg_tokenid_check("test@pam!test"));
    ck_assert(!rg_tokenid_check("test@pam!1x"));
    ck_assert(!rg_tokenid_check("test@pam"));
    ck_assert(!rg_tokenid_check("te st@pam!tok"));

    ck_assert(rg_poolid_check("a"));
    ck_assert(rg_poolid_check("a/b/c"));
    ck_assert(!rg_poolid_check("a/b/c/d"));
    ck_assert(!rg_poolid_check("a//b"));
    ck_assert(!rg_poolid_check("a/"));
    ck_assert(!rg_poolid_check("inval!d"));

    ck_assert(rg_storageid_check("local"));
    ck_assert(rg_storageid_check("local-zfs"));
    ck_assert(rg_storageid_check("NFS1"));
    ck_assert(!rg_storageid_check("1local"));
    ck_assert(!rg_storageid_check("local-"));
}
END_TEST

struct pathcase {
    const char *in;
    rg_err e;
    const char *out;
};

static const struct pathcase paths[] = {
    {"/vms/100/", RG_OK, "/vms/100"},
    {"vms", RG_OK, "/vms"},
    {"", RG_OK, "/"},
    {"/", RG_OK, "/"},
    {"//", RG_OK, "/"},
    {"///vms//100///", RG_OK, "/vms/100"},
    {"/storage/local-zfs", RG_OK, "/storage/local-zfs"},
    {"/a.b_c-d", RG_OK, "/a.b_c-d"},
    {"/vms/1 00", RG_ERR_INVALID, NULL},
    {"/vms/100:x", RG_ERR_INVALID, NULL},
    {"/v\xc3\xa4", RG_ERR_INVALID, NULL},
    {"/vms/\n", RG_ERR_INVALID, NULL},
};

START_TEST(path_normalize)
{
    char out[RG_ACL_PATH_MAX + 1];
    char big[400];

    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        rg_err e = rg_path_normalize(paths[i].in, out);
        ck_assert_msg(e == paths[i].e, "case %zu", i);
        if (!e)
            ck_assert_str_eq(out, paths[i].out);
    }
    /* exactly 256 after normalisation is fine (a trailing '/' is stripped) */
    big[0] = '/';
    memset(big + 1, 'a', 255);
    big[256] = '/';
    big[257] = '\0';
    ck_assert_int_eq(rg_path_normalize(big, out), RG_OK);
    ck_assert_uint_eq(strlen(out), 256);
    big[256] = 'a';
    ck_assert_int_eq(rg_path_normalize(big, out), RG_ERR_LIMIT);
}
END_TEST

START_TEST(acl_paths)
{
    static const char *const ok[] = {"/", "/access", "/access/groups", "/access/groups/g1",
                                     "/access/realm", "/access/realm/sso", "/nodes",
                                     "/nodes/pve1", "/pool", "/pool/a/b/c", "/sdn",
                                     "/sdn/zones/z1/vnet1/42", "/sdn/controllers/c1",
                                     "/storage", "/storage/local", "/vms", "/vms/100",
                                     "/mapping/pci/gpu"};
    static const char *const bad[] = {"/vms/99", "/vms/0100", "/vms/00100", "/vms/abc",
                                      "/users", "/kvm/vms", "/sdn/zones/z/v/0",
                                      "/sdn/zones/z/v/10000", "/pool/a/b/c/d", "/access/foo",
                                      "/nodes/a/b"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ck_assert_msg(rg_acl_path_valid(ok[i]), "%s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!rg_acl_path_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(split_list)
{
    struct rg_strlist l;
    ck_assert_int_eq(rg_split_list("  a,b;c  d,,;e ", 10, &l), RG_OK);
    ck_assert_uint_eq(l.n, 5);
    ck_assert_str_eq(l.items[0], "a");
    ck_assert_str_eq(l.items[2], "c");
    ck_assert_str_eq(l.items[4], "e");
    rg_strlist_free(&l);
    ck_assert_int_eq(rg_split_list("", 10, &l), RG_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(rg_split_list(NULL, 10, &l), RG_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(rg_split_list("a b c", 2, &l), RG_ERR_LIMIT);
    ck_assert_uint_eq(l.n, 0);

    ck_assert_int_eq(rg_split_list("b a b c", 10, &l), RG_OK);
    rg_strlist_sort_unique(&l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_str_eq(l.items[0], "a");
    ck_assert_str_eq(l.items[2], "c");
    ck_assert_uint_eq(rg_strlist_remove(&l, "b"), 1);
    ck_assert(!rg_strlist_contains(&l, "b"));
    rg_strlist_free(&l);
}
END_TEST

START_TEST(ugid_type)
{
    ck_assert_str_eq(rg_ugid_type("@admins"), "group");
    ck_assert_str_eq(rg_ugid_type("alice@pve!ci"), "token");
    ck_assert_str_eq(rg_ugid_type("alice@pve"), "user");
    ck_assert_str_eq(rg_ugid_type("x!y@pve"), "user"); /* '!' in the name, no token name */
    ck_assert_str_eq(rg_ugid_type("x!y@pve!tk"), "token");
}
END_TEST

/* The in-place split gives the same items as rg_split_list, without copies. */
START_TEST(split_list_inplace)
{
    char s1[] = "  a,b;c  d,,;e ", s2[] = "", s3[] = "x", s4[] = "a b c", s5[] = ",;, ";
    char *it[4];

    ck_assert_uint_eq(rg_split_list_inplace(s1, it, 4), RG_SPLIT_TOO_MANY);
    {
        char again[] = "  a,b;c  d,,;e ";
        char *five[5];
        ck_assert_uint_eq(rg_split_list_inplace(again, five, 5), 5);
        ck_assert_str_eq(five[0], "a");
        ck_assert_str_eq(five[1], "b");
        ck_assert_str_eq(five[2], "c");
        ck_assert_str_eq(five[3], "d");
        ck_assert_str_eq(five[4], "e");
        ck_assert_ptr_eq(five[0], again + 2);
    }
    ck_assert_uint_eq(rg_split_list_inplace(s2, it, 4), 0);
    ck_assert_uint_eq(rg_split_list_inplace(s3, it, 4), 1);
    ck_assert_str_eq(it[0], "x");
    ck_assert_uint_eq(rg_split_list_inplace(s4, it, 3), 3);
    ck_assert_str_eq(it[2], "c");
    ck_assert_uint_eq(rg_split_list_inplace(s5, it, 4), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, userid_grammar);
    tcase_add_test(tc, userid_length_limit);
    tcase_add_test(tc, userid_split);
    tcase_add_test(tc, realm_group_role_token_pool);
    tcase_add_test(tc, path_normalize);
    tcase_add_test(tc, acl_paths);
    tcase_add_test(tc, split_list);
    tcase_add_test(tc, split_list_inplace);
    tcase_add_test(tc, ugid_type);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
