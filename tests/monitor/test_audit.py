"""Tampering with the hub's store with the sqlite3 shell: changing,
deleting or reordering one stored report makes `ewhub audit verify` fail
and name it, and `ewnode audit` on a node holding a later checkpoint
report the rewrite."""

import os
import sqlite3

from ewhtest import EWHUB, HubCase, NodeCase, main, of_type, wait_for


def db(hubdir):
    return sqlite3.connect(os.path.join(hubdir, "store.db"), timeout=10)


def audit_ids(hubdir):
    con = db(hubdir)
    try:
        return [(n, bytes(i).hex()) for n, i in
                con.execute("SELECT n, id FROM audit ORDER BY n")]
    finally:
        con.close()


def tamper(hubdir, how, n):
    con = db(hubdir)
    try:
        (rid,) = con.execute("SELECT id FROM audit WHERE n = ?",
                             (n,)).fetchone()
        if how == "change":
            # Flip one byte of the stored (ciphertext) envelope.
            (env,) = con.execute("SELECT env FROM envelopes WHERE id = ?",
                                 (rid,)).fetchone()
            env = bytearray(env)
            env[len(env) // 2] ^= 1
            con.execute("UPDATE envelopes SET env = ? WHERE id = ?",
                        (bytes(env), rid))
        elif how == "delete":
            # Remove the report entirely: its deliveries, envelope and
            # chain entry.
            (row,) = con.execute("SELECT rowid FROM envelopes WHERE id = ?",
                                 (rid,)).fetchone()
            con.execute("DELETE FROM fanout WHERE seq = ?", (row,))
            con.execute("DELETE FROM deliveries WHERE seq / 32 = ?", (row,))
            con.execute("DELETE FROM envelopes WHERE id = ?", (rid,))
            con.execute("DELETE FROM audit WHERE n = ?", (n,))
        elif how == "empty":
            # Empty the envelope as retention would, but while its
            # delivery is still queued.
            con.execute("UPDATE envelopes SET env = X'' WHERE id = ?",
                        (rid,))
        elif how == "reorder":
            # Swap entries n and n+1 (as rows, heads and all).
            con.execute("UPDATE audit SET n = -1 WHERE n = ?", (n,))
            con.execute("UPDATE audit SET n = ? WHERE n = ?", (n, n + 1))
            con.execute("UPDATE audit SET n = ? WHERE n = -1", (n + 1,))
        con.commit()
    finally:
        con.close()
    return bytes(rid).hex()


class HubAudit(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR"])
        rc, lines = self.peer("submit", self.peers["RS"], self.hubdir,
                              "--to", "HR", "--count", 6, "--window", 1)
        self.assertEqual(len(of_type(lines, "ack")), 6)

    def verify(self, ok):
        r = self.ewhub("audit", "verify", "--dir", self.hubdir, ok=ok)
        return r.returncode, r.stdout.decode()

    def test_intact(self):
        rc, out = self.verify(True)
        self.assertIn("audit: OK: 6 entries, 6 envelopes checked", out)
        self.assertIn("6 signed checkpoints", out)

    def test_changed_envelope(self):
        rid = tamper(self.hubdir, "change", 3)
        rc, out = self.verify(False)
        self.assertEqual(rc, 1)
        self.assertIn("first: entry 3 id %s: stored envelope does not match"
                      % rid, out)

    def test_deleted_report(self):
        tamper(self.hubdir, "delete", 4)
        rc, out = self.verify(False)
        self.assertEqual(rc, 1)
        self.assertIn("first: entry 5: expected entry 4 next", out)

    def test_emptied_while_queued(self):
        # HR never connects here, so every delivery is still queued: an
        # envelope emptied now cannot pass for retention.
        rid = tamper(self.hubdir, "empty", 2)
        rc, out = self.verify(False)
        self.assertEqual(rc, 1)
        self.assertIn("first: entry 2 id %s: envelope emptied while 1 "
                      "deliveries are still queued" % rid, out)

    def test_reordered(self):
        ids = dict(audit_ids(self.hubdir))
        tamper(self.hubdir, "reorder", 2)
        rc, out = self.verify(False)
        self.assertEqual(rc, 1)
        self.assertIn("first: entry 2 id %s: chain head differs" % ids[3],
                      out)


class NodeAudit(NodeCase):

    def test_rewrite_seen_from_node(self):
        dirs = self.region(["RS", "HR"])
        for d in dirs.values():
            self.agent_start(d)
        for d in dirs.values():
            self.wait_ready(d)
        ids = []
        for i in range(4):
            ids.append((self.submit(dirs["RS"], level="high", to="HR",
                                   category="other", title="t%d" % i,
                                   body="b")))
        con = sqlite3.connect(os.path.join(dirs["RS"], "store.db"),
                              timeout=10)
        wait_for(lambda: con.execute("SELECT max(length) FROM checkpoint")
                 .fetchone()[0] == 4, what="RS holds checkpoint 4")
        con.close()
        r = self.ewnode("audit", "--dir", dirs["RS"])
        self.assertIn(b"audit: OK", r.stdout)
        hub = self.path("hub")
        # Change report 2 on the hub (RS holds checkpoints up to 4).
        tamper(hub, "change", 2)
        r = self.ewnode("audit", "--dir", dirs["RS"], ok=False)
        # exit 4: a rewrite (3: a restore, 1: could not check)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        out = r.stdout.decode()
        self.assertRegex(out, r"REWRITE: hub \S+: checkpoint length [234] head "
                              r"[0-9a-f]{64} not a prefix of hub's chain")
        self.assertNotIn("checkpoint length 1 ", out)
        # The agent's own connection was not disturbed.
        rid = self.submit(dirs["RS"], level="low", to="HR",
                          category="other", title="after", body="b")
        self.wait_inbox(dirs["HR"], rid)
        r = self.run_cmd([EWHUB, "audit", "verify", "--dir", hub], ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"first: entry 2 id ", r.stdout)


if __name__ == "__main__":
    main()
