#!/usr/bin/env python3
"""budget_stall.py — a measurement, not a test (issue 19): high reports
while one country sits at its storage budget over a large backlog.

RS's ROWS low reports wait for HR (offline; written straight into the
store as bench.py's restart phase does, not timed), more than HR's
recipient_bytes, so HR is at its budget.  BA floods HR (ewh-bench flood,
the default submits_per_second: each submit that passes the rate limit
reaches HR's budget and is refused over-budget), while BG sends MK a
high report every 20 ms.  Prints one JSON object: the highs' p50/p99/max
and the flood's counts.  Binaries as bench.py takes them (EWHUB,
EWH_PEER, EWH_BENCH); run under the bench lock:

    flock /work/coord/bench.lock python3 tests/bench/budget_stall.py
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--sender", choices=["flood", "paced"], default="flood",
                    help="flood: ewh-bench flood; paced: 100 submits at a "
                    "time (window 1) every 0.1 s")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ewh-budget-stall-")
    procs = bench.Procs(tmp)
    res = {"rows": a.rows}
    try:
        conf = ("[limits]\nrecipient_bytes = 20000000\n"
                "origin_bytes = 4000000000\nmax_queue = 10000000\n")
        hub = bench.Hub(procs, tmp, "hub", ["RS", "HR", "BA", "BG", "MK"],
                        conf)
        f1 = os.path.join(tmp, "one.envs")
        ff = os.path.join(tmp, "flood.envs")
        fh = os.path.join(tmp, "high.envs")
        bench.seal(hub, "RS", ["HR"], 1, "low", f1, body=512)
        bench.seal(hub, "BA", ["HR"], 2000 if a.sender == "flood" else 100,
                   "low", ff, body=512)
        bench.seal(hub, "BG", ["MK"], 2000, "high", fh)
        hub.start()
        hub.bench("submit", "RS", "--in", f1, "--window", 1)
        hub.stop()
        res["waiting_for_HR"] = bench.make_backlog(hub.db(), a.rows, 1)
        with open("/proc/loadavg") as f:
            res["load_before"] = " ".join(f.read().split()[:3])
        hub.start()
        stop = threading.Event()
        paced = []

        def pace():
            while not stop.is_set():
                paced.append(hub.bench("submit", "BA", "--in", ff,
                                       "--window", 1)["refused"])
                stop.wait(0.1)
        if a.sender == "flood":
            flood = procs.start([bench.EWH_BENCH, "flood", "--key",
                                 hub.key("BA"), "--hub-pub", hub.pub,
                                 "--endpoint", hub.endpoint, "--in", ff,
                                 "--seconds", a.seconds + 3], "flood",
                                stdout=open(os.path.join(tmp, "flood.out"),
                                            "wb"))
        else:
            th = threading.Thread(target=pace)
            th.start()
        time.sleep(2.0)  # past the run's first (grouped) count
        r = bench.run_json([bench.EWH_BENCH, "high", "--key", hub.key("BG"),
                            "--rkey", hub.key("MK"), "--hub-pub", hub.pub,
                            "--endpoint", hub.endpoint, "--in", fh, "--db",
                            os.path.join(tmp, "recv-MK.db"), "--seconds",
                            a.seconds, "--interval-ms", 20, "--timeout",
                            120], timeout=300)
        if a.sender == "flood":
            flood.wait(60)
            with open(os.path.join(tmp, "flood.out")) as f:
                fo = [json.loads(x) for x in f if x.strip()]
            res["flood"] = fo[-1] if fo else None
        else:
            stop.set()
            th.join()
            res["paced_refused"] = sum(paced)
        res["high_ms_p50"] = r["high_p50_ms"]
        res["high_ms_p99"] = r["high_p99_ms"]
        res["high_max_ms"] = r["high_max_ms"]
        res["high"] = r
        res["hub_cpu_s"] = bench.cpu_s(hub.proc.pid)
        hub.stop()
        with open(os.path.join(tmp, "hub.log"), errors="replace") as f:
            log = f.read()
        res["refused_over_budget"] = log.count("recipient_bytes")
        with open("/proc/loadavg") as f:
            res["load_after"] = " ".join(f.read().split()[:3])
    finally:
        procs.killall()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
