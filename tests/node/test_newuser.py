"""What a new user tripped on (issue 15), the parts that need no hub:
report input (item 9), one CLI convention for ewhub and ewnode (item 11),
ids by abbreviation and local times in the outbox (item 8)."""

import json
import os
import subprocess

from ewhtest import EWHUB, EWNODE, NodeCase, node_main

NODE_CMDS = ["init", "run", "submit", "inbox", "show", "ack", "watch",
             "outbox", "peers", "import-roster", "rekey", "audit", "open",
             "hubs"]
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
                     ["init", "--dir", hubdir, "extra"],
                     ["status", "--dir", "x" * 4000]):
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

    # ---- item 7: the chain's rules, at the sender --------------------

    def test_chain_rules(self):
        self.import_roster()
        h = self.submit(self.rs, level="high", to="HR,BG", category="cyber",
                        title="Original", body="b1")
        u = self.submit(self.rs, updates=h, title="Update", body="b2")
        self.assertEqual(sorted(self.show_json(self.rs, u)["to"]), ["BG", "HR"])
        # an update names the latest report of its chain
        r = self.submit(self.rs, ok=False, updates=h, title="x", body="y")
        self.assertEqual(r.returncode, 1)
        self.assertIn(("already updated by %s" % u).encode(), r.stderr)
        # cancelling the first report ends the whole chain
        c = self.submit(self.rs, cancels=h)
        jc = self.show_json(self.rs, c)
        self.assertEqual(jc["references"], [h, u])
        self.assertEqual(sorted(jc["to"]), ["BG", "HR"])
        for old in (h, u):
            j = self.show_json(self.rs, old)
            self.assertEqual((j["superseded_by"], j["superseded_type"]),
                             (c, "cancel"), old)
            self.assertIsNotNone(j["superseded_at"])
        # nothing follows a cancellation
        for kw in (dict(updates=u, title="x", body="y"), dict(cancels=u),
                   dict(updates=c, title="x", body="y")):
            r = self.submit(self.rs, ok=False, **kw)
            self.assertEqual(r.returncode, 1, kw)
            self.assertIn(b"cannot be updated or cancelled again", r.stderr)
        # a cancel narrowed by --to is sent, with a warning naming who
        # keeps a live report
        a = self.submit(self.rs, level="medium", to="HR,BG",
                        category="cyber", title="Another", body="b")
        r = self.ewnode("submit", "--dir", self.rs, "--cancels", a, "--to",
                        "HR")
        self.assertIn(b"warning: --to leaves out BG", r.stderr)
        self.assertEqual(self.show_json(self.rs, r.stdout.decode().strip())
                         ["to"], ["HR"])
        text = self.ewnode("show", "--dir", self.rs, h).stdout.decode()
        self.assertRegex(text, r"cancelled by: %s by RS" % c)

    # ---- item 8: ids by abbreviation ---------------------------------

    def test_ids_by_abbreviation(self):
        self.import_roster()
        ids = [self.submit(self.rs, level="low", to="HR", category="cyber",
                           title="t%d" % i, body="b") for i in range(3)]
        # the end of an id is its random part: 8 digits are plenty
        j = json.loads(self.ewnode("show", "--dir", self.rs, ids[1][-8:],
                                   "--format", "json").stdout)
        self.assertEqual(j["id"], ids[1])
        j = json.loads(self.ewnode("show", "--dir", self.rs,
                                   ids[2][:20].upper(), "--format",
                                   "json").stdout)
        self.assertEqual(j["id"], ids[2])
        # ids made within a minute share their first digits
        r = self.ewnode("show", "--dir", self.rs, ids[0][:6], ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"ambiguous", r.stderr)
        self.assertIn(ids[0].encode(), r.stderr)
        r = self.ewnode("show", "--dir", self.rs, "abc", ok=False)
        self.assertIn(b"at least 4", r.stderr)
        r = self.ewnode("show", "--dir", self.rs, "ffffffff", ok=False)
        self.assertIn(b"no report", r.stderr)
        u = self.submit(self.rs, updates=ids[2][-8:], title="u", body="b")
        self.assertEqual(self.show_json(self.rs, u)["references"], [ids[2]])

    def test_local_times_for_people_utc_in_json(self):
        self.import_roster()
        rid = self.submit(self.rs, level="low", to="HR", category="cyber",
                          title="t", body="b")
        env = dict(os.environ, TZ="EET-2")  # POSIX TZ: no tzdata needed
        out = subprocess.run([EWNODE, "outbox", "--dir", self.rs],
                             capture_output=True, env=env).stdout.decode()
        self.assertRegex(out, r"T\d\d:\d\d:\d\d\+02:00")
        out = subprocess.run([EWNODE, "show", "--dir", self.rs, rid],
                             capture_output=True, env=env).stdout.decode()
        self.assertIn("+02:00", out)
        out = subprocess.run([EWNODE, "outbox", "--dir", self.rs, "--json"],
                             capture_output=True, env=env).stdout.decode()
        self.assertIn("+00:00", out)
        self.assertNotIn("+02:00", out)

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
