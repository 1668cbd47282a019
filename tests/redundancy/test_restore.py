"""A hub restored from an old backup (issue 18): it forgets what it
accepted after the backup; the nodes see its audit chain shorter than the
checkpoints they hold and send it again every report not yet receipted by
all its addressees.  Every report accepted after the backup still reaches
every addressee, once -- with one hub (the case the issue was filed for:
before, such a report stayed "accepted" for ever) and with two (the
restored one alone delivering, the other gone)."""

import os
import shutil
import sqlite3

from ewhtest import main, wait_for
from pair import LONG, Pair


class Restore(Pair):

    def restore(self, name, bak):
        """The operator's restore: stop (here: the hub died), move the old
        store aside, copy the backup in, audit verify, start."""
        d = self.hub_dir(name)
        aside = self.path(name + "-aside")
        os.makedirs(aside)
        for f in ("store.db", "store.db-wal", "store.db-shm"):
            if os.path.exists(os.path.join(d, f)):
                shutil.move(os.path.join(d, f), os.path.join(aside, f))
        shutil.copy2(bak, os.path.join(d, "store.db"))
        r = self.ewhub("audit", "verify", "--dir", d)
        self.assertIn(b"audit: OK", r.stdout)
        self.hub_run(name)

    def after_backup(self, hubs):
        """Traffic, a backup of the last hub in hubs, then reports to BG
        (whose agent is down, so none is receipted) accepted after it."""
        for cc in self.CCS:
            self.watch_start(cc)
        self.stream(2)
        self.all_arrive_once()
        name = hubs[-1]
        bak = self.path(name + ".bak")
        self.ewhub("backup", "--dir", self.hub_dir(name), bak)
        self.agent_down("BG")
        late = set(self.stream(3, origins=["RS", "HR"], must="BG"))
        self.all_arrive_once(late, ccs=["RS", "HR"])
        wait_for(lambda: self.hub_accepted(name) >= late, LONG,
                 what="%s accepting the reports sent after the backup" %
                 name)
        return name, bak, late

    def refilled(self, name, late):
        def ok():
            got = self.hub_accepted(name)
            return got if got >= late else None
        wait_for(ok, LONG, interval=0.5,
                 what="the restored hub refilled with what it forgot")
        self.assertTrue(late <= self.hub_envelope_ids(name))
        self.assert_resent(late, name)

    def test_one_hub_restored_from_an_old_backup(self):
        self.pair_up(second=False)
        name, bak, late = self.after_backup(["hubA"])
        # Before the restore the hub holds them; the backup does not.
        con = sqlite3.connect(bak)
        held = {bytes(i).hex() for (i,) in
                con.execute("SELECT id FROM envelopes")}
        con.close()
        self.assertFalse(held & late, "the backup holds the late reports")
        self.hub_proc(name).kill()
        self.restore(name, bak)
        self.refilled(name, late)
        # The node tells this restore from a rewrite: exit 3, RESTORE.
        r = self.ewnode("audit", "--dir", self.n["RS"], ok=False)
        out = (r.stdout + r.stderr).decode()
        self.assertEqual(r.returncode, 3, out)
        self.assertIn("RESTORE: hub %s" % self.hub_ep(name), out)
        self.assertNotIn("REWRITE", out)
        self.agent_up("BG")
        self.all_arrive_once()
        want = self.want_by_country(self.sent)
        wait_for(lambda: sorted(self.watched("BG")) == sorted(want["BG"]),
                 LONG, what="BG's watch showing each report once")

    def test_one_of_two_hubs_restored_from_an_old_backup(self):
        self.pair_up()
        name, bak, late = self.after_backup(["hubA", "hubB"])
        self.hub_proc(name).kill()
        self.restore(name, bak)
        self.refilled(name, late)
        # A dies: the restored B alone must bring what it had forgotten.
        self.hub_proc("hubA").kill()
        self.agent_up("BG")
        self.all_arrive_once()
        want = self.want_by_country(self.sent)
        wait_for(lambda: sorted(self.watched("BG")) == sorted(want["BG"]),
                 LONG, what="BG's watch showing each report once")


if __name__ == "__main__":
    main()
