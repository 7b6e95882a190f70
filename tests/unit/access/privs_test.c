/* Unit tests for src/access/privs.c: the 47 privileges and 17 built-in roles (spec §5.3/5.4). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "access/privs.h"

static char *joined(rg_privmask m)
{
    struct rg_buf b;
    char *s;
    rg_buf_init(&b, 4096);
    ck_assert_int_eq(rg_privmask_join(m, ",", &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

static rg_privmask role(const char *id)
{
    const struct rg_builtin_role *r = rg_builtin_role_find(id);
    ck_assert_msg(r != NULL, "role %s", id);
    return r->privs;
}

START_TEST(counts_and_order)
{
    size_t n;
    ck_assert_ptr_nonnull(rg_builtin_roles(&n));
    ck_assert_uint_eq(n, 17);
    for (unsigned i = 0; i < RG_PRIV_COUNT; i++) {
        ck_assert_ptr_nonnull(rg_priv_name(i));
        ck_assert_int_eq(rg_priv_index(rg_priv_name(i)), (int)i);
        if (i > 0)
            ck_assert_int_lt(strcmp(rg_priv_name(i - 1), rg_priv_name(i)), 0);
    }
    ck_assert_ptr_null(rg_priv_name(47));
    ck_assert_int_eq(rg_priv_index("VM.Monitor"), -1); /* removed in 9.0.2 */
    ck_assert_int_eq(rg_priv_index("vm.audit"), -1);   /* case-sensitive */
    ck_assert_uint_eq(rg_privmask_count(RG_PRIV_ALL), 47);
}
END_TEST

START_TEST(builtin_roles)
{
    char *s;

    ck_assert_uint_eq(rg_privmask_count(role("Administrator")), 47);
    ck_assert_uint_eq(rg_privmask_count(role("NoAccess")), 0);
    ck_assert_uint_eq(rg_privmask_count(role("PVEAdmin")), 40);
    ck_assert_uint_eq(rg_privmask_count(role("PVEVMAdmin")), 23);
    ck_assert_uint_eq(rg_privmask_count(role("PVEVMUser")), 10);

    /* PVEAdmin misses exactly these seven */
    s = joined(role("Administrator") & ~role("PVEAdmin"));
    ck_assert_str_eq(s, "Mapping.Modify,Permissions.Modify,Realm.Allocate,Sys.AccessNetwork,"
                        "Sys.Incoming,Sys.Modify,Sys.PowerMgmt");
    free(s);
    s = joined(role("PVEAuditor"));
    ck_assert_str_eq(s, "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,VM.Audit,"
                        "VM.GuestAgent.Audit");
    free(s);
    s = joined(role("PVEVMUser"));
    ck_assert_str_eq(s, "VM.Audit,VM.Backup,VM.Config.CDROM,VM.Config.Cloudinit,VM.Console,"
                        "VM.GuestAgent.Audit,VM.GuestAgent.FileRead,"
                        "VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,VM.PowerMgmt");
    free(s);
    s = joined(role("PVEVMAdmin"));
    ck_assert_str_eq(s, "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,"
                        "VM.Config.Cloudinit,VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,"
                        "VM.Config.Network,VM.Config.Options,VM.Console,VM.GuestAgent.Audit,"
                        "VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,"
                        "VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,"
                        "VM.PowerMgmt,VM.Replicate,VM.Snapshot,VM.Snapshot.Rollback");
    free(s);

    static const struct {
        const char *id, *privs;
    } small[] = {
        {"PVETemplateUser", "VM.Audit,VM.Clone"},
        {"PVESysAdmin", "Sys.Audit,Sys.Console,Sys.Syslog"},
        {"PVEDatastoreAdmin",
         "Datastore.Allocate,Datastore.AllocateSpace,Datastore.AllocateTemplate,Datastore.Audit"},
        {"PVEDatastoreUser", "Datastore.AllocateSpace,Datastore.Audit"},
        {"PVESDNAdmin", "SDN.Allocate,SDN.Audit,SDN.Use"},
        {"PVESDNUser", "SDN.Audit,SDN.Use"},
        {"PVEUserAdmin", "Group.Allocate,Realm.AllocateUser,User.Modify"},
        {"PVEPoolAdmin", "Pool.Allocate,Pool.Audit"},
        {"PVEPoolUser", "Pool.Audit"},
        {"PVEMappingAdmin", "Mapping.Audit,Mapping.Modify,Mapping.Use"},
        {"PVEMappingUser", "Mapping.Audit,Mapping.Use"},
    };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++) {
        s = joined(role(small[i].id));
        ck_assert_str_eq(s, small[i].privs);
        free(s);
    }
    ck_assert_ptr_null(rg_builtin_role_find("PVESysUser"));
    ck_assert_ptr_null(rg_builtin_role_find("administrator"));
}
END_TEST

START_TEST(parse_list)
{
    rg_privmask m;
    size_t unknown;
    char first[64];
    char *s;

    ck_assert_int_eq(rg_privmask_parse("VM.Allocate,Datastore.Audit;VM.Allocate VM.Invalid", &m,
                                       &unknown, first),
                     RG_OK);
    ck_assert_uint_eq(unknown, 1);
    ck_assert_str_eq(first, "VM.Invalid");
    s = joined(m);
    ck_assert_str_eq(s, "Datastore.Audit,VM.Allocate");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("privs");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, counts_and_order);
    tcase_add_test(tc, builtin_roles);
    tcase_add_test(tc, parse_list);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
