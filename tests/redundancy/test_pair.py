"""Both hubs up (issue 18): every report goes to both, yet nothing is shown
twice and every receipt reaches its origin once; the outbox shows each
hub's durable accept; `min_hubs = 2` keeps a report "queued" until both
hubs acknowledged it.  Priority: high before medium before low at each
hub, and a node with two hubs receives a high report from whichever is
faster (the other SIGSTOPped, or SIGKILLed)."""

import json
import signal

from ewhtest import main, wait_for
from pair import LEVELS, LONG, Pair, node_sqlite


class BothUp(Pair):

    def test_nothing_twice_every_receipt_once(self):
        self.pair_up()
        for cc in self.CCS:
            self.watch_start(cc)
        ids = self.stream(5)
        self.all_arrive_once()
        # Each officer is shown each report once.
        want = self.want_by_country(self.sent)
        for cc in self.CCS:
            wait_for(lambda: set(self.watched(cc)) >= want[cc], LONG,
                     what="%s's watch" % cc)
            self.assertEqual(sorted(self.watched(cc)), sorted(want[cc]))
        # Both hubs took every report, and the outbox says so per hub.
        eps = {self.hub_ep("hubA"), self.hub_ep("hubB")}

        def both_accepts():
            for cc in self.CCS:
                for m in self.outbox(self.n[cc]):
                    if self.accepted_by(m) != eps:
                        return None
            return True
        wait_for(both_accepts, LONG, what="every outbox entry accepted by "
                 "both hubs")
        for name in ("hubA", "hubB"):
            self.assertEqual(self.hub_accepted(name), set(ids), name)
        # Acknowledgements: HR's officer acknowledges what it got.
        acked = sorted(want["HR"])[:4]
        for rid in acked:
            self.ewnode("ack", "--dir", self.n["HR"], rid, "--who",
                        "HR duty officer")

        def acks_in():
            for rid in acked:
                m = self.outbox_entry(self.sent[rid][0], rid)
                if m["recipients"]["HR"] != "acknowledged":
                    return None
            return True
        wait_for(acks_in, LONG, what="acknowledgements at their origins")
        # Every receipt once at its origin: one row per report, addressee
        # and kind, and no other.
        for origin in self.CCS:
            con = node_sqlite(self.n[origin])
            rows = con.execute("SELECT id, from_cc, kind FROM receipt_in"
                               ).fetchall()
            con.close()
            mine = {(rid, cc) for rid, (o, to, _) in self.sent.items()
                    if o == origin for cc in to}
            kinds = {}
            for rid, cc, kind in rows:
                self.assertIn((rid, cc), mine)
                kinds.setdefault(kind, []).append((rid, cc))
            delivered = min(kinds)
            self.assertEqual(sorted(kinds[delivered]), sorted(mine))
            for k, pairs in kinds.items():
                self.assertEqual(len(pairs), len(set(pairs)))
        # Each hub got its deliveries acknowledged (the second copy is
        # acknowledged and dropped) and relayed every receipt: nothing
        # waits at either hub.

        def drained(name):
            st = self.hub_status(name)
            return all(n["queued"]["total"] == 0 and
                       n["deliveries_unacknowledged"] == 0 and
                       n["receipts_waiting"] == 0 for n in st["nodes"])
        for name in ("hubA", "hubB"):
            wait_for(lambda: drained(name), LONG,
                     what="%s with nothing waiting" % name)
        # Still once, after both hubs delivered everything.
        self.all_arrive_once()
        for cc in self.CCS:
            self.assertEqual(sorted(self.watched(cc)), sorted(want[cc]))

    def test_min_hubs_two(self):
        self.pair_up(conf="min_hubs = 2\n")
        rs = self.n["RS"]
        self.agent_down("HR")
        self.hub_proc("hubB").signal(signal.SIGSTOP)
        try:
            rid = self.send("RS", ["HR"], level="high")
            wait_for(lambda: self.accepted_by(self.outbox_entry("RS", rid))
                     == {self.hub_ep("hubA")}, LONG,
                     what="hub A's accept in RS's outbox")
            # One durable accept of the two required: not accepted.  (It
            # would be by now with min_hubs 1; see the control below.)
            m = self.outbox_entry("RS", rid)
            self.assertEqual(m["state"], "queued", m)
        finally:
            self.hub_proc("hubB").signal(signal.SIGCONT)
        wait_for(lambda: self.outbox_entry("RS", rid)["state"] ==
                 "accepted", LONG, what="accepted once B acknowledged")
        self.assertEqual(self.accepted_by(self.outbox_entry("RS", rid)),
                         {self.hub_ep("hubA"), self.hub_ep("hubB")})
        self.agent_up("HR")
        self.all_arrive_once()

    def test_min_hubs_one_is_accepted_by_either(self):
        """The control for test_min_hubs_two: with the default, one hub's
        accept is enough while the other is stopped."""
        self.pair_up()
        self.hub_proc("hubB").signal(signal.SIGSTOP)
        try:
            rid = self.send("RS", ["HR"], level="high")
            m = wait_for(lambda: (lambda m: m if m["state"] == "accepted"
                                  else None)(self.outbox_entry("RS", rid)),
                         LONG, what="accepted by hub A alone")
            self.assertEqual(self.accepted_by(m), {self.hub_ep("hubA")})
            self.wait_inbox(self.n["HR"], rid, timeout=LONG)
        finally:
            self.hub_proc("hubB").signal(signal.SIGCONT)
        self.all_arrive_once()

    def test_priority_at_each_hub(self):
        self.pair_up()
        self.agent_down("BG")
        # Queued for BG low first, then medium, then high.
        order = []
        for level in ("low", "medium", "high"):
            for i in range(4):
                origin = "RS" if i % 2 else "HR"
                order.append(self.send(origin, ["BG"], level=level))
        for name in ("hubA", "hubB"):
            wait_for(lambda: self.hub_accepted(name) >= set(order), LONG,
                     what="%s holding all twelve" % name)
        # Each hub, asked by BG's own key (not acknowledging, so each hub
        # keeps them for BG's agent), sends high, then medium, then low.
        # Its level windows let only some medium and low reports be in
        # flight unacknowledged: every high and at least one more come.
        for name in ("hubA", "hubB"):
            r = self.run_cmd(self.peer_argv_recv("BG", name, len(order),
                                                 "--no-ack", "--idle", "10",
                                                 "--timeout", "170"),
                             ok=False, timeout=LONG)
            lines = [json.loads(x) for x in r.stdout.decode().splitlines()
                     if x.strip()]
            got = [x for x in lines if x.get("type") == "deliver"]
            ids = [x["id"] for x in got]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertTrue(set(ids) <= set(order), got)
            levels = [x["level"] for x in got]
            self.assertGreater(len(levels), 4, lines)
            self.assertEqual(levels[:4], ["high"] * 4, levels)
            self.assertEqual(levels, sorted(levels, key=LEVELS.index),
                             "%s delivered out of priority: %r" %
                             (name, levels))
        self.agent_up("BG")
        self.all_arrive_once()
        # BG's agent, served by both hubs at once, stored them (first
        # copies, in its store's order) high first, then medium, then low.
        con = node_sqlite(self.n["BG"])
        stored = [i for (i,) in con.execute(
            "SELECT id FROM msg WHERE dir = 'in' ORDER BY seq")
            if i in set(order)]
        con.close()
        self.assertEqual(sorted(stored), sorted(order))
        levels = [self.sent[i][2] for i in stored]
        self.assertEqual(levels, sorted(levels, key=LEVELS.index), levels)

    def high_through(self, fast, slow, how):
        """A high report RS -> HR while hub `slow` is stopped or dead."""
        p = self.hub_proc(slow)
        if how == "stop":
            p.signal(signal.SIGSTOP)
        else:
            p.kill()
        try:
            rid = self.send("RS", ["HR"], level="high",
                            title="high while %s is %s" % (slow, how))
            self.wait_inbox(self.n["HR"], rid, timeout=LONG)
            self.assertIn(rid, self.hub_accepted(fast))
            if how == "stop":
                self.assertTrue(p.alive())
        finally:
            if how == "stop":
                p.signal(signal.SIGCONT)
        return rid

    def test_high_from_whichever_hub_is_faster(self):
        self.pair_up()
        self.watch_start("HR")
        # B stopped: A brings it.  Then A (hub #0, the pinned one)
        # stopped: B brings it.  Then A killed outright.
        r1 = self.high_through("hubA", "hubB", "stop")
        r2 = self.high_through("hubB", "hubA", "stop")
        r3 = self.high_through("hubB", "hubA", "kill")
        self.hub_run("hubA")
        # Whatever copies the late hub brings are acknowledged and
        # dropped: each shown once, nothing left waiting at either hub.

        def hr_drained(name):
            st = self.hub_status(name)
            hr = [n for n in st["nodes"] if n["country"] == "HR"][0]
            return hr["queued"]["total"] == 0 and \
                hr["deliveries_unacknowledged"] == 0
        for name in ("hubA", "hubB"):
            wait_for(lambda: hr_drained(name), LONG,
                     what="%s's deliveries to HR acknowledged" % name)
        self.all_arrive_once()
        wait_for(lambda: sorted(self.watched("HR")) == sorted([r1, r2, r3]),
                 LONG, what="HR's watch showing each once")


if __name__ == "__main__":
    main()
