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

from ewhtest import main, wait_for
from pair import LONG, Pair, copy_keys


class Failover(Pair):

    def lose_hub_mid_stream(self):
        """Returns (saved keys of B, pending: every report not receipted by
        all its addressees, held: those of them B had accepted, done: the
        rest)."""
        self.pair_up()
        for cc in self.CCS:
            self.watch_start(cc)
        keys = self.path("hubB-keys")
        copy_keys(self.hub_dir("hubB"), keys)
        first = self.stream(3)
        self.all_arrive_once(first)
        # BG's agent goes down mid-stream: from now on nothing sent to BG
        # can be receipted by all its addressees.
        self.agent_down("BG")
        held = set(self.stream(2, origins=["RS", "HR"], must="BG"))
        wait_for(lambda: self.hub_accepted("hubB") >= held, LONG,
                 what="hub B accepting the reports to BG")
        more = self.stream(2, origins=["RS", "HR"])
        # Mid-stream: B has taken part of it, and dies with its disk.
        self.assertTrue(self.hub_accepted("hubB") & set(first))
        self.hub_proc("hubB").kill()
        shutil.rmtree(self.hub_dir("hubB"))
        self.assertFalse(os.path.exists(self.hub_dir("hubB")))
        after = self.stream(3, origins=["RS", "HR"])
        # RS and HR get everything through A, once (BG had all of first).
        self.all_arrive_once(ccs=["RS", "HR"])
        # Only A could take what was sent after B died (a report to BG
        # alone is not waited for above: wait for A's accept of it).
        wait_for(lambda: set(after) <= self.hub_accepted("hubA"), LONG,
                 what="hub A accepting every report sent after B died")
        for cc in self.CCS:
            row = self.hub_row(cc, "hubB")
            self.assertIsNotNone(row, "hub B gone from %s's list" % cc)
            if cc != "BG":
                self.assertFalse(row["connected"], row)
        # Shown once: each officer's watch printed each report once.
        want = self.want_by_country(first + list(held) + more + after)
        for cc in ("RS", "HR"):
            wait_for(lambda: set(self.watched(cc)) >= want[cc], LONG,
                     what="%s's watch showing every report" % cc)
            seen = self.watched(cc)
            self.assertEqual(sorted(seen), sorted(want[cc]),
                             "%s's watch showed a report twice or one not "
                             "for it" % cc)
        pending = {rid for rid in held | set(more) | set(after)
                   if "BG" in self.sent[rid][1]}
        self.assertTrue(held < pending, "nothing only the fresh hub lacks")
        done = set(self.sent) - pending
        return keys, pending, held, done

    def refill_and_deliver(self, pending, held, done, event):
        """The fresh hub B: refilled with exactly the pending reports
        (those the lost B had accepted marked as resent); with A gone
        too, it alone brings them to BG, once."""
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
        # Its status (written by the running hub every few seconds)
        # shows them queued for BG.

        def queued_bg():
            st = self.hub_status("hubB")
            return [n for n in st["nodes"] if n["country"] == "BG"][0][
                "queued"]["total"]
        wait_for(lambda: queued_bg() == len(pending), LONG,
                 what="the fresh hub's status showing them queued for BG")
        if event:
            # The origins' outboxes say why the report went again.
            self.assert_resent(held, "hubB")
        # A goes too: only the refilled hub can bring them.
        self.hub_proc("hubA").kill()
        self.agent_up("BG")
        self.all_arrive_once(pending, ccs=["BG"])
        self.all_arrive_once()
        wait_for(lambda: sorted(self.watched("BG")) ==
                 sorted(self.want_by_country(self.sent)["BG"]), LONG,
                 what="BG's watch showing each report once")

    def test_lost_hub_rebuilt_with_its_keys_is_refilled(self):
        keys, pending, held, done = self.lose_hub_mid_stream()
        # The operator rebuilds B: its saved keys, an empty store, the
        # countries enrolled again, at the same endpoint.
        b = self.hub_make("hubB-new", keys_from=keys)
        self.enroll_all(b)
        self.hub_run("hubB", b)
        for cc in self.CCS:
            if cc != "BG":
                self.wait_hubs_connected(cc, ["hubB"])
        self.refill_and_deliver(pending, held, done, event=True)
        for cc in ("RS", "HR"):
            row = self.hub_row(cc, "hubB")
            self.assertGreaterEqual(row.get("refills", 0), 1, row)
            log = self.agents[cc].logtext()
            self.assertIn("lost data", log)

    def test_lost_hub_replaced_with_a_new_key_is_refilled(self):
        keys, pending, held, done = self.lose_hub_mid_stream()
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
        self.refill_and_deliver(pending, held, done, event=False)


if __name__ == "__main__":
    main()
