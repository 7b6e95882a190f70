"""The access-control API driven by the real Proxmox client library, Debian's python3-proxmoxer
(unmodified), against realmgate serve on loopback (seeded by scripts/demo-setup through
harness.Demo): password login, user/group/role/ACL/token CRUD with exact asserts on the
replies and on user.cfg / token.cfg / shadow.cfg, an API-token session (with and without
privilege separation) and refused calls. The last line is "N passed, M failed"."""
import json
import os
import re
import subprocess
import sys
import time

import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Demo, RESULTS, check  # noqa: E402

ADMIN_PW = "Demo-Admin-2026"


def refused(status, fn):
    """Runs fn, which must raise proxmoxer's ResourceException with this HTTP status."""
    try:
        fn()
    except ResourceException as e:
        assert e.status_code == status, f"expected {status}, got {e}"
        return e
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def main():
    demo = Demo("pmx")
    state = {}
    base = f"https://127.0.0.1:{demo.port}/api2/json"

    def cfg(name):
        with open(os.path.join(demo.config_dir, name)) as f:
            return f.read()

    def login(user, password):
        return ProxmoxAPI("127.0.0.1", port=demo.port, user=user, password=password,
                          verify_ssl=False)

    def token_api(user, name, value):
        return ProxmoxAPI("127.0.0.1", port=demo.port, user=user, token_name=name,
                          token_value=value, verify_ssl=False)

    def message(r):
        return r.json()["message"]

    try:
        def admin_login():
            api = login("admin@pve", ADMIN_PW)
            ticket, csrf = api.get_tokens()
            assert ticket.startswith("PVE:admin@pve:"), ticket
            assert re.fullmatch(r"[0-9A-F]{8}:\S{43}", csrf), csrf
            state["api"] = api
        check("password login as admin@pve through proxmoxer", admin_login)
        api = state["api"]

        def groups():
            assert api.access.groups.post(groupid="ops", comment="Operations team") is None
            api.access.groups.post(groupid="devs")
            assert api.access.groups.get() == [
                {"groupid": "devs", "users": ""},
                {"groupid": "ops", "comment": "Operations team", "users": ""}]
            api.access.groups("devs").put(comment="Developers")
            assert api.access.groups("devs").get() == {"comment": "Developers", "members": []}
            refused(400, lambda: api.access.groups.post(groupid="ops"))
            refused(400, lambda: api.access.groups.post(groupid="bad:name"))
            refused(404, lambda: api.access.groups("nope").get())
            text = cfg("user.cfg")
            assert "\ngroup:devs::Developers:\n" in text, text
            assert "\ngroup:ops::Operations team:\n" in text, text
        check("groups: create, list, read, update, duplicate/invalid/missing refused", groups)

        def users():
            api.access.users.post(userid="carol@pve", password="Carol-Pass-2026",
                                  firstname="Carol", lastname="Demo", email="carol@example.com",
                                  comment="test user", groups="ops")
            api.access.users.post(userid="dave@pve", enable=0, expire=4102444800)
            assert api.access.users("carol@pve").get() == {
                "enable": 1, "expire": 0, "firstname": "Carol", "lastname": "Demo",
                "email": "carol@example.com", "comment": "test user", "groups": ["ops"],
                "tokens": {}}
            api.access.users("carol@pve").put(groups="devs", append=1)
            assert api.access.users("carol@pve").get()["groups"] == ["devs", "ops"]
            api.access.users("dave@pve").put(groups="devs", comment="second")
            assert api.access.groups("devs").get()["members"] == ["carol@pve", "dave@pve"]
            full = {u["userid"]: u for u in api.access.users.get(full=1)}
            assert full["carol@pve"]["groups"] == "devs,ops", full["carol@pve"]
            assert full["carol@pve"]["tokens"] == []
            assert full["carol@pve"]["realm-type"] == "pve"
            plain = {u["userid"]: u for u in api.access.users.get()}
            assert "groups" not in plain["carol@pve"] and "tokens" not in plain["carol@pve"]
            assert sorted(plain) == ["admin@pve", "carol@pve", "dave@pve", "root@pam"], plain
            assert [u["userid"] for u in api.access.users.get(enabled=0)] == ["dave@pve"]
            assert "dave@pve" not in [u["userid"] for u in api.access.users.get(enabled=1)]
            refused(400, lambda: api.access.users.post(userid="carol@pve"))
            refused(400, lambda: api.access.users.post(userid="no-realm"))
            refused(400, lambda: api.access.users.post(userid="eve@pve", password="short"))
            refused(404, lambda: api.access.users.post(userid="eve@nowhere"))
            refused(400, lambda: api.access.users("carol@pve").put(append=1))
            refused(404, lambda: api.access.users("ghost@pve").get())
            # parameters the API does not define are refused, not ignored (as Proxmox)
            refused(400, lambda: api.access.users.post(userid="eve@pve", bogus=1))
            refused(400, lambda: api.access.users("carol@pve").put(password="Carol-2026-x"))
            text = cfg("user.cfg")
            assert "\nuser:carol@pve:1:0:Carol:Demo:carol@example.com:test user::\n" in text, text
            assert "\nuser:dave@pve:0:4102444800::::second::\n" in text, text
            assert "\ngroup:devs:carol@pve,dave@pve:Developers:\n" in text, text
            assert re.search(r"^carol:\$5\$[^:]+:$", cfg("priv/shadow.cfg"), re.M)
            state["carol"] = login("carol@pve", "Carol-Pass-2026")
        check("users: create (with password, groups), read, update with append, list full/"
              "enabled, errors", users)

        def roles():
            api.access.roles.post(roleid="VMWatcher", privs="VM.Audit,VM.Console")
            assert api.access.roles("VMWatcher").get() == {"VM.Audit": 1, "VM.Console": 1}
            api.access.roles("VMWatcher").put(privs="Sys.Audit", append=1)
            assert api.access.roles("VMWatcher").get() == {
                "Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}
            rows = {r["roleid"]: r for r in api.access.roles.get()}
            assert len(rows) == 18, sorted(rows)
            assert rows["VMWatcher"] == {"roleid": "VMWatcher",
                                         "privs": "Sys.Audit,VM.Audit,VM.Console"}
            assert rows["PVEAuditor"]["special"] == 1
            refused(400, lambda: api.access.roles.post(roleid="pveMine", privs="VM.Audit"))
            refused(400, lambda: api.access.roles.post(roleid="PVEX", privs="VM.Audit"))
            refused(400, lambda: api.access.roles("PVEAuditor").put(privs="Sys.Modify"))
            refused(400, lambda: api.access.roles("Administrator").delete())
            refused(400, lambda: api.access.roles.post(roleid="VMWatcher"))
            api.access.roles.post(roleid="Temp", privs="Pool.Audit")
            api.access.roles("Temp").delete()
            refused(404, lambda: api.access.roles("Temp").get())
            text = cfg("user.cfg")
            assert "\nrole:VMWatcher:Sys.Audit,VM.Audit,VM.Console:\n" in text, text
            assert "role:Temp" not in text
        check("roles: custom create/append/delete; built-ins immutable; PVE prefix refused",
              roles)

        def acls():
            api.access.acl.put(path="/vms/100", roles="VMWatcher", users="carol@pve")
            api.access.acl.put(path="/vms/200", roles="PVEVMAdmin", users="carol@pve")
            api.access.acl.put(path="/storage", roles="PVEDatastoreUser", groups="ops",
                               propagate=0)
            entries = api.access.acl.get()
            assert {"path": "/vms/100", "type": "user", "ugid": "carol@pve",
                    "roleid": "VMWatcher", "propagate": 1} in entries, entries
            assert {"path": "/storage", "type": "group", "ugid": "ops",
                    "roleid": "PVEDatastoreUser", "propagate": 0} in entries, entries
            text = cfg("user.cfg")
            assert "\nacl:1:/vms/100:carol@pve:VMWatcher:\n" in text, text
            assert "\nacl:0:/storage:@ops:PVEDatastoreUser:\n" in text, text
            refused(400, lambda: api.access.acl.put(path="/nonsense/x", roles="PVEAuditor",
                                                    users="carol@pve"))
            refused(404, lambda: api.access.acl.put(path="/vms", roles="NoSuchRole",
                                                    users="carol@pve"))
            # carol sees only entries of paths she may modify (VM.Allocate on /vms/200)
            mine = state["carol"].access.acl.get()
            assert mine == [{"path": "/vms/200", "type": "user", "ugid": "carol@pve",
                             "roleid": "PVEVMAdmin", "propagate": 1}], mine
        check("ACLs: add user/group entries, list, invalid path and unknown role refused", acls)

        def acl_substitutes():
            carol = state["carol"]
            # VM.Allocate on /vms/200 stands in for Permissions.Modify there ...
            carol.access.acl.put(path="/vms/200", roles="PVEVMUser", users="dave@pve")
            assert "\nacl:1:/vms/200:dave@pve:PVEVMUser:\n" in cfg("user.cfg")
            # ... but only for roles whose privileges carol holds, and never NoAccess
            e = refused(400, lambda: carol.access.acl.put(path="/vms/200", roles="VMWatcher",
                                                          users="dave@pve"))
            r = requests.put(f"{base}/access/acl", verify=False,
                             data={"path": "/vms/200", "roles": "NoAccess", "users": "dave@pve"},
                             cookies={"PVEAuthCookie": carol.get_tokens()[0]},
                             headers={"CSRFPreventionToken": carol.get_tokens()[1]})
            assert r.status_code == 400 and message(r) == (
                "parameter verification failed: role: Cannot add role 'NoAccess' - requires "
                "'Permissions.Modify'"), r.text
            e = refused(403, lambda: carol.access.acl.put(path="/vms/300", roles="PVEVMUser",
                                                          users="dave@pve"))
            r = requests.put(f"{base}/access/acl", verify=False,
                             data={"path": "/vms/300", "roles": "PVEVMUser", "users": "dave@pve"},
                             cookies={"PVEAuthCookie": carol.get_tokens()[0]},
                             headers={"CSRFPreventionToken": carol.get_tokens()[1]})
            assert message(r) == "Permission check failed (/vms/300, " \
                                 "Permissions.Modify|VM.Allocate)", r.text
            assert e.status_code == 403
            carol.access.acl.put(path="/vms/200", roles="PVEVMUser", users="dave@pve", delete=1)
            assert "dave@pve:PVEVMUser" not in cfg("user.cfg")
        check("ACL PUT: VM.Allocate substitute, only grantable roles, never NoAccess", acl_substitutes)

        def refused_privilege():
            carol = state["carol"]
            r = requests.post(f"{base}/access/groups", verify=False, data={"groupid": "x"},
                              cookies={"PVEAuthCookie": carol.get_tokens()[0]},
                              headers={"CSRFPreventionToken": carol.get_tokens()[1]})
            assert r.status_code == 403, r.text
            assert message(r) == "Permission check failed (/access/groups, Group.Allocate)"
            refused(403, lambda: carol.access.groups.post(groupid="x"))
            refused(403, lambda: carol.access.users.post(userid="mallory@pve"))
            refused(403, lambda: carol.access.roles.post(roleid="Mine", privs="VM.Audit"))
            refused(403, lambda: carol.access.users("dave@pve").get())
            refused(403, lambda: carol.access.permissions.get(userid="admin@pve"))
            # carol sees herself only
            assert [u["userid"] for u in carol.access.users.get()] == ["carol@pve"]
            assert carol.access.groups.get() == []
            assert carol.access.permissions.get(path="/vms/100") == {
                "/vms/100": {"Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}}
            assert "x" not in [g["groupid"] for g in api.access.groups.get()]
        check("refused calls (403) when a privilege is missing", refused_privilege)

        def tokens():
            r = api.access.users("carol@pve").token("ci").post(comment="CI", privsep=0)
            assert set(r) == {"info", "value", "full-tokenid"}, r
            assert r["full-tokenid"] == "carol@pve!ci"
            assert r["info"] == {"expire": 0, "privsep": 0, "comment": "CI"}, r
            assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                r"[0-9a-f]{12}", r["value"]), r["value"]
            state["ci"] = r["value"]
            r2 = api.access.users("carol@pve").token("ro").post()
            assert r2["info"] == {"expire": 0, "privsep": 1}, r2
            state["ro"] = r2["value"]
            refused(400, lambda: api.access.users("carol@pve").token("ci").post())
            refused(400, lambda: api.access.users("carol@pve").token("1bad").post())
            assert api.access.users("carol@pve").token.get() == [
                {"tokenid": "ci", "expire": 0, "privsep": 0, "comment": "CI"},
                {"tokenid": "ro", "expire": 0, "privsep": 1}]
            assert api.access.users("carol@pve").token("ro").get() == {"expire": 0, "privsep": 1}
            assert api.access.users("carol@pve").get()["tokens"] == {
                "ci": {"expire": 0, "privsep": 0, "comment": "CI"},
                "ro": {"expire": 0, "privsep": 1}}
            text = cfg("user.cfg")
            assert "\nuser:carol@pve:1:0:Carol:Demo:carol@example.com:test user::\n" \
                   "token:carol@pve!ci:0:0:CI:\ntoken:carol@pve!ro:0:1::\n" in text, text
            secrets = cfg("priv/token.cfg")
            assert re.fullmatch(r"carol@pve!ci \$hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}\n"
                                r"carol@pve!ro \$hmac-sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}\n",
                                secrets), secrets
            assert state["ci"] not in secrets and state["ro"] not in secrets
            assert (os.stat(os.path.join(demo.config_dir, "priv/token.cfg")).st_mode & 0o777) \
                == 0o600
        check("tokens: create returns the secret once, list/read, stored hashed", tokens)

        def token_session():
            t = token_api("carol@pve", "ci", state["ci"])
            # privsep 0: the owner's privileges
            assert t.access.permissions.get(path="/vms/100") == {
                "/vms/100": {"Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}}
            # a write call needs no CSRF token; the token is not "self" for the user's tokens
            refused(403, lambda: t.access.users("carol@pve").token("x").post())
            api.access.acl.put(path="/vms", roles="PVEAuditor", tokens="carol@pve!ro")
            # merged with the demo's entry for bob, as PVE's writer does
            text = cfg("user.cfg")
            assert "\nacl:1:/vms:bob@demo.example@entra,carol@pve!ro:PVEAuditor:\n" in text, text
            ro = token_api("carol@pve", "ro", state["ro"])
            # privsep 1: the token's ACLs intersected with the owner's privileges
            got = ro.access.permissions.get(path="/vms/100")
            # PVEAuditor (token, from /vms) ∩ VMWatcher (carol, on /vms/100)
            assert got == {"/vms/100": {"Sys.Audit": 1, "VM.Audit": 1}}, got
            got = ro.access.permissions.get(path="/storage")
            assert got == {"/storage": {}}, got
            # carol may look at her own tokens' permissions
            got = state["carol"].access.permissions.get(userid="carol@pve!ro", path="/vms")
            assert got == {"/vms": {}}, got
            refused(401, lambda: token_api("carol@pve", "ci", state["ro"]).access.acl.get())
            refused(401, lambda: token_api("carol@pve", "none", state["ci"]).access.acl.get())
            refused(401, lambda: token_api("admin@pve", "ci", state["ci"]).access.acl.get())
            h = {"Authorization": f"PVEAPIToken=carol@pve!ci={state['ci']}"}
            r = requests.put(f"{base}/access/password", verify=False, headers=h,
                             data={"userid": "carol@pve", "password": "Whatever-2026"})
            assert r.status_code == 401 and message(r) == (
                "URI '/access/password' not available with API token, need proper ticket."), r.text
            r = requests.post(f"{base}/access/ticket", verify=False, headers=h,
                              data={"username": "carol@pve", "password": "Carol-Pass-2026"})
            assert r.status_code == 401 and message(r) == (
                "URI '/access/ticket' not available with API token, need proper ticket."), r.text
            assert state["ci"] not in demo.server_log(), "secret in the log"
        check("API-token session: privsep 0 and 1, no CSRF, bad secrets and ticket-only URIs "
              "refused", token_session)

        def token_update():
            info = api.access.users("carol@pve").token("ci").put(comment="CI runner",
                                                                 expire=4102444800)
            assert info == {"expire": 4102444800, "privsep": 0, "comment": "CI runner"}, info
            r = api.access.users("carol@pve").token("ci").put(regenerate=1)
            assert r["info"] == info and r["full-tokenid"] == "carol@pve!ci", r
            assert r["value"] != state["ci"]
            refused(401, lambda: token_api("carol@pve", "ci", state["ci"]).access.acl.get())
            t = token_api("carol@pve", "ci", r["value"])
            assert t.access.permissions.get(path="/vms/100") == {
                "/vms/100": {"Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}}
            assert "\ntoken:carol@pve!ci:4102444800:0:CI runner:\n" in cfg("user.cfg")
            api.access.users("carol@pve").token("ci").put(expire=1000)
            refused(401, lambda: t.access.acl.get())
            api.access.users("carol@pve").token("ro").delete()
            text = cfg("user.cfg")
            assert "carol@pve!ro" not in text, text
            assert "carol@pve!ro" not in cfg("priv/token.cfg")
            refused(404, lambda: api.access.users("carol@pve").token("ro").get())
            refused(401, lambda: token_api("carol@pve", "ro", state["ro"]).access.acl.get())
        check("tokens: update, regenerate, expiry enforced, delete with its ACLs", token_update)

        def password():
            carol = state["carol"]
            carol.access.password.put(userid="carol@pve", password="Carol-New-2026",
                                      **{"confirmation-password": "Carol-Pass-2026"})
            login("carol@pve", "Carol-New-2026")
            refused(403, lambda: carol.access.password.put(
                userid="carol@pve", password="Carol-Other-2026",
                **{"confirmation-password": "wrong-password"}))
            refused(400, lambda: carol.access.password.put(userid="carol@pve",
                                                           password="Carol-Other-2026"))
            refused(400, lambda: carol.access.password.put(
                userid="carol@pve", password="short",
                **{"confirmation-password": "Carol-New-2026"}))
            refused(403, lambda: carol.access.password.put(
                userid="dave@pve", password="Dave-Pass-2026",
                **{"confirmation-password": "Carol-New-2026"}))
            api.access.password.put(userid="dave@pve", password="Dave-Pass-2026",
                                    **{"confirmation-password": ADMIN_PW})
            assert re.search(r"^dave:\$5\$[^:]+:$", cfg("priv/shadow.cfg"), re.M)
        check("password change: self with confirmation, admin for others, errors", password)

        def cli_tokens():
            rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
            p = subprocess.run(rg + ["user", "token", "add", "dave@pve", "cli", "--privsep", "0",
                                     "--comment", "from the CLI", "--output-format", "json"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            out = json.loads(p.stdout)
            assert out["full-tokenid"] == "dave@pve!cli" and out["info"] == {
                "expire": 0, "privsep": 0, "comment": "from the CLI"}, out
            t = token_api("dave@pve", "cli", out["value"])
            refused(401, lambda: t.access.users.get())  # dave is disabled: his tokens too
            api.access.users("dave@pve").put(enable=1)
            api.access.acl.put(path="/vms/300", roles="VMWatcher", users="dave@pve")
            want = {"/vms/300": {"Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}}
            assert t.access.permissions.get(path="/vms/300") == want
            # the token is not its user: it sees only users it has privileges for (PVE)
            assert t.access.users.get() == []
            p = subprocess.run(rg + ["user", "token", "list", "dave@pve", "--output-format",
                                     "json"], capture_output=True, text=True, timeout=30)
            assert json.loads(p.stdout) == [{"tokenid": "cli", "expire": 0, "privsep": 0,
                                             "comment": "from the CLI"}], p.stdout
            assert api.access.users("dave@pve").token("cli").get() == {
                "expire": 0, "privsep": 0, "comment": "from the CLI"}
            p = subprocess.run(rg + ["user", "token", "remove", "dave@pve", "cli"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            assert "dave@pve!cli" not in cfg("priv/token.cfg")
            refused(401, lambda: t.access.permissions.get(path="/vms/300"))
        check("CLI token add/list/remove, and the CLI's token works against the API", cli_tokens)

        def proxmox_plain_import():
            api.access.users("dave@pve").token("imp").post(privsep=0)
            plain = "7b3f1c2e-9a8d-4e6f-b5c4-d3e2f1a0b9c8"
            path = os.path.join(demo.config_dir, "priv/token.cfg")
            with open(path, "w") as f:  # what Proxmox's token.cfg holds
                f.write(f"dave@pve!imp {plain}\n")
            t = token_api("dave@pve", "imp", plain)
            want = {"/vms/300": {"Sys.Audit": 1, "VM.Audit": 1, "VM.Console": 1}}
            assert t.access.permissions.get(path="/vms/300") == want
            api.access.users("dave@pve").token("other").post()  # the next write converts
            text = cfg("priv/token.cfg")
            assert plain not in text, text
            assert re.search(r"^dave@pve!imp \$hmac-sha256\$", text, re.M), text
            assert t.access.permissions.get(path="/vms/300") == want
            refused(401, lambda: token_api("dave@pve", "imp", plain[:-1] + "0")
                    .access.permissions.get())
        check("a Proxmox plain-text token.cfg line is accepted and converted to a hash",
              proxmox_plain_import)

        def delete_user():
            api.access.users("carol@pve").delete()
            text = cfg("user.cfg")
            assert "carol@pve" not in text, text
            assert "\ngroup:devs:dave@pve:Developers:\n" in text, text
            assert "\ngroup:ops::Operations team:\n" in text, text
            assert "carol@pve" not in cfg("priv/token.cfg")
            assert not re.search(r"^carol:", cfg("priv/shadow.cfg"), re.M)
            refused(404, lambda: api.access.users("carol@pve").delete())
            refused(400, lambda: api.access.users("root@pam").delete())
            api.access.groups("ops").delete()
            assert "group:ops" not in cfg("user.cfg")
            assert "@ops" not in cfg("user.cfg")
        check("user delete cascades to groups, ACLs, tokens and password; group delete",
              delete_user)
    finally:
        demo.stop()

    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print(f"server logs: {demo.dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
