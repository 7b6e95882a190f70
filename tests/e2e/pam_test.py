"""End-to-end test of the `pam` realm: a throw-away Linux user (useradd + chpasswd) signs in
through POST /api2/json/access/ticket; realmgate checks the password with PAM service
`realmgate` in the separate realmgate-pam-helper process. Needs root (creates a Linux user);
exits 77 (CTest: skipped) otherwise. The Linux user is always deleted in a finally block.
The last line is "N passed, M failed"."""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, SOURCE, summary  # noqa: E402

TICKET_RE = re.compile(r"^PVE:([^:]+):[0-9A-F]{8}::[A-Za-z0-9+/=]+$")
PAM_FILE = "/etc/pam.d/realmgate"


def children(pid):
    """Pids whose parent is pid (from /proc/<n>/stat)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # field 4 (ppid) follows the parenthesised command name
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


def helper_pids(server_pid):
    """Live realmgate-pam-helper children of the server (zombies have no exe link)."""
    out = []
    for p in children(server_pid):
        try:
            if os.readlink(f"/proc/{p}/exe").endswith("/realmgate-pam-helper"):
                out.append(p)
        except OSError:
            pass
    return out


def maps_mention(pid, needle):
    with open(f"/proc/{pid}/maps") as f:
        return needle in f.read()


def main():
    if os.geteuid() != 0:
        print("SKIP: the pam realm test needs root (it creates a throw-away Linux user)")
        return 77
    for tool in ("useradd", "chpasswd", "userdel"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found")
            return 77
    if not os.path.exists(os.path.join(BUILD, "realmgate-pam-helper")):
        print(f"FAIL: {BUILD}/realmgate-pam-helper is not built")
        return 1

    installed_pam_file = False
    if not os.path.exists(PAM_FILE):
        shutil.copyfile(os.path.join(SOURCE, "data/pam.d/realmgate"), PAM_FILE)
        installed_pam_file = True
    name = "rgpam" + secrets.token_hex(4)
    password = "Pam-" + secrets.token_urlsafe(12)
    demo = None
    try:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
        demo = Demo("pam")
        api = f"{demo.gui}/api2/json"
        rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
        server = demo.procs[-1]

        def login(user, pw, realm=None):
            data = {"username": user, "password": pw}
            if realm:
                data["realm"] = realm
            return requests.post(f"{api}/access/ticket", data=data, verify=False, timeout=30)

        def not_in_realmgate_yet():
            r = login(name, password, "pam")
            assert r.status_code == 401, r.text
            assert r.json()["message"] == "authentication failure", r.text
        check("a Linux user unknown to realmgate is refused", not_in_realmgate_yet)

        def add_user():
            subprocess.run(rg + ["user", "add", f"{name}@pam", "--comment", "pam e2e"],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(rg + ["acl", "modify", "/vms", "--users", f"{name}@pam",
                                 "--roles", "PVEAuditor"], check=True, stdout=subprocess.DEVNULL)
        check("realmgate user add <name>@pam", add_user)

        state = {}

        def good_password():
            r = login(name, password, "pam")
            assert r.status_code == 200, r.text
            d = r.json()["data"]
            assert d["username"] == f"{name}@pam", d
            m = TICKET_RE.match(d["ticket"])
            assert m and m.group(1) == f"{name}@pam", d["ticket"]
            state["ticket"] = d["ticket"]
        check("the right password gives 200 and a ticket", good_password)

        def userid_form():
            r = login(f"{name}@pam", password)
            assert r.status_code == 200, r.text
            assert r.json()["data"]["username"] == f"{name}@pam"
        check("username=<name>@pam without realm works too", userid_form)

        def ticket_works():
            r = requests.get(f"{api}/access/permissions", verify=False, timeout=10,
                             cookies={"PVEAuthCookie": state["ticket"]})
            assert r.status_code == 200, r.text
            assert r.json()["data"]["/vms"]["VM.Audit"] == 1, r.text
        check("the ticket carries the user's ACLs", ticket_works)

        def wrong_password():
            t0 = time.time()
            r = login(name, password + "x", "pam")
            assert r.status_code == 401, r.text
            assert r.json()["message"] == "authentication failure", r.text
            assert "ticket" not in r.text
            dt = time.time() - t0
            assert 2.5 <= dt < 10, dt  # the server's failure delay, not PAM's
            r = login(name, "", "pam")
            assert r.status_code in (400, 401), r.text
        check("a wrong password gives 401 authentication failure", wrong_password)

        def burst():
            """PAM's own failure delay is off in the helper, so a burst of wrong passwords
            holds neither helpers nor worker threads: other requests stay quick and the
            burst ends after about the server's 3 s delay."""
            import concurrent.futures
            with concurrent.futures.ThreadPoolExecutor(max_workers=10) as ex:
                t0 = time.monotonic()
                futs = [ex.submit(login, name, f"wrong-{i}", "pam") for i in range(10)]
                time.sleep(0.5)
                t1 = time.monotonic()
                ok = login(name, password, "pam")
                quick = time.monotonic() - t1
                codes = [f.result().status_code for f in futs]
                wall = time.monotonic() - t0
            # with libpam's 2 s delay the right one would wait >= 6 s for a free helper
            assert ok.status_code == 200 and quick < 4.0, (ok.status_code, quick)
            assert codes == [401] * 10, codes
            assert wall < 10.0, wall
        check("10 parallel wrong PAM passwords do not block a right one", burst)

        def no_pam_in_server():
            helpers = helper_pids(server.pid)
            assert len(helpers) >= 1, children(server.pid)
            assert not maps_mention(server.pid, "libpam"), "server maps libpam"
            assert all(maps_mention(p, "libpam") for p in helpers)
            state["helpers"] = helpers
        check("PAM runs in a child realmgate-pam-helper, never in the server", no_pam_in_server)

        def helper_restarts():
            for p in state["helpers"]:
                os.kill(p, signal.SIGKILL)
            time.sleep(0.3)
            r = login(name, password, "pam")
            assert r.status_code == 200, r.text
            alive = helper_pids(server.pid)
            assert alive and not set(alive) & set(state["helpers"]), (alive, state["helpers"])
        check("a killed helper is replaced and the next login works", helper_restarts)

        def log_has_no_password():
            log = demo.server_log()
            assert password not in log
            assert f"user={name}@pam" in log, log[-2000:]
        check("the server log names the failure but never the password", log_has_no_password)
    finally:
        if demo:
            demo.stop()
        subprocess.run(["userdel", name], stderr=subprocess.DEVNULL)
        if installed_pam_file:
            os.unlink(PAM_FILE)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
