"""The node directory is the agent's own (issue 15, items 2 and 4):
one agent per directory, and a directory and store closed to group and
others, whatever the umask or a directory made beforehand."""

import os
import signal
import stat

from ewhtest import NodeCase, node_main, wait_for


def mode_of(p):
    return stat.S_IMODE(os.stat(p).st_mode)


class NodeDirTest(NodeCase):

    def setUp(self):
        super().setUp()
        self.hub = self.fake_hub()
        self.hub_pub = os.path.join(self.hub, "hub.pub")

    # -- item 4: permissions --

    def test_init_tightens_a_loose_directory(self):
        old = os.umask(0o022)
        try:
            d = self.path("AL")
            os.mkdir(d, 0o755)
            os.chmod(d, 0o755)
            r = self.ewnode("init", "--dir", d, "--country", "AL", "--hub",
                            "tcp://127.0.0.1:9", "--hub-key", self.hub_pub)
        finally:
            os.umask(old)
        self.assertIn(b"set it to 0700", r.stderr)
        self.assertEqual(mode_of(d), 0o700)
        self.assertEqual(mode_of(os.path.join(d, "store.db")), 0o600)
        # A command that writes the store (WAL mode: -wal, -shm) keeps them
        # closed too, whatever the umask.
        old = os.umask(0)
        try:
            self.ewnode("outbox", "--dir", d)
        finally:
            os.umask(old)
        for f in os.listdir(d):
            if f.startswith("store.db"):
                self.assertEqual(mode_of(os.path.join(d, f)) & 0o077, 0, f)

    def test_commands_refuse_a_loose_directory(self):
        d = self.node_init("RS", self.hub_pub)
        os.chmod(d, 0o755)
        for argv in (("outbox", "--dir", d), ("inbox", "--dir", d),
                     ("peers", "--dir", d), ("run", "--dir", d)):
            r = self.ewnode(*argv, ok=False, timeout=20)
            self.assertNotEqual(r.returncode, 0, argv)
            err = r.stderr.decode()
            self.assertIn(d, err)
            self.assertIn("0755", err)
            self.assertIn("chmod 700", err)
        os.chmod(d, 0o700)
        self.ewnode("outbox", "--dir", d)

    def test_commands_refuse_a_loose_store(self):
        d = self.node_init("RS", self.hub_pub)
        db = os.path.join(d, "store.db")
        os.chmod(db, 0o644)
        r = self.ewnode("inbox", "--dir", d, ok=False)
        self.assertNotEqual(r.returncode, 0)
        err = r.stderr.decode()
        self.assertIn(db, err)
        self.assertIn("0644", err)
        self.assertIn("chmod 600", err)
        os.chmod(db, 0o600)
        self.ewnode("inbox", "--dir", d)

    def test_init_refuses_a_directory_not_ours(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to chown")
        d = self.path("MK")
        os.mkdir(d, 0o700)
        os.chown(d, 65534, 65534)
        r = self.ewnode("init", "--dir", d, "--country", "MK", "--hub",
                        "tcp://127.0.0.1:9", "--hub-key", self.hub_pub,
                        ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"not by this user", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "node.key")))

    # -- item 2: one agent per directory --

    def test_second_agent_refused(self):
        d = self.node_init("RS", self.hub_pub)
        first = self.agent_start(d, "agent-1")
        wait_for(lambda: "connecting to" in first.logtext(),
                 what="first agent started")
        second = self.agent_start(d, "agent-2")
        rc = second.wait(20)
        self.assertNotEqual(rc, 0)
        self.assertIn("an agent already runs on this dir (pid %d" % first.pid,
                      second.logtext())
        self.assertTrue(first.alive())
        # Killed outright, the first leaves no lock behind.
        first.signal(signal.SIGKILL)
        first.wait(10)
        third = self.agent_start(d, "agent-3")
        wait_for(lambda: "connecting to" in third.logtext() or
                 not third.alive(), what="third agent started")
        self.assertTrue(third.alive(), third.logtext())
        third.term()


if __name__ == "__main__":
    node_main()
