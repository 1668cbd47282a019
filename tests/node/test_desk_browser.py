"""The desk in a real browser (issue 23): headless Chromium driven by
Selenium, a real hub and two real nodes.  An analyst at RS signs in and
submits a high report through the form; a liaison officer at HR sees it
appear without reloading, with the banner (and the alert sound fetched),
and acknowledges it; the analyst's outbox at RS shows "acknowledged by
<that person>" and the time.

With EWH_DESK_SCREENSHOTS=DIR it also saves the screenshots shown in
docs/usage.md (inbox with a high alert, report page, submit form)."""

import os
import unittest

from desktest import DeskCase, browser_login, browser_missing, chromium
from ewhtest import node_main, wait_for

MISSING = browser_missing()


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
        wait_for(lambda: b_hr.find_elements(By.ID, "reports"),
                 what="HR inbox")
        self.assertFalse(b_hr.find_elements(By.CSS_SELECTOR,
                                            ".banner[data-alert]"))
        b_hr.execute_script("window.__noReload = 'still here';")

        # RS's analyst submits through the form
        b_rs = self.browser()
        browser_login(b_rs, rs, "ana")
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
        self.shot(b_rs, "desk-submit.png")
        b_rs.find_element(By.ID, "send").click()
        rid = wait_for(lambda: b_rs.find_elements(By.ID, "rid"),
                       what="report page at RS")[0].text
        self.assertRegex(rid, r"^[0-9a-f]{32}$")

        # HR: the report appears without a reload, high, with the banner
        row = wait_for(lambda: b_hr.find_elements(
            By.CSS_SELECTOR, "#reports tr[data-id='%s']" % rid),
            timeout=60, what="report in HR's open inbox")[0]
        self.assertIn("Armed group massing", row.text)
        self.assertIn("high", row.get_attribute("class"))
        banner = wait_for(lambda: b_hr.find_elements(
            By.CSS_SELECTOR, ".banner[data-alert]"), what="banner")[0]
        self.assertIn("Armed group massing", banner.text)
        self.assertEqual(b_hr.execute_script("return window.__noReload;"),
                         "still here")
        # the alert sound was fetched and is playing
        wait_for(lambda: b_hr.execute_script(
            "return performance.getEntriesByType('resource').some("
            "function (e) { return e.name.endsWith('/static/alert.wav'); });"),
            what="alert sound fetched")
        self.shot(b_hr, "desk-inbox-alert.png")

        # acknowledge from the report page
        row.find_element(By.TAG_NAME, "a").click()
        wait_for(lambda: b_hr.find_elements(By.ID, "ack"), what="ack button")
        self.assertIn("Seen at 05:00", b_hr.find_element(By.ID, "body").text)
        self.shot(b_hr, "desk-report.png")
        b_hr.find_element(By.ID, "ack").click()
        state = wait_for(lambda: [e for e in b_hr.find_elements(
            By.ID, "ack-state") if "acknowledged by" in e.text],
            what="acknowledged at HR")[0]
        self.assertIn("acknowledged by lia", state.text)
        self.assertFalse(b_hr.find_elements(By.CSS_SELECTOR,
                                            ".banner[data-alert]"))

        # RS: the outbox says who acknowledged and when
        b_rs.get(rs.url + "/outbox")

        def acked():
            for li in b_rs.find_elements(
                    By.CSS_SELECTOR, "tr[data-id='%s'] li[data-cc=HR]" % rid):
                if "acknowledged by lia" in li.text:
                    return li.text
            return None
        text = wait_for(acked, timeout=60, what="acknowledged by lia at RS")
        self.assertRegex(text, r"HR: acknowledged by lia at "
                               r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        # BG was not addressed: nothing reached its inbox
        self.assertEqual(self.inbox(self.nodes["BG"]), [])


if __name__ == "__main__":
    node_main()
