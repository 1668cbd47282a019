"""`ewhub audit verify --checkpoints FILE` tells a restore from a rewrite
(issue 18, docs/operations.md): the checkpoints a node holds are those the
real hub signed in its SubmitAcks (ewh-peer prints them as a node keeps
them).  A hub restored from a backup is a consistent prefix (exit 3,
recorded; the nodes refill it, after which the old checkpoints are known
as lost history and verify says OK); a hub with the same keys but another
history at a length the node holds is a rewrite (exit 4); a checkpoint
whose signature is not this hub's is refused as input (exit 1)."""

import glob
import json
import os
import shutil

from ewhtest import HubCase, main, of_type

RESTORE, REWRITE = 3, 4


class AuditRestore(HubCase):

    def submit(self, peers, hubdir, n, *extra):
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", n, "--level", "medium", *extra)
        self.assertEqual(rc, 0)
        acks = [a for a in of_type(lines, "ack") if a["status"] == "accepted"]
        self.assertEqual(len(acks), n)
        return acks

    def node_file(self, name, acks, signed=True):
        """The checkpoints a node holds, as a file: one per length, the
        first one kept (as the node store does: INSERT OR IGNORE)."""
        cps = {}
        for a in acks:
            if a["checkpoint"] in cps:
                continue
            c = {"length": a["checkpoint"], "head": a["checkpoint_head"],
                 "time": a["checkpoint_time"]}
            if signed:
                c["signed"] = a["checkpoint_signed"]
            cps[a["checkpoint"]] = c
        path = self.path(name)
        with open(path, "w") as f:
            json.dump({"country": "RS",
                       "checkpoints": [cps[k] for k in sorted(cps)]}, f)
        return path

    def verify(self, d, *files, rc=0, as_json=False):
        argv = ["audit", "verify", "--dir", d]
        for f in files:
            argv += ["--checkpoints", f]
        if as_json:
            argv.append("--json")
        r = self.ewhub(*argv, ok=False)
        self.assertEqual(r.returncode, rc, "verify exited %d:\n%s\n%s" % (
            r.returncode, r.stdout.decode(), r.stderr.decode()))
        out = r.stdout.decode()
        return json.loads(out) if as_json else out + r.stderr.decode()

    def same_keys(self, hubdir, name):
        """A new dir holding the hub's keys and config, no store."""
        new = self.path(name)
        os.makedirs(new, 0o700)
        for f in ("hub.key", "hub.pub", "ewhub.conf"):
            shutil.copy2(os.path.join(hubdir, f), os.path.join(new, f))
        return new

    def test_restore_then_refill_and_rewrite(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        first = self.submit(peers, hubdir, 4)
        bak = self.path("store.bak")
        self.ewhub("backup", "--dir", hubdir, bak)
        envs = self.path("envs")
        os.makedirs(envs)
        later = self.submit(peers, hubdir, 4, "--env-out", envs)
        hub.term()
        node = self.node_file("rs.json", first + later)
        longest = max(a["checkpoint"] for a in later)
        in_backup = max(a["checkpoint"] for a in first)

        # The hub as it was: every checkpoint the node holds is on it.
        out = self.verify(hubdir, node)
        self.assertIn("all on the chain", out)
        unsigned = self.node_file("rs-unsigned.json", first + later,
                                  signed=False)
        self.verify(hubdir, unsigned)

        # Restored from the backup: a consistent prefix; recorded.
        rest = self.same_keys(hubdir, "restored")
        shutil.copy2(bak, os.path.join(rest, "store.db"))
        self.verify(rest)  # the chain alone is intact
        j = self.verify(rest, node, rc=RESTORE, as_json=True)
        self.assertEqual(j["verdict"], "restore")
        self.assertEqual(j["chain_length"], in_backup)
        self.assertEqual(j["node_checkpoints"]["longest_beyond"], longest)
        self.assertEqual(j["node_checkpoints"]["differ"], 0)
        self.assertGreater(j["node_checkpoints"]["on_chain"], 0)
        self.assertEqual(j["restore"]["length"], in_backup)
        # Said again in text: the restore is known now, so what lies
        # beyond is the history it lost.
        out = self.verify(rest, node)
        self.assertIn("lost by the restore at length %d" % in_backup, out)

        # The restored hub runs; the node refills it with what it still
        # holds (the same envelopes, sent again; in another order, so that
        # the chain differs from the lost one even within one second).
        self.hub_start(rest, name="restored-hub")
        refill = []
        for f in sorted(glob.glob(os.path.join(envs, "*.env")),
                        reverse=True):
            refill += self.submit(peers, rest, 1, "--env-in", f)
        self.assertEqual(len(refill), 4)
        # The chain is as long again, with other heads (other arrival
        # times) over the lengths the lost history had: not a rewrite, the
        # restore was recorded.  The refilled checkpoints are on it.
        now = self.node_file("rs-now.json", first + later + refill)
        out = self.verify(rest, now)
        self.assertIn("all on the chain or lost by the restore", out)
        j = self.verify(rest, now, as_json=True)
        self.assertGreater(j["node_checkpoints"]["superseded"], 0)

        # Same keys, another history at lengths the node holds: a rewrite,
        # even where other checkpoints lie beyond its end.
        other = self.hub_init("rewritten")
        for f in ("hub.key", "hub.pub"):
            shutil.copy2(os.path.join(hubdir, f), os.path.join(other, f))
        self.ewhub("enroll", "--dir", other,
                   os.path.join(peers["RS"], "node-RS.pub"))
        self.ewhub("enroll", "--dir", other,
                   os.path.join(peers["HR"], "node-HR.pub"))
        self.hub_start(other, name="rewritten-hub")
        self.submit(peers, other, 6)
        out = self.verify(other, node, rc=REWRITE)
        self.assertIn("REWRITE: " + node, out)
        self.assertIn("signed by this hub", out)
        j = self.verify(other, node, rc=REWRITE, as_json=True)
        self.assertEqual(j["verdict"], "rewrite")
        self.assertGreater(j["node_checkpoints"]["differ"], 0)
        self.assertGreater(j["node_checkpoints"]["beyond"], 0)
        self.assertIsNone(j["restore"])
        self.verify(other, unsigned, rc=REWRITE)

    def test_bad_checkpoint_files(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        acks = self.submit(peers, hubdir, 3)
        node = self.node_file("rs.json", acks)
        with open(node) as f:
            good = json.load(f)

        def write(name, obj):
            p = self.path(name)
            with open(p, "w") as f:
                f.write(obj if isinstance(obj, str) else json.dumps(obj))
            return p

        # A signature that is not this hub's (one byte of it changed).
        bad = json.loads(json.dumps(good))
        s = bad["checkpoints"][0]["signed"]
        bad["checkpoints"][0]["signed"] = s[:-2] + (
            "00" if s[-2:] != "00" else "01")
        out = self.verify(hubdir, write("forged.json", bad), rc=1)
        self.assertIn("not signed by this hub", out)
        # A signature over another head than the one claimed.
        lie = json.loads(json.dumps(good))
        lie["checkpoints"][0]["head"] = "00" * 32
        out = self.verify(hubdir, write("lie.json", lie), rc=1)
        self.assertIn("another length, head or time", out)
        # Not JSON, no list, a bad head.
        self.assertIn("line 1", self.verify(
            hubdir, write("junk.json", "{nope"), rc=1))
        self.assertIn("no \"checkpoints\"", self.verify(
            hubdir, write("empty.json", {"country": "RS"}), rc=1))
        self.assertIn("64 hex", self.verify(hubdir, write(
            "head.json", {"checkpoints": [{"length": 1, "head": "xy"}]}),
            rc=1))
        self.assertIn("cannot read", self.verify(
            hubdir, self.path("missing.json"), rc=1))
        # An unsigned claim of another head: a rewrite as the node says.
        out = self.verify(hubdir, write("claim.json", {"checkpoints": [
            {"length": 1, "head": "11" * 32}]}), rc=REWRITE)
        self.assertIn("unsigned: as the node says", out)
        # The good file still passes; the verdict of the chain alone too.
        self.verify(hubdir, node)
        self.verify(hubdir)
        hub.term()


if __name__ == "__main__":
    main()
