"""An enrolled but misbehaving node, played with ewh-peer against a real
ewhub: replays another country's envelope as its own, resubmits an old
envelope, sends receipts for reports not addressed to it or on behalf of
another country, acknowledges another country's deliveries, floods far
beyond its rate limit while another country's high reports still arrive,
sends one huge multipart message, and addresses a country the hub does
not know.  (Forged origin, a revoked
recipient, duplicates and the rate-limit refusal itself are in
tests/hub/test_submit.py.)"""

import glob
import os
import sqlite3

from ewhtest import HubCase, main, of_type, wait_for


def db_count(hubdir, sql, *args):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(hubdir,
                                                             "store.db"),
                          uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


class Misbehave(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def submit(self, cc, *args, ok=True):
        return self.peer("submit", self.peers[cc], self.hubdir, *args,
                         ok=ok)[1]

    def test_replays_another_countrys_envelope_as_its_own(self):
        # BG sends to RS and HR; RS captures the envelope it was delivered.
        [ack] = of_type(self.submit("BG", "--to", "RS,HR"), "ack")
        self.assertEqual(ack["status"], "accepted")
        cap = self.path("captured")
        os.makedirs(cap)
        rc, got = self.peer("recv", self.peers["RS"], self.hubdir, "--count",
                            "1", "--env-out", cap)
        [env] = glob.glob(os.path.join(cap, "*.env"))
        rc, got = self.peer("recv", self.peers["HR"], self.hubdir, "--count",
                            "1")
        self.assertEqual([(x["origin"], x["opened"])
                          for x in of_type(got, "deliver")], [("BG", True)])
        # Replayed by RS (and by HR) as its own: refused, stored once.
        for cc in ("RS", "HR"):
            [ack] = of_type(self.submit(cc, "--env-in", env), "ack")
            self.assertEqual((ack["status"], ack["code"], ack["retry"]),
                             ("refused", "wrong-origin", False), ack)
            self.assertIn("authenticated country " + cc, ack["reason"])
            wait_for(lambda: "refused submit from=%s" % cc in
                     self.hub.logtext(), 5, what="refusal logged")
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                  "envelopes"), 1)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM queue"),
                         2)
        # Nothing new for anyone.
        for cc in ("RS", "HR"):
            rc, got = self.peer("recv", self.peers[cc], self.hubdir,
                                "--idle", "1.5")
            self.assertEqual(of_type(got, "deliver"), [])

    def test_resubmits_an_old_delivered_envelope(self):
        envdir = self.path("env")
        os.makedirs(envdir)
        self.submit("RS", "--to", "HR", "--env-out", envdir)
        [env] = glob.glob(os.path.join(envdir, "*.env"))
        rc, got = self.peer("recv", self.peers["HR"], self.hubdir, "--count",
                            "1")
        wait_for(lambda: self.node_status(self.hubdir, "HR")["queued"]
                 ["total"] == 0, 10, what="delivery done")
        # Long after delivery, from a new connection, many times.
        acks = of_type(self.submit("RS", "--env-in", env, "--count", "5"),
                       "ack")
        self.assertEqual([a["status"] for a in acks], ["duplicate"] * 5)
        rc, got = self.peer("recv", self.peers["HR"], self.hubdir, "--idle",
                            "2")
        self.assertEqual(of_type(got, "deliver"), [])
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM queue"),
                         1)

    def forge(self, cc, *args):
        rc, lines = self.peer("forge", self.peers[cc], self.hubdir, *args)
        return lines

    def test_receipts_not_its_own(self):
        [ack] = of_type(self.submit("RS", "--to", "HR"), "ack")
        rid = ack["id"]
        bg_key = os.path.join(self.peers["BG"], "node.key")
        hr_key = os.path.join(self.peers["HR"], "node.key")
        # BG acknowledges a report that was not addressed to it: refused
        # for good, named by its ids (so an honest node would stop
        # resending it), not an anonymous error.
        got = self.forge("BG", "--receipt-id", rid, "--origin", "RS",
                         "--kind", "acknowledged")
        self.assertEqual(of_type(got, "error"), [])
        [e] = of_type(got, "receipt_ack")
        self.assertEqual((e["ids"], e["code"]), ([rid], "not-addressed"))
        self.assertIn("BG is not a recipient", e["refused"])
        # BG claims to be HR (signed with BG's key): refused.
        [e] = of_type(self.forge("BG", "--receipt-id", rid, "--origin", "RS",
                                 "--from", "HR"), "error")
        self.assertIn("sent by authenticated country BG", e["reason"])
        # Even with HR's real signing key, over BG's connection: refused.
        [e] = of_type(self.forge("BG", "--receipt-id", rid, "--origin", "RS",
                                 "--seal-key", hr_key, "--kind",
                                 "acknowledged"), "error")
        self.assertIn("sent by authenticated country BG", e["reason"])
        # HR (a real recipient) naming the wrong origin: refused.
        [e] = of_type(self.forge("HR", "--receipt-id", rid, "--origin",
                                 "BG"), "receipt_ack")
        self.assertEqual(e["code"], "wrong-origin")
        self.assertIn("is from RS", e["refused"])
        # A receipt signed by BG's key for HR's id over HR's connection
        # (a stolen receipt key is not HR's): bad signature.
        [e] = of_type(self.forge("HR", "--receipt-id", rid, "--origin", "RS",
                                 "--seal-key", bg_key, "--from", "HR"),
                      "error")
        self.assertTrue(e["reason"], e)
        self.assertEqual(self.hub.logtext().count(
            "refused receipt from=BG"), 3)
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM receipts"), 0)
        # RS, the origin, is relayed nothing.
        rc, got = self.peer("recv", self.peers["RS"], self.hubdir, "--idle",
                            "2")
        self.assertEqual(of_type(got, "receipt"), [])
        self.assertTrue(self.hub.alive())

    def test_receipt_for_several_reports(self):
        """One receipt names several reports (agents sign one per origin
        per turn): each must be addressed to the sender and come from the
        origin it names, or nothing of it is stored."""
        [a1] = of_type(self.submit("RS", "--to", "HR"), "ack")
        [a2] = of_type(self.submit("RS", "--to", "HR,BG"), "ack")
        [a3] = of_type(self.submit("RS", "--to", "BG"), "ack")
        [b1] = of_type(self.submit("BG", "--to", "HR"), "ack")
        ids = lambda *acks: ",".join(a["id"] for a in acks)
        # One of three not addressed to HR: the whole receipt refused, for
        # good, named by all its ids.
        [e] = of_type(self.forge("HR", "--receipt-id", ids(a1, a2, a3),
                                 "--origin", "RS"), "receipt_ack")
        self.assertEqual(e["ids"], [a1["id"], a2["id"], a3["id"]])
        self.assertIn("HR is not a recipient of " + a3["id"], e["refused"])
        # One from another origin: refused.
        [e] = of_type(self.forge("HR", "--receipt-id", ids(a1, b1),
                                 "--origin", "RS"), "receipt_ack")
        self.assertIn("%s is from BG" % b1["id"], e["refused"])
        # A report named twice: refused as malformed.
        [e] = of_type(self.forge("HR", "--receipt-id", ids(a1, a2, a1),
                                 "--origin", "RS"), "error")
        self.assertIn("names a report twice", e["reason"])
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM receipts"), 0)
        # Both of HR's reports from RS: stored for each, acknowledged with
        # both ids, relayed to RS once as the one signed receipt.
        got = self.forge("HR", "--receipt-id", ids(a1, a2), "--origin", "RS")
        self.assertEqual(of_type(got, "error"), [])
        [k] = of_type(got, "receipt_ack")
        self.assertEqual(k["ids"], [a1["id"], a2["id"]])
        self.assertNotIn("refused", k)
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM receipts WHERE "
                                  "from_cc = 'HR'"), 2)
        # Sent again (a resend after a lost ack): acknowledged, nothing new.
        [k] = of_type(self.forge("HR", "--receipt-id", ids(a2, a1),
                                 "--origin", "RS"), "receipt_ack")
        self.assertEqual(k["ids"], [a2["id"], a1["id"]])
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM receipts"), 2)
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM relay WHERE "
                                  "kind = 1"), 1)
        rc, got = self.peer("recv", self.peers["RS"], self.hubdir, "--idle",
                            "2")
        [r] = of_type(got, "receipt")
        self.assertTrue(r["verified"], r)
        self.assertEqual((r["ids"], r["from"], r["kind"]),
                         ([a1["id"], a2["id"]], "HR", "delivered"))

    def test_acknowledges_another_countrys_deliveries(self):
        acks = of_type(self.submit("RS", "--to", "HR", "--count", "3"),
                       "ack")
        ids = [a["id"] for a in acks]
        self.assertEqual(len(ids), 3)
        # BG acknowledges every seq it can guess, with the all-zero id that
        # matches by seq alone.
        self.forge("BG", "--ack-seq", "0:500", "--idle", "1")
        wait_for(lambda: "HR" in [n["country"] for n in
                                  self.status(self.hubdir)["nodes"]], 10)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM queue "
                                  "WHERE state = 0"), 3)
        self.assertEqual(self.node_status(self.hubdir, "HR")["queued"]
                         ["total"], 3)
        rc, got = self.peer("recv", self.peers["HR"], self.hubdir, "--count",
                            "3")
        self.assertEqual(sorted(d["id"] for d in of_type(got, "deliver")),
                         sorted(ids))

    def test_multipart_message(self):
        # Each part under max_frame_bytes, 10 MB in all: dropped whole,
        # counted and logged; the hub goes on serving everyone.
        lines = self.forge("RS", "--multipart", "50", "--part-bytes",
                           "200000", "--idle", "1")
        self.assertEqual(len(of_type(lines, "multipart_sent")), 1)
        wait_for(lambda: "multipart message of 50 parts, 10000000 bytes" in
                 self.hub.logtext(), 20, what="multipart refusal logged")
        self.assertRegex(self.hub.logtext(),
                         r"refused frame from=RS reason=\"multipart")
        [ack] = of_type(self.submit("RS", "--to", "HR"), "ack")
        self.assertEqual(ack["status"], "accepted")
        self.assertTrue(self.hub.alive())

    def test_unknown_recipient(self):
        stranger = self.peer_keygen("MK")  # never enrolled
        lines = self.submit("RS", "--to", "HR", "--to-pub",
                            os.path.join(stranger, "node-MK.pub"))
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"], ack["retry"]),
                         ("refused", "unknown", False), ack)
        self.assertIn("MK is not enrolled", ack["reason"])
        # A stale key for an enrolled country does not get through either:
        # BG's envelope wrapped for a fake "HR" key is still addressed to
        # HR, and HR simply cannot open the wrapped key meant for another.
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                  "envelopes"), 0)
        self.assertIn("refused submit from=RS", self.hub.logtext())


class OldEnvelope(HubCase):

    def test_resubmits_after_retention_removed_it(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR"], conf="[retention]\ndelivered = 2s\nexpired = 2s")
        envdir = self.path("env-ret")
        os.makedirs(envdir)
        self.peer("submit", peers["RS"], hubdir, "--to", "HR", "--env-out",
                  envdir)
        [env] = glob.glob(os.path.join(envdir, "*.env"))
        self.peer("recv", peers["HR"], hubdir, "--count", "1")
        wait_for(lambda: db_count(hubdir, "SELECT count(*) FROM envelopes "
                                  "WHERE length(env) = 0") == 1, 30,
                 what="retention removing the delivered envelope")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--env-in", env,
                              "--count", "3")
        self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                         ["duplicate"] * 3)
        rc, got = self.peer("recv", peers["HR"], hubdir, "--idle", "1.5")
        self.assertEqual(of_type(got, "deliver"), [])
        self.assertEqual(db_count(hubdir, "SELECT count(*) FROM audit"), 1)


class Flood(HubCase):

    def test_flood_beyond_rate_limit(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR", "BG"], conf="[limits]\nsubmits_per_second = 50")
        bg = self.peer_start("recv", peers["BG"], hubdir, "--credit", "4",
                             "--timeout", "90", name="recv-BG")
        flood = self.peer_start("submit", peers["RS"], hubdir, "--to",
                                "HR,BG", "--count", "300", "--window",
                                "500", "--level", "low", "--flood", "10",
                                "--timeout", "60", name="flood-RS")
        wait_for(lambda: [d for d in bg.of_type("deliver")
                          if d["origin"] == "RS"], 30,
                 what="the flood reaching BG")
        # Other countries' high reports still go in, one at a time, and
        # arrive at BG, whose queue the flood keeps full of low reports.
        rc, lines = self.peer("submit", peers["HR"], hubdir, "--to", "BG",
                              "--count", "20", "--window", "1", "--level",
                              "high", "--timeout", "60")
        acks = of_type(lines, "ack")
        self.assertEqual([a["status"] for a in acks], ["accepted"] * 20)
        want = sorted(a["id"] for a in acks)

        def from_hr():
            got = sorted(d["id"] for d in bg.of_type("deliver")
                         if d["origin"] == "HR")
            return got if got == want else None
        wait_for(from_hr, 60, what="HR's 20 high reports at BG")
        self.assertTrue(all(d["level"] == "high" and d["opened"] for d in
                            bg.of_type("deliver") if d["origin"] == "HR"))
        self.assertEqual(flood.wait(60), 0, flood.logtext())
        [f] = flood.of_type("flood")
        self.assertGreater(f["rate_limited"], 0, f)
        self.assertGreater(f["sent"], 5 * 50, f)
        self.assertTrue(hub.alive())
        wait_for(lambda: "refused submit from=RS" in hub.logtext(), 5)
        self.assertIn("over submits_per_second 50", hub.logtext())
        st = wait_for(lambda: (lambda s: s if s["totals"].get("refused", 0)
                               >= f["rate_limited"] else None)(
            self.status(hubdir)), 10, what="refusals counted")
        self.assertTrue(st["running"])


if __name__ == "__main__":
    main()
