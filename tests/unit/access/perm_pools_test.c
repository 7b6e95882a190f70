/* Table-driven permission fixtures derived from spec §5.7 and §5.9 (the PVE suite's
 * perm-test6..8 and api-get-permissions are not reproduced in the spec, so these are ours):
 *   perm-pools.cfg   pools, nested pools (/pool/a/b inherits propagated ACLs of /pool/a),
 *                    non-propagating entries at intermediate pool levels, NoAccess on a pool
 *                    (regular NoAccess stays, pool NoAccess cancels), storages in two pools;
 *   perm-tokens.cfg  tokens with and without privilege separation (intersection with the
 *                    owner, AND of the propagate flags, token ACLs of non-separated tokens
 *                    ignored, root@pam's tokens), unknown tokens;
 *   the /access/permissions access matrix (rg_perm_may_read_permissions) and the
 *   permissions object of a token (rg_perm_all).
 * Every case runs twice: on the plain config and with the lookup index of
 * rg_perm_index_build, which must not change any answer. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/perm.h"
#include "base/fsutil.h"

static void load(const char *name, struct rg_usercfg *cfg, int indexed)
{
    char path[1024];
    const char *dir = getenv("RG_TEST_DATA");
    struct rg_buf b;

    snprintf(path, sizeof path, "%s/access/%s", dir ? dir : "tests/data", name);
    ck_assert_int_eq(rg_file_read(path, 1 << 20, &b), RG_OK);
    ck_assert_int_eq(rg_usercfg_parse(b.data, b.len, cfg, NULL, NULL), RG_OK);
    rg_buf_free(&b);
    if (indexed)
        ck_assert_int_eq(rg_perm_index_build(cfg), RG_OK);
    ck_assert(indexed ? cfg->perm_index != NULL : cfg->perm_index == NULL);
}

static void unload(struct rg_usercfg *cfg)
{
    rg_perm_index_drop(cfg);
    ck_assert_ptr_null(cfg->perm_index);
    rg_usercfg_free(cfg);
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

static char *mask_str(rg_privmask m)
{
    struct rg_buf b;
    char *s;

    rg_buf_init(&b, 4096);
    ck_assert_int_eq(rg_privmask_join(m, ",", &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

/* kind: 'r' roles, 'p' privileges, 'P' propagated privileges */
struct expect {
    const char *who, *path;
    char kind;
    const char *want;
};

static void run(const char *fixture, const struct expect *x, size_t n)
{
    for (int indexed = 0; indexed < 2; indexed++) {
        struct rg_usercfg cfg;
        load(fixture, &cfg, indexed);
        for (size_t i = 0; i < n; i++) {
            char *got;
            if (x[i].kind == 'r') {
                got = roles_str(&cfg, x[i].who, x[i].path);
            } else {
                struct rg_privset ps;
                ck_assert_int_eq(rg_perm_privs(&cfg, x[i].who, x[i].path, &ps), RG_OK);
                ck_assert((ps.propagate & ~ps.privs) == 0);
                got = mask_str(x[i].kind == 'p' ? ps.privs : ps.propagate);
            }
            ck_assert_msg(!strcmp(got, x[i].want),
                          "%s%s case %zu (%s %s %c): got '%s' want '%s'", fixture,
                          indexed ? " (indexed)" : "", i, x[i].who, x[i].path, x[i].kind, got,
                          x[i].want);
            free(got);
        }
        unload(&cfg);
    }
}

#define N(a) (sizeof(a) / sizeof *(a))

static const char VMADMIN[] =
    "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,VM.Config.Cloudinit,"
    "VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options,"
    "VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,"
    "VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate,"
    "VM.Snapshot,VM.Snapshot.Rollback";

static const char VMUSER[] =
    "VM.Audit,VM.Backup,VM.Config.CDROM,VM.Config.Cloudinit,VM.Console,VM.GuestAgent.Audit,"
    "VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,VM.PowerMgmt";

static const char AUDITOR[] = "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,"
                              "VM.Audit,VM.GuestAgent.Audit";

static const char AUDITOR_VMADMIN[] =
    "Datastore.Audit,Mapping.Audit,Pool.Audit,SDN.Audit,Sys.Audit,"
    "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,VM.Config.Cloudinit,"
    "VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options,"
    "VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,"
    "VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate,"
    "VM.Snapshot,VM.Snapshot.Rollback";

static const char DSUSER_VMADMIN[] =
    "Datastore.AllocateSpace,Datastore.Audit,"
    "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,VM.Config.Cloudinit,"
    "VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,VM.Config.Network,VM.Config.Options,"
    "VM.Console,VM.GuestAgent.Audit,VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,"
    "VM.GuestAgent.FileWrite,VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate,"
    "VM.Snapshot,VM.Snapshot.Rollback";

static const char DSUSER[] = "Datastore.AllocateSpace,Datastore.Audit";

START_TEST(pools)
{
    const struct expect x[] = {
        /* nested pools: /pool/dev propagates down; a propagate-0 user entry on /pool/dev/web
         * replaces only at that exact node, so /pool/dev/web/front inherits from /pool/dev */
        {"alice@pve", "/pool/dev", 'r', "PVEVMUser"},
        {"alice@pve", "/pool/dev/web", 'r', "PVEAuditor"},
        {"alice@pve", "/pool/dev/web/front", 'r', "PVEVMUser"},
        {"alice@pve", "/pool/dev", 'P', VMUSER},
        {"alice@pve", "/pool/dev/web", 'P', ""},
        /* pool roles reach the members' exact paths, with propagate 0 */
        {"alice@pve", "/vms/100", 'p', VMUSER},
        {"alice@pve", "/vms/100", 'P', ""},
        {"alice@pve", "/vms/0100", 'p', ""}, /* not VM 100: Proxmox matches the exact path */
        {"alice@pve", "/vms/101", 'p', VMUSER},
        {"alice@pve", "/vms/110", 'p', AUDITOR},
        {"alice@pve", "/vms/120", 'p', VMUSER},
        {"alice@pve", "/storage/local", 'p', VMUSER},
        {"alice@pve", "/storage/nfs", 'p', AUDITOR},
        {"alice@pve", "/vms/100", 'r', ""},     /* roles() itself ignores pools */
        {"alice@pve", "/vms/100/disk0", 'p', ""},
        {"alice@pve", "/vms", 'p', ""},
        {"alice@pve", "/vms/200", 'p', ""},
        {"alice@pve", "/vms/999", 'p', ""},
        /* group roles on a pool; regular roles add to pool roles */
        {"bob@pve", "/pool/prod", 'r', "PVEVMAdmin"},
        {"bob@pve", "/vms/200", 'p', VMADMIN},
        {"bob@pve", "/vms/201", 'r', "PVEAuditor"},
        {"bob@pve", "/vms/201", 'p', AUDITOR_VMADMIN},
        {"bob@pve", "/vms/201", 'P', AUDITOR}, /* only the regular entry propagates */
        {"bob@pve", "/storage/ceph", 'p', VMADMIN},
        {"bob@pve", "/storage/local", 'p', ""},
        /* NoAccess on a pool: user entry beats the group's, and cancels regular roles */
        {"carol@pve", "/pool/prod", 'r', "NoAccess"},
        {"carol@pve", "/vms/200", 'p', ""},
        {"carol@pve", "/vms/201", 'p', ""},
        {"carol@pve", "/storage/ceph", 'p', ""},
        {"carol@pve", "/storage/local", 'p', ""}, /* in dev (nothing) and lab (NoAccess) */
        {"carol@pve", "/storage/nfs", 'p', DSUSER},
        {"carol@pve", "/storage/other", 'p', DSUSER},
        {"carol@pve", "/pool/lab", 'r', "NoAccess"},
        {"carol@pve", "/vms/300", 'p', ""},
        /* regular NoAccess stays NoAccess whatever the pool gives */
        {"dave@pve", "/vms/200", 'r', "NoAccess"},
        {"dave@pve", "/vms/200", 'p', ""},
        {"dave@pve", "/vms/201", 'p', VMADMIN},
        /* NoAccess on a nested pool propagates to its own sub-pool */
        {"erin@pve", "/vms/100", 'p', VMADMIN},
        {"erin@pve", "/vms/110", 'p', ""},
        {"erin@pve", "/vms/120", 'p', ""},
        {"erin@pve", "/pool/dev/web/front", 'r', "NoAccess"},
        {"erin@pve", "/storage/nfs", 'p', ""},
        {"erin@pve", "/storage/local", 'p', VMADMIN},
        /* nobody else gets anything from pools */
        {"zed@pve", "/vms/100", 'p', ""},
    };
    run("perm-pools.cfg", x, N(x));
}
END_TEST

START_TEST(tokens)
{
    const struct expect x[] = {
        {"tom@pve", "/", 'r', "PVEDatastoreUser"},
        {"tom@pve", "/vms", 'r', "PVEVMAdmin"},
        {"tom@pve", "/vms/100", 'p', DSUSER_VMADMIN}, /* + pool p's inherited roles */
        {"tom@pve", "/nodes", 'r', "PVESysAdmin"},
        {"tom@pve", "/nodes/n1", 'r', "PVEDatastoreUser"},
        /* privsep 0: exactly the owner's result; the token's own NoAccess entry is ignored */
        {"tom@pve!full", "/vms", 'r', "PVEVMAdmin"},
        {"tom@pve!full", "/vms", 'p', VMADMIN},
        {"tom@pve!full", "/", 'p', DSUSER},
        {"tom@pve!full", "/vms/100", 'p', DSUSER_VMADMIN},
        /* privsep 1: only the token's entries, then capped by the owner */
        {"tom@pve!sep", "/vms", 'r', "Administrator"},
        {"tom@pve!sep", "/vms", 'p', VMADMIN},
        {"tom@pve!sep", "/vms", 'P', VMADMIN},
        {"tom@pve!sep", "/", 'r', ""}, /* user and group entries never match a token */
        {"tom@pve!sep", "/", 'p', ""},
        {"tom@pve!sep", "/storage", 'r', "PVEDatastoreAdmin"},
        {"tom@pve!sep", "/storage", 'p', DSUSER},
        {"tom@pve!sep", "/vms/100", 'p', DSUSER_VMADMIN},
        {"tom@pve!sep", "/vms/100", 'P', VMADMIN}, /* the owner's pool roles: propagate 0 */
        /* owner's grant at /nodes is not propagated: flag = AND */
        {"tom@pve!sep", "/nodes", 'p', "Sys.Audit,Sys.Console,Sys.Syslog"},
        {"tom@pve!sep", "/nodes", 'P', ""},
        {"tom@pve!sep", "/nodes/n1", 'p', ""},
        {"tom@pve!narrow", "/vms/100", 'r', "PVEVMUser"},
        {"tom@pve!narrow", "/vms/100", 'p', VMUSER},
        {"tom@pve!narrow", "/vms/101", 'p', ""},
        {"tom@pve!narrow", "/vms", 'r', ""},
        /* a separated token of a user without rights has none, even as Administrator */
        {"una@pve!ci", "/", 'r', "Administrator"},
        {"una@pve!ci", "/vms", 'r', "Administrator"},
        {"una@pve!ci", "/", 'p', ""},
        /* unknown tokens */
        {"tom@pve!ghost", "/vms", 'r', ""},
        {"tom@pve!ghost", "/vms", 'p', ""},
        {"nobody@pve!x", "/", 'p', ""},
        /* root@pam: itself all-powerful; its non-separated token too; a separated one is
         * limited to its own ACL entries (none here) */
        {"root@pam", "/nodes/x", 'r', "Administrator"},
        {"root@pam!auto", "/", 'r', "Administrator"},
        {"root@pam!auto", "/vms/100", 'p',
         "Datastore.Allocate,Datastore.AllocateSpace,Datastore.AllocateTemplate,Datastore.Audit,"
         "Group.Allocate,Mapping.Audit,Mapping.Modify,Mapping.Use,Permissions.Modify,"
         "Pool.Allocate,Pool.Audit,Realm.Allocate,Realm.AllocateUser,SDN.Allocate,SDN.Audit,"
         "SDN.Use,Sys.AccessNetwork,Sys.Audit,Sys.Console,Sys.Incoming,Sys.Modify,"
         "Sys.PowerMgmt,Sys.Syslog,User.Modify,"
         "VM.Allocate,VM.Audit,VM.Backup,VM.Clone,VM.Config.CDROM,VM.Config.CPU,"
         "VM.Config.Cloudinit,VM.Config.Disk,VM.Config.HWType,VM.Config.Memory,"
         "VM.Config.Network,VM.Config.Options,VM.Console,VM.GuestAgent.Audit,"
         "VM.GuestAgent.FileRead,VM.GuestAgent.FileSystemMgmt,VM.GuestAgent.FileWrite,"
         "VM.GuestAgent.Unrestricted,VM.Migrate,VM.PowerMgmt,VM.Replicate,VM.Snapshot,"
         "VM.Snapshot.Rollback"},
        {"root@pam!sep", "/", 'r', ""},
        {"root@pam!sep", "/", 'p', ""},
        {"aud@pve", "/access", 'p', AUDITOR},
        {"aud@pve!full", "/access", 'p', AUDITOR},
        {"aud@pve!sep", "/access", 'p', ""},
        /* a user whose name holds a '!' is a user (its entry beats its group's at /vms),
         * and its token is a token */
        {"x!y@pve", "/vms", 'r', "PVEVMUser"},
        {"x!y@pve", "/", 'r', ""},
        {"x!y@pve!tk", "/vms/100", 'r', "PVEAuditor"},
        {"x!y@pve!tk", "/vms/100", 'p', "VM.Audit,VM.GuestAgent.Audit"},
        {"x!y@pve!tk", "/vms", 'p', ""},
    };
    run("perm-tokens.cfg", x, N(x));
}
END_TEST

START_TEST(permissions_access_matrix)
{
    const struct {
        const char *caller, *target;
        bool allowed;
    } m[] = {
        {"tom@pve", "tom@pve", true},          /* the caller itself */
        {"tom@pve", "tom@pve!sep", true},      /* own tokens */
        {"tom@pve", "tom@pve!full", true},
        {"tom@pve", "tom@pve!ghost", true},    /* by name, as PVE */
        {"tom@pve", "una@pve", false},         /* others need Sys.Audit on /access */
        {"tom@pve", "una@pve!ci", false},
        {"tom@pve", "tom@pvex!sep", false},    /* a prefix is not an owner */
        {"tom@pve", "tom@pv!sep", false},
        {"tom@pve!sep", "tom@pve!sep", true},  /* a token may read itself */
        {"tom@pve!sep", "tom@pve", false},     /* not its owner */
        {"tom@pve!sep", "tom@pve!full", false}, /* nor a sibling token */
        {"aud@pve", "una@pve", true},          /* PVEAuditor on /access */
        {"aud@pve", "una@pve!ci", true},
        {"aud@pve", "root@pam", true},
        {"aud@pve!full", "una@pve", true},     /* non-separated: the owner's privileges */
        {"aud@pve!sep", "una@pve", false},     /* separated, no ACL of its own */
        {"una@pve!ci", "tom@pve", false},      /* Administrator capped by an empty owner */
        {"root@pam", "tom@pve!sep", true},
        {"nobody@pve", "tom@pve", false},
        {"nobody@pve", "nobody@pve", true},
        {"x!y@pve", "x!y@pve!tk", true},       /* own token, '!' in the user name */
        {"x!y@pve!tk", "x!y@pve", false},
        {"x!y@pve", "x!y@pve!tk!tk", false},
    };

    for (int indexed = 0; indexed < 2; indexed++) {
        struct rg_usercfg cfg;
        load("perm-tokens.cfg", &cfg, indexed);
        for (size_t i = 0; i < N(m); i++)
            ck_assert_msg(rg_perm_may_read_permissions(&cfg, m[i].caller, m[i].target) ==
                              m[i].allowed,
                          "case %zu: %s reading %s should be %s", i, m[i].caller, m[i].target,
                          m[i].allowed ? "allowed" : "refused");
        ck_assert(!rg_perm_may_read_permissions(&cfg, NULL, "tom@pve"));
        ck_assert(!rg_perm_may_read_permissions(&cfg, "tom@pve", NULL));
        unload(&cfg);
    }
}
END_TEST

/* {"priv": flag, ...} object -> "Name=flag,..." in sorted order. */
static char *obj_str(json_t *o)
{
    char *dump = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);

    ck_assert_ptr_nonnull(dump);
    return dump;
}

static char *flags_json(const char *names, int flag)
{
    struct rg_buf b;
    char *copy = strdup(names), *save = NULL, *s;
    int first = 1;

    rg_buf_init(&b, 8192);
    ck_assert_int_eq(rg_buf_appends(&b, "{"), RG_OK);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        ck_assert_int_eq(rg_buf_appendf(&b, "%s\"%s\":%d", first ? "" : ",", t, flag), RG_OK);
        first = 0;
    }
    ck_assert_int_eq(rg_buf_appends(&b, "}"), RG_OK);
    free(copy);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

START_TEST(token_permissions_object)
{
    for (int indexed = 0; indexed < 2; indexed++) {
        struct rg_usercfg cfg;
        json_t *all, *one;
        char *got, *want;

        load("perm-tokens.cfg", &cfg, indexed);
        ck_assert_int_eq(rg_perm_all(&cfg, "tom@pve!narrow", &all), RG_OK);
        ck_assert_uint_eq(json_object_size(all), 1);
        got = obj_str(json_object_get(all, "/vms/100"));
        want = flags_json(VMUSER, 1);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
        json_decref(all);

        ck_assert_int_eq(rg_perm_all(&cfg, "tom@pve!sep", &all), RG_OK);
        ck_assert_uint_eq(json_object_size(all), 4);
        got = obj_str(json_object_get(all, "/nodes"));
        ck_assert_str_eq(got, "{\"Sys.Audit\":0,\"Sys.Console\":0,\"Sys.Syslog\":0}");
        free(got);
        got = obj_str(json_object_get(all, "/storage"));
        ck_assert_str_eq(got, "{\"Datastore.AllocateSpace\":1,\"Datastore.Audit\":1}");
        free(got);
        got = obj_str(json_object_get(all, "/vms"));
        want = flags_json(VMADMIN, 1);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
        ck_assert_int_eq(
            json_integer_value(json_object_get(json_object_get(all, "/vms/100"), "VM.Allocate")),
            1);
        ck_assert_int_eq(json_integer_value(json_object_get(
                             json_object_get(all, "/vms/100"), "Datastore.Audit")),
                         0);
        ck_assert_uint_eq(json_object_size(json_object_get(all, "/vms/100")), 25);
        json_decref(all);

        /* with a path: the single normalised key, an empty object when nothing applies */
        ck_assert_int_eq(rg_perm_path_json(&cfg, "tom@pve!sep", "//nodes/n1/", &one), RG_OK);
        got = obj_str(one);
        ck_assert_str_eq(got, "{\"/nodes/n1\":{}}");
        free(got);
        json_decref(one);
        unload(&cfg);
    }
}
END_TEST

/* The index must follow the config it was built for: rebuilding after a copy + edit gives
 * the edited answers, and a copy never carries the original's index. */
START_TEST(index_lifecycle)
{
    struct rg_usercfg cfg, copy;
    struct rg_msg msg = {{0}};
    char *got;

    load("perm-pools.cfg", &cfg, 1);
    ck_assert_int_eq(rg_usercfg_copy(&cfg, &copy), RG_OK);
    ck_assert_ptr_null(copy.perm_index);
    ck_assert_int_eq(rg_usercfg_acl_change(&copy, "/pool/dev/web", "PVEVMAdmin", "alice@pve",
                                           NULL, NULL, 1, 0, &msg),
                     RG_OK);
    got = roles_str(&copy, "alice@pve", "/pool/dev/web/front");
    ck_assert_str_eq(got, "PVEVMAdmin");
    free(got);
    ck_assert_int_eq(rg_perm_index_build(&copy), RG_OK);
    got = roles_str(&copy, "alice@pve", "/pool/dev/web/front");
    ck_assert_str_eq(got, "PVEVMAdmin");
    free(got);
    got = roles_str(&cfg, "alice@pve", "/pool/dev/web/front");
    ck_assert_str_eq(got, "PVEVMUser");
    free(got);
    ck_assert_int_eq(rg_perm_index_build(&copy), RG_OK); /* rebuild replaces */
    unload(&copy);
    unload(&cfg);
}
END_TEST

/* Differential check on every fixture: for all users, tokens and ACL members against all ACL
 * paths, their children, pool member paths and a few fixed ones, the indexed engine gives
 * exactly the roles, privileges and flags of the index-free one. */
START_TEST(index_matches_plain_engine)
{
    static const char *const fixtures[] = {"perm-test1.cfg", "perm-test2.cfg", "perm-test3.cfg",
                                           "perm-test4.cfg", "perm-test5.cfg",
                                           "perm-pools-tokens.cfg", "perm-pools.cfg",
                                           "perm-tokens.cfg"};
    size_t compared = 0;

    for (size_t f = 0; f < N(fixtures); f++) {
        struct rg_usercfg plain, ix;
        struct rg_strlist who, paths;
        char buf[512];

        load(fixtures[f], &plain, 0);
        load(fixtures[f], &ix, 1);
        rg_strlist_init(&who);
        rg_strlist_init(&paths);
        ck_assert_int_eq(rg_strlist_add(&who, "ghost@pve"), RG_OK);
        ck_assert_int_eq(rg_strlist_add(&who, "root@pam"), RG_OK);
        for (size_t i = 0; i < plain.nusers; i++) {
            ck_assert_int_eq(rg_strlist_add(&who, plain.users[i].id), RG_OK);
            for (size_t t = 0; t < plain.users[i].ntokens; t++)
                ck_assert_int_eq(rg_strlist_add(&who, plain.users[i].tokens[t].id), RG_OK);
        }
        for (size_t i = 0; i < plain.ngroups; i++)
            for (size_t k = 0; k < plain.groups[i].members.n; k++)
                ck_assert_int_eq(rg_strlist_add(&who, plain.groups[i].members.items[k]), RG_OK);
        for (size_t i = 0; i < plain.nacl; i++)
            if (plain.acl[i].ugid[0] != '@')
                ck_assert_int_eq(rg_strlist_add(&who, plain.acl[i].ugid), RG_OK);
        for (size_t i = 0; i < plain.nacl; i++) {
            ck_assert_int_eq(rg_strlist_add(&paths, plain.acl[i].path), RG_OK);
            snprintf(buf, sizeof buf, "%s/child", plain.acl[i].path);
            ck_assert_int_eq(rg_strlist_add(&paths, buf), RG_OK);
        }
        for (size_t i = 0; i < plain.npools; i++) {
            for (size_t k = 0; k < plain.pools[i].nvmids; k++) {
                snprintf(buf, sizeof buf, "/vms/%u", (unsigned)plain.pools[i].vmids[k]);
                ck_assert_int_eq(rg_strlist_add(&paths, buf), RG_OK);
            }
            for (size_t k = 0; k < plain.pools[i].storages.n; k++) {
                snprintf(buf, sizeof buf, "/storage/%s", plain.pools[i].storages.items[k]);
                ck_assert_int_eq(rg_strlist_add(&paths, buf), RG_OK);
            }
        }
        ck_assert_int_eq(rg_strlist_add(&paths, "/"), RG_OK);
        ck_assert_int_eq(rg_strlist_add(&paths, "/vms/424242"), RG_OK);
        ck_assert_int_eq(rg_strlist_add(&paths, "/storage/none"), RG_OK);
        for (size_t w = 0; w < who.n; w++)
            for (size_t p = 0; p < paths.n; p++) {
                struct rg_privset a, b;
                char *ra = roles_str(&plain, who.items[w], paths.items[p]);
                char *rb = roles_str(&ix, who.items[w], paths.items[p]);
                ck_assert_int_eq(rg_perm_privs(&plain, who.items[w], paths.items[p], &a), RG_OK);
                ck_assert_int_eq(rg_perm_privs(&ix, who.items[w], paths.items[p], &b), RG_OK);
                ck_assert_msg(!strcmp(ra, rb) && a.privs == b.privs &&
                                  a.propagate == b.propagate,
                              "%s: %s on %s differs with the index (roles '%s' vs '%s')",
                              fixtures[f], who.items[w], paths.items[p], ra, rb);
                free(ra);
                free(rb);
                compared++;
            }
        rg_strlist_free(&who);
        rg_strlist_free(&paths);
        unload(&plain);
        unload(&ix);
    }
    ck_assert_uint_gt(compared, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("perm_pools");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, pools);
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, permissions_access_matrix);
    tcase_add_test(tc, token_permissions_object);
    tcase_add_test(tc, index_lifecycle);
    tcase_add_test(tc, index_matches_plain_engine);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
