"""What a new user tripped on (issue 15), the parts that need no hub:
report input (item 9), one CLI convention for ewhub and ewnode (item 11),
ids by abbreviation and local times in the outbox (item 8)."""

import json
import os
import subprocess

from ewhtest import EWHUB, EWNODE, NodeCase, node_main

NODE_CMDS = ["init", "run", "submit", "inbox", "show", "ack", "watch",
             "outbox", "peers", "import-roster", "rekey", "audit", "open"]
HUB_CMDS = ["init", "enroll", "revoke", "run", "status", "rotate-keys",
            "traffic", "audit", "backup"]


class NewUserCliTest(NodeCase):

    def setUp(self):
        super().setUp()
        self.hub = self.fake_hub()
        hub_pub = os.path.join(self.hub, "hub.pub")
        self.rs = self.node_init("RS", hub_pub)
        self.hr = self.node_init("HR", hub_pub)
        self.bg = self.node_init("BG", hub_pub)
        self.nodes = [self.rs, self.hr, self.bg]

    def import_roster(self, version=1, categories=()):
        out = self.path("roster-%d.bin" % version)
        argv = [os.environ["EWH_MKROSTER"], "sign", self.hub, str(version),
                out]
        for c in categories:
            argv += ["-c", c]
        for d in self.nodes:
            cc = os.path.basename(d)[-2:]
            argv.append(os.path.join(d, "node-%s.pub" % cc))
        self.run_cmd(argv)
        for d in self.nodes:
            self.ewnode("import-roster", "--dir", d, out)

    def rc(self, argv):
        return subprocess.run(argv, capture_output=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    # ---- item 11: one CLI convention ----------------------------------

    def test_help_on_every_subcommand_exits_0(self):
        for cmd in NODE_CMDS:
            r = self.rc([EWNODE, cmd, "--help"])
            self.assertEqual(r.returncode, 0, ("ewnode", cmd, r.stderr))
            self.assertIn(b"usage: ewnode " + cmd.encode(), r.stdout, cmd)
        for cmd in HUB_CMDS:
            r = self.rc([EWHUB, cmd, "--help"])
            self.assertEqual(r.returncode, 0, ("ewhub", cmd, r.stderr))
            self.assertIn(b"usage: ewhub " + cmd.encode(), r.stdout, cmd)
        for prog in (EWNODE, EWHUB):
            r = self.rc([prog, "--help"])
            self.assertEqual(r.returncode, 0, prog)

    def test_usage_errors_exit_2(self):
        for prog in (EWNODE, EWHUB):
            r = self.rc([prog, "no-such-command"])
            self.assertEqual(r.returncode, 2, (prog, r.stderr))
            self.assertIn(b"unknown command", r.stderr)
            r = self.rc([prog])
            self.assertEqual(r.returncode, 2, prog)
        for cmd in NODE_CMDS:
            r = self.rc([EWNODE, cmd, "--dir", self.rs, "--no-such-flag"])
            self.assertEqual(r.returncode, 2, ("ewnode", cmd, r.stderr))
        for cmd in HUB_CMDS:
            r = self.rc([EWHUB, cmd, "--dir", self.hub, "--no-such-flag"])
            self.assertEqual(r.returncode, 2, ("ewhub", cmd, r.stderr))
        # an extra argument is a usage error too, not a runtime failure
        hubdir = self.path("realhub")
        self.run_cmd([EWHUB, "init", "--dir", hubdir])
        for argv in (["status", "--dir", hubdir, "extra"],
                     ["traffic", "--dir", hubdir, "extra"],
                     ["audit", "verify", "--dir", hubdir, "extra"],
                     ["revoke", "--dir", hubdir],
                     ["init", "--dir", hubdir, "extra"]):
            r = self.rc([EWHUB] + argv)
            self.assertEqual(r.returncode, 2, (argv, r.stderr))

    def test_hub_runtime_errors_exit_1_without_fatal(self):
        missing = self.path("nohub")
        for argv in (["status", "--dir", missing],
                     ["traffic", "--dir", missing],
                     ["audit", "verify", "--dir", missing],
                     ["revoke", "--dir", missing, "RS"],
                     ["enroll", "--dir", missing, self.path("none.pub")],
                     ["rotate-keys", "--dir", missing, "--commit"]):
            r = self.rc([EWHUB] + argv)
            self.assertEqual(r.returncode, 1, (argv, r.stderr))
            self.assertNotIn(b"fatal:", r.stderr, argv)
            self.assertTrue(r.stderr.startswith(b"ewhub: "), r.stderr)

    def test_help_lists_the_rosters_categories(self):
        self.import_roster(categories=("cyber", "floods", "other"))
        out = self.ewnode("--help", "--dir", self.rs).stdout.decode()
        self.assertIn("floods", out)
        self.assertIn("roster version 1", out)
        self.assertNotIn("border-security", out)
        env = dict(os.environ, EWNODE_DIR=self.rs)
        out = subprocess.run([EWNODE, "--help"], capture_output=True,
                             env=env).stdout.decode()
        self.assertIn("floods", out)
        # no node dir: the defaults, said to be defaults
        out = self.ewnode("--help", "--dir", self.path("none")).stdout
        self.assertIn(b"border-security", out)
        self.assertIn(b"defaults", out)

    def test_show_spells_tlp_as_cap_and_aligns_labels(self):
        self.import_roster()
        rid = self.submit(self.rs, level="medium", to="HR", category="cyber",
                          title="First", body="b1")
        self.submit(self.rs, updates=rid, title="Second", body="b2")
        text = self.ewnode("show", "--dir", self.rs, rid).stdout.decode()
        self.assertIn("TLP:AMBER", text)
        head = text.split("\n\n")[0].splitlines()
        cols = {line.index(":") + 1 + len(line[line.index(":") + 1:]) -
                len(line[line.index(":") + 1:].lstrip())
                for line in head if not line.startswith("  ")}
        self.assertEqual(len(cols), 1, head)  # every value in one column
        self.assertTrue(any(l.startswith("updated by:") for l in head), head)

    # ---- item 9: input ------------------------------------------------

    def test_title_of_spaces_refused(self):
        self.import_roster()
        r = self.submit(self.rs, ok=False, level="high", to="HR",
                        category="cyber", title="   ", body="b")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"title is only spaces", r.stderr)
        self.assertEqual(self.outbox(self.rs), [])

    def test_tlp_white_is_clear_and_said(self):
        self.import_roster()
        r = self.ewnode("submit", "--dir", self.rs, "--level", "low", "--to",
                        "HR", "--category", "cyber", "--title", "t", "--body",
                        "b", "--tlp", "white")
        self.assertIn(b"TLP:CLEAR", r.stderr)
        rid = r.stdout.decode().strip()
        self.assertEqual(self.show_json(self.rs, rid)["tlp"], "clear")
        self.assertIn(b"white", self.ewnode("submit", "--help").stdout)

    def test_to_lower_case_and_spaces(self):
        self.import_roster()
        rid = self.submit(self.rs, level="low", to="hr", category="cyber",
                          title="t", body="b")
        self.assertEqual(self.show_json(self.rs, rid)["to"], ["HR"])
        rid = self.submit(self.rs, level="low", to="HR, BG", category="cyber",
                          title="t", body="b")
        self.assertEqual(sorted(self.show_json(self.rs, rid)["to"]),
                         ["BG", "HR"])
        r = self.submit(self.rs, ok=False, level="low", to="croatia",
                        category="cyber", title="t", body="b")
        self.assertIn(b"two letters", r.stderr)
        r = self.submit(self.rs, ok=False, level="low", to="HR, ,BG",
                        category="cyber", title="t", body="b")
        self.assertIn(b"empty addressee", r.stderr)

    def test_limits_in_words(self):
        self.import_roster()
        title = "Ж" * 100 + "x"  # 201 bytes, 101 characters
        r = self.submit(self.rs, ok=False, level="low", to="HR",
                        category="cyber", title=title, body="b")
        self.assertEqual(r.returncode, 1)
        msg = r.stderr.decode()
        self.assertIn("title is 201 bytes (101 characters)", msg)
        self.assertIn("limit is 200 bytes", msg)
        self.assertIn("about 100 Cyrillic", msg)
        self.assertNotIn("EWH_MAX", msg)
        self.assertIn(b"65536 bytes (64 KiB)",
                      self.ewnode("submit", "--help").stdout)
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                               "usage.md")) as f:
            usage = f.read()
        self.assertTrue("64 KiB" in usage, "docs/usage.md names no body limit")


if __name__ == "__main__":
    node_main()
