"""An attacker on the network against a real ewhub: a revoked node's keys,
a replay of a captured (CURVE-encrypted) session with its submit frames,
junk and oversized input before authentication, half-open slow-loris
connections, and an enrolled peer that never reads.  The hub stays up,
serves everyone else, and counts and logs each refusal.  (No CURVE, unknown
keys and junk frames after authentication: tests/hub/test_admission.py;
oversized frames: tests/hub/test_submit.py Limits.test_frame_limit.)"""

import os
import socket
import sqlite3
import threading
import time

from ewhtest import HubCase, main, of_type, wait_for


def db_count(hubdir, sql, *args):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(hubdir,
                                                             "store.db"),
                          uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


class Recorder:
    """A TCP proxy on 127.0.0.1 that records what the client sends."""

    def __init__(self, target):
        host, port = target[len("tcp://"):].rsplit(":", 1)
        self.target = (host, int(port))
        self.sent = bytearray()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.endpoint = "tcp://127.0.0.1:%d" % self.ls.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def pump(self, a, b, record):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if record:
                    self.sent += d
                b.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(self):
        c, _ = self.ls.accept()  # one session is enough
        s = socket.create_connection(self.target)
        t = threading.Thread(target=self.pump, args=(s, c, False),
                             daemon=True)
        t.start()
        self.pump(c, s, True)
        t.join(5)
        for x in (c, s, self.ls):
            x.close()
        self.done.set()


def raw(endpoint, payload, wait=2.0):
    """Send payload on a fresh TCP connection; return (reply, closed)."""
    host, port = endpoint[len("tcp://"):].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=wait)
    data, closed = b"", False
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return data, True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            data += d
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    except socket.timeout:
        pass
    finally:
        s.close()
    return data, closed


class Network(HubCase):

    def setUp(self):
        super().setUp()
        self.hubdir, self.peers, self.hub = self.hub_with(["RS", "HR", "BG"])

    def served(self, cc="RS", to="HR"):
        """cc can still submit to `to`, and `to` receives it."""
        rc, lines = self.peer("submit", self.peers[cc], self.hubdir, "--to",
                              to, "--level", "high")
        [ack] = of_type(lines, "ack")
        self.assertEqual(ack["status"], "accepted")
        rc, got = self.peer("recv", self.peers[to], self.hubdir, "--idle",
                            "1.5")
        self.assertIn(ack["id"], [d["id"] for d in of_type(got, "deliver")])

    def zap_refused(self):
        return self.status(self.hubdir)["totals"].get("zap_refused", 0)

    def test_revoked_keys(self):
        self.ewhub("revoke", "--dir", self.hubdir, "HR")
        wait_for(lambda: "roster: version 4" in self.hub.logtext(), 10,
                 what="hub noticed the revocation")
        before = self.zap_refused()
        rc, lines = self.peer("recv", self.peers["HR"], self.hubdir,
                              "--timeout", "3")
        self.assertEqual(of_type(lines, "roster"), [], lines)
        self.assertIn("auth_failed",
                      [x["event"] for x in of_type(lines, "link")])
        # Nor can it submit.
        rc, lines = self.peer("submit", self.peers["HR"], self.hubdir,
                              "--to", "RS", "--timeout", "3", ok=False)
        self.assertNotEqual(rc, 0)
        self.assertEqual(of_type(lines, "ack"), [])
        wait_for(lambda: self.zap_refused() >= before + 2, 10,
                 what="refusals counted")
        self.assertRegex(self.hub.logtext(), r'zap: refused key=[0-9a-f]{8} '
                         r'reason="key of revoked country HR"')
        self.served("RS", "BG")

    def test_replayed_capture(self):
        rec = Recorder(self.endpoint)
        rc, lines = self.peer("submit", self.peers["RS"], self.hubdir,
                              "--to", "HR", "--count", "3",
                              endpoint=rec.endpoint)
        self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                         ["accepted"] * 3)
        self.assertTrue(rec.done.wait(10))
        captured = bytes(rec.sent)
        self.assertGreater(len(captured), 1000)
        connects = self.hub.logtext().count("RS connected")
        # Replayed byte for byte, whole and cut after the handshake
        # messages: CURVE's per-connection keys make it worthless.
        data, closed = raw(self.endpoint, captured, wait=3)
        self.assertTrue(closed, "hub kept a replayed session open")
        # Cut inside the INITIATE: the hub answers the greeting and HELLO
        # (a fresh WELCOME) and nothing more.
        data, closed = raw(self.endpoint, captured[:64 + 200 + 300], wait=2)
        self.assertNotIn(b"READY", data)
        self.assertLessEqual(len(data), 64 + 200, len(data))
        self.assertEqual(self.hub.logtext().count("RS connected"), connects)
        self.assertEqual(db_count(self.hubdir, "SELECT count(*) FROM "
                                  "envelopes"), 3)
        self.assertEqual(self.status(self.hubdir)["totals"]
                         .get("duplicate", 0), 0)
        self.assertTrue(self.hub.alive())
        self.served()

    def test_junk_and_oversized_before_auth(self):
        curve_greeting = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" +
                          b"CURVE".ljust(20, b"\x00") + b"\x00" +
                          b"\x00" * 31)
        huge = b"\x06" + (1 << 62).to_bytes(8, "big")  # a 4 EiB command
        for payload in (os.urandom(4 << 20),
                        curve_greeting + huge + os.urandom(1000),
                        curve_greeting + b"\x04\xff" + b"\x05HELLO" +
                        os.urandom(249),
                        b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03"):
            data, closed = raw(self.endpoint, payload, wait=3)
            self.assertNotIn(b"READY", data)
            self.assertLessEqual(len(data), 64 + 200, len(data))
        self.assertTrue(self.hub.alive())
        self.served()

    def test_slow_loris_connections(self):
        host, port = self.endpoint[len("tcp://"):].rsplit(":", 1)
        held = []
        try:
            for i in range(200):
                s = socket.create_connection((host, int(port)), timeout=5)
                s.sendall(b"\xff")  # the first byte of a greeting, then
                held.append(s)      # nothing, ever
            # While they hang, everyone else is served.
            self.served()
            self.served("HR", "BG")
            self.assertTrue(self.hub.alive())
        finally:
            for s in held:
                s.close()
        self.served()

    def test_peer_that_never_reads(self):
        # BG says hello with a large credit and never reads again, while
        # RS sends big reports to BG and HR.
        stall = self.peer_start("recv", self.peers["BG"], self.hubdir,
                                "--stall", "--credit", "4096", "--timeout",
                                "60", name="stall-BG")
        wait_for(lambda: "BG connected" in self.hub.logtext(), 10)
        hr = self.peer_start("recv", self.peers["HR"], self.hubdir,
                             "--count", "300", "--credit", "64", "--timeout",
                             "90", name="recv-HR")
        rc, lines = self.peer("submit", self.peers["RS"], self.hubdir,
                              "--to", "HR,BG", "--count", "300",
                              "--body-bytes", "30000", "--window", "50",
                              "--timeout", "90")
        ids = sorted(a["id"] for a in of_type(lines, "ack")
                     if a["status"] == "accepted")
        self.assertEqual(len(ids), 300)
        self.assertEqual(hr.wait(90), 0, hr.logtext())
        self.assertEqual(sorted(d["id"] for d in hr.of_type("deliver")), ids)
        self.assertTrue(self.hub.alive())
        self.served("HR", "RS")
        # The stalled peer goes; BG, back for real, gets everything once.
        stall.kill()
        rc, got = self.peer("recv", self.peers["BG"], self.hubdir,
                            "--count", "300", "--credit", "64", "--timeout",
                            "90")
        self.assertEqual(sorted(d["id"] for d in of_type(got, "deliver")),
                         ids)


if __name__ == "__main__":
    main()
