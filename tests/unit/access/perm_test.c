/* Unit tests for src/access/perm.c: role/privilege resolution with the PVE fixtures of spec
 * §8.1/§8.2 (perm-test1..5) and our own pool/token fixture (§5.7 steps 4-6), plus the
 * /access/permissions object (§5.9) and `cap` (§5.10). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/perm.h"
#include "base/fsutil.h"

static void load(const char *name, struct rg_usercfg *cfg)
{
    char path[1024];
    const char *dir = getenv("RG_TEST_DATA");
    struct rg_buf b;

    snprintf(path, sizeof path, "%s/access/%s", dir ? dir : "tests/data", name);
    ck_assert_int_eq(rg_file_read(path, 1 << 20, &b), RG_OK);
    ck_assert_int_eq(rg_usercfg_parse(b.data, b.len, cfg, NULL, NULL), RG_OK);
    rg_buf_free(&b);
}

static char *roles_str(const struct rg_usercfg *cfg, const char *who, const char *path)
{
    struct rg_strlist l;
    struct rg_buf b;
    char *s;

    ck_assert_int_eq(rg_perm_roles(cfg, who, path, &l), RG_OK);
    rg_buf_init(&b, 4096);
    for (size_t i = 0; i < l.n; i++)
        ck_assert_int_eq(rg_buf_appendf(&b, "%s%s", i ? "," : "", l.items[i]), RG_OK);
    rg_strlist_free(&l);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

static char *perm_str(const struct rg_usercfg *cfg, const char *who, const char *path)
{
    struct rg_privset ps;
    struct rg_buf b;
    char *s;

    ck_assert_int_eq(rg_perm_privs(cfg, who, path, &ps), RG_OK);
    ck_assert_int_eq((int)((ps.propagate & ~ps.privs) != 0), 0);
    rg_buf_init(&b, 4096);
    ck_assert_int_eq(rg_privmask_join(ps.privs, ",", &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

struct expect {
    const char *who, *path;
    int perm; /* 0 = roles, 1 = privileges */
    const char *want;
};

static void run(const char *fixture, const struct expect *x, size_t n)
{
    struct rg_usercfg cfg;

    load(fixture, &cfg);
    for (size_t i = 0; i < n; i++) {
        char *got = x[i].perm ? perm_str(&cfg, x[i].who, x[i].path)
                              : roles_str(&cfg, x[i].who, x[i].path);
        ck_assert_msg(!strcmp(got, x[i].want), "%s case %zu (%s %s %s): got '%s' want '%s'",
                      fixture, i, x[i].who, x[i].path, x[i].perm ? "perm" : "roles", got,
                      x[i].want);
        free(got);
    }
    rg_usercfg_free(&cfg);
}

#define N(a) (sizeof(a) / sizeof *(a))

static const char VMADMIN[] =
    "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,VM.Config.Cloudinit,"
    "VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options,"
    "VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,"
    "VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate,"
    "VM.Snapshot,VM.Snapshot.Rollback";

static const char ALL[] =
    "Datastore.Allocate,Datastore.AllocateSpace,Datastore.AllocateTemplate,Datastore.Audit,"
    "Group.Allocate,Mapping.Audit,Mapping.Modify,Mapping.Use,Permissions.Modify,Pool.Allocate,"
    "Pool.Audit,Realm.Allocate,Realm.AllocateUser,SDN.Allocate,SDN.Audit,SDN.Use,"
    "Sys.AccessNetwork,Sys.Audit,Sys.Console,Sys.Incoming,Sys.Modify,Sys.PowerMgmt,Sys.Syslog,"
    "User.Modify,VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,"
    "VM.Config.Cloudinit,VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,"
    "VM.Config.Options,VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,"
    "VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,"
    "VM.Migrate,VM.PowerMgmt,VM.Replicate,VM.Snapshot,VM.Snapshot.Rollback";

static const char VMUSER[] =
    "VM.Audit,VM.Backup,VM.Config.CDROM,VM.Config.Cloudinit,VM.Console,VM.GuestAgent.Audit,"
    "VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,VM.PowerMgmt";

START_TEST(test1)
{
    const struct expect x[] = {
        {"max@pve", "/", 0, ""},
        {"max@pve", "/vms", 0, "vm_admin"},
        {"max@pve", "/vms/100", 0, "customer"},
        {"max@pve", "/vms/101", 0, "vm_admin"},
        {"max@pve", "/", 1, ""},
        {"max@pve", "/vms", 1, "Permissions.Modify,VM.Allocate,VM.Audit,VM.Console"},
        {"max@pve", "/vms/100", 1, "VM.Audit,VM.PowerMgmt"},
        {"alex@pve", "/vms", 1, ""},
        {"alex@pve", "/vms/100", 1, "VM.Audit,VM.PowerMgmt"},
        {"alex@pve", "/vms/300", 1, VMADMIN},
        {"alex@pve", "/vms/400", 1, ALL},
        {"max@pve", "/vms/200", 0, "storage_manager"},
        {"joe@pve", "/vms/200", 0, "vm_admin"},
        {"sue@pve", "/vms/200", 0, "NoAccess"},
    };
    run("perm-test1.cfg", x, N(x));
}
END_TEST

START_TEST(test2)
{
    const struct expect x[] = {
        {"User1@pve", "/", 0, ""},
        {"User2@pve", "/", 0, ""},
        {"User1@pve", "/vms", 0, "Role1,Role2"},
        {"User2@pve", "/vms", 0, ""},
        {"User1@pve", "/vms/100", 0, "Role1,Role2"},
    };
    run("perm-test2.cfg", x, N(x));
}
END_TEST

START_TEST(test3)
{
    const struct expect x[] = {
        {"User1@pve", "", 0, ""},
        {"User2@pve", "", 0, ""},
        {"User1@pve", "/vms/300", 0, "Role1"},
        {"User1@pve", "/vms/200", 0, "Role2"},
    };
    run("perm-test3.cfg", x, N(x));
}
END_TEST

START_TEST(test4)
{
    const struct expect x[] = {
        {"User1@pve", "/vms/300", 0, "Role1"},
        {"User2@pve", "/vms/300", 0, "NoAccess"},
    };
    run("perm-test4.cfg", x, N(x));
}
END_TEST

START_TEST(test5)
{
    const struct expect x[] = {
        {"User1@pve", "/vms", 0, "Role1"},
        {"User1@pve", "/vms/100", 0, "Role1"},
        {"User1@pve", "/vms/100/a", 0, "Role1"},
        {"User1@pve", "/vms/100/a/b", 0, "Role2"},
        {"User1@pve", "/vms/100/a/b/c", 0, "Role2"},
        {"User1@pve", "/vms/200", 0, "Role1"},
        {"User2@pve", "/kvm", 0, "Role2"},
        {"User2@pve", "/kvm/vms", 0, "Role1"},
        {"User2@pve", "/kvm/vms/100", 0, ""},
        {"User2@pve", "/kvm/vms/100/a", 0, "Role3"},
        {"User2@pve", "/kvm/vms/100/a/b", 0, ""},
    };
    run("perm-test5.cfg", x, N(x));
}
END_TEST

START_TEST(pools_and_tokens)
{
    const struct expect x[] = {
        /* pool roles reach the exact member paths only */
        {"u1@pve", "/vms/100", 1, VMUSER},
        {"u1@pve", "/vms/100", 0, ""}, /* roles() does not consider pools */
        /* PVEAuditor (regular) + PVEVMUser (pool) */
        {"u1@pve", "/vms/101", 1,
         "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,VM.Audit,VM.Backup,"
         "VM.Config.CDROM,VM.Config.Cloudinit,VM.Console,VM.GuestAgent.Audit,"
         "VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,"
         "VM.PowerMgmt"},
        {"u1@pve", "/storage/local", 1, VMUSER}, /* storages of the pool too */
        {"u1@pve", "/vms/102", 1, VMUSER}, /* nested pool inherits /pool/p1 */
        {"u1@pve", "/vms/103", 1, ""},
        {"u1@pve", "/vms/100/x", 1, ""},
        /* NoAccess on a pool wins over regular roles on its members */
        {"u2@pve", "/storage/other", 1, "Datastore.AllocateSpace,Datastore.Audit"},
        {"u2@pve", "/storage/local", 1, ""},
        {"u2@pve", "/storage/nfs", 1, ""},
        /* NoAccess in a union of group roles cancels the others */
        {"u1@pve", "/vms/200", 0, "NoAccess"},
        {"u1@pve", "/vms/200", 1, ""},
        {"u1@pve", "/vms/200/x", 0, "NoAccess"},
        /* tokens */
        {"u1@pve!full", "/vms/100", 1, VMUSER},
        {"u1@pve!full", "/vms/101", 0, "PVEAuditor"},
        {"u1@pve!sep", "/vms", 0, "PVEVMAdmin"},
        {"u1@pve!sep", "/vms", 1, ""},            /* the user has nothing on /vms */
        {"u1@pve!sep", "/vms/100", 1, VMUSER},    /* VMAdmin+Auditor capped by the user */
        {"u1@pve!sep", "/", 1, ""},
        {"u1@pve!nope", "/vms/100", 1, ""},
        {"u1@pve!nope", "/vms", 0, ""},
        /* root */
        {"root@pam", "/anything", 0, "Administrator"},
        {"root@pam", "/vms/103", 1, ALL},
    };
    run("perm-pools-tokens.cfg", x, N(x));
}
END_TEST

START_TEST(propagate_flags_and_check)
{
    struct rg_usercfg cfg;
    struct rg_privset ps;

    load("perm-pools-tokens.cfg", &cfg);
    ck_assert_int_eq(rg_perm_privs(&cfg, "u1@pve", "/pool/p1", &ps), RG_OK);
    ck_assert(ps.propagate == ps.privs && ps.privs != 0);
    ck_assert_int_eq(rg_perm_privs(&cfg, "u1@pve", "/vms/100", &ps), RG_OK);
    ck_assert(ps.propagate == 0 && ps.privs != 0); /* pool roles attach with propagate 0 */
    ck_assert(rg_perm_check(&cfg, "u1@pve", "/vms/100",
                            rg_priv_bit("VM.Console") | rg_priv_bit("VM.Audit"), false));
    ck_assert(!rg_perm_check(&cfg, "u1@pve", "/vms/100",
                             rg_priv_bit("VM.Console") | rg_priv_bit("VM.Allocate"), false));
    ck_assert(rg_perm_check(&cfg, "u1@pve", "/vms/100",
                            rg_priv_bit("VM.Console") | rg_priv_bit("VM.Allocate"), true));
    ck_assert(!rg_perm_check(&cfg, "u1@pve", "/vms/1 00", rg_priv_bit("VM.Audit"), true));
    ck_assert_int_eq(rg_perm_privs(&cfg, "u1@pve", "/vms/1 00", &ps), RG_ERR_INVALID);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(permissions_object)
{
    struct rg_usercfg cfg;
    json_t *all, *one;
    const char *key;
    json_t *val;
    char *dump;
    size_t n = 0;

    load("perm-pools-tokens.cfg", &cfg);
    ck_assert_int_eq(rg_perm_all(&cfg, "u1@pve", &all), RG_OK);
    json_object_foreach(all, key, val)
    {
        (void)val;
        n++;
    }
    ck_assert_uint_eq(n, 5);
    ck_assert_ptr_nonnull(json_object_get(all, "/pool/p1"));
    ck_assert_ptr_nonnull(json_object_get(all, "/storage/local"));
    ck_assert_ptr_nonnull(json_object_get(all, "/vms/100"));
    ck_assert_ptr_nonnull(json_object_get(all, "/vms/101"));
    ck_assert_ptr_nonnull(json_object_get(all, "/vms/102"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(all, "/pool/p1"),
                                                        "VM.Console")),
                     1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(all, "/vms/100"),
                                                        "VM.Console")),
                     0);
    ck_assert_uint_eq(json_object_size(json_object_get(all, "/vms/100")), 10);
    json_decref(all);

    /* test1: max@pve */
    rg_usercfg_free(&cfg);
    load("perm-test1.cfg", &cfg);
    ck_assert_int_eq(rg_perm_all(&cfg, "max@pve", &all), RG_OK);
    dump = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump,
                     "{\"/users\":{\"Datastore.Allocate\":1,\"Datastore.AllocateSpace\":1,"
                     "\"Datastore.AllocateTemplate\":1,\"Datastore.Audit\":1,"
                     "\"Group.Allocate\":1,\"Mapping.Audit\":1,\"Mapping.Modify\":1,"
                     "\"Mapping.Use\":1,\"Permissions.Modify\":1,\"Pool.Allocate\":1,"
                     "\"Pool.Audit\":1,\"Realm.Allocate\":1,\"Realm.AllocateUser\":1,"
                     "\"SDN.Allocate\":1,\"SDN.Audit\":1,\"SDN.Use\":1,"
                     "\"Sys.AccessNetwork\":1,\"Sys.Audit\":1,\"Sys.Console\":1,"
                     "\"Sys.Incoming\":1,\"Sys.Modify\":1,\"Sys.PowerMgmt\":1,"
                     "\"Sys.Syslog\":1,\"User.Modify\":1,\"VM.Allocate\":1,\"VM.Audit\":1,"
                     "\"VM.Backup\":1,\"VM.Clone\":1,\"VM.Config.CDROM\":1,"
                     "\"VM.Config.CPU\":1,\"VM.Config.Cloudinit\":1,\"VM.Config.Disk\":1,"
                     "\"VM.Config.HWType\":1,\"VM.Config.Memory\":1,"
                     "\"VM.Config.Network\":1,\"VM.Config.Options\":1,\"VM.Console\":1,"
                     "\"VM.GuestAgent.Audit\":1,\"VM.GuestAgent.FileRead\":1,"
                     "\"VM.GuestAgent.FileSystemMgmt\":1,\"VM.GuestAgent.FileWrite\":1,"
                     "\"VM.GuestAgent.Unrestricted\":1,\"VM.Migrate\":1,\"VM.PowerMgmt\":1,"
                     "\"VM.Replicate\":1,\"VM.Snapshot\":1,\"VM.Snapshot.Rollback\":1},"
                     "\"/vms\":{\"Permissions.Modify\":1,\"VM.Allocate\":1,\"VM.Audit\":1,"
                     "\"VM.Console\":1},"
                     "\"/vms/100\":{\"VM.Audit\":1,\"VM.PowerMgmt\":1},"
                     "\"/vms/200\":{\"Datastore.AllocateSpace\":1,\"Datastore.Audit\":1},"
                     "\"/vms/300\":{\"Permissions.Modify\":1,\"VM.Allocate\":1,"
                     "\"VM.Audit\":1,\"VM.Console\":1},"
                     "\"/vms/400\":{\"Permissions.Modify\":1,\"VM.Allocate\":1,"
                     "\"VM.Audit\":1,\"VM.Console\":1}}");
    free(dump);
    json_decref(all);

    /* with a path: one key, possibly empty */
    ck_assert_int_eq(rg_perm_path_json(&cfg, "max@pve", "/nodes/", &one), RG_OK);
    dump = json_dumps(one, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"/nodes\":{}}");
    free(dump);
    json_decref(one);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(cap)
{
    struct rg_usercfg cfg;
    json_t *c;
    char *dump;

    load("perm-pools-tokens.cfg", &cfg);
    ck_assert_int_eq(rg_perm_cap(&cfg, "u1@pve", &c), RG_OK);
    dump = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"access\":{},\"dc\":{},\"mapping\":{},\"nodes\":{},\"sdn\":{},"
                           "\"storage\":{},\"vms\":{\"VM.Audit\":1,\"VM.Backup\":1,"
                           "\"VM.Config.CDROM\":1,\"VM.Config.Cloudinit\":1,\"VM.Console\":1,"
                           "\"VM.GuestAgent.Audit\":1,\"VM.GuestAgent.FileRead\":1,"
                           "\"VM.GuestAgent.FileSystemMgmt\":1,\"VM.GuestAgent.FileWrite\":1,"
                           "\"VM.PowerMgmt\":1}}");
    free(dump);
    json_decref(c);

    /* root: dc gets Sys.Audit/Sys.Modify/SDN.*; access gets User/Group + Permissions.Modify */
    ck_assert_int_eq(rg_perm_cap(&cfg, "root@pam", &c), RG_OK);
    dump = json_dumps(json_object_get(c, "dc"), JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"SDN.Allocate\":1,\"SDN.Audit\":1,\"SDN.Use\":1,\"Sys.Audit\":1,"
                           "\"Sys.Modify\":1}");
    free(dump);
    dump = json_dumps(json_object_get(c, "access"), JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"Group.Allocate\":1,\"Permissions.Modify\":1,\"User.Modify\":1}");
    free(dump);
    dump = json_dumps(json_object_get(c, "mapping"), JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"Mapping.Audit\":1,\"Mapping.Modify\":1,\"Mapping.Use\":1,"
                           "\"Permissions.Modify\":1}");
    free(dump);
    ck_assert_uint_eq(json_object_size(json_object_get(c, "vms")), 24);
    ck_assert_uint_eq(json_object_size(json_object_get(c, "nodes")), 8);
    json_decref(c);
    rg_usercfg_free(&cfg);

    /* test1 max@pve: vms from /vms, nothing else (/users is not a known top level) */
    load("perm-test1.cfg", &cfg);
    ck_assert_int_eq(rg_perm_cap(&cfg, "max@pve", &c), RG_OK);
    dump = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_str_eq(dump, "{\"access\":{},\"dc\":{},\"mapping\":{},\"nodes\":{},\"sdn\":{},"
                           "\"storage\":{},\"vms\":{\"Permissions.Modify\":1,\"VM.Allocate\":1,"
                           "\"VM.Audit\":1,\"VM.Console\":1,\"VM.PowerMgmt\":1}}");
    free(dump);
    json_decref(c);
    rg_usercfg_free(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("perm");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test1);
    tcase_add_test(tc, test2);
    tcase_add_test(tc, test3);
    tcase_add_test(tc, test4);
    tcase_add_test(tc, test5);
    tcase_add_test(tc, pools_and_tokens);
    tcase_add_test(tc, propagate_flags_and_check);
    tcase_add_test(tc, permissions_object);
    tcase_add_test(tc, cap);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
