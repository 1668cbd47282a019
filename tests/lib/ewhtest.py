"""ewhtest — helpers for ewhub's integration tests.

Real processes on 127.0.0.1, a fresh temporary directory per test, every
process started here tracked by PID and killed at the end.  Binaries come
from the environment that meson sets (EWHUB, EWNODE); tests read real data
from ../shared/data when SHARED_DATA is set.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

EWHUB = os.environ.get("EWHUB", "ewhub")
EWNODE = os.environ.get("EWNODE", "ewnode")
SHARED_DATA = os.environ.get("SHARED_DATA", "")


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value; return it, or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                         % (timeout, what, last))


class Proc:
    """A started process, tracked by PID, with its stderr in a file."""

    def __init__(self, argv, log_path, env=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=self.log, env=env)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.wait(10)

    def term(self, timeout=15):
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=15):
        try:
            return self.p.wait(timeout)
        finally:
            if self.p.poll() is not None:
                self.log.close()

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Case(unittest.TestCase):
    """A test case with a temp dir and process cleanup by PID."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ewhtest-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.alive():
                try:
                    os.kill(p.pid, signal.SIGKILL)
                    p.p.wait(10)
                except ProcessLookupError:
                    pass
        failed = any(e for _, e in getattr(self._outcome, "errors", []) if e) \
            if hasattr(self._outcome, "errors") else False
        if os.environ.get("EWH_KEEP_TMP") or failed:
            sys.stderr.write("kept %s\n" % self.tmp)
            for p in self.procs:
                sys.stderr.write("---- %s\n%s\n" % (" ".join(p.argv),
                                                     p.logtext()[-4000:]))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def start(self, argv, name, env=None):
        p = Proc(argv, self.path(name + ".log"), env=env)
        self.procs.append(p)
        return p

    def run_cmd(self, argv, ok=True, input=None, env=None, timeout=60):
        r = subprocess.run(argv, input=input, capture_output=True,
                           env=env, timeout=timeout)
        if ok and r.returncode != 0:
            raise AssertionError("%s exited %d:\nstdout: %s\nstderr: %s" % (
                " ".join(argv), r.returncode,
                r.stdout.decode(errors="replace"),
                r.stderr.decode(errors="replace")))
        return r

    def run_json_lines(self, argv):
        out = self.run_cmd(argv).stdout.decode()
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    unittest.main(verbosity=2)


# ---- node helpers (issue 4) ---------------------------------------------

def node_main():
    """main() for node tests: meson passes helper binaries (mkroster) as
    arguments; take them out before unittest sees argv."""
    while len(sys.argv) > 1 and os.path.basename(sys.argv[1]) == "mkroster":
        os.environ["EWH_MKROSTER"] = sys.argv.pop(1)
    main()


class NodeCase(Case):
    """Helpers to drive ewnode (and a stand-in hub key made by mkroster)."""

    def ewnode(self, *args, ok=True, input=None, timeout=60):
        return self.run_cmd([EWNODE] + [str(a) for a in args], ok=ok,
                            input=input, timeout=timeout)

    def fake_hub(self):
        """A hub identity without a hub process: HUBDIR/hub.key, hub.pub."""
        hub = self.path("fakehub")
        os.makedirs(hub, exist_ok=True)
        self.run_cmd([os.environ["EWH_MKROSTER"], "init", hub])
        return hub

    def node_init(self, cc, hub_pub, endpoint="tcp://127.0.0.1:9"):
        d = self.path("node-" + cc)
        r = self.ewnode("init", "--dir", d, "--country", cc, "--hub",
                        endpoint, "--hub-key", hub_pub)
        self.assertIn(b"fingerprint", r.stdout)
        return d

    def sign_roster(self, hubdir, version, nodes, revoked=()):
        """Sign a roster of the given node dirs with the stand-in hub."""
        out = self.path("roster-%d.bin" % version)
        argv = [os.environ["EWH_MKROSTER"], "sign", hubdir, str(version), out]
        for cc in revoked:
            argv += ["-r", cc]
        for d in nodes:
            pubs = [f for f in os.listdir(d) if f.startswith("node-")
                    and f.endswith(".pub")]
            argv.append(os.path.join(d, pubs[0]))
        self.run_cmd(argv)
        return out

    def submit(self, d, ok=True, input=None, **kw):
        """ewnode submit with keyword options (body_file -> --body-file)."""
        argv = ["submit", "--dir", d]
        for k, v in kw.items():
            argv += ["--" + k.replace("_", "-"), v]
        r = self.ewnode(*argv, ok=ok, input=input)
        if ok:
            rid = r.stdout.decode().strip()
            self.assertRegex(rid, r"^[0-9a-f]{32}$")
            return rid
        return r

    def inbox(self, d, *extra):
        return self.run_json_lines([EWNODE, "inbox", "--dir", d, "--json"]
                                   + list(extra))

    def outbox(self, d):
        return self.run_json_lines([EWNODE, "outbox", "--dir", d, "--json"])

    def show_json(self, d, rid):
        return json.loads(self.ewnode("show", "--dir", d, rid, "--format",
                                      "json").stdout)
