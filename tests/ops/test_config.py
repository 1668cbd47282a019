"""Config files: every kind of bad file is refused with FILE:LINE: reason
and exit 1, by ewhub run and by ewnode; flags override the file; SIGHUP
re-reads the hub's file (reloadable keys at once, listen needs a restart,
a bad file keeps the running settings)."""

import os
import re
import signal

from ewhtest import EWHUB, EWNODE, HubCase, main, wait_for


class HubConfig(HubCase):

    def run_with(self, conf, *flags):
        d = self.hub_init(name="hub-%d" % len(os.listdir(self.tmp)))
        path = os.path.join(d, "ewhub.conf")
        with open(path, "w") as f:
            f.write(conf)
        r = self.run_cmd([EWHUB, "run", "--dir", d, "--listen",
                          "tcp://127.0.0.1:*"] + list(flags), ok=False,
                         timeout=20)
        return path, r

    def assert_refused(self, conf, line, reason, *flags):
        path, r = self.run_with(conf, *flags)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        if line is None:
            self.assertRegex(err, reason)
        else:
            self.assertIn("%s:%d: " % (path, line), err)
            self.assertRegex(err, re.escape("%s:%d: " % (path, line)) +
                             ".*" + reason)

    def test_bad_files_are_refused_with_file_line_reason(self):
        self.assert_refused("[limits]\nmax_queue = 0\n", 2,
                            r"max_queue.*outside")
        self.assert_refused("[limits]\n\nmax_queue = lots\n", 3,
                            r"max_queue")
        self.assert_refused("[hub]\nlisten = tcp://127.0.0.1:*\nfoo = 1\n",
                            3, r"unknown key 'foo' in \[hub\]")
        self.assert_refused("[nosuch]\nx = 1\n", 2, r"unknown key")
        self.assert_refused("just words\n", 1, r"syntax error")
        self.assert_refused("[retention]\ndelivered = 3 weeks\n", 2,
                            r"expected a duration")
        self.assert_refused("[roster]\ncategories = ,\n", 2, r"empty list")
        # A bad flag is refused too, named by its flag.
        self.assert_refused("", None, r"--max-queue: .*outside",
                            "--max-queue", "0")
        self.assert_refused("", None, r"--retention-expired: .*duration",
                            "--retention-expired", "soon")
        # A missing config file named by --config.
        self.assert_refused("", None, r"nosuch\.conf: No such file",
                            "--config", self.path("nosuch.conf"))

    def test_flags_win_and_sighup_reloads(self):
        d = self.hub_init(conf="[hub]\nlisten = tcp://127.0.0.1:*\n"
                          "[limits]\nmax_queue = 7\n"
                          "[retention]\ndelivered = 10d\n")
        p = self.hub_start(d, verbose=False)
        p.term()
        # Flags win over the file: the reload log line shows the values.
        argv = [EWHUB, "run", "--dir", d, "--max-queue", "9",
                "--submits-per-second", "77"]
        os.unlink(os.path.join(d, "endpoint"))
        p = self.start(argv, "hub2")
        wait_for(lambda: os.path.exists(os.path.join(d, "endpoint")), 20,
                 what="hub2 up")
        with open(os.path.join(d, "ewhub.conf"), "a") as f:
            f.write("[retention]\nexpired = 2h\n")
        p.signal(signal.SIGHUP)
        line = wait_for(lambda: [x for x in p.logtext().splitlines()
                                 if "reload:" in x and "applied" in x],
                        10, what="reload applied")[0]
        # max_queue from the flag (9), not the file (7); retention from the
        # file as re-read.
        self.assertIn("max_queue 9", line)
        self.assertIn("submits_per_second 77", line)
        self.assertIn("retention delivered 864000s expired 7200s", line)
        # listen needs a restart: said so, and the hub keeps its endpoint.
        with open(os.path.join(d, "ewhub.conf"), "a") as f:
            f.write("[hub]\nlisten = tcp://127.0.0.1:1\n")
        p.signal(signal.SIGHUP)
        wait_for(lambda: "takes effect at the next restart" in p.logtext(),
                 10, what="listen restart warning")
        # A bad file on reload: logged with file and line, settings stay,
        # the hub keeps running.
        with open(os.path.join(d, "ewhub.conf"), "a") as f:
            f.write("[limits]\nmax_queue = -3\n")
        p.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running settings" in p.logtext(), 10,
                 what="bad reload refused")
        self.assertRegex(p.logtext(), r"ewhub\.conf:\d+: .*max_queue")
        self.assertTrue(p.alive())
        self.assertEqual(p.term(), 0)


class NodeConfig(HubCase):

    def node_dir(self):
        hub = self.hub_init()
        d = self.path("node-RS")
        self.run_cmd([EWNODE, "init", "--dir", d, "--country", "RS", "--hub",
                      "tcp://127.0.0.1:9", "--hub-key",
                      os.path.join(hub, "hub.pub")])
        return d

    def test_bad_node_config_refused(self):
        d = self.node_dir()
        conf = os.path.join(d, "ewnode.conf")
        with open(conf) as f:
            good = f.read()
        cases = [
            ("credit = 0\n", r"credit"),
            ("colour = blue\n", r"unknown setting 'colour'"),
            ("hub = udp://x\n", r"hub: expected tcp://HOST:PORT"),
            ("heartbeat_ms = fast\n", r"heartbeat_ms"),
        ]
        nlines = good.count("\n")
        for extra, reason in cases:
            with open(conf, "w") as f:
                f.write(good + extra)
            for cmd in (["peers"], ["run"]):
                r = self.run_cmd([EWNODE] + cmd + ["--dir", d], ok=False,
                                 timeout=20)
                err = r.stderr.decode()
                self.assertEqual(r.returncode, 1, err)
                self.assertRegex(err, re.escape("%s:%d: " % (conf,
                                                             nlines + 1))
                                 + reason)
        with open(conf, "w") as f:
            f.write(good + "[other]\nx = 1\n")
        r = self.run_cmd([EWNODE, "peers", "--dir", d], ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown section [other]", r.stderr.decode())

    def test_node_flags_override(self):
        d = self.node_dir()
        # A bad flag value is refused like a bad file value.
        r = self.run_cmd([EWNODE, "run", "--dir", d, "--credit", "0"],
                         ok=False, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--credit: ", r.stderr.decode())
        # Good flags: the agent starts and says which settings it runs.
        p = self.start([EWNODE, "run", "--dir", d, "--credit", "5",
                        "--heartbeat-ms", "700", "--hub",
                        "tcp://127.0.0.1:10"], "agent")
        wait_for(lambda: "connecting to tcp://127.0.0.1:10" in p.logtext(),
                 10, what="agent uses --hub")
        self.assertIn("credit 5", p.logtext())
        self.assertIn("heartbeat 700ms", p.logtext())
        self.assertEqual(p.term(), 0)


if __name__ == "__main__":
    main()
