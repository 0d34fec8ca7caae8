"""webtest.py - helpers for the tests of `agora web` (imported, not run).

make_store(agora, dir): the example data of three DK2020 municipalities in
dir/assens (make_store.sh), plus hostile records (titles, texts, tags and a
municipality name that are HTML: <script>, <img onerror>) handed over from a
fourth member, so that every page has hostile text to show.

Web(agora, home): `agora web --port 0` running on that home; its URL and
token are read from the line it prints (awaited, not slept for); .get()
and .post() speak HTTP with urllib, without following redirects.

check(cond, what) records a failed check; finish() ends the test with
exit 1 if any failed.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
HOSTILE_TOWN = "<script>alert(5)</script> Kommune"
HOSTILE_ADMIT = "<img src=x onerror=alert(6)>"
# What must never appear raw in a page: a tag a browser would run or load.
RAW = ["<script>alert", "<img src=x", "onerror=alert(2)>", "<b>tag</b>"]


FAILS = []


def check(cond, what):
    """Record a failed check (the test goes on, to report every one)."""
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def finish(ok_line="ok"):
    """Exit 1 if any check failed, else print ok_line."""
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        raise SystemExit(1)
    print(ok_line)


def run(agora, home, *args, check=True):
    p = subprocess.run([agora, "--home", home] + list(args), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit("FAIL: agora %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
    return p


def key(agora, home):
    return json.loads(run(agora, home, "whoami", "--json").stdout)["key"]


def member_status(agora, home, key):
    """The status `agora alliance members --json` gives key (a list: one
    entry per alliance it is in)."""
    members = json.loads(run(agora, home, "alliance", "members", "--json").stdout)
    return [m["status"] for m in members if m["key"] == key]


def join(agora, home, town, code, public_address):
    """A new node for town beside home (agora init) that runs agora join
    with an invite code; returns its home and the finished join."""
    joinhome = os.path.join(os.path.dirname(home), town.split()[0].lower())
    run(agora, joinhome, "init", "--name", town, "--country", "DK")
    return joinhome, run(agora, joinhome, "join", code, "--public-address", public_address,
                         check=False)


def make_store(agora, tmp):
    subprocess.run(["bash", os.path.join(HERE, "make_store.sh"), agora, tmp], check=True)
    home = os.path.join(tmp, "assens")
    evil = os.path.join(tmp, "evil")
    run(agora, evil, "init", "--name", HOSTILE_TOWN, "--country", "DK")
    run(agora, home, "alliance", "admit", key(agora, evil), "--name", HOSTILE_ADMIT,
        "--country", "DK")
    run(agora, home, "bundle", "create", os.path.join(tmp, "gov2.agb"))
    run(agora, evil, "bundle", "import", os.path.join(tmp, "gov2.agb"))
    run(agora, evil, "alliance", "use", "DK2020 klimaalliance")
    run(agora, evil, "publish", "profile", "--name", HOSTILE_TOWN, "--country", "DK")
    ids = {}
    ids["evil_measure"] = run(agora, evil, "publish", "measure", "--title", IMG,
                              "--summary", '"><script>alert(3)</script>', "--language", "en",
                              "--tags", "<b>tag</b>", "--status", "ongoing",
                              "--mitigation").stdout.strip()
    run(agora, evil, "bundle", "create", os.path.join(tmp, "evil.agb"))
    run(agora, home, "bundle", "import", os.path.join(tmp, "evil.agb"))
    # One of the node's own records is hostile too: the amend form shows it.
    ids["own_lesson"] = run(agora, home, "publish", "lesson", "--title", SCRIPT,
                            "--context", IMG + " scriptcontext", "--language", "en",
                            "--tags", "<b>tag</b>").stdout.strip()
    ids["evil_key"] = key(agora, evil)
    return home, ids


class Web:
    def __init__(self, agora, home, *extra):
        self.proc = subprocess.Popen([agora, "--home", home, "web", "--port", "0"] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()      # blocks until it listens (or exits)
        m = re.search(r"http://([^/ ]+)/\?token=([0-9a-f]{64})", line)
        if not m:
            self.proc.kill()
            raise SystemExit("FAIL: agora web printed no URL: %r %s" % (line, self.proc.stderr.read()))
        self.hostport, self.token = m.group(1), m.group(2)
        self.base = "http://" + self.hostport
        self.url = "%s/?token=%s" % (self.base, self.token)
        self.cookie = "agora_token=" + self.token

    def request(self, method, path, body=None, headers=None, cookie=True):
        h = dict(headers or {})
        if cookie and "Cookie" not in h:
            h["Cookie"] = self.cookie
        host, port = self.hostport.rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=60)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, headers=None, **kw):
        h = {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.base}
        h.update(headers or {})
        return self.request("POST", path, urllib.parse.urlencode(fields, doseq=True), h, **kw)

    def csrf(self):
        s, _, body = self.get("/publish?kind=lesson")
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', body)
        if s != 200 or not m:
            raise SystemExit("FAIL: no CSRF token in the publish form (%d)" % s)
        return m.group(1)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err
