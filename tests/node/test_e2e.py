"""End to end with real processes: a hub and three nodes (RS, HR, BG) on
127.0.0.1.  Delivery, watch, acknowledgement and the sender's view; submit
while the agent and while the hub is down; update and cancel linking; a
report for HR alone never reaches BG's disk in a form BG can open."""

import json
import os
import signal
import sqlite3
import subprocess

from ewhtest import (EWHUB, EWNODE, NodeCase, node_main, wait_for,
                     TEST_DATA)


def watch_lines(proc):
    return [json.loads(line) for line in proc.logtext().splitlines()
            if line.startswith("{")]


class E2ETest(NodeCase):

    def test_region(self):
        n = self.region(["RS", "HR", "BG"])
        rs, hr, bg = n["RS"], n["HR"], n["BG"]
        agents = {cc: self.agent_start(d) for cc, d in n.items()}
        for d in n.values():
            self.wait_ready(d, 3)
        w_hr = self.start([EWNODE, "watch", "--dir", hr, "--json"],
                          "watch-HR")
        w_bg = self.start([EWNODE, "watch", "--dir", bg, "--json"],
                          "watch-BG")

        # -- a high report to all: inbox, watch, ack, outbox --
        rid = self.submit(rs, level="high", to="all",
                          category="border-security",
                          title="Armed group massing at crossing",
                          body="Seen at 05:00.\nAbout 40 people.")
        for d in (hr, bg):
            m = self.wait_inbox(d, rid)
            self.assertEqual(m["level"], "high")
            self.assertEqual(m["origin"], "RS")
            self.assertEqual(m["type"], "alert")
            self.assertEqual(m["title"], "Armed group massing at crossing")
            self.assertFalse(m["acknowledged"])
            for k in ("category", "tlp", "created_at", "received_at"):
                self.assertIn(k, m)
        for w in (w_hr, w_bg):
            got = wait_for(lambda: [x for x in watch_lines(w)
                                    if x["id"] == rid],
                           what="watch shows " + rid)
            self.assertEqual(len(got), 1)
            self.assertEqual(got[0]["body"], "Seen at 05:00.\nAbout 40 people.")
        self.ewnode("ack", "--dir", hr, rid, "--who", "officer on duty")
        self.assertTrue(self.inbox(hr)[0]["acknowledged"])
        self.wait_recipients(rs, rid, {"HR": "acknowledged",
                                       "BG": "delivered"})

        # -- submit while RS's agent is stopped --
        self.assertEqual(agents["RS"].term(), 0)
        r2 = self.submit(rs, level="medium", to="HR,BG", category="cyber",
                         title="Agent down", body="queued offline")
        self.assertEqual(self.outbox(rs)[0]["recipients"],
                         {"HR": "queued", "BG": "queued"})
        agents["RS"] = self.agent_start(rs, "agent-RS-2")
        for d in (hr, bg):
            self.wait_inbox(d, r2)
        self.wait_recipients(rs, r2, {"HR": "delivered", "BG": "delivered"})

        # -- submit while the hub is stopped --
        port = self.endpoint.rsplit(":", 1)[1]
        self.assertEqual(self.hub_proc.term(), 0)
        r3 = self.submit(rs, level="low", to="all", category="disaster",
                         title="Hub down", body="queued while hub stopped")
        self.hub_start(port=port, name="hub-2")
        for d in (hr, bg):
            self.wait_inbox(d, r3, timeout=60)

        # -- update and cancel, linked in the recipients' inboxes --
        up = self.submit(rs, updates=rid, title="Group now 80 people",
                         body="Numbers doubled.")
        cn = self.submit(rs, cancels=up, body="False alarm: exercise.")
        for d in (hr, bg):
            mu = self.wait_inbox(d, up)
            mc = self.wait_inbox(d, cn)
            self.assertEqual(mu["type"], "update")
            self.assertEqual(mu["references"], [rid])
            self.assertEqual(mc["type"], "cancel")
            self.assertEqual(mc["references"], [up, rid])
            byid = {m["id"]: m for m in self.inbox(d)}
            self.assertEqual(byid[rid]["superseded_by"], cn)
            self.assertEqual(byid[rid]["superseded_type"], "cancel")
            self.assertEqual(byid[up]["superseded_by"], cn)
            self.assertIsNone(byid[cn]["superseded_by"])
        # the recipient's CAP export of the update validates too
        xml = self.ewnode("show", "--dir", hr, up, "--format",
                          "cap").stdout
        r = subprocess.run(["xmllint", "--noout", "--schema",
                            os.path.join(TEST_DATA, "cap",
                                         "CAP-v1.2.xsd"), "-"],
                           input=xml, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"<msgType>Update</msgType>", xml)

        # -- a report for HR alone never reaches BG's disk --
        title = "Only for Zagreb 7f3e"
        secret = self.submit(rs, level="high", to="HR", category="terrorism",
                             title=title, body="HR eyes only 9c1d")
        after = self.submit(rs, level="low", to="BG", category="other",
                            title="For BG", body="sent after")
        self.wait_inbox(hr, secret)
        self.wait_inbox(bg, after)  # BG has caught up past `secret`
        self.assertNotIn(secret, [m["id"] for m in self.inbox(bg)])
        needles = [secret.encode(), bytes.fromhex(secret), title.encode(),
                   b"HR eyes only 9c1d"]
        for root, _, files in os.walk(bg):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    data = fh.read()
                for nd in needles:
                    self.assertNotIn(nd, data, "%s found in %s" % (nd, f))
        db = sqlite3.connect(os.path.join(rs, "store.db"))
        env = db.execute("SELECT envelope FROM msg WHERE id = ?",
                         (secret,)).fetchone()[0]
        db.close()
        r = self.ewnode("open", "--dir", bg, "-", input=env, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not addressed to BG", r.stderr)
        self.assertEqual(json.loads(self.ewnode(
            "open", "--dir", hr, "-", input=env).stdout)["title"], title)

        # -- SIGKILL the receiving agent mid-flow: all arrive, once --
        burst = [self.submit(rs, level=("high", "medium", "low")[i % 3],
                             to="HR", category="cyber",
                             title="burst %d" % i, body="b")
                 for i in range(30)]
        wait_for(lambda: len(self.inbox(hr)) >= 8, what="burst started")
        agents["HR"].kill()
        agents["HR"] = self.agent_start(hr, "agent-HR-2")
        for rid_b in burst:
            self.wait_inbox(hr, rid_b)
        for rid_b in burst:
            self.wait_recipients(rs, rid_b, {"HR": "delivered"})

        # -- expiry: BG's agent is down past the report's expiry --
        self.assertEqual(agents["BG"].term(), 0)
        gone = self.submit(rs, level="medium", to="BG", category="other",
                           title="short-lived", body="b", expires="2s")
        m = self.wait_recipients(rs, gone, {"BG": "expired"}, timeout=30)
        self.assertIn("BG", m["reasons"])
        agents["BG"] = self.agent_start(bg, "agent-BG-2")
        late = self.submit(rs, level="low", to="BG", category="other",
                           title="after expiry", body="b")
        self.wait_inbox(bg, late)
        self.assertNotIn(gone, [x["id"] for x in self.inbox(bg)])

        # -- nothing shown twice; clean exits --
        for d in (hr, bg):
            ids = [m["id"] for m in self.inbox(d)]
            self.assertEqual(len(ids), len(set(ids)))
        for w in (w_hr, w_bg):
            ids = [x["id"] for x in watch_lines(w)]
            self.assertEqual(len(ids), len(set(ids)), ids)
            w.signal(signal.SIGTERM)
            self.assertEqual(w.wait(10), 0)
        for a in agents.values():
            self.assertEqual(a.term(), 0)
            self.assertIn("exiting", a.logtext())
            for nd in (b"Armed group", b"HR eyes only"):
                self.assertNotIn(nd.decode(), a.logtext())
        self.assertEqual(self.hub_proc.term(), 0)

    def test_receipt_refused_for_good_is_not_resent(self):
        """A hub restored from a backup taken before a report was accepted
        no longer knows the report, so it refuses the recipient's receipt
        for it: the agent stops sending that receipt instead of sending it
        again on every session and every 30 s."""
        n = self.region(["RS", "HR"])
        rs, hr = n["RS"], n["HR"]
        hub = self.path("hub")
        agents = {cc: self.agent_start(d) for cc, d in n.items()}
        for d in n.values():
            self.wait_ready(d, 2)
        backup = self.path("before.db")
        self.run_cmd([EWHUB, "backup", "--dir", hub, backup])
        rid = self.submit(rs, level="high", to="HR", category="cyber",
                          title="After the backup", body="lost at the hub")
        self.wait_inbox(hr, rid)
        self.wait_recipients(rs, rid, {"HR": "delivered"})
        # Restore the backup, as docs/operations.md says.
        port = self.endpoint.rsplit(":", 1)[1]
        self.assertEqual(self.hub_proc.term(), 0)
        for sfx in ("", "-wal", "-shm"):
            if os.path.exists(os.path.join(hub, "store.db" + sfx)):
                os.rename(os.path.join(hub, "store.db" + sfx),
                          os.path.join(hub, "old.db" + sfx))
        os.rename(backup, os.path.join(hub, "store.db"))
        self.hub_start(port=port, name="hub-2")
        self.ewnode("ack", "--dir", hr, rid, "--who", "officer on duty")

        def sent(kind):
            con = sqlite3.connect("file:%s?mode=ro" %
                                  os.path.join(hr, "store.db"), uri=True,
                                  timeout=10)
            try:
                return con.execute("SELECT done FROM receipt_out WHERE id = ?"
                                   " AND kind = ?", (rid, kind)).fetchone()
            finally:
                con.close()
        wait_for(lambda: sent(2) == (1,), 20,
                 what="acknowledged receipt marked done")
        refusal = "refused receipt from=HR"
        self.assertEqual(self.hub_proc.logtext().count(refusal), 1)
        self.assertIn("hub refused acknowledged receipt id=" + rid,
                      agents["HR"].logtext())
        # A new session sends every receipt not yet done: not this one.
        self.assertEqual(agents["HR"].term(), 0)
        agents["HR"] = self.agent_start(hr, "agent-HR-2")
        # HR's receipt for r2 comes after, on the same session, whatever it
        # sent again when the session began.
        r2 = self.submit(rs, level="low", to="HR", category="cyber",
                         title="After the restore", body="delivered")
        self.wait_recipients(rs, r2, {"HR": "delivered"})
        self.assertEqual(self.hub_proc.logtext().count(refusal), 1)
        # RS never heard of the acknowledgement: the hub had nothing to
        # relay.
        [m] = [m for m in self.outbox(rs) if m["id"] == rid]
        self.assertEqual(m["recipients"], {"HR": "delivered"})
        for a in agents.values():
            self.assertEqual(a.term(), 0)
        self.assertEqual(self.hub_proc.term(), 0)


if __name__ == "__main__":
    node_main()
