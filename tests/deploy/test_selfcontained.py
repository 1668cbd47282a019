"""The project tests on its own: nothing under tests/, deploy/ or .ci/
reads outside the repository (a user's clone has no ../shared beside it),
and the real data the tests use is in tests/data with its sources."""

import os
import re
import unittest

TOP = os.environ.get("EWH_SOURCE_ROOT",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
# A path that leaves the repository: "../shared", "'..' / 'shared'", or the
# old SHARED_DATA variable that pointed there.
OUTSIDE = re.compile(r"\.\./shared|'\.\.'\s*/\s*'shared'|SHARED_DATA")


class SelfContained(unittest.TestCase):
    def test_no_path_outside_the_repository(self):
        bad = []
        for sub in ("tests", "deploy", ".ci", "meson.build"):
            root = os.path.join(TOP, sub)
            paths = [root] if os.path.isfile(root) else [
                os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
            for p in paths:
                if "/corpus/" in p or p.endswith(__file__.split("/")[-1]):
                    continue
                try:
                    text = open(p, encoding="utf-8").read()
                except (UnicodeDecodeError, IsADirectoryError):
                    continue
                for n, line in enumerate(text.splitlines(), 1):
                    if OUTSIDE.search(line):
                        bad.append(f"{os.path.relpath(p, TOP)}:{n}: {line.strip()}")
        self.assertEqual(bad, [], "reads outside the repository")

    def test_cap_data_is_carried_with_its_sources(self):
        d = os.path.join(TOP, "tests", "data", "cap")
        files = set(os.listdir(d))
        self.assertIn("CAP-v1.2.xsd", files)
        self.assertIn("SOURCES.md", files)
        sources = open(os.path.join(d, "SOURCES.md")).read()
        xml = [f for f in files if f.endswith(".xml")]
        self.assertGreaterEqual(len(xml), 4)
        for f in xml:
            self.assertIn(f, sources, f"{f} has no source in SOURCES.md")


if __name__ == "__main__":
    unittest.main()
