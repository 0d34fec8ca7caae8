#!/usr/bin/env python3
"""html_browser_test.py - the HTML report in headless Chromium.

Builds a small alliance from contrib/examples through the CLI, writes
`agora report --format html`, and checks that:
  * every <svg> chart parses as XML, and the expected charts are there;
  * the file references nothing outside itself (no scripts, links, URLs);
  * Chromium loads it with no console error, no exception and no network
    request: Chromium is driven over the DevTools protocol
    (--remote-debugging-pipe), every Network.requestWillBeSent other than
    the page itself counts as a request, every Log/console error or
    exception as an error;
  * a screenshot is not blank (the PNG is decoded with zlib, no PIL).
The checker is proven by negative controls: a page that loads an external
image must fail it (a request without CSP, a CSP console error with it),
and a blank page must fail the screenshot check.

Exit 77 (ctest SKIP) only when chromium is not installed.
Usage: html_browser_test.py AGORA_BINARY
"""
import base64
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

AGORA = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "contrib", "examples")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    print("chromium is not installed: skipping (apt-get install chromium)")
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix="agora-html-test.")
FAILS = []

def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)

def agora(home, *args):
    p = subprocess.run([AGORA, "--home", home] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("FAIL: agora %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
    return p

# ---------------------------------------------------------------- browser

class Browser:
    """Headless Chromium over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="chromium.", dir=TMP)
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        def child():
            # Move both ends above 4 first: os.pipe() may have returned 3 or
            # 4 itself, and dup2 onto the same fd would keep close-on-exec.
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--disable-default-apps",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=child)
        os.close(cmd_r)
        os.close(out_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            r, _, _ = select.select([self.out_r], [], [], left)
            if r:
                chunk = os.read(self.out_r, 1 << 20)
                if not chunk:
                    raise EOFError("chromium closed the pipe")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        m = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        os.write(self.cmd_w, json.dumps(m).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, name, session, timeout=60):
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == name and e.get("sessionId") == session:
                return e
        while True:
            msg = self._read(deadline)
            self.events.append(msg)
            if msg.get("method") == name and msg.get("sessionId") == session:
                return msg

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.out_r)

def load(browser, path, width=1200, height=1600):
    """Open a file; return (requests, errors, svg_count, png bytes)."""
    url = "file://" + path
    tid = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = browser.call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
    for dom in ("Network", "Log", "Runtime", "Page"):
        browser.call(dom + ".enable", session=sid)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                 session=sid)
    first = len(browser.events)
    browser.call("Page.navigate", {"url": url}, session=sid)
    browser.wait_event("Page.loadEventFired", sid)
    # Every request and message of the load has been sent before the load
    # event; one round trip more flushes events queued behind it.
    svgs = browser.call("Runtime.evaluate", {
        "expression": "Array.from(document.querySelectorAll('svg')).filter("
                      "s => s.getBBox().width > 0).length",
        "returnByValue": True}, session=sid)["result"].get("value", 0)
    png = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"},
                                        session=sid)["data"])
    requests, errors = [], []
    for e in browser.events[first:]:
        if e.get("sessionId") != sid:
            continue
        m, p = e.get("method"), e.get("params", {})
        if m == "Network.requestWillBeSent" and p["request"]["url"] != url:
            requests.append(p["request"]["url"])
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"].get("text", ""))
        elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            errors.append(str(p.get("args")))
        elif m == "Runtime.exceptionThrown":
            errors.append(str(p["exceptionDetails"].get("text")))
    browser.call("Target.closeTarget", {"targetId": tid})
    return requests, errors, svgs, png

# ---------------------------------------------------------------- PNG

def png_colours(data, limit=4096):
    """Distinct RGB colours (up to limit) and the share of non-white pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours, nonwhite, total = set(), 0, 0
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 4:
            continue
        for x in range(0, w, 2):
            px = bytes(line[x * bpp:x * bpp + 3])
            total += 1
            if px != b"\xff\xff\xff":
                nonwhite += 1
            if len(colours) < limit:
                colours.add(px)
    return len(colours), nonwhite / max(total, 1)

def page_ok(requests, errors, svgs, png, want_svgs):
    colours, ink = png_colours(png)
    return (not requests and not errors and svgs >= want_svgs and colours > 16 and ink > 0.02,
            colours, ink)

# ---------------------------------------------------------------- data

home_a = os.path.join(TMP, "assens")
home_b = os.path.join(TMP, "samsoe")
agora(home_a, "init", "--name", "Assens Kommune", "--country", "DK", "--alliance", "DK2020 klimaalliance")
agora(home_a, "publish", "--file", os.path.join(EXAMPLES, "assens.jsonl"))
charter = os.path.join(TMP, "charter.agb")
agora(home_b, "init", "--name", "Samsø Kommune", "--country", "DK")
key_b = [l.split()[2] for l in agora(home_b, "whoami").stdout.splitlines()
         if l.startswith("public key")][0]
agora(home_a, "alliance", "admit", key_b, "--name", "Samsø Kommune", "--country", "DK")
agora(home_a, "bundle", "create", charter)
agora(home_b, "bundle", "import", charter)
agora(home_b, "alliance", "use", "DK2020 klimaalliance")
agora(home_b, "publish", "--file", os.path.join(EXAMPLES, "samsoe.jsonl"))
agora(home_b, "bundle", "create", os.path.join(TMP, "b.agb"))
agora(home_a, "bundle", "import", os.path.join(TMP, "b.agb"))

report = os.path.join(TMP, "report.html")
agora(home_a, "report", "--format", "html", "-o", report, "--lang", "da", "--explain")
html = open(report, encoding="utf-8").read()

# ---------------------------------------------------------------- static checks

svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
check(len(svgs) == 2 + 2, "4 charts (status, sectors, 2 trajectories): %d" % len(svgs))
for i, s in enumerate(svgs):
    try:
        root = ET.fromstring(s)
        check(root.tag == "{http://www.w3.org/2000/svg}svg", "svg %d namespace" % i)
        check(len(list(root.iter())) > 10, "svg %d has content" % i)
    except ET.ParseError as e:
        check(False, "svg %d does not parse: %s" % (i, e))
check('<html lang="da">' in html, "report labels in Danish")
check(re.search(r'<td lang="da">Mindst 70 %', html) is not None, "record text keeps its language")
check("@media print" in html, "print CSS")
check("Content-Security-Policy" in html, "CSP meta tag")
for bad in ("<script", "<link", "<iframe", "<img", "@import", "url(", "src=", "<object"):
    check(bad not in html.lower(), "no %s in the report" % bad)
urls = set(re.findall(r"(?:https?|ftp)://[^\s\"'<>]+", html)) - {"http://www.w3.org/2000/svg"}
check(not urls, "no URL other than the SVG namespace: %s" % urls)

# ---------------------------------------------------------------- browser

neg_dir = os.path.join(TMP, "neg")
os.makedirs(neg_dir)
ext = os.path.join(neg_dir, "external.html")
with open(ext, "w") as f:
    f.write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
            '<body><h1>external</h1><img src="http://127.0.0.1:9/pixel.png" alt=""></body></html>')
ext_csp = os.path.join(neg_dir, "external-csp.html")
with open(ext_csp, "w") as f:
    f.write(html.replace("</body>", '<img src="http://127.0.0.1:9/pixel.png" alt=""></body>'))
blank = os.path.join(neg_dir, "blank.html")
with open(blank, "w") as f:
    f.write('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>b</title></head>'
            '<body></body></html>')

b = Browser()
try:
    req, err, nsvg, png = load(b, report)
    ok, colours, ink = page_ok(req, err, nsvg, png, 4)
    check(not req, "network requests: %s" % req)
    check(not err, "console errors: %s" % err)
    check(nsvg == 4, "rendered SVG charts with a size: %d" % nsvg)
    check(colours > 16 and ink > 0.02, "screenshot not blank (%d colours, %.1f%% ink)" % (colours, ink * 100))
    with open(os.path.join(TMP, "shot.png"), "wb") as f:
        f.write(png)

    # Negative controls: the checker must catch what it claims to catch.
    r1, e1, s1, p1 = load(b, ext)
    check(any("127.0.0.1:9" in u for u in r1), "control: external image is seen as a request: %s" % r1)
    check(not page_ok(r1, e1, s1, p1, 0)[0], "control: external image page fails the check")
    r2, e2, s2, p2 = load(b, ext_csp)
    check(e2 or r2, "control: external image under CSP is reported (%s / %s)" % (r2, e2))
    check(not page_ok(r2, e2, s2, p2, 4)[0], "control: CSP-blocked image fails the check")
    r3, e3, s3, p3 = load(b, blank)
    check(not page_ok(r3, e3, s3, p3, 0)[0], "control: blank page fails the screenshot check")
finally:
    b.close()

if FAILS:
    print("%d check(s) failed; files in %s" % (len(FAILS), TMP))
    sys.exit(1)
shutil.rmtree(TMP, ignore_errors=True)
print("html_browser_test: all checks passed")
