"""ewhub submit path: origin spoofing, signatures, duplicates stored once,
meaning checks (recipients, expiry, clock), named limits, no plaintext on
the hub's disk or in its logs."""

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


class Submit(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def submit(self, cc, *args, ok=True):
        rc, lines = self.peer("submit", self.peers[cc], self.hubdir, *args,
                              ok=ok)
        return lines

    def test_accepted_with_signed_checkpoint(self):
        lines = self.submit("RS", "--to", "HR,BG", "--count", "3",
                            "--level", "high")
        acks = of_type(lines, "ack")
        self.assertEqual([a["status"] for a in acks], ["accepted"] * 3)
        cps = [a["checkpoint"] for a in acks]
        self.assertTrue(all(isinstance(c, int) and c >= 1 for c in cps), cps)
        self.assertEqual(max(cps), 3)
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM envelopes"), 3)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM queue"),
                         6)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM audit"),
                         3)

    def test_origin_spoofing_refused(self):
        # RS's authenticated connection carries a genuine envelope signed by
        # BG: the signature is fine, the origin is not RS.
        lines = self.submit("RS", "--to", "HR", "--seal-key",
                            os.path.join(self.peers["BG"], "node.key"))
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), 1, lines)
        self.assertEqual(acks[0]["status"], "refused")
        self.assertEqual(acks[0]["code"], "wrong-origin")
        self.assertIn("differs from authenticated country RS",
                      acks[0]["reason"])
        self.assertFalse(acks[0]["retry"])
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM envelopes"), 0)
        self.assertIn("refused submit from=RS", self.hub.logtext())

    def test_bad_signature_refused(self):
        envdir = self.path("env")
        os.makedirs(envdir)
        self.submit("RS", "--to", "HR", "--env-out", envdir, "--dry-run")
        [f] = glob.glob(os.path.join(envdir, "*.env"))
        with open(f, "rb") as fh:
            data = bytearray(fh.read())
        data[-1] ^= 0x01  # the signature is the Envelope's last field
        bad = self.path("bad.env")
        with open(bad, "wb") as fh:
            fh.write(bytes(data))
        lines = self.submit("RS", "--env-in", bad)
        [ack] = of_type(lines, "ack")
        self.assertEqual(ack["status"], "refused")
        self.assertEqual(ack["code"], "bad-signature")
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM envelopes"), 0)

    def test_id_reused_by_another_envelope(self):
        # Two different envelopes under one id: the first is accepted, the
        # second refused, whether they meet in one batch (window 2) or the
        # first is already stored (window 1).  Only the first is kept.
        for window, rid in (("2", "0190f0f0f0f07000800000000000000a"),
                            ("1", "0190f0f0f0f07000800000000000000b")):
            lines = self.submit("RS", "--to", "HR", "--count", "2", "--id",
                                rid, "--window", window, ok=False)
            acks = of_type(lines, "ack")
            self.assertEqual([a["status"] for a in acks],
                             ["accepted", "refused"], (window, lines))
            self.assertIn("id already used by a different envelope",
                          acks[1].get("reason", ""), acks[1])
            # its own code, final (issue 14): nodes decide on the code
            self.assertEqual((acks[1].get("code"), acks[1].get("retry")),
                             ("id-reused", False), acks[1])
            blob = bytes.fromhex(rid)
            self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                      "envelopes WHERE id = ?", blob), 1)
            self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                      "queue WHERE id = ?", blob), 1)
            self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                      "audit WHERE id = ?", blob), 1)

    def test_duplicate_stored_once(self):
        envdir = self.path("env")
        os.makedirs(envdir)
        self.submit("RS", "--to", "HR,BG", "--env-out", envdir, "--dry-run")
        [f] = glob.glob(os.path.join(envdir, "*.env"))
        rid = os.path.basename(f)[:-4]
        # Five copies in one stream: the first is accepted, the rest are
        # duplicates, whether they meet in one batch or not.
        lines = self.submit("RS", "--env-in", f, "--count", "5")
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), 5, lines)
        self.assertEqual(sorted(a["status"] for a in acks),
                         ["accepted"] + ["duplicate"] * 4)
        self.assertTrue(all(a["id"] == rid for a in acks))
        # And again later, from a new connection.
        lines = self.submit("RS", "--env-in", f)
        self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                         ["duplicate"])
        blob = bytes.fromhex(rid)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                  "envelopes WHERE id = ?", blob), 1)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM queue "
                                  "WHERE id = ?", blob), 2)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM audit"),
                         1)

    def test_meaning_checks(self):
        # Already expired.
        lines = self.submit("RS", "--to", "HR", "--created-offset", "-100",
                            "--expires", "50")
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]), ("refused", "expired"))
        # Created too far in the future.
        lines = self.submit("RS", "--to", "HR", "--created-offset", "1000")
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]),
                         ("refused", "clock-skew"))
        # A revoked recipient is named.
        self.ewhub("revoke", "--dir", self.hubdir, "BG")
        wait_for(lambda: "roster: version 4" in self.hub.logtext(), 10,
                 what="hub noticed the revocation")
        lines = self.submit("RS", "--to", "HR,BG")
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]), ("refused", "revoked"))
        self.assertIn("BG", ack["reason"])
        self.assertEqual(db_count(self.hubdir,
                                  "SELECT count(*) FROM envelopes"), 0)

    def test_no_plaintext_on_hub(self):
        canary = "CANARY-7d1f0a plaintext title"
        lines = self.submit("RS", "--to", "HR", "--count", "3", "--title",
                            canary, "--level", "high")
        self.assertEqual(len(of_type(lines, "ack")), 3)
        rc, got = self.peer("recv", self.peers["HR"], self.hubdir, "--count",
                            "3")
        self.assertTrue(all(d["opened"] for d in of_type(got, "deliver")))
        self.hub.term()
        needle = b"CANARY-7d1f0a"
        for f in glob.glob(os.path.join(self.hubdir, "*")) + \
                [self.hub.log_path]:
            with open(f, "rb") as fh:
                self.assertNotIn(needle, fh.read(), f)


class Limits(HubCase):

    def test_burst_beyond_verify_queue(self):
        # 2,500 submits at once: more than the verify pool's queue holds
        # (EWH_HUB_VERIFY_QUEUE, 1,024), so some wait in the pending list
        # and join the queue as it empties.  Every one is verified, stored
        # once and chained once, in the order sent (the ids begin with
        # their sealing time in ms; ewh-peer seals them all, then sends).
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR", "BG"], conf="[limits]\nsubmits_per_second = 100000"
            "\nmax_inflight_submits = 5000\nmax_queue = 100000\n")
        n = 2500
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR,BG",
                              "--count", str(n), "--window", str(n),
                              "--body-bytes", "64")
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), n)
        self.assertEqual({a["status"] for a in acks}, {"accepted"})
        self.assertEqual(len({a["id"] for a in acks}), n)
        self.assertEqual(db_count(hubdir, "SELECT count(*) FROM envelopes"), n)
        self.assertEqual(db_count(hubdir, "SELECT count(DISTINCT id) FROM "
                                  "audit"), n)
        con = sqlite3.connect("file:%s?mode=ro" %
                              os.path.join(hubdir, "store.db"), uri=True,
                              timeout=10)
        try:
            chain = [bytes(r[0]).hex() for r in
                     con.execute("SELECT id FROM audit ORDER BY n")]
        finally:
            con.close()
        # The acks come in the order of the chain (each batch's commit,
        # then its acks, in order) ...
        self.assertEqual(chain, [a["id"] for a in acks])
        # ... and the chain in the order sent, to the millisecond.
        ms = [c[:12] for c in chain]
        self.assertEqual(ms, sorted(ms))

    def test_rate_limit(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR"], conf="[limits]\nsubmits_per_second = 5")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "30", "--window", "30")
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), 30)
        refused = [a for a in acks if a["status"] == "refused"]
        self.assertTrue(refused, acks)
        self.assertTrue(all(a["code"] == "rate-limit" and a["retry"]
                            for a in refused), refused)
        self.assertIn("submits_per_second 5", refused[0]["reason"])

    def test_queue_limit(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR"], conf="[limits]\nmax_queue = 3")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "5", "--window", "1")
        acks = of_type(lines, "ack")
        self.assertEqual([a["status"] for a in acks],
                         ["accepted"] * 3 + ["refused"] * 2)
        self.assertEqual(acks[3]["code"], "queue-full")
        self.assertTrue(acks[3]["retry"])
        self.assertIn("HR", acks[3]["reason"])

    def test_frame_limit(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR"], conf="[limits]\nmax_frame_bytes = 4096")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--body-bytes", "8000", "--timeout", "3",
                              ok=False)
        self.assertNotEqual(rc, 0)
        [err] = of_type(lines, "error")
        self.assertIn("max_frame_bytes 4096", err["reason"])
        self.assertEqual(of_type(lines, "ack"), [])
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--body-bytes", "100")
        self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        self.assertTrue(hub.alive())

    def test_bad_config_names_file_and_line(self):
        hubdir = self.hub_init(conf="[limits]\nmax_queue = 0")
        r = self.ewhub("run", "--dir", hubdir, "--listen",
                       "tcp://127.0.0.1:*", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr.decode(), r"ewhub\.conf:\d+: max_queue")


if __name__ == "__main__":
    main()
