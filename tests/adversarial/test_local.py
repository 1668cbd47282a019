"""Local threats on a hub's or node's machine: secret key files with loose
modes, owned by another user or reached through a symbolic link are
refused with the path and the fix; a damaged store file stops the daemon
with a clear error naming the file (PRAGMA quick_check at start), never a
silent loss — and the same data, restored, is all there."""

import os
import pwd
import shutil
import sqlite3

from ewhtest import EWHUB, EWNODE, NodeCase, main, wait_for


def damage(db, table):
    """Overwrite the cell pointers of the first leaf page of table."""
    con = sqlite3.connect(db)
    try:
        pgsize = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("SELECT pageno FROM dbstat WHERE name = ? AND "
                            "pagetype = 'leaf' ORDER BY pageno",
                            (table,)).fetchall()
    finally:
        con.close()
    assert pages, "no leaf page for " + table
    with open(db, "r+b") as f:
        f.seek((pages[0][0] - 1) * pgsize + 8)
        f.write(b"\xff" * 64)


class Local(NodeCase):

    def setUp(self):
        super().setUp()
        self.n = self.region(["RS", "HR"])
        self.hub = self.path("hub")

    def refused(self, argv, *needles):
        r = self.run_cmd(argv, ok=False, timeout=30)
        err = r.stderr.decode()
        self.assertNotEqual(r.returncode, 0, err)
        for n in needles:
            self.assertIn(n, err)
        return err

    def hub_run_argv(self):
        return [EWHUB, "run", "--dir", self.hub, "--listen",
                "tcp://127.0.0.1:0"]

    def test_secret_key_files(self):
        self.hub_proc.term()
        rs = self.n["RS"]
        for key, argv in ((os.path.join(self.hub, "hub.key"),
                           self.hub_run_argv()),
                          (os.path.join(rs, "node.key"),
                           [EWNODE, "run", "--dir", rs]),
                          (os.path.join(rs, "node.key"),
                           [EWNODE, "submit", "--dir", rs, "--to", "HR",
                            "--level", "low", "--category", "other",
                            "--title", "t", "--body", "b"])):
            # Group- or world-readable.
            for mode in (0o640, 0o604, 0o660):
                os.chmod(key, mode)
                self.refused(argv, key, "mode 0%o" % mode, "chmod 600")
            os.chmod(key, 0o600)
            # Owned by another user.
            nobody = pwd.getpwnam("nobody").pw_uid
            os.chown(key, nobody, -1)
            self.refused(argv, key, "owned by uid %d" % nobody)
            os.chown(key, os.geteuid(), -1)
            # A symbolic link to a perfectly good key.
            real = key + ".real"
            os.rename(key, real)
            os.symlink(os.path.basename(real), key)
            self.refused(argv, key, "symbolic link")
            os.unlink(key)
            os.rename(real, key)
            # Not a regular file.
            os.rename(key, real)
            os.mkfifo(key, 0o600)
            self.refused(argv, key)
            os.unlink(key)
            os.rename(real, key)
        # Put right, everything runs again.
        self.hub_start(port=self.endpoint.rsplit(":", 1)[1])
        self.agent_start(rs)
        self.wait_ready(rs)

    def fill(self):
        agents = {cc: self.agent_start(d) for cc, d in self.n.items()}
        for d in self.n.values():
            self.wait_ready(d)
        ids = [self.submit(self.n["RS"], level="medium", to="HR",
                           category="other", title="local %d" % i,
                           body="b" * 3000) for i in range(40)]
        for rid in ids:
            self.wait_inbox(self.n["HR"], rid)
        for a in agents.values():
            self.assertEqual(a.term(), 0)
        self.assertEqual(self.hub_proc.term(), 0)
        return ids

    def test_damaged_hub_store(self):
        self.fill()
        db = os.path.join(self.hub, "store.db")
        good = self.path("hub-store.good")
        shutil.copy(db, good)
        damage(db, "envelopes")
        self.refused(self.hub_run_argv(), db, "is damaged", "quick_check",
                     "restore it from a backup")
        # Not a database at all.
        with open(db, "r+b") as f:
            f.write(b"\x00" * 100)
        self.refused(self.hub_run_argv(), db)
        # Restored, it runs and still holds every report.
        shutil.copy(good, db)
        self.hub_start()
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        self.assertEqual(con.execute("SELECT count(*) FROM envelopes")
                         .fetchone()[0], 40)
        con.close()

    def test_damaged_node_store(self):
        ids = self.fill()
        hr = self.n["HR"]
        db = os.path.join(hr, "store.db")
        good = self.path("hr-store.good")
        shutil.copy(db, good)
        damage(db, "msg")
        self.refused([EWNODE, "run", "--dir", hr], db, "is damaged",
                     "quick_check", "restore it from a backup")
        shutil.copy(good, db)
        self.hub_start(port=self.endpoint.rsplit(":", 1)[1])
        self.agent_start(hr)
        self.wait_ready(hr)
        self.assertEqual(sorted(m["id"] for m in self.inbox(hr)),
                         sorted(ids))


if __name__ == "__main__":
    main()
