"""gsweb: what the browser tests share.

Real processes on loopback: a city hub (`gridhub serve` on an ipc:// socket in
a temporary directory) with the real Luohe divisions, villages and incident
categories; village nodes made from the bundles the city writes; a real
`gridnode web --port 0 --no-browser` per village desk; and headless Chromium
from Debian (chromium + chromium-driver, driven by python3-selenium) looking
at the pages as a clerk would. Every scenario saves screenshots into the
shots folder (docs/ takes a few of them by hand).

Run a scenario file directly:  python3 tests/browser/test_desk.py --bin build
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def need_browser():
    """The browser and its driver, or a clear refusal. Outside CI a missing
    browser skips (exit 77, ctest's SKIP_RETURN_CODE); in CI it fails."""
    missing = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.exists(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    if missing:
        msg = "browser tests need %s (Debian chromium chromium-driver python3-selenium " \
              "fonts-noto-cjk; scripts/deps.sh installs them)" % ", ".join(missing)
        if os.environ.get("CI") == "true":
            sys.exit("FAILED: " + msg)
        print("SKIPPED: " + msg)
        sys.exit(77)


class Env:
    """A hub and village desks in one temporary directory; everything it
    started is killed when it is closed."""

    def __init__(self, bindir, shots):
        self.bindir = os.path.abspath(bindir)
        self.hub_bin = os.path.join(self.bindir, "gridhub")
        self.node_bin = os.path.join(self.bindir, "gridnode")
        self.dir = tempfile.mkdtemp(prefix="gs-browser-")
        self.shots = os.path.abspath(shots)
        os.makedirs(self.shots, exist_ok=True)
        self.endpoint = "ipc://%s/hub.sock" % self.dir
        self.procs = []
        self.hub_proc = None
        self.driver = None
        self.base = None

    # ---- the command line -------------------------------------------------
    def run(self, args, input=None, check=True):
        r = subprocess.run(args, cwd=self.dir, input=input, capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("%s: exit %d: %s%s" % (" ".join(args), r.returncode, r.stdout,
                                                        r.stderr))
        return r.stdout.strip()

    def hub(self, *args, check=True):
        return self.run([self.hub_bin, "--db", os.path.join(self.dir, "hub.db")] + list(args),
                        check=check)

    def node(self, village, *args, check=True):
        return self.run([self.node_bin, "--db", self.node_db(village)] + list(args), check=check)

    def node_db(self, village):
        return os.path.join(self.dir, "%s.db" % village)

    def make_city(self):
        """The city's hub with the real Luohe reference data."""
        self.hub("init")
        data = os.path.join(SRC, "data")
        self.hub("refdata", "load", "divisions", os.path.join(data, "luohe_divisions.csv"))
        self.hub("refdata", "load", "categories", os.path.join(data, "incident_categories.csv"))
        self.hub("refdata", "load", "divisions", os.path.join(data, "luohe_villages.csv"))

    def make_village(self, village, name):
        bundle = os.path.join(self.dir, "%s.bundle" % village)
        self.hub("node", "add", "--village", village, "--name", name, "--endpoint", self.endpoint,
                 "--out", bundle)
        self.node(village, "init", "--bundle", bundle)
        os.unlink(bundle)

    def start_hub(self):
        log = open(os.path.join(self.dir, "hub.log"), "ab")
        self.hub_proc = subprocess.Popen(
            [self.hub_bin, "--db", os.path.join(self.dir, "hub.db"), "serve", "--bind",
             self.endpoint], cwd=self.dir, stdout=log, stderr=log)
        self.procs.append(self.hub_proc)
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(self.dir, "hub.sock")):
            if time.time() > deadline or self.hub_proc.poll() is not None:
                raise AssertionError("gridhub serve did not start: see %s/hub.log" % self.dir)
            time.sleep(0.05)

    def start_desk(self, village):
        """Starts `gridnode web` for village and returns its base URL."""
        p = subprocess.Popen([self.node_bin, "--db", self.node_db(village), "web", "--port", "0",
                              "--no-browser"], cwd=self.dir, stdout=subprocess.PIPE,
                             stderr=open(os.path.join(self.dir, "web-%s.log" % village), "ab"),
                             text=True)
        self.procs.append(p)
        deadline = time.time() + 15
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            m = re.search(r"serving (http://[0-9.:]+)/", line)
            if m:
                self.base = m.group(1)
                return self.base
        raise AssertionError("gridnode web did not say where it serves (see web-%s.log)" % village)

    def start_city_web(self):
        """Starts `gridhub web --bind 127.0.0.1:0` beside the hub and returns
        its base URL (also self.base)."""
        p = subprocess.Popen([self.hub_bin, "--db", os.path.join(self.dir, "hub.db"), "web",
                              "--bind", "127.0.0.1:0", "--endpoint", self.endpoint],
                             cwd=self.dir, stdout=subprocess.PIPE,
                             stderr=open(os.path.join(self.dir, "city-web.log"), "ab"), text=True)
        self.procs.append(p)
        deadline = time.time() + 15
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            m = re.search(r"gridhub web: serving (http://[0-9.:]+)/", line)
            if m:
                self.base = m.group(1)
                return self.base
        raise AssertionError("gridhub web did not say where it serves (see city-web.log)")

    def city_user(self, login, name, role, division=None, password=None):
        """Adds a person of gridhub web (with a password when given)."""
        args = ["user", "add", "--name", name, "--login", login, "--role", role]
        if division:
            args += ["--division", division]
        self.hub(*args)
        if password:
            self.run([self.hub_bin, "--db", os.path.join(self.dir, "hub.db"), "user", "passwd",
                      login], input=password + "\n")

    # ---- the browser --------------------------------------------------------
    def browser(self, width=1366, height=900):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--lang=zh-CN", "--window-size=%d,%d" % (width, height),
                  "--no-first-run", "--disable-extensions", "--proxy-server=direct://",
                  "--proxy-bypass-list=*"):
            o.add_argument(a)
        o.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.driver.set_page_load_timeout(30)
        return self.driver

    def go(self, path):
        self.driver.get(self.base + path)
        return self.driver

    def shot(self, name, full=True):
        """Saves a screenshot NAME.png of the whole page (not just the window)."""
        d = self.driver
        path = os.path.join(self.shots, name + ".png")
        if full:
            h = d.execute_script("return Math.max(document.body.scrollHeight,"
                                 " document.documentElement.scrollHeight)")
            w = d.get_window_size()["width"]
            d.set_window_size(w, min(max(int(h) + 120, 600), 6000))
        d.save_screenshot(path)
        if full:
            d.set_window_size(w, 900)
        return path

    def follow(self, el, secs=20):
        """Clicks el (a link or a form's button) and waits until the browser
        has left the page and the next one is loaded, so that what is read
        next is the new page, not the old one nor a page half loaded.

        The old page is marked with a property on its window; a new document
        has a new window object without it. (Waiting for an element of the
        old page to go stale is not enough: some chromedriver versions answer
        the staleness check of a node from a replaced document with a
        generic error rather than a stale-element one.)"""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait
        d = self.driver
        d.execute_script("window.__gsOld = 1;")
        el.click()

        def loaded(drv):
            try:
                return drv.execute_script(
                    "return window.__gsOld === undefined &&"
                    " document.readyState === 'complete';")
            except WebDriverException:
                return False   # between the documents: try again
        WebDriverWait(d, secs).until(loaded)

    def text(self):
        return self.driver.find_element("tag name", "body").text

    def close(self):
        if self.driver:
            try:
                self.driver.quit()
            except Exception:
                pass
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("GS_KEEP_TMP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(scenarios):
    """Runs the scenarios (functions taking an Env) given on the command line
    (all by default); each gets a fresh hub and desks. Exit 0 when all pass."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(SRC, "build"))
    ap.add_argument("--shots", default=None)
    ap.add_argument("only", nargs="*")
    a = ap.parse_args()
    need_browser()
    shots = a.shots or os.path.join(a.bin, "screenshots")
    failed = 0
    for fn in scenarios:
        if a.only and fn.__name__ not in a.only:
            continue
        env = Env(a.bin, shots)
        t = time.time()
        try:
            fn(env)
            print("PASS %s (%.1f s)" % (fn.__name__, time.time() - t))
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
            if env.driver:
                try:
                    env.shot("FAILED-" + fn.__name__, full=False)
                except Exception:
                    pass
        finally:
            env.close()
    sys.exit(1 if failed else 0)
