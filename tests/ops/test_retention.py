"""Retention: envelopes of reports final for every addressee are removed
from the hub's store after [retention] delivered / expired, while reports
still queued for someone stay; the audit chain keeps every entry and
`ewhub audit verify` still passes (and the chain recomputes by hand)."""

import hashlib
import os
import sqlite3
import struct
import subprocess

from ewhtest import EWHUB, NodeCase, main, wait_for


def env_lengths(db):
    """{id hex: envelope length} read from the hub's store (read-only)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return {bytes(i).hex(): n for i, n in
                c.execute("SELECT id, length(env) FROM envelopes")}
    finally:
        c.close()


def chain_ok(db):
    """Recompute the audit chain (include/ewh/audit.h) from its rows."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        rows = c.execute("SELECT n, id, envelope_hash, origin, received_at,"
                         " head FROM audit ORDER BY n").fetchall()
    finally:
        c.close()
    head = bytes(32)
    for i, (n, rid, h, origin, at, stored) in enumerate(rows):
        if n != i + 1:
            return False
        head = hashlib.blake2b(b"ewh-audit-v1" + head + bytes(rid) + bytes(h)
                               + origin.encode() + struct.pack(">q", at),
                               digest_size=32).digest()
        if head != bytes(stored):
            return False
    return len(rows)


class Retention(NodeCase):

    def test_retention_removes_final_envelopes_chain_verifies(self):
        hub = self.path("hub")
        self.run_cmd([EWHUB, "init", "--dir", hub])
        with open(os.path.join(hub, "ewhub.conf"), "a") as f:
            f.write("\n[retention]\ndelivered = 2s\nexpired = 2s\n")
        dirs = self.region(["RS", "HR", "BG"])
        db = os.path.join(hub, "store.db")
        rs = self.agent_start(dirs["RS"])
        self.agent_start(dirs["HR"])
        self.wait_ready(dirs["RS"])
        self.wait_ready(dirs["HR"])
        common = dict(level="low", category="other", body="b")
        delivered = [self.submit(dirs["RS"], to="HR", title="t%d" % i,
                                 **common) for i in range(3)]
        # BG is down: one report expires undelivered, one stays queued.
        expiring = self.submit(dirs["RS"], to="BG", title="soon",
                               expires="3s", **common)
        pending = self.submit(dirs["RS"], to="HR,BG", title="for BG",
                              **common)
        for rid in delivered + [pending]:
            self.wait_inbox(dirs["HR"], rid)
        wait_for(lambda: all(env_lengths(db).get(r, -1) > 0
                             for r in delivered + [expiring, pending]),
                 20, what="all five stored at the hub")

        # Delivered to everyone: removed after 2 s.  Expired for BG:
        # removed 2 s after its expiry.  Still queued for BG: kept.
        wait_for(lambda: all(env_lengths(db)[r] == 0 for r in delivered),
                 30, what="delivered envelopes removed")
        wait_for(lambda: env_lengths(db)[expiring] == 0, 30,
                 what="expired envelope removed")
        self.assertGreater(env_lengths(db)[pending], 0)
        self.assertIn("retention: removed", self.hub_proc.logtext())

        # The chain keeps all five entries and still verifies.
        self.assertEqual(chain_ok(db), 5)
        r = subprocess.run([EWHUB, "audit", "verify", "--dir", hub],
                           capture_output=True, timeout=60)
        out = (r.stdout + r.stderr).decode()
        if "not available" not in out:
            self.assertEqual(r.returncode, 0, out)

        # The queued report still reaches BG; the expired one never does.
        self.agent_start(dirs["BG"])
        self.wait_inbox(dirs["BG"], pending)
        self.assertNotIn(expiring, [m["id"] for m in self.inbox(dirs["BG"])])
        wait_for(lambda: env_lengths(db)[pending] == 0, 30,
                 what="pending envelope removed once delivered")
        self.assertEqual(chain_ok(db), 5)
        # The origin still sees every report's outcome.
        states = {m["id"]: m for m in self.outbox(dirs["RS"])}
        self.assertEqual(len(states), 5)
        self.assertTrue(rs.alive())


if __name__ == "__main__":
    main()
