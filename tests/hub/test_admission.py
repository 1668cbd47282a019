"""ewhub admission: CURVE + ZAP admit enrolled, unrevoked node keys only;
unenrolled and plain (non-CURVE) clients get nothing; bad frames cost only
the frame.  Real processes on 127.0.0.1, real keys."""

import os
import socket
import stat
import time

from ewhtest import HubCase, main, of_type, wait_for, EWHUB


class Admission(HubCase):

    def test_help_lists_commands_and_categories(self):
        out = self.ewhub("--help").stdout.decode()
        for word in ("init", "enroll", "revoke", "run", "status", "traffic",
                     "audit", "backup", "early-warning", "small-arms",
                     "dual-use-infrastructure", "other"):
            self.assertIn(word, out)

    def test_init_creates_keys_config_store(self):
        d = self.hub_init()
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, "hub.key"))
                                      .st_mode), 0o600)
        for f in ("hub.pub", "ewhub.conf", "store.db"):
            self.assertTrue(os.path.exists(os.path.join(d, f)), f)
        with open(os.path.join(d, "ewhub.conf")) as f:
            conf = f.read()
        for key in ("max_frame_bytes", "max_inflight_submits",
                    "submits_per_second", "max_queue", "max_pages"):
            self.assertIn(key, conf)
        # A second init refuses to overwrite the keys.
        r = self.ewhub("init", "--dir", d, ok=False)
        self.assertNotEqual(r.returncode, 0)

    def test_dir_from_environment_and_status(self):
        d = self.path("envhub")
        env = dict(os.environ, EWHUB_DIR=d)
        self.run_cmd([EWHUB, "init"], env=env)
        self.assertTrue(os.path.exists(os.path.join(d, "hub.key")))
        peer = self.peer_keygen("RS")
        self.run_cmd([EWHUB, "enroll", os.path.join(peer, "node-RS.pub")],
                     env=env)
        hub = self.hub_start(d)
        rc, lines = self.peer("recv", peer, d, "--idle", "1")
        self.assertEqual(len(of_type(lines, "roster")), 1)
        text = self.run_cmd([EWHUB, "status"], env=env).stdout.decode()
        self.assertIn("hub: running", text)
        self.assertRegex(text, r"RS\s+enrolled")
        self.assertIn("total:", text)
        self.assertEqual(hub.term(), 0)
        st = self.status(d)
        self.assertFalse(st["running"])
        [rs] = st["nodes"]
        self.assertEqual((rs["country"], rs["connected"], rs["revoked"]),
                         ("RS", False, False))
        self.assertIsInstance(rs["last_seen"], int)
        self.assertEqual(rs["queued"], {"high": 0, "medium": 0, "low": 0,
                                        "total": 0})

    def test_enrolled_node_admitted(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        rc, lines = self.peer("recv", peers["RS"], hubdir, "--idle", "1",
                              "--timeout", "20")
        rosters = of_type(lines, "roster")
        self.assertEqual(len(rosters), 1, lines)
        self.assertTrue(rosters[0]["verified"])
        self.assertEqual(sorted(c["country"] for c in rosters[0]["countries"]),
                         ["HR", "RS"])
        self.assertIn("up", [x["event"] for x in of_type(lines, "link")])
        self.assertTrue(hub.alive())

    def test_unenrolled_client_gets_nothing(self):
        hubdir, peers, hub = self.hub_with(["RS"])
        stranger = self.peer_keygen("HR")  # never enrolled
        rc, lines = self.peer("recv", stranger, hubdir, "--timeout", "3")
        self.assertEqual(of_type(lines, "roster"), [], lines)
        self.assertEqual(of_type(lines, "deliver"), [], lines)
        events = [x["event"] for x in of_type(lines, "link")]
        self.assertNotIn("up", events)
        self.assertIn("auth_failed", events)
        wait_for(lambda: "zap: refused" in hub.logtext(), 5,
                 what="zap refusal logged")
        # A key of an enrolled country that is not the enrolled key is a
        # stranger too.
        impostor = self.peer_keygen("RS", name="impostor-RS")
        rc, lines = self.peer("recv", impostor, hubdir, "--timeout", "2")
        self.assertEqual(of_type(lines, "roster"), [], lines)
        # The enrolled node is still served.
        rc, lines = self.peer("recv", peers["RS"], hubdir, "--idle", "1")
        self.assertEqual(len(of_type(lines, "roster")), 1)
        st = wait_for(lambda: (lambda s: s if s["totals"].get("zap_refused",
                                                              0) >= 2
                               else None)(self.status(hubdir)), 10,
                      what="zap_refused counted in status")
        self.assertTrue(st["running"])

    def test_plain_client_gets_nothing(self):
        hubdir, peers, hub = self.hub_with(["RS"])
        host, port = self.endpoint[len("tcp://"):].rsplit(":", 1)
        # A ZMTP 3.0 NULL-mechanism greeting, READY and a message.
        greet = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" +
                 b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31)
        ready = (b"\x05READY" + b"\x0bSocket-Type" +
                 (6).to_bytes(4, "big") + b"DEALER")
        for payload in (greet + bytes([4, len(ready)]) + ready +
                        bytes([0, 5]) + b"hello",
                        b"GET / HTTP/1.0\r\n\r\n",
                        os.urandom(300)):
            s = socket.create_connection((host, int(port)), timeout=3)
            data, closed = b"", False
            try:
                s.sendall(payload)
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    d = s.recv(4096)
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
            # At most the hub's own greeting, which names CURVE; never a
            # READY, never a frame.
            self.assertNotIn(b"READY", data)
            self.assertLessEqual(len(data), 64, data)
            self.assertTrue(closed, "hub kept a non-CURVE connection open")
        self.assertTrue(hub.alive())
        rc, lines = self.peer("recv", peers["RS"], hubdir, "--idle", "1")
        self.assertEqual(len(of_type(lines, "roster")), 1)

    def test_bad_frames_cost_only_the_frame(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--junk", "3", "--count", "2")
        self.assertEqual(rc, 0, lines)
        errors = of_type(lines, "error")
        self.assertEqual(len(errors), 3, lines)
        acks = of_type(lines, "ack")
        self.assertEqual([a["status"] for a in acks], ["accepted"] * 2)
        self.assertTrue(hub.alive())
        self.assertIn("refused frame from=RS", hub.logtext())


if __name__ == "__main__":
    main()
