#include "access/privs.h"

#include <stdlib.h>
#include <string.h>

#include "access/ids.h"

/* Sorted byte-wise: the index is the bit number (see privs.h). */
static const char *const priv_names[RG_PRIV_COUNT] = {
    "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate",
    "Datastore.Audit", "Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use",
    "Permissions.Modify", "Pool.Allocate", "Pool.Audit", "Realm.Allocate",
    "Realm.AllocateUser", "SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.AccessNetwork",
    "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
    "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM",
    "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
    "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
    "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt",
    "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
};

enum {
    DS_ALLOCATE, DS_ALLOCATESPACE, DS_ALLOCATETEMPLATE, DS_AUDIT, GROUP_ALLOCATE,
    MAP_AUDIT, MAP_MODIFY, MAP_USE, PERM_MODIFY, POOL_ALLOCATE, POOL_AUDIT, REALM_ALLOCATE,
    REALM_ALLOCATEUSER, SDN_ALLOCATE, SDN_AUDIT, SDN_USE, SYS_ACCESSNETWORK, SYS_AUDIT,
    SYS_CONSOLE, SYS_INCOMING, SYS_MODIFY, SYS_POWERMGMT, SYS_SYSLOG, USER_MODIFY,
    VM_ALLOCATE, VM_AUDIT, VM_BACKUP, VM_CLONE, VM_CDROM, VM_CPU, VM_CLOUDINIT, VM_DISK,
    VM_HWTYPE, VM_MEMORY, VM_NETWORK, VM_OPTIONS, VM_CONSOLE, VM_GA_AUDIT, VM_GA_FILEREAD,
    VM_GA_FSMGMT, VM_GA_FILEWRITE, VM_GA_UNRESTRICTED, VM_MIGRATE, VM_POWERMGMT, VM_REPLICATE,
    VM_SNAPSHOT, VM_SNAPSHOT_ROLLBACK,
};

#define B(x) (((rg_privmask)1) << (x))

/* Tiers per category (spec §5.3); the built-in roles are derived from them (§5.4). */
#define VM_ADMIN                                                                          \
    (B(VM_DISK) | B(VM_CPU) | B(VM_MEMORY) | B(VM_NETWORK) | B(VM_HWTYPE) | B(VM_OPTIONS) | \
     B(VM_ALLOCATE) | B(VM_CLONE) | B(VM_GA_UNRESTRICTED) | B(VM_MIGRATE) |               \
     B(VM_REPLICATE) | B(VM_SNAPSHOT) | B(VM_SNAPSHOT_ROLLBACK))
#define VM_USER                                                                           \
    (B(VM_CDROM) | B(VM_CLOUDINIT) | B(VM_CONSOLE) | B(VM_BACKUP) | B(VM_GA_FILEREAD) |    \
     B(VM_GA_FSMGMT) | B(VM_GA_FILEWRITE) | B(VM_POWERMGMT))
#define VM_AUD (B(VM_AUDIT) | B(VM_GA_AUDIT))
#define SYS_ADMIN (B(SYS_CONSOLE) | B(SYS_SYSLOG))
#define SYS_AUD B(SYS_AUDIT)
#define DS_ADMIN (B(DS_ALLOCATE) | B(DS_ALLOCATETEMPLATE))
#define DS_USER B(DS_ALLOCATESPACE)
#define DS_AUD B(DS_AUDIT)
#define SDN_ADMIN (B(SDN_ALLOCATE) | B(SDN_AUDIT))
#define SDN_USER B(SDN_USE)
#define SDN_AUD B(SDN_AUDIT)
#define USER_ADMIN (B(USER_MODIFY) | B(GROUP_ALLOCATE) | B(REALM_ALLOCATEUSER))
#define POOL_ADMIN B(POOL_ALLOCATE)
#define POOL_USER B(POOL_AUDIT)
#define POOL_AUD B(POOL_AUDIT)
#define MAP_ADMIN B(MAP_MODIFY)
#define MAP_USER B(MAP_USE)
#define MAP_AUD B(MAP_AUDIT)

#define R_VMADMIN (VM_ADMIN | VM_USER | VM_AUD)
#define R_SYSADMIN (SYS_ADMIN | SYS_AUD)
#define R_DSADMIN (DS_ADMIN | DS_USER | DS_AUD)
#define R_SDNADMIN (SDN_ADMIN | SDN_USER | SDN_AUD)
#define R_USERADMIN USER_ADMIN
#define R_POOLADMIN (POOL_ADMIN | POOL_USER | POOL_AUD)
#define R_MAPADMIN (MAP_ADMIN | MAP_USER | MAP_AUD)

static const struct rg_builtin_role builtin_roles[RG_BUILTIN_ROLE_COUNT] = {
    {"Administrator", RG_PRIV_ALL},
    {"NoAccess", 0},
    {"PVEAdmin", (R_VMADMIN | R_SYSADMIN | R_DSADMIN | R_SDNADMIN | R_USERADMIN |
                  R_POOLADMIN | R_MAPADMIN) & ~B(MAP_MODIFY)},
    {"PVEAuditor", VM_AUD | SYS_AUD | DS_AUD | SDN_AUD | POOL_AUD | MAP_AUD},
    {"PVEVMAdmin", R_VMADMIN},
    {"PVEVMUser", VM_USER | VM_AUD},
    {"PVETemplateUser", B(VM_AUDIT) | B(VM_CLONE)},
    {"PVESysAdmin", R_SYSADMIN},
    {"PVEDatastoreAdmin", R_DSADMIN},
    {"PVEDatastoreUser", DS_USER | DS_AUD},
    {"PVESDNAdmin", R_SDNADMIN},
    {"PVESDNUser", SDN_USER | SDN_AUD},
    {"PVEUserAdmin", R_USERADMIN},
    {"PVEPoolAdmin", R_POOLADMIN},
    {"PVEPoolUser", POOL_USER | POOL_AUD},
    {"PVEMappingAdmin", R_MAPADMIN},
    {"PVEMappingUser", MAP_USER | MAP_AUD},
};

const char *rg_priv_name(unsigned i)
{
    return i < RG_PRIV_COUNT ? priv_names[i] : NULL;
}

static int cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int rg_priv_index(const char *name)
{
    const char *const *hit;

    if (!name)
        return -1;
    hit = bsearch(name, priv_names, RG_PRIV_COUNT, sizeof *priv_names, cmp_name);
    return hit ? (int)(hit - priv_names) : -1;
}

rg_privmask rg_priv_bit(const char *name)
{
    int i = rg_priv_index(name);
    return i < 0 ? 0 : B(i);
}

unsigned rg_privmask_count(rg_privmask m)
{
    return (unsigned)__builtin_popcountll(m & RG_PRIV_ALL);
}

rg_err rg_privmask_join(rg_privmask m, const char *sep, struct rg_buf *b)
{
    int first = 1;

    for (unsigned i = 0; i < RG_PRIV_COUNT; i++) {
        rg_err e;
        if (!(m & B(i)))
            continue;
        if (!first && (e = rg_buf_appends(b, sep)))
            return e;
        if ((e = rg_buf_appends(b, priv_names[i])))
            return e;
        first = 0;
    }
    return RG_OK;
}

rg_err rg_privmask_parse(const char *list, rg_privmask *out, size_t *unknown,
                         char first_unknown[64])
{
    struct rg_strlist l;
    size_t bad = 0;
    rg_err e;

    *out = 0;
    if (first_unknown)
        first_unknown[0] = '\0';
    e = rg_split_list(list, 256, &l);
    if (e)
        return e;
    for (size_t i = 0; i < l.n; i++) {
        rg_privmask bit = rg_priv_bit(l.items[i]);
        if (bit) {
            *out |= bit;
            continue;
        }
        if (bad++ == 0 && first_unknown) {
            size_t n = strlen(l.items[i]);
            if (n > 63)
                n = 63;
            memcpy(first_unknown, l.items[i], n);
            first_unknown[n] = '\0';
        }
    }
    if (unknown)
        *unknown = bad;
    rg_strlist_free(&l);
    return RG_OK;
}

const struct rg_builtin_role *rg_builtin_roles(size_t *n)
{
    if (n)
        *n = RG_BUILTIN_ROLE_COUNT;
    return builtin_roles;
}

const struct rg_builtin_role *rg_builtin_role_find(const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < RG_BUILTIN_ROLE_COUNT; i++)
        if (!strcmp(builtin_roles[i].id, id))
            return &builtin_roles[i];
    return NULL;
}
