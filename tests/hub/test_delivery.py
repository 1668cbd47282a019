"""ewhub delivery: per-recipient queues, high before medium before low,
credit window, done only on ack, resent after reconnect, expiry with a
notice to the origin, receipts relayed, roster pushed on change."""

from ewhtest import HubCase, main, of_type, wait_for


class Delivery(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def submit(self, cc, *args):
        rc, lines = self.peer("submit", self.peers[cc], self.hubdir, *args)
        acks = of_type(lines, "ack")
        self.assertTrue(acks and all(a["status"] == "accepted" for a in acks),
                        lines)
        return [a["id"] for a in acks]

    def recv(self, cc, *args, ok=True):
        rc, lines = self.peer("recv", self.peers[cc], self.hubdir, *args,
                              ok=ok)
        return lines

    def test_priority_order_of_backlog(self):
        # HR is offline while RS sends low, then medium, then high.
        ids = {}
        for level in ("low", "medium", "high"):
            ids[level] = self.submit("RS", "--to", "HR", "--count", "4",
                                     "--level", level, "--window", "1")
        def check(got):
            self.assertEqual([d["level"] for d in got],
                             ["high"] * 4 + ["medium"] * 4 + ["low"] * 4)
            for level in ("low", "medium", "high"):
                # oldest first within a level
                self.assertEqual([d["id"] for d in got
                                  if d["level"] == level], ids[level])
            self.assertTrue(all(d["opened"] for d in got))
        # A wide window, nothing acknowledged: the whole backlog in order.
        check(of_type(self.recv("HR", "--credit", "64", "--count", "12",
                                "--no-ack"), "deliver"))
        # Still queued: status says so by level.
        q = self.node_status(self.hubdir, "HR")["queued"]
        self.assertEqual((q["high"], q["medium"], q["low"]), (4, 4, 4))
        # A window of one, acknowledging: the same order, one at a time.
        check(of_type(self.recv("HR", "--credit", "1", "--count", "12"),
                      "deliver"))
        wait_for(lambda: self.node_status(self.hubdir, "HR")["queued"]
                 ["total"] == 0, 10, what="HR queue empty")

    def test_done_only_on_ack_and_resent_after_reconnect(self):
        ids = self.submit("RS", "--to", "HR", "--count", "5")
        first = of_type(self.recv("HR", "--credit", "3", "--no-ack",
                                  "--timeout", "2", ok=False), "deliver")
        # The credit window: three in flight and no more without acks.
        self.assertEqual([d["id"] for d in first], ids[:3])
        again = of_type(self.recv("HR", "--credit", "64", "--count", "5"),
                        "deliver")
        self.assertEqual([d["id"] for d in again], ids)
        after = self.recv("HR", "--idle", "1", "--timeout", "10")
        self.assertEqual(of_type(after, "deliver"), [])
        wait_for(lambda: self.node_status(self.hubdir, "HR")["queued"]
                 ["total"] == 0, 10, what="HR queue empty")

    def test_slow_node_does_not_stall_others(self):
        ids = self.submit("RS", "--to", "HR,BG", "--count", "20")
        slow = self.peer_start("recv", self.peers["HR"], self.hubdir,
                               "--credit", "1", "--no-ack", "--timeout", "30",
                               name="slow-HR")
        wait_for(lambda: slow.of_type("deliver"), 10, what="HR's first")
        got = of_type(self.recv("BG", "--count", "20"), "deliver")
        self.assertEqual(sorted(d["id"] for d in got), sorted(ids))
        self.assertEqual(len(slow.of_type("deliver")), 1)

    def test_expiry_notice_to_origin(self):
        [short] = self.submit("RS", "--to", "HR", "--expires", "2",
                              "--level", "high")
        [keep] = self.submit("RS", "--to", "HR", "--level", "low")
        wait_for(lambda: self.node_status(self.hubdir, "HR")["queued"]
                 ["total"] == 1, 15, what="expired row leaves HR's queue")
        got = of_type(self.recv("HR", "--idle", "1.5", "--timeout", "10"),
                      "deliver")
        self.assertEqual([d["id"] for d in got], [keep])
        notices = of_type(self.recv("RS", "--idle", "1.5", "--timeout", "10"),
                          "notice")
        self.assertEqual(len(notices), 1, notices)
        self.assertEqual((notices[0]["id"], notices[0]["country"],
                          notices[0]["kind"]), (short, "HR", "expired"))
        # Acknowledged: not sent again.
        again = self.recv("RS", "--idle", "1.5", "--timeout", "10")
        self.assertEqual(of_type(again, "notice"), [])

    def test_receipts_relayed_to_origin(self):
        ids = self.submit("RS", "--to", "HR,BG", "--count", "2")
        self.recv("HR", "--count", "2", "--receipt", "acknowledged")
        self.recv("BG", "--count", "2", "--receipt", "delivered")
        want = {(i, "HR", "acknowledged") for i in ids} | \
               {(i, "BG", "delivered") for i in ids}
        got = set()

        def relayed():
            for r in of_type(self.recv("RS", "--idle", "1", "--timeout",
                                       "10"), "receipt"):
                self.assertTrue(r["verified"], r)
                got.update((i, r["from"], r["kind"]) for i in r["ids"])
            return got >= want
        wait_for(relayed, 20, what="all receipts relayed")
        self.assertEqual(got, want)
        # All acknowledged by RS: nothing more to relay.
        self.assertEqual(of_type(self.recv("RS", "--idle", "1", "--timeout",
                                           "10"), "receipt"), [])

    def test_roster_pushed_on_change(self):
        live = self.peer_start("recv", self.peers["RS"], self.hubdir,
                               "--timeout", "30", name="live-RS")
        first = wait_for(lambda: live.of_type("roster"), 10,
                         what="first roster")[0]
        extra = self.peer_keygen("MK")
        self.enroll(self.hubdir, extra, "MK")

        def pushed():
            for r in live.of_type("roster"):
                if r["version"] > first["version"]:
                    return r
        r = wait_for(pushed, 10, what="pushed roster")
        self.assertTrue(r["verified"])
        self.assertIn("MK", [c["country"] for c in r["countries"]])


if __name__ == "__main__":
    main()
