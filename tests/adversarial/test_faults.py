"""Faults with real processes (ewhub and ewnode agents): SIGKILL of the
hub, the sender's agent and the recipients' agents at random points of a
long stream (seed printed; EWH_SEED replays it); SIGSTOP of a node for
longer than the hub's heartbeat, then SIGCONT; the hub's store filling up
and freed again; a node whose clock runs ahead of the hub's beyond
EWH_MAX_CLOCK_SKEW_S.  Every accepted report reaches every addressee
exactly once; nothing is lost."""

import os
import random
import signal
import sys
import time

from ewhtest import EWHUB, EWNODE, NodeCase, main, wait_for

MAX_CLOCK_SKEW_S = 300  # include/ewh/limits.h


class Faults(NodeCase):

    def region_up(self, ccs, conf=""):
        if conf:
            hub = self.path("hub")
            self.run_cmd([EWHUB, "init", "--dir", hub])
            with open(os.path.join(hub, "ewhub.conf"), "a") as f:
                f.write("\n" + conf + "\n")
        self.n = self.region(ccs)
        self.port = self.endpoint.rsplit(":", 1)[1]
        self.agents = {cc: self.agent_start(d) for cc, d in self.n.items()}
        for d in self.n.values():
            self.wait_ready(d)

    def restart(self, name):
        if name == "hub":
            self.hub_start(port=self.port, name="hub")
        else:
            cc = name[len("agent-"):]
            self.agents[cc] = self.agent_start(self.n[cc],
                                               name="agent-" + cc)

    def proc(self, name):
        return self.hub_proc if name == "hub" else \
            self.agents[name[len("agent-"):]]

    def all_arrive_once(self, sent, timeout=60):
        """sent: {id: (origin, [recipients])}."""
        want = {cc: set() for cc in self.n}
        for rid, (origin, to) in sent.items():
            for cc in to:
                want[cc].add(rid)

        def done():
            for cc, ids in want.items():
                got = [m["id"] for m in self.inbox(self.n[cc])]
                self.assertEqual(len(got), len(set(got)),
                                 "%s shows a report twice" % cc)
                self.assertFalse(set(got) - ids, "%s got reports not for "
                                 "it" % cc)
                if ids - set(got):
                    return None
            return True
        wait_for(done, timeout, interval=0.3, what="every report at every "
                 "addressee")

        def delivered():
            for cc in self.n:
                for m in self.outbox(self.n[cc]):
                    if m["id"] in sent and set(m["recipients"].values()) != \
                            {"delivered"}:
                        return None
            return True
        wait_for(delivered, timeout, interval=0.3,
                 what="every sender's outbox says delivered")

    def test_sigkill_at_random_points_of_a_long_stream(self):
        seed = int(os.environ.get("EWH_SEED", "0")) or \
            random.SystemRandom().randrange(1, 1 << 31)
        sys.stderr.write("\nEWH_SEED=%d (set it to replay this run)\n" % seed)
        rng = random.Random(seed)
        self.region_up(["RS", "HR", "BG"])
        sent = {}
        victims = ["hub", "agent-RS", "agent-HR", "agent-BG"]
        kills = {v: 0 for v in victims}
        rounds = int(os.environ.get("EWH_KILL_ROUNDS", "16"))
        for rnd in range(rounds):
            victim = rng.choice(victims)
            n_before = rng.randint(0, 3)
            n_after = rng.randint(1, 3)
            for i in range(n_before + n_after):
                origin = rng.choice(["RS", "RS", "HR"])
                to = sorted(rng.sample([c for c in self.n if c != origin],
                                       rng.randint(1, 2)))
                rid = self.submit(self.n[origin], level=rng.choice(
                    ["high", "medium", "low"]), to=",".join(to),
                    category="other", title="round %d #%d" % (rnd, i),
                    body="x" * rng.randint(1, 4000))
                sent[rid] = (origin, to)
                if i == n_before:
                    time.sleep(rng.uniform(0, 0.3))
                    self.proc(victim).kill()
                    kills[victim] += 1
            time.sleep(rng.uniform(0, 0.4))
            self.restart(victim)
        sys.stderr.write("EWH_SEED=%d: %d reports, kills %r\n" %
                         (seed, len(sent), kills))
        self.all_arrive_once(sent, timeout=90)

    def test_sigstop_longer_than_heartbeat(self):
        self.region_up(["RS", "HR"])
        rs, hr = self.n["RS"], self.n["HR"]
        first = self.submit(rs, level="high", to="HR", category="other",
                            title="before", body="b")
        self.wait_inbox(hr, first)
        self.agents["HR"].signal(signal.SIGSTOP)
        try:
            sent = {first: ("RS", ["HR"])}
            for i in range(5):
                rid = self.submit(rs, level="medium", to="HR",
                                  category="other", title="stopped %d" % i,
                                  body="b" * 2000)
                sent[rid] = ("RS", ["HR"])
            # The hub's heartbeat (15 s) gives up on the stopped node.
            wait_for(lambda: "HR disconnected" in self.hub_proc.logtext(),
                     40, what="hub dropping the stopped node")
        finally:
            self.agents["HR"].signal(signal.SIGCONT)
        self.all_arrive_once(sent)
        self.assertTrue(self.agents["HR"].alive())
        # It came back by itself and said hello again.
        wait_for(lambda: self.hub_proc.logtext().count("HR connected") >= 2,
                 20, what="HR reconnecting")

    def test_disk_full_then_freed(self):
        self.region_up(["RS", "HR"], conf="[store]\nmax_pages = 60")
        rs, hr = self.n["RS"], self.n["HR"]
        self.assertEqual(self.agents["HR"].term(), 0)  # let the queue grow
        sent = {}
        for i in range(60):
            rid = self.submit(rs, level="low", to="HR", category="other",
                              title="fill %d" % i, body="f" * 3000)
            sent[rid] = ("RS", ["HR"])
        wait_for(lambda: "store full" in self.hub_proc.logtext(), 30,
                 what="the hub's store filling up")

        def split():
            states = [m["state"] for m in self.outbox(rs)]
            if "queued" in states and "accepted" in states:
                return states
            return None
        states = wait_for(split, 20, what="some accepted, some waiting")
        self.assertNotIn("refused", states)
        self.assertTrue(self.hub_proc.alive())
        # Free space: the operator raises the quota and restarts the hub.
        self.assertEqual(self.hub_proc.term(), 0)
        conf = os.path.join(self.path("hub"), "ewhub.conf")
        with open(conf) as f:
            text = f.read().replace("max_pages = 60", "max_pages = 0")
        with open(conf, "w") as f:
            f.write(text)
        self.restart("hub")
        self.restart("agent-HR")
        self.all_arrive_once(sent, timeout=60)

    def test_clock_skew(self):
        self.region_up(["RS", "HR"])
        rs, hr = self.n["RS"], self.n["HR"]
        env = dict(os.environ)
        env["LD_PRELOAD"] = os.environ["EWH_SKEWTIME"]
        env["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + \
            ":verify_asan_link_order=0"

        def skewed_submit(skew, title):
            env["EWH_SKEW_S"] = str(skew)
            r = self.run_cmd([EWNODE, "submit", "--dir", rs, "--to", "HR",
                              "--level", "high", "--category", "other",
                              "--title", title, "--body", "b"], env=env)
            return r.stdout.decode().strip()
        ahead = skewed_submit(MAX_CLOCK_SKEW_S + 600, "clock ahead")
        within = skewed_submit(MAX_CLOCK_SKEW_S // 3, "clock slightly ahead")
        behind = skewed_submit(-3600, "clock behind")
        # The shim works: the stored report says the future.
        self.assertGreater(self.show_json(rs, ahead)["created_at"],
                           self.show_json(rs, within)["created_at"])

        def refused():
            for m in self.outbox(rs):
                if m["id"] == ahead and m["state"] == "refused":
                    return m
            return None
        m = wait_for(refused, 30, what="the skewed report refused")
        reason = m.get("reason") or " ".join(m.get("reasons", {}).values())
        self.assertIn("ahead of the hub's clock", reason)
        self.assertIn("EWH_MAX_CLOCK_SKEW_S", reason)
        self.assertIn("refused submit from=RS", self.hub_proc.logtext())
        # Nothing lost: the report is still in RS's outbox, showable, and
        # the others (and a normal one) arrive.
        self.assertEqual(self.show_json(rs, ahead)["title"], "clock ahead")
        normal = self.submit(rs, level="low", to="HR", category="other",
                             title="normal", body="b")
        self.all_arrive_once({within: ("RS", ["HR"]),
                              behind: ("RS", ["HR"]),
                              normal: ("RS", ["HR"])})
        self.assertNotIn(ahead, [x["id"] for x in self.inbox(hr)])


if __name__ == "__main__":
    main()
