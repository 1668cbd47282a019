"""A compromised hub cannot swap a country's keys (issue 17,
docs/trust.md).  Real ewhub and ewnode processes; the test plays the hub
operator (or whoever holds the hub's keys and store):

- an impostor's key enrolled for HR: RS warns, refuses to seal for HR, the
  impostor reads nothing; what the impostor signs "from HR" is marked
  unverified at RS; the genuine fingerprint does not verify the impostor's
  key; after `ewnode peers verify HR <impostor>` RS sends; once the genuine
  key is back nothing the impostor's key signed is accepted at RS;
- `ewnode rekey` is accepted everywhere with no warning and no manual step;
- two rosters of one version (one shown to RS, one to HR, both signed with
  the hub's key by tests/tools/ewh-fork-roster) are caught by both as soon
  as a report and its receipt pass; a roster whose chain does not link is
  refused;
- revoked key material is not enrolled again (unless --override, which the
  nodes see as an unendorsed change);
- a store from before key continuity upgrades in place (what it held is
  trusted on first use, the next change judged against it);
- a node that has not upgraded is told what it lacks."""

import json
import os
import sqlite3
import subprocess
import time
import urllib.request

from ewhtest import EWHUB, EWNODE, NodeCase, main, wait_for

FORK = os.environ.get("EWH_FORK_ROSTER", "ewh-fork-roster")
PEER = os.environ.get("EWH_PEER", "ewh-peer")


class Trust(NodeCase):

    def setUp(self):
        super().setUp()
        self.n = self.region(["RS", "HR", "BG"])
        self.hub = self.path("hub")
        self.port = self.endpoint.rsplit(":", 1)[1]
        self.agents = {cc: self.agent_start(d) for cc, d in self.n.items()}
        for d in self.n.values():
            self.wait_ready(d)

    # ---- helpers ----

    def peers(self, cc, d=None):
        j = json.loads(self.ewnode("peers", "--dir", d or self.n[cc],
                                   "--json").stdout)
        return {p["country"]: p for p in j["peers"]}

    def trust_status(self, d):
        try:
            with open(os.path.join(d, "trust.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def log(self, cc):
        return self.agents[cc].logtext()

    def impostor(self):
        fake = self.path("impostor-HR")
        self.ewnode("init", "--dir", fake, "--country", "HR", "--hub",
                    self.endpoint, "--hub-key",
                    os.path.join(self.hub, "hub.pub"))
        with open(os.path.join(fake, "ewnode.conf"), "a") as f:
            f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
        return fake

    def set_policy(self, d, value):
        conf = os.path.join(d, "ewnode.conf")
        with open(conf) as f:
            text = f.read()
        self.assertIn("\nunverified = ", text)  # ewnode init writes it
        text = "\n".join("unverified = " + value
                         if ln.startswith("unverified = ") else ln
                         for ln in text.split("\n"))
        with open(conf, "w") as f:
            f.write(text)

    def enroll(self, pub, *extra, ok=True):
        return self.run_cmd([EWHUB, "enroll", "--dir", self.hub] +
                            list(extra) + [pub], ok=ok)

    def hub_roster(self):
        db = sqlite3.connect(os.path.join(self.hub, "store.db"), timeout=10)
        v, signed = db.execute("SELECT version, signed FROM rosters ORDER BY"
                               " version DESC LIMIT 1").fetchone()
        db.close()
        out = self.path("roster-%d.held" % v)
        with open(out, "wb") as f:
            f.write(signed)
        return v, out

    # ---- the impostor ----

    def test_impostor_key(self):
        rs, hr, bg = self.n["RS"], self.n["HR"], self.n["BG"]
        genuine_fp = self.pub_fingerprint(hr, "HR")
        self.assertTrue(self.peers("RS")["HR"]["verified"])
        fake = self.impostor()
        fake_fp = self.pub_fingerprint(fake, "HR")
        r = self.enroll(os.path.join(fake, "node-HR.pub"))
        self.assertIn(b"WARNING: not endorsed", r.stdout)
        wait_for(lambda: "WITHOUT an endorsement" in self.log("RS"), 20,
                 what="RS warning of HR's unendorsed key change")
        p = self.peers("RS")["HR"]
        self.assertFalse(p["verified"])
        self.assertEqual(p["fingerprint"], fake_fp)
        self.assertEqual(p["trust"], "unendorsed")
        self.assertIn(b"UNVERIFIED",
                      self.ewnode("peers", "--dir", rs).stdout)
        j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
        self.assertEqual([u["country"] for u in j["trust"]["unverified"]],
                         ["HR"])
        self.assertIn(b"HR is UNVERIFIED",
                      self.ewnode("outbox", "--dir", rs).stderr)
        wait_for(lambda: [u["country"] for u in
                          self.trust_status(rs).get("unverified", [])]
                 == ["HR"], 10, what="DIR/trust.json at RS")
        self.assertTrue(self.peers("BG")["RS"]["verified"])

        # The genuine HR is cut by the hub; the impostor takes its place.
        self.agents["HR"].term()
        self.agents["HRX"] = self.agent_start(fake, "agent-impostor")
        self.wait_ready(fake)

        # RS seals nothing for HR: named, it is refused; in --to all it is
        # left out, and submit says so.
        r = self.submit(rs, ok=False, to="HR", level="high",
                        category="other", title="for HR", body="secret")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"HR is unverified", r.stderr)
        r = self.ewnode("submit", "--dir", rs, "--to", "all", "--level",
                        "high", "--category", "other", "--title", "to all",
                        "--body", "the impostor must not read this")
        self.assertIn(b"left out HR", r.stderr)
        rid = r.stdout.decode().strip()
        self.wait_inbox(bg, rid)
        self.wait_recipients(rs, rid, {"BG": "delivered"})
        self.assertEqual(self.inbox(fake), [])

        # What the impostor signs "from HR" is not HR's plain word at RS.
        rid2 = self.submit(fake, to="RS", level="high", category="other",
                           title="from HR?", body="believe me")
        self.wait_inbox(rs, rid2)
        j = self.show_json(rs, rid2)
        self.assertFalse(j["origin_verified"])
        self.assertEqual(j["origin_key"], fake_fp)
        text = self.ewnode("show", "--dir", rs, rid2).stdout
        self.assertIn(b"UNVERIFIED", text)
        line = self.ewnode("inbox", "--dir", rs).stdout
        self.assertIn(b"HR?UNVERIFIED", line)

        # The officer's call: the genuine fingerprint is not this key.
        r = self.verify_peer(rs, "HR", genuine_fp, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"is not that of HR's key", r.stderr)
        self.assertFalse(self.peers("RS")["HR"]["verified"])
        # The officer chose to trust the new key: RS sends again.
        self.verify_peer(rs, "HR", fake_fp)
        self.assertTrue(self.peers("RS")["HR"]["verified"])
        rid3 = self.submit(rs, to="HR", level="low", category="other",
                           title="to the verified key", body="ok")
        self.wait_inbox(fake, rid3)

        # The impostor signs one more report while RS is away; then the
        # genuine key is restored at the hub.  Nothing the impostor's key
        # signed is accepted at RS any more.
        self.agents["RS"].term()
        rid4 = self.submit(fake, to="RS", level="high", category="other",
                           title="replayed after restore", body="x")
        self.wait_recipients(fake, rid4, {"RS": "accepted"})
        self.agents["HRX"].term()
        r = self.enroll(os.path.join(hr, "node-HR.pub"))
        self.assertIn(b"WARNING: not endorsed", r.stdout)
        self.agents["RS"] = self.agent_start(rs, "agent-RS-again")
        self.agents["HR"] = self.agent_start(hr, "agent-HR-again")
        wait_for(lambda: ("refused delivery" in self.log("RS") and
                          rid4[:8] in self.log("RS")), 30,
                 what="RS refusing the impostor's envelope")
        self.assertNotIn(rid4, [m["id"] for m in self.inbox(rs)])
        p = self.peers("RS")["HR"]
        self.assertEqual(p["fingerprint"], genuine_fp)
        self.assertFalse(p["verified"])
        self.verify_peer(rs, "HR", genuine_fp)
        rid5 = self.submit(rs, to="HR", level="high", category="other",
                           title="genuine again", body="ok")
        self.wait_inbox(hr, rid5)

    def test_warn_policy(self):
        """unverified = warn seals for an unverified peer, saying so; a
        peer in a split view stays refused (test_split_view_...)."""
        rs, bg = self.n["RS"], self.n["BG"]
        fake = self.impostor()
        self.enroll(os.path.join(fake, "node-HR.pub"))
        wait_for(lambda: not self.peers("RS")["HR"]["verified"], 20,
                 what="HR unverified at RS")
        r = self.submit(rs, ok=False, to="HR", level="low",
                        category="other", title="refused", body="x")
        self.assertNotEqual(r.returncode, 0)
        self.set_policy(rs, "warn")
        r = self.ewnode("submit", "--dir", rs, "--to", "HR", "--level",
                        "low", "--category", "other", "--title", "warned",
                        "--body", "x")
        self.assertIn(b"warning: HR is unverified", r.stderr)
        self.assertRegex(r.stdout.decode().strip(), r"^[0-9a-f]{32}$")
        self.set_policy(rs, "maybe")
        r = self.ewnode("peers", "--dir", rs, ok=False)
        self.assertIn(b"expected refuse or warn", r.stderr)

    # ---- a normal re-key ----

    def test_endorsed_rekey_no_manual_step(self):
        rs, hr, bg = self.n["RS"], self.n["HR"], self.n["BG"]
        old_fp = self.pub_fingerprint(hr, "HR")
        self.ewnode("rekey", "--dir", hr)
        new_fp = self.pub_fingerprint(hr, "HR", ".new")
        with open(os.path.join(hr, "node-HR.pub.new")) as f:
            self.assertIn("endorsement = ", f.read())
        before = self.submit(rs, to="HR", level="high", category="other",
                             title="before", body="b")
        r = self.enroll(os.path.join(hr, "node-HR.pub.new"))
        self.assertIn(b"endorsed by its previous key", r.stdout)
        for cc in ("RS", "BG"):
            wait_for(lambda: self.peers(cc)["HR"]["fingerprint"] == new_fp,
                     30, what="%s holding HR's new key" % cc)
            p = self.peers(cc)["HR"]
            self.assertTrue(p["verified"], p)
            self.assertEqual(p["trust"], "endorsed")
            self.assertIn("re-keyed %s -> %s, endorsed" % (old_fp, new_fp),
                          self.log(cc))
            self.assertNotIn("WITHOUT", self.log(cc))
            self.assertNotIn("UNVERIFIED", self.log(cc))
        self.wait_inbox(hr, before)
        after = self.submit(rs, to="HR", level="high", category="other",
                            title="after", body="a")
        self.wait_inbox(hr, after)
        back = self.submit(hr, to="RS,BG", level="medium", category="other",
                           title="from the new key", body="c")
        self.wait_inbox(rs, back)
        self.wait_inbox(bg, back)
        self.assertTrue(self.show_json(rs, back)["origin_verified"])
        self.wait_recipients(rs, after, {"HR": "delivered"})

    def test_two_rekeys_while_offline(self):
        """RS is offline while HR re-keys twice: the roster carries the
        chain back to the key RS holds, and RS follows it with no step."""
        rs, hr = self.n["RS"], self.n["HR"]
        self.agents["RS"].term()
        for i in range(2):
            self.ewnode("rekey", "--dir", hr)
            fp = self.pub_fingerprint(hr, "HR", ".new")
            r = self.enroll(os.path.join(hr, "node-HR.pub.new"))
            self.assertIn(b"endorsed by its previous key", r.stdout)
            wait_for(lambda: self.peers("HR")["HR"]["fingerprint"] == fp and
                     not os.path.exists(os.path.join(hr, "node.key.new")),
                     30, what="HR switching to its new keys")
        self.agents["RS"] = self.agent_start(rs, "agent-RS-back")
        wait_for(lambda: self.peers("RS")["HR"]["fingerprint"] == fp, 30,
                 what="RS holding HR's newest key")
        p = self.peers("RS")["HR"]
        self.assertTrue(p["verified"], p)
        self.assertIn("endorsed through 1 key(s) in between", self.log("RS"))
        self.assertNotIn("WITHOUT", self.log("RS"))
        rid = self.submit(rs, to="HR", level="high", category="other",
                          title="after two re-keys", body="x")
        self.wait_inbox(hr, rid)

    def test_reseal_never_for_unverified_key(self):
        """RS re-keys with a report still queued for HR while the hub has
        given HR an impostor's key: the report is resealed for the HR key
        RS trusts, and the impostor cannot read it."""
        rs, hr = self.n["RS"], self.n["HR"]
        self.agents["RS"].term()
        rid = self.submit(rs, to="HR", level="high", category="other",
                          title="queued before", body="for the genuine HR")
        self.agents["HR"].term()
        fake = self.impostor()
        self.enroll(os.path.join(fake, "node-HR.pub"))
        self.ewnode("rekey", "--dir", rs)
        self.enroll(os.path.join(rs, "node-RS.pub.new"))
        self.agents["HRX"] = self.agent_start(fake, "agent-impostor")
        self.wait_ready(fake)
        self.agents["RS"] = self.agent_start(rs, "agent-RS-rekeyed")
        wait_for(lambda: "WITHOUT an endorsement" in self.log("RS"), 30,
                 what="RS marking HR unverified")
        self.wait_recipients(rs, rid, {"HR": "accepted"}, timeout=60)
        wait_for(lambda: "refused delivery" in self.log("HRX"), 30,
                 what="the impostor failing to open it")
        self.assertEqual(self.inbox(fake), [])

    # ---- split views ----

    def test_split_view_caught_by_both(self):
        rs, hr = self.n["RS"], self.n["HR"]
        v, held = self.hub_roster()
        self.assertEqual(json.loads(self.ewnode(
            "peers", "--dir", rs, "--json").stdout)["version"], v)
        for cc in ("RS", "HR"):
            self.agents[cc].term()
        a, b = self.path("fork-a.bin"), self.path("fork-b.bin")
        self.run_cmd([FORK, self.hub, held, a, b])
        self.ewnode("import-roster", "--dir", rs, a)
        self.ewnode("import-roster", "--dir", hr, b)
        # Nothing passed between them yet: nobody can tell.
        for d in (rs, hr):
            self.assertNotIn(b"SPLIT", self.ewnode(
                "peers", "--dir", d).stdout)
        with open(os.path.join(rs, "ewnode.conf"), "a") as f:
            f.write("metrics = 127.0.0.1:0\n")
        self.agents["RS"] = self.agent_start(rs, "agent-RS-forked")
        self.agents["HR"] = self.agent_start(hr, "agent-HR-forked")
        rid = self.submit(rs, to="HR", level="high",
                          category="early-warning",
                          title="across the split", body="x")
        wait_for(lambda: "SPLIT VIEW" in self.log("HR"), 30,
                 what="HR catching the split view")
        wait_for(lambda: "SPLIT VIEW" in self.log("RS"), 30,
                 what="RS catching it from HR's receipt")
        self.assertIn("RS's envelope names roster version %d" % (v + 1),
                      self.log("HR"))
        self.assertIn("HR's receipt names roster version %d" % (v + 1),
                      self.log("RS"))
        for d, other, what in ((hr, "RS", "envelope"), (rs, "HR",
                                                         "receipt")):
            r = self.ewnode("audit", "--dir", d, ok=False)
            self.assertEqual(r.returncode, 1, r)
            self.assertIn(("SPLIT VIEW: %s's %s" % (other, what)).encode(),
                          r.stdout)
        self.assertEqual(self.peers("RS")["HR"]["trust"], "split-view")
        j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
        self.assertEqual(j["trust"]["split_views"], 1)
        # the node's status file and metrics, for monitoring
        wait_for(lambda: self.trust_status(rs).get("split_views") == 1, 10,
                 what="DIR/trust.json at RS")
        with open(os.path.join(rs, "metrics_endpoint")) as f:
            ep = f.read().strip()
        wait_for(lambda: "\newnode_split_views 1\n" in
                 urllib.request.urlopen("http://%s/metrics" % ep,
                                        timeout=10).read().decode(), 10,
                 what="ewnode_split_views 1 at RS")
        self.assertEqual(self.peers("HR")["RS"]["trust"], "split-view")
        # The keys in dispute: RS seals nothing more for HR.
        r = self.submit(rs, ok=False, to="HR", level="high",
                        category="early-warning", title="no", body="no")
        self.assertIn(b"split-view", r.stderr)
        db = sqlite3.connect(os.path.join(rs, "store.db"))
        n, = db.execute("SELECT count(*) FROM split_view WHERE country = 'HR'"
                        " AND length(our_roster) > 0 AND"
                        " length(peer_signed) > 0").fetchone()
        db.close()
        self.assertEqual(n, 1)
        self.assertIn(rid, [m["id"] for m in self.inbox(hr)])

    def test_split_view_caught_later(self):
        """RS is shown version v+1 first; its report reaches HR, still at
        v.  When the hub later shows HR another v+1, HR compares it with
        the head RS signed and catches the split."""
        rs, hr = self.n["RS"], self.n["HR"]
        v, held = self.hub_roster()
        self.agents["RS"].term()
        a, b = self.path("fork-a.bin"), self.path("fork-b.bin")
        self.run_cmd([FORK, self.hub, held, a, b])
        self.ewnode("import-roster", "--dir", rs, a)
        self.agents["RS"] = self.agent_start(rs, "agent-RS-ahead")
        rid = self.submit(rs, to="HR", level="high",
                          category="early-warning", title="ahead", body="x")
        self.wait_inbox(hr, rid)
        self.assertNotIn("SPLIT", self.log("HR"))
        self.agents["HR"].term()
        r = self.ewnode("import-roster", "--dir", hr, b)
        self.assertIn(b"SPLIT VIEW: RS's envelope names roster version %d"
                      % (v + 1), r.stderr)
        r = self.ewnode("audit", "--dir", hr, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"SPLIT VIEW: RS's envelope", r.stdout)
        self.assertEqual(self.peers("HR")["RS"]["trust"], "split-view")

    def test_config_change_while_stopped_is_a_new_version(self):
        """The hub signs each version once: new categories set while it
        was stopped make a new version (linked to the last), never a
        second roster of the same version."""
        rs = self.n["RS"]
        v, _ = self.hub_roster()
        self.assertEqual(self.hub_proc.term(), 0)
        conf = os.path.join(self.hub, "ewhub.conf")
        with open(conf) as f:
            text = f.read()
        text = text.replace("[roster]\n",
                            "[roster]\ncategories = early-warning, other\n",
                            1)
        with open(conf, "w") as f:
            f.write(text)
        self.hub_start(port=self.port, name="hub-new-categories")
        self.wait_ready(rs, v + 1)
        j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
        self.assertEqual(j["categories"], ["early-warning", "other"])
        db = sqlite3.connect(os.path.join(self.hub, "store.db"), timeout=10)
        versions = [r[0] for r in db.execute(
            "SELECT version FROM rosters ORDER BY version")]
        db.close()
        self.assertEqual(versions, sorted(set(versions)))
        self.assertIn(v + 1, versions)
        self.assertNotIn("SPLIT", self.log("RS"))
        self.assertNotIn("refused roster", self.log("RS"))

    def test_unlinked_chain_refused(self):
        rs = self.n["RS"]
        v, held = self.hub_roster()
        bad = self.path("unlinked.bin")
        self.run_cmd([FORK, "--unlinked", self.hub, held, bad])
        r = self.ewnode("import-roster", "--dir", rs, bad, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"does not link", r.stderr)
        j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
        self.assertEqual(j["version"], v)
        r = self.ewnode("audit", "--dir", rs, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"the hub signed two rosters of version %d" % v,
                      r.stdout)

    # ---- revocation sticks ----

    def test_revoked_key_not_enrolled_again(self):
        rs, hr = self.n["RS"], self.n["HR"]
        self.run_cmd([EWHUB, "revoke", "--dir", self.hub, "HR"])
        r = self.enroll(os.path.join(hr, "node-HR.pub"), ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"revoked", r.stderr)
        # An endorsement by the revoked key does not lift the revocation
        # silently: the new keys enter as an unendorsed change.
        self.ewnode("rekey", "--dir", hr)
        r = self.enroll(os.path.join(hr, "node-HR.pub.new"))
        self.assertIn(b"WARNING: not endorsed", r.stdout)
        self.assertIn(b"revocation lifted", r.stdout)
        wait_for(lambda: not self.peers("RS")["HR"]["verified"] and
                 self.peers("RS")["HR"]["fingerprint"] ==
                 self.pub_fingerprint(hr, "HR", ".new"), 30,
                 what="RS marking HR unverified")
        # The old (revoked) keys: only with --override, logged.
        self.run_cmd([EWHUB, "revoke", "--dir", self.hub, "HR"])
        r = self.enroll(os.path.join(hr, "node-HR.pub"), ok=False)
        self.assertNotEqual(r.returncode, 0)
        r = self.enroll(os.path.join(hr, "node-HR.pub"), "--override")
        self.assertIn(b"--override", r.stderr)
        wait_for(lambda: self.peers("RS")["HR"]["fingerprint"] ==
                 self.pub_fingerprint(hr, "HR"), 30,
                 what="RS holding the overridden key")
        self.assertFalse(self.peers("RS")["HR"]["verified"])

    # ---- upgrade in place, and a node that has not upgraded ----

    def test_store_upgrade_in_place(self):
        rs = self.n["RS"]
        self.agents["RS"].term()
        db = sqlite3.connect(os.path.join(rs, "store.db"))
        with db:
            for t in ("peer_trust", "peer_keys", "roster_heads",
                      "split_view", "unverified"):
                db.execute("DROP TABLE %s" % t)
        db.close()
        # An older store sealed for what it held, as before.
        rid = self.submit(rs, to="HR", level="low", category="other",
                          title="old store", body="x")
        self.agents["RS"] = self.agent_start(rs, "agent-RS-upgraded")
        self.wait_inbox(self.n["HR"], rid)
        fake = self.impostor()
        self.enroll(os.path.join(fake, "node-HR.pub"))
        wait_for(lambda: "WITHOUT an endorsement" in self.log("RS"), 20,
                 what="the upgraded RS judging HR's change")
        self.assertIn("held before the upgrade", self.log("RS"))
        self.assertFalse(self.peers("RS")["HR"]["verified"])
        self.assertTrue(self.peers("RS")["BG"]["verified"])

    def test_hub_store_upgrade_in_place(self):
        """A hub store from before the chain (no signed rosters kept, no
        chain mark): the new hub's first roster is a new version, so that
        it never signs a second roster of a version the old hub signed."""
        v, _ = self.hub_roster()
        self.assertEqual(self.hub_proc.term(), 0)
        db = sqlite3.connect(os.path.join(self.hub, "store.db"))
        with db:
            db.execute("DELETE FROM rosters")
            db.execute("DELETE FROM meta WHERE k = 'roster_chain'")
        db.close()
        self.hub_start(port=self.port, name="hub-upgraded")
        db = sqlite3.connect(os.path.join(self.hub, "store.db"), timeout=10)
        got = wait_for(lambda: db.execute(
            "SELECT min(version) FROM rosters").fetchone()[0], 10,
            what="the upgraded hub's first roster")
        db.close()
        self.assertEqual(got, v + 1)

    def test_node_not_upgraded_is_told(self):
        peer = self.path("old-BG")
        os.makedirs(peer)
        bg = self.n["BG"]
        self.agents["BG"].term()
        r = subprocess.run([PEER, "recv", "--key",
                            os.path.join(bg, "node.key"), "--hub-pub",
                            os.path.join(self.hub, "hub.pub"), "--endpoint",
                            self.endpoint, "--old-node", "--timeout", "3"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        out = r.stdout.decode() + r.stderr.decode()
        self.assertIn("has not upgraded", out)
        self.assertIn("key continuity", out)
        wait_for(lambda: "BG has not upgraded" in self.hub_proc.logtext(),
                 10, what="the hub's warning")


if __name__ == "__main__":
    main()
