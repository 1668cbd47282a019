"""Issue 16 item 9: a directory that was initialised never takes a missing
or empty (0-byte) store for a new one, at the hub and at a node: every
command refuses with the path and the restore procedure, and the file is
left as it was."""

import os

from ewhtest import EWHUB, EWNODE, NodeCase, node_main


class LostStore(NodeCase):

    def check_refused(self, argv, store):
        r = self.run_cmd(argv, ok=False, timeout=30)
        err = r.stderr.decode(errors="replace")
        self.assertNotEqual(r.returncode, 0, "%s ran on a lost store: %s"
                            % (argv, err))
        self.assertIn(store, err)
        self.assertIn("restore the last backup", err)
        self.assertIn("Backup and restore", err)

    def test_hub_refuses_empty_or_missing_store(self):
        hub = self.path("hub")
        self.run_cmd([EWHUB, "init", "--dir", hub])
        store = os.path.join(hub, "store.db")
        self.assertGreater(os.path.getsize(store), 0)
        for how in ("empty", "missing"):
            if how == "empty":
                open(store, "w").close()
            else:
                os.unlink(store)
            for argv in ([EWHUB, "run", "--dir", hub, "--listen",
                          "tcp://127.0.0.1:*"],
                         [EWHUB, "status", "--dir", hub]):
                self.check_refused(argv, store)
            if how == "empty":
                self.assertEqual(os.path.getsize(store), 0)
            else:
                self.assertFalse(os.path.exists(store))

    def test_node_refuses_empty_or_missing_store(self):
        d = self.node_init("HR", os.path.join(self.fake_hub(), "hub.pub"))
        store = os.path.join(d, "store.db")
        self.assertGreater(os.path.getsize(store), 0)
        for how in ("empty", "missing"):
            if how == "empty":
                open(store, "w").close()
                os.chmod(store, 0o600)
            else:
                os.unlink(store)
            for argv in ([EWNODE, "inbox", "--dir", d],
                         [EWNODE, "outbox", "--dir", d],
                         [EWNODE, "run", "--dir", d]):
                self.check_refused(argv, store)
            if how == "empty":
                self.assertEqual(os.path.getsize(store), 0)
            else:
                self.assertFalse(os.path.exists(store))


if __name__ == "__main__":
    node_main()
