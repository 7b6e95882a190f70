"""50 parallel user creations, 25 through the API (realmgate serve) and 25 through the CLI
(`realmgate user add`, separate processes) at the same time, with a bounded thread pool. Both
writers use the same locked read-modify-write of user.cfg, so afterwards the file must parse
(`realmgate user list --output-format json`) and hold all 50 users, each exactly once, and the
server must see them too. The last line is "N passed, M failed"."""
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, Demo, RESULTS, check  # noqa: E402

N = 50
THREADS = 16


def main():
    demo = Demo("conc")
    api = f"{demo.gui}/api2/json"
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
    try:
        r = requests.post(f"{api}/access/ticket", verify=False,
                          data={"username": "admin@pve", "password": "Demo-Admin-2026"})
        assert r.status_code == 200, r.text
        ticket = r.json()["data"]["ticket"]
        csrf = r.json()["data"]["CSRFPreventionToken"]
        start = threading.Barrier(THREADS)
        outcomes = {}

        def create(i):
            uid = f"conc{i:02d}@pve"
            if i < THREADS:
                start.wait()  # the first wave starts together
            if i % 2 == 0:
                resp = requests.post(f"{api}/access/users", verify=False,
                                     data={"userid": uid, "comment": f"api {i}"},
                                     cookies={"PVEAuthCookie": ticket},
                                     headers={"CSRFPreventionToken": csrf}, timeout=60)
                outcomes[uid] = ("api", resp.status_code, resp.text)
            else:
                p = subprocess.run(rg + ["user", "add", uid, "--comment", f"cli {i}"],
                                   capture_output=True, text=True, timeout=60)
                outcomes[uid] = ("cli", p.returncode, p.stderr)

        def run_all():
            t0 = time.monotonic()
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                list(pool.map(create, range(N)))
            print(f"    {N} creations took {time.monotonic() - t0:.2f} s")
            bad = {u: o for u, o in outcomes.items()
                   if not ((o[0] == "api" and o[1] == 200) or (o[0] == "cli" and o[1] == 0))}
            assert len(outcomes) == N and not bad, bad
        check(f"{N} creations (API and CLI at once) all succeed", run_all)

        def file_holds_all():
            p = subprocess.run(rg + ["user", "list", "--output-format", "json"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, p.stderr
            rows = json.loads(p.stdout)
            ids = [u["userid"] for u in rows]
            want = {f"conc{i:02d}@pve" for i in range(N)}
            assert want <= set(ids), sorted(want - set(ids))
            assert len(ids) == len(set(ids)), "duplicate users"
            for u in rows:
                if u["userid"] in want:
                    i = int(u["userid"][4:6])
                    assert u["comment"] == f"{'api' if i % 2 == 0 else 'cli'} {i}", u
            with open(os.path.join(demo.config_dir, "user.cfg")) as f:
                lines = [ln for ln in f.read().split("\n") if ln.startswith("user:conc")]
            assert len(lines) == N, len(lines)
            assert lines == sorted(lines)
            # no temporary files left behind by the atomic writes
            left = [n for n in os.listdir(demo.config_dir) if ".tmp." in n]
            assert not left, left
        check("user.cfg parses and holds all 50 users once, with their comments", file_holds_all)

        def server_sees_all():
            deadline = time.time() + 5  # the server re-reads changed files within a second
            while True:
                r = requests.get(f"{api}/access/users", verify=False,
                                 cookies={"PVEAuthCookie": ticket})
                assert r.status_code == 200, r.text
                ids = {u["userid"] for u in r.json()["data"]}
                missing = {f"conc{i:02d}@pve" for i in range(N)} - ids
                if not missing or time.time() > deadline:
                    break
                time.sleep(0.2)
            assert not missing, sorted(missing)
        check("the running server lists all 50 users", server_sees_all)
    finally:
        demo.stop()

    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print(f"server logs: {demo.dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
