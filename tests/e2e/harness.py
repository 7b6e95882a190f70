"""Test harness: seeds a demo state in a temporary folder with scripts/demo-setup (the same
script `make demo` uses) and starts realmgate-idp and realmgate serve on free loopback ports.

Usage as a library (see login_flow_test.py) or as a wrapper that runs another test command
with the servers up:  python3 harness.py -- node tests/browser/openid_login.test.mjs
The wrapped command gets RG_GUI_URL, RG_IDP_URL, RG_CONFIG_DIR and RG_SCREENSHOT_DIR.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

# A test talks to the servers as one browser does: cookies they set (the OpenID login's
# browser binding, see src/api/openid_api.c) are kept and sent back. A case that plays a
# second browser uses a requests.Session() of its own.
BROWSER = requests.Session()
requests.get, requests.post, requests.put, requests.delete = (
    BROWSER.get, BROWSER.post, BROWSER.put, BROWSER.delete)

SOURCE = os.environ.get("RG_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BUILD = os.environ.get("RG_BUILD", os.path.join(SOURCE, "build"))


RESULTS = []


def check(name, fn):
    """Runs one named case; a failure is reported and the next case still runs."""
    try:
        fn()
        RESULTS.append((name, None))
        print(f"ok   {name}")
    except Exception as e:  # report and continue with the next case
        RESULTS.append((name, e))
        print(f"FAIL {name}: {type(e).__name__}: {e}")


def summary():
    """Prints "N passed, M failed" (the last line of every test) and returns the exit code."""
    failed = [n for n, e in RESULTS if e]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    """A seeded demo state plus both servers; stop() ends them and keeps logs readable."""

    def __init__(self, tag="e2e"):
        self.dir = tempfile.mkdtemp(prefix=f"rg-{tag}-")
        self.port = free_port()
        self.idp_port = free_port()
        self.env = dict(os.environ, DEMO_DIR=self.dir, DEMO_PORT=str(self.port),
                        DEMO_IDP_PORT=str(self.idp_port), RG_BUILD=BUILD)
        subprocess.run([os.path.join(SOURCE, "scripts/demo-setup")], env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        self.vars = {}
        with open(os.path.join(self.dir, "demo.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.vars[k] = v
        self.config_dir = os.path.join(self.dir, "config")
        self.gui = f"https://127.0.0.1:{self.port}"
        self.idp = f"http://127.0.0.1:{self.idp_port}"
        self.issuer = f"{self.idp}/{self.vars['TENANT_ID']}/v2.0"
        self.procs = []
        self.idp_log = os.path.join(self.dir, "idp.log")
        self.rg_log = os.path.join(self.dir, "realmgate.log")
        self.start_idp()
        self.start_server()

    def start_idp(self):
        self.procs.append(subprocess.Popen(
            [os.path.join(BUILD, "realmgate-idp"), "--state-dir", os.path.join(self.dir, "idp"),
             "serve", "--listen", f"127.0.0.1:{self.idp_port}", "--issuer-base", self.idp],
            stdout=subprocess.DEVNULL, stderr=open(self.idp_log, "ab")))
        self.wait_up(f"{self.issuer}/.well-known/openid-configuration")

    def start_server(self, port=None, log=None):
        """Starts a realmgate server on the shared config dir; returns (process, base URL)."""
        port = port or self.port
        p = subprocess.Popen(
            [os.path.join(BUILD, "realmgate"), "--config-dir", self.config_dir, "serve",
             "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=open(log or self.rg_log, "ab"))
        self.procs.append(p)
        url = f"https://127.0.0.1:{port}"
        self.wait_up(f"{url}/api2/json/access/domains")
        return p, url

    def wait_up(self, url):
        deadline = time.time() + 20
        while time.time() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"server exited with {p.returncode}; logs in {self.dir}")
            try:
                if requests.get(url, verify=False, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not come up; logs in {self.dir}")

    def server_log(self):
        with open(self.rg_log, errors="replace") as f:
            return f.read()

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def main(argv):
    if "--" not in argv:
        print("usage: harness.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    cmd = argv[argv.index("--") + 1:]
    demo = Demo("wrap")
    try:
        shots = os.path.join(BUILD, "screenshots")
        os.makedirs(shots, exist_ok=True)
        env = dict(os.environ, RG_GUI_URL=demo.gui, RG_IDP_URL=demo.idp,
                   RG_CONFIG_DIR=demo.config_dir, RG_SCREENSHOT_DIR=shots)
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            print(f"servers' logs: {demo.dir}", file=sys.stderr)
        return rc
    finally:
        demo.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
