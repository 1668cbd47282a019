"""ewhub status and traffic reflect a scripted run exactly: counts by
level, a refused submit with its reason, connections and a disconnect."""

import json
import os

from ewhtest import HubCase, main, of_type, wait_for


class StatusTraffic(HubCase):

    def traffic(self, hubdir, *extra):
        out = self.ewhub("traffic", "--dir", hubdir, "--json", *extra).stdout
        return [json.loads(x) for x in out.decode().splitlines() if x]

    def test_scripted_run(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG"])
        # RS: 3 high + 2 low to HR, 1 medium to HR and BG.
        for lvl, n, to in (("high", 3, "HR"), ("low", 2, "HR"),
                           ("medium", 1, "HR,BG")):
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", to,
                                  "--count", n, "--level", lvl)
            self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                             ["accepted"] * n)
        # One refusal: an already expired report.
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--created-offset", "-100", "--expires", "10")
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]), ("refused", "expired"))
        # HR takes its 6 deliveries and goes away.
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count", 6)
        self.assertEqual(len(of_type(lines, "deliver")), 6)

        def st():
            s = self.status(hubdir)
            n = {x["country"]: x for x in s["nodes"]}
            return s if n["HR"]["received"]["last_hour"]["high"] == 3 and \
                not n["HR"]["connected"] else None
        s = wait_for(st, what="HR's deliveries and disconnect in status")
        n = {x["country"]: x for x in s["nodes"]}
        self.assertTrue(s["running"])
        self.assertEqual(n["RS"]["sent"]["last_hour"],
                         {"high": 3, "medium": 1, "low": 2})
        self.assertEqual(n["RS"]["sent"]["last_day"],
                         {"high": 3, "medium": 1, "low": 2})
        self.assertEqual(n["HR"]["received"]["last_hour"],
                         {"high": 3, "medium": 1, "low": 2})
        self.assertEqual(n["BG"]["received"]["last_day"],
                         {"high": 0, "medium": 0, "low": 0})
        self.assertEqual(n["BG"]["queued"]["medium"], 1)
        self.assertIsInstance(n["BG"]["oldest_queued_age_s"], int)
        self.assertIsNone(n["HR"]["oldest_queued_age_s"])
        self.assertIsInstance(n["HR"]["last_seen"], int)
        self.assertFalse(n["HR"]["connected"])
        self.assertEqual(s["totals"]["sent"]["last_hour"],
                         {"high": 3, "medium": 1, "low": 2})
        self.assertEqual(s["refusals"], [{"reason": "expired",
                                          "last_hour": 1, "last_day": 1,
                                          "retained": 1}])
        self.assertGreater(s["store"]["db_bytes"], 0)
        self.assertEqual(s["totals"]["accepted"], 6)
        self.assertEqual(s["totals"]["refused"], 1)
        text = self.ewhub("status", "--dir", hubdir).stdout.decode()
        self.assertIn("SENT 1H", text)
        self.assertIn("3/1/2", text)
        self.assertIn("expired 1/1/1", text)

        ev = wait_for(lambda: (lambda e: e if any(
            x["event"] == "disconnected" and x["origin"] == "HR" for x in e)
            else None)(self.traffic(hubdir)), what="disconnect event")
        kinds = [x["event"] for x in ev]
        acc = [x for x in ev if x["event"] == "accepted"]
        self.assertEqual(len(acc), 6)
        self.assertEqual(sorted(x["level"] for x in acc),
                         ["high"] * 3 + ["low"] * 2 + ["medium"])
        self.assertTrue(all(x["origin"] == "RS" and x["size"] > 0 and
                            len(x["id"]) == 32 for x in acc))
        self.assertEqual([x["recipients"] for x in acc
                          if x["level"] == "medium"], [["HR", "BG"]])
        [ref] = [x for x in ev if x["event"] == "refused"]
        self.assertEqual((ref["origin"], ref["code"], ref["reason"]),
                         ("RS", "expired", "already expired"))
        dl = [x for x in ev if x["event"] == "delivered"]
        self.assertEqual(len(dl), 6)
        self.assertEqual({x["id"] for x in dl}, {x["id"] for x in acc
                                                 if "HR" in x["recipients"]})
        self.assertTrue(all(x["recipients"] == ["HR"] and x["origin"] == "RS"
                            for x in dl))
        self.assertIn("connected", kinds)
        hr_gone = [i for i, x in enumerate(ev) if x["event"] ==
                   "disconnected" and x["origin"] == "HR"]
        self.assertGreater(hr_gone[0],
                           max(i for i, k in enumerate(kinds)
                               if k == "delivered"))
        # Text form and --since in the future: nothing.
        text = self.ewhub("traffic", "--dir", hubdir).stdout.decode()
        self.assertIn('reason="already expired"', text)
        self.assertEqual(self.traffic(hubdir, "--since",
                                      str(10 ** 10)), [])
        # No plaintext titles in events or logs (ewh-peer's default title).
        with open(os.path.join(hubdir, "store.db"), "rb") as f:
            self.assertNotIn(b"ewh-peer report", f.read())

    def test_connected_right_after_traffic_and_follow(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        fol = self.start([os.environ.get("EWHUB", "ewhub"), "traffic",
                          "--dir", hubdir, "--follow", "--json"], "follow")
        recv = self.peer_start("recv", peers["HR"], hubdir, "--count", 2,
                               "--timeout", 60, name="recv")
        wait_for(lambda: self.node_status(hubdir, "HR")["connected"],
                 what="HR connected in status")
        n = self.node_status(hubdir, "HR")
        self.assertIsInstance(n["connected_since"], int)
        self.peer("submit", peers["RS"], hubdir, "--to", "HR", "--count", 2)
        recv.wait(30)

        def followed():
            try:
                with open(fol.log_path) as f:
                    lines = [json.loads(x) for x in f.read().splitlines()
                             if x.startswith("{")]
            except OSError:
                return None
            k = [x["event"] for x in lines]
            return lines if k.count("accepted") == 2 and \
                k.count("delivered") == 2 else None
        lines = wait_for(followed, what="traffic --follow output")
        self.assertEqual(lines[0]["event"], "connected")
        fol.kill()


if __name__ == "__main__":
    main()
