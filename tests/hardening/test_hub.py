"""Issue 16 at the hub, played with ewh-peer against a real ewhub.

Item 12: a country revoked a moment ago cannot connect (the ZAP handler
reads the roster as it is now, not the loop's copy of up to 250 ms ago).
Item 7: a flood of junk frames from an enrolled node (and of refused
handshakes) writes a few lines and one count, not a line per frame.
Item 4: plain TCP connections from anyone, far beyond the hub's open-file
limit, neither starve an enrolled node nor kill the hub on the next
revoke: connections before their handshake are bounded and the oldest is
closed to make room, descriptors are kept in reserve.
Item 6: one country cannot fill the store for the others (storage
budgets per recipient and per origin, a reserve for high reports).
Item 5: thousands of AuditRequests from a node that never reads its
answers do not grow the hub: a per-country budget, beyond which requests
go unanswered (told once a second), counted; nor do submits, junk frames,
Hellos or paced requests never read (what is queued to a connection is
bounded in bytes), nor one huge multipart message (a connection holding
too much not yet read is cut).  Item 4, robustly: a sustained flood of
connections from one address."""

import json
import os
import socket
import sys
import time

from ewhtest import EWHUB, HubCase, node_main, of_type, wait_for


class RevokeWindow(HubCase):

    def test_no_window_after_a_revoke(self):
        victims = ["HR", "BG", "MK", "AL", "ME", "SI"]
        hubdir, peers, hub = self.hub_with(["RS"] + victims)
        for cc in victims:
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", cc)
            self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        admitted = []
        for cc in victims:
            # Connect right after the revoke has committed.
            self.ewhub("revoke", "--dir", hubdir, cc)
            t0 = time.monotonic()
            rc, lines = self.peer("recv", peers[cc], hubdir, "--timeout",
                                  "2", "--idle", "2", ok=False)
            ev = [x["event"] for x in of_type(lines, "link")]
            if "up" in ev or of_type(lines, "deliver") or \
                    of_type(lines, "roster"):
                admitted.append((cc, ev, len(of_type(lines, "deliver")),
                                 round(time.monotonic() - t0, 2)))
        self.assertEqual(admitted, [], "revoked countries admitted")
        wait_for(lambda: hub.logtext().count("zap: refused") >= len(victims),
                 10, what="refusals logged")
        self.assertTrue(hub.alive())

    def test_no_delivery_after_a_revoke_on_an_open_connection(self):
        """A connection open when the revoke commits got deliveries until
        the next roster check (HUB_ROSTER_CHECK_MS); now the loop sees
        the store change on its next turn and cuts it first."""
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        credit = 4
        hr = self.peer_start("recv", peers["HR"], hubdir, "--credit",
                             str(credit), "--timeout", "120", "--idle", "120",
                             name="hr")
        wait_for(lambda: "HR connected" in hub.logtext(), 30,
                 what="HR connected")
        self.peer_start("submit", peers["RS"], hubdir, "--to", "HR",
                        "--count", "3000", "--window", "8", "--timeout",
                        "120", name="rs")

        def got():
            return len(of_type(hr.lines(), "deliver"))
        wait_for(lambda: got() >= 30, 60, what="a stream of deliveries")
        self.ewhub("revoke", "--dir", hubdir, "HR")
        n0 = got()
        time.sleep(2)
        after = got() - n0
        sys.stderr.write("deliveries after the revoke returned: %d\n" %
                         after)
        # Only what was already sent (at most HR's credit) may still land.
        self.assertLessEqual(after, credit, "delivered after the revoke")
        self.assertIn("cutting HR's connection", hub.logtext())
        self.assertTrue(hub.alive())


class LogFlood(HubCase):

    def test_repeated_warnings_are_limited_and_counted(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        n = 3000
        self.peer("submit", peers["RS"], hubdir, "--to", "HR", "--junk",
                  str(n), ok=False, timeout=180)

        def bad():
            with open(os.path.join(hubdir, "status.json")) as f:
                j = json.load(f)
            return j if j["bad_frames"] >= n else None
        j = wait_for(bad, 60, what="every junk frame counted")
        lines = hub.logtext().count("refused frame from=RS")
        self.assertLessEqual(lines, 100, "one line per junk frame")
        self.assertGreaterEqual(lines, 1)
        # What was hidden is said, with its count, within a window or so.
        wait_for(lambda: "lines like \"router: refused frame from=%s" in
                 hub.logtext(), 30, what="suppressed count said")
        said = 0
        for line in hub.logtext().splitlines():
            if "lines like \"router: refused frame" in line:
                said += int(line.split("(", 1)[1].split(" ", 1)[0])
        wait_for(lambda: json.load(open(os.path.join(
            hubdir, "status.json")))["log_suppressed"] >= n - lines, 30,
            what="status log_suppressed")
        self.assertTrue(hub.alive())
        self.assertGreater(said, 0)


class DescriptorFlood(HubCase):

    def test_plain_connections_beyond_the_fd_limit(self):
        hubdir, peers, _ = self.hub_with(["RS", "HR", "BG"], start=False)
        ep = os.path.join(hubdir, "endpoint")
        hub = self.start(["prlimit", "--nofile=200:200", EWHUB, "run",
                          "--dir", hubdir, "--listen", "tcp://127.0.0.1:*"],
                         "hub")
        wait_for(lambda: os.path.exists(ep), 20, what="hub endpoint")
        with open(ep) as f:
            self.endpoint = f.read().strip()
        wait_for(lambda: "listening on" in hub.logtext(), 10)
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR")
        self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        host, port = self.endpoint[len("tcp://"):].rsplit(":", 1)
        held = []
        try:
            for i in range(400):
                s = socket.create_connection((host, int(port)), timeout=5)
                held.append(s)
            # The hub still serves an enrolled node while they are held.
            rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                                  "1", "--timeout", "30", ok=False)
            self.assertEqual(len(of_type(lines, "deliver")), 1,
                             "HR starved: %r" % lines)
            # A routine revoke does not kill it.
            self.ewhub("revoke", "--dir", hubdir, "BG")
            time.sleep(1)
            self.assertTrue(hub.alive(), hub.logtext()[-2000:])
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to",
                                  "HR", ok=False, timeout=60)
            self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        finally:
            for s in held:
                s.close()
        self.assertIn("closed a connection before its handshake",
                      hub.logtext())
        self.assertNotIn("fatal", hub.logtext())
        self.assertTrue(hub.alive())


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class ConnectionFlood(HubCase):
    """Item 4, robustly: a sustained flood of raw TCP connections from
    one address (127.0.0.2), thousands a second, beside real nodes on
    127.0.0.1; the hub under a 200-descriptor limit.  Before: libzmq
    accepted them all ahead of the gate, which kept up to
    EWH_HUB_MAX_PENDING of them for the handshake time, and the
    descriptors sat at the limit.  Now an address holds at most
    EWH_HUB_MAX_PENDING_PER_ADDR pending connections (its oldest cut) and
    is then banned at the door for EWH_HUB_BAN_MS (a socket filter on the
    listening socket drops its packets); while descriptors are short the
    door holds every new connection in the kernel; the monitor's events
    are never lost (its pipe has no HWM)."""

    def test_sustained_flood_from_one_address(self):
        import threading
        limit, reserve = 200, 64
        hubdir, peers, _ = self.hub_with(["RS", "HR", "BG"], start=False)
        ep = os.path.join(hubdir, "endpoint")
        hub = self.start(["prlimit", "--nofile=%d:%d" % (limit, limit),
                          EWHUB, "run", "--dir", hubdir, "--listen",
                          "tcp://127.0.0.1:*"], "hub")
        wait_for(lambda: os.path.exists(ep), 20, what="hub endpoint")
        with open(ep) as f:
            self.endpoint = f.read().strip()
        wait_for(lambda: "listening on" in hub.logtext(), 10)
        host, port = self.endpoint[len("tcp://"):].rsplit(":", 1)
        base = fd_count(hub.pid)
        stop = threading.Event()
        made = [0]
        samples = []
        held = []

        def flood():
            while not stop.is_set():
                for _ in range(200):
                    s = socket.socket()
                    s.bind(("127.0.0.2", 0))
                    s.setblocking(False)
                    s.connect_ex((host, int(port)))
                    held.append(s)
                    made[0] += 1
                while len(held) > 600:
                    held.pop(0).close()
                time.sleep(0.02)

        def sample():
            while not stop.is_set():
                samples.append(fd_count(hub.pid))
                time.sleep(0.01)
        threads = [threading.Thread(target=flood),
                   threading.Thread(target=sample)]
        for t in threads:
            t.start()
        try:
            time.sleep(2)
            # Real nodes are served during the flood.
            # (A real node may have a SYN dropped while the door is
            # closed: the kernel retries it after 1, 3, 7, 15 s.)
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to",
                                  "HR", "--timeout", "90", ok=False,
                                  timeout=120)
            self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                             ["accepted"], lines)
            rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                                  "1", "--timeout", "90", ok=False,
                                  timeout=120)
            self.assertEqual(len(of_type(lines, "deliver")), 1, lines)
            self.ewhub("revoke", "--dir", hubdir, "BG")
            steady = samples[-100:]
            # The flood stops, its 600 sockets stay open (as a slow-loris
            # would): what the hub still holds for them.
            stop.set()
            for t in threads:
                t.join()
            time.sleep(2)
            after = fd_count(hub.pid)
        finally:
            stop.set()
            for t in threads:
                t.join()
            for x in held:
                x.close()
        sys.stderr.write("descriptors at start %d, 2 s after the flood "
                         "(its sockets open) %d\n" % (base, after))
        # One address holds at most EWH_HUB_MAX_PENDING_PER_ADDR (16)
        # (before: up to the reserve line, until the handshake timeout).
        self.assertLessEqual(after, base + 16 + 8)
        near = sum(1 for x in samples if x >= limit - reserve)
        sys.stderr.write("%d connections tried; descriptors: max %d, last "
                         "second max %d, %d of %d samples in the reserve "
                         "(limit %d)\n" %
                         (made[0], max(samples), max(steady), near,
                          len(samples), limit))
        self.assertGreater(made[0], 2000)
        # The bursts libzmq accepts before the gate reacts may still reach
        # into the reserve for moments on a loaded machine (measured,
        # not asserted: docs/reliability.md, residual risks).
        self.assertLess(near, len(samples))
        self.assertIn("from one address", hub.logtext())
        self.assertIn("127.0.0.2 banned", hub.logtext())
        self.assertNotIn("fatal", hub.logtext())
        self.assertTrue(hub.alive())


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


class UnreadRequests(HubCase):

    def test_audit_requests_never_read(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        # An audit chain of 300 entries: each full proof is tens of kB.
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "300", "--window", "100",
                              timeout=300)
        self.assertEqual(len(of_type(lines, "ack")), 300)
        before = rss_kb(hub.pid)
        n = 2000
        rc, lines = self.peer("forge", peers["HR"], hubdir, "--audit",
                              str(n), "--stall", "--idle", "8",
                              timeout=120)
        self.assertEqual(of_type(lines, "audit_sent")[0]["requests"], n)

        def dropped():
            with open(os.path.join(hubdir, "status.json")) as f:
                v = json.load(f)["requests_dropped"]
            return v if v >= n // 2 else None
        wait_for(dropped, 30, what="requests over the budget counted")
        grown = rss_kb(hub.pid) - before
        sys.stderr.write("hub grew by %d kB\n" % grown)
        # The memory bound holds in plain builds (the first pass of
        # deploy/test); ASan's quarantine keeps the freed answers' pages
        # (measured once at 15 MB), so there only the budget is checked.
        if not os.environ.get("EWH_SANITIZED"):
            self.assertLess(grown, 10 * 1024, "hub grew by %d kB" % grown)
        self.assertIn("over its budget", hub.logtext())
        self.assertTrue(hub.alive())

    def test_deliveries_to_a_node_that_never_reads(self):
        """A node says hello with the largest credit and never reads: what
        the hub sends it without an acknowledgement is bounded in bytes
        (EWH_HUB_INFLIGHT_BYTES, 8 MiB), not only in messages (credit).
        High reports: the lower levels have windows of their own."""
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        stall = self.peer_start("recv", peers["HR"], hubdir, "--stall",
                                "--credit", "4096", "--timeout", "300",
                                name="stall")
        wait_for(lambda: "HR connected" in hub.logtext(), 30,
                 what="HR connected")
        before = rss_kb(hub.pid)
        n = 1200
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", str(n), "--body-bytes", "60000",
                              "--window", "50", "--level", "high",
                              timeout=300)
        self.assertEqual(len([a for a in of_type(lines, "ack")
                              if a["status"] == "accepted"]), n)
        time.sleep(2)  # status.json is written every tick
        with open(os.path.join(hubdir, "status.json")) as f:
            hr = json.load(f)["nodes"]["HR"]
        grown = rss_kb(hub.pid) - before
        sys.stderr.write("in flight to HR: %d; hub grew by %d kB\n" %
                         (hr["in_flight"], grown))
        self.assertGreater(hr["in_flight"], 0)
        self.assertLessEqual(hr["in_flight"] * 60000, 8 * 1024 * 1024 + 65536)
        # Under ASan freed blocks wait in its quarantine (256 MB by
        # default), so the hub's RSS says nothing there: the bound in
        # bytes in flight above is the check that holds in both builds.
        if not os.environ.get("EWH_SANITIZED"):
            self.assertLess(grown, 50 * 1024, "hub grew by %d kB" % grown)
        self.assertTrue(hub.alive())
        stall.kill()
        # The real node, back, gets every report.
        rc, got = self.peer("recv", peers["HR"], hubdir, "--count", str(n),
                            "--credit", "64", "--timeout", "200",
                            timeout=240)
        self.assertEqual(len(set(d["id"] for d in of_type(got, "deliver"))),
                         n)


class UnreadAnswers(HubCase):
    """Item 5: a node that sends requests and never reads the answers.
    Before, the hub queued every answer to it, up to ZMQ_SNDHWM (100,000
    messages) per connection: a SubmitAck per submit, an Error per junk
    frame, the roster and the catalogue (kilobytes) per Hello.  Now each
    kind of request has a per-country budget (EWH_HUB_HELLOS_PER_S,
    EWH_HUB_RECEIPTS_PER_S, EWH_HUB_ERRORS_PER_S, EWH_HUB_AUDIT_PER_S,
    submits_per_second) and what the hub queues to a connection whose
    socket does not drain is bounded in bytes (EWH_HUB_CONN_OUT_BYTES):
    the rest are dropped, counted (answers_dropped, requests_dropped)."""

    def status_json(self, hubdir):
        with open(os.path.join(hubdir, "status.json")) as f:
            return json.load(f)

    def test_answers_to_a_node_that_never_reads(self):
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG"])
        envdir = self.path("env")
        os.makedirs(envdir)
        self.peer("submit", peers["RS"], hubdir, "--to", "HR", "--env-out",
                  envdir)
        [env] = [os.path.join(envdir, x) for x in os.listdir(envdir)]
        time.sleep(1)
        before = rss_kb(hub.pid)
        n, hellos = 60000, 20000
        # Submits (duplicates and rate refusals) and junk frames ...
        stall = self.peer_start("submit", peers["RS"], hubdir, "--env-in",
                                env, "--count", str(n), "--junk", str(n),
                                "--stall", "--timeout", "300", name="stall")
        # ... and Hellos, over a second connection with the same key.
        rc, lines = self.peer("forge", peers["RS"], hubdir, "--hello",
                              str(hellos), "--stall", "--idle", "5",
                              timeout=120)
        self.assertEqual(of_type(lines, "hellos_sent")[0]["hellos"], hellos)
        wait_for(lambda: stall.of_type("stall_sent"), 120,
                 what="the staller's frames sent")

        def read_all():
            j = self.status_json(hubdir)
            return j if j["bad_frames"] >= n and \
                j["duplicate"] + j["refused"] >= n else None
        # Every frame read by the hub, answered or not.
        j = wait_for(read_all, 120, what="every frame read")
        time.sleep(2)
        grown = rss_kb(hub.pid) - before
        j = self.status_json(hubdir)
        sys.stderr.write("hub grew by %d kB; answers dropped %d, requests "
                         "dropped %d\n" % (grown, j.get("answers_dropped", -1),
                                           j["requests_dropped"]))
        # Another country is served meanwhile.
        rc, lines = self.peer("submit", peers["BG"], hubdir, "--to", "HR",
                              "--count", "20", timeout=60)
        self.assertEqual([a["status"] for a in of_type(lines, "ack")],
                         ["accepted"] * 20)
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count", "21",
                              "--timeout", "60")
        self.assertEqual(len(of_type(lines, "deliver")), 21)
        if not os.environ.get("EWH_SANITIZED"):
            self.assertLess(grown, 16 * 1024, "hub grew by %d kB" % grown)
        # Most answers were never queued; most Hellos were over budget.
        self.assertGreater(j["answers_dropped"], n)
        self.assertGreater(j["requests_dropped"], hellos // 2)
        self.assertIn("does not read its answers", hub.logtext())
        self.assertTrue(hub.alive())
        self.assertTrue(stall.alive())

    def test_paced_requests_never_read(self):
        """Within its budget (10 AuditRequests a second), for 25 s, on a
        connection that never reads: each answer is a proof of tens of
        kB.  The budget alone let them pile up; the byte bound stops
        them."""
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "800", "--window", "200",
                              timeout=300)
        self.assertEqual(len(of_type(lines, "ack")), 800)
        # A fresh process, whose heap holds no memory freed by the
        # submits (it would take the answers without growing).
        self.assertEqual(hub.term(), 0)
        hub = self.hub_start(hubdir, name="hub2")
        self.peer("forge", peers["HR"], hubdir, "--audit", "1")
        time.sleep(1)
        before = rss_kb(hub.pid)
        n = 250
        stall = self.peer_start("forge", peers["HR"], hubdir, "--audit",
                                str(n), "--pace", "100", "--stall", "--idle",
                                "300", name="stall")
        [sent] = wait_for(lambda: stall.of_type("audit_sent"), 120,
                          what="the requests sent")
        self.assertEqual(sent["requests"], n)
        time.sleep(2)
        # Measured while the connection is open (closed, libzmq frees
        # what was queued to it).
        grown = rss_kb(hub.pid) - before
        self.assertTrue(stall.alive())
        j = self.status_json(hubdir)
        sys.stderr.write("hub grew by %d kB; answers dropped %d, requests "
                         "dropped %d\n" % (grown, j.get("answers_dropped", -1),
                                           j["requests_dropped"]))
        self.assertGreater(j["answers_dropped"], n // 2)
        if not os.environ.get("EWH_SANITIZED"):
            self.assertLess(grown, 4 * 1024, "hub grew by %d kB" % grown)
        stall.kill()
        # The node, reading again, is answered.
        rc, lines = self.peer("forge", peers["HR"], hubdir, "--audit", "1")
        self.assertEqual(of_type(lines, "error"), [])
        self.assertTrue(hub.alive())


class HugeMultipart(HubCase):
    """Item 5: one multipart message of 3000 parts of 200 kB (600 MB),
    each part under max_frame_bytes.  libzmq gives a multipart message to
    the hub only once complete, so it buffered all of it (the hub grew by
    the message's size, toward the unit's MemoryMax of 2 GB).  Now the
    gate compares what the kernel received on each connection (TCP_INFO)
    with what the hub has read and cuts a connection holding more than
    EWH_HUB_RX_HELD_BYTES (64 MiB): libzmq drops the incomplete message
    with the session."""

    def test_huge_multipart_first_message_is_cut(self):
        """The same as a connection's first message (no Hello before
        it): the connection is still in the gate's pending list."""
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        rc, lines = self.peer("forge", peers["RS"], hubdir, "--no-hello",
                              "--multipart", "1500", "--part-bytes",
                              "200000", "--idle", "3", ok=False,
                              timeout=240)
        self.assertEqual(len(of_type(lines, "multipart_sent")), 1, lines)
        wait_for(lambda: "a first message not complete" in hub.logtext(),
                 30, what="the connection cut")
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR")
        self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        self.assertTrue(hub.alive())

    def test_huge_multipart_message_is_cut(self):
        import threading
        hubdir, peers, hub = self.hub_with(["RS", "HR"])
        time.sleep(1)
        before = rss_kb(hub.pid)
        peak = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(hub.pid) or 0)
                time.sleep(0.02)
        t = threading.Thread(target=sample)
        t.start()
        try:
            rc, lines = self.peer("forge", peers["RS"], hubdir,
                                  "--multipart", "3000", "--part-bytes",
                                  "200000", "--idle", "3", ok=False,
                                  timeout=240)
            time.sleep(2)
        finally:
            stop.set()
            t.join()
        grown = peak[0] - before
        sys.stderr.write("hub peak growth %d kB\n" % grown)
        self.assertIn("cut a connection holding", hub.logtext())
        if not os.environ.get("EWH_SANITIZED"):
            self.assertLess(grown, 300 * 1024, "hub grew by %d kB" % grown)
        # The hub serves on, the sender too once it behaves.
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR")
        self.assertEqual(of_type(lines, "ack")[0]["status"], "accepted")
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count", "1")
        self.assertEqual(len(of_type(lines, "deliver")), 1)
        self.assertTrue(hub.alive())

class StorageBudget(HubCase):
    """Item 6: RS fills its budget with large envelopes for an offline HR;
    BG's reports to MK are still accepted and delivered, RS's further
    submits are refused with over-budget (retry), and a high report from
    RS still gets through the reserve."""

    def ack_of_one(self, hubdir, peer, to, *args):
        """One submit of a 60,000-byte body from peer to `to`: its ack."""
        rc, lines = self.peer("submit", peer, hubdir, "--to", to,
                              "--body-bytes", "60000", *args, ok=False)
        [ack] = of_type(lines, "ack")
        return ack

    def test_one_country_cannot_fill_the_store(self):
        conf = ("[limits]\nrecipient_bytes = 1500000\n"
                "origin_bytes = 2000000\n"
                "[store]\nmax_pages = 1000\n")  # 4 MB
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG", "MK"],
                                           conf=conf)
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "80", "--body-bytes", "60000",
                              "--window", "1", "--level", "low",
                              ok=False, timeout=300)
        acks = of_type(lines, "ack")
        self.assertEqual(len(acks), 80)
        accepted = [a for a in acks if a["status"] == "accepted"]
        refused = [a for a in acks if a["status"] == "refused"]
        self.assertTrue(accepted, "nothing fitted")
        self.assertTrue(refused, "RS never reached a limit")
        codes = sorted(set(a["code"] for a in refused))
        self.assertEqual(codes, ["over-budget"], refused[:3])
        for a in refused:
            self.assertTrue(a["retry"], a)
        self.assertLessEqual(len(accepted) * 60000, 1500000 + 200000)
        # Another country is not denied: a high and a low report, as large
        # as RS's (before the budgets: both disk-full).
        for level in ("high", "low"):
            rc, lines = self.peer("submit", peers["BG"], hubdir, "--to",
                                  "MK", "--level", level, "--body-bytes",
                                  "60000", ok=False)
            [ack] = of_type(lines, "ack")
            self.assertEqual(ack["status"], "accepted", (level, ack))
        rc, lines = self.peer("recv", peers["MK"], hubdir, "--count", "2",
                              "--timeout", "60")
        self.assertEqual(len(of_type(lines, "deliver")), 2)
        # RS is still refused, and told why; its high report gets through.
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--body-bytes", "60000", ok=False)
        [ack] = of_type(lines, "ack")
        self.assertEqual((ack["status"], ack["code"]),
                         ("refused", "over-budget"))
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--level", "high", "--body-bytes", "20000",
                              ok=False)
        [ack] = of_type(lines, "ack")
        self.assertEqual(ack["status"], "accepted", ack)
        # Counted, per code, and HR gets everything that was accepted.
        self.assertIn("recipient_bytes", hub.logtext())
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                              str(len(accepted) + 1), "--credit", "8",
                              "--timeout", "120")
        self.assertEqual(len(of_type(lines, "deliver")), len(accepted) + 1)
        self.assertTrue(hub.alive())

    def test_budgets_after_a_restart(self):
        # Issue 19: after a start the hub counts every country's waiting
        # bytes in one scan, at the first budget check (a scan per
        # country's first submit stalled the loop before).  What was
        # waiting before the restart still counts, for recipients and
        # origins alike, whichever country's submit comes first.
        conf = ("[limits]\nrecipient_bytes = 1500000\n"
                "origin_bytes = 1480000\n")
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG", "MK"],
                                           conf=conf)
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "30", "--body-bytes", "60000",
                              "--window", "1", "--level", "low",
                              ok=False, timeout=300)
        acks = of_type(lines, "ack")
        accepted = [a for a in acks if a["status"] == "accepted"]
        refused = [a for a in acks if a["status"] == "refused"]
        self.assertTrue(accepted and refused, acks[-3:])
        self.assertIn("origin_bytes", refused[0]["reason"])
        hub.term()
        hub = self.hub_start(hubdir, name="hub2", verbose=True)

        def one(cc, to):
            return self.ack_of_one(hubdir, peers[cc], to, "--level", "low")
        # BG's first submit: HR's waiting bytes from before the restart.
        ack = one("BG", "HR")
        self.assertEqual((ack["status"], ack.get("code")),
                         ("refused", "over-budget"), ack)
        self.assertIn("recipient_bytes", ack.get("reason", ""))
        self.assertIn("storage budgets counted", hub.logtext())
        # RS's, as origin, counted by the same scan.
        ack = one("RS", "MK")
        self.assertEqual((ack["status"], ack.get("code")),
                         ("refused", "over-budget"), ack)
        self.assertIn("origin_bytes", ack.get("reason", ""))
        # A country with nothing waiting is not held back.
        self.assertEqual(one("BG", "MK")["status"], "accepted")
        self.assertEqual(hub.logtext().count("storage budgets counted"), 1)
        # HR gets what was accepted; then its budget has room again.
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                              str(len(accepted)), "--credit", "8",
                              "--timeout", "120")
        self.assertEqual(len(of_type(lines, "deliver")), len(accepted))
        wait_for(lambda: one("BG", "HR")["status"] == "accepted", 30,
                 interval=0.3, what="HR's budget free again")

    def test_budget_holds_with_a_backlog(self):
        # Issue 19: a country at its budget is recounted by the counter
        # thread, off the loop, while a large backlog waits (BG's reports
        # for MK, offline).  The budget still holds exactly: RS is refused
        # over-budget across several recounts, never accepted beyond
        # HR's budget, and accepted again once HR has drained.
        conf = ("[limits]\nrecipient_bytes = 3000000\n"
                "origin_bytes = 20000000\nsubmits_per_second = 100000\n")
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG", "MK"],
                                           conf=conf)
        rc, lines = self.peer("submit", peers["BG"], hubdir, "--to", "MK",
                              "--count", "4000", "--body-bytes", "50",
                              "--window", "64", "--level", "low",
                              ok=False, timeout=600)
        acks = of_type(lines, "ack")
        self.assertEqual([a for a in acks if a["status"] != "accepted"], [])
        self.assertEqual(len(acks), 4000)

        def fill():
            rc, lines = self.peer("submit", peers["RS"], hubdir, "--to",
                                  "HR", "--count", "60", "--body-bytes",
                                  "60000", "--window", "1", "--level",
                                  "low", ok=False, timeout=300)
            acks = of_type(lines, "ack")
            self.assertEqual(len(acks), 60)
            refused = [a for a in acks if a["status"] == "refused"]
            self.assertTrue(refused, "RS never reached HR's budget")
            self.assertEqual(sorted(set(a["code"] for a in refused)),
                             ["over-budget"], refused[:3])
            for a in refused:
                self.assertIn("recipient_bytes", a["reason"])
            return len(acks) - len(refused)
        # 60,000-byte bodies: at most 50 fit 3,000,000 bytes (an envelope
        # is larger than its body), 49 with the envelopes' overhead.
        first = fill()
        self.assertIn(first, (49, 50))
        # Still refused across several recounts (each at least
        # EWH_HUB_BUDGET_RECHECK_MS apart): nothing more is accepted.
        for _ in range(6):
            time.sleep(0.3)
            ack = self.ack_of_one(hubdir, peers["RS"], "HR")
            self.assertEqual((ack["status"], ack.get("code")),
                             ("refused", "over-budget"), ack)
        # HR drains: RS is accepted again, and the budget holds again as
        # exactly (what was accepted after the recount's ask is counted).
        rc, lines = self.peer("recv", peers["HR"], hubdir, "--count",
                              str(first), "--credit", "8", "--timeout", "120")
        self.assertEqual(len(of_type(lines, "deliver")), first)

        wait_for(lambda: self.ack_of_one(hubdir, peers["RS"], "HR")[
            "status"] == "accepted", 60, interval=0.3,
                 what="HR's budget free again")
        second = fill()
        self.assertGreater(second, 0)
        self.assertLessEqual(second + 1, first)
        self.assertTrue(hub.alive())

    def test_reserve_of_the_store_for_high_reports(self):
        # Budgets larger than the store: only the reserve protects.
        conf = ("[limits]\nhigh_reserve_percent = 20\n"
                "[store]\nmax_pages = 1000\n")  # 4 MB
        hubdir, peers, hub = self.hub_with(["RS", "HR", "BG", "MK"],
                                           conf=conf)
        rc, lines = self.peer("submit", peers["RS"], hubdir, "--to", "HR",
                              "--count", "80", "--body-bytes", "60000",
                              "--window", "1", "--level", "low",
                              ok=False, timeout=300)
        acks = of_type(lines, "ack")
        refused = [a for a in acks if a["status"] == "refused"]
        self.assertTrue(refused, "the store never filled")
        self.assertEqual(sorted(set(a["code"] for a in refused)),
                         ["over-budget"], refused[:3])
        rc, lines = self.peer("submit", peers["BG"], hubdir, "--to", "MK",
                              "--level", "high", "--body-bytes", "60000",
                              ok=False)
        [ack] = of_type(lines, "ack")
        self.assertEqual(ack["status"], "accepted", ack)
        rc, lines = self.peer("recv", peers["MK"], hubdir, "--count", "1",
                              "--timeout", "60")
        self.assertEqual(len(of_type(lines, "deliver")), 1)
        self.assertIn("kept for high reports", hub.logtext())


if __name__ == "__main__":
    node_main()
