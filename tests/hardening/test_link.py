"""Issue 16, a country goes dark: real ewhub and ewnode agents.

Item 1: an agent whose handshake the hub refused (started before its
country was enrolled) reconnects by itself once the hub admits it."""

import os

from ewhtest import EWHUB, NodeCase, node_main, wait_for


class RefusedThenEnrolled(NodeCase):

    def test_agent_reconnects_after_a_refused_handshake(self):
        ep = self.hub_start()
        hub = self.path("hub")
        dirs = {}
        for cc in ("RS", "HR"):
            d = self.node_init(cc, os.path.join(hub, "hub.pub"), ep)
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
            dirs[cc] = d
        self.run_cmd([EWHUB, "enroll", "--dir", hub,
                      os.path.join(dirs["RS"], "node-RS.pub")])
        # HR's agent runs before HR is enrolled: the hub refuses it.
        hr = self.agent_start(dirs["HR"])
        wait_for(lambda: "hub refused this node" in hr.logtext(), 20,
                 what="refused handshake")
        self.run_cmd([EWHUB, "enroll", "--dir", hub,
                      os.path.join(dirs["HR"], "node-HR.pub")])
        self.enrolled = ["RS", "HR"]
        # Without a restart, HR's agent is admitted and gets the roster.
        wait_for(lambda: "session ready" in hr.logtext(), 30,
                 what="HR session ready after enrolment")
        rs = self.agent_start(dirs["RS"])
        self.wait_ready(dirs["RS"])
        rid = self.submit(dirs["RS"], to="HR", level="high", category="cyber", title="t",
                          body="b")
        self.wait_inbox(dirs["HR"], rid)
        self.assertTrue(hr.alive() and rs.alive())


if __name__ == "__main__":
    node_main()
