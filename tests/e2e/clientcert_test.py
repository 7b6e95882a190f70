"""End-to-end certificate client credentials (private_key_jwt, Entra style): the realm's
client secret is replaced by `--client-cert FILE --client-cert-key FILE`, the certificate is
registered on the app in realmgate-idp (`app cert add`), and an OpenID login then succeeds
with a client_assertion instead of a secret. Also: the CLI refuses a key that does not belong
to the certificate and stores absolute paths; a certificate the provider does not know makes
the login fail with the provider's reason in the log. Last line: "N passed, M failed"."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, Demo, summary  # noqa: E402
from login_flow_test import Flow  # noqa: E402


def make_cert(d, name):
    cert, key = os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN=realmgate {name}", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return cert, key


def main():
    demo = Demo("clientcert")
    flow = Flow(demo)
    work = tempfile.mkdtemp(prefix="rg-cert-")
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", demo.config_dir]
    idp = [os.path.join(BUILD, "realmgate-idp"), "--state-dir", os.path.join(demo.dir, "idp")]
    cert, key = make_cert(work, "good")
    other_cert, other_key = make_cert(work, "unregistered")
    try:
        def cli_checks():
            r = subprocess.run(rg + ["realm", "modify", "entra", "--client-cert", cert,
                                     "--client-cert-key", other_key],
                               capture_output=True, text=True)
            assert r.returncode != 0, r
            assert "does not belong to client-cert" in r.stderr, r.stderr
            r = subprocess.run(rg + ["realm", "modify", "entra", "--client-cert", "x.crt",
                                     "--client-cert-key", key], capture_output=True, text=True,
                               cwd=work)
            assert r.returncode != 0 and "cannot open 'x.crt'" in r.stderr, r
        check("CLI refuses a key of another certificate and a missing file", cli_checks)

        def configure():
            r = subprocess.run(idp + ["app", "cert", "add", "--tenant", demo.vars["TENANT_ID"],
                                      "--app", demo.vars["CLIENT_ID"], cert],
                               capture_output=True, text=True)
            assert r.returncode == 0, r
            # relative paths are stored absolute; the secret goes away
            r = subprocess.run(rg + ["realm", "modify", "entra", "--client-cert", "good.crt",
                                     "--client-cert-key", "good.key", "--delete", "client-key"],
                               capture_output=True, text=True, cwd=work)
            assert r.returncode == 0, r
            with open(os.path.join(demo.config_dir, "domains.cfg")) as f:
                cfg = f.read()
            assert f"\tclient-cert {cert}\n" in cfg, cfg
            assert f"\tclient-cert-key {key}\n" in cfg, cfg
            assert "client-key" not in cfg.replace("client-cert-key", ""), cfg
        check("realm modify stores client-cert/client-cert-key and drops client-key", configure)

        def login_with_certificate():
            q = flow.callback()
            r = flow.login(q)
            assert r.status_code == 200, (r.status_code, r.text, demo.server_log()[-800:])
            assert r.json()["data"]["username"] == "alice@demo.example@entra"
        check("OpenID login authenticates the client with a certificate (no secret)",
              login_with_certificate)

        def unregistered_certificate():
            r = subprocess.run(rg + ["realm", "modify", "entra", "--client-cert", other_cert,
                                     "--client-cert-key", other_key],
                               capture_output=True, text=True)
            assert r.returncode == 0, r
            r = flow.login(flow.callback())
            assert r.status_code == 401, (r.status_code, r.text)
            log = demo.server_log()
            assert "token request refused: HTTP 401 invalid_client" in log, log[-1500:]
            assert "700027" in log, log[-1500:]
        check("a certificate the provider does not know: login refused, reason logged",
              unregistered_certificate)
    finally:
        demo.stop()

    return summary()


if __name__ == "__main__":
    sys.exit(main())
