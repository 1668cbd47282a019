"""The agent and a store held by another process: a SubmitAck that cannot
be stored because another connection holds the write lock past the busy
timeout is reported (EWH_E_BUSY, "locked by another connection"), the
agent lives on, and once the lock goes the report is sent again and ends
accepted — never lost, never refused."""

import os
import sqlite3

from ewhtest import NodeCase, node_main, wait_for


class StoreBusy(NodeCase):

    def test_submit_ack_while_store_locked(self):
        dirs = self.region(["RS", "HR"])  # HR stays offline
        rs = dirs["RS"]
        agent = self.agent_start(rs)
        self.wait_ready(rs)
        port = self.endpoint.rsplit(":", 1)[1]
        self.assertEqual(self.hub_proc.term(), 0)
        rid = self.submit(rs, to="HR", level="high", category="other",
                          title="t", body="b")
        # Another process takes the write lock before the hub is back, so
        # the agent meets it when the hub's SubmitAck arrives.
        db = sqlite3.connect(os.path.join(rs, "store.db"),
                             isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            self.hub_start(port=port, name="hub-2")
            # (The roster the hub sends first meets the lock too.)
            wait_for(lambda: "submit-ack id=%s: store: begin: the database "
                     "is locked by another connection" % rid in
                     agent.logtext(), 90, what="busy store reported")
            self.assertTrue(agent.alive())
            self.assertEqual({m["id"]: m["state"]
                              for m in self.outbox(rs)}[rid], "queued")
        finally:
            db.execute("ROLLBACK")
            db.close()
        m = self.wait_recipients(rs, rid, {"HR": "accepted"}, timeout=60)
        self.assertEqual(m["state"], "accepted")
        self.assertTrue(agent.alive())
        self.assertIn("roster not stored", agent.logtext())


if __name__ == "__main__":
    node_main()
