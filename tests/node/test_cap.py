"""`ewnode show --format cap`: CAP 1.2 that validates against the OASIS
schema (xmllint) for each level and type, and follows the prose rules the
schema does not enforce."""

import os
import re
import subprocess
import xml.etree.ElementTree as ET

from ewhtest import NodeCase, node_main, TEST_DATA

NS = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
XSD = os.path.join(TEST_DATA, "cap", "CAP-v1.2.xsd")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
SEVERITY = {"high": "Severe", "medium": "Moderate", "low": "Minor"}
MSGTYPE = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}


class CapTest(NodeCase):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.path.exists(XSD), "TEST_DATA/cap missing")
        self.hub = self.fake_hub()
        pub = os.path.join(self.hub, "hub.pub")
        self.rs = self.node_init("RS", pub)
        nodes = [self.rs, self.node_init("HR", pub), self.node_init("BG", pub)]
        f = self.sign_roster(self.hub, 1, nodes)
        self.ewnode("import-roster", "--dir", self.rs, f)

    def cap(self, rid):
        xml = self.ewnode("show", "--dir", self.rs, rid, "--format",
                          "cap").stdout
        r = subprocess.run(["xmllint", "--noout", "--schema", XSD, "-"],
                           input=xml, capture_output=True)
        self.assertEqual(r.returncode, 0,
                         "%s\n%s" % (r.stderr.decode(), xml.decode()))
        self.assertNotIn(b"Z<", xml)  # times carry +00:00, never Z
        return ET.fromstring(xml)

    def text(self, root, path):
        e = root.find(path, NS)
        return None if e is None else e.text

    def check_prose(self, root, rid, level, typ, to, refs):
        j = self.show_json(self.rs, rid)
        for tag in ("identifier", "sender"):
            v = self.text(root, "c:" + tag)
            self.assertTrue(v and not re.search(r"[\s,<&]", v), (tag, v))
        self.assertEqual(self.text(root, "c:identifier"), rid)
        self.assertEqual(self.text(root, "c:sender"), "ewhub-RS")
        sent = self.text(root, "c:sent")
        self.assertRegex(sent, TIME)
        self.assertEqual(sent, j["created_at"])
        self.assertEqual(self.text(root, "c:status"), "Actual")
        self.assertEqual(self.text(root, "c:msgType"), MSGTYPE[typ])
        if to == "all":
            self.assertEqual(self.text(root, "c:scope"), "Restricted")
            self.assertEqual(self.text(root, "c:restriction"),
                             "TLP:" + j["tlp"].upper())
            self.assertIsNone(root.find("c:addresses", NS))
        else:
            self.assertEqual(self.text(root, "c:scope"), "Private")
            self.assertEqual(sorted(self.text(root, "c:addresses").split()),
                             sorted(to.split(",")))
            self.assertIsNone(root.find("c:restriction", NS))
        r = self.text(root, "c:references")
        if typ == "alert":
            self.assertIsNone(r)
        else:
            got = [t.split(",") for t in r.split(" ")]
            self.assertEqual([g[1] for g in got], refs)
            for snd, ident, when in got:
                self.assertEqual(snd, "ewhub-RS")
                self.assertRegex(when, TIME)
                self.assertEqual(when,
                                 self.show_json(self.rs, ident)["created_at"])
        info = root.find("c:info", NS)
        self.assertEqual(self.text(info, "c:category"), "Security")
        self.assertEqual(self.text(info, "c:severity"), SEVERITY[level])
        self.assertEqual(self.text(info, "c:headline"), j["title"])
        self.assertEqual(self.text(info, "c:description"), j["body"])
        params = {p.find("c:valueName", NS).text: p.find("c:value", NS).text
                  for p in info.findall("c:parameter", NS)}
        self.assertEqual(params["concernLevel"], level)
        if j["expires_at"]:
            self.assertEqual(self.text(info, "c:expires"), j["expires_at"])
            self.assertRegex(j["expires_at"], TIME)

    def test_levels_and_types(self):
        for level in ("high", "medium", "low"):
            for to in ("all", "HR,BG", "HR"):
                title = "Title <%s> & \"%s\"" % (level, to)
                a = self.submit(self.rs, level=level, to=to,
                                category="small-arms", title=title,
                                body="Body with <xml> & ümlauts\nline 2",
                                expires="6h", tlp="green")
                self.check_prose(self.cap(a), a, level, "alert", to, [])
                u = self.submit(self.rs, updates=a, title="Upd " + level,
                                body="update body")
                self.check_prose(self.cap(u), u, level, "update", to, [a])
                c = self.submit(self.rs, cancels=u)
                self.check_prose(self.cap(c), c, level, "cancel", to, [u, a])

    def test_urgency_certainty(self):
        defaults = {"high": "Immediate", "medium": "Expected", "low": "Future"}
        for level, urg in defaults.items():
            rid = self.submit(self.rs, level=level, to="HR", category="cyber",
                              title="t", body="b")
            info = self.cap(rid).find("c:info", NS)
            self.assertEqual(self.text(info, "c:urgency"), urg)
            self.assertEqual(self.text(info, "c:certainty"), "Unknown")
        rid = self.submit(self.rs, level="low", to="HR", category="cyber",
                          title="t", body="b", urgency="past",
                          certainty="observed", tlp="red")
        root = self.cap(rid)
        info = root.find("c:info", NS)
        self.assertEqual(self.text(info, "c:urgency"), "Past")
        self.assertEqual(self.text(info, "c:certainty"), "Observed")
        self.assertEqual(self.text(info, "c:severity"), "Minor")

    def test_real_alerts_validate(self):
        # the schema and xmllint as used above accept the real alerts
        d = os.path.join(TEST_DATA, "cap")
        for f in sorted(os.listdir(d)):
            if f.endswith(".xml"):
                r = subprocess.run(["xmllint", "--noout", "--schema", XSD,
                                    os.path.join(d, f)], capture_output=True)
                self.assertEqual(r.returncode, 0, f)


if __name__ == "__main__":
    node_main()
