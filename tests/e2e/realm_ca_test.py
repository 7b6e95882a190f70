"""Per-realm trust anchor (realm option ca-file): an identity provider served over HTTPS with
a certificate from a private CA is refused with the system trust store and accepted once the
realm names the CA bundle; the whole OpenID login then runs over TLS to the provider.
The last line is "N passed, M failed"."""
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, free_port, summary  # noqa: E402
from idp_interop_test import make_tls  # noqa: E402
from login_flow_test import Flow  # noqa: E402


def main():
    demo = Demo("realmca")
    tls_dir = tempfile.mkdtemp(prefix="rg-realmca-tls-")
    ca_crt, crt, key = make_tls(tls_dir)
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    idp = subprocess.Popen(
        [os.path.join(BUILD, "realmgate-idp"), "--state-dir", os.path.join(demo.dir, "idp"),
         "serve", "--listen", f"127.0.0.1:{port}", "--issuer-base", base,
         "--tls-cert", crt, "--tls-key", key],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(demo.dir, "idp-tls.log"), "ab"))
    demo.procs.append(idp)
    issuer = f"{base}/{demo.vars['TENANT_ID']}/v2.0"
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
    flow = Flow(demo)
    try:
        with open(os.path.join(demo.config_dir, "domains.cfg")) as f:
            secret = re.search(r"^\tclient-key (\S+)$", f.read(), re.M).group(1)
        for _ in range(100):  # the TLS IdP answers (bounded wait)
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", verify=ca_crt,
                                timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            subprocess.run(["sleep", "0.1"])
        subprocess.run(rg + ["realm", "add", "entratls", "--type", "openid", "--issuer-url",
                             issuer, "--client-id", demo.vars["CLIENT_ID"], "--client-key",
                             secret, "--username-claim", "username", "--autocreate", "1"],
                       check=True, capture_output=True)

        def untrusted():
            r = requests.post(f"{flow.api}/access/openid/auth-url", verify=False,
                              data={"realm": "entratls", "redirect-url": flow.gui})
            assert r.status_code == 502, (r.status_code, r.text)
            assert "certificate" in r.json()["message"].lower() or \
                "ssl" in r.json()["message"].lower(), r.text
        check("a private-CA provider is refused with the system trust store", untrusted)

        def trusted():
            p = subprocess.run(rg + ["realm", "modify", "entratls", "--ca-file", ca_crt],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            with open(os.path.join(demo.config_dir, "domains.cfg")) as f:
                assert f"\tca-file {os.path.realpath(ca_crt)}\n" in f.read()
            url = flow.auth_url(realm="entratls")
            assert url.startswith(base + "/"), url
            os.environ["REQUESTS_CA_BUNDLE"] = ca_crt  # the "browser" trusts the CA too
            resp = flow.idp_sign_in(url, "alice@demo.example", "Demo-Alice-2026")
            assert resp.status_code == 302, (resp.status_code, resp.text[:200])
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(resp.headers["Location"]).query))
            r = flow.login(q)
            assert r.status_code == 200, r.text
            assert r.json()["data"]["username"] == "alice@demo.example@entratls"
        check("with the realm's ca-file the login runs over TLS to the provider", trusted)

        def check_cmd():
            p = subprocess.run(rg + ["realm", "check", "entratls"], capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
            assert "ok       the server loads this provider's metadata and keys" in p.stdout, \
                p.stdout
        check("realm check uses the realm's ca-file", check_cmd)
    finally:
        demo.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
