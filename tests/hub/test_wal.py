"""ewhub's WAL is copied back into store.db by the checkpointer thread
while the hub runs (not by the loop thread's commits): after a stream of
~50 MB of WAL writes the WAL stays bounded, store.db holds the reports,
and a SIGKILL right after still loses nothing acknowledged."""

import os
import sqlite3

from ewhtest import HubCase, main, of_type

N = 4000
MB = 1024 * 1024


class Wal(HubCase):

    def test_checkpointed_while_running(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR", "BG", "MK"],
            conf="[limits]\nsubmits_per_second = 1000000")
        db = os.path.join(hubdir, "store.db")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to",
                              "HR,BG,MK", "--count", N, "--window", "200",
                              "--body-bytes", "8000", timeout=240)
        ids = {a["id"] for a in of_type(lines, "ack")
               if a["status"] == "accepted"}
        self.assertEqual(len(ids), N)
        # Still running: the data is in store.db, the WAL did not grow
        # with it (its threshold is 4 MiB; the writer restarts it once
        # everything in it is copied).
        wal = os.path.getsize(db + "-wal")
        size = os.path.getsize(db)
        self.assertGreater(size, 10 * MB, (size, wal))
        self.assertLess(wal, 40 * MB, (size, wal))
        self.assertNotIn("checkpoint", hub.logtext())
        # A SIGKILL now: every acknowledged report is there.
        hub.kill()
        con = sqlite3.connect(db)
        try:
            got = {r[0].hex() for r in con.execute("SELECT id FROM"
                                                   " envelopes")}
            self.assertEqual(con.execute("PRAGMA quick_check").fetchone()[0],
                             "ok")
        finally:
            con.close()
        self.assertEqual(got, ids)


if __name__ == "__main__":
    main()
