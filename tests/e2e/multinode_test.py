"""Pending OpenID logins across server processes: two `realmgate serve` processes share one
configuration directory (as cluster nodes share /etc/pve). A login started with auth-url on
one completes with /access/openid/login on the other; the ticket works on both; the state is
single use on every node. Proxmox fails this (its pending state is node-local, spec §3.3).
The last line is "N passed, M failed"."""
import concurrent.futures
import os
import sys
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, Demo, free_port, summary  # noqa: E402
from login_flow_test import Flow  # noqa: E402


def main():
    demo = Demo("multinode")
    try:
        _, node_b = demo.start_server(port=free_port(),
                                      log=os.path.join(demo.dir, "realmgate-b.log"))
        node_a = demo.gui
        # Flow drives auth-url on demo.gui; a second Flow object targets node B's API while
        # keeping the origin registered at the IdP (node A's) as the redirect-url, as a load
        # balancer in front of two nodes would.
        flow_a = Flow(demo)
        flow_b = Flow(demo)
        flow_b.api = node_b + "/api2/json"

        def perms(node, ticket):
            return requests.get(f"{node}/api2/json/access/permissions?path=/", verify=False,
                                cookies={"PVEAuthCookie": ticket})

        def a_to_b():
            q = flow_a.callback()                      # auth-url on A, IdP sign-in
            r = flow_b.login(q, redirect=node_a)       # login on B
            assert r.status_code == 200, (r.status_code, r.text)
            d = r.json()["data"]
            assert d["username"] == "alice@demo.example@entra", d
            for node in (node_a, node_b):
                p = perms(node, d["ticket"])
                assert p.status_code == 200, (node, p.text)
                assert p.json()["data"]["/"]["Sys.Audit"] == 1, p.text
            # single use: the state is gone on every node
            for flow in (flow_a, flow_b):
                r = flow.login(q, redirect=node_a)
                assert r.status_code == 401, r.text
                assert r.json()["message"] == "authentication failure", r.text
        check("auth-url on A, login on B: 200, ticket valid on both, state single use", a_to_b)

        def b_to_a():
            r = requests.post(f"{node_b}/api2/json/access/openid/auth-url", verify=False,
                              data={"realm": "entra", "redirect-url": node_a})
            assert r.status_code == 200, r.text
            resp = flow_a.idp_sign_in(r.json()["data"], "bob@demo.example", "Demo-Bob-2026")
            assert resp.status_code == 302, resp.status_code
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(resp.headers["Location"]).query))
            r = flow_a.login(q, redirect=node_a)
            assert r.status_code == 200, r.text
            assert r.json()["data"]["username"] == "bob@demo.example@entra"
            r = flow_b.login(q, redirect=node_a)
            assert r.status_code == 401, r.text
        check("auth-url on B, login on A works the other way round", b_to_a)

        def race():
            q = flow_a.callback()
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
                futs = [ex.submit(f.login, q, node_a) for f in (flow_a, flow_b)]
                codes = sorted(f.result().status_code for f in futs)
            assert codes == [200, 401], codes
        check("the same callback sent to both nodes at once succeeds exactly once", race)

        def logs():
            with open(os.path.join(demo.dir, "realmgate-b.log")) as f:
                b_log = f.read()
            assert "successful openid auth for user 'alice@demo.example@entra'" in b_log, b_log
            assert "successful openid auth for user 'bob@demo.example@entra'" in \
                demo.server_log()
        check("each node logged the login it completed", logs)
    finally:
        demo.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
