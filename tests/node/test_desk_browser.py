"""The desk in a real browser (issue 23): headless Chromium driven by
Selenium, a real hub and two real nodes.  An analyst at RS signs in and
submits a high report through the form; a liaison officer at HR sees it
appear without reloading, with the banner (and the alert sound fetched),
and acknowledges it; the analyst's outbox at RS shows "acknowledged by
<that person>" and the time.

With EWH_DESK_SCREENSHOTS=DIR it also saves the screenshots shown in
docs/usage.md (inbox with a high alert, report page, submit form)."""

import json
import os
import sys
import unittest

from desktest import DeskCase, browser_login, browser_missing, chromium
from ewhtest import node_main, wait_for

MISSING = browser_missing()


def texts(drv, sel):
    """The text of every element matching sel, read in one script: live
    updates and navigations replace elements, so handles go stale."""
    try:
        return drv.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".map(function (e) { return e.textContent; });", sel)
    except Exception:  # the page is being replaced
        return []


@unittest.skipIf(MISSING, "no browser: %s" % MISSING)
class DeskBrowserTest(DeskCase):

    def setUp(self):
        super().setUp()
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        super().tearDown()

    def browser(self):
        d = chromium(self.tmp)
        self.drivers.append(d)
        return d

    def shot(self, drv, name):
        out = os.environ.get("EWH_DESK_SCREENSHOTS")
        if out:
            os.makedirs(out, exist_ok=True)
            drv.save_screenshot(os.path.join(out, name))

    def test_submit_alert_ack(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        self.desk_region(["RS", "HR", "BG"])
        self.add_user("RS", "ana", "analyst")
        self.add_user("HR", "lia", "liaison")
        rs, hr = self.desk_start("RS"), self.desk_start("HR")

        # HR's liaison officer has the inbox open, before anything comes
        b_hr = self.browser()
        browser_login(b_hr, hr, "lia")
        b_hr.get(hr.url + "/inbox")
        wait_for(lambda: b_hr.find_elements(By.ID, "reports"), timeout=60,
                 what="HR inbox")
        self.assertFalse(b_hr.find_elements(By.CSS_SELECTOR,
                                            ".banner[data-alert]"))
        b_hr.execute_script("window.__noReload = 'still here';")

        # RS's analyst submits through the form
        b_rs = self.browser()
        browser_login(b_rs, rs, "ana")
        def catalogue():
            r = self.ewnode("catalogue", "--dir", self.nodes["RS"], "--json",
                            ok=False)
            return json.loads(r.stdout) if r.returncode == 0 else None
        cat = wait_for(catalogue, timeout=60, what="catalogue at RS")
        bs_default = {a["area"]: a for a in cat["areas"]}[
            "border-security"]["default_level"]
        b_rs.get(rs.url + "/submit")
        Select(b_rs.find_element(By.ID, "level")).select_by_visible_text(
            "high")
        b_rs.find_element(By.ID, "to-chosen").click()
        b_rs.find_element(By.CSS_SELECTOR,
                          "input[name=cc][value=HR]").click()
        Select(b_rs.find_element(By.ID, "category")).select_by_visible_text(
            "border-security")
        b_rs.find_element(By.ID, "title").send_keys(
            "Armed group massing at the Batrovci crossing")
        b_rs.find_element(By.ID, "body").send_keys(
            "Seen at 05:00 by the border police.\nAbout 40 people, two "
            "trucks.")
        Select(b_rs.find_element(By.ID, "tlp")).select_by_visible_text("red")
        b_rs.find_element(By.ID, "expires").send_keys("12h")
        # the catalogue's guidance: only the chosen area's shows, the
        # chosen level marked; a hint while the level departs from the
        # area's default with no reason (desk.js)
        self.assertTrue(b_rs.find_element(
            By.ID, "guide-border-security").is_displayed())
        self.assertFalse(b_rs.find_element(By.ID,
                                           "guide-cyber").is_displayed())
        self.assertIn("chosen", b_rs.find_element(
            By.CSS_SELECTOR, "#guide-border-security dd[data-level=high]"
        ).get_attribute("class"))
        hint = b_rs.find_element(By.ID, "departs")
        self.assertEqual(hint.is_displayed(),
                         bs_default != "high")
        if bs_default != "high":
            self.assertIn("departs from the catalogue's default",
                          hint.text)
            b_rs.find_element(By.ID, "reason").send_keys(
                "Armed, and at a crossing")
            self.assertFalse(hint.is_displayed())
        if os.environ.get("EWH_DESK_SCREENSHOTS"):
            b_rs.set_window_size(1280, 1500)
            b_rs.execute_script("window.scrollTo(0, 0);")
        self.shot(b_rs, "desk-submit.png")
        b_rs.find_element(By.ID, "send").click()
        rid = wait_for(lambda: b_rs.find_elements(By.ID, "rid"), timeout=60,
                       what="report page at RS")[0].text
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        # the notes of the submit (catalogue guidance) on its page
        notes = b_rs.find_element(By.ID, "notes").text
        self.assertIn("high concern", notes)
        if bs_default != "high":
            self.assertIn("reason given", notes)

        # HR: the report appears without a reload, high, with the banner
        sel = "#reports tr[data-id='%s']" % rid
        wait_for(lambda: b_hr.find_elements(By.CSS_SELECTOR, sel),
                 timeout=60, what="report in HR's open inbox")
        text, cls = b_hr.execute_script(
            "var r = document.querySelector(arguments[0]);"
            "return [r.textContent, r.className];", sel)
        self.assertIn("Armed group massing", text)
        self.assertEqual(cls, "high")
        banner = wait_for(lambda: b_hr.execute_script(
            "var b = document.querySelector('.banner[data-alert]');"
            "return b ? b.textContent : null;"), timeout=60, what="banner")
        self.assertIn("Armed group massing", banner)
        self.assertEqual(b_hr.execute_script("return window.__noReload;"),
                         "still here")
        # the alert sound was fetched and is playing
        wait_for(lambda: b_hr.execute_script(
            "return performance.getEntriesByType('resource').some("
            "function (e) { return e.name.endsWith('/static/alert.wav'); });"),
            timeout=60, what="alert sound fetched")
        self.shot(b_hr, "desk-inbox-alert.png")

        # acknowledge from the report page
        b_hr.get(hr.url + "/report/" + rid)
        wait_for(lambda: b_hr.find_elements(By.ID, "ack"), timeout=60,
                 what="ack button")
        self.assertIn("Seen at 05:00", b_hr.find_element(By.ID, "body").text)
        if os.environ.get("EWH_DESK_SCREENSHOTS"):
            b_hr.set_window_size(1280, 1150)
        self.shot(b_hr, "desk-report.png")
        b_hr.find_element(By.ID, "ack").click()
        state = wait_for(lambda: [t for t in texts(b_hr, "#ack-state")
                                  if "acknowledged by" in t],
                         timeout=60, what="acknowledged at HR")[0]
        self.assertIn("acknowledged by lia", state)
        self.assertEqual(texts(b_hr, ".banner[data-alert]"), [])

        # RS: the outbox says who acknowledged and when
        b_rs.get(rs.url + "/outbox")

        def acked():
            # the live outbox replaces its rows: read them in one script
            for t in texts(b_rs, "tr[data-id='%s'] li[data-cc=HR]" % rid):
                if "acknowledged by lia" in t:
                    return t
            return None
        # The outbox updates live; the issue asks only that it shows who
        # acknowledged and when, so after 30 s without a live update the
        # page is loaded again (said on stderr: a live update missed is
        # worth a look, a receipt that never came still fails here).
        try:
            text = wait_for(acked, timeout=30, what="acknowledged by lia at "
                            "RS (live)")
        except AssertionError:
            sys.stderr.write("RS outbox: no live update in 30 s; reloading\n")
            b_rs.get(rs.url + "/outbox")
            text = wait_for(acked, timeout=60, what="acknowledged by lia at RS")
        self.assertRegex(text, r"HR: acknowledged by lia at "
                               r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        # BG was not addressed: nothing reached its inbox
        self.assertEqual(self.inbox(self.nodes["BG"]), [])


if __name__ == "__main__":
    node_main()
