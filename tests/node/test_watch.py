"""`ewnode watch`: the unacknowledged backlog first (high first), then new
arrivals, nothing twice; high stands out; --level; --exec hooks that work,
fail or hang are bounded and never lose a report."""

import json
import os
import signal
import time

from ewhtest import EWNODE, NodeCase, node_main, wait_for


def json_lines(proc):
    return [json.loads(line) for line in proc.logtext().splitlines()
            if line.startswith("{")]


class WatchTest(NodeCase):

    def setUp(self):
        super().setUp()
        n = self.region(["RS", "HR"])
        self.rs, self.hr = n["RS"], n["HR"]
        for d in n.values():
            self.agent_start(d)
            self.wait_ready(d, 2)

    def send(self, level, title):
        rid = self.submit(self.rs, level=level, to="HR", category="cyber",
                          title=title, body="body of " + title)
        self.wait_inbox(self.hr, rid)
        return rid

    def watch(self, name, *args, env=None):
        return self.start([EWNODE, "watch", "--dir", self.hr] + list(args),
                          name, env=env)

    def test_backlog_then_arrivals(self):
        low = self.send("low", "backlog low")
        high = self.send("high", "backlog high")
        med = self.send("medium", "acked medium")
        self.ewnode("ack", "--dir", self.hr, med)
        w = self.watch("watch-json", "--json")
        wait_for(lambda: len(json_lines(w)) >= 2, what="backlog")
        new = self.send("low", "new low")
        wait_for(lambda: len(json_lines(w)) >= 3, what="arrival")
        later = self.send("high", "new high")
        wait_for(lambda: len(json_lines(w)) >= 4, what="arrival 2")
        time.sleep(0.6)  # a few polls more: nothing may be repeated
        self.assertEqual([x["id"] for x in json_lines(w)],
                         [high, low, new, later])
        self.assertEqual(json_lines(w)[0]["body"], "body of backlog high")

        t = self.watch("watch-text")
        wait_for(lambda: "new high" in t.logtext(), what="text watch")
        # (the annual exchange's reminder, on stderr, depends on the date)
        lines = [l for l in t.logtext().splitlines() if l.strip()
                 and not l.startswith("reminder: annual exchange")]
        self.assertTrue(lines[0].startswith("!!! HIGH"), lines)
        self.assertNotIn("\033[", t.logtext())  # not a tty: plain
        self.assertFalse(any(l.startswith("!!!") for l in lines[2:]), lines)

        h = self.watch("watch-high", "--level", "high", "--json")
        wait_for(lambda: len(json_lines(h)) >= 2, what="high only")
        self.send("low", "filtered out")
        only = self.send("high", "high again")
        wait_for(lambda: len(json_lines(h)) >= 3, what="high arrival")
        self.assertEqual({x["level"] for x in json_lines(h)}, {"high"})
        self.assertEqual(json_lines(h)[-1]["id"], only)
        for p in (w, t, h):
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(10), 0)

    def test_exec_hooks(self):
        hooks = self.path("hooks")
        os.makedirs(hooks)
        env = dict(os.environ, HOOKDIR=hooks)
        a = self.send("high", "first")
        ok = self.watch("watch-ok", "--exec", 'cat > "$HOOKDIR/$$.json"',
                        env=env)
        b = self.send("medium", "second")

        def hooked():
            got = []
            for f in os.listdir(hooks):
                with open(os.path.join(hooks, f)) as fh:
                    txt = fh.read()
                if txt.endswith("\n"):
                    got.append(json.loads(txt)["id"])
            return sorted(got) if len(got) == 2 else None
        self.assertEqual(wait_for(hooked, what="hook files"), sorted([a, b]))

        bad = self.watch("watch-fail", "--exec", "exit 3")
        wait_for(lambda: bad.logtext().count("exited 3") >= 2,
                 what="failing hook reported")
        slow = self.watch("watch-hang", "--exec", "sleep 30",
                          "--exec-timeout", "1")
        t0 = time.monotonic()
        wait_for(lambda: slow.logtext().count("killed after 1 s") >= 2,
                 timeout=15, what="hanging hook killed")
        self.assertLess(time.monotonic() - t0, 10)
        c = self.send("low", "third")
        wait_for(lambda: c in slow.logtext(), timeout=15,
                 what="watch goes on after a hung hook")
        # the reports stay in the inbox, unacknowledged
        box = {m["id"]: m for m in self.inbox(self.hr)}
        for rid in (a, b, c):
            self.assertFalse(box[rid]["acknowledged"])
        for p in (ok, bad, slow):
            p.signal(signal.SIGTERM)
            self.assertEqual(p.wait(15), 0)


if __name__ == "__main__":
    node_main()
