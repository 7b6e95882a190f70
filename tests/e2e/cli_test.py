"""The admin CLI (pveum syntax) on an empty config directory, without a server: exit codes
(0 done, 1 the operation failed, 2 usage error) and their messages for every command group,
then a round of user/group/role/ACL/token commands with exact JSON output and the exact
user.cfg they leave. The last line is "N passed, M failed"."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, check, summary  # noqa: E402

# (arguments, exit code, first line of stderr)
USAGE_AND_FAILURES = [
    ("acl", 2, "missing command"),
    ("acl bogus", 2, "unknown command 'acl bogus'"),
    ("acl modify /", 2, "missing option --roles"),
    ("acl modify / --roles PVEAuditor --users x@pve --propagate 2", 2,
     "--propagate must be 0 or 1"),
    ("acl list extra", 2, "unexpected argument 'extra'"),
    ("user", 2, "missing command"),
    ("user add", 2, "missing argument <userid>"),
    ("user add a@pve --bogus 1", 2, "unknown option '--bogus'"),
    ("user add a@pve --comment x --comment y", 2, "option '--comment' given twice"),
    ("user list --output-format xml", 2, "invalid output format 'xml'"),
    ("user token", 2, "missing command"),
    ("user token frob a@pve tk", 2, "unknown command 'user token frob'"),
    ("user token add a@pve tk --regenerate 1", 2, "option '--regenerate' is only for 'modify'"),
    ("user token add a@pve tk --privsep 2", 2, "--privsep: expected 0 or 1"),
    ("user token add a@pve tk --expire soon", 2,
     "--expire: expected seconds since the epoch (0 = never)"),
    ("group", 2, "missing command"),
    ("group list extra", 2, "unexpected argument 'extra'"),
    ("role frob", 2, "unknown command 'role frob'"),
    ("role add", 2, "missing argument <roleid>"),
    ("realm", 2, "missing command"),
    ("realm add x", 2, "missing option --type"),
    ("realm add x --type pve --delete comment", 2,
     "option --delete is only valid for 'realm modify'"),
    ("realm modify pve --type pam", 2, "the realm type cannot be changed"),
    ("passwd", 2, "missing argument <userid>"),
    ("user add a@nosuchrealm", 1, "domain 'nosuchrealm' does not exist"),
    ("user add b@pve --password short", 1, "password must be 8 to 64 characters long"),
    ("user token add nobody@pve tk", 1, "no such user ('nobody@pve')"),
    ("user token add nobody@pve t", 1, "invalid token name 't'"),
    ("user token add nobody tk", 1, "invalid user id 'nobody'"),
    ("user token list nobody@pve", 1, "no such user ('nobody@pve')"),
    ("user permissions bad --path /", 1, "invalid user or token id 'bad'"),
    ("group delete nog", 1, "group 'nog' does not exist"),
    ("role add PVEfoo --privs VM.Audit", 1, "cannot create role 'PVEfoo' (reserved name)"),
    ("role add R --privs VM.Nothing", 1, "invalid privilege 'VM.Nothing'"),
    ("acl modify /vms/99 --roles PVEAuditor --users root@pam", 1, "invalid ACL path '/vms/99'"),
    ("realm delete nosuch", 1, "authentication domain 'nosuch' does not exist"),
]

SESSION = [
    ("user add a@pve --firstname A", None),
    ("group add g --comment Gee", None),
    ("user modify a@pve --groups g", None),
    ("role add R --privs VM.Audit,Sys.Audit", None),
    ("acl modify /vms --roles R --groups g", None),
    ("acl modify /vms/100 --roles PVEAuditor --users a@pve --propagate 0", None),
    ("acl list --output-format json",
     [{"path": "/vms", "type": "group", "ugid": "g", "roleid": "R", "propagate": 1},
      {"path": "/vms/100", "type": "user", "ugid": "a@pve", "roleid": "PVEAuditor",
       "propagate": 0}]),
    # the user's own entry at /vms/100 replaces what the group inherits from /vms
    ("user permissions a@pve --path /vms/100 --output-format json",
     {"/vms/100": {p: 0 for p in ("Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit",
                                  "Sys.Audit", "VM.Audit", "VM.GuestAgent.Audit")}}),
    ("user permissions a@pve --path /vms/101 --output-format json",
     {"/vms/101": {"Sys.Audit": 1, "VM.Audit": 1}}),
    ("group list --output-format json", [{"groupid": "g", "users": "a@pve", "comment": "Gee"}]),
    ("user token list a@pve --output-format json", []),
    ("user token modify a@pve tk --comment x", 1),
]

USER_CFG = ("user:a@pve:1:0:A:::::\nuser:root@pam:1:0::::::\n\ngroup:g:a@pve:Gee:\n\n\n"
            "role:R:Sys.Audit,VM.Audit:\n\nacl:1:/vms:@g:R:\nacl:0:/vms/100:a@pve:PVEAuditor:\n")


def main():
    cfg = tempfile.mkdtemp(prefix="rg-cli-")
    rg = [os.path.join(BUILD, "realmgate"), "--config-dir", cfg]

    def run(args, code=0, raw=False):
        p = subprocess.run(rg + (args if raw else args.split()), capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
        return p

    def first_error_line(p):
        lines = [ln for ln in p.stderr.splitlines() if "realmgate[info]" not in ln]
        return lines[0] if lines else ""

    try:
        for args, code, message in USAGE_AND_FAILURES:
            def one(args=args, code=code, message=message):
                p = run(args, code)
                assert first_error_line(p) == message, (args, p.stderr)
                assert p.stdout == "", (args, p.stdout)
                # every usage error shows the usage of its command group
                assert ("\nusage: realmgate " in p.stderr) == (code == 2), (args, p.stderr)
            check(f"`{args}` exits {code}: {message}", one)

        def nothing_written():
            # every command above was refused: none of them may have created the files
            for f in ("user.cfg", "domains.cfg", "priv/token.cfg", "priv/shadow.cfg"):
                assert not os.path.exists(os.path.join(cfg, f)), f"a refused command wrote {f}"
        check("refused commands write no configuration file", nothing_written)

        for args, want in SESSION:
            def step(args=args, want=want):
                if isinstance(want, int):
                    run(args, want)
                    return
                p = run(args)
                if want is None:
                    assert p.stdout == "", (args, p.stdout)
                else:
                    assert json.loads(p.stdout) == want, (args, p.stdout)
            check(f"`{args}`", step)

        def user_cfg():
            with open(os.path.join(cfg, "user.cfg")) as f:
                text = f.read()
            assert text == USER_CFG, text
        check("user.cfg holds exactly what the commands made", user_cfg)

        def tokens():
            out = json.loads(run("user token add a@pve tk --privsep 0 --comment hi "
                                 "--output-format json").stdout)
            assert out["full-tokenid"] == "a@pve!tk", out
            assert out["info"] == {"expire": 0, "privsep": 0, "comment": "hi"}, out
            assert len(out["value"]) == 36 and out["value"].count("-") == 4, out
            lst = json.loads(run("user token list a@pve --output-format json").stdout)
            assert lst == [{"tokenid": "tk", "expire": 0, "privsep": 0, "comment": "hi"}], lst
            mod = json.loads(run("user token modify a@pve tk --expire 4000000000 "
                                 "--output-format json").stdout)
            assert mod == {"expire": 4000000000, "privsep": 0, "comment": "hi"}, mod
            with open(os.path.join(cfg, "priv/token.cfg")) as f:
                assert f.read().startswith("a@pve!tk $hmac-sha256$")
            run("user token remove a@pve tk")
            assert json.loads(run("user token list a@pve --output-format json").stdout) == []
            with open(os.path.join(cfg, "priv/token.cfg")) as f:
                assert f.read() == ""
        check("token add/list/modify/remove with exact output", tokens)

        def cleanup():
            for args in ("acl delete /vms --roles R --groups g", "role delete R",
                         "user delete a@pve", "group delete g"):
                run(args)
            with open(os.path.join(cfg, "user.cfg")) as f:
                text = f.read()
            assert text == "user:root@pam:1:0::::::\n\n\n\n\n", text
        check("deletes cascade: user.cfg is empty again", cleanup)

        def control_characters():
            # C1 controls and bidi overrides pass the input checks (they are not ASCII control
            # bytes), and a user.cfg comment may hold any %XX byte: the text table escapes all
            run(["user", "add", "c@pve", "--comment", "x\u009b2J\u202etxt"], raw=True)
            with open(os.path.join(cfg, "user.cfg"), "a") as f:
                f.write("user:e@pve:1:0::::%1B[31mRED%0Afake@pve 1::\n")
            out = run("user list").stdout
            assert "\x1b" not in out and "\u009b" not in out and "\u202e" not in out, out
            assert "x\\u009b2J\\u202etxt" in out, out
            assert "\\x1b[31mRED\\x0afake@pve 1" in out, out
            assert len(out.splitlines()) == 4, out  # header, c, e, root: no forged row
            js = json.loads(run("user list --output-format json").stdout)
            assert [u.get("comment") for u in js if u["userid"] == "c@pve"] == \
                ["x\u009b2J\u202etxt"], js
            run("user delete c@pve")
            run("user delete e@pve")
        check("the text table escapes control characters; JSON keeps the value", control_characters)

        def missing_dir():
            p = subprocess.run([os.path.join(BUILD, "realmgate"), "--config-dir",
                                os.path.join(cfg, "nope"), "user", "list"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 1, p
            assert p.stderr.startswith(f"configuration directory {cfg}/nope does not exist"), p
            assert not os.path.exists(os.path.join(cfg, "nope"))
            p = subprocess.run([os.path.join(BUILD, "realmgate"), "--config-dir",
                                os.path.join(cfg, "nope"), "user", "add"],
                               capture_output=True, text=True, timeout=30)
            assert p.returncode == 2 and not os.path.exists(os.path.join(cfg, "nope")), p
        check("a missing config directory is an error and is not created", missing_dir)
    finally:
        shutil.rmtree(cfg, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
