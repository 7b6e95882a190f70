"""A Proxmox user.cfg/domains.cfg pair dropped into an empty config directory: the admin CLI
answers `user permissions` as Proxmox does (spec §8.1 expectations, test1 fixture), lists the
realms, and read-only commands leave both files byte for byte as they were.
The last line is "N passed, M failed"."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, RESULTS, SOURCE, check  # noqa: E402

DATA = os.path.join(SOURCE, "tests/data/access")
ALL = ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate",
       "Datastore.Audit", "Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use",
       "Permissions.Modify", "Pool.Allocate", "Pool.Audit", "Realm.Allocate",
       "Realm.AllocateUser", "SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.AccessNetwork",
       "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
       "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM",
       "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
       "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
       "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
       "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt",
       "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback"]
VMADMIN = [p for p in ALL if p.startswith("VM.")]

# spec §8.1, the "perm" rows (privileges Proxmox computes for test1)
EXPECTED = [
    ("max@pve", "/", []),
    ("max@pve", "/vms", ["Permissions.Modify", "VM.Allocate", "VM.Audit", "VM.Console"]),
    ("max@pve", "/vms/100", ["VM.Audit", "VM.PowerMgmt"]),
    ("alex@pve", "/vms", []),
    ("alex@pve", "/vms/100", ["VM.Audit", "VM.PowerMgmt"]),
    ("alex@pve", "/vms/300", VMADMIN),
    ("alex@pve", "/vms/400", ALL),
]


def main():
    cfg = tempfile.mkdtemp(prefix="rg-pvefiles-")
    shutil.copy(os.path.join(DATA, "perm-test1.cfg"), os.path.join(cfg, "user.cfg"))
    shutil.copy(os.path.join(DATA, "domains-example.cfg"), os.path.join(cfg, "domains.cfg"))
    before = {f: open(os.path.join(cfg, f), "rb").read() for f in ("user.cfg", "domains.cfg")}
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", cfg]

    def run(*args):
        p = subprocess.run(rg + list(args), capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, (args, p.returncode, p.stderr)
        return p.stdout

    try:
        def counts():
            assert len(ALL) == 47 and len(VMADMIN) == 23
        check("the expectation lists have Proxmox's sizes", counts)

        for user, path, privs in EXPECTED:
            def one(user=user, path=path, privs=privs):
                out = json.loads(run("user", "permissions", user, "--path", path,
                                     "--output-format", "json"))
                assert list(out) == [path], out
                assert sorted(out[path]) == sorted(privs), (user, path, sorted(out[path]))
            check(f"{user} on {path}: {len(privs)} privileges as Proxmox", one)

        def realms():
            out = json.loads(run("realm", "list", "--output-format", "json"))
            by = {r["realm"]: r for r in out}
            assert sorted(by) == ["pam", "pve", "sso"], out
            assert by["sso"]["type"] == "openid" and by["sso"]["comment"] == "Company SSO", out
            assert "client-key" not in json.dumps(out), "the secret must not be listed"
        check("realm list shows the realms of the Proxmox domains.cfg", realms)

        def untouched():
            for f, data in before.items():
                with open(os.path.join(cfg, f), "rb") as fh:
                    assert fh.read() == data, f"{f} was rewritten by a read-only command"
        check("read-only commands leave both files byte for byte", untouched)
    finally:
        shutil.rmtree(cfg, ignore_errors=True)
    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
