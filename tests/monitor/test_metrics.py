"""/metrics during a run: strict Prometheus text parse, counters move by
exactly the scripted amounts, histogram buckets cumulative."""

import os
import re
import signal
import urllib.request

from ewhtest import HubCase, main, of_type, wait_for

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LINE = re.compile(r"^(%s)(\{(.*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$" % NAME)
LABEL = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"$')


def parse(text):
    """Strict parse: every sample preceded by HELP and TYPE of its family;
    returns ({(name, frozenset(labels)): value}, {family: type})."""
    samples, types, helped = {}, {}, set()
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split()
            assert typ in ("counter", "gauge", "histogram"), line
            assert fam not in types, "duplicate TYPE " + fam
            types[fam] = typ
            continue
        m = LINE.match(line)
        assert m, "bad sample line %r" % line
        name, labels = m.group(1), {}
        if m.group(3):
            for part in m.group(3).split(","):
                lm = LABEL.match(part)
                assert lm, "bad label %r" % part
                labels[lm.group(1)] = lm.group(2)
        fam = re.sub(r"_(bucket|sum|count)$", "", name) \
            if name not in types else name
        assert fam in types and fam in helped, "no HELP/TYPE for " + name
        if types[fam] == "counter":
            assert name.endswith("_total"), name
        key = (name, frozenset(labels.items()))
        assert key not in samples, "duplicate sample " + line
        samples[key] = float(m.group(4))
    return samples, types


def get(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


class Metrics(HubCase):

    def scrape(self):
        with urllib.request.urlopen("http://%s/metrics" % self.ep,
                                    timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith(
                "text/plain; version=0.0.4"))
            return parse(r.read().decode())

    def test_ack_from_a_node_that_left(self):
        # A node acknowledges its last delivery and disconnects at once.
        # Here the hub is stopped meanwhile, so that it reads the
        # disconnect (which empties the node's in-flight set) in the same
        # turn as the acknowledgement, before it commits it.  The delivery
        # still counts at its level, and the queue depth (which also feeds
        # max_queue) comes back to zero.
        hubdir = self.hub_init(conf="[monitor]\nmetrics = 127.0.0.1:0")
        peers = {}
        for cc in ("RS", "HR"):
            peers[cc] = self.peer_keygen(cc)
            self.enroll(hubdir, peers[cc], cc)
        hub = self.hub_start(hubdir)
        with open(os.path.join(hubdir, "metrics_endpoint")) as f:
            self.ep = f.read().strip()
        rounds = 3
        for i in range(1, rounds + 1):
            self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                      "--level", "high")
            p = self.peer_start("recv", peers["HR"], hubdir, "--count", 1,
                                "--ack-delay", 300, name="recv-%d" % i)
            wait_for(lambda: of_type(p.lines(), "deliver"), 10,
                     what="delivery %d" % i)
            os.kill(hub.pid, signal.SIGSTOP)
            try:
                self.assertEqual(p.wait(10), 0)
            finally:
                os.kill(hub.pid, signal.SIGCONT)
            wait_for(lambda: get(self.scrape()[0], "ewhub_deliveries_total",
                                 level="high") == i, 5,
                     what="delivery %d counted as high" % i)
            # (Gauges are refreshed at the hub's once-a-second tick; a
            # full recount, which would hide a wrong count, every 30 s.)
            wait_for(lambda: get(self.scrape()[0], "ewhub_queue_depth",
                                 country="HR", level="high") == 0, 5,
                     what="HR's queue depth back to 0 (%d)" % i)

    def test_counters_move_exactly(self):
        hubdir = self.hub_init(conf="[monitor]\nmetrics = 127.0.0.1:0")
        peers = {}
        for cc in ("RS", "HR", "BG"):
            peers[cc] = self.peer_keygen(cc)
            self.enroll(hubdir, peers[cc], cc)
        self.hub_start(hubdir)
        with open(os.path.join(hubdir, "metrics_endpoint")) as f:
            self.ep = f.read().strip()
        self.assertRegex(self.ep, r"^127\.0\.0\.1:\d+$")
        s0, types = self.scrape()
        self.assertEqual(types["ewhub_store_commit_seconds"], "histogram")
        self.assertEqual(types["ewhub_store_checkpoints_total"], "counter")
        self.assertEqual(types["ewhub_store_checkpoints_failed_total"],
                         "counter")
        self.assertEqual(types["ewhub_store_wal_pages"], "gauge")
        [bi] = [v for k, v in s0.items() if k[0] == "ewhub_build_info"]
        self.assertEqual(bi, 1.0)
        self.peer("submit", peers["RS"], hubdir, "--to", "HR", "--count", 4,
                  "--level", "high")
        self.peer("submit", peers["RS"], hubdir, "--to", "HR,BG",
                  "--count", 2, "--level", "low")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--created-offset", "-100", "--expires", "10")
        self.assertEqual(of_type(lines, "ack")[0]["code"], "expired")
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count", 6,
                              "--receipt", "acknowledged")
        self.assertEqual(len(of_type(lines, "deliver")), 6)

        def moved():
            s, _ = self.scrape()
            return s if get(s, "ewhub_acknowledgements_total") == 6 and \
                get(s, "ewhub_queue_depth", country="BG",
                    level="low") == 2 else None
        s1 = wait_for(moved, what="metrics to move")
        d = lambda n, **l: get(s1, n, **l) - get(s0, n, **l)  # noqa: E731
        self.assertEqual(d("ewhub_reports_accepted_total", level="high"), 4)
        self.assertEqual(d("ewhub_reports_accepted_total", level="low"), 2)
        self.assertEqual(d("ewhub_reports_accepted_total", level="medium"),
                         0)
        self.assertEqual(d("ewhub_reports_refused_total", reason="expired"),
                         1)
        self.assertEqual(sum(v - get(s0, k[0], **dict(k[1]))
                             for k, v in s1.items()
                             if k[0] == "ewhub_reports_refused_total"), 1)
        self.assertEqual(d("ewhub_deliveries_total", level="high"), 4)
        self.assertEqual(d("ewhub_deliveries_total", level="low"), 2)
        self.assertEqual(d("ewhub_acknowledgements_total"), 6)
        self.assertEqual(get(s1, "ewhub_queue_depth", country="HR",
                             level="high"), 0)
        self.assertEqual(get(s1, "ewhub_nodes_enrolled"), 3)
        self.assertEqual(get(s1, "ewhub_audit_chain_length"), 6)
        # Counters never go down; histogram buckets are cumulative.
        for k, v in s0.items():
            if k[0].endswith("_total") or k[0].endswith("_count"):
                self.assertGreaterEqual(s1.get(k, 0), v, k)
        buckets = sorted(((float("inf") if dict(k[1])["le"] == "+Inf"
                           else float(dict(k[1])["le"])), v)
                         for k, v in s1.items()
                         if k[0] == "ewhub_store_commit_seconds_bucket")
        self.assertEqual([b[1] for b in buckets],
                         sorted(b[1] for b in buckets))
        self.assertEqual(buckets[-1][1],
                         get(s1, "ewhub_store_commit_seconds_count"))
        self.assertGreater(get(s1, "ewhub_store_commit_seconds_count"),
                           get(s0, "ewhub_store_commit_seconds_count"))
        # Only /metrics, only GET.
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://%s/" % self.ep, timeout=10)
        self.assertEqual(e.exception.code, 404)
        # Metadata only: no country pair sees a title.
        body = urllib.request.urlopen("http://%s/metrics" % self.ep,
                                      timeout=10).read()
        self.assertNotIn(b"ewh-peer report", body)


if __name__ == "__main__":
    main()
