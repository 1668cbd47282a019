"""Issue 22 (docs/federation.md): three regional hubs in a line,
A (adria: RS, HR) - B (nordic: NO, SE) - C (baltic: EE, LV), real ewhub
and ewnode processes, real CURVE links between the hubs.

- distribution: `connected` from RS reaches B's countries exactly once
  and never C's; `all` reaches C's too; `region` never leaves A — at the
  recipients and in the hubs' counters (filtered before queuing, at the
  relaying hub and again at the next);
- receipts travel back across the links to the origin;
- SIGKILL of hub A or hub B in the middle of a stream across the link:
  every report arrives exactly once, every receipt reaches its origin;
- a foreign hub that forges (an unendorsed key for one of its countries)
  or widens (a path that lies, a report sent on beyond `connected`) is
  refused by the receiving hub;
- a canary title and body are found in no hub's store or log.
"""

import glob
import json
import os
import re
import signal
import sqlite3
import time
import urllib.request

from ewhtest import (EWHUB, EWNODE, EWH_PEER, NodeCase, node_main, wait_for)

REGIONS = (("a", "adria", ("RS", "HR")),
           ("b", "nordic", ("NO", "SE")),
           ("c", "baltic", ("EE", "LV")))


class FedCase(NodeCase):

    # -- the three regions --

    def hub_up(self, name, listen="tcp://127.0.0.1:*"):
        d = self.hubs[name]
        ep = os.path.join(d, "endpoint")
        if os.path.exists(ep):
            os.unlink(ep)
        p = self.start([EWHUB, "run", "--dir", d, "--listen", listen, "-v"],
                       "hub-" + name)

        def endpoint():
            try:
                with open(ep) as f:
                    return f.read().strip()
            except OSError:
                return None
        e = wait_for(endpoint, what="endpoint of hub " + name)
        self.hub_proc[name] = p
        self.endpoints[name] = e
        return p

    def peer(self, x, y):
        self.run_cmd([EWHUB, "peer", "add", "--dir", self.hubs[x], "--name",
                      self.region_of[y], "--endpoint", self.endpoints[y],
                      "--key", os.path.join(self.hubs[y], "hub.pub")])

    def world(self):
        self.hubs, self.hub_proc, self.endpoints = {}, {}, {}
        self.region_of, self.nodes, self.agents = {}, {}, {}
        for name, region, ccs in REGIONS:
            d = self.path("hub-" + name)
            self.run_cmd([EWHUB, "init", "--dir", d, "--region", region])
            with open(os.path.join(d, "ewhub.conf"), "a") as f:
                f.write("\n[monitor]\nmetrics = 127.0.0.1:0\n")
            self.hubs[name] = d
            self.region_of[name] = region
            self.hub_up(name)
            for cc in ccs:
                nd = self.node_init(cc, os.path.join(d, "hub.pub"),
                                    self.endpoints[name])
                with open(os.path.join(nd, "ewnode.conf"), "a") as f:
                    f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
                self.run_cmd([EWHUB, "enroll", "--dir", d,
                              os.path.join(nd, "node-%s.pub" % cc)])
                self.nodes[cc] = nd
        # A-B and B-C, each side enrols the other.
        for x, y in (("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")):
            self.peer(x, y)
        for cc, nd in self.nodes.items():
            self.agents[cc] = self.agent_start(nd)
        # Every node holds every other region's roster (C's reaches A
        # through B, and A's reaches C).
        for cc, nd in self.nodes.items():
            self.wait_foreign(nd, 4)

    def wait_foreign(self, nd, want):
        def ok():
            r = self.ewnode("peers", "--dir", nd, "--json", ok=False)
            if r.returncode != 0:
                return None
            j = json.loads(r.stdout)
            n = 0
            for reg in j.get("foreign", []):
                n += len(reg.get("peers", reg.get("countries", [])))
            return n >= want or None
        return wait_for(ok, timeout=60, what="foreign rosters at " + nd)

    def fed(self, name):
        """The hub's federation status (ewhub status --json)."""
        j = json.loads(self.run_cmd([EWHUB, "status", "--dir",
                                     self.hubs[name], "--json"]).stdout)
        return j["federation"]

    def wait_link_down(self, name, peer, what):
        """Until hub name's link to peer is down."""
        wait_for(lambda: [l for l in self.fed(name)["links"]
                          if l["peer"] == peer and not l["up"]] or None,
                 timeout=60, what=what)

    def counters(self, name, peer):
        for link in self.fed(name)["links"]:
            if link["peer"] == peer:
                return link["counters"]
        return {}

    def inbox_ids(self, cc):
        return [m["id"] for m in self.inbox(self.nodes[cc])]

    def assert_never(self, ccs, rid):
        for cc in ccs:
            self.assertNotIn(rid, self.inbox_ids(cc), "%s got %s" % (cc, rid))

    def store_envelope(self, name, rid):
        db = sqlite3.connect(os.path.join(self.hubs[name], "store.db"))
        try:
            row = db.execute("SELECT env FROM envelopes WHERE id = ?",
                             (bytes.fromhex(rid),)).fetchone()
        finally:
            db.close()
        return row[0] if row else None


class DistributionTest(FedCase):

    def test_distribution_receipts_canary(self):
        self.world()
        rs = self.nodes["RS"]
        canary_t = "CANARY-TITLE-7f3a9e1c"
        canary_b = "CANARY-BODY-0b5d22aa-never-at-a-hub"

        # connected: B's countries, once; never C's (RS's node would refuse
        # to address them: here B must not pass it on either).
        c1 = self.submit(rs, level="medium", to="NO,SE", category="other",
                         distribution="connected", title=canary_t,
                         body=canary_b)
        # all: through B to C.
        a1 = self.submit(rs, level="high", to="NO,EE", category="other",
                         distribution="all", title="to two regions",
                         body="onward")
        # region: addressed at home only (RS's node refuses more).
        r1 = self.submit(rs, level="low", to="HR", category="other",
                         title="at home", body="stays")
        for cc, rid in (("NO", c1), ("SE", c1), ("NO", a1), ("EE", a1),
                        ("HR", r1)):
            self.wait_inbox(self.nodes[cc], rid, timeout=60)
        # Receipts back across one link and across two.
        self.wait_recipients(rs, c1, {"NO": "delivered", "SE": "delivered"},
                             timeout=60)
        self.wait_recipients(rs, a1, {"NO": "delivered", "EE": "delivered"},
                             timeout=60)
        s = self.show_json(self.nodes["EE"], a1)
        self.assertEqual(s["distribution"], "all")
        self.assertEqual(s["origin_region"], "adria")

        # A raw origin of region A (ewh-peer, sealing what ewnode refuses
        # to seal) shows the hubs filter on their own.
        me = self.path("peer-ME")
        self.run_cmd([EWH_PEER, "keygen", "--country", "ME", "--out", me])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["a"],
                      os.path.join(me, "node-ME.pub")])
        for cc in ("NO", "EE"):
            self.wait_foreign(self.nodes[cc], 5)

        def raw(dist, to, to_pub=None, ok=True):
            argv = [EWH_PEER, "submit", "--key", os.path.join(me, "node.key"),
                    "--hub-pub", os.path.join(self.hubs["a"], "hub.pub"),
                    "--endpoint", self.endpoints["a"], "--to", to,
                    "--distribution", dist, "--env-out", me]
            if to_pub:
                argv += ["--to-pub", to_pub]
            r = self.run_cmd(argv, ok=False)
            acks = [json.loads(x) for x in r.stdout.decode().splitlines()
                    if x.strip()]
            return [x for x in acks if x.get("type") == "ack"]

        no_pub = os.path.join(self.nodes["NO"], "node-NO.pub")
        ee_pub = os.path.join(self.nodes["EE"], "node-EE.pub")
        # region, to HR and NO: HR has it, NO never; filtered at A.
        ack = raw("region", "HR", no_pub)
        self.assertEqual(ack[0]["status"], "accepted", ack)
        r2 = ack[0]["id"]
        # region, to NO alone: refused outright (reaches no one).
        ack = raw("region", "RS", no_pub)  # RS local: accepted, NO filtered
        r3 = ack[0]["id"]
        # connected, to HR and EE (two hops away): EE never; filtered at A.
        ack = raw("connected", "HR", ee_pub)
        self.assertEqual(ack[0]["status"], "accepted", ack)
        x1 = ack[0]["id"]
        self.wait_inbox(self.nodes["HR"], r2, timeout=60)
        self.wait_inbox(self.nodes["HR"], x1, timeout=60)
        self.wait_inbox(rs, r3, timeout=60)

        # All quiet: nothing waits on any link.
        def drained():
            for name in ("a", "b", "c"):
                for link in self.fed(name)["links"]:
                    if link["queued"] or link.get("in_flight"):
                        return None
            return True
        wait_for(drained, timeout=60, what="links drained")
        time.sleep(2)

        # At the recipients: exactly once, and never where not allowed.
        for cc in ("NO", "SE"):
            self.assertEqual(self.inbox_ids(cc).count(c1), 1)
        self.assertEqual(self.inbox_ids("NO").count(a1), 1)
        self.assertEqual(self.inbox_ids("EE").count(a1), 1)
        self.assert_never(("EE", "LV"), c1)
        self.assert_never(("NO", "SE", "EE", "LV"), r1)
        self.assert_never(("NO", "SE", "EE", "LV"), r2)
        self.assert_never(("NO", "SE", "EE", "LV"), r3)
        self.assert_never(("NO", "SE", "EE", "LV"), x1)

        # ME was told which recipients were not reached (NO twice, EE).
        db = sqlite3.connect(os.path.join(self.hubs["a"], "store.db"))
        try:
            n = db.execute("SELECT count(*) FROM relay WHERE country = 'ME'"
                           " AND kind = 2").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 3)

        # In the counters: A sent c1, a1 to B; filtered r2, r3 (region)
        # and x1 (connected does not reach baltic) before queuing.
        ab = self.counters("a", "nordic")
        self.assertEqual(ab.get("sent"), 2, ab)
        self.assertEqual(ab.get("filtered", {}).get("distribution"), 3, ab)
        ba = self.counters("b", "adria")
        self.assertEqual(ba.get("received"), 2, ba)
        self.assertNotIn("refused", ba)
        bc = self.counters("b", "baltic")
        self.assertEqual(bc.get("sent"), 1, bc)  # a1 only
        cb = self.counters("c", "nordic")
        self.assertEqual(cb.get("received"), 1, cb)
        self.assertEqual(self.counters("c", "nordic").get("receipts-sent"),
                         1)
        # Receipts: B relayed NO's and SE's to A, and EE's on from C (a
        # node may sign one receipt for several reports).
        self.assertGreaterEqual(ba.get("receipts-sent", 0), 2, ba)

        # B's per-country rows name RS (whose reports came in over the
        # link) as foreign, of region adria, and its own NO as enrolled.
        st = json.loads(self.run_cmd([EWHUB, "status", "--dir",
                                      self.hubs["b"], "--json"]).stdout)
        rows = {n["country"]: n for n in st["nodes"]}
        self.assertEqual((rows["RS"]["enrolled"], rows["RS"]["region"]),
                         (False, "adria"), rows["RS"])
        self.assertEqual((rows["NO"]["enrolled"], rows["NO"]["region"]),
                         (True, None), rows["NO"])
        text = self.run_cmd([EWHUB, "status", "--dir",
                             self.hubs["b"]]).stdout.decode()
        self.assertRegex(text, r"(?m)^RS +foreign ")
        self.assertNotRegex(text, r"(?m)^RS +unknown ")

        # The same figures on /metrics.
        with open(os.path.join(self.hubs["a"], "metrics_endpoint")) as f:
            mep = f.read().strip()

        def metrics():
            with urllib.request.urlopen("http://%s/metrics" % mep,
                                        timeout=10) as r:
                return r.read().decode()
        want = ('ewhub_fed_total{peer="nordic",what="filtered",'
                'reason="distribution"} 3')
        m = wait_for(lambda: want in metrics() and metrics(), timeout=30,
                     what="filtered on /metrics")
        self.assertIn('ewhub_fed_link_up{peer="nordic"} 1', m)
        self.assertIn('ewhub_fed_link_stalled{peer="nordic"} 0', m)
        self.assertIn('ewhub_fed_total{peer="nordic",what="sent",reason=""} 2',
                      m)

        # The canary is nowhere at any hub: stores, WALs, logs.
        files = []
        for d in self.hubs.values():
            files += glob.glob(os.path.join(d, "*"))
        files += glob.glob(self.path("hub-*.log"))
        for path in files:
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                for c in (canary_t, canary_b):
                    self.assertNotIn(c.encode(), data, path)
        # ... and is at the recipients.
        self.assertEqual(self.show_json(self.nodes["NO"], c1)["title"],
                         canary_t)

        # The receiving hub refuses what a lying peer sends: B's key,
        # pretending to pass x1 (connected, adria) on to C.
        env = self.store_envelope("a", x1)
        self.assertIsNotNone(env)
        envf = self.path("x1.env")
        with open(envf, "wb") as f:
            f.write(env)

        def fedsend(path, env=envf):
            r = self.run_cmd([EWH_PEER, "fedsend", "--key",
                              os.path.join(self.hubs["b"], "hub.key"),
                              "--hub-pub",
                              os.path.join(self.hubs["c"], "hub.pub"),
                              "--endpoint", self.endpoints["c"],
                              "--region", "nordic", "--env-in", env,
                              "--path", path, "--timeout", "30"])
            return json.loads(r.stdout.decode().splitlines()[-1])
        # honest path: connected may not go a second hop
        a = fedsend("adria,nordic")
        self.assertEqual((a["status"], a["code"]), ("refused",
                                                     "distribution"), a)
        # a path that hides the first hop
        a = fedsend("nordic")
        self.assertEqual(a["status"], "refused", a)
        # a path that does not end with the sender
        a = fedsend("adria")
        self.assertEqual(a["status"], "refused", a)
        # bytes that are no envelope at all
        junk = self.path("junk.env")
        with open(junk, "wb") as f:
            f.write(os.urandom(300))
        a = fedsend("adria,nordic", env=junk)
        self.assertEqual(a["status"], "refused", a)
        time.sleep(1)
        self.assert_never(("EE", "LV"), x1)
        cb = self.counters("c", "nordic")
        self.assertEqual(sum(cb.get("refused", {}).values()), 4, cb)
        self.assertEqual(cb["refused"].get("distribution"), 2, cb)
        # C's link from the honest B still works: nothing was cut.
        self.assertTrue([l for l in self.fed("c")["links"]
                         if l["peer"] == "nordic" and l["up"]])


class ForgeryTest(FedCase):

    def test_unendorsed_key_refused(self):
        self.world()
        # B's operator enrols a new key for NO that NO's key did not
        # endorse (a compromised or lying hub).
        fake = self.path("fake-NO")
        self.run_cmd([EWH_PEER, "keygen", "--country", "NO", "--out", fake])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["b"],
                      os.path.join(fake, "node-NO.pub")])
        # A sees B's new roster and keeps NO's pinned key.
        wait_for(lambda: self.counters("a", "nordic").get(
            "roster-refused", {}).get("unendorsed-key"),
            timeout=60, what="unendorsed key noticed at A")
        # A report "from NO" with that key, connected, to SE and RS.
        rs_pub = os.path.join(self.nodes["RS"], "node-RS.pub")
        r = self.run_cmd([EWH_PEER, "submit", "--key",
                          os.path.join(fake, "node.key"), "--hub-pub",
                          os.path.join(self.hubs["b"], "hub.pub"),
                          "--endpoint", self.endpoints["b"], "--to", "SE",
                          "--to-pub", rs_pub, "--distribution", "connected",
                          "--title", "forged"])
        acks = [json.loads(x) for x in r.stdout.decode().splitlines()
                if x.strip() and json.loads(x).get("type") == "ack"]
        self.assertEqual(acks[0]["status"], "accepted")
        fid = acks[0]["id"]
        # B sends it; A refuses it: NO's signature under a key not pinned.
        wait_for(lambda: self.counters("a", "nordic").get("refused"),
                 timeout=60, what="refusal at A")
        ref = self.counters("a", "nordic")["refused"]
        self.assertEqual(ref, {"bad-signature": 1}, ref)
        self.assertEqual(self.counters("b", "adria").get(
            "refused-by-peer"), {"bad-signature": 1})
        time.sleep(1)
        self.assert_never(("RS", "HR"), fid)
        # B tells the (forged) origin that RS was not reached: a
        # Notice{REFUSED} queued for NO.
        db = sqlite3.connect(os.path.join(self.hubs["b"], "store.db"))
        try:
            n = db.execute("SELECT count(*) FROM relay WHERE country = 'NO'"
                           " AND kind = 2").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 1)


class NoticeTest(FedCase):

    def test_expiry_two_hops_away_reaches_the_origin(self):
        self.world()
        rs = self.nodes["RS"]
        # C is away: B holds RS's report for baltic until it expires, and
        # says so back across the link to A, which tells RS.
        self.hub_proc["c"].kill()
        self.wait_link_down("b", "baltic", "B's link to C down")
        rid = self.submit(rs, level="medium", to="NO,EE", category="other",
                          distribution="all", title="short-lived",
                          body="expires at B", expires="6s")
        self.wait_inbox(self.nodes["NO"], rid, timeout=60)
        self.wait_recipients(rs, rid, {"NO": "delivered", "EE": "expired"},
                             timeout=90)
        # (RS's node would mark EE expired by itself at the expiry: the
        # counters show it came across the links.)
        wait_for(lambda: self.counters("b", "baltic").get("expired") == 1,
                 timeout=30, what="expired at B")
        wait_for(lambda: self.counters("b", "adria").get("notices-sent")
                 == 1, timeout=30, what="notice sent from B to A")
        wait_for(lambda: self.counters("a", "nordic").get(
            "notices-received") == 1, timeout=30, what="notice at A")
        db = sqlite3.connect(os.path.join(self.hubs["a"], "store.db"))
        try:
            n = db.execute("SELECT count(*) FROM relay WHERE country = 'RS'"
                           " AND kind = 2").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 1)  # A relayed B's notice to RS
        self.hub_up("c", listen=self.endpoints["c"])
        time.sleep(3)
        self.assert_never(("EE", "LV"), rid)


class RekeyTest(FedCase):

    def test_endorsed_rekeys_followed_across_regions(self):
        self.world()
        no = self.nodes["NO"]
        # A is away while NO re-keys twice at B (each endorsed by the key
        # before): A must follow the chain back to the key it pinned.
        self.hub_proc["a"].kill()
        for _ in range(2):
            r = self.ewnode("rekey", "--dir", no)
            fp = re.search(r"new fingerprint: (\S+)",
                           r.stdout.decode()).group(1)
            self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["b"],
                          os.path.join(no, "node-NO.pub.new")])
            wait_for(lambda: "re-keyed: now using fingerprint " + fp
                     in self.agents["NO"].logtext(), 60,
                     what="NO switched to " + fp)
        self.hub_up("a", listen=self.endpoints["a"])
        rid = self.submit(no, level="medium", to="RS", category="other",
                          distribution="connected", title="after two "
                          "re-keys", body="signed with the third key")
        self.wait_inbox(self.nodes["RS"], rid, timeout=60)
        ab = self.counters("a", "nordic")
        self.assertNotIn("roster-refused", ab)
        self.assertNotIn("refused", ab)


class PeerCommandTest(FedCase):

    def test_peer_add_remove_list(self):
        a, b = self.path("a"), self.path("b")
        r = self.run_cmd([EWHUB, "init", "--dir", a, "--region", "adria"])
        self.assertIn(b"region adria", r.stdout)
        r = self.run_cmd([EWHUB, "init", "--dir", b, "--region", "nordic"])
        fp_b = [x.split(":", 1)[1].strip() for x in
                r.stdout.decode().splitlines()
                if x.startswith("hub fingerprint:")][0]
        r = self.run_cmd([EWHUB, "init", "--dir", self.path("c"),
                          "--region", "Nordic!"], ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(self.path("c", "hub.key")))
        bpub = os.path.join(b, "hub.pub")

        def add(*extra, ok=True, name="nordic", ep="tcp://127.0.0.1:7799",
                key=bpub):
            return self.run_cmd([EWHUB, "peer", "add", "--dir", a, "--name",
                                 name, "--endpoint", ep, "--key", key]
                                + list(extra), ok=ok)
        # Bad input: a clear error and nothing stored.
        self.assertEqual(add(name="Nordic!", ok=False).returncode, 2)
        self.assertEqual(add(ep="127.0.0.1:7799", ok=False).returncode, 2)
        r = add(name="adria", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"own region", r.stderr)
        r = add(key=os.path.join(a, "hub.pub"), ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"own key", r.stderr)
        node = self.path("peer-NO")
        self.run_cmd([EWH_PEER, "keygen", "--country", "NO", "--out", node])
        r = add(key=os.path.join(node, "node-NO.pub"), ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not a hub identity", r.stderr)
        j = json.loads(self.run_cmd([EWHUB, "peer", "list", "--dir", a,
                                     "--json"]).stdout)
        self.assertEqual(j, {"region": "adria", "peers": []})
        # Added: the fingerprint printed is the one B's operator reads.
        r = add()
        self.assertIn(fp_b.encode(), r.stdout)
        self.assertIn(b"added peer nordic", r.stdout)
        r = add(ep="tcp://127.0.0.1:7800")
        self.assertIn(b"updated peer nordic", r.stdout)
        j = json.loads(self.run_cmd([EWHUB, "peer", "list", "--dir", a,
                                     "--json"]).stdout)
        self.assertEqual(len(j["peers"]), 1)
        p = j["peers"][0]
        self.assertEqual((p["region"], p["endpoint"], p["fingerprint"],
                          p["queued"]),
                         ("nordic", "tcp://127.0.0.1:7800", fp_b, 0))
        r = self.run_cmd([EWHUB, "peer", "remove", "--dir", a, "baltic"],
                         ok=False)
        self.assertEqual(r.returncode, 1)
        r = self.run_cmd([EWHUB, "peer", "remove", "--dir", a, "nordic"])
        self.assertIn(b"0 queued transfers", r.stdout)
        j = json.loads(self.run_cmd([EWHUB, "peer", "list", "--dir", a,
                                     "--json"]).stdout)
        self.assertEqual(j["peers"], [])

    def test_unpeer_drops_queued(self):
        self.world()
        rs = self.nodes["RS"]
        # B is down: what A accepts for it waits at A, unsent.
        self.hub_proc["b"].kill()

        self.wait_link_down("a", "nordic", "A's link to B down")
        rid = self.submit(rs, level="medium", to="NO", category="other",
                          distribution="connected", title="never",
                          body="unpeered")

        def queued():
            for l in self.fed("a")["links"]:
                if l["peer"] == "nordic" and l["queued"] > 0:
                    return True
            return None
        wait_for(queued, timeout=60, what="queued for nordic at A")
        r = self.run_cmd([EWHUB, "peer", "remove", "--dir", self.hubs["a"],
                          "nordic"])
        self.assertIn(b"1 queued transfers to it dropped", r.stdout)
        wait_for(lambda: not [l for l in self.fed("a")["links"]
                              if l["peer"] == "nordic"], timeout=30,
                 what="link closed")
        self.assertEqual(self.fed("a")["former"]["nordic"]["dropped"],
                         {"unpeered": 1})
        # RS is told NO will not be reached through A, once, and it
        # stays once across a restart of A.
        self.assert_told_unpeered(rs, rid)
        self.hub_proc["a"].kill()
        self.hub_up("a", listen=self.endpoints["a"])
        self.assert_told_unpeered(rs, rid)
        self.hub_up("b", listen=self.endpoints["b"])
        time.sleep(3)
        self.assert_never(("NO", "SE"), rid)
        # B still has A enrolled: A's ZAP now refuses B's link, and B
        # says so.
        wait_for(lambda: "adria refused this hub's handshake" in
                 self.hub_proc["b"].logtext(), timeout=30,
                 what="B told its link is refused")


    WHY = ("the link to region nordic was removed at hub adria before it "
           "took the report")

    def assert_told_unpeered(self, rs, rid, want=None):
        m = self.wait_recipients(rs, rid, want or {"NO": "refused"},
                                 timeout=60)
        self.assertEqual(m["reasons"].get("NO"), self.WHY)
        wait_for(lambda: self.WHY in self.agents["RS"].logtext(),
                 timeout=30, what="RS's node logs the notice")
        self.assertEqual(self.fed("a")["former"]["nordic"]["dropped-told"],
                         {"unpeered": 1})
        db = sqlite3.connect(os.path.join(self.hubs["a"], "store.db"))
        try:
            n = db.execute("SELECT count(*) FROM relay WHERE country = 'RS'"
                           " AND kind = 2").fetchone()[0]
            st = db.execute("SELECT state FROM fed_out WHERE peer = "
                            "'nordic'").fetchall()
        finally:
            db.close()
        self.assertEqual(n, 1)  # one notice for RS, never made again
        self.assertEqual(st, [(5,)])  # dropped, its origin told
        time.sleep(2)
        self.assertEqual(self.agents["RS"].logtext().count(self.WHY), 1)

    def test_unpeer_while_stopped_tells_at_start(self):
        self.world()
        rs = self.nodes["RS"]
        self.hub_proc["b"].kill()
        self.wait_link_down("a", "nordic", "A's link to B down")
        rid = self.submit(rs, level="medium", to="HR,NO", category="other",
                          distribution="connected", title="never",
                          body="unpeered while A is stopped")
        wait_for(lambda: [l for l in self.fed("a")["links"]
                          if l["peer"] == "nordic" and l["queued"] > 0]
                 or None, timeout=60, what="queued for nordic at A")
        self.wait_inbox(self.nodes["HR"], rid, timeout=60)
        # A is stopped: the command drops the transfer; A tells RS when it
        # starts again (HR, reached at A, is not named).
        self.hub_proc["a"].kill()
        r = self.run_cmd([EWHUB, "peer", "remove", "--dir", self.hubs["a"],
                          "nordic"])
        self.assertIn(b"1 queued transfers to it dropped", r.stdout)
        self.hub_up("a", listen=self.endpoints["a"])
        both = {"HR": "delivered", "NO": "refused"}
        self.assert_told_unpeered(rs, rid, both)
        self.hub_proc["a"].kill()
        self.hub_up("a", listen=self.endpoints["a"])
        self.assert_told_unpeered(rs, rid, both)

    def test_unpeer_tells_a_foreign_origin(self):
        self.world()
        rs = self.nodes["RS"]
        # C is away: B holds RS's report for EE; B's operator removes the
        # link to C, and B tells RS back across the link to A.
        self.hub_proc["c"].kill()
        self.wait_link_down("b", "baltic", "B's link to C down")
        rid = self.submit(rs, level="medium", to="NO,EE", category="other",
                          distribution="all", title="never",
                          body="unpeered two hops away")
        self.wait_inbox(self.nodes["NO"], rid, timeout=60)
        wait_for(lambda: [l for l in self.fed("b")["links"]
                          if l["peer"] == "baltic" and l["queued"] > 0]
                 or None, timeout=60, what="queued for baltic at B")
        r = self.run_cmd([EWHUB, "peer", "remove", "--dir", self.hubs["b"],
                          "baltic"])
        self.assertIn(b"1 queued transfers to it dropped", r.stdout)
        why = ("the link to region baltic was removed at hub nordic before "
               "it took the report")
        m = self.wait_recipients(rs, rid, {"NO": "delivered",
                                           "EE": "refused"}, timeout=90)
        self.assertEqual(m["reasons"].get("EE"), why)
        self.assertEqual(self.fed("b")["former"]["baltic"]["dropped-told"],
                         {"unpeered": 1})
        wait_for(lambda: self.counters("a", "nordic").get(
            "notices-received") == 1, timeout=30, what="notice at A")
        wait_for(lambda: self.counters("b", "adria").get("notices-sent")
                 == 1, timeout=30, what="notice acknowledged by A")
        time.sleep(2)
        self.assertEqual(self.agents["RS"].logtext().count(why), 1)


class OrderTest(FedCase):

    def test_high_first_on_the_link(self):
        self.world()
        rs = self.nodes["RS"]
        self.hub_proc["b"].kill()
        self.wait_link_down("a", "nordic", "A's link to B down")
        lows = [self.submit(rs, level="low", to="NO", category="other",
                            distribution="connected", title="low %d" % i,
                            body="l") for i in range(4)]
        high = self.submit(rs, level="high", to="NO", category="other",
                           distribution="connected", title="high",
                           body="h")
        wait_for(lambda: [l for l in self.fed("a")["links"]
                          if l["peer"] == "nordic" and l["queued"] == 5]
                 or None, timeout=60, what="five queued at A")
        self.hub_up("b", listen=self.endpoints["b"])
        for r in lows + [high]:
            self.wait_inbox(self.nodes["NO"], r, timeout=60)
        # B stored them in the order they crossed the link: the high one,
        # queued last, crossed first.
        db = sqlite3.connect(os.path.join(self.hubs["b"], "store.db"))
        try:
            order = [bytes(r[0]).hex() for r in db.execute(
                "SELECT id FROM envelopes ORDER BY rowid")]
        finally:
            db.close()
        mine = [x for x in order if x in lows + [high]]
        self.assertEqual(mine[0], high, mine)
        self.assertEqual(mine[1:], lows)


class ExpiryTest(FedCase):

    def test_expires_while_queued_for_the_link(self):
        self.world()
        me = self.path("peer-ME")
        self.run_cmd([EWH_PEER, "keygen", "--country", "ME", "--out", me])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["a"],
                      os.path.join(me, "node-ME.pub")])
        self.wait_foreign(self.nodes["NO"], 5)
        self.hub_proc["b"].kill()
        self.wait_link_down("a", "nordic", "A's link to B down")
        r = self.run_cmd([EWH_PEER, "submit", "--key",
                          os.path.join(me, "node.key"), "--hub-pub",
                          os.path.join(self.hubs["a"], "hub.pub"),
                          "--endpoint", self.endpoints["a"], "--to", "HR",
                          "--to-pub", os.path.join(self.nodes["NO"],
                                                   "node-NO.pub"),
                          "--distribution", "connected", "--expires", "3"])
        ack = [json.loads(x) for x in r.stdout.decode().splitlines()
               if x.strip() and json.loads(x).get("type") == "ack"][0]
        self.assertEqual(ack["status"], "accepted")
        # It expires at A while B is away: counted, and ME is told.
        wait_for(lambda: self.counters("a", "nordic").get("expired") == 1,
                 timeout=60, what="expired on the link")
        self.hub_up("b", listen=self.endpoints["b"])
        time.sleep(3)
        self.assert_never(("NO", "SE"), ack["id"])
        link = [l for l in self.fed("a")["links"] if l["peer"] == "nordic"][0]
        self.assertEqual(link["queued"], 0)
        db = sqlite3.connect(os.path.join(self.hubs["a"], "store.db"))
        try:
            n = db.execute("SELECT count(*) FROM relay WHERE country = 'ME'"
                           " AND kind = 2").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 1)


class KillTest(FedCase):

    def link(self, name, peer):
        for l in self.fed(name)["links"]:
            if l["peer"] == peer:
                return l
        return {}

    def stream(self, victim):
        self.world()
        rs = self.nodes["RS"]
        ids = []

        def burst(n):
            for _ in range(n):
                i = len(ids)
                ids.append(self.submit(
                    rs, level=("high" if i % 5 == 0 else "medium"),
                    to="NO,SE", category="other", distribution="connected",
                    title="stream %d" % i, body="x" * 300))

        burst(8)
        # B freezes: what A accepts from now on waits on the link, durably
        # queued at A, some of it sent and never acknowledged.
        b = self.hub_proc["b"]
        b.signal(signal.SIGSTOP)
        burst(8)
        wait_for(lambda: self.link("a", "nordic").get("stalled"), timeout=60,
                 what="A's link to a frozen B shown stalled")
        self.assertGreater(self.link("a", "nordic")["queued"], 0)
        # SIGKILL of the victim in the middle of the stream, started again
        # on the same port; the stream goes on.
        self.hub_proc[victim].signal(signal.SIGKILL)
        self.hub_proc[victim].wait(10)
        if victim != "b":
            b.signal(signal.SIGCONT)
        self.hub_up(victim, listen=self.endpoints[victim])
        burst(8)
        for cc in ("NO", "SE"):
            def all_there(cc=cc):
                got = self.inbox_ids(cc)
                return all(r in got for r in ids) and got
            got = wait_for(all_there, timeout=120,
                           what="every report at " + cc)
            for r in ids:
                self.assertEqual(got.count(r), 1, (cc, r))
        for r in ids:
            self.wait_recipients(rs, r, {"NO": "delivered",
                                         "SE": "delivered"}, timeout=120)
        wait_for(lambda: not self.link("a", "nordic").get("stalled") and
                 self.link("a", "nordic").get("queued") == 0, timeout=60,
                 what="A's link drained")
        # Each stored once at B.
        db = sqlite3.connect(os.path.join(self.hubs["b"], "store.db"))
        try:
            for r in ids:
                n = db.execute("SELECT count(*) FROM envelopes WHERE id = ?",
                               (bytes.fromhex(r),)).fetchone()[0]
                self.assertEqual(n, 1)
        finally:
            db.close()

    def test_kill_origin_hub(self):
        self.stream("a")

    def test_kill_receiving_hub(self):
        self.stream("b")


if __name__ == "__main__":
    node_main()
