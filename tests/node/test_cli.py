"""ewnode's commands without a hub: init, submit (and its refusals),
outbox, show, peers, roster import, and who can open an envelope."""

import json
import os
import sqlite3
import stat

from ewhtest import NodeCase, node_main


class CliTest(NodeCase):

    def setUp(self):
        super().setUp()
        self.hub = self.fake_hub()
        hub_pub = os.path.join(self.hub, "hub.pub")
        self.rs = self.node_init("RS", hub_pub)
        self.hr = self.node_init("HR", hub_pub)
        self.bg = self.node_init("BG", hub_pub)
        self.nodes = [self.rs, self.hr, self.bg]

    def import_roster(self, version=1, revoked=()):
        f = self.sign_roster(self.hub, version, self.nodes, revoked)
        for d in self.nodes:
            self.ewnode("import-roster", "--dir", d, f)

    def test_init_files(self):
        for name, mode in (("node.key", 0o600), ("node-RS.pub", None),
                           ("hub.pub", None), ("ewnode.conf", None),
                           ("store.db", None)):
            p = os.path.join(self.rs, name)
            self.assertTrue(os.path.exists(p), name)
            if mode is not None:
                self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), mode)
        # init refuses to replace keys
        r = self.ewnode("init", "--dir", self.rs, "--country", "RS", "--hub",
                        "tcp://127.0.0.1:9", "--hub-key",
                        os.path.join(self.hub, "hub.pub"), ok=False)
        self.assertEqual(r.returncode, 1)
        r = self.ewnode("init", "--dir", self.path("x"), "--country", "XX",
                        "--hub", "tcp://127.0.0.1:9", "--hub-key",
                        os.path.join(self.hub, "hub.pub"), ok=False)
        self.assertEqual(r.returncode, 1)

    def test_help_lists_commands_and_categories(self):
        out = self.ewnode("--help").stdout.decode()
        for cmd in ("init", "run", "submit", "inbox", "show", "ack", "watch",
                    "outbox", "peers"):
            self.assertIn("  " + cmd, out)
        for cat in ("border-security", "cyber", "terrorism", "other"):
            self.assertIn(cat, out)

    def test_submit_without_roster(self):
        r = self.submit(self.rs, ok=False, level="high", to="all",
                        category="cyber", title="t", body="b")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no roster yet", r.stderr)
        self.assertEqual(self.outbox(self.rs), [])

    def test_submit_and_outbox(self):
        self.import_roster()
        rid = self.submit(self.rs, level="high", to="all",
                          category="border-security", title="Armed group",
                          body="Details.\nMore.", tlp="red", expires="2d")
        rid2 = self.submit(self.rs, level="low", to="HR",
                           category="cyber", title="Phishing wave",
                           body_file="-", input=b"from stdin\n")
        ob = self.outbox(self.rs)
        self.assertEqual([o["id"] for o in ob], [rid2, rid])
        self.assertEqual(ob[1]["recipients"], {"BG": "queued",
                                               "HR": "queued"})
        self.assertEqual(ob[1]["level"], "high")
        self.assertEqual(ob[1]["title"], "Armed group")
        self.assertIn("created_at", ob[1])
        self.assertEqual(ob[0]["recipients"], {"HR": "queued"})
        j = self.show_json(self.rs, rid2)
        self.assertEqual(j["body"], "from stdin\n")
        self.assertEqual(j["tlp"], "amber")
        text = self.ewnode("show", "--dir", self.rs, rid).stdout.decode()
        self.assertIn("Armed group", text)
        self.assertIn("TLP:RED", text)

    def test_submit_refusals(self):
        self.import_roster(revoked=("BG",))
        base = dict(level="high", to="HR", category="cyber", title="t",
                    body="b")
        cases = [
            (dict(base, to="FR"), b"unknown addressee FR"),
            (dict(base, to="HR,QQ"), b"unknown addressee"),
            (dict(base, to="BG"), b"revoked"),
            (dict(base, to="RS"), b"this node"),
            (dict(base, level="urgent"), b"bad level"),
            (dict(base, category="gossip"), b"unknown category"),
            (dict(base, body=" \n"), b"body is empty"),
            (dict(base, tlp="purple"), b"bad TLP"),
            (dict(base, expires="400d"), b"duration"),
            (dict(base, urgency="now"), b"bad urgency"),
        ]
        for kw, msg in cases:
            r = self.submit(self.rs, ok=False, **kw)
            self.assertEqual(r.returncode, 1, kw)
            self.assertIn(msg, r.stderr, kw)
        no_title = dict(base)
        del no_title["title"]
        r = self.submit(self.rs, ok=False, **no_title)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"missing --title", r.stderr)
        no_body = dict(base)
        del no_body["body"]
        r = self.submit(self.rs, ok=False, **no_body)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"body is empty", r.stderr)
        r = self.submit(self.rs, ok=False, body_file=self.path("none"),
                        **{k: v for k, v in base.items() if k != "body"})
        self.assertEqual(r.returncode, 1)
        self.assertEqual(self.outbox(self.rs), [])
        # to all skips the revoked country
        rid = self.submit(self.rs, **dict(base, to="all"))
        self.assertEqual(self.outbox(self.rs)[0]["recipients"],
                         {"HR": "queued"})
        self.assertEqual(self.outbox(self.rs)[0]["id"], rid)

    def test_roster_rules_and_peers(self):
        self.import_roster(version=2)
        f1 = self.sign_roster(self.hub, 1, self.nodes)
        r = self.ewnode("import-roster", "--dir", self.rs, f1, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not newer", r.stderr)
        # a roster signed by another hub is refused
        other = self.path("otherhub")
        os.makedirs(other)
        self.run_cmd([os.environ["EWH_MKROSTER"], "init", other])
        f3 = self.sign_roster(other, 3, self.nodes)
        r = self.ewnode("import-roster", "--dir", self.rs, f3, ok=False)
        self.assertEqual(r.returncode, 1)
        peers = json.loads(self.ewnode("peers", "--dir", self.rs,
                                       "--json").stdout)
        self.assertEqual(peers["version"], 2)
        self.assertEqual(sorted(p["country"] for p in peers["peers"]),
                         ["BG", "HR", "RS"])
        text = self.ewnode("peers", "--dir", self.rs).stdout.decode()
        self.assertIn("roster version 2", text)
        fp = self.ewnode("init", "--dir", self.path("y"), "--country", "AL",
                         "--hub", "tcp://127.0.0.1:9", "--hub-key",
                         os.path.join(self.hub, "hub.pub")).stdout.decode()
        self.assertRegex(fp, r"[0-9A-F]{4}(-[0-9A-F]{4}){4}")

    def test_update_cancel_and_envelope_readers(self):
        self.import_roster()
        rid = self.submit(self.rs, level="medium", to="HR",
                          category="cyber", title="First", body="b1")
        upd = self.submit(self.rs, updates=rid, title="Second", body="b2",
                          level="high")
        can = self.submit(self.rs, cancels=upd)
        ju = self.show_json(self.rs, upd)
        self.assertEqual(ju["type"], "update")
        self.assertEqual(ju["references"], [rid])
        self.assertEqual(ju["to"], ["HR"])
        jc = self.show_json(self.rs, can)
        self.assertEqual(jc["type"], "cancel")
        self.assertEqual(jc["references"], [upd, rid])
        # the latest report in the chain supersedes every earlier one
        for old in (rid, upd):
            j = self.show_json(self.rs, old)
            self.assertEqual(j["superseded_by"], can)
            self.assertEqual(j["superseded_type"], "cancel")
        # updating someone else's (unknown) report is refused
        r = self.submit(self.rs, ok=False, updates="00" * 16, title="x",
                        body="y")
        self.assertEqual(r.returncode, 1)
        # the envelope opens for HR and RS but not for BG
        db = sqlite3.connect(os.path.join(self.rs, "store.db"))
        env = db.execute("SELECT envelope FROM msg WHERE id = ?",
                         (rid,)).fetchone()[0]
        db.close()
        f = self.path("env.bin")
        with open(f, "wb") as fh:
            fh.write(env)
        j = json.loads(self.ewnode("open", "--dir", self.hr, f).stdout)
        self.assertEqual(j["title"], "First")
        r = self.ewnode("open", "--dir", self.bg, f, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not addressed to BG", r.stderr)


if __name__ == "__main__":
    node_main()
