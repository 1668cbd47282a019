"""bench-quick: run ./deploy/bench --quick so that it cannot rot.

It uses the build under test (EWH_BENCH_BUILD), not a release build of its
own.

Asserts only that every figure of the issue is there and plausible
(positive and finite), never a speed: the machine may be loaded.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "deploy", "bench")
KEYS = ["hub_accept_per_s", "e2e_per_s", "ack_ms_p50", "ack_ms_p99",
        "high_ms_p50", "high_ms_p99", "hub_rss_mb_peak",
        "disk_bytes_per_report",
        "hub_verify_ceiling_per_s", "accept_vs_ceiling",
        "e2e_ceiling_per_s", "e2e_vs_ceiling",
        "high_flood_ms_p50", "high_flood_ms_p99",
        "high_flood_yield_ms_p50", "high_flood_yield_ms_p99",
        "startup_ms_1m", "status_ms_1m",
        "slow_link_high_ms_p50", "slow_link_high_ms_p99",
        "slow_link_target_ms",
        "failover_high_ms_p50", "failover_high_ms_p99",
        "e2e_two_hubs_per_s", "e2e_two_hubs_vs_one"]



class BenchQuick(unittest.TestCase):
    def test_quick(self):
        with tempfile.TemporaryDirectory(prefix="ewh-benchq-") as d:
            out = os.path.join(d, "out.json")
            r = subprocess.run([BENCH, "--quick", "--json", out],
                               capture_output=True, timeout=280)
            sys.stdout.write(r.stdout.decode(errors="replace"))
            self.assertEqual(r.returncode, 0,
                             r.stderr.decode(errors="replace")[-4000:])
            with open(out) as f:
                res = json.load(f)
            self.assertEqual(sorted(res), sorted(KEYS))
            for k in KEYS:
                v = res[k]
                self.assertIsInstance(v, (int, float), k)
                self.assertTrue(math.isfinite(v) and v > 0, "%s = %r" % (k, v))
            self.assertIn("hub_accept_per_s", r.stdout.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
