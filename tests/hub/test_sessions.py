"""The hub tracks each connection of a country on its own (issue 15,
items 2 and 5): a second connection with a country's real key that says
hello and leaves does not end the session of the country's agent, and
revoking one country cuts that country alone, the others keep their
sessions (no disconnect in traffic, no reconnect in their agents' logs)."""

import json
import os

from ewhtest import EWHUB, NodeCase, main, wait_for

EWH_PEER = os.environ.get("EWH_PEER", "ewh-peer")


class Sessions(NodeCase):

    def traffic(self):
        out = self.run_cmd([EWHUB, "traffic", "--dir", self.path("hub"),
                            "--json"]).stdout
        return [json.loads(x) for x in out.decode().splitlines() if x]

    def connected(self, cc):
        s = json.loads(self.run_cmd([EWHUB, "status", "--dir",
                                     self.path("hub"), "--json"]).stdout)
        return {n["country"]: n["connected"] for n in s["nodes"]}.get(cc)

    def peers(self, d):
        return json.loads(self.run_cmd([os.environ["EWNODE"], "peers",
                                        "--dir", d, "--json"]).stdout)

    def start_region(self, ccs):
        dirs = self.region(ccs)
        agents = {cc: self.agent_start(d) for cc, d in dirs.items()}
        for d in dirs.values():
            self.wait_ready(d)
        for cc in ccs:
            wait_for(lambda: self.connected(cc), what=cc + " connected")
        return dirs, agents

    def test_stray_connection_with_the_real_key(self):
        dirs, agents = self.start_region(["RS", "HR"])
        hub = self.path("hub")
        hub_log = self.hub_proc
        # A second client with RS's real key: hello, roster, then it goes.
        r = self.run_cmd([EWH_PEER, "recv", "--key",
                          os.path.join(dirs["RS"], "node.key"),
                          "--hub-pub", os.path.join(hub, "hub.pub"),
                          "--endpoint", self.endpoint, "--idle", "1",
                          "--timeout", "20", "--no-ack"], ok=False)
        self.assertIn(b'"type":"roster"', r.stdout)
        wait_for(lambda: "session moved to its other connection"
                 in hub_log.logtext() or "RS disconnected" in
                 hub_log.logtext(), what="the hub saw the stray go")
        self.assertTrue(self.connected("RS"))
        self.assertNotIn("RS disconnected", hub_log.logtext())
        # Deliveries still reach the real agent ...
        rid = self.submit(dirs["HR"], to="RS", level="high",
                          category="other", title="after the stray",
                          body="b")
        self.wait_inbox(dirs["RS"], rid)
        self.wait_recipients(dirs["HR"], rid, {"RS": "delivered"})
        # ... and so do roster pushes.
        v = self.peers(dirs["RS"])["version"]
        bg = self.node_init("BG", os.path.join(hub, "hub.pub"),
                            self.endpoint)
        self.run_cmd([EWHUB, "enroll", "--dir", hub,
                      os.path.join(bg, "node-BG.pub")])
        wait_for(lambda: self.peers(dirs["RS"])["version"] > v,
                 what="RS's agent got the new roster")
        self.assertIn("BG", [p["country"]
                             for p in self.peers(dirs["RS"])["peers"]])
        self.assertNotIn("disconnected from hub", agents["RS"].logtext())

    def test_revoke_cuts_one_country_only(self):
        ccs = ["RS", "HR", "BG", "MK"]
        dirs, agents = self.start_region(ccs)
        hub = self.path("hub")
        marks = {cc: len(agents[cc].logtext()) for cc in ccs}
        wait_for(lambda: {e["origin"] for e in self.traffic()
                          if e["event"] == "connected"} >= set(ccs),
                 what="every connection in traffic")
        n0 = len(self.traffic())
        self.run_cmd([EWHUB, "revoke", "--dir", hub, "MK"])
        # MK is told, cut, and refused when it comes back.
        wait_for(lambda: "disconnected from hub" in
                 agents["MK"].logtext()[marks["MK"]:],
                 what="MK's connection cut")
        wait_for(lambda: "hub refused this node" in
                 agents["MK"].logtext()[marks["MK"]:],
                 what="MK's reconnect refused")
        wait_for(lambda: not self.connected("MK"), what="MK disconnected")
        # The others got the roster with MK revoked over their sessions.
        for cc in ("RS", "HR", "BG"):
            wait_for(lambda: any(p["country"] == "MK" and p["revoked"]
                                 for p in self.peers(dirs[cc])["peers"]),
                     what=cc + " sees MK revoked")
        # Reports still flow between the others.
        rid = self.submit(dirs["RS"], to="HR,BG", level="high",
                          category="other", title="after revoke", body="b")
        self.wait_inbox(dirs["HR"], rid)
        self.wait_inbox(dirs["BG"], rid)
        # No disconnect for RS, HR, BG: not in their logs, not in traffic
        # (neither a disconnect nor a reconnect), while MK's is there.
        for cc in ("RS", "HR", "BG"):
            log = agents[cc].logtext()[marks[cc]:]
            self.assertNotIn("disconnected from hub", log, cc)
            self.assertNotIn("connected to hub", log, cc)
            self.assertTrue(self.connected(cc), cc)
        ev = wait_for(lambda: (lambda e: e if any(
            x["event"] == "disconnected" and x["origin"] == "MK" for x in e)
            else None)(self.traffic()[n0:]), what="MK's disconnect event")
        moved = [e for e in ev if e["event"] in ("connected", "disconnected")]
        self.assertEqual({e["origin"] for e in moved}, {"MK"}, moved)
        # MK was told why before its connection was cut.
        self.assertIn("this node is revoked",
                      agents["MK"].logtext()[marks["MK"]:])


if __name__ == "__main__":
    main()
