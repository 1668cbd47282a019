"""ewhub with a full store (a tiny [store] max_pages quota): new submits
are refused with disk-full and retry, the daemon stays alive, and every
report acknowledged before is still delivered."""

from ewhtest import HubCase, main, of_type, wait_for


class DiskFull(HubCase):

    def test_full_store_refuses_and_keeps_acknowledged(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"],
                                           conf="[store]\nmax_pages = 48")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "150", "--body-bytes", "3000",
                              "--window", "1", "--level", "high")
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), 150)
        accepted = [a["id"] for a in acks if a["status"] == "accepted"]
        refused = [a for a in acks if a["status"] == "refused"]
        self.assertTrue(accepted, "nothing fitted")
        self.assertTrue(refused, "the quota was never reached")
        for a in refused:
            self.assertEqual(a["code"], "disk-full", a)
            self.assertTrue(a["retry"], a)
        # Once full, it stays full: the refusals come after the accepts.
        first_refused = [a["status"] for a in acks].index("refused")
        self.assertNotIn("accepted",
                         [a["status"] for a in acks[first_refused:]])
        self.assertTrue(hub.alive())
        self.assertIn("store full", hub.logtext())
        st = self.status(hubdir)
        self.assertTrue(st["running"])
        # Everything acknowledged is delivered (and the acks are stored).
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                              len(accepted), "--credit", "8")
        self.assertEqual([d["id"] for d in of_type(lines, "deliver")],
                         accepted)
        wait_for(lambda: self.node_status(hubdir, "HR")["queued"]["total"]
                 == 0, 10, what="HR's queue drained")
        # Still refusing, still alive.
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--body-bytes", "3000")
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]), ("refused",
                                                        "disk-full"))
        self.assertTrue(hub.alive())


if __name__ == "__main__":
    main()
