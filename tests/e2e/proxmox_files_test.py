"""A Proxmox user.cfg/domains.cfg pair dropped into an empty config directory: the admin CLI
answers `user permissions` as Proxmox does (spec §8.1 expectations, test1 fixture), lists the
realms, and read-only commands leave both files byte for byte as they were.
Then Proxmox's priv/token.cfg (plain-text secrets) joins them and `realmgate serve` starts:
the imported token works with its old secret, the file is rewritten with salted hashes, and
tokens added or removed by the CLI take effect on the running server's next request.
The last line is "N passed, M failed"."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, free_port, SOURCE, summary  # noqa: E402

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


IMPORTED = "4f0c2a5e-9b1d-4e7a-8c3f-2d6b5a9e1c70"
HASHED = r"\$hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}"


def tokens(cfg, run):
    """Proxmox's token.cfg under a running server (see the module text)."""
    with open(os.path.join(cfg, "user.cfg"), "a") as f:
        f.write("token:max@pve!import:0:0:from PVE:\n")
    os.makedirs(os.path.join(cfg, "priv"), mode=0o700, exist_ok=True)
    with open(os.path.join(cfg, "priv/token.cfg"), "w") as f:
        f.write(f"max@pve!import {IMPORTED}\n")
    port = free_port()
    log = open(os.path.join(cfg, "serve.log"), "wb")
    server = subprocess.Popen([os.path.join(BUILD, "realmgate"), "--config-dir", cfg, "serve",
                               "--listen", f"127.0.0.1:{port}", "--auth-failure-delay", "0"],
                              stdout=subprocess.DEVNULL, stderr=log)
    url = f"https://127.0.0.1:{port}/api2/json/access/permissions"

    def perms(tokenid, secret, path="/vms/100"):
        return requests.get(url, params={"path": path}, verify=False, timeout=10,
                            headers={"Authorization": f"PVEAPIToken={tokenid}={secret}"})

    try:
        def up():
            for _ in range(200):
                try:
                    requests.get(url, verify=False, timeout=1)
                    return
                except requests.RequestException:
                    assert server.poll() is None, "serve exited"
                    subprocess.run(["sleep", "0.1"])
            raise AssertionError("serve did not come up")
        check("serve starts on the Proxmox files", up)

        def imported():
            r = perms("max@pve!import", IMPORTED)
            assert r.status_code == 200, (r.status_code, r.text)
            assert r.json()["data"] == {"/vms/100": {"VM.Audit": 1, "VM.PowerMgmt": 1}}, r.text
            r = perms("max@pve!import", IMPORTED[:-1] + "1")
            assert r.status_code == 401, (r.status_code, r.text)
        check("the imported token works with its Proxmox secret, a wrong one is refused",
              imported)

        def converted():
            with open(os.path.join(cfg, "priv/token.cfg")) as f:
                text = f.read()
            assert re.fullmatch(rf"max@pve!import {HASHED}\n", text), text
            assert (os.stat(os.path.join(cfg, "priv/token.cfg")).st_mode & 0o777) == 0o600
            with open(os.path.join(cfg, "serve.log")) as f:
                logtext = f.read()
            assert "converting 1 plain-text secret(s) in token.cfg" in logtext, logtext
            assert IMPORTED not in logtext
        check("serve rewrote token.cfg with a salted hash, the secret never logged", converted)

        def cli_changes():
            out = json.loads(run("user", "token", "add", "max@pve", "cli", "--privsep", "0",
                                 "--output-format", "json"))
            secret = out["value"]
            r = perms("max@pve!cli", secret)
            assert r.status_code == 200, (r.status_code, r.text)
            assert r.json()["data"] == {"/vms/100": {"VM.Audit": 1, "VM.PowerMgmt": 1}}, r.text
            run("user", "token", "remove", "max@pve", "import")
            r = perms("max@pve!import", IMPORTED)
            assert r.status_code == 401, (r.status_code, r.text)
            r = perms("max@pve!cli", secret, "/vms/400")
            assert r.status_code == 200, (r.status_code, r.text)
            assert r.json()["data"] == {"/vms/400": {p: 1 for p in (
                "Permissions.Modify", "VM.Allocate", "VM.Audit", "VM.Console")}}, r.text
        check("tokens added and removed by the CLI take effect on the next request",
              cli_changes)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


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

        tokens(cfg, run)
    finally:
        shutil.rmtree(cfg, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
