#!/usr/bin/env python3
"""bench.py — the ewhub benchmark (issue 6), driven by deploy/bench.

Real processes on 127.0.0.1 in a temporary directory, each tracked by PID
and killed at the end.  Binaries come from the environment (EWHUB, EWNODE,
EWH_PEER, EWH_BENCH).  Prints the machine and a table; --json FILE writes
exactly the eight figures of the issue; --details FILE writes everything.

Phases (see docs/performance.md for what each one times):
  accept   hub_accept_per_s, disk_bytes_per_report, ack_ms_p50/p99
  backlog  high_ms_p50/p99 while a low backlog drains, hub_rss_mb_peak
  flood    high latency while an enrolled node floods (table only)
  e2e      e2e_per_s with three real ewnode agents
  twohubs  e2e_two_hubs_per_s: the e2e run with two hubs, beside a one-hub
           run of the same size in the same phase (e2e_two_hubs_vs_one);
           failover_high_ms_p50/p99: a high report sent just after one of
           two hubs is SIGKILLed, to its stored arrival (issue 18)
  desk     desk_inbox_ms_100k, desk_alert_ms_p99 (bench_desk.py; full runs
           and --only desk, not --quick)
"""

import argparse
import json
import math
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from bench_desk import chromium as desk_chromium
from bench_desk import phase_desk

EWHUB = os.environ.get("EWHUB", "ewhub")
EWNODE = os.environ.get("EWNODE", "ewnode")
EWH_PEER = os.environ.get("EWH_PEER", "ewh-peer")
EWH_BENCH = os.environ.get("EWH_BENCH", "ewh-bench")

COUNTRIES = ["RS", "HR", "BA", "ME", "MK", "AL", "BG", "RO", "GR", "SI",
             "HU", "MD"]

KEYS = ["hub_accept_per_s", "e2e_per_s", "ack_ms_p50", "ack_ms_p99",
        "high_ms_p50", "high_ms_p99", "hub_rss_mb_peak",
        "disk_bytes_per_report",
        # Issue 19: same-run ceilings and their ratios, high under a flood.
        "hub_verify_ceiling_per_s", "accept_vs_ceiling",
        "e2e_ceiling_per_s", "e2e_vs_ceiling",
        "high_flood_ms_p50", "high_flood_ms_p99",
        "high_flood_yield_ms_p50", "high_flood_yield_ms_p99",
        "startup_ms_1m", "status_ms_1m",
        "slow_link_high_ms_p50", "slow_link_high_ms_p99",
        "slow_link_target_ms",
        # Issue 18: redundant hubs.
        "failover_high_ms_p50", "failover_high_ms_p99",
        "e2e_two_hubs_per_s", "e2e_two_hubs_vs_one"]

# Sizes: (quick, full)
SIZES = {
    "accept": (6000, 40000),
    "ack": (300, 2000),
    "backlog": (10000, 100000),
    "flood_s": (4, 10),
    "e2e": (400, 4000),
    "e2e2": (150, 2000),
    "failover": (4, 40),
}


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


class Procs:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, argv, name, stdout=None):
        logf = open(os.path.join(self.tmp, name + ".log"), "ab")
        out = stdout if stdout is not None else logf
        p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=logf)
        p.name = name
        p.logf = logf
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=30):
        if p.poll() is None:
            os.kill(p.pid, sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(10)
        p.logf.close()

    def killall(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(10)
                except ProcessLookupError:
                    pass
            if not p.logf.closed:
                p.logf.close()


def run(argv, timeout=600):
    r = subprocess.run([str(a) for a in argv], capture_output=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s\n%s" % (
            " ".join(str(a) for a in argv), r.returncode,
            r.stdout.decode(errors="replace")[-2000:],
            r.stderr.decode(errors="replace")[-2000:]))
    return r.stdout.decode()


def run_json(argv, timeout=600):
    out = run(argv, timeout)
    lines = [x for x in out.splitlines() if x.strip().startswith("{")]
    return json.loads(lines[-1])


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError("timed out waiting for " + what)


def cpu_s(pid):
    """User + system CPU seconds of a live process (all threads)."""
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / float(os.sysconf("SC_CLK_TCK"))


def vm_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Hub:
    """An ewhub dir with peers enrolled, started and stopped by PID."""

    def __init__(self, procs, tmp, name, ccs, conf):
        self.procs = procs
        self.dir = os.path.join(tmp, name)
        self.name = name
        self.peers = os.path.join(tmp, name + "-peers")
        self.proc = None
        os.makedirs(self.peers)
        run([EWHUB, "init", "--dir", self.dir])
        self.set_conf(conf)
        for cc in ccs:
            d = os.path.join(self.peers, cc)
            run([EWH_PEER, "keygen", "--country", cc, "--out", d])
            shutil.copy(os.path.join(d, "node-%s.pub" % cc), self.peers)
            run([EWHUB, "enroll", "--dir", self.dir,
                 os.path.join(d, "node-%s.pub" % cc)])
        self.pub = os.path.join(self.dir, "hub.pub")

    def set_conf(self, conf):
        with open(os.path.join(self.dir, "ewhub.conf"), "w") as f:
            f.write(conf)

    def key(self, cc):
        return os.path.join(self.peers, cc, "node.key")

    def db(self):
        return os.path.join(self.dir, "store.db")

    def start(self, listen="tcp://127.0.0.1:*"):
        ep = os.path.join(self.dir, "endpoint")
        if os.path.exists(ep):
            os.unlink(ep)
        self.proc = self.procs.start([EWHUB, "run", "--dir", self.dir,
                                      "--listen", listen], self.name)
        wait_for(lambda: os.path.exists(ep) or self.proc.poll() is not None,
                 30, "hub endpoint")
        if self.proc.poll() is not None:
            raise RuntimeError("hub exited: see %s.log" % self.name)
        with open(ep) as f:
            self.endpoint = f.read().strip()
        return self.endpoint

    def stop(self):
        self.procs.stop(self.proc)

    def disk_bytes(self):
        """store.db after a full checkpoint (hub stopped)."""
        c = sqlite3.connect(self.db())
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        total = 0
        for suffix in ("", "-wal"):
            p = self.db() + suffix
            if os.path.exists(p):
                total += os.path.getsize(p)
        return total

    def bench(self, mode, cc, *args, timeout=900):
        return run_json([EWH_BENCH, mode, "--key", self.key(cc), "--hub-pub",
                         self.pub, "--endpoint", self.endpoint] + list(args),
                        timeout=timeout)


FAST_CONF = """[limits]
# The benchmark measures the hub's capacity, not the per-node limits.
submits_per_second = 10000000
max_inflight_submits = 100000
max_queue = 10000000
"""


def seal(hub, origin, to, count, level, out, body=2048):
    return run_json([EWH_BENCH, "seal", "--key", hub.key(origin), "--pubs",
                     hub.peers, "--to", ",".join(to), "--count", count,
                     "--level", level, "--body-bytes", body, "--out", out])


def ceiling(hub, origin, rcpt, to, secs, ids=1):
    """ewh-bench ceiling: verifications per second on one and on every
    core, and each crypto step's microseconds, on envelopes sealed like
    the phase's own (same recipients, 2 KiB body)."""
    return run_json([EWH_BENCH, "ceiling", "--key", hub.key(origin),
                     "--rkey", hub.key(rcpt), "--pubs", hub.peers,
                     "--to", ",".join(to), "--seconds", secs,
                     "--count", ids])


def phase_accept(procs, tmp, q, res):
    n, n_ack = SIZES["accept"][q], SIZES["ack"][q]
    hub = Hub(procs, tmp, "hub-accept", COUNTRIES, FAST_CONF)
    origin, others = COUNTRIES[0], COUNTRIES[1:]
    f = os.path.join(tmp, "accept.envs")
    s = seal(hub, origin, others, n, "low", f)
    fa = os.path.join(tmp, "ack.envs")
    seal(hub, origin, others, n_ack, "medium", fa)
    res["envelope_bytes"] = s["envelope_bytes"]
    # The hub's ceiling: each accepted report costs one Ed25519
    # verification, so no hub can accept more than the machine verifies on
    # all its cores.  Measured just before and just after the accept
    # timing (a shared machine's speed drifts); the mean is the ceiling.
    c = ceiling(hub, origin, others[0], others, 1 if q else 2)
    res["ceiling_accept_detail"] = c
    hub.start()
    hub.stop()
    before = hub.disk_bytes()
    hub.start()
    log("accept: %d envelopes of %d bytes to %d countries" %
        (n, s["envelope_bytes"], len(others)))
    c0 = cpu_s(hub.proc.pid)
    r = hub.bench("submit", origin, "--in", f, "--window", 2000)
    res["accept_hub_cpu_us_per_report"] = (cpu_s(hub.proc.pid) - c0) / n * 1e6
    if r["accepted"] != n:
        raise RuntimeError("accept: %r" % r)
    res["hub_accept_per_s"] = r["per_s"]
    c2 = ceiling(hub, origin, others[0], others, 1 if q else 2)
    res["ceiling_accept_after_detail"] = c2
    res["hub_verify_ceiling_per_s"] = (c["verify_per_s_all"] +
                                       c2["verify_per_s_all"]) / 2
    res["accept_vs_ceiling"] = r["per_s"] / res["hub_verify_ceiling_per_s"]
    res["accept_detail"] = r
    log("ack latency: %d submits, one at a time" % n_ack)
    r = hub.bench("submit", origin, "--in", fa, "--window", 1)
    res["ack_ms_p50"] = r["lat_p50_ms"]
    res["ack_ms_p99"] = r["lat_p99_ms"]
    res["ack_detail"] = r
    res["accept_hub_rss_mb"] = vm_hwm_mb(hub.proc.pid)
    hub.stop()
    after = hub.disk_bytes()
    res["disk_bytes_per_report"] = (after - before) / float(n + n_ack)
    res["disk_ratio"] = res["disk_bytes_per_report"] / s["envelope_bytes"]
    shutil.rmtree(hub.dir)
    os.unlink(f)


def phase_backlog(procs, tmp, q, res):
    n = SIZES["backlog"][q]
    hub = Hub(procs, tmp, "hub-backlog", ["RS", "HR", "BG", "MK"], FAST_CONF)
    fl = os.path.join(tmp, "low.envs")
    fh = os.path.join(tmp, "high.envs")
    seal(hub, "RS", ["HR"], n, "low", fl)
    seal(hub, "BG", ["HR"], 2000, "high", fh)
    hub.start()
    log("backlog: %d low reports for HR" % n)
    r = hub.bench("submit", "RS", "--in", fl, "--window", 2000)
    if r["accepted"] != n:
        raise RuntimeError("backlog fill: %r" % r)
    log("backlog: draining, a high report every 20 ms")
    r = run_json([EWH_BENCH, "high", "--key", hub.key("BG"), "--rkey",
                  hub.key("HR"), "--hub-pub", hub.pub, "--endpoint",
                  hub.endpoint, "--in", fh, "--db",
                  os.path.join(tmp, "recv-HR.db"), "--backlog", n,
                  "--interval-ms", 20, "--timeout", 600], timeout=900)
    res["high_ms_p50"] = r["high_p50_ms"]
    res["high_ms_p99"] = r["high_p99_ms"]
    res["backlog_detail"] = r
    res["hub_rss_mb_peak"] = vm_hwm_mb(hub.proc.pid)
    hub.stop()
    shutil.rmtree(hub.dir)
    for p in (fl, fh):
        os.unlink(p)


def phase_flood(procs, tmp, q, res):
    """BG, enrolled, floods far beyond its submits_per_second (default
    limits), its reports addressed to MK (offline), while RS sends a high
    report to HR every 20 ms."""
    hub = Hub(procs, tmp, "hub-flood", ["RS", "HR", "BG", "MK"], "")
    hub.start()
    secs = SIZES["flood_s"][q]
    ff = os.path.join(tmp, "flood.envs")
    seal(hub, "BG", ["MK"], 20000 if not q else 20000, "low", ff)
    fh2 = os.path.join(tmp, "high2.envs")
    seal(hub, "RS", ["HR"], 2000, "high", fh2)
    # The same highs with nothing else running first: what this machine
    # gives a high report right now, for comparison in the same run.
    fh3 = os.path.join(tmp, "high3.envs")
    seal(hub, "RS", ["HR"], 500, "high", fh3)
    r = run_json([EWH_BENCH, "high", "--key", hub.key("RS"), "--rkey",
                  hub.key("HR"), "--hub-pub", hub.pub, "--endpoint",
                  hub.endpoint, "--in", fh3, "--db",
                  os.path.join(tmp, "recv-HR3.db"), "--seconds",
                  2 if q else 4, "--interval-ms", 20, "--timeout", 120],
                 timeout=300)
    res["high_calm_ms_p50"] = r["high_p50_ms"]
    res["high_calm_ms_p99"] = r["high_p99_ms"]
    res["calm_detail"] = r
    os.unlink(fh3)
    def flooded(nice, fh, tag):
        """BG floods (under nice(1) when nice > 0) while RS sends HR a
        high every 20 ms: the highs' figures and the flooder's counts."""
        log("flood: BG floods for %ds%s, RS sends highs to HR"
            % (secs, " at nice %d" % nice if nice else ""))
        argv = [EWH_BENCH, "flood", "--key", hub.key("BG"), "--hub-pub",
                hub.pub, "--endpoint", hub.endpoint, "--in", ff,
                "--seconds", secs + 2]
        out = os.path.join(tmp, "flood-%s.out" % tag)
        flood = procs.start((["nice", "-n", nice] if nice else []) + argv,
                            "flood-" + tag, stdout=open(out, "wb"))
        time.sleep(1.0)
        r = run_json([EWH_BENCH, "high", "--key", hub.key("RS"), "--rkey",
                      hub.key("HR"), "--hub-pub", hub.pub, "--endpoint",
                      hub.endpoint, "--in", fh, "--db",
                      os.path.join(tmp, "recv-HR-%s.db" % tag), "--seconds",
                      secs - 1, "--interval-ms", 20, "--timeout", 120],
                     timeout=300)
        flood.wait(60)
        with open(out) as f:
            fo = [json.loads(x) for x in f if x.strip()]
        return r, fo[-1] if fo else None

    r, fo = flooded(0, fh2, "local")
    res["high_flood_ms_p50"] = r["high_p50_ms"]
    res["high_flood_ms_p99"] = r["high_p99_ms"]
    res["flood_detail"] = {"high": r, "flood": fo}
    # The same flood with the flooder's CPU yielded to everything else
    # (nice 19): on a deployment the flooding country's CPU is its own
    # machine's, not the hub's; what is left is what the hub's queues
    # give a high report (docs/performance.md, "High under a flood").
    fh4 = os.path.join(tmp, "high4.envs")
    seal(hub, "RS", ["HR"], 2000, "high", fh4)
    r, fo = flooded(19, fh4, "yield")
    res["high_flood_yield_ms_p50"] = r["high_p50_ms"]
    res["high_flood_yield_ms_p99"] = r["high_p99_ms"]
    res["flood_yield_detail"] = {"high": r, "flood": fo}
    os.unlink(fh4)
    hub.stop()
    shutil.rmtree(hub.dir)
    for p in (ff, fh2):
        os.unlink(p)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_backlog(db, deliveries, per_row):
    """Setup step (not timed): the store's rows of a big backlog written
    directly, as accepted reports leave them (envelope, fan-out row with
    every recipient waiting), by copying the one real report the hub
    accepted with fresh ids.  Copies carry the original's envelope bytes
    (their ids inside do not match: nothing here opens them)."""
    rows = -(-deliveries // per_row) - 1
    c = sqlite3.connect(db, timeout=30)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=OFF")
    with c:
        c.execute("INSERT INTO envelopes(id, origin, level, created_at,"
                  " expires_at, received_at, hash, env)"
                  " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
                  " FROM n WHERE i < ?1)"
                  " SELECT randomblob(16), e.origin, e.level, e.created_at,"
                  " e.expires_at, e.received_at, e.hash, e.env"
                  " FROM n, (SELECT * FROM envelopes ORDER BY rowid LIMIT 1) e",
                  (rows,))
        c.execute("INSERT INTO fanout(seq, rcpts, level, expires_at,"
                  " queued_at, waiting)"
                  " SELECT e.rowid, f.rcpts, f.level, f.expires_at,"
                  " f.queued_at, f.waiting FROM envelopes e,"
                  " (SELECT * FROM fanout ORDER BY seq LIMIT 1) f"
                  " WHERE e.rowid > (SELECT max(seq) FROM fanout)")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return (rows + 1) * per_row


def phase_restart(procs, tmp, q, res):
    """A hub restarted with 1,000,000 queued deliveries (100,000 with
    --quick): time from `ewhub run` to HR's first high delivery (HR
    connecting as the hub starts), and `ewhub status` with it running."""
    want = 1000000
    hub = Hub(procs, tmp, "hub-restart", COUNTRIES, FAST_CONF)
    origin, others = COUNTRIES[0], COUNTRIES[1:]
    f1 = os.path.join(tmp, "restart-low.envs")
    fh = os.path.join(tmp, "restart-high.envs")
    seal(hub, origin, others, 1, "low", f1, body=256)
    seal(hub, "BG", ["HR"], 1, "high", fh)
    hub.start()
    hub.bench("submit", origin, "--in", f1, "--window", 1)
    hub.stop()
    t = time.monotonic()
    n = make_backlog(hub.db(), want, len(others))
    res["restart_setup_s"] = time.monotonic() - t
    # The high report comes last: the newest row of the store.
    hub.start()
    hub.bench("submit", "BG", "--in", fh, "--window", 1)
    hub.stop()
    res["restart_deliveries"] = n + 1
    log("restart: %d queued deliveries (setup %.1fs)" %
        (n + 1, res["restart_setup_s"]))
    port = free_port()
    ep = "tcp://127.0.0.1:%d" % port
    out = os.path.join(tmp, "first.out")
    first = procs.start([EWH_BENCH, "first", "--key", hub.key("HR"),
                         "--hub-pub", hub.pub, "--endpoint", ep,
                         "--timeout", 120], "first",
                        stdout=open(out, "wb"))
    time.sleep(0.3)
    t0 = time.monotonic()
    hub.start(listen=ep)
    first.wait(150)
    with open(out) as f:
        r = json.loads([x for x in f if x.strip()][-1])
    res["startup_ms_1m"] = (r["first_high_us"] / 1e6 - t0) * 1000
    res["restart_detail"] = r
    times = []
    for _ in range(5):
        t = time.monotonic()
        run([EWHUB, "status", "--dir", hub.dir, "--json"])
        times.append((time.monotonic() - t) * 1000)
    times.sort()
    res["status_ms_1m"] = times[len(times) // 2]
    res["status_ms_all"] = times
    st = json.loads(run([EWHUB, "status", "--dir", hub.dir, "--json"]))
    res["restart_status_running"] = st.get("running")
    res["restart_status_queued"] = st.get("totals", {}).get("queued")
    hub.stop()
    if os.environ.get("EWH_BENCH_KEEP_RESTART"):
        log("kept %s" % hub.dir)
        return
    shutil.rmtree(hub.dir)
    for p in (f1, fh):
        os.unlink(p)


SLOW_RATE_BPS = 1000000
SLOW_DELAY_MS = 50  # one way: RTT 100 ms


def phase_slowlink(procs, tmp, q, res):
    """HR on a 1 Mbit/s link with 100 ms RTT (tests/bench/slowlink.py)
    while a backlog of low reports drains to it; BG sends HR a high report
    every 500 ms.  Figure: BG's submit sent -> the high stored at HR."""
    n_low = 3000
    secs = 8 if q == 0 else 20
    hub = Hub(procs, tmp, "hub-slow", ["RS", "HR", "BG"], FAST_CONF)
    fl = os.path.join(tmp, "slow-low.envs")
    fh = os.path.join(tmp, "slow-high.envs")
    seal(hub, "RS", ["HR"], n_low, "low", fl)
    s = seal(hub, "BG", ["HR"], 200, "high", fh)
    hub.start()
    r = hub.bench("submit", "RS", "--in", fl, "--window", 2000)
    if r["accepted"] != n_low:
        raise RuntimeError("slowlink fill: %r" % r)
    port = free_port()
    link = procs.start([sys.executable, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "slowlink.py"), port,
        hub.endpoint.rsplit(":", 1)[1], SLOW_RATE_BPS, SLOW_DELAY_MS],
        "slowlink", stdout=subprocess.PIPE)
    link.stdout.readline()
    log("slowlink: %d lows of %d bytes queued for HR behind 1 Mbit/s, "
        "RTT %d ms; a high every 500 ms for %ds" %
        (n_low, s["envelope_bytes"], 2 * SLOW_DELAY_MS, secs))
    r = run_json([EWH_BENCH, "high", "--key", hub.key("BG"), "--rkey",
                  hub.key("HR"), "--hub-pub", hub.pub, "--endpoint",
                  hub.endpoint, "--rendpoint", "tcp://127.0.0.1:%d" % port,
                  "--in", fh, "--db", os.path.join(tmp, "recv-slow.db"),
                  "--seconds", secs, "--interval-ms", 500, "--timeout",
                  secs + 60], timeout=secs + 120)
    rtt = 2 * SLOW_DELAY_MS
    tx_ms = s["envelope_bytes"] * 8.0 / SLOW_RATE_BPS * 1000
    res["slow_link_high_ms_p50"] = r["high_p50_ms"]
    res["slow_link_high_ms_p99"] = r["high_p99_ms"]
    res["slow_link_target_ms"] = 2 * rtt + tx_ms + 50
    res["slow_link_detail"] = dict(r, rtt_ms=rtt, rate_bps=SLOW_RATE_BPS,
                                   high_tx_ms=tx_ms)
    procs.stop(link)
    hub.stop()
    shutil.rmtree(hub.dir)
    for p in (fl, fh):
        os.unlink(p)


class InboxCounter:
    """Counts a node's stored incoming reports, polled while the agents
    run.  The read-only connection stays open between polls: opening one
    (file, WAL index, schema) 150 times a second took CPU from the very
    processes being timed.  Each count is its own read transaction, so it
    sees every commit and holds back no checkpoint."""

    def __init__(self, nodedir):
        self.con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            nodedir, "store.db"), uri=True, timeout=5)

    def count(self):
        try:
            return self.con.execute("SELECT count(*) FROM msg"
                                    " WHERE dir = 'in'").fetchone()[0]
        except sqlite3.Error:
            return -1

    def close(self):
        self.con.close()


def phase_e2e(procs, tmp, q, res):
    n = SIZES["e2e"][q]
    ccs = ["RS", "HR", "BG"]
    hubdir = os.path.join(tmp, "hub-e2e")
    run([EWHUB, "init", "--dir", hubdir])
    with open(os.path.join(hubdir, "ewhub.conf"), "w") as f:
        f.write("")
    ep_file = os.path.join(hubdir, "endpoint")
    hp = procs.start([EWHUB, "run", "--dir", hubdir, "--listen",
                      "tcp://127.0.0.1:*"], "hub-e2e")
    wait_for(lambda: os.path.exists(ep_file), 30, "hub endpoint")
    with open(ep_file) as f:
        ep = f.read().strip()
    dirs = {}
    for cc in ccs:
        d = os.path.join(tmp, "node-" + cc)
        run([EWNODE, "init", "--dir", d, "--country", cc, "--hub", ep,
             "--hub-key", os.path.join(hubdir, "hub.pub")])
        with open(os.path.join(d, "ewnode.conf"), "a") as f:
            f.write("\nreconnect_max_ms = 300\n")
        run([EWHUB, "enroll", "--dir", hubdir,
             os.path.join(d, "node-%s.pub" % cc)])
        dirs[cc] = d
    # One agent run each to fetch the roster (the outbox needs it).
    agents = [procs.start([EWNODE, "run", "--dir", dirs[cc]], "agent0-" + cc)
              for cc in ccs]

    def ready():
        for cc in ccs:
            r = subprocess.run([EWNODE, "peers", "--dir", dirs[cc], "--json"],
                               capture_output=True)
            if r.returncode != 0 or \
                    len(json.loads(r.stdout).get("peers", [])) < 3:
                return False
        return True
    wait_for(ready, 60, "node rosters", interval=0.2)
    for a in agents:
        procs.stop(a)
    log("e2e: filling outboxes, %d reports per node to the other two" % n)
    for cc in ccs:
        to = [x for x in ccs if x != cc]
        run([EWH_BENCH, "fill-outbox", "--dir", dirs[cc], "--to",
             ",".join(to), "--count", n, "--level", "low"])
    want = 2 * n
    log("e2e: starting the agents")
    t0 = time.monotonic()
    agents = [procs.start([EWNODE, "run", "--dir", dirs[cc]], "agent-" + cc)
              for cc in ccs]
    deadline = t0 + 600
    counters = [InboxCounter(dirs[cc]) for cc in ccs]
    try:
        while True:
            counts = [c.count() for c in counters]
            if all(c >= want for c in counts):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("e2e: stored %r of %d" % (counts, want))
            time.sleep(0.02)
    finally:
        for c in counters:
            c.close()
    t1 = time.monotonic()
    res["e2e_cpu_us_per_report"] = {
        "hub": cpu_s(hp.pid) / (3 * n) * 1e6,
        "agents": sum(cpu_s(a.pid) for a in agents) / (3 * n) * 1e6}
    res["e2e_per_s"] = 3 * n / (t1 - t0)
    res["e2e_detail"] = {"reports": 3 * n, "deliveries": 6 * n,
                         "secs": t1 - t0}
    for a in agents:
        procs.stop(a)
    procs.stop(hp)
    e2e_ceiling(procs, tmp, hubdir, ccs, n, q, res)


def e2e_ceiling(procs, tmp, hubdir, ccs, n, q, res):
    """The crypto of one report end to end, as the e2e run batched it: the
    origin seals (signs, wraps for 2), the hub verifies, each of the 2
    recipients opens (verifies, unwraps, decrypts); each delivered receipt
    is signed by its recipient and verified by the hub and by the origin,
    and covers (deliveries / receipts) reports.  The ceiling is the
    machine's parallel verify throughput divided by that work:
      e2e_ceiling = (verify_per_s_all / verify_per_s_1) * 1e6 / work_us."""
    c = sqlite3.connect(os.path.join(hubdir, "store.db"))
    receipts = c.execute("SELECT count(DISTINCT receipt) FROM receipts"
                         " WHERE kind = 1").fetchone()[0]
    c.close()
    reports, deliveries = 3 * n, 6 * n
    receipts = max(receipts, 1)
    ids = max(1, min(256, round(deliveries / receipts)))
    # Keys: the e2e nodes' own keys are in their dirs; a throwaway pair is
    # as good for timing, so use a small hub of the same shape.
    h = Hub(procs, tmp, "hub-ceiling", ccs, "")
    cc = ceiling(h, ccs[0], ccs[1], ccs[1:], 1 if q else 2, ids)
    work = (cc["seal_us"] + cc["verify_us"] + 2 * cc["open_us"] +
            receipts / float(reports) *
            (cc["receipt_sign_us"] + 2 * cc["receipt_verify_us"]))
    scale = cc["verify_per_s_all"] / cc["verify_per_s_1"]
    res["e2e_ceiling_detail"] = dict(cc, receipts=receipts,
                                     receipts_per_report=receipts /
                                     float(reports),
                                     work_us_per_report=work,
                                     parallel_scale=scale)
    res["e2e_ceiling_per_s"] = scale * 1e6 / work
    res["e2e_vs_ceiling"] = res["e2e_per_s"] / res["e2e_ceiling_per_s"]
    shutil.rmtree(h.dir)


def e2e_region(procs, tmp, tag, ccs, hubs):
    """Hubs (1 or 2) and a node per country, pinned to the first hub and
    with the others added (`ewnode hubs add`), enrolled at every hub;
    one agent run each to fetch the roster (the outbox needs it), left
    running when keep_agents.  Returns ({name: (dir, proc, ep)},
    {cc: dir})."""
    hs = {}
    for i in range(hubs):
        name = "%s-hub%d" % (tag, i)
        d = os.path.join(tmp, name)
        run([EWHUB, "init", "--dir", d])
        with open(os.path.join(d, "ewhub.conf"), "w") as f:
            f.write("")
        ep_file = os.path.join(d, "endpoint")
        p = procs.start([EWHUB, "run", "--dir", d, "--listen",
                         "tcp://127.0.0.1:*"], name)
        wait_for(lambda: os.path.exists(ep_file), 30, "hub endpoint")
        with open(ep_file) as f:
            hs[name] = [d, p, f.read().strip()]
    names = sorted(hs)
    dirs = {}
    for cc in ccs:
        d = os.path.join(tmp, "%s-node-%s" % (tag, cc))
        h0 = hs[names[0]]
        run([EWNODE, "init", "--dir", d, "--country", cc, "--hub", h0[2],
             "--hub-key", os.path.join(h0[0], "hub.pub")])
        with open(os.path.join(d, "ewnode.conf"), "a") as f:
            f.write("\nreconnect_max_ms = 300\nheartbeat_ms = 500\n")
        for name in names:
            run([EWHUB, "enroll", "--dir", hs[name][0],
                 os.path.join(d, "node-%s.pub" % cc)])
        for name in names[1:]:
            run([EWNODE, "hubs", "add", "--dir", d, "--hub", hs[name][2],
                 "--hub-key", os.path.join(hs[name][0], "hub.pub")])
        dirs[cc] = d
    return hs, dirs


def nodes_ready(procs, dirs, tag):
    agents = {cc: procs.start([EWNODE, "run", "--dir", d],
                              "%s-agent0-%s" % (tag, cc))
              for cc, d in dirs.items()}

    def ready():
        for cc, d in dirs.items():
            r = subprocess.run([EWNODE, "peers", "--dir", d, "--json"],
                               capture_output=True)
            if r.returncode != 0 or \
                    len(json.loads(r.stdout).get("peers", [])) < len(dirs):
                return False
        return True
    wait_for(ready, 120, "node rosters", interval=0.2)
    return agents


def hubs_connected(d, n):
    r = subprocess.run([EWNODE, "hubs", "list", "--dir", d, "--json"],
                       capture_output=True)
    if r.returncode != 0:
        return False
    j = json.loads(r.stdout)
    if isinstance(j, dict):
        j = j.get("hubs", [])
    return sum(1 for h in j if h.get("connected")) >= n


def e2e_timed(procs, tmp, tag, hubs, n):
    """The e2e run (as phase_e2e) with `hubs` hubs: outboxes filled while
    the agents are stopped, then the time from starting the agents to
    every report stored at both its addressees (each once: msg.id is
    unique)."""
    ccs = ["RS", "HR", "BG"]
    hs, dirs = e2e_region(procs, tmp, tag, ccs, hubs)
    agents = nodes_ready(procs, dirs, tag)
    if hubs > 1:
        wait_for(lambda: all(hubs_connected(d, hubs) for d in
                             dirs.values()), 120, "both hubs connected",
                 interval=0.2)
    for a in agents.values():
        procs.stop(a)
    for cc in ccs:
        to = [x for x in ccs if x != cc]
        run([EWH_BENCH, "fill-outbox", "--dir", dirs[cc], "--to",
             ",".join(to), "--count", n, "--level", "low"])
    want = 2 * n
    t0 = time.monotonic()
    agents = [procs.start([EWNODE, "run", "--dir", dirs[cc]],
                          "%s-agent-%s" % (tag, cc)) for cc in ccs]
    deadline = t0 + 900
    counters = [InboxCounter(dirs[cc]) for cc in ccs]
    try:
        while True:
            counts = [c.count() for c in counters]
            if all(c >= want for c in counts):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("%s: stored %r of %d" %
                                   (tag, counts, want))
            time.sleep(0.02)
    finally:
        for c in counters:
            c.close()
    secs = time.monotonic() - t0
    cpu = {"hubs_us_per_report": sum(cpu_s(h[1].pid) for h in hs.values())
           / (3 * n) * 1e6,
           "agents_us_per_report": sum(cpu_s(a.pid) for a in agents)
           / (3 * n) * 1e6}
    for a in agents:
        procs.stop(a)
    for h in hs.values():
        procs.stop(h[1])
        shutil.rmtree(h[0])
    for d in dirs.values():
        shutil.rmtree(d)
    return 3 * n / secs, secs, cpu


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100.0 * len(xs))) - 1)]


def phase_twohubs(procs, tmp, q, res):
    n = SIZES["e2e2"][q]
    log("twohubs: e2e with one hub, %d reports per node" % n)
    one, s1, c1 = e2e_timed(procs, tmp, "e2e1", 1, n)
    log("twohubs: e2e with two hubs, %d reports per node" % n)
    two, s2, c2 = e2e_timed(procs, tmp, "e2e2", 2, n)
    res["e2e_two_hubs_per_s"] = two
    res["e2e_one_hub_same_phase_per_s"] = one
    res["e2e_two_hubs_vs_one"] = two / one
    res["e2e_two_hubs_detail"] = {"reports": 3 * n, "secs_one": s1,
                                  "secs_two": s2, "cpu_one": c1,
                                  "cpu_two": c2}
    phase_failover(procs, tmp, q, res)


def phase_failover(procs, tmp, q, res):
    """RS and HR on two hubs.  Each round SIGKILLs one hub (alternately),
    then at once RS submits a high report to HR (`ewnode submit`, timed
    from its start) and HR's store is polled for it; the killed hub is
    restarted at its endpoint and both nodes reconnect before the next
    round.  Between two such rounds a control round times the same with
    both hubs up (failover_calm_ms_*, details only)."""
    rounds = SIZES["failover"][q]
    hs, dirs = e2e_region(procs, tmp, "fo", ["RS", "HR"], 2)
    agents = nodes_ready(procs, dirs, "fo")
    names = sorted(hs)
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
        dirs["HR"], "store.db"), uri=True, timeout=5)
    lat = []
    calm = []
    try:
        for i in range(2 * rounds):
            wait_for(lambda: all(hubs_connected(d, 2)
                                 for d in dirs.values()), 120,
                     "both hubs connected", interval=0.05)
            # Odd rounds are the control: the same, with no hub killed.
            victim = hs[names[(i // 2) % 2]] if i % 2 == 0 else None
            if victim:
                os.kill(victim[1].pid, signal.SIGKILL)
                victim[1].wait(10)
            t0 = time.monotonic()
            rid = run([EWNODE, "submit", "--dir", dirs["RS"], "--level",
                       "high", "--to", "HR", "--category", "other",
                       "--title", "failover %d" % i, "--body",
                       "b" * 512]).strip()
            deadline = t0 + 120
            while True:
                try:
                    got = con.execute("SELECT 1 FROM msg WHERE id = ?",
                                      (rid,)).fetchone()
                except sqlite3.Error:
                    got = None
                if got:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("failover: %s never arrived" % rid)
                time.sleep(0.002)
            (lat if victim else calm).append((time.monotonic() - t0) * 1000)
            if victim is None:
                continue
            victim[1].logf.close()
            ep_file = os.path.join(victim[0], "endpoint")
            if os.path.exists(ep_file):
                os.unlink(ep_file)
            victim[1] = procs.start([EWHUB, "run", "--dir", victim[0],
                                     "--listen", victim[2]],
                                    "fo-restart-%d" % i)
            wait_for(lambda: os.path.exists(ep_file), 30, "hub endpoint")
    finally:
        con.close()
    res["failover_high_ms_p50"] = pct(lat, 50)
    res["failover_high_ms_p99"] = pct(lat, 99)
    res["failover_calm_ms_p50"] = pct(calm, 50)
    res["failover_calm_ms_p99"] = pct(calm, 99)
    res["failover_detail"] = {"rounds": rounds, "ms": lat,
                              "calm_ms": calm}
    for a in agents.values():
        procs.stop(a)
    for h in hs.values():
        procs.stop(h[1])


def machine():
    m = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
         "nproc": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    m["mem_gb"] = round(int(line.split()[1]) / 1048576.0, 1)
        with open("/proc/loadavg") as f:
            m["load"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    return m


def table(res, m):
    t = []
    t.append("machine: %s, %s cores, %s GB, Linux %s" % (
        m.get("cpu", "?"), m.get("nproc"), m.get("mem_gb"), m.get("kernel")))
    t.append("date: %s   load before: %s   load after: %s" % (
        m["date"], m.get("load"), m.get("load_after")))
    t.append("envelope: %s bytes (2 KiB body, 11 recipients + origin)" %
             res.get("envelope_bytes"))
    if "accept_hub_cpu_us_per_report" in res:
        t.append("hub CPU per accepted report: %.0f us (all threads)" %
                 res["accept_hub_cpu_us_per_report"])
    if "e2e_cpu_us_per_report" in res:
        t.append("e2e CPU per report: hub %.0f us, agents %.0f us" % (
            res["e2e_cpu_us_per_report"]["hub"],
            res["e2e_cpu_us_per_report"]["agents"]))
    t.append("")
    rows = [
        # Same-run ratios first: they carry from one machine to another.
        ("accept_vs_ceiling", "%.3f", ">= 0.9"),
        ("e2e_vs_ceiling", "%.3f", ">= 0.6"),
        ("hub_verify_ceiling_per_s", "%.0f", "(same run, all cores)"),
        ("e2e_ceiling_per_s", "%.0f", "(same run, crypto only)"),
        ("hub_accept_per_s", "%.0f", ">= 15000"),
        ("e2e_per_s", "%.0f", ">= 3000"),
        ("ack_ms_p50", "%.2f", "<= 1"),
        ("ack_ms_p99", "%.2f", ""),
        ("high_ms_p50", "%.2f", ""),
        ("high_ms_p99", "%.2f", "<= 50"),
        ("hub_rss_mb_peak", "%.1f", "<= 64"),
        ("disk_bytes_per_report", "%.0f", "<= %.0f (1.5 x envelope)" %
         (1.5 * res.get("envelope_bytes", 0))),
        ("high_flood_ms_p50", "%.2f", ""),
        ("high_flood_ms_p99", "%.2f", "<= 20"),
        ("high_calm_ms_p99", "%.2f", "(same run, no flood)"),
        ("high_flood_yield_ms_p99", "%.2f", "(same run, flooder at nice 19)"),
        ("slow_link_high_ms_p50", "%.1f", ""),
        ("slow_link_high_ms_p99", "%.1f", "<= %.0f (2 RTT + tx + 50)" %
         res.get("slow_link_target_ms", 0)),
        ("startup_ms_1m", "%.0f", "<= 2000"),
        ("failover_high_ms_p50", "%.1f", ""),
        ("failover_high_ms_p99", "%.1f", "<= 2000"),
        ("e2e_two_hubs_per_s", "%.0f", ""),
        ("e2e_two_hubs_vs_one", "%.3f", ">= 0.7 (same phase)"),
        ("status_ms_1m", "%.0f", "<= 100"),
        ("desk_inbox_ms_100k", "%.1f", "<= 300 (desk, table only)"),
        ("desk_alert_ms_p99", "%.0f", "<= 1000 (desk, table only)"),
    ]
    t.append("| %-22s | %12s | %-28s |" % ("figure", "value", "target"))
    t.append("|%s|%s|%s|" % ("-" * 24, "-" * 14, "-" * 30))
    for k, fmt, tgt in rows:
        v = res.get(k)
        t.append("| %-22s | %12s | %-28s |" % (
            k, fmt % v if v is not None else "-", tgt))
    return "\n".join(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--details")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", choices=["accept", "backlog", "flood", "e2e",
                                       "restart", "slowlink", "desk",
                                       "twohubs"],
                    help="run one phase (for profiling; no --json)")
    a = ap.parse_args()
    q = 0 if a.quick else 1
    m = machine()
    tmp = tempfile.mkdtemp(prefix="ewh-bench-")
    procs = Procs(tmp)
    res = {}
    t0 = time.monotonic()
    ok = False
    try:
        for name, fn in (("accept", phase_accept),
                         ("backlog", phase_backlog), ("flood", phase_flood),
                         ("e2e", phase_e2e), ("restart", phase_restart),
                         ("slowlink", phase_slowlink),
                         ("twohubs", phase_twohubs)):
            if a.only in (None, name):
                fn(procs, tmp, q, res)
        if a.only == "desk" or (a.only is None and not a.quick):
            phase_desk(procs, tmp, q, res, {
                "EWHUB": EWHUB, "EWNODE": EWNODE, "run": run,
                "wait_for": wait_for, "log": log, "browser": desk_chromium})
        ok = True
    finally:
        procs.killall()
        if a.keep or not ok:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    with open("/proc/loadavg") as f:
        m["load_after"] = " ".join(f.read().split()[:3])
    res["wall_s"] = time.monotonic() - t0
    if a.only:
        print(json.dumps(res, indent=2, default=str))
        return
    print(table(res, m))
    out = {k: res[k] for k in KEYS}
    for k, v in out.items():
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise SystemExit("bench: %s = %r is not plausible" % (k, v))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    if a.details:
        with open(a.details, "w") as f:
            json.dump({"machine": m, "quick": a.quick, "results": res}, f,
                      indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
