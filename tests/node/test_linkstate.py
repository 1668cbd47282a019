"""Nothing silent when the link is down (issue 15, item 6): `submit`,
`outbox`, `watch` and `peers` say when the agent is not running, has not
been connected since a given time (and why), or the hub refuses this
node; the agent says after a few seconds that the hub cannot be reached
and why."""

import json
import os

from ewhtest import EWHUB, EWNODE, NodeCase, node_main, wait_for


class LinkState(NodeCase):

    def link(self, d):
        r = self.ewnode("peers", "--dir", d, "--json")
        return json.loads(r.stdout)["link"]

    def watch_start(self, d, name):
        return self.start([EWNODE, "watch", "--dir", d, "--json"], name)

    def offline_node(self, endpoint="tcp://127.0.0.1:9"):
        hub = self.fake_hub()
        d = self.node_init("RS", os.path.join(hub, "hub.pub"), endpoint)
        hr = self.node_init("HR", os.path.join(hub, "hub.pub"), endpoint)
        f = self.sign_roster(hub, 1, [d, hr])
        self.ewnode("import-roster", "--dir", d, f)
        with open(os.path.join(d, "ewnode.conf"), "a") as c:
            c.write("reconnect_max_ms = 300\n")
        return d

    def test_agent_not_running(self):
        d = self.offline_node()
        r = self.ewnode("outbox", "--dir", d)
        self.assertIn("the agent is not running on " + d, r.stderr.decode())
        r = self.ewnode("submit", "--dir", d, "--to", "all", "--level",
                        "high", "--category", "other", "--title", "t",
                        "--body", "b")
        self.assertIn("the agent is not running", r.stderr.decode())
        self.assertEqual(len(self.outbox(d)), 1)  # queued for later
        r = self.ewnode("peers", "--dir", d)
        self.assertIn("the agent is not running", r.stderr.decode())
        self.assertEqual(self.link(d)["agent_running"], False)
        w = self.watch_start(d, "watch")
        wait_for(lambda: "the agent is not running" in w.logtext(),
                 what="watch says the agent is not running")
        w.term()

    def test_hub_unreachable(self):
        d = self.offline_node("tcp://127.0.0.1:1")
        agent = self.agent_start(d)
        wait_for(lambda: "cannot reach the hub at tcp://127.0.0.1:1" in
                 agent.logtext(), what="the agent says it cannot reach")
        self.assertIn("no TCP connection: Connection refused",
                      agent.logtext())
        wait_for(lambda: self.link(d)["state"] == "unreachable",
                 what="link state unreachable")
        r = self.ewnode("outbox", "--dir", d)
        err = r.stderr.decode()
        self.assertIn("has not been connected to the hub tcp://127.0.0.1:1 "
                      "since it started", err)
        self.assertIn("unreachable", err)
        r = self.ewnode("submit", "--dir", d, "--to", "HR", "--level", "low",
                        "--category", "other", "--title", "t", "--body", "b")
        self.assertIn("has not been connected", r.stderr.decode())
        w = self.watch_start(d, "watch")
        wait_for(lambda: "has not been connected" in w.logtext(),
                 what="watch says the agent is not connected")
        w.term()
        agent.term()
        r = self.ewnode("outbox", "--dir", d)
        self.assertIn("the agent is not running", r.stderr.decode())

    def test_revoked_node_is_told(self):
        dirs = self.region(["RS", "HR", "BG"])
        agents = {cc: self.agent_start(d) for cc, d in dirs.items()}
        for d in dirs.values():
            self.wait_ready(d)
        wait_for(lambda: self.link(dirs["RS"])["state"] == "connected",
                 what="RS connected")
        # Connected: nothing to say.
        r = self.ewnode("outbox", "--dir", dirs["RS"])
        self.assertEqual(r.stderr, b"")
        w = self.watch_start(dirs["RS"], "watch-rs")
        self.run_cmd([EWHUB, "revoke", "--dir", self.path("hub"), "RS"])
        wait_for(lambda: self.link(dirs["RS"])["state"] == "refused",
                 what="RS's agent knows it is refused")
        self.assertIn("this node is revoked", self.link(dirs["RS"])["reason"])
        # Cut, then refused at every reconnect: still refused.
        wait_for(lambda: "hub refused this node" in agents["RS"].logtext(),
                 what="RS's reconnect refused")
        self.assertEqual(self.link(dirs["RS"])["state"], "refused")
        before = len(self.outbox(dirs["RS"]))
        r = self.ewnode("submit", "--dir", dirs["RS"], "--to", "all",
                        "--level", "high", "--category", "other", "--title",
                        "t", "--body", "b", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the hub refuses this node", r.stderr.decode())
        self.assertIn("nothing queued", r.stderr.decode())
        self.assertEqual(len(self.outbox(dirs["RS"])), before)
        r = self.ewnode("peers", "--dir", dirs["RS"])
        self.assertIn("the hub refuses this node", r.stderr.decode())
        r = self.ewnode("outbox", "--dir", dirs["RS"])
        self.assertIn("the hub refuses this node", r.stderr.decode())
        wait_for(lambda: "the hub refuses this node" in w.logtext(),
                 what="watch says the hub refuses this node")
        w.term()
        # The others are fine and say nothing.
        r = self.ewnode("outbox", "--dir", dirs["HR"])
        self.assertEqual(r.stderr, b"")


if __name__ == "__main__":
    node_main()
