"""deploy/demo runs to the end with the build under test (SKIP_SETUP: no
package installs from a test) and shows what it promises: two hubs, one
killed with SIGKILL, and the high report sent after the kill in HR's and
BG's inboxes through the other hub.  It starts its own processes and
stops them by PID (its EXIT trap)."""

import os
import re
import subprocess
import unittest

DEMO = os.path.join(os.environ["EWH_SOURCE_ROOT"], "deploy", "demo")


class Demo(unittest.TestCase):

    def test_demo(self):
        env = dict(os.environ, SKIP_SETUP="1",
                   BUILD=os.environ["MESON_BUILD_ROOT_FOR_TEST"])
        env.pop("KEEP", None)
        r = subprocess.run([DEMO], capture_output=True, env=env,
                           timeout=500)
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out[-3000:] +
                         r.stderr.decode(errors="replace")[-3000:])
        self.assertIn("hub2 listening on tcp://127.0.0.1:", out)
        self.assertRegex(out, r"hub \(pid \d+\) killed")
        after = out.split("SIGKILL the first hub", 1)[1]
        high2 = re.search(r"high: ([0-9a-f]{32})", after).group(1)
        got = after.split("got it through hub2", 1)[1]
        # HR's and BG's high inboxes each list it (once each).
        self.assertEqual(got.split("RS's hubs and outbox")[0].count(
            high2), 2, got)


if __name__ == "__main__":
    unittest.main(verbosity=2)
