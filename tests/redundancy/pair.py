"""pair — helpers for the redundant-hub tests (issue 18).

Two independent ewhub processes (hub A, which `ewnode init` pins, and hub
B, added with `ewnode hubs add`), real ewnode agents, real sockets on
127.0.0.1 (ephemeral ports, kept across restarts so a hub comes back at the
same endpoint), a temporary directory per test, every process stopped by
PID (ewhtest.Case).
"""

import json
import os
import random
import shutil
import sqlite3
import sys

from ewhtest import EWHUB, EWNODE, NodeCase, wait_for

EWH_PEER = os.environ.get("EWH_PEER", "ewh-peer")
LEVELS = ["high", "medium", "low"]
# Generous: two cores shared by several developers' builds and tests.
LONG = 180


class Pair(NodeCase):
    """A region of countries served by two hubs at once."""

    CCS = ["RS", "HR", "BG"]

    def setUp(self):
        super().setUp()
        self.hubs = {}     # name -> {"dir", "proc", "ep", "port"}
        self.agents = {}   # cc -> Proc
        self.watchers = {}  # cc -> Proc (ewnode watch --json)
        seed = int(os.environ.get("EWH_SEED", "0")) or \
            random.SystemRandom().randrange(1, 1 << 31)
        sys.stderr.write("\nEWH_SEED=%d (set it to replay this run)\n" %
                         seed)
        self.rng = random.Random(seed)
        self.sent = {}     # id -> (origin, [addressees], level)

    # -- hubs --

    def ewhub(self, *args, ok=True, timeout=120):
        return self.run_cmd([EWHUB] + [str(a) for a in args], ok=ok,
                            timeout=timeout)

    def hub_make(self, name, keys_from=None):
        """ewhub init into DIR/NAME; with keys_from, the hub's saved keys
        (hub.key, hub.pub) replace the new ones: a hub rebuilt with its
        own identity and an empty store."""
        d = self.path(name)
        self.ewhub("init", "--dir", d)
        if keys_from:
            for f in ("hub.key", "hub.pub"):
                os.unlink(os.path.join(d, f))
                shutil.copy2(os.path.join(keys_from, f), os.path.join(d, f))
        return d

    def hub_run(self, name, d=None, port=None):
        """Start ewhub run for hub NAME (at its old port if it had one)."""
        h = self.hubs.setdefault(name, {})
        if d is not None:
            h["dir"] = d
        port = port or h.get("port")
        ep_file = os.path.join(h["dir"], "endpoint")
        if os.path.exists(ep_file):
            os.unlink(ep_file)
        listen = "tcp://127.0.0.1:%s" % (port or "*")
        n = h.get("starts", 0) + 1
        h["starts"] = n
        p = self.start([EWHUB, "run", "--dir", h["dir"], "--listen", listen],
                       "%s-%d" % (name, n))
        h["proc"] = p

        def endpoint():
            if not p.alive():
                raise AssertionError("%s exited:\n%s" % (name, p.logtext()))
            try:
                with open(ep_file) as f:
                    return f.read().strip() or None
            except OSError:
                return None
        h["ep"] = wait_for(endpoint, 30, what=name + " endpoint")
        h["port"] = int(h["ep"].rsplit(":", 1)[1])
        return h["ep"]

    def hub_dir(self, name):
        return self.hubs[name]["dir"]

    def hub_ep(self, name):
        return self.hubs[name]["ep"]

    def hub_proc(self, name):
        return self.hubs[name]["proc"]

    def enroll_all(self, hubdir, ccs=None):
        for cc in ccs or self.CCS:
            self.ewhub("enroll", "--dir", hubdir,
                       os.path.join(self.n[cc], "node-%s.pub" % cc))

    def hub_accepted(self, name):
        """Ids the hub's store holds as accepted (ewhub traffic: its
        events table, metadata only)."""
        r = self.ewhub("traffic", "--dir", self.hub_dir(name), "--json",
                       ok=False)
        if r.returncode != 0:
            return set()
        ids = set()
        for line in r.stdout.decode().splitlines():
            if line.strip():
                e = json.loads(line)
                if e.get("event") == "accepted" and e.get("id"):
                    ids.add(e["id"])
        return ids

    def hub_status(self, name):
        return json.loads(self.ewhub("status", "--dir", self.hub_dir(name),
                                     "--json").stdout)

    def hub_envelope_ids(self, name):
        """Ids of the envelopes in the hub's store (read-only)."""
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.hub_dir(name), "store.db"), uri=True, timeout=30)
        try:
            return {bytes(i).hex() for (i,) in
                    con.execute("SELECT id FROM envelopes")}
        finally:
            con.close()

    # -- nodes --

    def node_dir(self, cc):
        return self.path("node-" + cc)

    def pair_up(self, ccs=None, conf="", agents=True, second=True):
        """Hubs A and B, a node per country pinned to A with B added,
        enrolled at both; agents started and ready on both hubs."""
        ccs = ccs or self.CCS
        self.CCS = ccs
        a = self.hub_make("hubA")
        self.hub_run("hubA", a)
        if second:
            b = self.hub_make("hubB")
            self.hub_run("hubB", b)
        self.n = {}
        for cc in ccs:
            d = self.node_dir(cc)
            r = self.ewnode("init", "--dir", d, "--country", cc, "--hub",
                            self.hub_ep("hubA"), "--hub-key",
                            os.path.join(a, "hub.pub"))
            self.assertIn(b"fingerprint", r.stdout)
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n" +
                        conf)
            self.n[cc] = d
        self.enrolled = list(ccs)
        self.enroll_all(a)
        if second:
            self.enroll_all(self.hub_dir("hubB"))
            for cc in ccs:
                self.hubs_add(cc, "hubB")
        if agents:
            for cc in ccs:
                self.agent_up(cc)
            for cc in ccs:
                self.wait_ready(self.n[cc])
            if second:
                for cc in ccs:
                    self.wait_hubs_connected(cc, ["hubA", "hubB"])

    def hubs_add(self, cc, name):
        return self.ewnode("hubs", "add", "--dir", self.n[cc], "--hub",
                           self.hub_ep(name), "--hub-key",
                           os.path.join(self.hub_dir(name), "hub.pub"))

    def hubs_remove(self, cc, name, ok=True):
        return self.ewnode("hubs", "remove", "--dir", self.n[cc],
                           self.hub_ep(name), ok=ok)

    def hubs_list(self, cc):
        """`ewnode hubs list --json`: one object per hub."""
        r = self.ewnode("hubs", "list", "--dir", self.n[cc], "--json")
        text = r.stdout.decode().strip()
        try:
            j = json.loads(text)
        except ValueError:
            j = [json.loads(x) for x in text.splitlines() if x.strip()]
        if isinstance(j, dict):
            j = j.get("hubs", [])
        return j

    def hub_row(self, cc, name):
        ep = self.hub_ep(name)
        for h in self.hubs_list(cc):
            if h.get("endpoint") == ep:
                return h
        return None

    def wait_hubs_connected(self, cc, names, timeout=LONG):
        def ok():
            rows = [self.hub_row(cc, n) for n in names]
            return all(r is not None and r.get("connected") for r in rows)
        wait_for(ok, timeout, interval=0.2,
                 what="%s connected to %s" % (cc, ",".join(names)))

    def agent_up(self, cc):
        n = getattr(self, "_agent_starts", {})
        self._agent_starts = n
        n[cc] = n.get(cc, 0) + 1
        self.agents[cc] = self.start([EWNODE, "run", "--dir", self.n[cc],
                                      "-v"], "agent-%s-%d" % (cc, n[cc]))
        return self.agents[cc]

    def agent_down(self, cc):
        self.assertEqual(self.agents[cc].term(30), 0,
                         "agent %s did not exit 0" % cc)

    def watch_start(self, cc):
        """ewnode watch --json at CC: what an officer is shown, each report
        one line when it arrives."""
        self.watchers[cc] = self.start(
            [EWNODE, "watch", "--dir", self.n[cc], "--json"],
            "watch-" + cc)

    def watched(self, cc):
        """Ids printed by CC's watcher so far (stdout and stderr share the
        log; JSON lines are the reports)."""
        ids = []
        for line in self.watchers[cc].logtext().splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    ids.append(json.loads(line)["id"])
                except (ValueError, KeyError):
                    pass
        return ids

    # -- traffic --

    def send(self, origin, to, level=None, title=None):
        level = level or self.rng.choice(LEVELS)
        rid = self.submit(self.n[origin], level=level, to=",".join(to),
                          category="other",
                          title=title or "report %d" % len(self.sent),
                          body="b" * self.rng.randint(1, 3000))
        self.sent[rid] = (origin, sorted(to), level)
        return rid

    def stream(self, per_node, origins=None, must=None, avoid=None):
        """per_node reports from each origin to a random non-empty set of
        the others; must: a country always among the addressees; avoid:
        one never among them.  Returns the ids."""
        ids = []
        for _ in range(per_node):
            for origin in origins or self.CCS:
                others = [c for c in self.CCS if c != origin and c != avoid]
                to = set(self.rng.sample(others,
                                         self.rng.randint(1, len(others))))
                if must and must != origin:
                    to.add(must)
                ids.append(self.send(origin, sorted(to)))
        return ids

    def want_by_country(self, ids):
        want = {cc: set() for cc in self.CCS}
        for rid in ids:
            for cc in self.sent[rid][1]:
                want[cc].add(rid)
        return want

    def all_arrive_once(self, ids=None, ccs=None, timeout=LONG):
        """Every report in ids (default: all sent) at every addressee in
        ccs (default: all) exactly once, nowhere else; every origin's
        outbox says delivered (or acknowledged) for those addressees."""
        ids = set(self.sent if ids is None else ids)
        ccs = ccs or self.CCS
        want = self.want_by_country(ids)
        every = self.want_by_country(self.sent)

        def done():
            for cc in ccs:
                got = [m["id"] for m in self.inbox(self.n[cc])]
                self.assertEqual(len(got), len(set(got)),
                                 "%s shows a report twice" % cc)
                self.assertFalse(set(got) - every[cc],
                                 "%s holds reports not for it" % cc)
                if want[cc] - set(got):
                    return None
            return True
        wait_for(done, timeout, interval=0.5,
                 what="every report at every addressee")

        def delivered():
            for origin in self.CCS:
                for m in self.outbox(self.n[origin]):
                    if m["id"] not in ids:
                        continue
                    for cc, st in m["recipients"].items():
                        if cc in ccs and st not in ("delivered",
                                                    "acknowledged"):
                            return None
            return True
        wait_for(delivered, timeout, interval=0.5,
                 what="every origin's outbox says delivered")

    def outbox_entry(self, cc, rid):
        for m in self.outbox(self.n[cc]):
            if m["id"] == rid:
                return m
        return None

    def accepted_by(self, m):
        """Endpoints of the hubs whose durable accept the outbox shows."""
        return {h["endpoint"] for h in m.get("hubs", [])
                if h.get("accepted_at")}

    def assert_resent(self, rids, name):
        """Each origin's outbox says the report went again to hub NAME
        after it lost data: resent_at in --json, a line in the text."""
        ep = self.hub_ep(name)
        texts = {}
        for rid in rids:
            origin = self.sent[rid][0]
            m = self.outbox_entry(origin, rid)
            rows = [h for h in m.get("hubs", []) if h["endpoint"] == ep]
            self.assertEqual(len(rows), 1, m)
            self.assertTrue(rows[0].get("resent_at"), m)
            if origin not in texts:
                texts[origin] = self.ewnode("outbox", "--dir",
                                            self.n[origin]).stdout.decode()
            self.assertIn("resent to %s after it lost data" % ep,
                          texts[origin])

    def peer_argv_recv(self, cc, name, count, *extra):
        """ewh-peer recv with CC's own node key at hub NAME: prints the
        hub's deliveries in the order it sends them (JSON lines)."""
        return [EWH_PEER, "recv", "--key",
                os.path.join(self.n[cc], "node.key"), "--hub-pub",
                os.path.join(self.hub_dir(name), "hub.pub"), "--endpoint",
                self.hub_ep(name), "--count", str(count)] + list(extra)


def copy_keys(src, dst):
    """An operator's key backup: hub.key, hub.pub, ewhub.conf."""
    os.makedirs(dst, 0o700)
    for f in ("hub.key", "hub.pub", "ewhub.conf"):
        shutil.copy2(os.path.join(src, f), os.path.join(dst, f))


def node_sqlite(d):
    return sqlite3.connect("file:%s?mode=ro" % os.path.join(d, "store.db"),
                           uri=True, timeout=30)
