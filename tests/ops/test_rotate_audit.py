"""`ewhub audit verify` after hub key rotations (issue 15, item 3): each
signed checkpoint is checked against the hub key in force when it was
signed (the rotation chain), so the audit says OK after a normal
rotation, after two, and after a restore of a backup into a directory
holding the keys; a chain with the old keys missing is a mismatch."""

import json
import os
import shutil

from ewhtest import EWHUB, NodeCase, node_main, wait_for


def read(path):
    with open(path) as f:
        return f.read()


class RotateAudit(NodeCase):

    def audit(self, hub, ok=True):
        r = self.run_cmd([EWHUB, "audit", "verify", "--dir", hub], ok=ok)
        return r.returncode, r.stdout.decode() + r.stderr.decode()

    def report(self, dirs, title):
        rid = self.submit(dirs["RS"], to="HR", level="low", category="other",
                          title=title, body="b")
        self.wait_inbox(dirs["HR"], rid)
        self.wait_recipients(dirs["RS"], rid, {"HR": "delivered"})
        return rid

    def rotate(self, hub, dirs, port, n):
        self.run_cmd([EWHUB, "rotate-keys", "--dir", hub])
        for d in dirs.values():
            wait_for(lambda: os.path.exists(os.path.join(d, "hub.pub.next")),
                     30, what="next hub keys at " + d)
        self.assertEqual(self.hub_proc.term(), 0)
        self.run_cmd([EWHUB, "rotate-keys", "--dir", hub, "--commit"])
        new_pub = read(os.path.join(hub, "hub.pub"))
        self.hub_start(port=port, name="hub-rotated-%d" % n)
        for cc, d in dirs.items():
            wait_for(lambda: read(os.path.join(d, "hub.pub")) == new_pub, 30,
                     what="%s pinned the new hub keys" % cc)

    def test_audit_verify_follows_the_rotation_chain(self):
        hub = self.path("hub")
        dirs = self.region(["RS", "HR"])
        for d in dirs.values():
            self.agent_start(d)
        for d in dirs.values():
            self.wait_ready(d)
        port = self.endpoint.rsplit(":", 1)[1]
        self.report(dirs, "before any rotation")
        rc, out = self.audit(hub)
        self.assertIn("audit: OK", out)

        # One rotation: checkpoints signed by the first key and the second.
        self.rotate(hub, dirs, port, 1)
        self.report(dirs, "after the first rotation")
        rc, out = self.audit(hub, ok=False)
        self.assertEqual(rc, 0, out)
        self.assertIn("audit: OK", out)

        # A second rotation: three keys in the chain.
        self.rotate(hub, dirs, port, 2)
        self.report(dirs, "after the second rotation")
        rc, out = self.audit(hub, ok=False)
        self.assertEqual(rc, 0, out)
        j = json.loads(self.run_cmd([EWHUB, "audit", "verify", "--dir", hub,
                                     "--json"]).stdout)
        self.assertTrue(j["ok"])
        self.assertEqual(j["hub_keys"], 3)
        self.assertGreaterEqual(j["checkpoints"], 3)

        # The restore procedure (docs/operations.md) after the rotations:
        # a backup restored into a fresh directory with the keys must say
        # OK.
        backup = self.path("backup.db")
        self.run_cmd([EWHUB, "backup", "--dir", hub, backup])
        self.assertEqual(self.hub_proc.term(), 0)
        restored = self.path("restored")
        os.mkdir(restored, 0o700)
        for f in os.listdir(hub):
            if f.startswith("hub.") or f == "ewhub.conf":
                shutil.copy2(os.path.join(hub, f), restored)
        shutil.copy2(backup, os.path.join(restored, "store.db"))
        os.chmod(os.path.join(restored, "store.db"), 0o600)
        rc, out = self.audit(restored, ok=False)
        self.assertEqual(rc, 0, out)
        self.assertIn("audit: OK", out)

        # Without the retired keys the old checkpoints cannot be checked:
        # a mismatch, not a silent pass.
        for f in os.listdir(restored):
            if f.startswith("hub.pub.retired-") or f == "hub.pub.old":
                os.unlink(os.path.join(restored, f))
        rc, out = self.audit(restored, ok=False)
        self.assertEqual(rc, 1, out)
        self.assertIn("bad signature", out)
        self.assertIn("FAILED", out)


if __name__ == "__main__":
    node_main()
