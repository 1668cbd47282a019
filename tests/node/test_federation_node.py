"""The node side of issue 22 with a real hub (docs/federation-node.md):
submit --type lessons and --distribution, the signed distribution as the
recipient reads it, `ewnode export --type lessons`, --to region:NAME and
foreign addressees refused when no foreign roster names them, and
`ewnode peers --json` giving the region.  The three-region scenarios are
in tests/federation/."""

import datetime
import json

from desktest import DeskCase
from ewhtest import NodeCase, node_main


def ts(s):
    return datetime.datetime.fromisoformat(s).timestamp()


class FederationNodeTest(NodeCase):

    def test_lessons_distribution_export(self):
        n = self.region(["RS", "HR", "BG"])
        rs, hr, bg = n["RS"], n["HR"], n["BG"]
        for d in n.values():
            self.agent_start(d)
        for d in n.values():
            self.wait_ready(d, 3)

        # -- lessons: never high; nothing queued --
        r = self.submit(rs, ok=False, type="lessons", level="high", to="all",
                        category="disaster", title="Flood", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"never high", r.stderr)
        r = self.submit(rs, ok=False, type="update", level="low", to="all",
                        category="disaster", title="Flood", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"use alert or lessons", r.stderr)
        r = self.submit(rs, ok=False, distribution="world", level="low",
                        to="all", category="disaster", title="Flood",
                        body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"region, connected or all", r.stderr)
        self.assertEqual(self.outbox(rs), [])

        # -- a lessons report, distribution all, default expiry 90 days --
        lid = self.submit(rs, type="lessons", level="medium", to="all",
                          distribution="all", category="disaster",
                          title="Flood response: what worked",
                          body="Pre-positioned pumps saved two days.")
        # -- an alert with no distribution: region --
        aid = self.submit(rs, level="high", to="HR", category="cyber",
                          title="Intrusion", body="Seen at 05:00.")
        for d in (hr, bg):
            m = self.wait_inbox(d, lid)
            self.assertEqual(m["type"], "lessons")
            self.assertEqual(m["level"], "medium")
        s = self.show_json(hr, lid)
        self.assertEqual(s["type"], "lessons")
        self.assertEqual(s["distribution"], "all")
        self.assertEqual(s["origin_region"], "region")
        self.assertAlmostEqual(ts(s["expires_at"]) - ts(s["created_at"]),
                               90 * 86400, delta=2)
        self.wait_inbox(hr, aid)
        s = self.show_json(hr, aid)
        self.assertEqual(s["distribution"], "region")
        self.assertEqual(s["type"], "alert")

        # -- an update of the lessons report keeps its distribution --
        uid = self.submit(rs, level="low", updates=lid, title="Flood (2)",
                          body="Pumps and sandbags.")
        m = self.wait_inbox(bg, uid)
        self.assertEqual(m["type"], "update")
        self.assertEqual(self.show_json(bg, uid)["distribution"], "all")

        # -- export: lessons only, with content and distribution --
        for d, direction in ((hr, None), (rs, "sent")):
            doc = json.loads(self.ewnode("export", "--dir", d, "--type",
                                         "lessons", "--json").stdout)
            self.assertEqual(doc["type"], "lessons")
            self.assertEqual(doc["region"], "region")
            self.assertEqual(doc["count"], 1)
            self.assertEqual(len(doc["reports"]), 1)
            e = doc["reports"][0]
            self.assertEqual(e["id"], lid)
            self.assertEqual(e["body"],
                             "Pre-positioned pumps saved two days.")
            self.assertEqual(e["distribution"], "all")
            self.assertEqual(e["origin"], "RS")
            if direction:
                self.assertEqual(e["direction"], direction)
        r = self.ewnode("export", "--dir", hr, ok=False)
        self.assertEqual(r.returncode, 2)
        r = self.ewnode("export", "--dir", hr, "--type", "memo", ok=False)
        self.assertEqual(r.returncode, 2)
        doc = json.loads(self.ewnode("export", "--dir", hr, "--type",
                                     "alert").stdout)
        self.assertEqual([e["id"] for e in doc["reports"]], [aid])

    def test_addressing_regions(self):
        n = self.region(["RS", "HR", "BG"])
        rs, hr, bg = n["RS"], n["HR"], n["BG"]
        for d in n.values():
            self.agent_start(d)
        for d in n.values():
            self.wait_ready(d, 3)
        j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
        self.assertEqual(j["region"], "region")
        self.assertEqual(j["hub_peers"], [])
        self.assertEqual(j["foreign"], [])
        txt = self.ewnode("peers", "--dir", rs).stdout.decode()
        self.assertIn("region region", txt)
        self.assertNotIn("foreign peers", txt)

        # region:NAME of our own region: every country of our roster
        rid = self.submit(rs, level="low", to="region:region",
                          category="other", title="To the region",
                          body="All of us.")
        out = [m for m in self.outbox(rs) if m["id"] == rid][0]
        self.assertEqual(sorted(out["to"]), ["BG", "HR"])
        for d in (hr, bg):
            self.wait_inbox(d, rid)
        # a region no roster names, a country of none: refused, nothing
        # queued
        before = len(self.outbox(rs))
        r = self.submit(rs, ok=False, level="low", to="region:nordic",
                        category="other", title="x", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"unknown region 'nordic'", r.stderr)
        r = self.submit(rs, ok=False, level="low", to="HR,NO",
                        category="other", title="x", body="x",
                        distribution="all")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"NO: not in the roster nor in a foreign one",
                      r.stderr)
        self.assertEqual(len(self.outbox(rs)), before)


class FederationDeskTest(DeskCase):
    """The desk's submit form offers the type and the distribution."""

    def test_desk_lessons_distribution(self):
        self.desk_region(["RS", "HR"])
        self.add_user("RS", "ana", "analyst")
        rs = self.desk_start("RS")
        ana = rs.login("ana")
        tok = rs.csrf(ana)
        st, _, body = rs.get("/submit", ana)
        self.assertEqual(st, 200)
        for field in ("type", "distribution"):
            self.assertRegex(body, r'name="?%s"?[ >]' % field)
        self.assertIn("lessons", body)
        self.assertIn("connected", body)
        form = {"csrf": tok, "type": "lessons", "level": "high",
                "to": "all", "category": "disaster", "title": "Floods",
                "body": "Pumps.", "distribution": "connected"}
        st, _, body = rs.post("/submit", form, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-level"', body)
        self.assertIn("never high", body)
        form["distribution"] = "everywhere"
        form["level"] = "low"
        st, _, body = rs.post("/submit", form, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-distribution"', body)
        self.assertEqual(self.outbox(self.nodes["RS"]), [])
        form["distribution"] = "connected"
        st, hd, _ = rs.post("/submit", form, ana)
        self.assertEqual(st, 303)
        rid = hd["location"][0].rsplit("/", 1)[1]
        m = self.show_json(self.nodes["RS"], rid)
        self.assertEqual((m["type"], m["level"], m["distribution"]),
                         ("lessons", "low", "connected"))
        m = self.wait_inbox(self.nodes["HR"], rid)
        self.assertEqual(m["type"], "lessons")
        # the update form has no distribution: the chain keeps its own
        st, _, body = rs.get("/submit?updates=" + rid, ana)
        self.assertEqual(st, 200)
        self.assertNotRegex(body, r'name="?distribution"?[ >]')


if __name__ == "__main__":
    node_main()
