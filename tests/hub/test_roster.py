"""ewhub roster changes while running: revoke cuts a live node within a
second and keeps its queue; re-keying replaces the keys at once."""

import os

from ewhtest import HubCase, main, of_type, wait_for


class RosterChanges(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def submit(self, cc, *args):
        rc, lines = self.peer("submit", self.peers[cc], self.hubdir, *args)
        return of_type(lines, "ack")

    def test_revoke_cuts_live_node(self):
        acks = self.submit("RS", "--to", "HR,BG", "--count", "3")
        self.assertEqual([a["status"] for a in acks], ["accepted"] * 3)
        # HR connected, not acknowledging (so its deliveries stay queued);
        # RS watching the roster.
        hr = self.peer_start("recv", self.peers["HR"], self.hubdir,
                             "--no-ack", "--timeout", "60", name="live-HR")
        rs = self.peer_start("recv", self.peers["RS"], self.hubdir,
                             "--timeout", "60", name="live-RS")
        wait_for(lambda: len(hr.of_type("deliver")) == 3, 10,
                 what="HR has its deliveries")
        wait_for(lambda: rs.of_type("roster"), 10, what="RS roster")
        wait_for(lambda: self.node_status(self.hubdir, "HR")["connected"],
                 10, what="status: HR connected")
        self.ewhub("revoke", "--dir", self.hubdir, "HR")
        # The live connection is dropped, and every reconnect is refused.
        wait_for(lambda: "down" in [x["event"] for x in hr.of_type("link")],
                 5, what="HR's connection cut")
        wait_for(lambda: "auth_failed" in [x["event"] for x in
                                           hr.of_type("link")],
                 10, what="HR's reconnect refused")
        self.assertEqual([x["event"] for x in hr.of_type("link")].count("up"),
                         1)
        # RS sees HR flagged revoked in a newer roster.

        def revoked_roster():
            for r in rs.of_type("roster"):
                for c in r["countries"]:
                    if c["country"] == "HR" and c["revoked"]:
                        return r
        self.assertTrue(wait_for(revoked_roster, 10,
                                 what="roster with HR revoked")["verified"])
        # HR's queued deliveries are kept; status shows it disconnected.
        st = wait_for(lambda: (lambda n: n if not n["connected"] else None)(
            self.node_status(self.hubdir, "HR")), 10,
            what="status: HR not connected")
        self.assertTrue(st["revoked"])
        self.assertEqual(st["queued"]["total"], 3)
        # Submits addressed to HR are refused; others still flow.
        acks = self.submit("RS", "--to", "HR")
        self.assertEqual((acks[0]["status"], acks[0]["code"]),
                         ("refused", "revoked"))
        rc, lines = self.peer("recv", self.peers["BG"], self.hubdir,
                              "--count", "3")
        self.assertEqual(len(of_type(lines, "deliver")), 3)
        self.assertTrue(self.hub.alive())

    def test_rekey_replaces_keys(self):
        acks = self.submit("RS", "--to", "HR", "--count", "2")
        ids = [a["id"] for a in acks]
        old = self.peer_start("recv", self.peers["HR"], self.hubdir,
                              "--no-ack", "--timeout", "60", name="old-HR")
        wait_for(lambda: len(old.of_type("deliver")) == 2, 10,
                 what="old HR has its deliveries")
        new = self.peer_keygen("HR", name="new-HR")
        r = self.enroll(self.hubdir, new, "HR")
        self.assertIn(b"re-keyed HR", r.stdout)
        # The old key stops working at once: cut and refused.
        wait_for(lambda: "down" in [x["event"] for x in old.of_type("link")],
                 5, what="old key cut")
        wait_for(lambda: "auth_failed" in [x["event"] for x in
                                           old.of_type("link")],
                 10, what="old key refused")
        # The new key is admitted and gets the unacknowledged backlog.
        rc, lines = self.peer("recv", new, self.hubdir, "--count", "2")
        self.assertEqual(sorted(d["id"] for d in of_type(lines, "deliver")),
                         sorted(ids))
        # Reports sealed after the re-key open with the new key.
        acks = self.submit("RS", "--to", "HR")
        rc, lines = self.peer("recv", new, self.hubdir, "--count", "1")
        [d] = of_type(lines, "deliver")
        self.assertEqual(d["id"], acks[0]["id"])
        self.assertTrue(d["opened"])
        # Submitting with the old key gets nothing.
        rc, lines = self.peer("submit", self.peers["HR"], self.hubdir,
                              "--to", "RS", "--timeout", "2", ok=False)
        self.assertNotEqual(rc, 0)
        self.assertEqual(of_type(lines, "ack"), [])
        self.assertEqual(of_type(lines, "roster"), [])


if __name__ == "__main__":
    main()
