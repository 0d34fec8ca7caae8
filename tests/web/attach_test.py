#!/usr/bin/env python3
"""attach_test.py AGORA - files in `agora web`, over HTTP.

A record's page lists its files; GET /file/ID/N sends one as a download
(never shown inside our pages), byte for byte, and refuses a damaged copy;
a file this node has not fetched is said to be so and has no link.  The
upload form (POST /attach/ID, multipart/form-data) publishes a new version
of this node's own record that lists the file, as `agora amend --attach`
does; an upload without the token, without a CSRF field before the file,
from another origin, over [attachments] max-file, or for another node's
record stores nothing and leaves no temporary file behind.
"""
import glob
import hashlib
import http.client
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webtest  # noqa: E402

AGORA = sys.argv[1]
check = webtest.check


def multipart(parts):
    """parts: (name, filename or None, bytes) -> (body, content type)."""
    b = "agora-test-boundary-7d3f"
    out = b""
    for name, filename, data in parts:
        out += b"--" + b.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename is not None:   # as a browser writes it: a quote as %22
            disp += '; filename="%s"' % filename.replace('"', "%22")
        out += ("Content-Disposition: %s\r\n" % disp).encode("utf-8")
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + b.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + b


def upload(w, rid, parts, cookie=True, origin=None):
    body, ctype = multipart(parts)
    h = {"Content-Type": ctype, "Origin": origin or w.base}
    return w.request("POST", "/attach/" + rid, body, h, cookie=cookie)


def get_bytes(w, path):
    """GET path with the cookie: status, headers, the body as bytes."""
    host, port = w.hostport.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    c.request("GET", path, headers={"Cookie": w.cookie})
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


def versions(home):
    return webtest.run(AGORA, home, "query", "--kind", "measure", "--history", "--jsonl",
                       check=False).stdout.count('"id"')


def leftovers(home):
    return glob.glob(os.path.join(home, ".web-upload-*"))


def main():
    tmp = tempfile.mkdtemp(prefix="agora-web-attach.")
    try:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        webtest.run(AGORA, a, "init", "--name", "Assens Kommune", "--country", "DK",
                    "--alliance", "DK2020")
        webtest.run(AGORA, b, "init", "--name", "Vejle Kommune", "--country", "DK")
        webtest.run(AGORA, a, "alliance", "admit", webtest.key(AGORA, b), "--name",
                    "Vejle Kommune", "--country", "DK")
        webtest.run(AGORA, a, "bundle", "create", os.path.join(tmp, "gov.agb"))
        webtest.run(AGORA, b, "bundle", "import", os.path.join(tmp, "gov.agb"))
        webtest.run(AGORA, b, "alliance", "use", "DK2020")
        with open(os.path.join(tmp, "plan.pdf"), "wb") as f:
            f.write(b"%PDF vejle plan " * 100)
        theirs = webtest.run(AGORA, b, "publish", "measure", "--title", "Vejle plan",
                             "--language", "da", "--adaptation", "--attach",
                             os.path.join(tmp, "plan.pdf")).stdout.strip()
        webtest.run(AGORA, b, "bundle", "create", os.path.join(tmp, "b.agb"))
        webtest.run(AGORA, a, "bundle", "import", os.path.join(tmp, "b.agb"))
        ours = webtest.run(AGORA, a, "publish", "measure", "--title", "Assens plan",
                           "--language", "da", "--adaptation").stdout.strip()
        with open(os.path.join(a, "agora.conf"), "a") as f:
            f.write("\n[attachments]\nmax-file = 100K\n")
        w = webtest.Web(AGORA, a)
        try:
            checks(w, a, ours, theirs)
        finally:
            rc, err = w.stop()
            check(rc == 0, "agora web exits 0 on SIGTERM (got %d: %s)" % (rc, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    webtest.finish()


def checks(w, home, ours, theirs):
    csrf = w.csrf()
    data = bytes(range(256)) * 40 + "æøå".encode()        # 10 KB, every byte value
    hostile = '"><img src=x onerror=alert(9)> plan.html'

    # ---- the form is on our own measure's page, not on another's
    s, h, body = w.get("/record/" + ours)
    check(s == 200 and 'action="/attach/%s"' % ours in body and
          'enctype="multipart/form-data"' in body, "our measure's page has the upload form")
    s, h, body = w.get("/record/" + theirs)
    check(s == 200 and "/attach/" not in body, "another's measure has no upload form")
    check('id="files"' in body and "plan.pdf" in body and "not fetched yet" in body and
          "/file/" not in body, "a file not fetched is listed as such, without a link")
    check("media_type=" not in body, "the files are not also listed as raw fields")
    s, h, body = w.get("/file/%s/0" % theirs)
    check(s == 404 and "not fetched yet" in body, "GET of a file not fetched: 404 (%d)" % s)

    # ---- refusals: nothing published, no temporary file left
    before = versions(home)
    good = [("csrf", None, csrf.encode()), ("file", hostile, data)]
    cases = [
        ("no token", dict(parts=good, cookie=False), 400),   # read as a plain form: refused
        ("another origin", dict(parts=good, origin="http://evil.example"), 403),
        ("no CSRF field", dict(parts=[("file", "x.pdf", data)]), 403),
        ("a wrong CSRF field", dict(parts=[("csrf", None, b"0" * 64), ("file", "x.pdf", data)]),
         403),
        ("CSRF after the file", dict(parts=[("file", "x.pdf", data), ("csrf", None, csrf.encode())]),
         403),
        ("no file", dict(parts=[("csrf", None, csrf.encode())]), 400),
        ("an empty file", dict(parts=[("csrf", None, csrf.encode()), ("file", "e.pdf", b"")]), 400),
        ("two files", dict(parts=good + [("file", "y.pdf", data)]), 400),
        ("over max-file", dict(parts=[("csrf", None, csrf.encode()),
                                      ("file", "big.pdf", b"x" * 150000)]), 413),
    ]
    for what, kw, want in cases:
        s, h, body = upload(w, ours, **kw)
        check(s == want, "%s: refused with %d (got %d)" % (what, want, s))
    s, h, body = upload(w, theirs, good)
    check(s in (400, 403) and "not" in body.lower(), "another's record: refused (%d)" % s)
    check(versions(home) == before, "no refused upload published anything")
    check(not leftovers(home), "no temporary file left: %r" % leftovers(home))

    # ---- an upload publishes a new version listing the file
    s, h, body = upload(w, ours, good)
    loc = h.get("location", "")
    m = re.match(r"/record/([0-9a-f]{64})\?published=1$", loc)
    check(s == 303 and m, "an upload answers 303 to the new version (%d %r %s)" % (s, loc, body[:300]))
    check(versions(home) == before + 1, "one new version published")
    check(not leftovers(home), "the temporary file is gone after the upload")
    if not m:
        return
    new = m.group(1)
    s, h, body = w.get("/record/" + new)
    check(s == 200 and 'href="/file/%s/0"' % new in body, "the new version links its file")
    check("<img src=x onerror=alert(9)>" not in body and "&lt;img src=x onerror=alert(9)&gt;" in body,
          "the file name is escaped on the page")
    s, h, raw = get_bytes(w, "/file/%s/0" % new)
    check(s == 200 and raw == data, "the download is the uploaded bytes (%d, %d bytes)" % (s, len(raw)))
    check(h.get("content-type") == "application/octet-stream", "sent as octet-stream: %r" %
          h.get("content-type"))
    cd = h.get("content-disposition", "")
    check(re.fullmatch(r"attachment; filename=\"[A-Za-z0-9 ._+()-]*\"; "
                       r"filename\*=UTF-8''[A-Za-z0-9%._~-]+", cd) and
          "%3E%3Cimg%20src" in cd,
          "a download, with the name made safe: %r" % cd)
    out = webtest.run(AGORA, home, "show", new).stdout
    check("[0] " in out and hashlib.blake2b(data, digest_size=32).hexdigest() in out,
          "agora show lists the file with its hash")
    s, h, body = w.get("/file/%s/1" % new)
    check(s == 404, "a file number the record lacks: 404 (%d)" % s)
    s, h, body = w.get("/file/zz/0")
    check(s == 404, "a bad id: 404 (%d)" % s)

    # ---- a damaged copy is refused, not sent
    blob = glob.glob(os.path.join(home, "blobs", "*", hashlib.blake2b(
        data, digest_size=32).hexdigest()))
    check(len(blob) == 1, "the file is in blobs/")
    if blob:
        with open(blob[0], "r+b") as f:
            f.seek(100)
            f.write(b"X")
        s, h, body = w.get("/file/%s/0" % new)
        check(s == 500 and "damaged" in body, "a damaged copy is refused (%d)" % s)


if __name__ == "__main__":
    main()
