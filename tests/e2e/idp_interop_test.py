#!/usr/bin/python3
"""Runs a real OpenID Connect client library (node, tests/interop/*.test.mjs) against
realmgate-idp served over HTTPS.

The directory is built with the admin CLI in a temporary state dir; a throw-away CA and a
server certificate for 127.0.0.1/localhost are made with the openssl tool; `serve` gets
--tls-cert/--tls-key and node trusts the CA through NODE_EXTRA_CA_CERTS (nothing is
installed system-wide). The node script gets everything it needs in IDP_* variables and
its exit status is this test's.

Usage: idp_interop_test.py tests/interop/msal.test.mjs
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("RG_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
BUILD = os.environ.get("RG_BUILD", os.path.join(SOURCE, "build"))
PROG = os.path.join(BUILD, "realmgate-idp")
PASSWORD = "Interop-Pass-2026"
REDIRECT = "http://localhost/redirect"       # loopback: any port matches (Entra rule)
REDIRECT_WEB = "https://rp.example/callback"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60, **kw)


def make_tls(d):
    """A CA and a server certificate signed by it (SAN 127.0.0.1, localhost)."""
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = os.path.join(d, "tls.key"), os.path.join(d, "tls.csr"), os.path.join(d, "tls.crt")
    ext = os.path.join(d, "ext.cnf")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
        "-out", ca_crt, "-days", "2", "-subj", "/CN=realmgate-idp test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                "basicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return ca_crt, crt, key


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    script = os.path.abspath(argv[1])
    d = tempfile.mkdtemp(prefix="rg-idp-interop-")
    state = os.path.join(d, "state")
    proc = None
    ok = False
    try:
        def cli(*args):
            return run(PROG, "--state-dir", state, *args).stdout.strip()

        tid = cli("tenant", "create", "--name", "Interop Tenant", "--domain", "interop.example")
        client = cli("app", "register", "--tenant", tid, "--display-name", "Interop RP",
                     "--redirect-uri", REDIRECT, "--redirect-uri", REDIRECT_WEB)
        secret = cli("app", "secret", "add", "--tenant", tid, "--app", client)
        oid = cli("user", "add", "--tenant", tid, "--upn", "ada@interop.example", "--password",
                  PASSWORD, "--mail", "ada@mail.example", "--display-name", "Ada Lovelace",
                  "--given-name", "Ada", "--surname", "Lovelace")
        cli("consent", "grant", "--tenant", tid, "--app", client, "--admin", "--scopes",
            "openid profile email offline_access User.Read")
        ca, crt, key = make_tls(d)
        port = free_port()
        base = f"https://127.0.0.1:{port}"
        log = open(os.path.join(d, "serve.log"), "w+")
        proc = subprocess.Popen([PROG, "--state-dir", state, "serve", "--listen",
                                 f"127.0.0.1:{port}", "--issuer-base", base, "--tls-cert", crt,
                                 "--tls-key", key], stdout=subprocess.PIPE, stderr=log, text=True)
        line = proc.stdout.readline().strip()
        if line != f"realmgate-idp listening on {base}":
            print(f"serve said {line!r}; log in {d}", file=sys.stderr)
            return 1
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=ca, IDP_BASE=base, IDP_TENANT=tid,
                   IDP_DOMAIN="interop.example", IDP_CLIENT=client, IDP_SECRET=secret,
                   IDP_REDIRECT=REDIRECT, IDP_UPN="ada@interop.example", IDP_OID=oid,
                   IDP_PASSWORD=PASSWORD)
        # no proxy may carry a request off the machine
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
            env.pop(k, None)
        rc = subprocess.call(["node", script], env=env, timeout=240)
        ok = rc == 0
        if not ok:
            print(f"{os.path.basename(script)} failed (exit {rc}); IdP log in {d}", file=sys.stderr)
        return rc
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        if ok:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
