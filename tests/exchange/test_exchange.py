"""The annual exchange on security forces with real processes: a hub and
three nodes (RS, HR, BG).  RS imports its return from CSV, validates and
sends it to all; HR and BG show it, compare it with last year's and table
it with their own.  A new return for the same year replaces the earlier.
Bad returns are refused with the JSON path and the rule, and nothing is
sent.  The reminder before the due date names who has not sent theirs.
A return whose clear header names another year than the sealed return
(sent with ewh-peer, as a faulty or hostile node could) is refused by the
recipient and recorded against its sender."""

import datetime
import json
import os
import sqlite3
import time

from ewhtest import EWH_PEER, EWHUB, EWNODE, NodeCase, TEST_DATA, main, \
    wait_for

SAMPLES = os.path.join(TEST_DATA, "exchange")


def sample(name):
    return os.path.join(SAMPLES, name)


class ExchangeTest(NodeCase):

    def xc(self, d, *args, ok=True):
        return self.ewnode("exchange", args[0], "--dir", d, *args[1:], ok=ok)

    def listing(self, d):
        return json.loads(self.xc(d, "list", "--json").stdout)

    def wait_return(self, d, cc, year, rid):
        def got():
            for r in self.listing(d):
                if r["country"] == cc and r["year"] == year and \
                        r["id"] == rid:
                    return r
            return None
        return wait_for(got, timeout=60, what="%s %d at %s" % (cc, year, d))

    def submit_return(self, d, path, to="all"):
        r = self.xc(d, "submit", path, "--to", to)
        rid = r.stdout.decode().strip()
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        return rid

    def test_round_trip(self):
        n = self.region(["RS", "HR", "BG"])
        rs, hr, bg = n["RS"], n["HR"], n["BG"]
        # the reminder: due in five days, whatever today is
        due = (datetime.datetime.now(datetime.timezone.utc) +
               datetime.timedelta(days=5))
        for d in n.values():
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("exchange_due = %s\n" % due.strftime("%m-%d"))
        for d in n.values():
            self.agent_start(d)
        for d in n.values():
            self.wait_ready(d, 3)
        year = due.year

        # -- the reminder before anything was sent: at the node and watch --
        out = self.xc(hr, "remind").stdout.decode()
        self.assertIn("reminder", out)
        for cc in ("BG", "HR", "RS"):
            self.assertIn(cc, out)
        w = self.start([EWNODE, "watch", "--dir", hr], "watch-HR")
        wait_for(lambda: "reminder: annual exchange" in w.logtext(),
                 what="reminder in watch")
        w.kill()

        # -- RS: import the CSV, validate, send last year's and this one --
        rs_json = self.path("rs-2026.json")
        self.xc(rs, "import", sample("rs-2026.csv"), "--out", rs_json)
        with open(rs_json) as f:
            doc = json.load(f)
        self.assertEqual(doc["country"], "RS")
        self.assertEqual(len(doc["agencies"]), 3)
        self.assertEqual(doc["agencies"][1]["type"], "gendarmerie")
        v = self.xc(rs, "validate", rs_json).stdout.decode()
        self.assertIn("valid", v)

        # The samples are for 2025 and 2026; send them under those years.
        r25 = self.submit_return(rs, sample("rs-2025.csv"))
        r26 = self.submit_return(rs, rs_json)
        h26 = self.submit_return(hr, sample("hr-2026.csv"))
        b26 = self.submit_return(bg, sample("bg-2026.csv"))
        for d in (hr, bg):
            self.wait_return(d, "RS", 2025, r25)
            self.wait_return(d, "RS", 2026, r26)
        self.wait_return(rs, "HR", 2026, h26)
        self.wait_return(rs, "BG", 2026, b26)
        self.wait_return(hr, "BG", 2026, b26)
        self.wait_return(bg, "HR", 2026, h26)

        # addressed to some: HR's 2025 return to RS alone
        with open(sample("hr-2026.csv")) as f:
            hr25 = f.read().replace("HR,2026,2026-12-04", "HR,2025,2025-12-03")
        p25 = self.path("hr-2025.csv")
        with open(p25, "w") as f:
            f.write(hr25)
        h25 = self.submit_return(hr, p25, to="RS")
        self.wait_return(rs, "HR", 2025, h25)
        self.wait_recipients(hr, h25, {"RS": "delivered"})
        self.assertNotIn(("HR", 2025), [(e["country"], e["year"])
                                        for e in self.listing(bg)])

        # the report: a return, low concern by default, sealed end to end
        m = self.wait_inbox(hr, r26)
        self.assertEqual(m["type"], "return")
        self.assertEqual(m["level"], "low")
        self.assertEqual(m["category"], "security-forces")

        for d in (hr, bg):
            # show: the figures as RS sent them
            s = self.xc(d, "show", "RS", "2026").stdout.decode()
            self.assertIn("Serbian Armed Forces (armed-forces)", s)
            self.assertIn("Gendarmerie (gendarmerie)", s)
            self.assertIn("authorised 25300, actual 23310", s)
            j = json.loads(self.xc(d, "show", "RS", "2026", "--json").stdout)
            self.assertEqual(j, doc)
            # compare with last year's: per agency and category
            c = self.xc(d, "compare", "RS", "2025", "2026").stdout.decode()
            self.assertRegex(c, r"category I battle tanks\s+224 -> 212 "
                                r"\(-12\)")
            self.assertRegex(c, r"category IV combat aircraft\s+49 -> 52 "
                                r"\(\+3\)")
            self.assertIn("unit 63rd Parachute Brigade: new", c)
            self.assertRegex(c, r"unit 1st Army Brigade actual\s+3480 -> "
                                r"3620 \(\+140\)")
            self.assertIn("budget procurement_construction/land: "
                          "36500000000.00 -> 41800000000.00 RSD "
                          "(+5300000000.00)", c)
            self.assertIn("Gendarmerie (gendarmerie)\n  no change", c)
            # table: every country side by side
            t = self.xc(d, "table", "2026").stdout.decode()
            head = t.splitlines()[0].split()
            self.assertEqual(head, ["BG", "HR", "RS"])
            self.assertRegex(t, r"I battle tanks\s+90\s+30\s+212")
            self.assertRegex(t, r"total authorised\s+11500\s+16900\s+"
                                r"30100")
            self.assertIn("RSD", t)
            self.assertIn("EUR", t)
            p = self.xc(d, "table", "2026", "--section", "personnel") \
                .stdout.decode()
            self.assertNotIn("holdings", p)
            self.assertIn("border-guard authorised", p)

        # export as CSV, import back: the same return
        exp = self.path("rs-export.csv")
        self.xc(hr, "export", "RS", "2026", "--format", "csv", "--out", exp)
        back = json.loads(self.xc(hr, "import", exp).stdout)
        self.assertEqual(back, doc)

        # the reminder: nobody is missing for this year any more (the
        # samples are for 2026; only check when the due year is 2026)
        if year == 2026:
            out = self.xc(hr, "remind").stdout.decode()
            self.assertIn("no reminder", out)

        # -- a new return for the same year replaces the earlier one --
        doc2 = json.loads(json.dumps(doc))
        doc2["date"] = "2026-12-05"
        doc2["agencies"][0]["holdings"]["un_register"]["I"] = 210
        p2 = self.path("rs-2026-b.json")
        with open(p2, "w") as f:
            json.dump(doc2, f)
        r26b = self.submit_return(rs, p2)
        for d in (hr, bg):
            e = self.wait_return(d, "RS", 2026, r26b)
            self.assertEqual(e["replaced"], 1)
            self.assertEqual(e["date"], "2026-12-05")
            c = self.xc(d, "compare", "RS", "2025", "2026").stdout.decode()
            self.assertRegex(c, r"category I battle tanks\s+224 -> 210")
            m = self.wait_inbox(d, r26b)
            self.assertEqual(m["references"], [r26])

        # -- the hub: who has sent which year, metadata only --
        st = json.loads(self.run_cmd([EWHUB, "status", "--dir",
                                      self.path("hub"), "--json"]).stdout)
        got = {(e["country"], e["year"]): e["returns"]
               for e in st["returns"]["sent"]}
        self.assertEqual(got, {("RS", 2025): 1, ("RS", 2026): 2,
                               ("HR", 2025): 1, ("HR", 2026): 1,
                               ("BG", 2026): 1})
        if st["returns"]["year"] == 2026:
            self.assertEqual(st["returns"]["missing"], [])
        text = self.run_cmd([EWHUB, "status", "--dir", self.path("hub")]) \
            .stdout.decode()
        self.assertIn("2026: BG HR RS (2 versions)", text)
        # the hub's disk holds no figure of any return
        with open(os.path.join(self.path("hub"), "store.db"), "rb") as f:
            self.assertNotIn(b"Serbian Armed Forces", f.read())

    def test_bad_returns_refused(self):
        n = self.region(["RS", "HR"])
        rs, hr = n["RS"], n["HR"]
        self.agent_start(rs)
        self.wait_ready(rs, 2)
        cases = {
            "missing-agency-type": "$.agencies[1]: required property "
                                   "\"type\" is missing (rule: required)",
            "negative-strength": "$.agencies[0].units[2].actual: -5 is "
                                 "negative",
            "unknown-category": "$.agencies[0].holdings.un_register.VIII: "
                                "unknown property",
            "float-in-budget": "$.agencies[0].budget.matrix.personnel.land:"
                               " 58410000000.25 is a float",
        }
        for name, want in cases.items():
            r = self.xc(rs, "submit", sample("bad/%s.json" % name), "--to",
                        "all", ok=False)
            self.assertEqual(r.returncode, 1, name)
            self.assertIn(want, r.stderr.decode(), name)
        # the same through CSV: a missing agency type and a negative count
        with open(sample("rs-2026.csv")) as f:
            csv = f.read()
        bad_csv = csv.replace("Gendarmerie,gendarmerie,", "Gendarmerie,,") \
            .replace("Belgrade,800,760", "Belgrade,800,-760")
        p = self.path("bad.csv")
        with open(p, "w") as f:
            f.write(bad_csv)
        r = self.xc(rs, "submit", p, "--to", "all", ok=False)
        self.assertEqual(r.returncode, 1)
        e = r.stderr.decode()
        self.assertIn("$.agencies[1]: required property \"type\"", e)
        self.assertIn("$.agencies[1].units[0].actual: -760 is negative", e)
        self.assertIn("(rule: minimum)", e)
        # oversized
        with open(sample("good/rs-2026.json")) as f:
            d = json.load(f)
        d["notes"] = "x" * 1000
        d["agencies"][0]["units"] = d["agencies"][0]["units"] * 40
        big = self.path("big.json")
        with open(big, "w") as f:
            json.dump(d, f, indent=2)
        self.assertGreater(os.path.getsize(big), 65536)
        r = self.xc(rs, "submit", big, "--to", "all", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("EWH_MAX_RETURN_BYTES", r.stderr.decode())
        self.assertIn("(rule: maxBytes)", r.stderr.decode())
        # another country's return is refused too
        r = self.xc(rs, "submit", sample("hr-2026.csv"), "--to", "all",
                    ok=False)
        self.assertIn("$.country: the return is HR's", r.stderr.decode())
        # nothing was sent
        self.assertEqual(self.outbox(rs), [])
        self.assertEqual(self.listing(rs), [])

    def test_header_year_differs_refused(self):
        n = self.region(["RS", "HR"])
        rs, hr = n["RS"], n["HR"]
        agent = self.agent_start(hr)
        self.wait_ready(hr, 2)
        body = sample("good/rs-2026.json")  # "year": 2026

        def send(header_year):
            # RS's own key, so the hub and HR take it as RS's
            r = self.run_cmd([
                EWH_PEER, "submit", "--key", os.path.join(rs, "node.key"),
                "--hub-pub", os.path.join(self.path("hub"), "hub.pub"),
                "--endpoint", self.endpoint, "--to", "HR", "--count", "1",
                "--level", "low", "--return-year", str(header_year),
                "--body-file", body])
            acks = [j for j in (json.loads(x) for x in
                                r.stdout.decode().splitlines() if x.strip())
                    if j["type"] == "ack"]
            self.assertEqual([a["status"] for a in acks], ["accepted"])
            return acks[0]["id"]

        # the header says 2025, the sealed return 2026: refused at HR
        bad = send(2025)
        wait_for(lambda: "refused delivery" in agent.logtext() and
                 bad in agent.logtext(), timeout=30,
                 what="HR refuses the return")
        self.assertIn("return year 2025 in the routing header differs from "
                      "the sealed return's", agent.logtext())
        # recorded against its sender, counted
        db = sqlite3.connect("file:%s?mode=ro" %
                             os.path.join(hr, "store.db"), uri=True)
        try:
            rows = db.execute("SELECT id, origin FROM refusal").fetchall()
        finally:
            db.close()
        self.assertEqual(rows, [(bad, "RS")])
        # ... by its code (ewnode refused, issue 22)
        ref = json.loads(self.run_cmd([EWNODE, "refused", "--dir", hr,
                                       "--json"]).stdout)
        self.assertEqual((ref["total"], ref["by_code"]), (1, {"invalid": 1}))
        self.assertEqual([(x["id"], x["origin"], x["code"])
                          for x in ref["refused"]], [(bad, "RS", "invalid")])
        # never shown, never held as a return
        self.assertNotIn(bad, [m["id"] for m in self.inbox(hr)])
        self.assertEqual(self.listing(hr), [])
        # the hub can only count the clear header (it cannot open returns)
        st = json.loads(self.run_cmd([EWHUB, "status", "--dir",
                                      self.path("hub"), "--json"]).stdout)
        self.assertEqual({(e["country"], e["year"])
                          for e in st["returns"]["sent"]}, {("RS", 2025)})

        # the same return with the right year in the header is taken
        good = send(2026)
        self.wait_return(hr, "RS", 2026, good)
        self.assertEqual([(r["country"], r["year"], r["id"])
                          for r in self.listing(hr)], [("RS", 2026, good)])
        self.assertEqual(agent.logtext().count("refused delivery"), 1)


if __name__ == "__main__":
    main()
