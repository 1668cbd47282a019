"""Hub key rotation: the hub announces its next keys in a roster signed
with the current key; after `rotate-keys --commit` and a restart the nodes
accept the new keys because the old key announced them.  A hub with keys
nobody announced is refused: nodes cannot connect and keep their pin."""

import json
import os
import re

from ewhtest import EWHUB, NodeCase, node_main, wait_for


def read(path):
    with open(path) as f:
        return f.read()


class Rotate(NodeCase):

    def peers(self, d):
        return json.loads(self.ewnode("peers", "--dir", d, "--json").stdout)

    def test_rotation_announced_then_committed(self):
        hub = self.path("hub")
        dirs = self.region(["RS", "HR"])
        agents = {cc: self.agent_start(d) for cc, d in dirs.items()}
        for d in dirs.values():
            self.wait_ready(d)
        port = self.endpoint.rsplit(":", 1)[1]
        old_fp = self.peers(dirs["RS"])["hub_fingerprint"]
        old_pub = read(os.path.join(hub, "hub.pub"))

        # Step 1: announce.  Every node keeps the next keys.
        r = self.run_cmd([EWHUB, "rotate-keys", "--dir", hub])
        new_fp = re.search(r"next fingerprint:\s+(\S+)",
                           r.stdout.decode()).group(1)
        self.assertNotEqual(new_fp, old_fp)
        for d in dirs.values():
            wait_for(lambda: os.path.exists(os.path.join(d, "hub.pub.next")),
                     20, what="next hub keys at " + d)
            self.assertEqual(self.peers(d)["hub_fingerprint"], old_fp)
        # Announcing twice is refused; commit while the hub runs too.
        r = self.run_cmd([EWHUB, "rotate-keys", "--dir", hub], ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already announced", r.stderr.decode())
        r = self.run_cmd([EWHUB, "rotate-keys", "--dir", hub, "--commit"],
                         ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("stop it first", r.stderr.decode())

        # Step 2: stop, commit, start on the same port.
        self.assertEqual(self.hub_proc.term(), 0)
        self.run_cmd([EWHUB, "rotate-keys", "--dir", hub, "--commit"])
        self.assertEqual(read(os.path.join(hub, "hub.pub.old")), old_pub)
        new_pub = read(os.path.join(hub, "hub.pub"))
        self.hub_start(port=port, name="hub-rotated")
        for cc, d in dirs.items():
            wait_for(lambda: read(os.path.join(d, "hub.pub")) == new_pub, 30,
                     what="%s pinned the new hub keys" % cc)
            self.assertEqual(self.peers(d)["hub_fingerprint"], new_fp)
            self.assertFalse(os.path.exists(os.path.join(d,
                                                         "hub.pub.next")))
            self.assertIn("hub keys rotated as announced",
                          agents[cc].logtext())
        # Reports flow under the new hub keys (checkpoints verify too).
        rid = self.submit(dirs["RS"], to="HR", level="high",
                          category="other", title="after rotation",
                          body="b")
        self.wait_inbox(dirs["HR"], rid)
        self.wait_recipients(dirs["RS"], rid, {"HR": "delivered"})
        self.assertNotIn("bad audit checkpoint",
                         agents["RS"].logtext())

        # A hub with keys the old key never announced: refused.
        self.assertEqual(self.hub_proc.term(), 0)
        rogue = self.path("rogue")
        self.run_cmd([EWHUB, "init", "--dir", rogue])
        for cc, d in dirs.items():
            self.run_cmd([EWHUB, "enroll", "--dir", rogue,
                          os.path.join(d, "node-%s.pub" % cc)])
        mark = len(agents["RS"].logtext())
        self.start([EWHUB, "run", "--dir", rogue, "--listen",
                    "tcp://127.0.0.1:%s" % port], "rogue-hub")
        wait_for(lambda: os.path.exists(os.path.join(rogue, "endpoint")), 20,
                 what="rogue hub up")
        rid2 = self.submit(dirs["RS"], to="HR", level="low",
                           category="other", title="not to the rogue",
                           body="b")
        wait_for(lambda: "wrong hub key?" in agents["RS"].logtext()[mark:],
                 30, what="RS refuses the unannounced hub key")
        for d in dirs.values():
            self.assertEqual(read(os.path.join(d, "hub.pub")), new_pub)
        out = {m["id"]: m for m in self.outbox(dirs["RS"])}
        self.assertEqual(out[rid2]["state"], "queued")
        self.assertNotIn("connected to hub", agents["RS"].logtext()[mark:])
        # Back to the real hub: the queued report goes out.
        self.procs[-1].term()
        self.hub_start(port=port, name="hub-back")
        self.wait_inbox(dirs["HR"], rid2)


if __name__ == "__main__":
    node_main()
