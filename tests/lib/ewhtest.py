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
