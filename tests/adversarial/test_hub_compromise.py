"""A compromised hub, played by the real ewhub with a tampered key file or
a tampered store, against real ewnode agents: a roster with a substituted
key signed by another key is refused (peers unchanged); a genuinely signed
but older roster (a rollback) is refused; an old delivery replayed (same or
new seq) is shown once; junk, truncated and misrouted deliveries are
refused (acknowledged so they do not loop) and never shown; forged
(unsigned) notices cannot move a delivered addressee back; a dropped
report is revealed by the missing
receipt (the sender's outbox never says delivered), and a dropped history
entry by `ewnode audit`.  (Changed and reordered history:
tests/monitor/test_audit.py.)"""

import json
import os
import secrets
import shutil
import sqlite3
import time

from ewhtest import EWHUB, NodeCase, main, wait_for


def hubdb(hub):
    return sqlite3.connect(os.path.join(hub, "store.db"), timeout=10)


class Compromise(NodeCase):

    def setUp(self):
        super().setUp()
        self.n = self.region(["RS", "HR"])
        self.hub = self.path("hub")
        self.port = self.endpoint.rsplit(":", 1)[1]
        self.agents = {cc: self.agent_start(d) for cc, d in self.n.items()}
        for d in self.n.values():
            self.wait_ready(d)

    def peers(self, cc):
        """The roster a node holds (peers --json without the agent's link
        state, which a reconnect changes)."""
        j = json.loads(self.ewnode("peers", "--dir", self.n[cc],
                                   "--json").stdout)
        j.pop("link", None)
        return j

    def hub_again(self):
        self.hub_start(port=self.port, name="hub-again")

    def test_substituted_key_and_rollback(self):
        rs = self.n["RS"]
        before = self.peers("RS")
        good_store = self.path("store.good")
        self.assertEqual(self.hub_proc.term(), 0)
        shutil.copy(os.path.join(self.hub, "store.db"), good_store)
        good_key = self.path("hub.key.good")
        shutil.copy(os.path.join(self.hub, "hub.key"), good_key)
        # The attacker holds the hub's transport key but not its signing
        # key: re-keys HR to a key of its own and signs with another key.
        fake = self.path("fake-HR")
        self.ewnode("init", "--dir", fake, "--country", "HR", "--hub",
                    self.endpoint, "--hub-key",
                    os.path.join(self.hub, "hub.pub"))
        self.run_cmd([EWHUB, "enroll", "--dir", self.hub,
                      os.path.join(fake, "node-HR.pub")])
        keyf = os.path.join(self.hub, "hub.key")
        with open(keyf) as f:
            text = f.read()
        lines = [("sign_seed = " + secrets.token_hex(32))
                 if ln.startswith("sign_seed") else ln
                 for ln in text.splitlines()]
        os.unlink(keyf)
        fd = os.open(keyf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, ("\n".join(lines) + "\n").encode())
        os.close(fd)
        log0 = len(self.agents["RS"].logtext())
        self.hub_start(port=self.port, name="hub-bad-key")
        wait_for(lambda: "refused roster" in
                 self.agents["RS"].logtext()[log0:], 20,
                 what="RS refusing the substituted roster")
        after = self.peers("RS")
        self.assertEqual(after, before)
        # The genuine hub again (genuine key and store), then a genuine
        # newer roster (BG enrolled) is taken.
        self.assertEqual(self.hub_proc.term(), 0)
        shutil.copy(good_key, keyf)
        shutil.copy(good_store, os.path.join(self.hub, "store.db"))
        for ext in ("-wal", "-shm"):
            p = os.path.join(self.hub, "store.db" + ext)
            if os.path.exists(p):
                os.unlink(p)
        self.hub_start(port=self.port, name="hub-genuine")
        bg = self.node_init("BG", os.path.join(self.hub, "hub.pub"),
                            self.endpoint)
        self.run_cmd([EWHUB, "enroll", "--dir", self.hub,
                      os.path.join(bg, "node-BG.pub")])
        newer = before["version"] + 1
        self.wait_ready(rs, newer)
        # A rollback: the hub restored from the older store.
        self.assertEqual(self.hub_proc.term(), 0)
        shutil.copy(good_store, os.path.join(self.hub, "store.db"))
        for ext in ("-wal", "-shm"):
            p = os.path.join(self.hub, "store.db" + ext)
            if os.path.exists(p):
                os.unlink(p)
        log0 = len(self.agents["RS"].logtext())
        self.hub_start(port=self.port, name="hub-rolled-back")
        wait_for(lambda: "refused roster: roster version %d is not newer" %
                 before["version"] in self.agents["RS"].logtext()[log0:], 20,
                 what="RS refusing the rolled-back roster")
        p = self.peers("RS")
        self.assertEqual(p["version"], newer)
        self.assertIn("BG", json.dumps(p))

    def test_replayed_delivery_shown_once(self):
        rs, hr = self.n["RS"], self.n["HR"]
        rid = self.submit(rs, level="high", to="HR", category="other",
                          title="replay me", body="once")
        self.wait_inbox(hr, rid)
        self.ewnode("ack", "--dir", hr, rid, "--who", "duty")
        self.wait_recipients(rs, rid, {"HR": "acknowledged"})
        for how in ("same seq", "new seq"):
            self.assertEqual(self.hub_proc.term(), 0)
            con = hubdb(self.hub)
            # Every delivery waits again: under the seq it had, or under
            # a new one (the report moved to a new row).
            con.execute("UPDATE fanout SET waiting ="
                        " (1 << (length(rcpts) / 2)) - 1")
            con.execute("DELETE FROM deliveries")
            if how == "new seq":
                con.execute("UPDATE envelopes SET rowid = rowid + 1000")
                con.execute("UPDATE fanout SET seq = seq + 1000")
            con.commit()
            con.close()
            self.hub_again()

            def redelivered():
                c = hubdb(self.hub)
                try:
                    return c.execute("SELECT count(*) FROM queue WHERE "
                                     "state = 0").fetchone()[0] == 0
                finally:
                    c.close()
            wait_for(redelivered, 20, what="replay delivered and acked "
                     "(%s)" % how)
            box = self.inbox(hr)
            self.assertEqual([m["id"] for m in box], [rid], how)
            self.assertTrue(box[0]["acknowledged"], how)
            self.wait_recipients(rs, rid, {"HR": "acknowledged"})

    def test_delivery_row_with_a_bad_level(self):
        # A delivery row ewhub did not write (level 9) is left out of the
        # queue with a warning; it does not stop the others.
        rs, hr = self.n["RS"], self.n["HR"]
        self.assertEqual(self.hub_proc.term(), 0)
        con = hubdb(self.hub)
        now = int(time.time())
        jid = os.urandom(16)
        con.execute("INSERT INTO envelopes(id, origin, level, created_at,"
                    " expires_at, received_at, hash, env)"
                    " VALUES(?, 'RS', 9, ?, 0, ?, ?, ?)",
                    (jid, now, now, os.urandom(32), os.urandom(500)))
        con.execute("INSERT INTO fanout(seq, rcpts, level, expires_at,"
                    " queued_at, waiting) SELECT rowid, 'HR', 9, 0, ?, 1"
                    " FROM envelopes WHERE id = ?", (now, jid))
        con.commit()
        con.close()
        self.hub_again()
        rid = self.submit(rs, level="high", to="HR", category="other",
                          title="after the bad row", body="arrives")
        self.wait_inbox(hr, rid)
        self.assertEqual([m["id"] for m in self.inbox(hr)], [rid])
        wait_for(lambda: "has level 9: not queued" in
                 self.hub_proc.logtext(), 10, what="the hub's warning")

    def test_junk_and_misrouted_deliveries(self):
        # The hub serves HR a report addressed to BG alone, junk bytes and a
        # truncated envelope: HR shows none of them, acknowledges each so
        # it does not loop, stays up, and still gets a genuine report.
        bg = self.node_init("BG", os.path.join(self.hub, "hub.pub"),
                            self.endpoint)
        with open(os.path.join(bg, "ewnode.conf"), "a") as f:
            f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
        self.run_cmd([EWHUB, "enroll", "--dir", self.hub,
                      os.path.join(bg, "node-BG.pub")])
        self.n["BG"] = bg
        self.agents["BG"] = self.agent_start(bg)
        self.wait_ready(bg)
        rs, hr = self.n["RS"], self.n["HR"]
        self.wait_ready(rs, 3)
        # BG is new after RS's first roster: unverified until RS's officer
        # compares its fingerprint (docs/trust.md).
        self.verify_peer(rs, "BG", self.pub_fingerprint(bg, "BG"))
        secret = self.submit(rs, level="high", to="BG", category="other",
                             title="for BG only", body="not for HR")
        self.wait_inbox(bg, secret)
        self.assertEqual(self.hub_proc.term(), 0)
        con = hubdb(self.hub)
        rid = bytes.fromhex(secret)
        (env,) = con.execute("SELECT env FROM envelopes WHERE id = ?",
                             (rid,)).fetchone()
        now = int(time.time())
        junk = {os.urandom(16): os.urandom(500),
                os.urandom(16): bytes(env)[:len(env) // 2],
                os.urandom(16): b""}
        for jid, blob in junk.items():
            con.execute("INSERT INTO envelopes(id, origin, level, "
                        "created_at, expires_at, received_at, hash, env) "
                        "VALUES(?, 'RS', 3, ?, 0, ?, ?, ?)",
                        (jid, now, now, os.urandom(32), blob))
        # HR added to the recipients of BG's report, and a delivery to HR
        # of each junk envelope.
        con.execute("UPDATE fanout SET rcpts = rcpts || 'HR',"
                    " waiting = waiting | (1 << (length(rcpts) / 2))"
                    " WHERE seq = (SELECT rowid FROM envelopes WHERE id = ?)",
                    (rid,))
        for jid in junk:
            con.execute("INSERT INTO fanout(seq, rcpts, level, expires_at,"
                        " queued_at, waiting) SELECT rowid, 'HR', 3, 0, ?, 1"
                        " FROM envelopes WHERE id = ?", (now, jid))
        con.commit()
        con.close()
        log0 = len(self.agents["HR"].logtext())
        self.hub_again()

        def acked():
            c = hubdb(self.hub)
            try:
                # The empty envelope fails the frame decoder itself (no seq
                # to acknowledge): it stays in flight, costing one credit
                # of this session, and is refused again after a reconnect.
                return c.execute("SELECT count(*) FROM queue WHERE "
                                 "country = 'HR' AND state = 0")\
                    .fetchone()[0] == 1
            finally:
                c.close()
        wait_for(acked, 30, what="HR acknowledging the bad deliveries")
        log = self.agents["HR"].logtext()[log0:]
        self.assertEqual(log.count("agent: refused delivery"), 3, log)
        self.assertIn('reason="envelope not addressed to HR"', log)
        self.assertIn("refused frame from hub: bad delivered envelope size",
                      log)
        self.assertEqual(self.inbox(hr), [])
        r = self.ewnode("show", "--dir", hr, secret, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn(b"not for HR", r.stdout)
        self.assertTrue(self.agents["HR"].alive())
        good = self.submit(rs, level="low", to="HR", category="other",
                           title="genuine", body="b")
        self.assertEqual(self.wait_inbox(hr, good)["title"], "genuine")

    def test_forged_notices(self):
        # Notices are not signed: a compromised hub may claim that a report
        # expired for an addressee.  A delivered addressee stays delivered
        # (states only move forward); a notice about another country's
        # report, or naming a country that is not an addressee, changes
        # nothing.
        rs, hr = self.n["RS"], self.n["HR"]
        r1 = self.submit(rs, level="high", to="HR", category="other",
                         title="delivered", body="b")
        self.wait_recipients(rs, r1, {"HR": "delivered"})
        before = [m for m in self.outbox(rs) if m["id"] == r1]
        self.assertEqual(self.hub_proc.term(), 0)

        def varint(n):
            out = b""
            while True:
                b, n = n & 0x7f, n >> 7
                out += bytes([b | (0x80 if n else 0)])
                if not n:
                    return out

        def notice(rid, cc, kind=1):
            body = b"\x0a\x10" + rid + b"\x12\x02" + cc.encode() + \
                b"\x18" + varint(kind) + b"\x20" + varint(int(time.time()))
            reason = b"forged by the hub"
            return body + b"\x2a" + bytes([len(reason)]) + reason
        con = hubdb(self.hub)
        for payload in (notice(bytes.fromhex(r1), "HR"),
                        notice(bytes.fromhex(r1), "HR", kind=2),
                        notice(bytes.fromhex(r1), "BG"),
                        notice(os.urandom(16), "HR")):
            con.execute("INSERT INTO relay(country, kind, payload, "
                        "created_at) VALUES('RS', 2, ?, ?)",
                        (payload, int(time.time())))
        con.commit()
        con.close()
        self.hub_again()

        def acked():
            c = hubdb(self.hub)
            try:
                return c.execute("SELECT count(*) FROM relay WHERE "
                                 "done = 0").fetchone()[0] == 0
            finally:
                c.close()
        wait_for(acked, 20, what="RS acknowledging the notices")
        after = [m for m in self.outbox(rs) if m["id"] == r1]
        self.assertEqual(after[0]["recipients"], {"HR": "delivered"})
        self.assertEqual(after, before)
        self.assertEqual(len(self.outbox(rs)), 1)

    def test_dropped_report_and_history(self):
        rs, hr = self.n["RS"], self.n["HR"]
        self.assertEqual(self.agents["HR"].term(), 0)
        r1 = self.submit(rs, level="medium", to="HR", category="other",
                         title="dropped", body="the hub drops this")
        self.wait_recipients(rs, r1, {"HR": "accepted"})
        # The hub drops the delivery (its store says nothing is owed).
        self.assertEqual(self.hub_proc.term(), 0)
        con = hubdb(self.hub)
        con.execute("DELETE FROM fanout WHERE seq = (SELECT rowid FROM"
                    " envelopes WHERE id = ?)", (bytes.fromhex(r1),))
        con.commit()
        con.close()
        self.hub_again()
        self.agents["HR"] = self.agent_start(hr, name="agent-HR-2")
        r2 = self.submit(rs, level="medium", to="HR", category="other",
                         title="after", body="this one arrives")
        self.wait_recipients(rs, r2, {"HR": "delivered"})
        # The sender sees it: r1 was accepted and never delivered.
        [m1] = [m for m in self.outbox(rs) if m["id"] == r1]
        self.assertEqual(m1["recipients"], {"HR": "accepted"})
        self.assertNotIn(r1, [m["id"] for m in self.inbox(hr)])
        # Dropping it from history too: the node's audit names the
        # rewrite (RS holds a checkpoint that covers r1).
        con = sqlite3.connect(os.path.join(rs, "store.db"), timeout=10)
        wait_for(lambda: con.execute("SELECT max(length) FROM checkpoint")
                 .fetchone()[0] == 2, what="RS holds checkpoint 2")
        con.close()
        self.assertIn(b"audit: OK", self.ewnode("audit", "--dir", rs).stdout)
        con = hubdb(self.hub)
        con.execute("DELETE FROM envelopes WHERE id = ?",
                    (bytes.fromhex(r1),))
        con.execute("DELETE FROM audit WHERE id = ?", (bytes.fromhex(r1),))
        con.commit()
        con.close()
        r = self.ewnode("audit", "--dir", rs, ok=False)
        # exit 4: a rewrite (3 would be a restore: a shorter, consistent
        # chain)
        self.assertEqual(r.returncode, 4, r.stdout + r.stderr)
        self.assertIn(b"REWRITE", r.stdout)


if __name__ == "__main__":
    main()
