"""Issue 16 at the hub, played with ewh-peer against a real ewhub.

Item 12: a country revoked a moment ago cannot connect (the ZAP handler
reads the roster as it is now, not the loop's copy of up to 250 ms ago)."""

import time

from ewhtest import HubCase, node_main, of_type, wait_for


class RevokeWindow(HubCase):

    def test_no_window_after_a_revoke(self):
        victims = ["HR", "BG", "MK", "AL", "ME", "SI"]
        hubdir, peers, hub = self.hub_with(["RS"] + victims)
        for cc in victims:
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", cc)
            self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        admitted = []
        for cc in victims:
            # Connect right after the revoke has committed.
            self.ewhub("revoke", "--dir", hubdir, cc)
            t0 = time.monotonic()
            rc, lines = self.peer("recv", peers[cc], hubdir, "--timeout",
                                  "2", "--idle", "2", ok=False)
            ev = [x["event"] for x in of_type(lines, "link")]
            if "up" in ev or of_type(lines, "deliver") or \
                    of_type(lines, "roster"):
                admitted.append((cc, ev, len(of_type(lines, "deliver")),
                                 round(time.monotonic() - t0, 2)))
        self.assertEqual(admitted, [], "revoked countries admitted")
        wait_for(lambda: hub.logtext().count("zap: refused") >= len(victims),
                 10, what="refusals logged")
        self.assertTrue(hub.alive())


if __name__ == "__main__":
    node_main()
