"""ewhtest — helpers for ewhub's integration tests.

Real processes on 127.0.0.1, a fresh temporary directory per test, every
process started here tracked by PID and killed at the end.  Binaries come
from the environment that meson sets (EWHUB, EWNODE); tests read the real
data they need from tests/data inside the repository (TEST_DATA), never from
outside it.
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
TEST_DATA = os.environ.get(
    "TEST_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))


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
        # Python 3.11 records a failure in the result as it happens (older
        # ones in _outcome.errors): either way the logs of a failed test
        # are kept and printed.
        res = getattr(self._outcome, "result", None)
        failed = any(t is self for t, _ in
                     getattr(res, "failures", []) + getattr(res, "errors", []))
        failed = failed or any(
            e for _, e in getattr(self._outcome, "errors", []) if e)
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

    def pub_fingerprint(self, d, cc, suffix=""):
        """The fingerprint line of DIR/node-CC.pub (or .pub.new)."""
        with open(os.path.join(d, "node-%s.pub%s" % (cc, suffix))) as f:
            for ln in f:
                if ln.startswith("fingerprint"):
                    return ln.split("=", 1)[1].strip()
        raise AssertionError("no fingerprint in %s" % d)

    def verify_peer(self, d, cc, fp, ok=True):
        """ewnode peers verify CC FP at node dir d (the officer's call)."""
        return self.ewnode("peers", "--dir", d, "verify", cc, fp, ok=ok)

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

    # -- a real hub and agents --

    def hub_start(self, port=None, name="hub"):
        """Start ewhub (init on first use); return its endpoint."""
        hub = self.path("hub")
        if not os.path.exists(os.path.join(hub, "hub.key")):
            self.run_cmd([EWHUB, "init", "--dir", hub])
        ep_file = os.path.join(hub, "endpoint")
        if os.path.exists(ep_file):
            os.unlink(ep_file)
        listen = "tcp://127.0.0.1:%s" % (port if port else "*")
        self.hub_proc = self.start([EWHUB, "run", "--dir", hub, "--listen",
                                    listen], name)

        def endpoint():
            try:
                with open(ep_file) as f:
                    return f.read().strip()
            except OSError:
                return None
        self.endpoint = wait_for(endpoint, what="hub endpoint")
        return self.endpoint

    def region(self, countries):
        """Start a hub, init and enrol a node per country; return dirs."""
        ep = self.hub_start()
        hub = self.path("hub")
        dirs = {}
        for cc in countries:
            d = self.node_init(cc, os.path.join(hub, "hub.pub"), ep)
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("reconnect_max_ms = 300\nheartbeat_ms = 500\n")
            self.run_cmd([EWHUB, "enroll", "--dir", hub,
                          os.path.join(d, "node-%s.pub" % cc)])
            dirs[cc] = d
        self.enrolled = list(countries)
        return dirs

    def agent_start(self, d, name=None):
        name = name or "agent-" + os.path.basename(d)
        return self.start([EWNODE, "run", "--dir", d, "-v"], name)

    def wait_ready(self, d, roster_version=None):
        """Wait until the node holds a roster (optionally >= version) that
        lists every country region() enrolled: the hub may push a roster
        from before the last enrolment first."""
        want = set(getattr(self, "enrolled", ()))

        def ok():
            r = self.ewnode("peers", "--dir", d, "--json", ok=False)
            if r.returncode != 0:
                return None
            j = json.loads(r.stdout)
            if want - {p["country"] for p in j["peers"]}:
                return None
            v = j["version"]
            return v if roster_version is None or v >= roster_version \
                else None
        return wait_for(ok, what="roster at " + d)

    def wait_inbox(self, d, rid, timeout=30.0):
        def got():
            for m in self.inbox(d):
                if m["id"] == rid:
                    return m
            return None
        return wait_for(got, timeout=timeout, what="%s in %s" % (rid, d))

    def wait_recipients(self, d, rid, want, timeout=30.0):
        def got():
            for m in self.outbox(d):
                if m["id"] == rid and m["recipients"] == want:
                    return m
            return None
        return wait_for(got, timeout=timeout,
                        what="%s recipients %r" % (rid, want))


# ---- hub helpers (issue 3) ----------------------------------------------

EWH_PEER = os.environ.get("EWH_PEER", "ewh-peer")


class PeerProc(Proc):
    """An ewh-peer started in the background: JSON lines on stdout go to
    NAME.out, stderr to NAME.log."""

    def __init__(self, argv, log_path, out_path, env=None):
        self.argv = argv
        self.log_path = log_path
        self.out_path = out_path
        self.log = open(log_path, "ab")
        self.out = open(out_path, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.out, stderr=self.log, env=env)
        self.pid = self.p.pid

    def wait(self, timeout=15):
        try:
            return self.p.wait(timeout)
        finally:
            if self.p.poll() is not None:
                self.log.close()
                self.out.close()

    def lines(self):
        """Every complete JSON line printed so far."""
        with open(self.out_path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
        out = []
        for line in data.split("\n")[:-1]:
            if line.strip():
                out.append(json.loads(line))
        return out

    def of_type(self, t):
        return [x for x in self.lines() if x.get("type") == t]


class HubCase(Case):
    """Helpers to drive ewhub and the raw-protocol client ewh-peer."""

    def ewhub(self, *args, ok=True, timeout=60):
        return self.run_cmd([EWHUB] + [str(a) for a in args], ok=ok,
                            timeout=timeout)

    def hub_init(self, name="hub", conf=""):
        """ewhub init into a fresh dir; conf is appended to ewhub.conf."""
        d = self.path(name)
        r = self.ewhub("init", "--dir", d)
        self.assertIn(b"fingerprint", r.stdout)
        if conf:
            with open(os.path.join(d, "ewhub.conf"), "a") as f:
                f.write("\n" + conf + "\n")
        return d

    def hub_start(self, d, listen="tcp://127.0.0.1:*", name="hub",
                  verbose=False):
        """Start ewhub run; wait until it listens; return the Proc.  The
        bound endpoint is in self.endpoint (and DIR/endpoint)."""
        ep = os.path.join(d, "endpoint")
        if os.path.exists(ep):
            os.unlink(ep)
        argv = [EWHUB, "run", "--dir", d, "--listen", listen]
        if verbose:
            argv.append("-v")
        p = self.start(argv, name)
        wait_for(lambda: os.path.exists(ep) or not p.alive(), 20,
                 what="hub endpoint file")
        self.assertTrue(p.alive(), "hub exited:\n" + p.logtext())
        with open(ep) as f:
            self.endpoint = f.read().strip()
        self.assertRegex(self.endpoint, r"^tcp://127\.0\.0\.1:\d+$")
        wait_for(lambda: "listening on " + self.endpoint in p.logtext(), 10,
                 what="listening log line")
        return p

    def peer_keygen(self, cc, name=None):
        d = self.path(name or ("peer-" + cc))
        self.run_cmd([EWH_PEER, "keygen", "--country", cc, "--out", d])
        return d

    def enroll(self, hubdir, peerdir, cc):
        return self.ewhub("enroll", "--dir", hubdir,
                          os.path.join(peerdir, "node-%s.pub" % cc))

    def peer_argv(self, cmd, peerdir, hubdir, *args, endpoint=None):
        return [EWH_PEER, cmd, "--key", os.path.join(peerdir, "node.key"),
                "--hub-pub", os.path.join(hubdir, "hub.pub"),
                "--endpoint", endpoint or self.endpoint] + \
            [str(a) for a in args]

    def peer(self, cmd, peerdir, hubdir, *args, ok=True, endpoint=None,
             timeout=120):
        """Run ewh-peer to completion; return (returncode, JSON lines)."""
        r = self.run_cmd(self.peer_argv(cmd, peerdir, hubdir, *args,
                                        endpoint=endpoint),
                         ok=ok, timeout=timeout)
        lines = [json.loads(x) for x in r.stdout.decode().splitlines()
                 if x.strip()]
        return r.returncode, lines

    def peer_start(self, cmd, peerdir, hubdir, *args, name, endpoint=None):
        p = PeerProc(self.peer_argv(cmd, peerdir, hubdir, *args,
                                    endpoint=endpoint),
                     self.path(name + ".log"), self.path(name + ".out"))
        self.procs.append(p)
        return p

    def hub_with(self, ccs, conf="", start=True):
        """A hub dir with a peer key dir enrolled per country; started
        unless start is False.  Returns (hubdir, {cc: peerdir}, proc)."""
        hubdir = self.hub_init(conf=conf)
        peers = {}
        for cc in ccs:
            peers[cc] = self.peer_keygen(cc)
            self.enroll(hubdir, peers[cc], cc)
        proc = self.hub_start(hubdir) if start else None
        return hubdir, peers, proc

    def status(self, hubdir):
        return json.loads(self.ewhub("status", "--dir", hubdir,
                                     "--json").stdout)

    def node_status(self, hubdir, cc):
        for n in self.status(hubdir)["nodes"]:
            if n["country"] == cc:
                return n
        return None


def of_type(lines, t):
    return [x for x in lines if x.get("type") == t]
