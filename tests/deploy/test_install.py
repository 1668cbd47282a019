"""meson install into a temporary prefix: the installed binaries run, the
systemd units are installed with the right paths and pass
`systemd-analyze verify`, and their offline exposure score is at most 2.0
(the figure docs/operations.md quotes)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["MESON_BUILD_ROOT_FOR_TEST"]


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="ewh-install-")
        r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                            "--destdir", cls.dest, "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError("meson install failed:\n" + r.stdout +
                                 r.stderr)
        prefix = subprocess.run(
            ["meson", "introspect", "--buildoptions", BUILD],
            capture_output=True, text=True).stdout
        m = re.search(r'"name": "prefix", "value": "([^"]+)"', prefix)
        cls.prefix = m.group(1) if m else "/usr/local"
        cls.root = cls.dest + cls.prefix

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def test_binaries_run(self):
        for prog in ("ewhub", "ewnode"):
            path = os.path.join(self.root, "bin", prog)
            self.assertTrue(os.access(path, os.X_OK), path)
            r = subprocess.run([path, "--version"], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^%s \d+\.\d+\.\d+" % prog)
            r = subprocess.run([path, "--help"], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0)
            self.assertIn("run", r.stdout)

    def _unit(self, prog):
        unit, cmd = {"ewnode-desk": ("ewnode-desk", "ewnode desk")}.get(
            prog, (prog, prog + " run"))
        path = os.path.join(self.root, "lib", "systemd", "system",
                            unit + ".service")
        self.assertTrue(os.path.exists(path), path)
        with open(path) as f:
            text = f.read()
        self.assertNotIn("@BINDIR@", text)
        self.assertIn("ExecStart=%s/bin/%s" % (self.prefix, cmd), text)
        return text

    def test_units_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze not installed")
        tmp = tempfile.mkdtemp(prefix="ewh-units-")
        try:
            for prog in ("ewhub", "ewnode", "ewnode-desk"):
                text = self._unit(prog)
                # Point ExecStart at the binary in the destdir, so verify
                # can check that it exists and is executable.
                text = text.replace("ExecStart=%s/bin/" % self.prefix,
                                    "ExecStart=%s/bin/" % self.root)
                unit = os.path.join(tmp, prog + ".service")
                with open(unit, "w") as f:
                    f.write(text)
                r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                    unit], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                r = subprocess.run(["systemd-analyze", "security",
                                    "--offline=true", unit],
                                   capture_output=True, text=True)
                m = re.search(r"Overall exposure level for \S+: "
                              r"([0-9.]+)", r.stdout + r.stderr)
                self.assertIsNotNone(m, r.stdout + r.stderr)
                self.assertLessEqual(float(m.group(1)), 2.0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_sysusers_and_docs(self):
        for prog in ("ewhub", "ewnode"):
            path = os.path.join(self.root, "lib", "sysusers.d",
                                prog + ".conf")
            with open(path) as f:
                self.assertRegex(f.read(), r"(?m)^u %s " % prog)
        doc = os.path.join(self.root, "share", "doc", "ewhub")
        self.assertTrue(os.path.exists(os.path.join(doc, "README.md")))
        self.assertTrue(os.path.exists(os.path.join(doc, "protocol.md")))
        for ex in ("ewhub.conf", "ewnode.conf"):
            self.assertTrue(os.path.exists(os.path.join(doc, "examples", ex)))

    def test_man_pages(self):
        if not shutil.which("help2man"):
            self.skipTest("help2man not installed (deploy/setup installs it)")
        for prog in ("ewhub", "ewnode"):
            path = os.path.join(self.root, "share", "man", "man1",
                                prog + ".1")
            with open(path) as f:
                text = f.read()
            # Generated from --help: the commands are there.
            self.assertIn(".SH NAME", text)
            self.assertIn("rotate\\-keys" if prog == "ewhub" else "rekey",
                          text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
