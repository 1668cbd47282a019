"""ewhub backup under load: the copy restores into a hub (same keys) that
passes `ewhub audit verify` and delivers what was queued in it."""

import os
import shutil
import sqlite3

from ewhtest import HubCase, main, of_type, wait_for


class Backup(HubCase):

    def test_backup_under_load_restores(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        load = self.peer_start("submit", peers["RS"], hubdir, "--to", "HR",
                               "--count", 1500, "--window", 10,
                               "--level", "medium", name="load")
        wait_for(lambda: len(load.of_type("ack")) >= 50,
                 what="the load under way")
        bak = self.path("store.bak")
        r = self.ewhub("backup", "--dir", hubdir, bak)
        self.assertIn(b"backup:", r.stdout)
        self.assertEqual(os.stat(bak).st_mode & 0o077, 0)
        self.assertEqual(self.ewhub("backup", "--dir", hubdir, bak,
                                    ok=False).returncode, 1)
        self.assertEqual(load.wait(60), 0)
        hub.term()
        con = sqlite3.connect(bak)
        queued = {bytes(i).hex() for (i,) in con.execute(
            "SELECT id FROM queue WHERE country = 'HR' AND state = 0")}
        (n,) = con.execute("SELECT count(*) FROM audit").fetchone()
        con.close()
        self.assertGreaterEqual(n, 50)
        # Taken under load: the hub accepted more after the copy.
        self.assertLess(n, 1500, "the load ended before the backup")
        self.assertEqual(len(queued), n)
        # Restore: a fresh dir with the hub's keys and config, the backup
        # as store.db, no -wal/-shm.
        new = self.path("restored")
        os.makedirs(new, 0o700)
        for f in ("hub.key", "hub.pub", "ewhub.conf"):
            shutil.copy2(os.path.join(hubdir, f), os.path.join(new, f))
        shutil.copy2(bak, os.path.join(new, "store.db"))
        r = self.ewhub("audit", "verify", "--dir", new)
        self.assertIn(("audit: OK: %d entries" % n).encode(), r.stdout)
        self.hub_start(new, name="restored-hub")
        rc, lines = self.peer("recv", peers["HR"], new, "--count",
                              len(queued), "--idle", 3)
        got = [d["id"] for d in of_type(lines, "deliver")]
        self.assertEqual(set(got), queued)
        self.assertEqual(len(got), len(queued))


if __name__ == "__main__":
    main()
