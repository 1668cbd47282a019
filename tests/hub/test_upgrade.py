"""ewhub store layouts: a store of layout 1 (queue rows numbered in arrival
order, indexed by id) is upgraded in place at start, and every report still
queued in it is delivered exactly once afterwards; a store newer than this
ewhub is refused and left untouched."""

import os
import sqlite3

from ewhtest import HubCase, main, of_type, wait_for

N = 40

# The queue of layout 1, as ewhub wrote it before 2026-11-22.
LAYOUT_1 = [
    "CREATE TABLE queue(seq INTEGER PRIMARY KEY, id BLOB NOT NULL"
    " REFERENCES envelopes(id), country TEXT NOT NULL, level INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    " queued_at INTEGER NOT NULL, done_at INTEGER)",
    "CREATE INDEX queue_next ON queue(country, state, level DESC, seq)",
    "CREATE INDEX queue_id ON queue(id, country)",
    "CREATE INDEX queue_exp ON queue(expires_at) WHERE state = 0 AND"
    " expires_at > 0",
]


class Upgrade(HubCase):

    def db(self):
        return sqlite3.connect(os.path.join(self.hubdir, "store.db"),
                               timeout=10)

    def test_layout_1_upgraded_and_delivered_once(self):
        self.hubdir, peers, hub = self.hub_with(["RS", "HR", "BG"])
        rc, lines = self.peer("submit", peers["RS"], self.hubdir, "--to",
                              "HR,BG", "--count", N, "--window", "8")
        ids = [a["id"] for a in of_type(lines, "ack")
               if a["status"] == "accepted"]
        self.assertEqual(len(ids), N)
        # HR takes the first ten before the hub stops.
        rc, lines = self.peer("recv", peers["HR"], self.hubdir, "--count",
                              10, "--credit", "1")
        first = [d["id"] for d in of_type(lines, "deliver")]
        self.assertEqual(first[:10], ids[:10])
        self.assertEqual(hub.term(), 0)
        con = self.db()
        done = {r[0].hex() for r in con.execute(
            "SELECT id FROM queue WHERE country = 'HR' AND state = 1")}
        con.close()
        self.assertGreaterEqual(len(done), 10)

        # Rewrite the queue as layout 1 wrote it.
        con = self.db()
        with con:
            rows = con.execute("SELECT id, country, level, expires_at, state,"
                               " queued_at, done_at FROM queue ORDER BY seq"
                               ).fetchall()
            con.execute("DELETE FROM meta WHERE k = 'layout'")
            con.execute("DROP TABLE queue")
            for sql in LAYOUT_1:
                con.execute(sql)
            con.executemany("INSERT INTO queue(id, country, level,"
                            " expires_at, state, queued_at, done_at)"
                            " VALUES(?, ?, ?, ?, ?, ?, ?)", rows)
        self.assertEqual(con.execute("SELECT max(seq) FROM queue")
                         .fetchone()[0], 2 * N)
        con.close()

        # Other commands leave it alone (an older ewhub may still be
        # serving it while the new one is installed).
        r = self.ewhub("status", "--dir", self.hubdir, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"store layout 1 is older than this ewhub's (2): "
                      b"start this version's 'ewhub run' once", r.stderr)
        con = self.db()
        self.assertIn("queue_id", {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master")})
        self.assertIsNone(con.execute("SELECT v FROM meta WHERE k ="
                                      " 'layout'").fetchone())
        con.close()

        hub = self.hub_start(self.hubdir, name="hub-2")
        self.assertIn("upgraded", hub.logtext())
        self.assertIn("from layout 1 to 2 (%d queue rows)" % (2 * N),
                      hub.logtext())
        con = self.db()
        try:
            self.assertEqual(con.execute("SELECT v FROM meta WHERE k ="
                                         " 'layout'").fetchone()[0], 2)
            names = {r[0] for r in con.execute("SELECT name FROM"
                                               " sqlite_master")}
            self.assertNotIn("queue_id", names)
            self.assertNotIn("queue_v1", names)
            # Each row numbered from its envelope's rowid.
            self.assertEqual(con.execute(
                "SELECT count(*) FROM queue q JOIN envelopes e"
                " ON e.id = q.id WHERE q.seq / 32 = e.rowid").fetchone()[0],
                2 * N)
            self.assertEqual({r[0].hex() for r in con.execute(
                "SELECT id FROM queue WHERE state = 1")}, done)
        finally:
            con.close()

        # The rest, exactly once, in order; BG everything.
        for cc, want in (("HR", [i for i in ids if i not in done]),
                         ("BG", ids)):
            rc, lines = self.peer("recv", peers[cc], self.hubdir, "--count",
                                  len(want), "--credit", "16", "--idle", "3")
            got = [d["id"] for d in of_type(lines, "deliver")]
            self.assertEqual(got, want, cc)
        wait_for(lambda: self.status(self.hubdir)["totals"]["queued"] == 0,
                 10, what="queues empty")
        r = self.ewhub("audit", "verify", "--dir", self.hubdir)
        self.assertIn("audit: OK: %d entries" % N, r.stdout.decode())
        self.assertEqual(hub.term(), 0)

    def test_newer_layout_refused(self):
        self.hubdir, peers, hub = self.hub_with(["RS", "HR"])
        self.assertEqual(hub.term(), 0)
        con = self.db()
        with con:
            con.execute("UPDATE meta SET v = 3 WHERE k = 'layout'")
        con.close()
        before = open(os.path.join(self.hubdir, "store.db"), "rb").read()
        r = self.ewhub("run", "--dir", self.hubdir, "--listen",
                       "tcp://127.0.0.1:*", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"store layout 3 is newer than this ewhub's (2)",
                      r.stderr)
        self.assertEqual(open(os.path.join(self.hubdir, "store.db"),
                              "rb").read(), before)


if __name__ == "__main__":
    main()
