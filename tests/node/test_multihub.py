"""The node agent with two hubs (issue 18, docs/redundancy.md): one
session per hub, each report submitted to both, a delivery stored once
whichever hub brings it, receipts to both, a hub killed and the other
carrying on, hubs added and removed while the agent runs, a hub that lost
its store refilled, rosters compared.  Real ewhub processes on 127.0.0.1,
real agents; the node's store is read (read-only) to see what each hub
accepted."""

import json
import os
import shutil
import sqlite3
import time
import urllib.request

from ewhtest import EWHUB, NodeCase, node_main, wait_for

LONG = 60


class TwoHubs(NodeCase):

    # -- hubs A (pinned by init) and B (added) --

    def hub_make(self, name, keys_from=None):
        d = self.path(name)
        self.run_cmd([EWHUB, "init", "--dir", d])
        if keys_from:
            # the same identity, an empty store: a hub that lost its data
            for f in ("hub.key", "hub.pub"):
                os.unlink(os.path.join(d, f))
                shutil.copy2(os.path.join(keys_from, f), os.path.join(d, f))
        return d

    def hub_run(self, name, d, port=None):
        ep_file = os.path.join(d, "endpoint")
        if os.path.exists(ep_file):
            os.unlink(ep_file)
        n = self.starts.get(name, 0) + 1
        self.starts[name] = n
        p = self.start([EWHUB, "run", "--dir", d, "--listen",
                        "tcp://127.0.0.1:%s" % (port or "*")],
                       "%s-%d" % (name, n))

        def endpoint():
            self.assertTrue(p.alive(), p.logtext())
            try:
                with open(ep_file) as f:
                    return f.read().strip() or None
            except OSError:
                return None
        ep = wait_for(endpoint, 30, what=name + " endpoint")
        self.hubs[name] = {"dir": d, "proc": p, "ep": ep}
        return ep

    def setUp(self):
        super().setUp()
        self.hubs = {}
        self.starts = {}
        self.agents = {}

    def pair_up(self, ccs=("RS", "HR"), add_b=True, enroll_b=None):
        a = self.hub_make("hubA")
        self.hub_run("hubA", a)
        b = self.hub_make("hubB")
        self.hub_run("hubB", b)
        self.n = {}
        for cc in ccs:
            d = self.node_init(cc, os.path.join(a, "hub.pub"),
                               self.hubs["hubA"]["ep"])
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n"
                        "metrics = 127.0.0.1:0\n")
            self.n[cc] = d
        for cc in ccs:
            self.enroll("hubA", cc)
        for cc in (ccs if enroll_b is None else enroll_b):
            self.enroll("hubB", cc)
        self.enrolled = list(ccs)
        if add_b:
            for cc in ccs:
                self.hubs_add(cc, "hubB")

    def enroll(self, hub, cc):
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs[hub]["dir"],
                      os.path.join(self.n[cc], "node-%s.pub" % cc)])

    def hubs_add(self, cc, hub):
        self.ewnode("hubs", "add", "--dir", self.n[cc], "--hub",
                    self.hubs[hub]["ep"], "--hub-key",
                    os.path.join(self.hubs[hub]["dir"], "hub.pub"))

    def agent(self, cc):
        n = self.starts.get("agent-" + cc, 0) + 1
        self.starts["agent-" + cc] = n
        self.agents[cc] = self.agent_start(self.n[cc],
                                           "agent-%s-%d" % (cc, n))
        return self.agents[cc]

    def link_hubs(self, cc):
        """DIR/link.json "hubs" of the running agent, by endpoint."""
        try:
            with open(os.path.join(self.n[cc], "link.json")) as f:
                j = json.load(f)
        except (OSError, ValueError):
            return {}
        return {h["endpoint"]: h for h in j.get("hubs", [])}

    def connected(self, cc, hubs):
        def ok():
            lh = self.link_hubs(cc)
            return all(lh.get(self.hubs[h]["ep"], {}).get("connected")
                       for h in hubs)
        wait_for(ok, LONG, what="%s connected to %s" % (cc, hubs))

    def accepted_by(self, cc, rid):
        """Endpoints of the hubs that accepted our report rid (the node's
        own record, table hub_accept)."""
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.n[cc], "store.db"), uri=True, timeout=30)
        try:
            return {ep for (ep,) in con.execute(
                "SELECT h.endpoint FROM hub_accept a JOIN hubs h ON"
                " h.id = a.hub WHERE a.id = ?", (rid,))}
        finally:
            con.close()

    def hub_holds(self, hub, rid):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.hubs[hub]["dir"], "store.db"), uri=True, timeout=30)
        try:
            return sum(1 for (i,) in con.execute("SELECT id FROM envelopes")
                       if bytes(i).hex() == rid)
        finally:
            con.close()

    def metrics(self, cc):
        """The agent's /metrics as {(name, hub label): value}."""
        with open(os.path.join(self.n[cc], "metrics_endpoint")) as f:
            ep = f.read().strip()
        body = urllib.request.urlopen("http://%s/metrics" % ep,
                                      timeout=10).read().decode()
        out = {}
        for line in body.splitlines():
            if line.startswith("#") or "{hub=\"" not in line:
                continue
            name, rest = line.split("{hub=\"", 1)
            hub = rest.split("\"", 1)[0]
            out[(name, hub)] = float(line.rsplit(" ", 1)[1])
        return out

    def eps(self, *hubs):
        return {self.hubs[h]["ep"] for h in hubs}

    def send(self, cc, to, title="t"):
        return self.submit(self.n[cc], to=to, level="high",
                           category="other", title=title, body="b")

    # -- the tests --

    def test_both_hubs_used_and_nothing_twice(self):
        """Each report goes to both hubs; the recipient stores it once and
        acknowledges it to both; its receipt reaches the origin once, and
        is sent to both hubs."""
        self.pair_up()
        rs, hr = self.agent("RS"), self.agent("HR")
        self.wait_ready(self.n["RS"])
        self.wait_ready(self.n["HR"])
        self.connected("RS", ["hubA", "hubB"])
        self.connected("HR", ["hubA", "hubB"])
        # HR away while both hubs take the report (else HR's receipt may
        # come back through the faster hub before the other was offered
        # it: then it is not needed there, docs/redundancy.md)
        hr.term()
        rid = self.send("RS", "HR")
        wait_for(lambda: self.accepted_by("RS", rid) ==
                 self.eps("hubA", "hubB"), LONG, what="accepted by both")
        hr = self.agent("HR")
        self.wait_inbox(self.n["HR"], rid, LONG)
        self.wait_recipients(self.n["RS"], rid, {"HR": "delivered"}, LONG)
        # the second hub's delivery is acknowledged and dropped
        wait_for(lambda: "redelivery id=%s from=RS (stored once)" % rid in
                 hr.logtext(), LONG, what="the other hub's copy dropped")
        self.assertEqual([m["id"] for m in self.inbox(self.n["HR"])], [rid])
        self.assertEqual(hr.logtext().count("stored id=%s" % rid), 1)
        # our receipt went to both hubs: nothing left to send to either
        db = os.path.join(self.n["HR"], "store.db")

        def receipts_left():
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                                  timeout=30)
            try:
                return con.execute("SELECT count(*) FROM hub_receipt_todo"
                                   ).fetchone()[0]
            finally:
                con.close()
        wait_for(lambda: receipts_left() == 0, LONG,
                 what="receipt acknowledged by both hubs")
        # the origin holds it once, whichever hub relayed it first
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.n["RS"], "store.db"), uri=True, timeout=30)
        try:
            n = con.execute("SELECT count(*) FROM receipt_in WHERE id = ?",
                            (rid,)).fetchone()[0]
        finally:
            con.close()
        self.assertEqual(n, 1)
        self.assertIn("receipt id=%s from=HR delivered" % rid, rs.logtext())
        lh = self.link_hubs("RS")
        self.assertEqual(set(lh), self.eps("hubA", "hubB"))
        wait_for(lambda: all(h["accepted"] >= 1 and h["lagging"] == 0
                             for h in self.link_hubs("RS").values()), LONG,
                 what="link.json hubs figures")
        # /metrics per hub
        for h in ("hubA", "hubB"):
            ep = self.hubs[h]["ep"]
            wait_for(lambda: self.metrics("RS").get(
                ("ewnode_hub_accepted", ep)) == 1, LONG,
                what="ewnode_hub_accepted for " + h)
            m = self.metrics("RS")
            self.assertEqual(m[("ewnode_hub_lagging", ep)], 0)
            self.assertEqual(m[("ewnode_hub_refills_total", ep)], 0)
            self.assertEqual(m[("ewnode_hub_roster_mismatch", ep)], 0)
            self.assertLess(m[("ewnode_hub_last_frame_age_seconds", ep)], 30)

    def test_one_hub_killed_the_other_carries_on(self):
        """SIGKILL hub A: a high report still goes through hub B; A lags
        until it is back, then gets it too."""
        self.pair_up()
        self.agent("RS")
        self.agent("HR")
        self.connected("RS", ["hubA", "hubB"])
        self.connected("HR", ["hubA", "hubB"])
        port = int(self.hubs["hubA"]["ep"].rsplit(":", 1)[1])
        self.hubs["hubA"]["proc"].kill()
        rid = self.send("RS", "HR", "after the kill")
        self.wait_inbox(self.n["HR"], rid, LONG)
        self.wait_recipients(self.n["RS"], rid, {"HR": "delivered"}, LONG)
        self.assertEqual(self.accepted_by("RS", rid), self.eps("hubB"))
        wait_for(lambda: self.metrics("RS").get(
            ("ewnode_hub_connected", self.hubs["hubA"]["ep"])) == 0, LONG,
            what="hub A down in /metrics")
        # the commands do not say reports wait while another hub serves
        wait_for(lambda: not self.link_hubs("RS").get(
            self.hubs["hubA"]["ep"], {}).get("connected", True), LONG,
            what="hub A shown down")
        time.sleep(3.5)  # past the grace of NODE_LS_WARN_MS
        r = self.ewnode("outbox", "--dir", self.n["RS"])
        self.assertNotIn("has not been connected", r.stderr.decode())
        # hub A comes back at the same endpoint: a report not yet
        # receipted would go to it; this one is receipted, so it is not
        # needed there any more (docs/redundancy.md)
        self.hub_run("hubA", self.hubs["hubA"]["dir"], port)
        self.connected("RS", ["hubA", "hubB"])
        # with HR stopped, a new report stays needed: A gets it too
        self.agents["HR"].term()
        rid2 = self.send("RS", "HR", "while HR is away")
        wait_for(lambda: self.accepted_by("RS", rid2) ==
                 self.eps("hubA", "hubB"), LONG, what="accepted by both")

    def test_hub_added_and_removed_while_running(self):
        """`ewnode hubs add` while the agent runs: it opens a session and
        the new hub gets the reports not yet receipted; `hubs remove`
        closes it."""
        self.pair_up(add_b=False)
        rs = self.agent("RS")
        self.wait_ready(self.n["RS"])
        rid = self.send("RS", "HR", "HR is not running")
        wait_for(lambda: self.accepted_by("RS", rid) == self.eps("hubA"),
                 LONG, what="accepted by A")
        self.hubs_add("RS", "hubB")
        wait_for(lambda: "hub %s added: opening a session" %
                 self.hubs["hubB"]["ep"] in rs.logtext(), LONG,
                 what="agent noticed the new hub")
        wait_for(lambda: self.accepted_by("RS", rid) ==
                 self.eps("hubA", "hubB"), LONG, what="B got the report")
        self.assertEqual(self.hub_holds("hubB", rid), 1)
        self.ewnode("hubs", "remove", "--dir", self.n["RS"],
                    self.hubs["hubB"]["ep"])
        wait_for(lambda: "hub %s removed: closing its session" %
                 self.hubs["hubB"]["ep"] in rs.logtext(), LONG,
                 what="agent closed the removed hub")
        wait_for(lambda: set(self.link_hubs("RS")) == self.eps("hubA"), LONG,
                 what="link.json lists hub A only")

    def test_hub_that_lost_its_store_is_refilled(self):
        """Hub B loses its store (same keys, empty store, same endpoint):
        the node sees its chain behind the checkpoint it holds of B and
        sends it again what is not yet receipted."""
        self.pair_up()
        rs = self.agent("RS")
        self.connected("RS", ["hubA", "hubB"])
        rids = [self.send("RS", "HR", "r%d" % i) for i in range(3)]
        for rid in rids:
            wait_for(lambda: self.accepted_by("RS", rid) ==
                     self.eps("hubA", "hubB"), LONG, what="both accepted")
        b = self.hubs["hubB"]
        port = int(b["ep"].rsplit(":", 1)[1])
        b["proc"].kill()
        keys = self.path("hubB-keys")
        os.makedirs(keys)
        for f in ("hub.key", "hub.pub"):
            shutil.copy2(os.path.join(b["dir"], f), keys)
        shutil.rmtree(b["dir"])
        d = self.hub_make("hubB", keys_from=keys)
        self.enroll("hubB", "RS")
        self.enroll("hubB", "HR")
        self.hub_run("hubB", d, port)
        wait_for(lambda: "lost data" in rs.logtext(), LONG,
                 what="the agent noticed the lost data")
        for rid in rids:
            wait_for(lambda: self.hub_holds("hubB", rid) == 1, LONG,
                     what="%s sent to B again" % rid)
        self.assertEqual(rs.logtext().count("lost data"), 1)
        wait_for(lambda: self.link_hubs("RS").get(b["ep"], {}).get(
            "refills") == 1, LONG, what="refills in link.json")
        # the checkpoints held of B's lost history are set aside: ewnode
        # audit tells a restore (exit 3), not a rewrite (4)
        r = self.ewnode("audit", "--dir", self.n["RS"], ok=False,
                        timeout=120)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn(b"RESTORE: hub " + b["ep"].encode(), r.stdout + r.stderr)

    def test_rosters_compared(self):
        """A country enrolled at hub A only: the node says its hubs'
        rosters differ, once, and marks both in link.json."""
        self.pair_up(ccs=("RS", "HR", "BG"), enroll_b=("RS", "HR"))
        rs = self.agent("RS")
        self.connected("RS", ["hubA", "hubB"])
        wait_for(lambda: "ROSTER MISMATCH" in rs.logtext(), LONG,
                 what="mismatch said")
        self.assertIn(" BG only-a", rs.logtext())
        wait_for(lambda: all(h["roster_mismatch"] for h in
                             self.link_hubs("RS").values()), LONG,
                 what="roster_mismatch in link.json")
        wait_for(lambda: self.metrics("RS").get(
            ("ewnode_hub_roster_mismatch", self.hubs["hubB"]["ep"]), 0) >= 1,
            LONG, what="ewnode_hub_roster_mismatch")
        # the same difference is not said again with the next roster
        self.enroll("hubB", "BG")
        wait_for(lambda: not any(h["roster_mismatch"] for h in
                                 self.link_hubs("RS").values()), LONG,
                 what="mismatch cleared once B enrols BG")
        self.assertEqual(rs.logtext().count("ROSTER MISMATCH"), 1)

    def test_rekey_enrolled_at_one_hub_first(self):
        """RS re-keys; hub A enrols the new key, B not yet: the agent
        switches (A's roster names it), keeps B's session on the key from
        before, and B gets the reports sealed with the new key once it
        enrols it too."""
        self.pair_up()
        rs = self.agent("RS")
        self.connected("RS", ["hubA", "hubB"])
        self.ewnode("rekey", "--dir", self.n["RS"])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["hubA"]["dir"],
                      os.path.join(self.n["RS"], "node-RS.pub.new")])
        wait_for(lambda: "re-keyed: now using fingerprint" in rs.logtext(),
                 LONG, what="RS switched keys")
        wait_for(lambda: "trying the previous node key and the pinned hub "
                 "key (hub %s)" % self.hubs["hubB"]["ep"] in rs.logtext(),
                 LONG, what="the old key tried at B")
        self.connected("RS", ["hubA", "hubB"])
        # HR is not running: the report stays needed until B has it
        rid = self.send("RS", "HR", "sealed with the new key")
        wait_for(lambda: self.accepted_by("RS", rid) == self.eps("hubA"),
                 LONG, what="accepted by A")
        wait_for(lambda: "id=%s refused by a hub that has not enrolled our "
                 "new keys yet" % rid in rs.logtext(), LONG,
                 what="B refused it, kept for B")
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["hubB"]["dir"],
                      os.path.join(self.n["RS"], "node-RS.pub")])
        wait_for(lambda: self.accepted_by("RS", rid) ==
                 self.eps("hubA", "hubB"), LONG, what="B accepted it")
        self.connected("RS", ["hubA", "hubB"])


if __name__ == "__main__":
    node_main()
