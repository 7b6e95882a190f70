/* Unit tests for src/access/usercfg.c: user.cfg parse/write (spec §5.1, §8.7) and edits. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/usercfg.h"

static int nwarn;

static void count_warn(void *ctx, int line, const char *text)
{
    (void)ctx;
    (void)line;
    (void)text;
    nwarn++;
}

static char *write_cfg(const struct rg_usercfg *cfg)
{
    struct rg_buf b;
    char *s;
    rg_buf_init(&b, 1 << 20);
    ck_assert_int_eq(rg_usercfg_write(cfg, &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

/* Parses in, writes, compares with want; then parses the output again and requires a fixed
 * point (parse -> write -> parse -> write gives the same text). */
static void round_trip(const char *in, const char *want)
{
    struct rg_usercfg cfg, again;
    char *out, *out2;

    nwarn = 0;
    ck_assert_int_eq(rg_usercfg_parse(in, strlen(in), &cfg, count_warn, NULL), RG_OK);
    out = write_cfg(&cfg);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(rg_usercfg_parse(out, strlen(out), &again, count_warn, NULL), RG_OK);
    out2 = write_cfg(&again);
    ck_assert_str_eq(out2, want);
    free(out);
    free(out2);
    rg_usercfg_free(&cfg);
    rg_usercfg_free(&again);
}

#define ROOT "user:root@pam:1:0::::::\n"
#define USERS ROOT "user:test2@pam:1:0::::::\nuser:test@pam:1:0::::::\n"

START_TEST(empty)
{
    struct rg_usercfg cfg;
    char *out;
    rg_privmask m;

    rg_usercfg_init(&cfg);
    out = write_cfg(&cfg);
    ck_assert_str_eq(out, "\n\n\n\n");
    free(out);
    ck_assert_int_eq(rg_usercfg_parse("", 0, &cfg, count_warn, NULL), RG_OK);
    ck_assert_uint_eq(cfg.nusers, 1);
    ck_assert_str_eq(cfg.users[0].id, "root@pam");
    ck_assert_int_eq(cfg.users[0].enable, 1);
    ck_assert(rg_usercfg_role_privs(&cfg, "PVEAdmin", &m));
    ck_assert_uint_eq(cfg.nacl, 0);
    out = write_cfg(&cfg);
    ck_assert_str_eq(out, ROOT "\n\n\n\n");
    free(out);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(users)
{
    round_trip("user:root@pam:1:0::::::\n", ROOT "\n\n\n\n");
    round_trip("user:root@pam\n", "user:root@pam:0:0::::::\n\n\n\n\n");
    /* Perl truthiness, expire, escaping of names/comment, verbatim email and keys */
    round_trip("  user: test@pve : 00 : : J%C3%BCrgen : M%3Ar : a@b.c : hi%25 : x!y \n",
               ROOT "user:test@pve:1:0:J%C3%BCrgen:M%3Ar:a@b.c:hi%25:x!y:\n\n\n\n\n");
    /* invalid user id, non-numeric expire: line dropped with a warning */
    round_trip("user:inval id@pve:1:0::::::\nuser:bad@pve:1:12x::::::\n", ROOT "\n\n\n\n");
    ck_assert_int_eq(nwarn, 2); /* both from the first parse; the output parses cleanly */
    {
        struct rg_usercfg cfg;
        nwarn = 0;
        ck_assert_int_eq(rg_usercfg_parse("user:inval id@pve:1:0\nuser:bad@pve:1:12x\nfoo:bar\n"
                                          "# comment\n",
                                          strlen("user:inval id@pve:1:0\nuser:bad@pve:1:12x\n"
                                                 "foo:bar\n# comment\n"),
                                          &cfg, count_warn, NULL),
                         RG_OK);
        ck_assert_int_eq(nwarn, 4);
        ck_assert_uint_eq(cfg.nusers, 1);
        rg_usercfg_free(&cfg);
    }
    /* users sorted byte-wise on output */
    round_trip("user:test@pam:1:0::::::\nuser:test2@pam:1:0::::::\n", USERS "\n\n\n\n");
}
END_TEST

START_TEST(tokens)
{
    round_trip("user:test@pam:1:0::::::\ntoken:test@pam!test\n",
               ROOT "user:test@pam:1:0::::::\ntoken:test@pam!test:0:0::\n\n\n\n\n");
    round_trip("user:test2@pam:1:0::::::\ntoken:test2@pam!privsep:0:1::\n"
               "token:test2@pam!expired:1:0::\n",
               ROOT "user:test2@pam:1:0::::::\ntoken:test2@pam!expired:1:0::\n"
                    "token:test2@pam!privsep:0:1::\n\n\n\n\n");
    /* token of an unknown (or later) user is dropped */
    round_trip("token:test@pam!test:0:1::\nuser:test@pam:1:0::::::\n",
               ROOT "user:test@pam:1:0::::::\n\n\n\n\n");
}
END_TEST

START_TEST(groups)
{
    round_trip("group:testgroup\n", ROOT "\ngroup:testgroup:::\n\n\n\n");
    round_trip(USERS "group:testgroup:test@pam,test2@pam::\n",
               USERS "\ngroup:testgroup:test2@pam,test@pam::\n\n\n\n");
    /* member without realm dropped; invalid group dropped entirely; unknown user kept */
    round_trip(USERS "group:testgroup:test@pam,does_not_exist::\ngroup:inval!d:test@pam::\n"
                     "group:g2:ghost@pve:some%3Acomment:\n",
               USERS "\ngroup:g2:ghost@pve:some%3Acomment:\ngroup:testgroup:test@pam::\n\n\n\n");
}
END_TEST

START_TEST(pools)
{
    round_trip("pool:testpool\n", ROOT "\n\npool:testpool::::\n\n\n");
    round_trip("pool:testpool::non-numeric:inval!d:\n", ROOT "\n\npool:testpool::::\n\n\n");
    round_trip("pool:testpool::123,1234:local,local-zfs:\n",
               ROOT "\n\npool:testpool::123,1234:local,local-zfs:\n\n\n");
    /* a VM can be in one pool only; storages may be shared */
    round_trip("pool:testpool::123,1234:local,local-zfs:\n"
               "pool:test_duplicate_vms::123,1234:local:\n",
               ROOT "\n\npool:test_duplicate_vms:::local:\n"
                    "pool:testpool::123,1234:local,local-zfs:\n\n\n");
    /* nested pools create their parents; vmids sorted as strings (as PVE does) */
    round_trip("pool:a/b/c::99,100::\n",
               ROOT "\n\npool:a::::\npool:a/b::::\npool:a/b/c::100,99::\n\n\n");
}
END_TEST

START_TEST(roles)
{
    round_trip("role:testrole\n", ROOT "\n\n\nrole:testrole::\n\n");
    round_trip("role:testrole:VM.Allocate,Datastore.Audit,VM.Allocate:\n",
               ROOT "\n\n\nrole:testrole:Datastore.Audit,VM.Allocate:\n\n");
    round_trip("role:testrole:VM.Invalid,VM.Audit:\n", ROOT "\n\n\nrole:testrole:VM.Audit:\n\n");
    /* built-in names are never written and never overridden */
    round_trip("role:PVEAdmin:VM.Audit:\n", ROOT "\n\n\n\n");
}
END_TEST

START_TEST(acls)
{
    /* no members: dropped */
    round_trip("acl::/:\n", ROOT "\n\n\n\n");
    /* unknown role dropped; unknown users and groups kept */
    round_trip(USERS "acl:1:/:test@pam:MissingRole:\nacl:1:/:ghost@pve,@nogroup:PVEAuditor:\n",
               USERS "\n\n\n\nacl:1:/:@nogroup,ghost@pve:PVEAuditor:\n");
    /* unknown token dropped, existing token kept */
    round_trip("user:test@pam:1:0::::::\ntoken:test@pam!full:0:0::\n"
               "acl:1:/:test@pam!full,test@pam!missing:PVEVMAdmin:\n",
               ROOT "user:test@pam:1:0::::::\ntoken:test@pam!full:0:0::\n\n\n\n\n"
                    "acl:1:/:test@pam!full:PVEVMAdmin:\n");
    /* merging of members with an identical role set */
    round_trip(USERS "group:testgroup:::\ngroup:another:::\n"
                     "acl:1:/:@testgroup:PVEVMAdmin:\nacl:1:/:test@pam:PVEVMAdmin:\n"
                     "acl:1:/storage:@testgroup:PVEDatastoreAdmin:\n"
                     "acl:1:/storage:test@pam:PVEDatastoreAdmin:\n"
                     "acl:1:/storage:@another:PVEDatastoreUser:\n"
                     "acl:1:/storage:test2@pam:PVEDatastoreUser:\n",
               USERS "\ngroup:another:::\ngroup:testgroup:::\n\n\n\n"
                     "acl:1:/:@testgroup,test@pam:PVEVMAdmin:\n"
                     "acl:1:/storage:@testgroup,test@pam:PVEDatastoreAdmin:\n"
                     "acl:1:/storage:@another,test2@pam:PVEDatastoreUser:\n");
    /* propagate 0 before 1; tree order ("/a-b" after the subtree of "/a"); path normalised;
     * a member with several roles lists them sorted; root@pam is never written */
    round_trip(USERS "acl:1:/storage/:test@pam:PVEDatastoreUser,PVEAuditor:\n"
                     "acl:0:/storage:test2@pam:PVEAuditor:\n"
                     "acl:1:/a-b:test@pam:PVEAuditor:\n"
                     "acl:1:/a/b:test@pam:PVEAuditor:\n"
                     "acl:1:/a:test@pam:PVEAuditor:\n"
                     "acl:1:/:root@pam:Administrator:\n"
                     "acl:1:/:test@pam:NoAccess:\n",
               USERS "\n\n\n\n"
                     "acl:1:/:test@pam:NoAccess:\n"
                     "acl:1:/a:test@pam:PVEAuditor:\n"
                     "acl:1:/a/b:test@pam:PVEAuditor:\n"
                     "acl:1:/a-b:test@pam:PVEAuditor:\n"
                     "acl:0:/storage:test2@pam:PVEAuditor:\n"
                     "acl:1:/storage:test@pam:PVEAuditor,PVEDatastoreUser:\n");
    /* the same (member, role) twice: the later line's propagate flag wins */
    round_trip(USERS "acl:1:/vms:test@pam:PVEAuditor:\nacl:0:/vms:test@pam:PVEAuditor:\n",
               USERS "\n\n\n\nacl:0:/vms:test@pam:PVEAuditor:\n");
    /* custom role must be defined before use; invalid path dropped */
    round_trip(USERS "acl:1:/:test@pam:later:\nrole:later:VM.Audit:\nacl:1:/x y:test@pam:later:\n"
                     "acl:1::test@pam:later:\n",
               USERS "\n\n\nrole:later:VM.Audit:\n\n");
}
END_TEST

/* A careless editor: a byte-order mark, an expire beyond int64 (kept, as the largest value,
 * not dropped with its user). */
START_TEST(bom_and_huge_expire)
{
    const char *in = "\xef\xbb\xbfuser:a@pve:1:99999999999999999999::::::\n"
                     "token:a@pve!tk:99999999999999999999:0::\n";
    struct rg_usercfg cfg;

    nwarn = 0;
    ck_assert_int_eq(rg_usercfg_parse(in, strlen(in), &cfg, count_warn, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 1); /* the byte-order mark */
    ck_assert_ptr_nonnull(rg_usercfg_user(&cfg, "a@pve"));
    ck_assert(rg_usercfg_user(&cfg, "a@pve")->expire == INT64_MAX);
    ck_assert(rg_usercfg_token(&cfg, "a@pve!tk")->expire == INT64_MAX);
    rg_usercfg_free(&cfg);
    round_trip("user:a@pve:1:12x::::::\n", ROOT "\n\n\n\n"); /* not digits: dropped */
}
END_TEST

/* An escape for a NUL byte drops its record (user, token, group, pool) with one warning
 * each; a '%' that starts no valid escape stays as it is (Perl's uri_unescape). */
START_TEST(bad_escapes_drop_the_record)
{
    round_trip("user:a@pve:1:0:x%00y:::::\nuser:b@pve:1:0::::c%00:\n"
               "user:c@pve:1:0::::%ZZ::\ntoken:c@pve!tk:0:0:%00:\n"
               "group:g:c@pve:%00:\npool:p:%00::\n",
               "user:c@pve:1:0::::%25ZZ::\n" ROOT "\n\n\n\n");
    ck_assert_int_eq(nwarn, 5); /* five records dropped; the canonical text warns nothing */
}
END_TEST

START_TEST(bad_escapes_warn_once_each)
{
    const char *in = "user:a@pve:1:0:x%00y:::::\nuser:c@pve:1:0::::::\n"
                     "token:c@pve!tk:0:0:%00:\ngroup:g:c@pve:%00:\npool:p:%00::\n";
    struct rg_usercfg cfg;

    nwarn = 0;
    ck_assert_int_eq(rg_usercfg_parse(in, strlen(in), &cfg, count_warn, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 4);
    ck_assert_uint_eq(cfg.nusers, 2); /* c@pve and root@pam */
    ck_assert_ptr_null(rg_usercfg_token(&cfg, "c@pve!tk"));
    ck_assert_uint_eq(cfg.ngroups, 0);
    ck_assert_uint_eq(cfg.npools, 0);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(output_order_all_sections)
{
    round_trip("acl:1:/:@g:PVEAuditor:\nrole:r:Sys.Audit:\npool:p::100::\ngroup:g:test@pam::\n"
               "user:test@pam:1:0::::::\n",
               ROOT "user:test@pam:1:0::::::\n\ngroup:g:test@pam::\n\npool:p::100::\n\n"
                    "role:r:Sys.Audit:\n\nacl:1:/:@g:PVEAuditor:\n");
}
END_TEST

static bool absent_ok_all(void *ctx, const char *userid)
{
    (void)ctx;
    (void)userid;
    return true;
}

static void kv(struct rg_params *p, const char *const *items)
{
    rg_params_init(p);
    for (; items[0]; items += 2)
        ck_assert_int_eq(rg_params_add(p, items[0], items[1]), RG_OK);
}

START_TEST(edits)
{
    struct rg_usercfg cfg;
    struct rg_params p;
    struct rg_msg m;
    struct rg_strlist gl;
    char *out;
    const char *in = USERS "group:admins:::\n";

    ck_assert_int_eq(rg_usercfg_parse(in, strlen(in), &cfg, NULL, NULL), RG_OK);

    kv(&p, (const char *const[]){"email", "a@example.com", "groups", "admins", "firstname",
                                 "A:B", "password", "ignored", NULL});
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "alice@sso", &p, &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "alice@sso", &p, &m), RG_ERR_EXISTS);
    ck_assert_str_eq(m.text, "user 'alice@sso' already exists");
    rg_params_free(&p);
    kv(&p, (const char *const[]){"groups", "nope", NULL});
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "bob@sso", &p, &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "group 'nope' does not exist");
    ck_assert_ptr_null(rg_usercfg_user(&cfg, "bob@sso"));
    rg_params_free(&p);
    kv(&p, (const char *const[]){"email", "x:y@z", NULL});
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "bob@sso", &p, &m), RG_ERR_INVALID);
    rg_params_free(&p);
    kv(&p, (const char *const[]){"colour", "red", NULL});
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "bob@sso", &p, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "unknown parameter 'colour'");
    rg_params_free(&p);
    ck_assert_int_eq(rg_usercfg_user_add(&cfg, "bad id@sso", NULL, &m), RG_ERR_INVALID);

    ck_assert_int_eq(rg_usercfg_user_groups(&cfg, "alice@sso", &gl), RG_OK);
    ck_assert_uint_eq(gl.n, 1);
    ck_assert_str_eq(gl.items[0], "admins");
    rg_strlist_free(&gl);

    /* modify: enable 0, expire, groups replaced by an empty list */
    kv(&p, (const char *const[]){"enable", "0", "expire", "1700000000", "groups", "", NULL});
    ck_assert_int_eq(rg_usercfg_user_modify(&cfg, "alice@sso", &p, &m), RG_OK);
    rg_params_free(&p);
    ck_assert_int_eq(rg_usercfg_check_user(&cfg, "alice@sso", 1600000000, &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "user 'alice@sso' is disabled");
    kv(&p, (const char *const[]){"enable", "1", NULL});
    ck_assert_int_eq(rg_usercfg_user_modify(&cfg, "alice@sso", &p, &m), RG_OK);
    rg_params_free(&p);
    ck_assert_int_eq(rg_usercfg_check_user(&cfg, "alice@sso", 1600000000, &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_check_user(&cfg, "alice@sso", 1800000000, &m), RG_ERR_AUTH);
    ck_assert_str_eq(m.text, "user 'alice@sso' access expired");
    ck_assert_int_eq(rg_usercfg_check_user(&cfg, "zed@sso", 0, &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "no such user ('zed@sso')");

    /* group membership via append */
    kv(&p, (const char *const[]){"groups", "admins", "append", "1", NULL});
    ck_assert_int_eq(rg_usercfg_user_modify(&cfg, "test@pam", &p, &m), RG_OK);
    rg_params_free(&p);

    /* tokens, ACLs, roles */
    ck_assert_int_eq(rg_usercfg_token_add(&cfg, "alice@sso!ci", 0, 1, "build bot", &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_token_add(&cfg, "alice@sso!ci", 0, 1, NULL, &m), RG_ERR_EXISTS);
    ck_assert_int_eq(rg_usercfg_role_add(&cfg, "PVEMine", "VM.Audit", &m), RG_ERR_INVALID);
    ck_assert_int_eq(rg_usercfg_role_add(&cfg, "Auditor2", "VM.Audit,Bogus", &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "invalid privilege 'Bogus'");
    ck_assert_int_eq(rg_usercfg_role_add(&cfg, "Auditor2", "VM.Audit", &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_role_modify(&cfg, "Auditor2", "Sys.Audit", 1, &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_role_modify(&cfg, "PVEAdmin", "Sys.Audit", 1, &m),
                     RG_ERR_INVALID);

    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms/100/", "Auditor2", "alice@sso", "admins",
                                           "alice@sso!ci", 1, 0, &m),
                     RG_OK);
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/users", "Auditor2", "alice@sso", NULL, NULL,
                                           1, 0, &m),
                     RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "invalid ACL path '/users'");
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms", "Nope", "alice@sso", NULL, NULL, 1, 0,
                                           &m),
                     RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "role 'Nope' does not exist");
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms", "PVEAuditor", "nobody@pve", NULL, NULL,
                                           1, 0, &m),
                     RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "user 'nobody@pve' does not exist");
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms", "PVEAuditor", NULL, NULL, NULL, 1, 0,
                                           &m),
                     RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "either 'users', 'groups' or 'tokens' is required");
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/", "PVEAuditor", "test2@pam", NULL, NULL, 0,
                                           0, &m),
                     RG_OK);

    out = write_cfg(&cfg);
    ck_assert_str_eq(out, "user:alice@sso:1:1700000000:A%3AB::a@example.com:::\n"
                          "token:alice@sso!ci:0:1:build bot:\n"
                          ROOT
                          "user:test2@pam:1:0::::::\nuser:test@pam:1:0::::::\n\n"
                          "group:admins:test@pam::\n\n\n"
                          "role:Auditor2:Sys.Audit,VM.Audit:\n\n"
                          "acl:0:/:test2@pam:PVEAuditor:\n"
                          "acl:1:/vms/100:@admins,alice@sso,alice@sso!ci:Auditor2:\n");
    free(out);

    /* deleting an ACL role, the user (takes tokens, memberships, ACLs), the role, the group */
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms/100", "Auditor2", NULL, "admins", NULL, 1,
                                           1, &m),
                     RG_OK);
    ck_assert_int_eq(rg_usercfg_user_delete(&cfg, "alice@sso", &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_user_delete(&cfg, "root@pam", &m), RG_ERR_INVALID);
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms/100", "Auditor2", NULL, "admins", NULL, 1,
                                           0, &m),
                     RG_OK);
    ck_assert_int_eq(rg_usercfg_role_delete(&cfg, "Auditor2", &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_group_delete(&cfg, "admins", &m), RG_OK);
    ck_assert_int_eq(rg_usercfg_group_delete(&cfg, "admins", &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "group 'admins' does not exist");
    out = write_cfg(&cfg);
    ck_assert_str_eq(out, USERS "\n\n\n\nacl:0:/:test2@pam:PVEAuditor:\n");
    free(out);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(copy_is_deep)
{
    const char *in = USERS "token:test@pam!tk:5:1:c:\ngroup:g:test@pam:c:\npool:p:c:100:local:\n"
                           "role:r:VM.Audit:\nacl:1:/:@g:r:\n";
    struct rg_usercfg a, b;
    char *x, *y;

    ck_assert_int_eq(rg_usercfg_parse(in, strlen(in), &a, NULL, NULL), RG_OK);
    ck_assert_int_eq(rg_usercfg_copy(&a, &b), RG_OK);
    /* the copy's ACL strings are its own (its pool), not borrowed from a */
    ck_assert_uint_eq(b.nacl, 1);
    ck_assert_ptr_ne(b.acl[0].path, a.acl[0].path);
    ck_assert_ptr_ne(b.acl[0].ugid, a.acl[0].ugid);
    ck_assert_ptr_ne(b.acl[0].role, a.acl[0].role);
    ck_assert_uint_eq(b.strings.count, 3);
    x = write_cfg(&a);
    rg_usercfg_free(&a);
    y = write_cfg(&b);
    ck_assert_str_eq(x, y);
    ck_assert_ptr_nonnull(strstr(y, "token:test@pam!tk:5:1:c:\n"));
    free(x);
    free(y);
    rg_usercfg_free(&b);
}
END_TEST

/* A file with ACL lines in random order and repeated (member, role) pairs parses to the
 * same entries as adding the lines one by one through the edit API (a different code path:
 * binary insertion, later flags replacing earlier ones). Paths include the tree-order
 * trap: "/pool/a-b" sorts after the whole "/pool/a" subtree. */
START_TEST(acl_sort_matches_edits)
{
    static const char *paths[] = {"/", "/vms", "/vms/100", "/vms/1000", "/vms/101", "/storage",
                                  "/storage/local", "/storage/local-lvm", "/pool/a",
                                  "/pool/a/b", "/pool/a-b"};
    static const char *members[] = {"test@pam", "test2@pam", "ghost@pve", "@g", "@h"};
    static const char *rls[] = {"PVEAuditor", "NoAccess", "PVEVMAdmin", "Administrator"};
    struct rg_buf text;
    struct rg_usercfg parsed, edited;
    struct rg_msg msg;
    unsigned seed = 12345;
    char *x, *y;

    rg_buf_init(&text, 1 << 20);
    ck_assert_int_eq(rg_buf_appends(&text, USERS "group:g:::\ngroup:h:::\n"), RG_OK);
    ck_assert_int_eq(rg_usercfg_parse(text.data, text.len, &edited, NULL, NULL), RG_OK);
    for (int i = 0; i < 3000; i++) {
        const char *path, *m, *r;
        int prop;
        seed = seed * 1103515245u + 12345u;
        path = paths[(seed >> 8) % (sizeof paths / sizeof *paths)];
        m = members[(seed >> 16) % (sizeof members / sizeof *members)];
        r = rls[(seed >> 20) % (sizeof rls / sizeof *rls)];
        prop = (seed >> 24) & 1;
        ck_assert_int_eq(rg_buf_appendf(&text, "acl:%d:%s:%s:%s:\n", prop, path, m, r), RG_OK);
        /* unknown users (ghost@pve) are kept by the parser; the edit needs absent_ok */
        ck_assert_msg(rg_usercfg_acl_change_ex(&edited, path, r, m[0] == '@' ? NULL : m,
                                               m[0] == '@' ? m + 1 : NULL, NULL, prop, 0,
                                               absent_ok_all, NULL, &msg) == RG_OK,
                      "%s %s %s: %s", path, m, r, msg.text);
    }
    ck_assert_int_eq(rg_usercfg_parse(text.data, text.len, &parsed, NULL, NULL), RG_OK);
    ck_assert_uint_eq(parsed.nacl, edited.nacl);
    ck_assert_uint_eq(parsed.nacl, 11 * 5 * 4);
    for (size_t i = 0; i < parsed.nacl; i++) {
        ck_assert_str_eq(parsed.acl[i].path, edited.acl[i].path);
        ck_assert_str_eq(parsed.acl[i].ugid, edited.acl[i].ugid);
        ck_assert_str_eq(parsed.acl[i].role, edited.acl[i].role);
        ck_assert_int_eq(parsed.acl[i].propagate, edited.acl[i].propagate);
    }
    x = write_cfg(&parsed);
    y = write_cfg(&edited);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
    rg_buf_free(&text);
    rg_usercfg_free(&parsed);
    rg_usercfg_free(&edited);
}
END_TEST

/* Whatever the writer puts on one line parses again, however long: 5,000 members with the
 * same role set become one acl line, 5,000 group members one group line, 300 roles of one
 * member one acl line (Proxmox's parser has no item limit either). */
START_TEST(long_lines_survive_a_round_trip)
{
    struct rg_buf text;
    struct rg_usercfg cfg, again;
    char *x, *y;

    rg_buf_init(&text, RG_USERCFG_FILE_MAX);
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(rg_buf_appendf(&text, "user:u%d@pve:1:0::::::\n", i), RG_OK);
    ck_assert_int_eq(rg_buf_appends(&text, "group:big:"), RG_OK);
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(rg_buf_appendf(&text, "%su%d@pve", i ? "," : "", i), RG_OK);
    ck_assert_int_eq(rg_buf_appends(&text, "::\n"), RG_OK);
    for (int r = 0; r < 300; r++)
        ck_assert_int_eq(rg_buf_appendf(&text, "role:r%03d:VM.Audit:\n", r), RG_OK);
    for (int i = 0; i < 5000; i++) /* one line each; the writer merges them */
        ck_assert_int_eq(rg_buf_appendf(&text, "acl:1:/vms:u%d@pve:NoAccess:\n", i), RG_OK);
    for (int r = 0; r < 300; r++)
        ck_assert_int_eq(rg_buf_appendf(&text, "acl:1:/storage:u0@pve:r%03d:\n", r), RG_OK);
    nwarn = 0;
    ck_assert_int_eq(rg_usercfg_parse(text.data, text.len, &cfg, count_warn, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 0);
    ck_assert_uint_eq(cfg.nacl, 5300);
    x = write_cfg(&cfg);
    ck_assert_ptr_nonnull(strstr(x, "\nacl:1:/vms:u0@pve,u1000@pve,"));
    ck_assert_ptr_nonnull(strstr(x, "\nacl:1:/storage:u0@pve:r000,r001,"));
    ck_assert_int_eq(rg_usercfg_parse(x, strlen(x), &again, count_warn, NULL), RG_OK);
    ck_assert_int_eq(nwarn, 0);
    ck_assert_uint_eq(again.nacl, 5300);
    ck_assert_uint_eq(rg_usercfg_group(&again, "big")->members.n, 5000);
    y = write_cfg(&again);
    ck_assert_str_eq(x, y);
    free(x);
    free(y);
    rg_buf_free(&text);
    rg_usercfg_free(&cfg);
    rg_usercfg_free(&again);
}
END_TEST

/* At most RG_ACL_MAX_ENTRIES entries: the parser drops the rest with a warning, an edit that
 * would go beyond is refused with a message. */
START_TEST(acl_entry_limit)
{
    struct rg_buf text;
    struct rg_usercfg cfg;
    struct rg_msg msg;

    rg_buf_init(&text, RG_USERCFG_FILE_MAX);
    ck_assert_int_eq(rg_buf_appends(&text, ROOT), RG_OK);
    /* 4 lines x 2 roles x 4096 members = 32768 entries per path, 31 paths = 1,015,808 */
    for (int path = 0; path < 31; path++) {
        for (int line = 0; line < 4; line++) {
            ck_assert_int_eq(rg_buf_appendf(&text, "acl:1:/vms/%d:", path), RG_OK);
            for (int m = 0; m < 4096; m++)
                ck_assert_int_eq(rg_buf_appendf(&text, "%su%d@pve", m ? "," : "",
                                                line * 4096 + m), RG_OK);
            ck_assert_int_eq(rg_buf_appends(&text, ":PVEAuditor,PVEVMUser:\n"), RG_OK);
        }
    }
    nwarn = 0;
    ck_assert_int_eq(rg_usercfg_parse(text.data, text.len, &cfg, count_warn, NULL), RG_OK);
    ck_assert_uint_eq(cfg.nacl, RG_ACL_MAX_ENTRIES);
    ck_assert_int_eq(nwarn, 1015808 - RG_ACL_MAX_ENTRIES);
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/", "PVEAuditor", NULL, NULL, NULL, 1, 0, &msg),
                     RG_ERR_INVALID); /* no member: refused before the limit */
    cfg.users[0].enable = 1;
    ck_assert_int_eq(rg_usercfg_acl_change_ex(&cfg, "/", "PVEAuditor", "new@pve", NULL, NULL, 1,
                                              0, absent_ok_all, NULL, &msg),
                     RG_ERR_LIMIT);
    ck_assert_str_eq(msg.text, "too many ACL entries (at most 1000000)");
    /* removing is always possible */
    ck_assert_int_eq(rg_usercfg_acl_change(&cfg, "/vms/0", "PVEAuditor", "u0@pve", NULL, NULL, 1,
                                           1, &msg),
                     RG_OK);
    ck_assert_uint_eq(cfg.nacl, RG_ACL_MAX_ENTRIES - 1);
    rg_buf_free(&text);
    rg_usercfg_free(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("usercfg");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, empty);
    tcase_add_test(tc, users);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, groups);
    tcase_add_test(tc, pools);
    tcase_add_test(tc, roles);
    tcase_add_test(tc, acls);
    tcase_add_test(tc, output_order_all_sections);
    tcase_add_test(tc, bom_and_huge_expire);
    tcase_add_test(tc, bad_escapes_drop_the_record);
    tcase_add_test(tc, bad_escapes_warn_once_each);
    tcase_add_test(tc, edits);
    tcase_add_test(tc, copy_is_deep);
    tcase_add_test(tc, acl_sort_matches_edits);
    tcase_add_test(tc, acl_entry_limit);
    tcase_add_test(tc, long_lines_survive_a_round_trip);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
