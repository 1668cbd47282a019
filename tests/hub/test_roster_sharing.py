"""Sharing the roster between the hubs of one region (issue 18,
docs/roster-sharing.md): `ewhub roster export` at hub A, `ewhub roster
import` at hub B.  Two real hubs, real ewnode agents connected to B, real
keys and endorsements (`ewnode rekey`).  Enrolments and revocations carry
over; an endorsed re-key carries over and the node switches by itself; an
unendorsed re-key is refused (exit 3) and B is unchanged; a file not signed
by A's key is refused (exit 5) and B is unchanged; an older file is refused
(exit 4)."""

import json
import os
import re

from ewhtest import EWHUB, EWNODE, HubCase, main, wait_for

REFUSED, STALE, FORGED = 3, 4, 5


class RosterSharing(HubCase):

    def setUp(self):
        super().setUp()
        self.a = self.hub_init("hubA")
        self.b = self.hub_init("hubB")
        self.hub_start(self.a, name="hubA")
        self.ep_a = self.endpoint
        self.hub_start(self.b, name="hubB")
        self.ep_b = self.endpoint
        self.n = 0

    # -- helpers --

    def node(self, cc, name=None):
        """ewnode init pinned to hub B; returns the node dir."""
        d = self.path(name or ("node-" + cc))
        self.run_cmd([EWNODE, "init", "--dir", d, "--country", cc, "--hub",
                      self.ep_b, "--hub-key",
                      os.path.join(self.b, "hub.pub")])
        with open(os.path.join(d, "ewnode.conf"), "a") as f:
            f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
        return d

    def pub(self, d, cc, suffix=""):
        return os.path.join(d, "node-%s.pub%s" % (cc, suffix))

    def fingerprint(self, path):
        with open(path) as f:
            for ln in f:
                if ln.startswith("fingerprint"):
                    return ln.split("=", 1)[1].strip()
        raise AssertionError("no fingerprint in " + path)

    def export_a(self):
        self.n += 1
        out = self.path("a-%d.roster" % self.n)
        r = self.ewhub("roster", "export", "--dir", self.a, "--out", out)
        self.assertIn(b"exported roster version", r.stdout)
        return out

    def import_b(self, f, *opts, rc=0, key=None):
        r = self.ewhub("roster", "import", "--dir", self.b, "--from-key",
                       key or os.path.join(self.a, "hub.pub"), *opts, f,
                       ok=False)
        self.assertEqual(r.returncode, rc, "import exited %d:\n%s\n%s" % (
            r.returncode, r.stdout.decode(), r.stderr.decode()))
        return r.stdout.decode(), r.stderr.decode()

    def b_view(self):
        """What B's store says: roster version, countries and flags, and
        the import record."""
        s = self.status(self.b)
        return (s["roster_version"],
                sorted((n["country"], n["enrolled"], n["revoked"])
                       for n in s["nodes"]),
                s["roster_imports"])

    def peers(self, d):
        r = self.run_cmd([EWNODE, "peers", "--dir", d, "--json"], ok=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_peer(self, d, cc, pred, what):
        def ok():
            j = self.peers(d)
            if j is None:
                return None
            for p in j["peers"]:
                if p["country"] == cc and pred(p):
                    return p
            return None
        return wait_for(ok, 30, what=what)

    # -- tests --

    def test_enrol_and_revoke_carry_over(self):
        rs, hr = self.node("RS"), self.node("HR")
        self.ewhub("enroll", "--dir", self.a, self.pub(rs, "RS"))
        self.ewhub("enroll", "--dir", self.a, self.pub(hr, "HR"))
        f1 = self.export_a()
        out, _ = self.import_b(f1, "--dry-run")
        self.assertIn("enrolled HR", out)
        self.assertIn("nothing changed", out)
        self.assertEqual(self.b_view()[1], [])
        out, _ = self.import_b(f1)
        self.assertIn("enrolled HR: fingerprint " +
                      self.fingerprint(self.pub(hr, "HR")), out)
        self.assertIn("enrolled RS", out)
        self.assertIn("imported: 2 change(s)", out)
        # B's status says from which hub and when.
        v = self.b_view()
        self.assertEqual(v[1], [("HR", True, False), ("RS", True, False)])
        self.assertEqual(len(v[2]), 1)
        self.assertEqual(v[2][0]["from_fingerprint"],
                         self.fingerprint(os.path.join(self.a, "hub.pub")))
        self.assertEqual(v[2][0]["changes"], 2)
        text = self.ewhub("status", "--dir", self.b).stdout.decode()
        self.assertIn("roster: last imported from hub " +
                      v[2][0]["from_fingerprint"], text)

        # A node connected to B (admitted with the keys B took from A)
        # sees HR with A's keys.
        self.start([EWNODE, "run", "--dir", rs, "-v"], "agent-RS")
        self.wait_peer(rs, "HR", lambda p: p["fingerprint"] ==
                       self.fingerprint(self.pub(hr, "HR")), "HR at RS")
        wait_for(lambda: (self.node_status(self.b, "RS") or {})
                 .get("connected"), 30, what="RS connected to B")

        # Importing the same roster again changes nothing (here exported
        # to stdout, as over ssh).
        r = self.ewhub("roster", "export", "--dir", self.a, "--out", "-")
        with open(f1, "rb") as fh:
            self.assertEqual(r.stdout, fh.read())
        self.assertIn(b"to stdout", r.stderr)
        out, _ = self.import_b(f1)
        self.assertIn("imported: 0 change(s)", out)
        self.assertIn("2 countries already in step", out)

        # A revocation at A carries over, and the node of B sees it.
        self.ewhub("revoke", "--dir", self.a, "HR")
        f2 = self.export_a()
        out, _ = self.import_b(f2)
        self.assertIn("revoked HR", out)
        self.assertIn(("HR", True, True), self.b_view()[1])
        self.wait_peer(rs, "HR", lambda p: p["revoked"], "HR revoked at RS")

        # The older file again: refused as stale, B unchanged.
        before = self.b_view()
        _, err = self.import_b(f1, rc=STALE)
        self.assertIn("older than version", err)
        self.assertEqual(self.b_view(), before)

        # HR's revoked keys are refused at B too, as if B had revoked them.
        r = self.ewhub("enroll", "--dir", self.b, self.pub(hr, "HR"),
                       ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"revoked", r.stderr)

    def test_endorsed_rekey_carries_over(self):
        rs, hr = self.node("RS"), self.node("HR")
        for d, cc in ((rs, "RS"), (hr, "HR")):
            self.ewhub("enroll", "--dir", self.a, self.pub(d, cc))
        self.import_b(self.export_a())
        agent = self.start([EWNODE, "run", "--dir", rs, "-v"], "agent-RS")
        self.start([EWNODE, "run", "--dir", hr, "-v"], "agent-HR")
        wait_for(lambda: (self.node_status(self.b, "RS") or {})
                 .get("connected"), 30, what="RS connected to B")

        r = self.run_cmd([EWNODE, "rekey", "--dir", rs])
        new_fp = re.search(r"new fingerprint: (\S+)",
                           r.stdout.decode()).group(1)
        self.ewhub("enroll", "--dir", self.a, self.pub(rs, "RS", ".new"))
        out, _ = self.import_b(self.export_a())
        self.assertRegex(out, r"re-keyed RS: \S+ -> %s, endorsed by its "
                         r"previous key" % re.escape(new_fp))
        # RS, connected to B only, finds its new keys in B's roster and
        # switches; HR follows the endorsed change with no step by anyone.
        wait_for(lambda: "re-keyed: now using fingerprint " + new_fp
                 in agent.logtext(), 30, what="RS switched at B")
        p = self.wait_peer(hr, "RS", lambda p: p["fingerprint"] == new_fp,
                           "RS's new key at HR")
        self.assertTrue(p["verified"] or p["trust"] in ("tofu", "endorsed"),
                        p)
        self.assertNotEqual(p["trust"], "unendorsed")

    def test_unendorsed_rekey_refused(self):
        rs, hr = self.node("RS"), self.node("HR")
        for d, cc in ((rs, "RS"), (hr, "HR")):
            self.ewhub("enroll", "--dir", self.a, self.pub(d, cc))
        self.import_b(self.export_a())
        self.start([EWNODE, "run", "--dir", rs, "-v"], "agent-RS")
        old_fp = self.fingerprint(self.pub(hr, "HR"))
        self.wait_peer(rs, "HR", lambda p: p["fingerprint"] == old_fp,
                       "HR at RS")

        # HR's keys replaced at A without an endorsement (new keys made by
        # ewnode init, as after a lost key or by a hub lying), and BG new.
        hr2, bg = self.node("HR", "node-HR-2"), self.node("BG")
        r = self.ewhub("enroll", "--dir", self.a, self.pub(hr2, "HR"))
        self.assertIn(b"WARNING: not endorsed", r.stdout)
        self.ewhub("enroll", "--dir", self.a, self.pub(bg, "BG"))
        f = self.export_a()
        before = self.b_view()
        out, err = self.import_b(f, rc=REFUSED)
        self.assertIn("REFUSED HR", out)
        self.assertIn("no endorsement links them", out)
        self.assertIn("nothing changed", err)
        # Nothing of it was applied: not even BG, which alone was fine.
        self.assertEqual(self.b_view(), before)
        self.assertNotIn("BG", [c for c, _, _ in self.b_view()[1]])
        r = self.run_cmd([EWHUB, "roster", "import", "--dir", self.b,
                          "--from-key", os.path.join(self.a, "hub.pub"),
                          "--dry-run", "--accept-unendorsed", f])
        self.assertIn("re-keyed HR UNENDORSED", r.stdout.decode())
        self.assertEqual(self.b_view(), before)
        self.assertEqual(self.wait_peer(rs, "HR", lambda p: True,
                                        "HR at RS")["fingerprint"], old_fp)

        # The operator compared the fingerprint by telephone: accepted,
        # logged loudly, and every node of B marks HR unverified.
        new_fp = self.fingerprint(self.pub(hr2, "HR"))
        out, err = self.import_b(f, "--accept-unendorsed")
        self.assertIn("re-keyed HR UNENDORSED", out)
        self.assertIn("warning: roster import", err)
        self.assertIn("enrolled BG", out)
        p = self.wait_peer(rs, "HR", lambda p: p["fingerprint"] == new_fp,
                           "HR's new key at RS")
        self.assertFalse(p["verified"])
        self.assertEqual(p["trust"], "unendorsed")

    def test_categories_differ_said(self):
        # B's operator set other categories: said at each import, not
        # imported (each hub's config), and nothing refused for it.
        with open(os.path.join(self.b, "ewhub.conf"), "a") as f:
            f.write("\n[roster]\ncategories = cyber, other\n")
        self.hub_procs_restart_b()
        rs = self.node("RS")
        self.ewhub("enroll", "--dir", self.a, self.pub(rs, "RS"))
        out, _ = self.import_b(self.export_a())
        self.assertIn("WARNING: the report categories differ", out)
        self.assertIn("this hub: cyber, other", out)
        self.assertIn("enrolled RS", out)

    def hub_procs_restart_b(self):
        """Restart hub B so that it signs a roster with its new config."""
        for p in self.procs:
            if "--dir" in p.argv and self.b in p.argv and p.alive():
                p.term()
        self.hub_start(self.b, name="hubB-2")
        self.ep_b = self.endpoint
        wait_for(lambda: self.run_cmd(
            [EWHUB, "roster", "export", "--dir", self.b, "--out",
             self.path("b.roster")], ok=False).returncode == 0, 30,
            what="B signed its roster")

    def test_forged_file_refused(self):
        rs = self.node("RS")
        self.ewhub("enroll", "--dir", self.a, self.pub(rs, "RS"))
        genuine = self.export_a()
        self.import_b(genuine)
        # A third hub C signs a roster with another RS key and BG.
        c = self.hub_init("hubC")
        self.hub_start(c, name="hubC")
        rs_c, bg = self.node("RS", "node-RS-c"), self.node("BG")
        self.ewhub("enroll", "--dir", c, self.pub(rs_c, "RS"))
        self.ewhub("enroll", "--dir", c, self.pub(bg, "BG"))
        forged = self.path("c.roster")
        self.ewhub("roster", "export", "--dir", c, "--out", forged)
        with open(genuine, "rb") as fh:
            data = fh.read()
        flipped = self.path("flipped.roster")
        with open(flipped, "wb") as fh:
            fh.write(data[:40] + bytes([data[40] ^ 0x01]) + data[41:])
        truncated = self.path("truncated.roster")
        with open(truncated, "wb") as fh:
            fh.write(data[:len(data) // 2])

        before = self.b_view()
        for f in (forged, flipped, truncated):
            _, err = self.import_b(f, rc=FORGED)
            self.assertIn("is not a roster signed by the hub", err)
            self.assertIn("nothing changed", err)
            self.assertEqual(self.b_view(), before)
        # C's genuine roster named as A's: refused; with C's key it would
        # verify, which shows the refusal is the key's.
        _, err = self.import_b(forged, "--dry-run", rc=REFUSED,
                               key=os.path.join(c, "hub.pub"))
        self.assertIn("REFUSED RS", err + _)
        self.assertEqual(self.b_view(), before)
        # Usage: no --from-key, or B's own key.
        r = self.ewhub("roster", "import", "--dir", self.b, genuine,
                       ok=False)
        self.assertEqual(r.returncode, 2)
        r = self.ewhub("roster", "import", "--dir", self.b, "--from-key",
                       os.path.join(self.b, "hub.pub"), genuine, ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"own key", r.stderr)
        self.assertEqual(self.b_view(), before)


if __name__ == "__main__":
    main()
