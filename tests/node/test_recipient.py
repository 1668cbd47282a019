"""What a new user tripped on (issue 15), as a recipient sees it, with a
real hub and agents: cancellations and updates in watch/inbox/show (item
7), finding a report in the inbox (item 8), watch --exec hooks that run
beside the display and once per report (item 10), who acknowledged and
when in outbox --json (item 11)."""

import json
import os
import signal
import sqlite3
import time

from ewhtest import EWNODE, NodeCase, node_main, wait_for


def json_lines(proc):
    return [json.loads(line) for line in proc.logtext().splitlines()
            if line.startswith("{")]


class RecipientTest(NodeCase):

    def setUp(self):
        super().setUp()
        n = self.region(["RS", "HR"])
        self.rs, self.hr = n["RS"], n["HR"]
        for d in n.values():
            self.agent_start(d)
            self.wait_ready(d, 2)

    def send(self, **kw):
        kw.setdefault("to", "HR")
        kw.setdefault("category", "cyber")
        rid = self.submit(self.rs, **kw)
        self.wait_inbox(self.hr, rid)
        return rid

    def watch(self, name, *args, env=None):
        return self.start([EWNODE, "watch", "--dir", self.hr] + list(args),
                          name, env=env)

    def test_cancel_and_update_as_the_recipient_sees_them(self):
        h = self.send(level="high", title="Armed group at crossing 7",
                      body="40 men", author="RS duty")
        w = self.watch("watch-text")
        wait_for(lambda: h in w.logtext(), what="alert in watch")
        u = self.send(updates=h, title="Now 80 men", body="80 men")
        c = self.send(cancels=h, body="Exercise.", author="RS chief")
        wait_for(lambda: c in w.logtext(), what="cancel in watch")
        lines = [l for l in w.logtext().splitlines() if l.strip()]
        cancel = [l for l in lines if c in l.split()[:3]][0]
        # the cancellation says what it cancels, and does not alarm again
        self.assertFalse(cancel.startswith("!!!"), cancel)
        self.assertIn("cancels %s" % h, cancel)
        self.assertIn('"Armed group at crossing 7"', cancel)
        update = [l for l in lines if u in l.split()[:3]][0]
        self.assertIn("replaces %s" % h, update)
        # the update no longer looks live: it is cancelled too
        box = {m["id"]: m for m in self.inbox(self.hr)}
        for old in (h, u):
            self.assertEqual(box[old]["superseded_by"], c, old)
            self.assertEqual(box[old]["superseded_type"], "cancel", old)
            self.assertEqual(box[old]["superseded_author"], "RS chief")
            self.assertIsNotNone(box[old]["superseded_at"])
        self.assertEqual(box[c]["replaces_title"],
                         "Armed group at crossing 7")
        # what a hook sees: only a live high report alarms
        self.assertEqual([box[x]["alarm"] for x in (h, u, c)],
                         [False, False, False])
        self.assertEqual(box[c]["level"], "high")
        text = self.ewnode("inbox", "--dir", self.hr).stdout.decode()
        for l in text.splitlines():
            if u in l.split()[:3] or h in l.split()[:3]:
                self.assertIn("(cancelled by %s" % c, l)
                self.assertFalse(l.startswith("!!!"), l)
        show = self.ewnode("show", "--dir", self.hr, u).stdout.decode()
        self.assertRegex(show, r"cancelled by: %s by RS / RS chief at " % c)
        show = self.ewnode("show", "--dir", self.hr, c).stdout.decode()
        self.assertIn('cancels:      %s "Armed group at crossing 7"' % h,
                      show)
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)

        # who acknowledged, and when, each under its own key
        self.ewnode("ack", "--dir", self.hr, h[-8:], "--who", "Officer K")
        ob = wait_for(lambda: [o for o in self.outbox(self.rs)
                               if o["id"] == h and
                               o["recipients"] == {"HR": "acknowledged"}],
                      what="acknowledged in outbox")[0]
        self.assertEqual(ob["acknowledged_by"], {"HR": "Officer K"})
        self.assertRegex(ob["acknowledged_at"]["HR"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertEqual(ob["reasons"], {})

    def test_finding_a_report(self):
        a = self.send(level="low", category="cyber", title="Phishing wave",
                      body="Mails posing as the ministry of finance.")
        b = self.send(level="medium", category="terrorism",
                      title="Threat to the stadium", body="Finance MINISTRY "
                      "building also named.")
        c = self.send(level="high", category="border-security",
                      title="Crossing 7", body="Armed group; 100% sure_ish")

        def ids(*extra):
            return [m["id"] for m in self.inbox(self.hr, *extra)]
        alarm = {m["id"]: m["alarm"] for m in self.inbox(self.hr)}
        self.assertEqual((alarm[a], alarm[b], alarm[c]), (False, False, True))
        self.assertEqual(ids("--search", "ministry"), [b, a])
        self.assertEqual(ids("--search", "finance stadium"), [b])
        self.assertEqual(ids("--search", "100%"), [c])
        self.assertEqual(ids("--search", "0%"), [c])
        self.assertEqual(ids("--search", "_"), [c])  # no wildcard
        self.assertEqual(ids("--search", "nowhere"), [])
        self.assertEqual(ids("--category", "terrorism"), [b])
        self.assertEqual(ids("--limit", "2"), [c, b])
        self.assertEqual(ids("--limit", "2", "--offset", "2"), [a])
        self.assertEqual(ids("--since", "1h"), [c, b, a])
        self.assertEqual(ids("--until", "1h"), [])
        self.assertEqual(ids("--since", "2000-01-01", "--until",
                             "2100-01-01T00:00:00Z"), [c, b, a])
        self.assertEqual(ids("--until", "2000-01-01T00:00+02:00"), [])
        for bad in (["--since", "yesterday"], ["--limit", "-1"],
                    ["--until", "2026-11-22T10:00+2"], ["--from", "xx1"]):
            r = self.ewnode("inbox", "--dir", self.hr, *bad, ok=False)
            self.assertEqual(r.returncode, 2, bad)

    def test_hooks_run_beside_the_display_and_once(self):
        hooks = self.path("hooks")
        os.makedirs(hooks)
        env = dict(os.environ, HOOKDIR=hooks)
        a = self.send(level="high", title="first", body="1")
        b = self.send(level="medium", title="second", body="2")
        # each hook says it started, then waits for "go" before it reads
        hook = ('touch "$HOOKDIR/started.$$"; '
                'while [ ! -e "$HOOKDIR/go" ]; do sleep 0.05; done; '
                'cat > "$HOOKDIR/$$.json"')
        w = self.watch("watch-hooks", "--json", "--exec", hook,
                       "--exec-timeout", "120", env=env)

        def started():
            return sorted(f for f in os.listdir(hooks)
                          if f.startswith("started."))
        # both reports shown, and both hooks running at once, while the
        # first hook still waits
        wait_for(lambda: len(json_lines(w)) >= 2, what="both shown")
        wait_for(lambda: len(started()) == 2, what="two hooks at once")
        self.assertEqual({x["id"] for x in json_lines(w)}, {a, b})
        with open(os.path.join(hooks, "go"), "w"):
            pass

        def done():
            got = []
            for f in os.listdir(hooks):
                if f.endswith(".json"):
                    with open(os.path.join(hooks, f)) as fh:
                        txt = fh.read()
                    if txt.endswith("\n"):
                        got.append(json.loads(txt)["id"])
            return sorted(got) if len(got) == 2 else None
        self.assertEqual(wait_for(done, what="hooks done"), sorted([a, b]))

        def recorded():
            db = sqlite3.connect(os.path.join(self.hr, "store.db"))
            try:
                return db.execute("SELECT count(*) FROM hook_run WHERE "
                                  "status = 0").fetchone()[0] == 2
            except sqlite3.OperationalError:
                return False
            finally:
                db.close()
        wait_for(recorded, what="both hooks recorded in the store")
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)

        # a new watch shows the backlog again but runs no hook twice; a
        # new report gets its hook
        w2 = self.watch("watch-hooks-2", "--json", "--exec", hook,
                        env=env)
        wait_for(lambda: len(json_lines(w2)) >= 2, what="backlog again")
        c = self.send(level="low", title="third", body="3")
        wait_for(lambda: len(started()) == 3, what="hook of the new one")
        time.sleep(1.0)  # a few turns more: no other hook may start
        self.assertEqual(len(started()), 3)
        wait_for(lambda: len([f for f in os.listdir(hooks)
                              if f.endswith(".json")]) == 3,
                 what="third hook done")
        w2.signal(signal.SIGTERM)
        self.assertEqual(w2.wait(10), 0)
        self.assertIn(c, {x["id"] for x in json_lines(w2)})


if __name__ == "__main__":
    node_main()
