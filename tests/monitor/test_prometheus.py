"""deploy/monitoring in a real Prometheus (issue 20).

A Prometheus server from Debian's prometheus package (deploy/setup) runs
on 127.0.0.1 with a temp config and data dir, scraping a real hub's
/metrics and a real agent's every second and evaluating a copy of
deploy/monitoring/ewhub.rules.yml whose `for:` durations are cut to a few
seconds.  A node is stopped: the "country disconnected" alert fires
(through /api/v1/alerts) for that country only, and resolves once the node
is back.  Every query of deploy/monitoring/ewhub.dashboard.json returns
data from that Prometheus (/api/v1/query), and every metric the rules
name is served.  Then the hub stops: the
hub-down alert fires, and the agent's lost-session alert."""

import json
import os
import re
import shutil
import signal
import socket
import time
import urllib.parse
import urllib.request

from ewhtest import EWHUB, NodeCase, main, wait_for

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MON = os.path.join(ROOT, "deploy", "monitoring")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dashboard_queries():
    with open(os.path.join(MON, "ewhub.dashboard.json")) as f:
        d = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append((p["title"], t["expr"]))
            walk(p.get("panels", []))
    walk(d["panels"])
    return out


class Prometheus(NodeCase):

    def api(self, path, **params):
        url = "http://%s/api/v1/%s" % (self.prom, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            j = json.loads(r.read().decode())
        self.assertEqual(j["status"], "success", j)
        return j["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]

    def alerts(self, name, state=None):
        try:
            al = self.api("alerts")["alerts"]
        except OSError:
            return None
        return [a for a in al if a["labels"]["alertname"] == name and
                (state is None or a["state"] == state)]

    def start_prometheus(self, hub_ep, node_ep):
        pdir = self.path("prometheus")
        os.makedirs(pdir)
        with open(os.path.join(MON, "ewhub.rules.yml")) as f:
            rules = f.read()
        # The test's copy: every `for:` a few seconds.
        rules, n = re.subn(r"(?m)^(\s+for:\s*)\S+$", r"\g<1>3s", rules)
        self.assertGreater(n, 5)
        with open(os.path.join(pdir, "rules.yml"), "w") as f:
            f.write(rules)
        with open(os.path.join(pdir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n  - rules.yml\n"
                    "scrape_configs:\n"
                    "  - job_name: ewhub\n"
                    "    static_configs:\n      - targets: ['%s']\n"
                    "  - job_name: ewnode\n"
                    "    static_configs:\n      - targets: ['%s']\n"
                    % (hub_ep, node_ep))
        # An ephemeral port: Prometheus cannot report one it chose, so
        # take a free one and retry if another process wins the race.
        for attempt in range(5):
            self.prom = "127.0.0.1:%d" % free_port()
            p = self.start([PROMETHEUS,
                            "--config.file=" + os.path.join(pdir,
                                                            "prometheus.yml"),
                            "--storage.tsdb.path=" + os.path.join(pdir,
                                                                  "data"),
                            "--web.listen-address=" + self.prom,
                            "--log.level=warn"],
                           "prometheus-%d" % attempt)

            def ready():
                if not p.alive():
                    return "exited"
                try:
                    with urllib.request.urlopen("http://%s/-/ready"
                                                % self.prom, timeout=5) as r:
                        return "ready" if r.status == 200 else None
                except OSError:
                    return None
            if wait_for(ready, 60, interval=0.2,
                        what="prometheus ready") == "ready":
                return p
        self.fail("prometheus would not start:\n" + p.logtext())

    def test_alert_fires_and_resolves_dashboard_has_data(self):
        hub = self.path("hub")
        self.run_cmd([EWHUB, "init", "--dir", hub])
        with open(os.path.join(hub, "ewhub.conf"), "a") as f:
            f.write("\n[monitor]\nmetrics = 127.0.0.1:0\n")
        dirs = self.region(["RS", "HR"])
        with open(os.path.join(dirs["RS"], "ewnode.conf"), "a") as f:
            f.write("metrics = 127.0.0.1:0\n")
        agents = {cc: self.agent_start(d) for cc, d in dirs.items()}
        for d in dirs.values():
            self.wait_ready(d)
        with open(os.path.join(hub, "metrics_endpoint")) as f:
            hub_ep = f.read().strip()
        node_ep = wait_for(lambda: os.path.exists(
            os.path.join(dirs["RS"], "metrics_endpoint")) and open(
            os.path.join(dirs["RS"], "metrics_endpoint")).read().strip(),
            what="agent metrics endpoint")
        # Some traffic, so that the rates have moved.
        rid = self.submit(dirs["RS"], level="high", to="HR",
                          category="other", title="t", body="b")
        self.wait_inbox(dirs["HR"], rid)
        self.ewnode("ack", "--dir", dirs["HR"], rid)
        self.run_cmd([EWHUB, "audit", "verify", "--dir", hub])

        prom = self.start_prometheus(hub_ep, node_ep)
        wait_for(lambda: len(self.query('up{job=~"ewhub|ewnode"} == 1')) == 2,
                 60, interval=0.5, what="both targets up in prometheus")
        wait_for(lambda: self.query('ewhub_node_connected{country="HR"} == 1'),
                 60, interval=0.5, what="HR connected in prometheus")
        self.assertEqual(self.alerts("EwhubCountryDisconnected"), [])

        # A node goes away: the alert fires, for HR alone.
        agents["HR"].term()
        firing = wait_for(
            lambda: self.alerts("EwhubCountryDisconnected", "firing"), 60,
            interval=0.5, what="EwhubCountryDisconnected firing")
        self.assertEqual([a["labels"]["country"] for a in firing], ["HR"])
        self.assertEqual(firing[0]["labels"]["severity"], "warning")
        self.assertIn("HR has been disconnected", firing[0]["annotations"][
            "summary"])
        # ... and resolves when it comes back.
        agents["HR"] = self.agent_start(dirs["HR"], name="agent-HR-2")
        wait_for(lambda: self.alerts("EwhubCountryDisconnected") == [], 60,
                 interval=0.5, what="EwhubCountryDisconnected resolved")
        self.assertTrue(self.query('ewhub_node_connected{country="HR"} == 1'))

        # Every dashboard query returns data from this Prometheus.
        queries = dashboard_queries()
        self.assertGreater(len(queries), 20)
        empty = []
        for title, q in queries:
            r = self.query(q)
            if not r:
                empty.append((title, q))
        self.assertEqual(empty, [], "dashboard queries without data")
        # Every metric the alert rules name is one the hub or agent serves
        # (a misspelt name would make its alert never fire).
        with open(os.path.join(MON, "ewhub.rules.yml")) as f:
            names = set(re.findall(r"\b(ew(?:hub|node)_[a-z_]+)\b", f.read()))
        self.assertGreater(len(names), 10)
        missing = sorted(n for n in names
                         if not self.query('count({__name__="%s"})' % n))
        self.assertEqual(missing, [], "rule metrics no target serves")
        # A few of them say what this run did.
        [v] = self.query('ewhub_reports_accepted_total{level="high"}')
        self.assertEqual(v["value"][1], "1")
        [v] = self.query("ewhub_audit_verify_last_ok")
        self.assertEqual(v["value"][1], "1")
        [v] = self.query("ewnode_hub_connected")
        self.assertEqual((v["metric"]["key"], v["value"][1]), ("pinned", "1"))
        # The hub goes away: the hub-down rule fires, and so does the
        # agent's lost-session rule.
        self.assertEqual(self.alerts("EwhubDown"), [])
        self.assertEqual(self.hub_proc.term(), 0)
        [down] = wait_for(lambda: self.alerts("EwhubDown", "firing"), 60,
                          interval=0.5, what="EwhubDown firing")
        self.assertEqual(down["labels"]["instance"], hub_ep)
        [lost] = wait_for(lambda: self.alerts("EwnodeHubDisconnected",
                                              "firing"), 60, interval=0.5,
                          what="EwnodeHubDisconnected firing")
        self.assertEqual(lost["labels"]["instance"], node_ep)
        os.kill(prom.pid, signal.SIGTERM)
        self.assertEqual(prom.wait(30), 0)


if __name__ == "__main__":
    main()
