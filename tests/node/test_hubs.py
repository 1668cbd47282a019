"""ewnode hubs add|list|remove (issue 18) and what the node shows per hub:
the list and its refusals (each changing nothing), a store from before
several hubs (hub #0 comes from ewnode.conf and hub.pub), [node] min_hubs,
and with a real hub and agents: the commands while the agent runs, the
outbox per hub, and `ewnode audit` telling a restore from a rewrite."""

import json
import os
import shutil
import sqlite3
import time

from ewhtest import EWHUB, NodeCase, node_main, wait_for


def fingerprint(pub):
    with open(pub) as f:
        for ln in f:
            if ln.startswith("fingerprint"):
                return ln.split("=", 1)[1].strip()
    raise AssertionError("no fingerprint in %s" % pub)


class HubsBase(NodeCase):

    def fake_hub_n(self, n):
        """A hub identity without a process: DIR/hub.pub."""
        d = self.path("fakehub%d" % n)
        os.makedirs(d, exist_ok=True)
        self.run_cmd([os.environ["EWH_MKROSTER"], "init", d])
        return os.path.join(d, "hub.pub")

    def hubs(self, d, *args, ok=True):
        return self.ewnode("hubs", *args, "--dir", d, ok=ok)

    def hubs_json(self, d):
        return json.loads(self.hubs(d, "list", "--json").stdout)

    def refused(self, d, args, code, needle):
        before = self.hubs_json(d)["hubs"]
        r = self.hubs(d, *args, ok=False)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(needle, r.stderr.decode())
        self.assertEqual(self.hubs_json(d)["hubs"], before)


class HubsCliTest(HubsBase):

    def setUp(self):
        super().setUp()
        self.pubs = [self.fake_hub_n(i) for i in range(6)]
        self.rs = self.node_init("RS", self.pubs[0])

    def test_add_list_remove_and_refusals(self):
        rs, pubs = self.rs, self.pubs
        j = self.hubs_json(rs)
        self.assertEqual(j["agent_running"], False)
        self.assertEqual(j["min_hubs"], 1)
        [h0] = j["hubs"]
        self.assertEqual((h0["position"], h0["endpoint"], h0["fingerprint"]),
                         (0, "tcp://127.0.0.1:9", fingerprint(pubs[0])))
        self.assertIsNone(h0["connected"])
        out = self.hubs(rs, "list").stdout.decode()
        self.assertIn("#0 tcp://127.0.0.1:9", out)
        self.assertIn("the agent is not running", out)

        r = self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:10", "--hub-key",
                      pubs[1])
        self.assertIn(fingerprint(pubs[1]), r.stdout.decode())
        self.assertIn("added as #1 of 2", r.stdout.decode())

        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:10", "--hub-key",
                          pubs[2]], 1, "tcp://127.0.0.1:10 is listed already")
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:11", "--hub-key",
                          pubs[0]], 1,
                     "identity is listed already, as tcp://127.0.0.1:9")
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:11", "--hub-key",
                          os.path.join(rs, "node-RS.pub")], 1,
                     "a node's identity, not a hub's")
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:11", "--hub-key",
                          self.path("missing.pub")], 1,
                     "not a public identity file")
        bad = self.path("bad.pub")
        with open(bad, "w") as f:
            f.write("kind = hub\nsign = nonsense\n")
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:11", "--hub-key",
                          bad], 1, "not a public identity file")
        for ep in ("127.0.0.1:11", "tcp://127.0.0.1", "tcp://:11",
                   "tcp://127.0.0.1:0", "tcp://127.0.0.1:70000"):
            self.refused(rs, ["add", "--hub", ep, "--hub-key", pubs[2]], 1,
                         "expected tcp://HOST:PORT")
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:11"], 2,
                     "--hub-key")

        for i in (2, 3):
            self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:%d" % (9 + i),
                      "--hub-key", pubs[i])
        self.refused(rs, ["add", "--hub", "tcp://127.0.0.1:20", "--hub-key",
                          pubs[4]], 1, "EWH_MAX_HUBS")
        j = self.hubs_json(rs)
        self.assertEqual([h["endpoint"] for h in j["hubs"]],
                         ["tcp://127.0.0.1:%d" % p for p in (9, 10, 11, 12)])
        self.assertEqual([h["position"] for h in j["hubs"]], [0, 1, 2, 3])

        self.refused(rs, ["remove", "tcp://127.0.0.1:99"], 1,
                     "no hub tcp://127.0.0.1:99 is listed")
        self.refused(rs, ["remove"], 2, "ENDPOINT")
        for p in (11, 12):
            r = self.hubs(rs, "remove", "tcp://127.0.0.1:%d" % p)
            self.assertIn("removed", r.stdout.decode())
        # the pinned hub (hub.pub) goes only once another is pinned
        self.assertEqual([h["pinned"] for h in self.hubs_json(rs)["hubs"]],
                         [True, False])
        self.refused(rs, ["remove", "tcp://127.0.0.1:9"], 1,
                     "tcp://127.0.0.1:9 is the pinned hub")
        shutil.copy(pubs[1], os.path.join(rs, "hub.pub"))
        conf = os.path.join(rs, "ewnode.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("hub = tcp://127.0.0.1:9",
                                 "hub = tcp://127.0.0.1:10"))
        self.assertEqual([h["pinned"] for h in self.hubs_json(rs)["hubs"]],
                         [False, True])
        self.hubs(rs, "remove", "tcp://127.0.0.1:9")
        self.refused(rs, ["remove", "tcp://127.0.0.1:10"], 1,
                     "the only hub listed")
        [h] = self.hubs_json(rs)["hubs"]
        self.assertEqual((h["endpoint"], h["position"]),
                         ("tcp://127.0.0.1:10", 1))
        # a removed hub may come back (a new id: nothing of the old kept)
        self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:9", "--hub-key",
                  pubs[0])
        self.assertEqual(len(self.hubs_json(rs)["hubs"]), 2)

    def test_pinned_hub_follows_the_config(self):
        """ewnode.conf hub= moves hub #0 (as before several hubs), never
        onto another listed hub's endpoint."""
        rs = self.rs
        self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:10", "--hub-key",
                  self.pubs[1])
        conf = os.path.join(rs, "ewnode.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("hub = tcp://127.0.0.1:9",
                                 "hub = tcp://127.0.0.1:19"))
        self.assertEqual([h["endpoint"] for h in self.hubs_json(rs)["hubs"]],
                         ["tcp://127.0.0.1:19", "tcp://127.0.0.1:10"])
        with open(conf, "w") as f:
            f.write(text.replace("hub = tcp://127.0.0.1:9",
                                 "hub = tcp://127.0.0.1:10"))
        self.assertEqual([h["endpoint"] for h in self.hubs_json(rs)["hubs"]],
                         ["tcp://127.0.0.1:19", "tcp://127.0.0.1:10"])

    def test_usage(self):
        r = self.ewnode("hubs", "--help")
        for word in ("add --hub tcp://HOST:PORT --hub-key FILE",
                     "list [--json]", "remove ENDPOINT", "min_hubs"):
            self.assertIn(word, r.stdout.decode())
        self.assertIn("  hubs", self.ewnode("--help").stdout.decode())
        for args in ([], ["frobnicate"], ["list", "extra"],
                     ["list", "--hub", "tcp://127.0.0.1:10"]):
            r = self.ewnode("hubs", "--dir", self.rs, *args, ok=False)
            self.assertEqual(r.returncode, 2, args)

    def test_store_from_before_several_hubs(self):
        """An older store (no hub tables, checkpoints without a hub) is
        upgraded on open and lists hub #0 from ewnode.conf + hub.pub; its
        checkpoints are hub #0's."""
        rs = self.rs
        con = sqlite3.connect(os.path.join(rs, "store.db"))
        with con:
            for t in ("hubs", "hub_accept", "hub_try", "hub_need",
                      "hub_resent", "hub_event", "hub_roster",
                      "hub_receipt_todo", "checkpoint"):
                con.execute("DROP TABLE %s" % t)
            con.execute("CREATE TABLE checkpoint(length INTEGER PRIMARY KEY,"
                        " head BLOB NOT NULL, time INTEGER NOT NULL,"
                        " raw BLOB NOT NULL)")
            con.execute("INSERT INTO checkpoint VALUES(7, zeroblob(32), 1,"
                        " x'00')")
            con.execute("DELETE FROM meta WHERE k = 'hubs_layout'")
        con.close()
        [h0] = self.hubs_json(rs)["hubs"]
        self.assertEqual((h0["endpoint"], h0["fingerprint"]),
                         ("tcp://127.0.0.1:9", fingerprint(self.pubs[0])))
        con = sqlite3.connect(os.path.join(rs, "store.db"))
        self.assertEqual(con.execute("SELECT hub, length FROM checkpoint")
                         .fetchall(), [(1, 7)])
        con.close()

    def test_min_hubs(self):
        rs = self.rs
        conf = os.path.join(rs, "ewnode.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text + "min_hubs = 9\n")
        r = self.hubs(rs, "list", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("min_hubs", r.stderr.decode())
        with open(conf, "w") as f:
            f.write(text + "min_hubs = 2\n")
        self.assertIn("the agent refuses to start",
                      self.hubs(rs, "list").stdout.decode())
        r = self.ewnode("run", "--dir", rs, ok=False, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("min_hubs = 2 in ewnode.conf, but 1 hub is listed",
                      r.stderr.decode())
        self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:10", "--hub-key",
                  self.pubs[1])
        self.assertEqual(self.hubs_json(rs)["min_hubs"], 2)
        r = self.hubs(rs, "remove", "tcp://127.0.0.1:10")
        self.assertIn("min_hubs = 2 in ewnode.conf is more",
                      r.stdout.decode())


class HubsAgentTest(HubsBase):
    """With a real hub and agents."""

    def setUp(self):
        super().setUp()
        self.n = self.region(["RS", "HR"])
        self.agents = {cc: self.agent_start(d) for cc, d in self.n.items()}
        for d in self.n.values():
            self.wait_ready(d)

    def test_while_the_agent_runs(self):
        rs, hr = self.n["RS"], self.n["HR"]
        ep = self.endpoint
        r1 = self.submit(rs, level="high", to="HR", category="other",
                         title="one", body="b")
        self.wait_recipients(rs, r1, {"HR": "delivered"})
        [m1] = [m for m in self.outbox(rs) if m["id"] == r1]
        [h] = m1["hubs"]
        self.assertEqual(h["endpoint"], ep)
        self.assertIsNotNone(h["accepted_at"])
        self.assertIsNone(h["resent_at"])
        self.assertEqual(m1["hubs_accepted"], 1)

        # HR away: r2 accepted by the hub, not delivered
        self.assertEqual(self.agents["HR"].term(), 0)
        r2 = self.submit(rs, level="medium", to="HR", category="other",
                         title="two", body="b")
        self.wait_recipients(rs, r2, {"HR": "accepted"})

        # add a second hub while RS's agent runs (the store is the
        # channel): it owes r2 (not yet receipted), not r1
        extra = self.fake_hub_n(1)
        r = self.hubs(rs, "add", "--hub", "tcp://127.0.0.1:9", "--hub-key",
                      extra)
        self.assertIn("the running agent connects now", r.stdout.decode())
        j = self.hubs_json(rs)
        self.assertTrue(j["agent_running"])
        h0, h1 = j["hubs"]
        self.assertEqual((h0["endpoint"], h0["accepted"], h0["lagging"]),
                         (ep, 2, 0))
        self.assertEqual((h1["endpoint"], h1["accepted"], h1["lagging"]),
                         ("tcp://127.0.0.1:9", 0, 1))
        if j["agent_reports"]:
            # an agent with a session per hub (DIR/link.json "hubs"): hub
            # #0 connected; the new one (nothing listens there) not, once
            # the agent follows the list
            self.assertIs(h0["connected"], True)
            j = wait_for(lambda: (lambda j: j if j["hubs"][1]["connected"]
                                  is False else None)(self.hubs_json(rs)),
                         what="the agent reporting the new hub")
            self.assertIn("connected no",
                          self.hubs(rs, "list").stdout.decode())
        [m2] = [m for m in self.outbox(rs) if m["id"] == r2]
        self.assertEqual([(x["endpoint"], x["accepted_at"] is not None)
                          for x in m2["hubs"]],
                         [(ep, True), ("tcp://127.0.0.1:9", False)])
        text = self.ewnode("outbox", "--dir", rs).stdout.decode()
        self.assertIn("accepted by 1 of 2 hubs: %s at" % ep, text)
        show = self.ewnode("show", "--dir", rs, r2).stdout.decode()
        self.assertIn("accepted by 1 of 2 hubs", show)

        # removed while the agent runs; the agent goes on with hub #0
        self.hubs(rs, "remove", "tcp://127.0.0.1:9")
        self.agents["HR"] = self.agent_start(hr, name="agent-HR-2")
        self.wait_recipients(rs, r2, {"HR": "delivered"})
        r3 = self.submit(rs, level="low", to="HR", category="other",
                         title="three", body="b")
        self.wait_recipients(rs, r3, {"HR": "delivered"})
        self.assertEqual(len(self.hubs_json(rs)["hubs"]), 1)

    def test_outbox_shows_a_refill(self):
        """The store's record of a refill (node_store_hub_refill(); the
        agent decides when) is what outbox shows."""
        rs = self.n["RS"]
        self.assertEqual(self.agents["HR"].term(), 0)
        rid = self.submit(rs, level="high", to="HR", category="other",
                          title="lost", body="b")
        self.wait_recipients(rs, rid, {"HR": "accepted"})
        con = sqlite3.connect(os.path.join(rs, "store.db"), timeout=10)
        with con:
            con.execute("INSERT INTO hub_resent VALUES(?, 1, ?, ?)",
                        (rid, self.endpoint, int(time.time())))
            con.execute("INSERT INTO hub_event(hub, endpoint, kind, why, n,"
                        " at) VALUES(1, ?, 'refill', 'chain at 0, held 1',"
                        " 1, ?)", (self.endpoint, int(time.time())))
        con.close()
        text = self.ewnode("outbox", "--dir", rs).stdout.decode()
        self.assertIn("resent to %s after it lost data" % self.endpoint, text)
        self.assertIn("resent 1 report to %s after it lost data" %
                      self.endpoint, text)
        self.assertIn("(chain at 0, held 1)", text)
        [m] = [m for m in self.outbox(rs) if m["id"] == rid]
        self.assertIsNotNone(m["hubs"][0]["resent_at"])
        self.assertEqual(self.hubs_json(rs)["hubs"][0]["refills"], 1)

    def test_audit_restore_and_rewrite(self):
        rs = self.n["RS"]
        rid = self.submit(rs, level="high", to="HR", category="other",
                          title="audited", body="b")
        self.wait_recipients(rs, rid, {"HR": "delivered"})
        db = os.path.join(rs, "store.db")

        def held():
            con = sqlite3.connect(db, timeout=10)
            try:
                return con.execute("SELECT max(length) FROM checkpoint"
                                   " WHERE hub = 1").fetchone()[0]
            finally:
                con.close()
        n = wait_for(held, what="RS holds a checkpoint")
        r = self.ewnode("audit", "--dir", rs)
        self.assertIn("audit: OK: hub %s" % self.endpoint, r.stdout.decode())

        # the export for `ewhub audit verify --checkpoints`
        out = self.path("rs-checkpoints.json")
        self.ewnode("audit", "--dir", rs, "--export", out)
        with open(out) as f:
            j = json.load(f)
        self.assertEqual(j["country"], "RS")
        self.assertEqual(j["endpoint"], self.endpoint)
        self.assertEqual(max(c["length"] for c in j["checkpoints"]), n)
        self.assertTrue(all(len(c["head"]) == 64 and c["signed"]
                            for c in j["checkpoints"]))
        # ... which the hub's own check reads: all on its chain
        r = self.run_cmd([EWHUB, "audit", "verify", "--dir", self.path("hub"),
                          "--checkpoints", out])
        self.assertIn(b"audit: OK", r.stdout)

        # the node holds a checkpoint beyond the hub's chain, consistent
        # with the rest: what a hub restored from a backup looks like
        con = sqlite3.connect(db, timeout=10)
        with con:
            con.execute("INSERT INTO checkpoint(hub, length, head, time, raw)"
                        " VALUES(1, ?, randomblob(32), 1, x'00')", (n + 50,))
        r = self.ewnode("audit", "--dir", rs, ok=False)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertRegex(r.stdout.decode(),
                         r"RESTORE: hub %s: its chain is at length \d+, "
                         r"shorter than the checkpoint at length %d" %
                         (self.endpoint, n + 50))
        # what the agent records when it sees the hub go back
        # (node_store_hub_chain_back()): the checkpoints beyond set aside;
        # a restore, reported once
        with con:
            con.execute("INSERT INTO checkpoint_old(hub, length, head, time,"
                        " raw, back_to, back_at) SELECT hub, length, head,"
                        " time, raw, ?, ? FROM checkpoint WHERE hub = 1 AND"
                        " length > ?", (n, int(time.time()), n))
            con.execute("DELETE FROM checkpoint WHERE hub = 1 AND length > ?",
                        (n,))
        r = self.ewnode("audit", "--dir", rs, ok=False)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("RESTORE: hub %s: it went back to length %d" %
                      (self.endpoint, n), r.stdout.decode())
        r = self.ewnode("audit", "--dir", rs)
        self.assertIn("audit: note: hub %s went back to length %d" %
                      (self.endpoint, n), r.stdout.decode())
        self.assertIn("audit: OK: hub", r.stdout.decode())
        # a checkpoint of a length the hub has, with another head: a
        # rewrite, whatever else
        with con:
            con.execute("UPDATE checkpoint SET head = randomblob(32) WHERE"
                        " hub = 1 AND length = ?", (n,))
        con.close()
        r = self.ewnode("audit", "--dir", rs, ok=False)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn("REWRITE: hub %s: checkpoint length %d" %
                      (self.endpoint, n), r.stdout.decode())
        self.assertNotIn("RESTORE", r.stdout.decode())


if __name__ == "__main__":
    node_main()
