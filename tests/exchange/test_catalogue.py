"""The catalogue of concern with real processes: the hub publishes the
built-in catalogue as version 1 and every node gets it; `ewhub catalogue
publish` of an edited export shows the changes and reaches every node as
version 2; a stale or inconsistent file is refused; `ewnode submit` shows
the guidance and warns when the level departs from the area's default
without --reason."""

import json
import os

from ewhtest import EWHUB, NodeCase, main, wait_for


class CatalogueTest(NodeCase):

    def cat(self, d):
        r = self.ewnode("catalogue", "--dir", d, "--json", ok=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_version(self, d, v):
        return wait_for(lambda: (self.cat(d) or {}).get("version") == v and
                        self.cat(d), timeout=30,
                        what="catalogue %d at %s" % (v, d))

    def test_publish_reaches_every_node(self):
        n = self.region(["RS", "HR", "BG"])
        hub = self.path("hub")
        for d in n.values():
            self.agent_start(d)
        for d in n.values():
            self.wait_ready(d, 3)
            c = self.wait_version(d, 1)
            areas = {a["area"]: a for a in c["areas"]}
            for want in ("early-warning", "terrorism", "organised-crime",
                         "border-security", "small-arms",
                         "illegal-migration", "cyber", "disaster",
                         "dual-use-infrastructure", "other"):
                self.assertIn(want, areas)
            self.assertEqual(areas["terrorism"]["default_level"], "medium")
        text = self.ewnode("catalogue", "--dir", n["HR"], "terrorism") \
            .stdout.decode()
        self.assertIn("terrorism — Terrorism", text)
        self.assertIn("default level: medium", text)

        # -- export, edit, publish: the diff, version 2, every node --
        exp = self.run_cmd([EWHUB, "catalogue", "export", "--dir", hub])
        doc = json.loads(exp.stdout)
        self.assertEqual(doc["version"], 1)
        for a in doc["areas"]:
            if a["area"] == "terrorism":
                a["default_level"] = "high"
                a["high"] = "An attack is under way or planned within days."
                a["indicators"].append("threats against schools")
        f = self.path("cat.json")
        with open(f, "w") as fh:
            json.dump(doc, fh, indent=2)
        # not a terminal and no --yes: nothing published
        r = self.run_cmd([EWHUB, "catalogue", "publish", "--dir", hub, f],
                         ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"--yes", r.stderr)
        r = self.run_cmd([EWHUB, "catalogue", "publish", "--dir", hub,
                          "--yes", f])
        out = r.stdout.decode()
        self.assertIn("area terrorism, default_level:\n  - medium\n  + high",
                      out)
        self.assertIn("area terrorism, high:", out)
        self.assertIn("published catalogue version 2", out)
        for d in n.values():
            c = self.wait_version(d, 2)
            t = [a for a in c["areas"] if a["area"] == "terrorism"][0]
            self.assertEqual(t["default_level"], "high")
            self.assertEqual(t["high"],
                             "An attack is under way or planned within days.")
            self.assertIn("threats against schools", t["indicators"])

        # -- refused: exported from version 1 (stale), an unknown area --
        r = self.run_cmd([EWHUB, "catalogue", "publish", "--dir", hub,
                          "--yes", f], ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"exported from version 1 but version 2", r.stderr)
        doc["version"] = 2
        doc["areas"].append(dict(doc["areas"][0], area="weather"))
        with open(f, "w") as fh:
            json.dump(doc, fh)
        r = self.run_cmd([EWHUB, "catalogue", "publish", "--dir", hub,
                          "--yes", f], ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"'weather' is not a category of the hub", r.stderr)
        self.assertEqual(self.cat(n["RS"])["version"], 2)

        # -- submit: guidance, and a warning without --reason --
        rs = n["RS"]
        r = self.submit(rs, ok=False, level="low", to="all",
                        category="terrorism", title="Leaflets",
                        body="Propaganda leaflets found.")
        self.assertEqual(r.returncode, 0)
        err = r.stderr.decode()
        self.assertIn("terrorism", err)
        self.assertIn("low concern: Background information", err)
        self.assertIn("warning: level low departs from the catalogue's "
                      "default (high) for terrorism and no --reason", err)
        r = self.submit(rs, ok=False, level="low", to="all",
                        category="terrorism", title="Leaflets again",
                        body="More leaflets.",
                        reason="old material, no group active")
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("warning", r.stderr.decode())
        self.assertIn("reason given", r.stderr.decode())
        # the reason travels sealed, and the addressee sees it
        rid = r.stdout.decode().strip()
        hr = n["HR"]
        self.wait_inbox(hr, rid)
        j = self.show_json(hr, rid)
        self.assertEqual(j["level_reason"], "old material, no group active")
        t = self.ewnode("show", "--dir", hr, rid).stdout.decode()
        self.assertIn("level reason: old material, no group active", t)
        with open(os.path.join(self.path("hub"), "store.db"), "rb") as fh:
            self.assertNotIn(b"old material", fh.read())
        r = self.submit(rs, ok=False, level="high", to="all",
                        category="terrorism", title="Attack planned",
                        body="Details follow.")
        self.assertNotIn("warning", r.stderr.decode())

        # -- one owner for the areas: a category added to the hub's config
        #    appears in the export with generic text; one removed is gone --
        with open(os.path.join(hub, "ewhub.conf"), "a") as fh:
            fh.write("\n[roster]\ncategories = early-warning, terrorism, "
                     "organised-crime, border-security, small-arms, "
                     "illegal-migration, cyber, disaster, other, weather\n")
        exp = self.run_cmd([EWHUB, "catalogue", "export", "--dir", hub])
        self.assertIn(b"area weather is new", exp.stderr)
        self.assertIn(b"area dual-use-infrastructure left out", exp.stderr)
        doc = json.loads(exp.stdout)
        names = [a["area"] for a in doc["areas"]]
        self.assertEqual(names[-1], "weather")
        self.assertNotIn("dual-use-infrastructure", names)
        t = [a for a in doc["areas"] if a["area"] == "terrorism"][0]
        self.assertEqual(t["default_level"], "high")  # the edit is kept
        with open(f, "w") as fh:
            json.dump(doc, fh)
        r = self.run_cmd([EWHUB, "catalogue", "publish", "--dir", hub,
                          "--yes", f])
        self.assertIn(b"area weather: new", r.stdout)
        self.assertIn(b"area dual-use-infrastructure: removed", r.stdout)
        for d in n.values():
            c = self.wait_version(d, 3)
            self.assertIn("weather", [a["area"] for a in c["areas"]])

        # -- a restarted hub keeps serving version 3 --
        self.hub_proc.term()
        self.hub_start()
        exp = self.run_cmd([EWHUB, "catalogue", "export", "--dir", hub])
        self.assertEqual(json.loads(exp.stdout)["version"], 3)
        with open(self.path("hub.log")) as fh:  # both runs log here
            self.assertEqual(fh.read().count("published the built-in"), 1)
        self.assertEqual(self.cat(rs)["version"], 3)


if __name__ == "__main__":
    main()
