"""ewhub's WAL is copied back into store.db by the checkpointer thread
while the hub runs (not by the loop thread's commits): after a stream of
~50 MB of WAL writes the WAL stays bounded, store.db holds the reports,
/metrics counts the checkpoints, and a SIGKILL right after still loses
nothing acknowledged."""

import os
import re
import sqlite3
import urllib.request

from ewhtest import HubCase, main, of_type, wait_for

N = 4000
MB = 1024 * 1024


class Wal(HubCase):

    def test_checkpointed_while_running(self):
        hubdir, peers, hub = self.hub_with(
            ["RS", "HR", "BG", "MK"],
            conf="[limits]\nsubmits_per_second = 1000000\n"
                 "[monitor]\nmetrics = 127.0.0.1:0")
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
        with open(os.path.join(hubdir, "metrics_endpoint")) as f:
            ep = f.read().strip()

        def metrics():
            with urllib.request.urlopen("http://%s/metrics" % ep,
                                        timeout=10) as r:
                text = r.read().decode()
            return {m.group(1): float(m.group(2)) for m in re.finditer(
                r"^(ewhub_store_(?:checkpoints|checkpoints_failed)_total|"
                r"ewhub_store_wal_pages) (\S+)$", text, re.M)}
        def enough():
            # Published once a second: 50 MB at 1,024 pages (4 MiB) a time.
            m = metrics()
            return m if m.get("ewhub_store_checkpoints_total", 0) >= 5 \
                else None
        m = wait_for(enough, 10, what="checkpoints in /metrics")
        self.assertEqual(m["ewhub_store_checkpoints_failed_total"], 0)
        self.assertLess(m["ewhub_store_wal_pages"] * 4096, 40 * MB)
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
