"""The desk (issue 23) without a browser: plain http.client against real
desks on a real hub and two real nodes.  Refusals (no session, CSRF,
roles, lock-out), the person named on the signed receipt, escalation
hooks firing once per step and stopping at acknowledgement, accounts on
the command line, security headers, escaping, and HTTPS.  The catalogue
of concern on the submit form (guidance, the level's reason sealed, the
level-departs warning) and the annual exchange's reminder banner."""

import datetime
import html
import json
import os
import re
import stat
import subprocess
import time

from desktest import PASSWORD, Desk, DeskCase
from ewhtest import EWHUB, EWNODE, TEST_DATA, node_main, wait_for

HOOK = ('sh -c \'printf "%%s %%s %%s %%s [%%s]\\n" "$EWH_STEP" '
        '"$EWH_REPORT_ID" "$EWH_LEVEL" "$EWH_ORIGIN" "$EWH_TITLE" '
        '>> %s\'')


def hook_lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except OSError:
        return []


class DeskTest(DeskCase):

    def setup_region(self, hr_conf="", rs_conf=""):
        self.desk_region(["RS", "HR"], {"HR": hr_conf, "RS": rs_conf})
        self.add_user("RS", "ana", "analyst")
        self.add_user("RS", "rsadmin", "admin")
        self.add_user("HR", "lia", "liaison")
        self.add_user("HR", "hra", "analyst")
        self.add_user("HR", "boss", "admin,liaison")
        self.rs = self.desk_start("RS")
        self.hr = self.desk_start("HR")

    def submit_high(self, title="Armed group at the crossing"):
        rid = self.submit(self.nodes["RS"], level="high", to="HR",
                          category="border-security", title=title,
                          body="Seen at 05:00, about 40 people.")
        self.wait_inbox(self.nodes["HR"], rid)
        return rid

    def test_refusals_and_ack(self):
        self.setup_region()
        hr = self.hr
        rid = self.submit_high("<script>alert(1)</script> & co")

        # -- no session: the sign-in page, never content --
        for path in ("/inbox", "/report/" + rid, "/outbox", "/submit",
                     "/peers", "/admin", "/"):
            st, hd, body = hr.get(path)
            self.assertEqual(st, 303, path)
            self.assertEqual(hd["location"], ["/login"], path)
            self.assertNotIn("script>alert", body)
            self.assertNotIn(rid, body)
        for path in ("/report/%s.json" % rid, "/report/%s.cap" % rid,
                     "/live/inbox", "/live/alerts", "/events"):
            st, _, body = hr.get(path)
            self.assertEqual(st, 401, path)
            self.assertNotIn(rid, body)
            self.assertNotIn("alert(1)", body)
        st, _, body = hr.get("/login")
        self.assertEqual(st, 200)
        self.assertIn('id=password', body)
        # a forged cookie is no session either
        st, _, _ = hr.get("/inbox", cookie="ewh_session=" + "A" * 43)
        self.assertEqual(st, 303)

        # -- the liaison officer reads: escaped, with strict headers --
        lia = hr.login("lia")
        st, hd, body = hr.get("/inbox", lia)
        self.assertEqual(st, 200)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co", body)
        self.assertNotIn("<script>alert", body)
        self.assertIn("data-alert", body)  # the banner
        csp = hd["content-security-policy"][0]
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(hd["x-frame-options"], ["DENY"])
        st, hd, body = hr.get("/report/" + rid, lia)
        self.assertEqual(st, 200)
        self.assertEqual(hd["cache-control"], ["no-store"])
        self.assertIn("Seen at 05:00", body)
        self.assertIn('id=ack', body)

        # -- missing or forged CSRF token: refused, nothing changes --
        st, _, _ = hr.post("/report/%s/ack" % rid, {}, lia)
        self.assertEqual(st, 403)
        st, _, _ = hr.post("/report/%s/ack" % rid, {"csrf": "x" * 43}, lia)
        self.assertEqual(st, 403)
        self.assertFalse(self.inbox(self.nodes["HR"])[0]["acknowledged"])

        # -- roles: a liaison officer cannot submit, an analyst cannot
        # acknowledge (nor read the inbox) --
        tok = hr.csrf(lia)
        form = {"csrf": tok, "level": "high", "to": "all",
                "category": "cyber", "title": "t", "body": "b"}
        st, _, _ = hr.post("/submit", form, lia)
        self.assertEqual(st, 403)
        st, _, _ = hr.get("/submit", lia)
        self.assertEqual(st, 403)
        self.assertEqual(self.outbox(self.nodes["HR"]), [])
        hra = hr.login("hra")
        st, _, _ = hr.post("/report/%s/ack" % rid,
                           {"csrf": hr.csrf(hra)}, hra)
        self.assertEqual(st, 403)
        st, _, _ = hr.get("/inbox", hra)
        self.assertEqual(st, 403)
        st, _, _ = hr.get("/report/" + rid, hra)
        self.assertEqual(st, 403)
        self.assertFalse(self.inbox(self.nodes["HR"])[0]["acknowledged"])

        # -- the acknowledgement names the person, up to the origin --
        st, hd, _ = hr.post("/report/%s/ack" % rid, {"csrf": tok}, lia)
        self.assertEqual(st, 303)
        m = self.inbox(self.nodes["HR"])[0]
        self.assertTrue(m["acknowledged"])
        self.assertEqual(m["acknowledged_by"], "lia")
        self.wait_recipients(self.nodes["RS"], rid, {"HR": "acknowledged"})
        ana = self.rs.login("ana")
        st, _, body = self.rs.get("/outbox", ana)
        self.assertEqual(st, 200)
        self.assertRegex(body, r"HR: <strong>acknowledged by lia</strong> at "
                               r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        # which hubs have it (issue 18): one hub here
        self.assertIn("<span class=hubs>accepted by 1 of 1 hub</span>", body)
        # CAP Ack export at HR
        st, hd, body = hr.get("/report/%s.ack.cap" % rid, lia)
        self.assertEqual(st, 200)
        self.assertIn("<msgType>Ack</msgType>", body)
        self.assertIn("Acknowledged by lia", body)
        self.assertIn(rid, body)
        st, _, body = hr.get("/report/%s.json" % rid, lia)
        self.assertEqual(json.loads(body)["id"], rid)

        # -- the audit log says who signed in, read and acknowledged --
        boss = hr.login("boss")
        st, _, body = hr.get("/admin", boss)
        self.assertEqual(st, 200)
        for what in ("sign-in", "read", "acknowledge", "export"):
            self.assertRegex(body, r"<td>lia</td><td>%s</td>" % what)
        self.assertEqual(hr.get("/admin", lia)[0], 403)

        # -- sign-out ends the session --
        st, _, _ = hr.post("/logout", {"csrf": tok}, lia)
        self.assertEqual(st, 303)
        self.assertEqual(hr.get("/inbox", lia)[0], 303)

    def test_submit_form_validation(self):
        self.setup_region()
        rs = self.rs
        ana = rs.login("ana")
        tok = rs.csrf(ana)
        st, _, body = rs.get("/submit", ana)
        self.assertEqual(st, 200)
        for field in ("level", "category", "title", "body", "tlp",
                      "expires", "urgency", "certainty"):
            self.assertRegex(body, r'name="?%s"?[ >]' % field)
        self.assertIn('value="HR"', body)          # addressees from roster
        self.assertIn("border-security", body)     # categories
        # refused next to the field; nothing stored
        bad = {"csrf": tok, "level": "high", "to": "all",
               "category": "border-security", "title": "",
               "body": "something"}
        st, _, body = rs.post("/submit", bad, ana)
        self.assertEqual(st, 422)
        self.assertRegex(body, r'id="err-title">[^<]*title')
        bad.update(title="ok", expires="forever")
        st, _, body = rs.post("/submit", bad, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-expires"', body)
        bad.update(expires="", to="chosen")
        st, _, body = rs.post("/submit", bad, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-to"', body)
        bad.update(title="x" * 201, to="all")
        st, _, body = rs.post("/submit", bad, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-title"', body)
        self.assertEqual(self.outbox(self.nodes["RS"]), [])
        # a good one, then its update
        good = {"csrf": tok, "level": "medium", "to": "chosen", "cc": ["HR"],
                "category": "cyber", "title": "Phishing wave",
                "body": "Line one\nline two", "tlp": "green",
                "expires": "12h", "urgency": "Expected",
                "certainty": "Likely"}
        st, hd, _ = rs.post("/submit", good, ana)
        self.assertEqual(st, 303)
        rid = hd["location"][0].rsplit("/", 1)[1]
        m = self.show_json(self.nodes["RS"], rid)
        self.assertEqual((m["level"], m["tlp"], m["author"], m["body"]),
                         ("medium", "green", "ana", "Line one\nline two"))
        self.assertTrue(m["expires_at"])
        st, hd, _ = rs.post("/submit", {"csrf": tok, "updates": rid,
                                        "to": "same",
                                        "title": "Phishing wave, day 2",
                                        "body": "More of it."},
                            ana)
        self.assertEqual(st, 303)
        up = hd["location"][0].rsplit("/", 1)[1]
        self.assertEqual(self.show_json(self.nodes["RS"], up)["type"],
                         "update")
        # the update form starts from the earlier report
        st, _, body = rs.get("/submit?cancels=" + up, ana)
        self.assertEqual(st, 200)
        self.assertIn('name=cancels value="%s"' % up, body)
        st, hd, _ = rs.post("/submit", {"csrf": tok, "cancels": up,
                                        "to": "same"}, ana)
        self.assertEqual(st, 303)
        cx = hd["location"][0].rsplit("/", 1)[1]
        self.assertEqual(self.show_json(self.nodes["RS"], cx)["type"],
                         "cancel")
        # an update of a report that is not ours is refused, at its field
        m = self.wait_inbox(self.nodes["HR"], cx)
        self.assertEqual(m["type"], "cancel")
        st, _, body = rs.post("/submit", {"csrf": tok, "updates": "0" * 32,
                                          "title": "x", "body": "y"}, ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-updates"', body)
        # the audit log names the analyst for each
        adm = rs.login("rsadmin")
        st, _, body = rs.get("/admin", adm)
        for what, rid_ in (("submit", rid), ("update", up), ("cancel", cx)):
            self.assertIn("<td>ana</td><td>%s</td><td>%s</td>" % (what, rid_),
                          body)

    def test_pages_and_filters(self):
        self.setup_region()
        ids = [self.submit(self.nodes["RS"], level=("low", "medium")[i % 2],
                           to="HR", category="cyber", title="r%02d" % i,
                           body="b") for i in range(51)]
        ana = self.rs.login("ana")
        st, _, body = self.rs.get("/outbox", ana)
        self.assertEqual(st, 200)
        self.assertEqual(body.count("<tr class="), 50)
        self.assertIn("id=older", body)
        st, _, body = self.rs.get("/outbox?page=2", ana)
        self.assertEqual(body.count("<tr class="), 1)
        self.assertIn(ids[0], body)
        self.assertEqual(self.rs.get("/outbox?page=0", ana)[0], 400)
        self.assertEqual(self.rs.get("/outbox?page=x", ana)[0], 400)
        wait_for(lambda: len(self.inbox(self.nodes["HR"])) == 51,
                 timeout=60, what="51 reports at HR")
        lia = self.hr.login("lia")
        st, _, body = self.hr.get("/inbox?level=medium", lia)
        self.assertEqual(st, 200)
        self.assertNotIn("lvl-low", body)
        self.assertIn("lvl-medium", body)
        st, _, body = self.hr.get("/live/inbox?unacked=1&page=2", lia)
        self.assertEqual(st, 200)
        self.assertEqual(body.count("<tr class="), 1)
        # search, category and time as `ewnode inbox`
        st, _, body = self.hr.get("/live/inbox?q=r07", lia)
        self.assertEqual(st, 200)
        # (in both tables: awaiting acknowledgement, and all)
        self.assertEqual(set(re.findall(r'data-id="([0-9a-f]{32})"', body)),
                         {ids[7]})
        st, _, body = self.hr.get("/live/inbox?category=disaster", lia)
        self.assertIn("id=empty", body)
        st, _, body = self.hr.get("/live/inbox?category=cyber&within=24h"
                                  "&page=2", lia)
        self.assertEqual(body.count("<tr class="), 1)
        st, _, body = self.hr.get("/inbox?q=r07&level=low", lia)
        self.assertIn('value="r07"', body)
        self.assertIn("q=r07", body)  # kept in the live URL and pager
        self.assertEqual(self.hr.get("/inbox?within=forever", lia)[0], 400)
        self.assertEqual(self.hr.get("/inbox?q=" + "+".join("abcdefghi"),
                                     lia)[0], 400)
        self.assertEqual(self.hr.get("/inbox?category=Bad!", lia)[0], 400)
        self.assertEqual(self.hr.get("/inbox?from=XYZ", lia)[0], 400)
        self.assertEqual(self.hr.get("/inbox?level=urgent", lia)[0], 400)
        self.assertEqual(self.hr.get("/inbox?from=" + "A" * 200, lia)[0],
                         400)

    def test_lockout(self):
        self.setup_region("lockout_failures = 3\nlockout = 10m\n")
        hr = self.hr
        codes = [hr.post("/login", {"name": "lia",
                                    "password": "wrong password!"})[0]
                 for _ in range(3)]
        self.assertEqual(codes, [401, 401, 423])
        st, _, body = hr.post("/login", {"name": "lia",
                                         "password": PASSWORD})
        self.assertEqual(st, 423)
        self.assertIn("locked", body)
        out = self.ewnode("user", "list", "--dir", self.nodes["HR"],
                          "--json").stdout
        lia = [u for u in json.loads(out) if u["name"] == "lia"][0]
        self.assertTrue(lia["locked"])
        # the administrator's new password lifts the lock
        pw = self.path("newpw")
        with open(pw, "w") as f:
            f.write("another long password\n")
        self.ewnode("user", "passwd", "--dir", self.nodes["HR"], "lia",
                    "--password-file", pw)
        hr.login("lia", "another long password")

    def test_escalation(self):
        hook1, hook2 = self.path("hook1.log"), self.path("hook2.log")
        self.setup_region(
            "escalate_after = 2s\nescalate2_after = 8s\n"
            "escalate_hook = %s\nescalate2_hook = %s\n"
            % (HOOK % hook1, HOOK % hook2),
            "escalate_after = 2s\n")
        hr = self.hr
        a = self.submit_high("first")
        # step 1 and then step 2, each once
        wait_for(lambda: hook_lines(hook1), timeout=30, what="hook 1")
        wait_for(lambda: hook_lines(hook2), timeout=30, what="hook 2")
        b = self.submit_high("second")
        wait_for(lambda: [x for x in hook_lines(hook1) if x[1] == b],
                 timeout=30, what="hook 1 for b")
        lia = hr.login("lia")
        st, _, body = hr.get("/inbox", lia)
        self.assertIn("banner escalated", body)
        self.assertEqual(hr.post("/report/%s/ack" % b,
                                 {"csrf": hr.csrf(lia)}, lia)[0], 303)
        t_ack = time.monotonic()
        # the origin sees who has not acknowledged, and for how long
        ana = self.rs.login("ana")
        wait_for(lambda: "not acknowledged at HR after" in
                 self.rs.get("/outbox", ana)[2], timeout=60,
                 what="late at RS")
        # ... and on every page of the analyst's console
        st, _, body = self.rs.get("/live/late", ana)
        self.assertEqual(st, 200)
        self.assertRegex(body, r"first</a>: not acknowledged at HR after "
                               r"\d+ (s|min)")
        time.sleep(max(0, 8 + 3 - (time.monotonic() - t_ack)))
        l1, l2 = hook_lines(hook1), hook_lines(hook2)
        self.assertEqual(sorted(x[1] for x in l1), sorted([a, b]))
        self.assertEqual([x[1] for x in l2], [a])  # b was acknowledged
        self.assertEqual(l1[0][:4], ["1", a, "high", "RS"])
        self.assertEqual(l2[0][:4], ["2", a, "high", "RS"])
        self.assertEqual(l1[0][4], "[]")  # no content unless configured
        # a restart does not fire a step again
        self.desks["HR"].proc.term()
        self.desk_start("HR")
        time.sleep(3)
        self.assertEqual(len(hook_lines(hook1)), 2)
        self.assertEqual(len(hook_lines(hook2)), 1)

    def test_admin_accounts(self):
        self.setup_region()
        hr = self.hr
        boss = hr.login("boss")
        tok = hr.csrf(boss)
        form = {"csrf": tok, "action": "add", "name": "newbie",
                "role": ["liaison"], "password": "a new long password"}
        # only an admin, only with the CSRF token
        lia = hr.login("lia")
        self.assertEqual(hr.post("/admin/user", dict(form, csrf=hr.csrf(lia)),
                                 lia)[0], 403)
        self.assertEqual(hr.post("/admin/user", dict(form, csrf="x" * 43),
                                 boss)[0], 403)
        st, _, body = hr.post("/admin/user", dict(form, password="short"),
                              boss)
        self.assertEqual(st, 422)
        self.assertIn("shorter", body)
        st, _, body = hr.post("/admin/user", form, boss)
        self.assertEqual(st, 200, body[:500])
        self.assertIn("Done: add newbie", body)
        nb = hr.login("newbie", "a new long password")
        self.assertEqual(hr.get("/inbox", nb)[0], 200)
        # new roles end the account's sessions
        st, _, _ = hr.post("/admin/user", {"csrf": tok, "action": "role",
                                           "name": "newbie",
                                           "role": ["analyst"]}, boss)
        self.assertEqual(st, 200)
        self.assertEqual(hr.get("/inbox", nb)[0], 303)
        nb = hr.login("newbie", "a new long password")
        self.assertEqual(hr.get("/inbox", nb)[0], 403)
        self.assertEqual(hr.get("/submit", nb)[0], 200)
        # no one removes their own account here
        st, _, body = hr.post("/admin/user", {"csrf": tok, "action": "del",
                                              "name": "boss"}, boss)
        self.assertEqual(st, 422)
        self.assertIn("own account", body)
        st, _, _ = hr.post("/admin/user", {"csrf": tok, "action": "del",
                                           "name": "newbie"}, boss)
        self.assertEqual(st, 200)
        self.assertEqual(hr.get("/submit", nb)[0], 303)
        users = json.loads(self.ewnode("user", "list", "--dir",
                                       self.nodes["HR"], "--json").stdout)
        self.assertNotIn("newbie", [u["name"] for u in users])
        st, _, body = hr.get("/admin", boss)
        self.assertRegex(body, r"<td>boss</td><td>account</td><td></td>"
                               r"<td>add newbie</td>")

    def test_verify_peer(self):
        """An admin verifies an unverified peer from the peers page, through
        the privileged part and the same check as `ewnode peers verify`;
        nobody else can; a wrong fingerprint changes nothing."""
        self.setup_region()
        rs, rsd = self.rs, self.nodes["RS"]
        genuine_fp = self.pub_fingerprint(self.nodes["HR"], "HR")

        def hr_at_rs():
            j = json.loads(self.ewnode("peers", "--dir", rsd,
                                       "--json").stdout)
            return {p["country"]: p for p in j["peers"]}["HR"]
        self.assertTrue(hr_at_rs()["verified"])
        # an unendorsed key change for HR (as tests/adversarial/test_trust)
        fake = self.path("impostor-HR")
        self.ewnode("init", "--dir", fake, "--country", "HR", "--hub",
                    self.endpoint, "--hub-key",
                    os.path.join(self.path("hub"), "hub.pub"))
        fake_fp = self.pub_fingerprint(fake, "HR")
        self.run_cmd([EWHUB, "enroll", "--dir", self.path("hub"),
                      os.path.join(fake, "node-HR.pub")])
        wait_for(lambda: not hr_at_rs()["verified"], 30,
                 what="HR unverified at RS")

        # -- no form for a non-admin, and a forged POST is refused --
        ana, adm = rs.login("ana"), rs.login("rsadmin")
        st, _, body = rs.get("/peers", ana)
        self.assertEqual(st, 200)
        self.assertIn('data-cc="HR"', body)
        self.assertNotIn("/peers/verify", body)
        st, _, _ = rs.post("/peers/verify", {"csrf": rs.csrf(ana), "cc": "HR",
                                             "fingerprint": fake_fp}, ana)
        self.assertEqual(st, 403)
        self.assertFalse(hr_at_rs()["verified"])
        self.assertEqual(rs.get("/settings", ana)[0], 403)
        # an admin, without the CSRF token
        st, _, _ = rs.post("/peers/verify", {"csrf": "x" * 43, "cc": "HR",
                                             "fingerprint": fake_fp}, adm)
        self.assertEqual(st, 403)
        self.assertFalse(hr_at_rs()["verified"])

        # -- the admin sees the form; a wrong fingerprint is refused with
        # the CLI's message, next to the field, and nothing changes --
        st, _, body = rs.get("/peers", adm)
        self.assertIn('id="verify-HR"', body)
        self.assertNotIn('id="verify-RS"', body)
        tok = rs.csrf(adm)
        cli = self.ewnode("peers", "verify", "--dir", rsd, "HR", genuine_fp,
                          ok=False)
        reason = cli.stderr.decode().strip()
        self.assertTrue(reason.startswith("ewnode peers verify: "), reason)
        reason = reason[len("ewnode peers verify: "):]
        st, _, body = rs.post("/peers/verify", {"csrf": tok, "cc": "HR",
                                                "fingerprint": genuine_fp},
                              adm)
        self.assertEqual(st, 422)
        m = re.search(r'<p class=error id="err-verify-HR">(.*?)</p>', body)
        self.assertIsNotNone(m, body[-2000:])
        self.assertEqual(html.unescape(m.group(1)), "Refused: " + reason)
        self.assertFalse(hr_at_rs()["verified"])
        self.assertEqual(hr_at_rs()["fingerprint"], fake_fp)
        st, _, body = rs.get("/admin", adm)
        self.assertNotIn("verify-peer", body)

        # -- the right one: verified, and the audit log names the admin --
        st, _, body = rs.post("/peers/verify", {"csrf": tok, "cc": "HR",
                                                "fingerprint": fake_fp}, adm)
        self.assertEqual(st, 200, body[-1500:])
        self.assertIn("HR verified", body)
        self.assertTrue(hr_at_rs()["verified"])
        self.assertNotIn('id="verify-HR"', body)
        st, _, body = rs.get("/admin", adm)
        self.assertRegex(body, r"<td>rsadmin</td><td>verify-peer</td><td>"
                               r"</td><td>HR %s</td>" % re.escape(fake_fp))

        # -- settings: read-only, the effective values --
        st, _, body = rs.get("/settings", adm)
        self.assertEqual(st, 200)
        self.assertIn("ewnode.conf", body)
        self.assertIn('<td id=set-unverified>refuse', body)
        self.assertIn("<td id=set-escalate-levels>high</td>", body)
        self.assertNotIn("<form method=post action=\"/settings", body)

    def test_http_part_confined(self):
        """The HTTP part holds no key and, where the kernel has Landlock,
        cannot open node.key (the desk checks it at start and refuses to
        serve otherwise)."""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        # landlock_create_ruleset(NULL, 0, VERSION) on x86_64 / aarch64
        nr = {"x86_64": 444, "aarch64": 444}.get(os.uname().machine)
        abi = libc.syscall(nr, None, 0, 1) if nr else -1
        self.desk_region(["RS", "HR"])
        self.add_user("HR", "lia", "liaison")
        hr = self.desk_start("HR")
        log = wait_for(lambda: "desk: listening" in hr.proc.logtext() and
                       hr.proc.logtext(), what="desk log")
        if abi >= 1:
            self.assertIn("http part confined by Landlock", log)
        else:
            self.assertIn("no Landlock in this kernel", log)
        self.assertEqual(hr.get("/login")[0], 200)
        self.assertTrue(os.path.isdir(os.path.join(self.nodes["HR"],
                                                   "desk-tmp")))

    def test_users_cli(self):
        self.desk_region(["RS", "HR"])
        d = self.nodes["HR"]
        self.add_user("HR", "lia", "liaison")
        mode = stat.S_IMODE(os.stat(os.path.join(d, "desk.db")).st_mode)
        self.assertEqual(mode, 0o600)
        r = self.add_user("HR", "lia", "analyst", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"exists", r.stderr)
        r = self.add_user("HR", "bob", "analyst", password="short", ok=False)
        self.assertIn(b"shorter", r.stderr)
        r = self.add_user("HR", "bob", "pilot", ok=False)
        self.assertEqual(r.returncode, 1)
        r = self.add_user("HR", "bad name", "analyst", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.ewnode("user", "role", "--dir", d, "lia", "--role",
                    "liaison,analyst")
        users = json.loads(self.ewnode("user", "list", "--dir", d,
                                       "--json").stdout)
        self.assertEqual([(u["name"], u["roles"]) for u in users],
                         [("lia", "analyst,liaison")])
        self.ewnode("user", "del", "--dir", d, "lia")
        self.assertEqual(json.loads(self.ewnode(
            "user", "list", "--dir", d, "--json").stdout), [])
        r = self.ewnode("user", "del", "--dir", d, "lia", ok=False)
        self.assertEqual(r.returncode, 1)

    # -- the catalogue of concern and the annual exchange (issue 21) -----

    def catalogue(self, d):
        def got():
            r = self.ewnode("catalogue", "--dir", d, "--json", ok=False)
            return json.loads(r.stdout) if r.returncode == 0 else None
        return wait_for(got, timeout=60, what="catalogue at " + d)

    def test_catalogue_on_submit(self):
        self.setup_region()
        rs, hr = self.rs, self.hr
        cat = self.catalogue(self.nodes["RS"])
        self.catalogue(self.nodes["HR"])
        ana = rs.login("ana")
        tok = rs.csrf(ana)
        st, _, body = rs.get("/submit", ana)
        self.assertEqual(st, 200)
        # the guidance for every area and level, server-rendered, escaped
        self.assertIn('<span id=cat-version>%d</span>' % cat["version"], body)
        for a in cat["areas"]:
            m = re.search(r'<div class=guide id="guide-%s" data-area="%s" '
                          r'data-default="%s">(.*?)</div>'
                          % (a["area"], a["area"], a["default_level"]),
                          body, re.S)
            self.assertIsNotNone(m, a["area"])
            for lv in ("high", "medium", "low"):
                self.assertIn('<dd data-level="%s">%s</dd>'
                              % (lv, html.escape(a[lv])), m.group(1))
        self.assertIn('id=reason name=reason class=short maxlength=500',
                      body)
        # no inline script: the guidance is shown by /static/desk.js
        self.assertNotRegex(body, r"<script(?![^>]*src=)")
        st, _, js = rs.get("/static/desk.js")
        self.assertIn("data-default", js)
        ter = {a["area"]: a for a in cat["areas"]}["terrorism"]
        other = "low" if ter["default_level"] != "low" else "high"
        form = {"csrf": tok, "level": other, "to": "all",
                "category": "terrorism", "title": "Leaflets",
                "body": "Propaganda leaflets found."}
        # a reason longer than the CLI's --reason limit: refused at it
        st, _, body = rs.post("/submit", dict(form, reason="x" * 501), ana)
        self.assertEqual(st, 422)
        self.assertIn('id="err-reason"', body)
        self.assertEqual(self.outbox(self.nodes["RS"]), [])
        # departs from the default without a reason: sent, with the warning
        st, hd, _ = rs.post("/submit", form, ana)
        self.assertEqual(st, 303)
        rid = hd["location"][0].rsplit("/", 1)[1]
        st, _, page = rs.get("/report/" + rid, ana)
        self.assertEqual(st, 200)
        notes = re.search(r"<div class=notice id=notes>(.*?)</div>", page,
                          re.S)
        self.assertIsNotNone(notes)
        text = html.unescape(notes.group(1))
        self.assertIn("%s concern: %s" % (other, ter[other]), text)
        self.assertIn("warning: level %s departs from the catalogue's "
                      "default (%s) for terrorism" % (other,
                                                      ter["default_level"]),
                      text)
        self.assertIn('<li class=error>warning:', notes.group(1))
        # shown once, to the person who sent it
        self.assertNotIn("id=notes", rs.get("/report/" + rid, ana)[2])
        # with a reason: no warning; it travels sealed to the addressee
        why = "old material <b>no</b> group & active"
        st, hd, _ = rs.post("/submit", dict(form, title="Leaflets again",
                                            reason=why), ana)
        self.assertEqual(st, 303)
        rid2 = hd["location"][0].rsplit("/", 1)[1]
        page = rs.get("/report/" + rid2, ana)[2]
        notes = re.search(r"<div class=notice id=notes>(.*?)</div>", page,
                          re.S)
        self.assertIsNotNone(notes)
        self.assertIn("reason given", notes.group(1))
        self.assertNotIn("warning", notes.group(1))
        self.wait_inbox(self.nodes["HR"], rid2)
        self.assertEqual(self.show_json(self.nodes["HR"], rid2)
                         ["level_reason"], why)
        t = self.ewnode("show", "--dir", self.nodes["HR"],
                        rid2).stdout.decode()
        self.assertIn("level reason: " + why, t)
        self.assertEqual(self.show_json(self.nodes["HR"], rid)
                         .get("level_reason", ""), "")

    def xc_return(self, cc, year):
        """This year's return of cc: the sample CSV under year."""
        d = self.nodes[cc]
        out = self.path("%s-%d.json" % (cc, year))
        r = self.ewnode("exchange", "import", "--dir", d,
                        os.path.join(TEST_DATA, "exchange",
                                     "%s-2026.csv" % cc.lower()),
                        "--out", out)
        with open(out) as f:
            doc = json.load(f)
        doc["year"] = year
        doc["date"] = "%d-11-30" % year
        with open(out, "w") as f:
            json.dump(doc, f)
        r = self.ewnode("exchange", "submit", "--dir", d, out, "--to", "all")
        return r.stdout.decode().strip()

    def test_exchange_reminder(self):
        self.desk_region(["RS", "HR"])
        now = datetime.datetime.now(datetime.timezone.utc)
        due = now + datetime.timedelta(days=5)
        for d in self.nodes.values():
            p = os.path.join(d, "ewnode.conf")
            with open(p) as f:
                conf = f.read()
            with open(p, "w") as f:
                f.write(conf.replace("\n[desk]\n", "\nexchange_due = %s\n"
                                     "\n[desk]\n" % due.strftime("%m-%d")))
        self.add_user("RS", "ana", "analyst")
        self.add_user("RS", "rsadmin", "admin")
        self.add_user("RS", "lia", "liaison")
        rs = self.desk_start("RS")
        ana, adm, lia = rs.login("ana"), rs.login("rsadmin"), rs.login("lia")
        banner = r"<div class=notice id=exchange-remind>([^<]*)</div>"

        def remind(cookie, path="/outbox"):
            st, _, body = rs.get(path, cookie)
            self.assertEqual(st, 200)
            m = re.search(banner, body)
            return html.unescape(m.group(1)) if m else None
        cli = self.ewnode("exchange", "remind", "--dir",
                          self.nodes["RS"]).stdout.decode().strip()
        self.assertIn("reminder: annual exchange on security forces", cli)
        # the same text as `ewnode exchange remind`, for analyst and admin
        self.assertEqual(remind(ana), cli)
        self.assertEqual(remind(adm, "/admin"), cli)
        self.assertIn("this node included", cli)
        self.assertIsNone(remind(lia, "/inbox"))
        # RS sends its return: the banner still names HR, not RS
        self.xc_return("RS", now.year)
        t = remind(ana)
        self.assertIsNotNone(t)
        self.assertNotIn("this node included", t)
        self.assertTrue(t.endswith(": HR"), t)
        # HR's arrives: every return is held, the banner is gone
        self.xc_return("HR", now.year)
        wait_for(lambda: remind(ana) is None, timeout=60,
                 what="the reminder banner gone")
        self.assertIsNone(remind(adm, "/admin"))

    def test_https(self):
        self.desk_region(["RS", "HR"])
        d = self.nodes["HR"]
        key, cert = os.path.join(d, "desk.key"), os.path.join(d, "desk.crt")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", key, "-out", cert, "-days",
                            "2", "-subj", "/CN=127.0.0.1"],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("openssl cannot make a certificate: %s"
                          % r.stderr.decode(errors="replace"))
        os.chmod(key, 0o600)
        with open(os.path.join(d, "ewnode.conf"), "a") as f:
            f.write("tls_cert = %s\ntls_key = %s\n" % (cert, key))
        self.add_user("HR", "lia", "liaison")
        hr = self.desk_start("HR")
        self.assertTrue(hr.url.startswith("https://"))
        st, hd, _ = hr.post("/login", {"name": "lia", "password": PASSWORD})
        self.assertEqual(st, 303)
        ck = hd["set-cookie"][0]
        for attr in ("Secure", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attr, ck)
        self.assertTrue(ck.startswith("__Host-"))
        self.assertIn("strict-transport-security", hd)
        self.assertEqual(hr.get("/inbox", ck.split(";")[0])[0], 200)
        # plain HTTP to the TLS port gets nothing
        plain = Desk(hr.url.replace("https://", "http://"))
        with self.assertRaises(Exception):
            st, _, body = plain.get("/login")
            if st == 200 and "password" in body:
                raise AssertionError("served without TLS")
            raise OSError("refused")


if __name__ == "__main__":
    node_main()
