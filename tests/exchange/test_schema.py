"""The C validator and the shipped JSON Schema agree.

Every sample in tests/data/exchange/good and bad (and an oversized file
made here) goes through `ewnode exchange validate` (the C validator) and
through python3-jsonschema (Debian) with schemas/security-forces-return-1.json;
the verdicts must be the same, and the C validator's errors must name the
JSON path and the rule broken."""

import json
import os

import jsonschema

from ewhtest import EWNODE, NodeCase, TEST_DATA, main

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "schemas",
                      "security-forces-return-1.json")
SAMPLES = os.path.join(TEST_DATA, "exchange")

# bad sample -> (path, rule) the C validator must name
EXPECT = {
    "missing-agency-type": ("$.agencies[1]", "required"),
    "negative-strength": ("$.agencies[0].units[2].actual", "minimum"),
    "unknown-category": ("$.agencies[0].holdings.un_register.VIII",
                         "additionalProperties"),
    "float-in-budget": ("$.agencies[0].budget.matrix.personnel.land",
                        "anyOf"),
    "unknown-agency-type": ("$.agencies[0].type", "enum"),
    "bad-currency": ("$.agencies[0].budget.currency", "maxLength"),
    "bad-date": ("$.date", "pattern"),
    "year-out-of-range": ("$.year", "minimum"),
    "count-as-text": ("$.agencies[0].holdings.salw.assault_rifles", "type"),
    "no-agencies": ("$.agencies", "minItems"),
    "unknown-field": ("$.agencies[0].units[0].commander",
                      "additionalProperties"),
    "bad-decimal-string": ("$.agencies[0].budget.matrix.personnel.land",
                           "anyOf"),
    "wrong-schema": ("$.schema", "const"),
    "oversized": ("$", "maxBytes"),
}


class SchemaAgreement(NodeCase):

    def setUp(self):
        super().setUp()
        with open(SCHEMA) as f:
            self.schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self.py = jsonschema.Draft202012Validator(self.schema)

    def c_verdict(self, path):
        r = self.ewnode("exchange", "validate", path, ok=False)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r.returncode == 0, r.stderr.decode()

    def py_verdict(self, path):
        with open(path, "rb") as f:
            doc = json.loads(f.read())
        return self.py.is_valid(doc)

    def oversized(self):
        """A return over EWH_MAX_RETURN_BYTES: many units (more than the
        schema's maxItems too, so both validators refuse it)."""
        with open(os.path.join(SAMPLES, "good", "rs-2026.json")) as f:
            d = json.load(f)
        unit = d["agencies"][0]["units"][0]
        d["agencies"][0]["units"] = [dict(unit, designation="Unit %d" % i)
                                     for i in range(600)]
        p = self.path("oversized.json")
        with open(p, "w") as f:
            json.dump(d, f, indent=2)
        self.assertGreater(os.path.getsize(p), 65536)
        return p

    def test_good_samples(self):
        names = sorted(os.listdir(os.path.join(SAMPLES, "good")))
        self.assertGreaterEqual(len(names), 3)
        for n in names:
            p = os.path.join(SAMPLES, "good", n)
            c_ok, err = self.c_verdict(p)
            self.assertTrue(c_ok, "%s: C refused: %s" % (n, err))
            self.assertTrue(self.py_verdict(p), "%s: jsonschema refused" % n)

    def test_bad_samples(self):
        paths = {n[:-5]: os.path.join(SAMPLES, "bad", n)
                 for n in os.listdir(os.path.join(SAMPLES, "bad"))}
        paths["oversized"] = self.oversized()
        self.assertEqual(set(paths), set(EXPECT))
        for name, p in sorted(paths.items()):
            c_ok, err = self.c_verdict(p)
            self.assertFalse(c_ok, "%s: C accepted it" % name)
            self.assertFalse(self.py_verdict(p),
                             "%s: jsonschema accepted it" % name)
            path, rule = EXPECT[name]
            self.assertIn("%s: " % path, err, name)
            self.assertIn("(rule: %s)" % rule, err, name)

    def test_limits_agree(self):
        """Each limit at its value and one past it, and the edge cases of
        JSON numbers and strings: both validators give the same verdict,
        and it is the expected one."""
        with open(os.path.join(SAMPLES, "good", "minimal.json")) as f:
            base = json.load(f)
        unit = {"designation": "B", "subordination": "A", "location": "L",
                "authorised": 1, "actual": 1}

        def ag(d):
            return d["agencies"][0]

        def money(v):
            def f(d):
                ag(d)["budget"] = {"currency": "EUR", "minor_unit": 2,
                                   "matrix": {"personnel": {"land": v}}}
            return f

        def setk(key, v):
            return lambda d: d.__setitem__(key, v)

        def unit_set(key, v):
            return lambda d: ag(d).__setitem__(
                "units", [dict(unit, **{key: v})])
        cases = [
            ("year 1990", True, setk("year", 1990)),
            ("year 1989", False, setk("year", 1989)),
            ("year 2100", True, setk("year", 2100)),
            ("year 2101", False, setk("year", 2101)),
            ("year 2026.0", True, setk("year", 2026.0)),
            ("year as text", False, setk("year", "2026")),
            ("text 200 code points", True,
             unit_set("location", "\u010d" * 200)),
            ("text 201 code points", False,
             unit_set("location", "\u010d" * 201)),
            ("empty text", False, unit_set("location", "")),
            ("count 1e9", True, unit_set("actual", 1000000000)),
            ("count 1e9+1", False, unit_set("actual", 1000000001)),
            ("count 3.0", True, unit_set("actual", 3.0)),
            ("count 3.5", False, unit_set("actual", 3.5)),
            ("count true", False, unit_set("actual", True)),
            ("count null", False, unit_set("actual", None)),
            ("256 units", True,
             lambda d: ag(d).__setitem__("units", [unit] * 256)),
            ("257 units", False,
             lambda d: ag(d).__setitem__("units", [unit] * 257)),
            ("16 agencies", True,
             lambda d: d.__setitem__("agencies", [ag(d)] * 16)),
            ("17 agencies", False,
             lambda d: d.__setitem__("agencies", [ag(d)] * 17)),
            ("money max int", True, money(99999999999999)),
            ("money max int + 1", False, money(100000000000000)),
            ("money negative", False, money(-1)),
            ("money 12.0", True, money(12.0)),
            ("money float", False, money(12.5)),
            ("money 14 digits", True, money("99999999999999.9999")),
            ("money 15 digits", False, money("999999999999999")),
            ("money 5 decimals", False, money("1.12345")),
            ("money leading zero", False, money("01")),
            ("money zero", True, money("0")),
            ("money with sign", False, money("-1.00")),
            ("money with space", False, money(" 1.00")),
            ("money as object", False, money({"v": 1})),
            ("minor unit 4", True,
             lambda d: (money(1)(d),
                        ag(d)["budget"].__setitem__("minor_unit", 4))),
            ("minor unit 5", False,
             lambda d: (money(1)(d),
                        ag(d)["budget"].__setitem__("minor_unit", 5))),
            ("currency lower case", False,
             lambda d: (money(1)(d),
                        ag(d)["budget"].__setitem__("currency", "eur"))),
            ("no matrix", False,
             lambda d: ag(d).__setitem__("budget", {"currency": "EUR",
                                                    "minor_unit": 2})),
            ("unknown row", False,
             lambda d: ag(d).__setitem__("budget", {
                 "currency": "EUR", "minor_unit": 2,
                 "matrix": {"pensions": {}}})),
            ("unknown column", False,
             lambda d: ag(d).__setitem__("budget", {
                 "currency": "EUR", "minor_unit": 2,
                 "matrix": {"personnel": {"space": "1"}}})),
            ("salw type", True,
             lambda d: ag(d).__setitem__("holdings", {
                 "salw": {"mortars_under_75mm": 4}})),
            ("unknown salw type", False,
             lambda d: ag(d).__setitem__("holdings", {
                 "salw": {"bows": 4}})),
            ("date 2026-02-31", True, setk("date", "2026-02-31")),
            ("date 2026-12-32", False, setk("date", "2026-12-32")),
            ("country XK", True, setk("country", "XK")),
            ("country R5", False, setk("country", "R5")),
            ("notes empty", False, setk("notes", "")),
            ("not an object", False, lambda d: d.clear() or d.update(
                {"schema": "security-forces-return-1"})),
        ]
        for name, want, mutate in cases:
            d = json.loads(json.dumps(base))
            mutate(d)
            p = self.path("case.json")
            with open(p, "w") as f:
                json.dump(d, f, ensure_ascii=False)
            c_ok, err = self.c_verdict(p)
            py_ok = self.py.is_valid(d)
            self.assertEqual(py_ok, want, "%s: jsonschema says %s" %
                             (name, py_ok))
            self.assertEqual(c_ok, want, "%s: C says %s: %s" %
                             (name, c_ok, err))

    def test_csv_samples_agree(self):
        """The CSV samples, imported, are valid for both."""
        for n in sorted(os.listdir(SAMPLES)):
            if not n.endswith(".csv"):
                continue
            out = self.path(n + ".json")
            self.ewnode("exchange", "import", os.path.join(SAMPLES, n),
                        "--out", out)
            self.assertTrue(self.py_verdict(out), n)

    def test_csv_from_a_spreadsheet(self):
        """A byte order mark and CRLF line ends, as spreadsheets write
        them, import to the same return; a CSV error names the record."""
        with open(os.path.join(SAMPLES, "rs-2026.csv"), "rb") as f:
            raw = f.read()
        want = json.loads(self.ewnode("exchange", "import",
                                      os.path.join(SAMPLES, "rs-2026.csv"))
                          .stdout)
        p = self.path("excel.csv")
        with open(p, "wb") as f:
            f.write(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
        self.assertEqual(json.loads(self.ewnode("exchange", "import", p)
                                    .stdout), want)
        bad = raw.replace(b"Gendarmerie,un_register,II,64",
                          b"Special Police,un_register,II,64")
        with open(p, "wb") as f:
            f.write(bad)
        r = self.ewnode("exchange", "import", p, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"CSV record \d+: agency "
                         r"\"Special Police\" is not in the agencies")
        with open(p, "wb") as f:
            f.write(raw.replace(b"#section holdings", b"#section weapons"))
        r = self.ewnode("exchange", "import", p, ok=False)
        self.assertIn("unknown section \"weapons\"", r.stderr.decode())

    def test_csv_export_round_trip(self):
        src = os.path.join(SAMPLES, "good", "rs-2026.json")
        # export needs a stored return; the CSV writer is also reached by
        # template --format csv, which must import back to a valid return
        csv = self.ewnode("exchange", "template", "2026", "--country", "RS",
                          "--format", "csv").stdout
        p = self.path("t.csv")
        with open(p, "wb") as f:
            f.write(csv)
        j = json.loads(self.ewnode("exchange", "import", p).stdout)
        self.assertTrue(self.py.is_valid(j))
        self.assertEqual(j["country"], "RS")
        self.assertTrue(os.path.exists(src))


if __name__ == "__main__":
    main()
