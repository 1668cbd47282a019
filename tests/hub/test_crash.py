"""ewhub durability: SIGKILL in the middle of a stream of submits loses no
acknowledged report and delivers none twice; SIGTERM exits 0 with nothing
lost.  The submitter behaves like a node's outbox (re-submits whatever was
not acknowledged)."""

import collections
import os
import signal
import sqlite3

from ewhtest import HubCase, main, of_type, wait_for

N = 1500


def stored_ids(hubdir):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(hubdir,
                                                             "store.db"),
                          uri=True, timeout=10)
    try:
        return {r[0].hex() for r in con.execute("SELECT id FROM envelopes")}
    finally:
        con.close()


class Crash(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def stream(self):
        return self.peer_start("submit", self.peers["RS"], self.hubdir,
                               "--to", "HR,BG", "--count", N, "--window",
                               "10", "--resend", "1", "--body-bytes", "600",
                               "--timeout", "120", name="stream-RS")

    def acked(self, sub, statuses=("accepted", "duplicate")):
        return {a["id"] for a in sub.of_type("ack") if a["status"] in statuses}

    def all_acked(self, sub):
        self.assertEqual(sub.wait(150), 0, sub.logtext())
        self.assertEqual(sub.of_type("timeout"), [])
        ids = self.acked(sub)
        self.assertEqual(len(ids), N)
        return ids

    def test_sigkill_mid_stream(self):
        # HR receives throughout (and reconnects by itself); BG only after
        # the restart.
        hr = self.peer_start("recv", self.peers["HR"], self.hubdir,
                             "--credit", "16", "--timeout", "150",
                             name="live-HR")
        sub = self.stream()
        wait_for(lambda: len(self.acked(sub)) >= N // 4, 60,
                 what="a quarter acknowledged")
        self.hub.kill()
        before = self.acked(sub, ("accepted",))
        self.assertLess(len(before), N, "stream finished before the kill")
        # Every acknowledged report is in the store.
        self.assertLessEqual(before, stored_ids(self.hubdir))
        self.hub = self.hub_start(self.hubdir, listen=self.endpoint,
                                  name="hub-2")
        ids = self.all_acked(sub)
        self.assertEqual(stored_ids(self.hubdir), ids)
        # BG: every report exactly once.
        rc, lines = self.peer("recv", self.peers["BG"], self.hubdir,
                              "--count", N, "--credit", "64", "--idle", "5")
        got = [d["id"] for d in of_type(lines, "deliver")]
        self.assertEqual(len(got), N)
        self.assertEqual(set(got), ids)
        # HR: everything; a redelivery only for what was in flight (at most
        # its credit) when the hub died.
        wait_for(lambda: {d["id"] for d in hr.of_type("deliver")} >= ids, 60,
                 what="HR has every report")
        counts = collections.Counter(d["id"] for d in hr.of_type("deliver"))
        twice = [i for i, c in counts.items() if c > 1]
        self.assertLessEqual(len(twice), 16, twice)
        self.assertTrue(all(c <= 2 for c in counts.values()))
        hr.kill()
        # And nothing is left queued.
        wait_for(lambda: self.status(self.hubdir)["totals"]["queued"] == 0,
                 10, what="queues empty")

    def test_sigterm_exits_zero_nothing_lost(self):
        sub = self.stream()
        wait_for(lambda: len(self.acked(sub)) >= N // 4, 60,
                 what="a quarter acknowledged")
        self.hub.signal(signal.SIGTERM)
        self.assertEqual(self.hub.wait(20), 0, self.hub.logtext())
        self.assertIn("exiting", self.hub.logtext())
        before = self.acked(sub, ("accepted",))
        self.assertLessEqual(before, stored_ids(self.hubdir))
        self.assertFalse(os.path.exists(os.path.join(self.hubdir,
                                                     "ewhub.pid")))
        self.hub = self.hub_start(self.hubdir, listen=self.endpoint,
                                  name="hub-2")
        ids = self.all_acked(sub)
        for cc in ("HR", "BG"):
            rc, lines = self.peer("recv", self.peers[cc], self.hubdir,
                                  "--count", N, "--credit", "64", "--idle",
                                  "5")
            got = [d["id"] for d in of_type(lines, "deliver")]
            self.assertEqual(len(got), N, cc)
            self.assertEqual(set(got), ids, cc)


if __name__ == "__main__":
    main()
