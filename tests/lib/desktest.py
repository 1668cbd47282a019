"""desktest — helpers for the desk's tests (issue 23): a plain http.client
client for the web console, a region of real nodes each with a desk, and
a headless Chromium driven by Selenium (Debian's chromium, chromium-driver
and python3-selenium)."""

import http.client
import os
import re
import shutil
import ssl
import tempfile
import urllib.parse

from ewhtest import EWNODE, NodeCase, wait_for

PASSWORD = "correct horse battery"


class Desk:
    """One desk's base URL, and requests to it with http.client."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.url = url.rstrip("/")
        self.tls = u.scheme == "https"
        self.host, self.port = u.hostname, u.port

    def conn(self):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=60, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def req(self, method, path, form=None, cookie=None, headers=None):
        """Return (status, headers as a dict of lists, body text)."""
        h = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if cookie:
            h["Cookie"] = cookie
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            hd = {}
            for k, v in r.getheaders():
                hd.setdefault(k.lower(), []).append(v)
            return r.status, hd, data
        finally:
            c.close()

    def get(self, path, cookie=None):
        return self.req("GET", path, cookie=cookie)

    def post(self, path, form, cookie=None):
        return self.req("POST", path, form=form, cookie=cookie)

    def login(self, name, password=PASSWORD):
        """Sign in; return the cookie header value ('name=token')."""
        st, hd, body = self.post("/login", {"name": name,
                                            "password": password})
        if st != 303:
            raise AssertionError("sign-in of %s: %d %s" % (name, st,
                                                           body[:300]))
        ck = hd["set-cookie"][0]
        return ck.split(";", 1)[0]

    def csrf(self, cookie, path="/peers"):
        st, _, body = self.get(path, cookie)
        m = re.search(r'name=csrf value="([^"]+)"', body)
        if not m:
            raise AssertionError("no CSRF token on %s (%d)" % (path, st))
        return m.group(1)


class DeskCase(NodeCase):
    """A real hub, real nodes with agents, and a desk per node."""

    def desk_region(self, countries, desk_conf=None):
        self.nodes = self.region(countries)
        for d in self.nodes.values():
            self.agent_start(d)
        for d in self.nodes.values():
            self.wait_ready(d)
        self.desks = {}
        for cc, d in self.nodes.items():
            conf = (desk_conf or {}).get(cc, "")
            with open(os.path.join(d, "ewnode.conf"), "a") as f:
                f.write("\n[desk]\n" + conf)
        return self.nodes

    def add_user(self, cc, name, roles, password=PASSWORD, ok=True):
        pw = self.path("pw-%s-%s" % (cc, name))
        with open(pw, "w") as f:
            f.write(password + "\n")
        return self.ewnode("user", "add", "--dir", self.nodes[cc], name,
                           "--role", roles, "--password-file", pw, ok=ok)

    def desk_start(self, cc, listen="127.0.0.1:0"):
        d = self.nodes[cc]
        url_file = os.path.join(d, "desk.url")
        if os.path.exists(url_file):
            os.unlink(url_file)
        p = self.start([EWNODE, "desk", "--dir", d, "--listen", listen],
                       "desk-" + cc)

        def url():
            if not p.alive():
                raise AssertionError("desk %s exited:\n%s" % (cc,
                                                              p.logtext()))
            try:
                with open(url_file) as f:
                    return f.read().strip() or None
            except OSError:
                return None
        desk = Desk(wait_for(url, timeout=60, what="desk.url of " + cc))
        desk.proc = p
        self.desks[cc] = desk
        return desk


# ---- a real browser ------------------------------------------------------

def browser_missing():
    """None when headless Chromium and its driver can run here, else the
    reason they cannot."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed (deploy/setup installs it)"
    for b in ("chromium", "chromedriver"):
        if shutil.which(b) is None:
            return "%s is not installed (deploy/setup installs it)" % b
    return None


def chromium(tmpdir, width=1280, height=900):
    """A fresh headless Chromium (its own profile dir under tmpdir)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmpdir)
    for a in ("--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required",
              "--user-data-dir=" + profile,
              "--window-size=%d,%d" % (width, height)):
        opts.add_argument(a)
    service = Service(executable_path=shutil.which("chromedriver"),
                      log_path=os.path.join(tmpdir, "chromedriver.log"))
    return webdriver.Chrome(options=opts, service=service)


def browser_login(drv, desk, name, password=PASSWORD):
    from selenium.webdriver.common.by import By

    drv.get(desk.url + "/login")
    drv.find_element(By.ID, "name").send_keys(name)
    drv.find_element(By.ID, "password").send_keys(password)
    drv.find_element(By.ID, "signin").click()
    wait_for(lambda: drv.find_elements(By.ID, "me"), timeout=60,
             what="signed in as " + name)
