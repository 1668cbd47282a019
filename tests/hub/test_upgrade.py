"""ewhub store layouts: a store of layout 1 (queue rows numbered in arrival
order, indexed by id) or 2 (one queue row per recipient, numbered from the
envelope's rowid) is upgraded in place at start to layout 3 (one fan-out row
per report), and every report still queued in it is delivered exactly once
afterwards; a store newer than this ewhub is refused and left untouched."""

import os
import sqlite3

from ewhtest import HubCase, main, of_type, wait_for

N = 40
LAYOUT = 3

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
# ... and of layout 2 (2026-11-22, before the fan-out rows).
LAYOUT_2 = [
    "CREATE TABLE queue(seq INTEGER PRIMARY KEY, id BLOB NOT NULL,"
    " country TEXT NOT NULL, level INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    " queued_at INTEGER NOT NULL, done_at INTEGER)",
    "CREATE INDEX queue_next ON queue(country, state, level DESC, seq)",
    "CREATE INDEX queue_exp ON queue(expires_at) WHERE state = 0 AND"
    " expires_at > 0",
]


class Upgrade(HubCase):

    def db(self):
        return sqlite3.connect(os.path.join(self.hubdir, "store.db"),
                               timeout=10)

    def rewrite(self, layout):
        """Turn the store back into what an ewhub of layout 1 or 2 wrote."""
        con = self.db()
        with con:
            rows = con.execute("SELECT seq, id, country, level, expires_at,"
                               " state, queued_at, done_at FROM queue"
                               " ORDER BY seq").fetchall()
            if layout == 1:
                con.execute("DELETE FROM meta WHERE k = 'layout'")
            else:
                con.execute("UPDATE meta SET v = ? WHERE k = 'layout'",
                            (layout,))
            for sql in ("DROP VIEW queue", "DROP TABLE fanout",
                        "DROP TABLE deliveries", "DROP TABLE slots"):
                con.execute(sql)
            for sql in (LAYOUT_1 if layout == 1 else LAYOUT_2):
                con.execute(sql)
            if layout == 1:
                rows = [r[1:] for r in rows]
            con.executemany("INSERT INTO queue(%s id, country, level,"
                            " expires_at, state, queued_at, done_at)"
                            " VALUES(%s ?, ?, ?, ?, ?, ?, ?)"
                            % (("", "") if layout == 1 else ("seq,", "?,")),
                            rows)
        con.close()

    def upgraded_and_delivered_once(self, layout):
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

        self.rewrite(layout)
        con = self.db()
        if layout == 1:
            self.assertEqual(con.execute("SELECT max(seq) FROM queue")
                             .fetchone()[0], 2 * N)
        con.close()

        # Other commands leave it alone (an older ewhub may still be
        # serving it while the new one is installed).
        r = self.ewhub("status", "--dir", self.hubdir, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"store layout %d is older than this ewhub's (%d): "
                      b"start this version's 'ewhub run' once"
                      % (layout, LAYOUT), r.stderr)
        con = self.db()
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        self.assertNotIn("fanout", names)
        self.assertEqual("queue_id" in names, layout == 1)
        con.close()

        hub = self.hub_start(self.hubdir, name="hub-2")
        self.assertIn("from layout %d to %d (%d queue rows)"
                      % (layout, LAYOUT, 2 * N), hub.logtext())
        con = self.db()
        try:
            self.assertEqual(con.execute("SELECT v FROM meta WHERE k ="
                                         " 'layout'").fetchone()[0], LAYOUT)
            names = {r[0] for r in con.execute("SELECT name FROM"
                                               " sqlite_master")}
            for gone in ("queue_id", "queue_v1", "queue_next", "queue_exp"):
                self.assertNotIn(gone, names)
            # One fan-out row per report, on its envelope's rowid, each
            # naming HR then BG; HR's first ten are over, as delivered.
            self.assertEqual(con.execute(
                "SELECT count(*) FROM fanout f JOIN envelopes e"
                " ON e.rowid = f.seq WHERE f.rcpts = 'HRBG'").fetchone()[0],
                N)
            self.assertEqual({r[0].hex() for r in con.execute(
                "SELECT e.id FROM deliveries d JOIN envelopes e"
                " ON e.rowid = d.seq / 32 WHERE d.country = 'HR'"
                " AND d.state = 1")}, done)
            self.assertEqual(con.execute(
                "SELECT count(*) FROM queue WHERE state = 0").fetchone()[0],
                2 * N - len(done))
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

    def test_layout_1_upgraded_and_delivered_once(self):
        self.upgraded_and_delivered_once(1)

    def test_layout_2_upgraded_and_delivered_once(self):
        self.upgraded_and_delivered_once(2)

    def test_layout_2_with_a_gap_refused(self):
        # Layout 3 names a delivery by its slot among the report's
        # recipients: a layout 2 report whose rows skip a number cannot be
        # said, so the upgrade is refused and the store left as it was.
        self.hubdir, peers, hub = self.hub_with(["RS", "HR", "BG"])
        rc, lines = self.peer("submit", peers["RS"], self.hubdir, "--to",
                              "HR,BG", "--count", 2, "--window", "2")
        self.assertEqual(hub.term(), 0)
        self.rewrite(2)
        con = self.db()
        with con:
            con.execute("DELETE FROM queue WHERE seq % 32 = 0 AND seq ="
                        " (SELECT max(seq) - 1 FROM queue)")
        con.close()
        r = self.ewhub("run", "--dir", self.hubdir, "--listen",
                       "tcp://127.0.0.1:*", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"cannot upgrade store layout 2: a report's queue rows"
                      b" are not numbered 0, 1, 2, ...", r.stderr)
        con = self.db()
        self.assertEqual(con.execute("SELECT v FROM meta WHERE k = 'layout'")
                         .fetchone()[0], 2)
        self.assertEqual(con.execute("SELECT count(*) FROM queue")
                         .fetchone()[0], 3)
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        self.assertNotIn("fanout", names)
        con.close()

    def test_newer_layout_refused(self):
        self.hubdir, peers, hub = self.hub_with(["RS", "HR"])
        self.assertEqual(hub.term(), 0)
        con = self.db()
        with con:
            con.execute("UPDATE meta SET v = 4 WHERE k = 'layout'")
        con.close()
        before = open(os.path.join(self.hubdir, "store.db"), "rb").read()
        r = self.ewhub("run", "--dir", self.hubdir, "--listen",
                       "tcp://127.0.0.1:*", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"store layout 4 is newer than this ewhub's (3)",
                      r.stderr)
        self.assertEqual(open(os.path.join(self.hubdir, "store.db"),
                              "rb").read(), before)


if __name__ == "__main__":
    main()
