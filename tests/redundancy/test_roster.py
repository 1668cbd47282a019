"""Two hubs' rosters (issue 18): enrolment typed once -- the countries are
enrolled at hub A, and hub B takes them with `ewhub roster export` /
`ewhub roster import` -- and B then serves them (a report goes through B
alone).  When one hub shows a country keyed differently with no
endorsement by its key, every node raises an alarm (`ewnode hubs list`,
its log); and the other hub refuses to import that change."""

import os
import urllib.request

from ewhtest import EWH_PEER, main, wait_for
from pair import LONG, Pair


class Rosters(Pair):

    def shared_pair(self):
        """Hubs A and B, countries enrolled at A only, B given A's roster
        by export/import; nodes with both hubs, agents ready."""
        a = self.hub_make("hubA")
        self.hub_run("hubA", a)
        b = self.hub_make("hubB")
        self.n = {}
        for cc in self.CCS:
            d = self.node_dir(cc)
            self.ewnode("init", "--dir", d, "--country", cc, "--hub",
                        self.hub_ep("hubA"), "--hub-key",
                        os.path.join(a, "hub.pub"))
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n"
                        "metrics = 127.0.0.1:0\n")
            self.n[cc] = d
        self.enrolled = list(self.CCS)
        self.enroll_all(a)
        out = self.path("roster-A.bin")
        self.ewhub("roster", "export", "--dir", a, "--out", out)
        r = self.ewhub("roster", "import", "--dir", b, "--from-key",
                       os.path.join(a, "hub.pub"), out)
        # Nothing typed at B: its status lists every country.
        self.hub_run("hubB", b)
        st = self.hub_status("hubB")
        self.assertEqual(sorted(n["country"] for n in st["nodes"]
                                if n["enrolled"] and not n["revoked"]),
                         sorted(self.CCS), r.stdout)
        for cc in self.CCS:
            self.hubs_add(cc, "hubB")
            self.agent_up(cc)
        for cc in self.CCS:
            self.wait_ready(self.n[cc])
            self.wait_hubs_connected(cc, ["hubA", "hubB"])

    def mismatch_metric(self, cc):
        """ewnode_hub_roster_mismatch{hub=...} from CC's agent: the
        largest over its hubs (None before the agent serves /metrics)."""
        try:
            with open(os.path.join(self.n[cc], "metrics_endpoint")) as f:
                ep = f.read().strip()
            body = urllib.request.urlopen("http://%s/metrics" % ep,
                                          timeout=10).read().decode()
        except (OSError, ValueError):
            return None
        vals = [float(ln.rsplit(" ", 1)[1]) for ln in body.splitlines()
                if ln.startswith("ewnode_hub_roster_mismatch{")]
        return max(vals) if vals else None

    def mismatch(self, cc, name):
        row = self.hub_row(cc, name)
        return row is not None and bool(row.get("roster_mismatch"))

    def test_shared_roster_then_unendorsed_key_at_one_hub(self):
        self.shared_pair()
        # The imported roster serves: A gone, a report through B alone.
        self.hub_proc("hubA").kill()
        self.send("RS", ["HR", "BG"], level="high")
        self.all_arrive_once()
        self.hub_run("hubA")
        for cc in self.CCS:
            self.wait_hubs_connected(cc, ["hubA", "hubB"])
        # Both rosters seen, equal: no alarm anywhere.
        for cc in self.CCS:
            wait_for(lambda: all((self.hub_row(cc, h) or {}).get(
                "roster_version") for h in ("hubA", "hubB")), LONG,
                what="%s holding both hubs' rosters" % cc)
            for h in ("hubA", "hubB"):
                self.assertFalse(self.mismatch(cc, h),
                                 self.hub_row(cc, h))
            self.assertEqual(wait_for(lambda: self.mismatch_metric(cc)
                                      is not None and [
                                          self.mismatch_metric(cc)], LONG,
                                      what="%s's /metrics" % cc), [0.0])
        # Hub B alone re-keys BG to a key BG never endorsed (an operator's
        # mistake, or a compromised hub).
        other = self.path("other-BG")
        self.run_cmd([EWH_PEER, "keygen", "--country", "BG", "--out",
                      other])
        self.ewhub("enroll", "--dir", self.hub_dir("hubB"),
                   os.path.join(other, "node-BG.pub"))
        # Every node raises the alarm, naming the country.
        for cc in ("RS", "HR"):
            wait_for(lambda: self.mismatch(cc, "hubA") or
                     self.mismatch(cc, "hubB"), LONG,
                     what="a roster mismatch alarm at %s" % cc)
            wait_for(lambda: self.mismatch_metric(cc) == 1, LONG,
                     what="ewnode_hub_roster_mismatch 1 at %s" % cc)
            wait_for(lambda: "BG" in "".join(
                ln for ln in self.agents[cc].logtext().splitlines()
                if "mismatch" in ln or "differ" in ln), LONG,
                what="%s's agent warning about BG" % cc)
        # Hub A refuses to import B's unexplained change, unchanged.
        before = self.hub_status("hubA")["roster_version"]
        out = self.path("roster-B.bin")
        self.ewhub("roster", "export", "--dir", self.hub_dir("hubB"),
                   "--out", out)
        r = self.ewhub("roster", "import", "--dir", self.hub_dir("hubA"),
                       "--from-key", os.path.join(self.hub_dir("hubB"),
                                                  "hub.pub"), out, ok=False)
        self.assertEqual(r.returncode, 3, r)
        self.assertEqual(self.hub_status("hubA")["roster_version"], before)


if __name__ == "__main__":
    main()
