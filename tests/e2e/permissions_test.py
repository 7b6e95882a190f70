"""GET /api2/json/access/permissions access rules (spec §5.9) over HTTPS with real tickets:
a user may read their own permissions; reading another user's needs Sys.Audit on /access;
with `path` the answer is {"<normalised path>": {...}}. Users are created with the admin CLI
on a seeded demo state. The last line is "N passed, M failed".
(The rule for a user's own API tokens is covered by tests/unit/access/perm_pools_test.c.)"""
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, summary  # noqa: E402

AUDITOR = {"Datastore.Audit": 1, "Mapping.Audit": 1, "Pool.Audit": 1, "SDN.Audit": 1,
           "Sys.Audit": 1, "VM.Audit": 1, "VM.GuestAgent.Audit": 1}


def main():
    import subprocess
    import time

    demo = Demo("perms")
    try:
        api = f"{demo.gui}/api2/json"
        rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
        for cmd in (["user", "add", "carl@pve", "--password", "Carl-Pass-2026"],
                    ["user", "add", "audrey@pve", "--password", "Audrey-Pass-2026"],
                    ["acl", "modify", "/access", "--users", "audrey@pve", "--roles", "PVEAuditor"],
                    ["acl", "modify", "/vms/100", "--users", "carl@pve", "--roles", "PVEVMUser",
                     "--propagate", "0"]):
            subprocess.run(rg + cmd, check=True, stdout=subprocess.DEVNULL)

        def ticket(user, pw):
            r = requests.post(f"{api}/access/ticket", data={"username": user, "password": pw},
                              verify=False, timeout=10)
            assert r.status_code == 200, r.text
            return {"PVEAuthCookie": r.json()["data"]["ticket"]}

        carl = ticket("carl@pve", "Carl-Pass-2026")
        audrey = ticket("audrey@pve", "Audrey-Pass-2026")

        def get(cookies, **params):
            return requests.get(f"{api}/access/permissions", params=params, cookies=cookies,
                                verify=False, timeout=10)

        def list_separator_ids():
            """A user id with ',' or ';' would read back from user.cfg's member lists as two
            members ("zz,admin@pve" -> "admin@pve"): refused by the API and the CLI."""
            r = requests.post(f"{api}/access/ticket", verify=False, timeout=10,
                              data={"username": "admin@pve", "password": "Demo-Admin-2026"})
            d = r.json()["data"]
            for bad in ("zz,admin@pve", "q;carl@pve"):
                r = requests.post(f"{api}/access/users", verify=False, timeout=10,
                                  data={"userid": bad, "password": "Some-Pass-2026"},
                                  cookies={"PVEAuthCookie": d["ticket"]},
                                  headers={"CSRFPreventionToken": d["CSRFPreventionToken"]})
                assert r.status_code == 400, (bad, r.status_code, r.text)
                p = subprocess.run(rg + ["user", "add", bad], capture_output=True, text=True)
                assert p.returncode == 1, (bad, p.returncode, p.stderr)
            with open(os.path.join(demo.config_dir, "user.cfg")) as f:
                text = f.read()
            assert "zz" not in text and "q;" not in text, text
        check("user ids with list separators are refused", list_separator_ids)

        def schema_and_root_acl():
            r = requests.post(f"{api}/access/ticket", verify=False, timeout=10,
                              data={"username": "admin@pve", "password": "Demo-Admin-2026"})
            d = r.json()["data"]
            auth = {"cookies": {"PVEAuthCookie": d["ticket"]}, "verify": False, "timeout": 10,
                    "headers": {"CSRFPreventionToken": d["CSRFPreventionToken"]}}
            r = requests.post(f"{api}/access/groups", data={"groupid": "g1"}, **auth)
            assert r.status_code == 200, r.text
            r = requests.put(f"{api}/access/groups/g1", data={"members": "admin@pve"}, **auth)
            assert r.status_code == 400 and r.json()["message"] == (
                "parameter verification failed: 'members': property is not defined in schema "
                "and the schema does not allow additional properties"), r.text
            r = requests.put(f"{api}/access/acl", **auth,
                             data={"path": "/", "roles": "PVEAuditor", "users": "root@pam"})
            assert r.status_code == 400 and "root@pam has every privilege" in r.text, r.text
        check("unknown parameters and root@pam ACL entries are refused", schema_and_root_acl)

        def self_read():
            r = get(carl)
            assert r.status_code == 200, r.text
            data = r.json()["data"]
            assert list(data) == ["/vms/100"], data
            assert data["/vms/100"]["VM.Console"] == 0 and len(data["/vms/100"]) == 10, data
            r = get(carl, userid="carl@pve", path="/vms/100/")
            assert r.status_code == 200 and list(r.json()["data"]) == ["/vms/100"], r.text
        check("a user reads their own permissions", self_read)

        def other_refused():
            r = get(carl, userid="audrey@pve")
            assert r.status_code == 403, r.text
            r = get(carl, userid="admin@pve", path="/")
            assert r.status_code == 403, r.text
        check("another user's permissions need Sys.Audit on /access", other_refused)

        def auditor_reads():
            r = get(audrey, userid="carl@pve", path="/")
            assert r.status_code == 200 and r.json()["data"] == {"/": {}}, r.text
            r = get(audrey, userid="admin@pve", path="/vms")
            assert r.status_code == 200, r.text
            privs = r.json()["data"]["/vms"]
            assert len(privs) == 47 and set(privs.values()) == {1}, privs
            r = get(audrey)
            assert r.json()["data"]["/access"] == AUDITOR, r.text
            assert "/" not in r.json()["data"], r.text
        check("Sys.Audit on /access reads anyone's permissions", auditor_reads)

        def group_scoped_user_admin():
            """User.Modify on one group only (PVE's 'userid-group' check): updates must name
            the groups, each the caller's; an update without them, or with an empty list that
            would drop the user from a NoAccess group, is refused and changes nothing."""
            for cmd in (["group", "add", "staff"], ["group", "add", "jail"],
                        ["user", "add", "gina@pve", "--password", "Gina-Pass-2026"],
                        ["user", "add", "bob@pve", "--groups", "staff,jail"],
                        ["acl", "modify", "/access/groups/staff", "--users", "gina@pve",
                         "--roles", "PVEUserAdmin"],
                        ["acl", "modify", "/vms", "--groups", "jail", "--roles", "NoAccess"]):
                subprocess.run(rg + cmd, check=True, stdout=subprocess.DEVNULL)
            r = requests.post(f"{api}/access/ticket", verify=False, timeout=10,
                              data={"username": "gina@pve", "password": "Gina-Pass-2026"})
            d = r.json()["data"]
            auth = {"cookies": {"PVEAuthCookie": d["ticket"]}, "verify": False, "timeout": 10,
                    "headers": {"CSRFPreventionToken": d["CSRFPreventionToken"]}}
            cfg = os.path.join(demo.config_dir, "user.cfg")
            before = open(cfg).read()
            for data in ({"comment": "x"}, {"groups": ""}, {"groups": "", "append": "0"},
                         {"groups": "jail"}, {"groups": "staff,jail"}):
                r = requests.put(f"{api}/access/users/bob@pve", data=data, **auth)
                assert r.status_code == 403, (data, r.status_code, r.text)
            assert open(cfg).read() == before
            r = requests.put(f"{api}/access/users/bob@pve", **auth,
                             data={"groups": "staff", "append": "1", "comment": "ok"})
            assert r.status_code == 200, r.text
            r = requests.get(f"{api}/access/users/bob@pve", **auth)
            assert r.status_code == 200, r.text
            got = r.json()["data"]
            assert got["comment"] == "ok" and sorted(got["groups"]) == ["jail", "staff"], got
        check("a group-scoped user admin must name their own groups", group_scoped_user_admin)
    finally:
        demo.stop()

    return summary()


if __name__ == "__main__":
    sys.exit(main())
