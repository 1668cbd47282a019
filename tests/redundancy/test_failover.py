"""A hub lost for good (issue 18): two hubs, three nodes, a stream of
reports from each; one hub is SIGKILLed **and its directory deleted** in
the middle of the stream.  Every report reaches every addressee exactly
once through the other hub, and each officer is shown it once.  Then a
fresh, empty hub is put in its place at the same endpoint -- with the
lost hub's keys restored (the nodes see its chain empty, behind their
checkpoints) or with a new key (`ewnode hubs remove` + `hubs add`) -- and
the nodes refill it with every report not yet receipted by all its
addressees: the fresh hub's store holds exactly those, the origins'
outboxes say so, and with the other hub gone as well the fresh hub alone
brings them to their addressee, once."""

import os
import shutil
import signal

from ewhtest import main, wait_for
from pair import LONG, Pair, copy_keys


class Failover(Pair):

    def lose_hub_mid_stream(self):
        self.pair_up()
        for cc in self.CCS:
            self.watch_start(cc)
        keys = self.path("hubB-keys")
        copy_keys(self.hub_dir("hubB"), keys)
        first = self.stream(4)
        # Mid-stream: B has taken part of it.
        wait_for(lambda: self.hub_accepted("hubB") & set(first), LONG,
                 what="hub B accepting part of the stream")
        more = self.stream(2)
        self.hub_proc("hubB").kill()
        shutil.rmtree(self.hub_dir("hubB"))
        self.assertFalse(os.path.exists(self.hub_dir("hubB")))
        after = self.stream(4)
        self.all_arrive_once()
        # Only A could bring what was sent after B died.
        self.assertTrue(set(after) <= self.hub_accepted("hubA"))
        for cc in self.CCS:
            row = self.hub_row(cc, "hubB")
            self.assertIsNotNone(row, "hub B gone from %s's list" % cc)
            self.assertFalse(row["connected"], row)
        # Shown once: each officer's watch printed each report once.
        want = self.want_by_country(self.sent)
        for cc in self.CCS:
            wait_for(lambda: set(self.watched(cc)) >= want[cc], LONG,
                     what="%s's watch showing every report" % cc)
            seen = self.watched(cc)
            self.assertEqual(sorted(seen), sorted(want[cc]),
                             "%s's watch showed a report twice or one not "
                             "for it" % cc)
        # Reports not yet receipted: BG's agent is down, so nothing sent
        # to BG from now on can be receipted by all its addressees.
        self.agent_down("BG")
        pending = self.stream(3, origins=["RS", "HR"], must="BG")
        self.all_arrive_once(pending, ccs=["RS", "HR"])
        done = set(self.sent) - set(pending)
        return keys, set(pending), done, first + more

    def refill_and_deliver(self, pending, done, event):
        """The fresh hub B: refilled with exactly the pending reports;
        with A gone too, it alone brings them to BG, once."""
        def refilled():
            got = self.hub_accepted("hubB")
            return got if got >= pending else None
        got = wait_for(refilled, LONG, interval=0.5,
                       what="the fresh hub refilled with what is not yet "
                       "receipted")
        self.assertEqual(got & done, set(),
                         "receipted reports sent to the fresh hub again")
        self.assertEqual(got, pending)
        self.assertTrue(pending <= self.hub_envelope_ids("hubB"))
        st = self.hub_status("hubB")
        bg = [n for n in st["nodes"] if n["country"] == "BG"][0]
        self.assertEqual(bg["queued"]["total"], len(pending))
        if event:
            # The origins' outboxes say why the report went again.
            self.assert_resent(pending, "hubB")
        # A goes too: only the refilled hub can bring them.
        self.hub_proc("hubA").kill()
        self.agent_up("BG")
        self.all_arrive_once(pending, ccs=["BG"])
        self.all_arrive_once()
        wait_for(lambda: sorted(self.watched("BG")) ==
                 sorted(self.want_by_country(self.sent)["BG"]), LONG,
                 what="BG's watch showing each report once")

    def test_lost_hub_rebuilt_with_its_keys_is_refilled(self):
        keys, pending, done, before_kill = self.lose_hub_mid_stream()
        # The operator rebuilds B: its saved keys, an empty store, the
        # countries enrolled again, at the same endpoint.
        b = self.hub_make("hubB-new", keys_from=keys)
        self.enroll_all(b)
        self.hub_run("hubB", b)
        for cc in self.CCS:
            if cc != "BG":
                self.wait_hubs_connected(cc, ["hubB"])
        self.refill_and_deliver(pending, done, event=True)
        for cc in ("RS", "HR"):
            row = self.hub_row(cc, "hubB")
            self.assertGreaterEqual(row.get("refills", 0), 1, row)
            log = self.agents[cc].logtext()
            self.assertIn("lost data", log)

    def test_lost_hub_replaced_with_a_new_key_is_refilled(self):
        keys, pending, done, _ = self.lose_hub_mid_stream()
        b = self.hub_make("hubB-new")
        self.enroll_all(b)
        old_ep = self.hub_ep("hubB")
        self.hub_run("hubB", b)
        self.assertEqual(self.hub_ep("hubB"), old_ep)
        # A new key at the same endpoint is a different hub: the node
        # must not take it for the old one.
        with open(os.path.join(keys, "hub.pub")) as f:
            old_pub = f.read()
        with open(os.path.join(b, "hub.pub")) as f:
            self.assertNotEqual(f.read(), old_pub)
        for cc in self.CCS:
            self.hubs_remove(cc, "hubB")
            self.hubs_add(cc, "hubB")
        for cc in ("RS", "HR"):
            self.wait_hubs_connected(cc, ["hubA", "hubB"])
        self.refill_and_deliver(pending, done, event=False)


if __name__ == "__main__":
    main()
