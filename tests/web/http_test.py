#!/usr/bin/env python3
"""http_test.py - `agora web` over HTTP (urllib, no browser).

On a store with the example data and hostile records (webtest.make_store):
  * the token: no page without it, a wrong one refused, the right one set
    as an HttpOnly SameSite=Strict cookie and taken out of the address;
  * POST refusals: no cookie, no or a wrong CSRF token, another Origin, a
    cross-site Sec-Fetch-Site, a JSON body, another Host (DNS rebinding),
    GET on /retract, PUT; nothing is stored by any of them;
  * the headers: a Content-Security-Policy without scripts on every page;
  * publishing through the form works: 303 to the new record, then found
    by search; a bad value gets the CLI's own message;
  * every page in the browser's language (Accept-Language or ?lang=);
  * the Atom feed of a search (GET /atom): linked from the search page,
    opened by its own feed token, well-formed (xml.etree), filtered, the
    hostile strings escaped;
  * XSS: every page that shows the hostile records (search hits and
    snippets, a record, a municipality, members, the report, the amend
    form) holds their text escaped and never a raw <script> or <img>.
Usage: http_test.py AGORA_BINARY
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webtest  # noqa: E402

AGORA = sys.argv[1]
check = webtest.check


def count_records(agora, home):
    p = webtest.run(agora, home, "query", "--kind", "lesson", "--json")
    return p.stdout.count('"id"')


def main():
    tmp = tempfile.mkdtemp(prefix="agora-web-http.")
    try:
        home, ids = webtest.make_store(AGORA, tmp)
        w = webtest.Web(AGORA, home)
        try:
            run_checks(w, home, ids)
        finally:
            rc, err = w.stop()
            check(rc == 0, "agora web exits 0 on SIGTERM (got %d: %s)" % (rc, err))
        not_coordinator_checks(os.path.join(tmp, "evil"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    webtest.finish()


def member_status(home, key):
    return webtest.member_status(AGORA, home, key)


def invite_checks(w, home, csrf):
    """A coordinator invites a new member (agora alliance invite's checks):
    the code on the page is one `agora join` takes on a second home."""
    s, h, body = w.get("/members")
    check('href="/invite"' in body and 'href="/revoke"' in body,
          "the members page links to the invite and revoke forms")
    for page in ("/admit", "/revoke", "/invite", "/publish?kind=endorsement"):
        s, h, body = w.get(page)
        check(s == 200 and 'id="only_coordinator"' not in body and 'name="csrf"' in body,
              "the coordinator's GET %s shows the form (%d)" % (page, s))
    s, h, body = w.get("/invite", headers={"Accept-Language": "da"})
    check(s == 200 and "Invitér et nyt medlem" in body and 'name="address"' in body and
          ">Koordinator<" in body, "the invite form, in Danish")
    good = {"csrf": csrf, "name": "Horsens Kommune", "country": "dk", "role": "member",
            "address": "127.0.0.1:7420"}
    for what, bad, msg in [
            ("no name", {"name": ""}, "an invite needs the new member&#39;s --name"),
            ("a bad role", {"role": "chief"},
             "unknown role &#39;chief&#39;: use member, coordinator or observer"),
            ("a bad duration", {"expires": "soon"}, "--expires &#39;soon&#39; is not a duration"),
            ("a bad address", {"address": "nowhere"}, "&#39;nowhere&#39; is not HOST:PORT")]:
        s, h, body = w.post("/invite", dict(good, **bad))
        check(s == 400 and msg in body and "agora1-" not in body,
              "invite with %s: the CLI's message, no code (%d)" % (what, s))
    check('value="Horsens Kommune"' in body and 'value="nowhere"' in body,
          "a refused invite keeps the values")
    nocsrf = dict(good)
    del nocsrf["csrf"]
    s, h, body = w.post("/invite", nocsrf)
    check(s == 403 and "agora1-" not in body, "an invite without the CSRF token is refused (%d)" % s)
    s, h, body = w.post("/invite", good, cookie=False)
    check(s == 403 and "agora1-" not in body, "an invite without the token is refused (%d)" % s)
    s, h, body = w.post("/invite", dict(good, expires="3d"))
    m = re.search(r'<pre id="code">(agora1-[A-Za-z0-9_-]+)</pre>', body)
    check(s == 200 and m is not None, "the invite code is on the page (%d)" % s)
    if not m:
        return
    code = m.group(1)
    check("agora join " + code in body, "with the line the new member runs")
    joinhome, p = webtest.join(AGORA, home, "Horsens Kommune", code, "127.0.0.1:7999")
    check(p.returncode == 0 and "joining as Horsens Kommune" in p.stdout,
          "agora join on a second home takes the code: %s%s" % (p.stdout, p.stderr))
    peers = webtest.run(AGORA, joinhome, "peer", "list").stdout
    check(webtest.key(AGORA, home) in peers and "127.0.0.1:7420" in peers,
          "the joined home dials the coordinator at the invite's address: %s" % peers)


def revoke_checks(w, home, csrf, key):
    """A coordinator revokes a key (agora alliance revoke's checks), only
    with the permanence confirmed."""
    s, h, body = w.get("/revoke", headers={"Accept-Language": "nl"})
    check(s == 200 and "Een intrekking is definitief" in body and 'name="confirm"' in body,
          "the revoke form, in Dutch, warns that it is permanent")
    good = {"csrf": csrf, "key": key, "reason": "stolen laptop", "confirm": "yes"}
    for what, bad, msg in [
            ("a bad key", {"key": "abc"}, "is not a public key: give its 64 hex digits"),
            ("a bad seq", {"after_seq": "x"}, "--after-seq &#39;x&#39; is not a number"),
            ("no reason", {"reason": ""}, "a revocation needs its --reason"),
            ("no confirmation", {"confirm": ""}, "Tick the box to confirm")]:
        s, h, body = w.post("/revoke", dict(good, **bad))
        check(s == 400 and msg in body, "revoke with %s: refused with its message (%d)" % (what, s))
    nocsrf = dict(good)
    del nocsrf["csrf"]
    s, h, body = w.post("/revoke", nocsrf)
    check(s == 403, "a revocation without the CSRF token is refused (%d)" % s)
    s, h, body = w.post("/revoke", good, cookie=False)
    check(s == 403, "a revocation without the token is refused (%d)" % s)
    check(member_status(home, key) == ["active"], "no refused revocation changed the status")
    s, h, body = w.post("/revoke", good)
    check(s == 303 and h.get("location", "").startswith("/record/"),
          "the revocation is signed and stored (%d)" % s)
    st = member_status(home, key)
    check(len(st) == 1 and st[0].startswith("revoked after seq"),
          "agora alliance members --json shows the key revoked: %s" % st)


def amend_inventory_checks(w, home, csrf, iid):
    """Amending an inventory shows its sector lines and replaces them with
    those sent: a line taken out is gone from the new version."""
    s, h, body = w.get("/amend/" + iid)
    m = re.search(r'<textarea id="f_sector_line" name="sector_line" rows="4">([^<]*)</textarea>',
                  body)
    check(s == 200 and m is not None and
          m.group(1).split() == ["municipal_buildings:1200.5:3400", "transport_public:800"],
          "the amend form holds the inventory's sector lines: %r" % (m and m.group(1)))
    s, h, body = w.post("/amend/" + iid, {"csrf": csrf, "kind": "inventory", "type": "bei",
                                          "year": "2024",
                                          "sector_line": "municipal_buildings:1100:3400\n"})
    loc = h.get("location", "")
    check(s == 303 and loc.startswith("/record/"), "the inventory is amended (%d)" % s)
    if not loc.startswith("/record/"):
        return
    shown = json.loads(webtest.run(AGORA, home, "show", loc.split("/")[2].split("?")[0],
                                   "--json").stdout)
    sectors = json.dumps(shown).count('"sector"')
    text = json.dumps(shown)
    check(sectors == 1 and "municipal_buildings" in text and "1100" in text and
          "transport_public" not in text and "1200.5" not in text,
          "the new version holds only the line sent: %s" % text[:400])


def label_checks(w):
    """The publish and amend forms label each field in the page's language
    (the [field] words of cli/lang/*.ini), never by its schema name."""
    s, h, body = w.get("/publish?kind=target", headers={"Accept-Language": "da"})
    check(s == 200 and ">Basisår</label>" in body and ">Målår</label>" in body and
          ">Reduktion (%)</label>" in body, "the Danish target form has Danish labels")
    check("baseline year" not in body.lower() and ">baseline_year<" not in body,
          "and no English or raw schema label")
    for lang in ("en", "da", "pl", "nl"):
        for kind in ("measure", "result", "lesson", "endorsement", "target", "inventory",
                     "profile"):
            s, h, body = w.get("/publish?kind=%s&lang=%s" % (kind, lang))
            labels = re.findall(r'<label for="f_(\w+)">([^<]*)</label>', body)
            boxes = re.findall(r'<label><input type="checkbox" name="(\w+)" value="true"[^>]*> '
                               r'([^<]*)</label>', body)
            raw = [(n, t) for n, t in labels + boxes
                   if t in (n, n.replace("_", " ")) and n not in ("alliance",)]
            check(s == 200 and labels and not raw,
                  "%s %s form: every field labelled in words: raw %r" % (lang, kind, raw))


def record_label_checks(w):
    """A record's page names its fields and codes in the page's language,
    not by schema names and codes."""
    s, h, body = w.get("/?kind=measure&sector=local_heat_cold_production")
    rid = re.search(r'href="/record/([0-9a-f]{64})"', body).group(1)
    s, h, body = w.get("/record/" + rid, headers={"Accept-Language": "da"})
    m = re.search(r'<table class="fields">.*?</table>', body, re.S)
    fields = m.group(0) if m else ""
    check(s == 200 and "<th>Sektor</th><td class=\"v\">Lokal varme- og køleproduktion</td>"
          in fields and "<th>Startår</th>" in fields and "<th>Tilstand</th><td class=\"v\">i gang"
          in fields, "the Danish record page labels fields and codes in Danish")
    check("local_heat_cold_production" not in fields and "<th>start_year</th>" not in fields and
          "<th>sector</th>" not in fields, "and shows no schema name or code")
    check(">true<" not in fields and ">false<" not in fields,
          "a yes/no field reads ja/nej, not true/false")
    head = body[body.find('<table class="head">'):body.find("</table>")]
    check("<td>Tiltag</td>" in head, "the kind in the page's head is in Danish: %r" % head[:200])
    # An admission: its member is a municipality's key (a town link), its
    # expiry a date, not milliseconds.
    s, h, body = w.get("/?kind=admission")
    rid = re.search(r'href="/record/([0-9a-f]{64})"', body).group(1)
    s, h, body = w.get("/record/" + rid, headers={"Accept-Language": "da"})
    m = re.search(r'<table class="fields">.*?</table>', body, re.S)
    fields = m.group(0) if m else ""
    check(re.search(r'<th>Medlemmets nøgle</th><td class="v"><a href="/town/[0-9a-f]{64}">',
                    fields), "an admission's member links to the municipality: %r" % fields[:300])


def search_label_checks(w):
    """Search hits name kinds, sectors and statuses in the page's language,
    as the code lists do, not by their codes."""
    s, h, body = w.get("/?kind=measure&sector=local_heat_cold_production",
                       headers={"Accept-Language": "da"})
    hits = body[body.find('id="hits"'):body.find("</ol>")]
    check(s == 200 and "Lokal varme- og køleproduktion" in hits and ">Tiltag</span>" in hits,
          "a Danish hit line names the sector and the kind in Danish")
    check("local_heat_cold_production" not in hits and ">measure<" not in hits,
          "and holds no raw code")
    s, h, body = w.get("/?kind=measure&status=ongoing", headers={"Accept-Language": "da"})
    hits = body[body.find('id="hits"'):body.find("</ol>")]
    check(" · i gang" in hits and "ongoing" not in hits, "a status in Danish in the hit line")


# Markup a stored title may hold (proto/validate.c refuses control
# characters in stored text, so those reach a page only from the request).
MARKUP_TITLE = "Markup <script>alert(7)</script> \"q\" 'a' & end"
MARKUP_SHOWN = "Markup &lt;script&gt;alert(7)&lt;/script&gt; &quot;q&quot; &#39;a&#39; &amp; end"
# ESC starts a terminal escape, \x01 and \x07 are other C0 controls, \x7f DEL.
CTL_QUERY = "ctl\x1b[31m\x01\x07\x7f <script>alert(8)</script> \"q\" 'a' &"
CTL_SHOWN = ("ctl\ufffd[31m\ufffd\ufffd\ufffd &lt;script&gt;alert(8)&lt;/script&gt; "
             "&quot;q&quot; &#39;a&#39; &amp;")


def hostile_bytes_checks(w, home):
    """One escaping rule (cli/markup.c) for the report and the pages: markup
    escaped in agora report's HTML, the live report and the record's page
    alike; control characters of a request replaced by U+FFFD on the page
    that echoes it (tests/report and web_form_test check the report and
    the rule with controls)."""
    rid = webtest.run(AGORA, home, "publish", "lesson", "--title", MARKUP_TITLE,
                      "--language", "en").stdout.strip()
    out = os.path.join(os.path.dirname(home), "report.html")
    webtest.run(AGORA, home, "report", "--format", "html", "-o", out)
    with open(out, encoding="utf-8") as f:
        report = f.read()
    for what, body in (("agora report --format html", report),
                       ("the live report", w.get("/report/doc")[2]),
                       ("the record's page", w.get("/record/" + rid)[2])):
        check(MARKUP_SHOWN in body and "<script>alert(7)" not in body,
              "%s shows the hostile title escaped" % what)
    s, h, body = w.get("/?q=" + urllib.parse.quote(CTL_QUERY))
    bad = [c for c in "\x1b\x01\x07\x7f" if c in body]
    check(s == 200 and 'value="%s"' % CTL_SHOWN in body and not bad and
          "<script>alert(8)" not in body,
          "the search page echoes a hostile query escaped, controls replaced: %r" % bad)
    webtest.run(AGORA, home, "retract", rid)


def not_coordinator_checks(evil):
    """A member that is no coordinator is told so on GET, with no form, and
    named the coordinator; a POST all the same gets the CLI's message."""
    w = webtest.Web(AGORA, evil)
    assens = webtest.key(AGORA, os.path.join(os.path.dirname(evil), "assens"))
    try:
        for page, lang, words in (("/invite", "en", "Only a coordinator of the alliance can do"),
                                  ("/revoke", "da", "Kun alliancens koordinator kan"),
                                  ("/admit", "pl", "Tylko koordynator sojuszu"),
                                  ("/publish?kind=endorsement&target=ab", "nl",
                                   "Alleen een coördinator van de alliantie")):
            s, h, body = w.get(page, headers={"Accept-Language": lang})
            coords = re.findall(r'<ul id="coordinators">\n<li><a href="/town/([0-9a-f]{64})">'
                                r'([^<]*)</a></li>\n</ul>', body)
            check(s == 200 and 'id="only_coordinator"' in body and words in body and
                  "<form" not in body.split("</nav>")[-1] and 'name="csrf"' not in body and
                  'lang="%s"' % lang in body,
                  "a member's GET %s shows the only-coordinator page in %s, no form" % (page, lang))
            check(coords == [(assens, "Assens Kommune")],
                  "%s names the alliance's coordinator: %r" % (page, coords))
        csrf = w.csrf()
        s, h, body = w.post("/invite", {"csrf": csrf, "name": "Horsens Kommune",
                                        "address": "127.0.0.1:7420"})
        check(s == 400 and "only a coordinator of this alliance can invite" in body and
              "agora1-" not in body, "a member cannot invite: the CLI's message (%d)" % s)
        target = webtest.key(AGORA, os.path.join(os.path.dirname(evil), "assens"))
        s, h, body = w.post("/revoke", {"csrf": csrf, "key": target, "reason": "x",
                                        "confirm": "yes"})
        check(s == 400 and "only a coordinator of this alliance can do that" in body,
              "a member cannot revoke: the CLI's message (%d)" % s)
    finally:
        w.stop()
    st = member_status(evil, target)
    check(st == ["active"], "the member's refused revocation changed nothing: %s" % st)


def with_agorad(w, home, csrf):
    """The same pages while agorad runs on the store: its state is shown,
    and publishing still works (LMDB serialises the two writers)."""
    agorad = os.path.join(os.path.dirname(AGORA), "..", "node", "agorad")
    if not os.path.exists(agorad):
        check(False, "agorad is built beside agora: " + agorad)
        return
    s, h, body = w.get("/members")
    check("agorad is not running" in body, "members says when agorad is not running")
    d = subprocess.Popen([agorad, "--home", home, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Await its control socket: `agora status` answers once it is up.
        for _ in range(600):
            if webtest.run(AGORA, home, "status", check=False).returncode == 0:
                break
            if d.poll() is not None:
                break
            time.sleep(0.1)
        s, h, body = w.get("/members")
        check(s == 200 and "agorad is not running" not in body and "records: " in body,
              "members shows the running node's state")
        s, h, body = w.post("/publish", {"csrf": csrf, "kind": "lesson", "language": "en",
                                         "title": "Published while agorad runs"})
        check(s == 303, "publishing works while agorad runs (%d)" % s)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=60)


def run_checks(w, home, ids):
    # ---- the token
    s, h, body = w.get("/", cookie=False)
    check(s == 403 and "token" in body, "a page without the token is refused (%d)" % s)
    s, h, body = w.get("/?token=" + "0" * 64, cookie=False)
    check(s == 403 and "set-cookie" not in h, "a wrong token is refused, no cookie (%d)" % s)
    s, h, body = w.get("/?token=" + w.token[:-1], cookie=False)
    check(s == 403, "a shortened token is refused (%d)" % s)
    s, h, body = w.get("/?token=" + w.token, cookie=False)
    c = h.get("set-cookie", "")
    check(s == 303 and h.get("location") == "/", "the token redirects to the page without it")
    check(("agora_token=" + w.token) in c and "HttpOnly" in c and "SameSite=Strict" in c,
          "the token becomes an HttpOnly SameSite=Strict cookie: %r" % c)
    s, h, body = w.get("/")
    check(s == 200 and 'id="hits"' in body, "with the cookie the search page is served")
    csp = h.get("content-security-policy", "")
    check("default-src 'none'" in csp and "script" not in csp,
          "a CSP that allows no script: %r" % csp)
    check(h.get("x-content-type-options") == "nosniff", "nosniff")
    check(h.get("referrer-policy") == "same-origin", "no referrer to other sites")
    s, h, body = w.get("/", headers={"Host": "evil.example:%s" % w.hostport.split(":")[1]})
    check(s == 403, "another Host name is refused, even with the cookie (%d)" % s)

    # ---- filters, as agora query has them
    s, h, body = w.get("/?kind=measure&area=wetlands")
    kinds = re.findall(r'<div class="meta"><span class="kind" data-kind="(\w+)">', body)
    check(s == 200 and kinds and set(kinds) == {"measure"} and "Vådområder og" in body,
          "kind and area filter: %r" % kinds)
    s, h, body = w.get("/?municipality=vejle&since=2030")
    towns = set(re.findall(r'<a href="/town/[0-9a-f]+">([^<]*)</a>', body))
    check(towns == {"Vejle Kommune"}, "municipality (folded) and years filter: %r" % towns)
    s, h, body = w.get("/?sector=no_such_sector")
    check(s == 400 and 'class="err"' in body, "an unknown code is refused (%d)" % s)
    s, h, body = w.get("/?q=zzzzqqq")
    check(s == 200 and 'id="none"' in body, "no match says so")

    # ---- POST refusals: nothing is stored by any of them
    csrf = w.csrf()
    before = count_records(AGORA, home)
    lesson = {"kind": "lesson", "title": "Refused lesson", "language": "en"}
    cases = [
        ("no cookie", dict(lesson, csrf=csrf), {}, False),
        ("no CSRF token", dict(lesson), {}, True),
        ("a wrong CSRF token", dict(lesson, csrf="0" * 64), {}, True),
        ("the token as CSRF token", dict(lesson, csrf=w.token), {}, True),
        ("another Origin", dict(lesson, csrf=csrf), {"Origin": "http://evil.example"}, True),
        ("a cross-site fetch", dict(lesson, csrf=csrf), {"Sec-Fetch-Site": "cross-site"}, True),
    ]
    for what, fields, headers, cookie in cases:
        s, h, body = w.post("/publish", fields, headers=headers, cookie=cookie)
        check(s == 403, "POST with %s is refused (%d)" % (what, s))
    s, h, body = w.request("POST", "/publish", '{"kind":"lesson"}',
                           {"Content-Type": "application/json", "Origin": w.base})
    check(s == 403, "a JSON body is refused (%d)" % s)
    s, h, body = w.get("/retract?id=%s&csrf=%s" % (ids["own_lesson"], csrf))
    check(s == 404, "GET cannot retract (%d)" % s)
    s, h, body = w.request("PUT", "/publish", "x", {"Content-Type": "text/plain"})
    check(s == 405, "PUT is refused (%d)" % s)
    check(count_records(AGORA, home) == before, "no refused POST stored anything")

    # ---- publishing
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "measure", "title": "x",
                                     "start_year": "twenty"})
    check(s == 400 and "--start-year: &#39;twenty&#39; is not" in body,
          "a bad value gets the CLI's message: %s" % re.findall(r'class="err"[^<]*', body))
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "lesson", "language": "en",
                                     "title": "Geothermal heat pumps need drilling permits early",
                                     "barriers": ["regulatory", "financial"],
                                     "tags": "geothermal, permits"})
    loc = h.get("location", "")
    check(s == 303 and loc.startswith("/record/"), "the form publishes (%d %s)" % (s, loc))
    s, h, body = w.get(loc)
    check(s == 200 and "signature verified" in body and "Regulatory; Financial" in body,
          "the new record's page shows it, verified, its codes in words")
    s, h, body = w.get("/?q=geothermal+permit")
    check("<mark>Geothermal</mark>" in body, "search finds the new lesson, marked")
    check(count_records(AGORA, home) == before + 1, "exactly one lesson was stored")

    # ---- a coordinator endorses another member's measure
    s, h, body = w.get("/?kind=measure&municipality=vejle")
    vid = re.search(r'href="/record/([0-9a-f]{64})"', body).group(1)
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "endorsement", "target": vid[:12],
                                     "note": "Best practice for river valleys"})
    check(s == 303, "the coordinator's endorsement is published (%d)" % s)
    s, h, body = w.get("/record/" + vid)
    check(re.search(r'<td>Endorsement</td><td><a href="/town/[0-9a-f]+">Assens Kommune</a>', body),
          "the measure's page lists the endorsement")

    # ---- targets, inventories and the profile, through the same form
    s, h, body = w.get("/publish", headers={"Accept-Language": "da"})
    check('kind=target">Mål<' in body and 'id="new_inventory"' in body and
          'id="new_profile"' in body, "the publish page offers target, inventory and profile")
    s, h, body = w.get("/publish?kind=target", headers={"Accept-Language": "da"})
    check('<option value="net_zero">Netto-nul</option>' in body,
          "the form's code lists are named in the page's language")
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "target", "title": "Net zero 2045",
                                     "type": "net_zero", "baseline_year": "2019",
                                     "target_year": "2045", "reduction_pct": "100"})
    tloc = h.get("location", "")
    check(s == 303 and tloc.startswith("/record/"), "a target is published (%d %s)" % (s, tloc))
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "inventory", "type": "bei",
                                     "year": "2024",
                                     "sector_line": "municipal_buildings:1200.5:3400\r\n"
                                                    "transport_public:800\n"})
    iloc = h.get("location", "")
    check(s == 303 and iloc.startswith("/record/"), "an inventory with sector lines (%d)" % s)
    shown = webtest.run(AGORA, home, "show", iloc.split("/")[2].split("?")[0], "--json").stdout
    check('"municipal_buildings"' in shown and "1200.5" in shown and '"transport_public"' in shown,
          "both sector lines are in the stored inventory: %s" % shown[:300])
    amend_inventory_checks(w, home, csrf, iloc.split("/")[2].split("?")[0])
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "inventory", "year": "2024",
                                     "sector_line": "no_such_sector:5"})
    check(s == 400 and "no_such_sector" in body, "a bad sector line gets the CLI's message")
    s, h, body = w.post("/publish", {"csrf": csrf, "kind": "profile", "name": "Assens Kommune",
                                     "country": "dk", "population": "41000"})
    check(s == 303, "the profile is published from the web (%d)" % s)
    s, h, body = w.get(h.get("location", "/"))
    check(">DK<" in body, "the country is upper-cased as the CLI does")

    label_checks(w)
    search_label_checks(w)
    record_label_checks(w)

    # ---- a coordinator admits a municipality (agora alliance admit's checks)
    s, h, body = w.get("/members")
    check('href="/admit"' in body, "the members page links to the admission form")
    s, h, body = w.get("/admit", headers={"Accept-Language": "pl"})
    check(s == 200 and "Przyjmij gminę" in body and 'name="key"' in body and
          ">Koordynator<" in body, "the admission form, in Polish")
    s, h, body = w.post("/admit", {"csrf": csrf, "key": "abc", "name": "X", "country": "DK"})
    check(s == 400 and "is not a public key: give its 64 hex digits" in body,
          "a bad key gets the CLI's message")
    newhome = os.path.join(os.path.dirname(home), "aabenraa")
    webtest.run(AGORA, newhome, "init", "--name", "Aabenraa Kommune", "--country", "DK")
    newkey = webtest.key(AGORA, newhome)
    s, h, body = w.post("/admit", {"csrf": csrf, "key": newkey, "name": "Aabenraa Kommune",
                                   "country": "dk", "role": "chief"})
    check(s == 400 and "unknown role &#39;chief&#39;: use member, coordinator or observer" in body
          and 'value="Aabenraa Kommune"' in body, "a bad role: the CLI's message, values kept")
    s, h, body = w.post("/admit", {"csrf": csrf, "key": newkey, "name": "Aabenraa Kommune",
                                   "country": "dk", "role": "member", "expires": "soon"})
    check(s == 400 and "--expires &#39;soon&#39; is not a duration" in body,
          "a bad duration: the CLI's message")
    s, h, body = w.post("/admit", {"csrf": csrf, "key": newkey, "name": "Aabenraa Kommune",
                                   "country": "dk", "role": "member", "expires": "365d"})
    check(s == 303 and h.get("location", "").startswith("/record/"),
          "the admission is signed and stored (%d)" % s)
    members = webtest.run(AGORA, home, "alliance", "members", "--json").stdout
    check(newkey in members and "Aabenraa Kommune" in members,
          "agora alliance members lists the admitted municipality")
    s, h, body = w.get("/members")
    check("Aabenraa Kommune" in body, "the members page shows it")
    invite_checks(w, home, csrf)
    revoke_checks(w, home, csrf, newkey)

    # ---- amend and retract
    lid = loc.split("/")[2].split("?")[0]
    s, h, body = w.get("/amend/" + lid)
    check(s == 200 and 'value="Geothermal heat pumps need drilling permits early"' in body and
          'value="regulatory" checked' in body, "the amend form holds the current values")
    s, h, body = w.post("/amend/" + lid, {"csrf": csrf, "kind": "lesson", "language": "en",
                                          "title": "Geothermal heat pumps: apply for permits first",
                                          "barriers": "regulatory"})
    loc2 = h.get("location", "")
    check(s == 303 and loc2.startswith("/record/") and lid not in loc2, "amend publishes a new version")
    s, h, body = w.get(loc2)
    check("apply for permits first" in body and "Geothermal heat pumps need" in body,
          "the new version shows itself and the old one in its versions")
    s, h, body = w.get("/record/" + lid)
    check("superseded by" in body, "the old version says it is superseded")
    s, h, body = w.post("/amend/" + ids["evil_measure"], {"csrf": csrf, "kind": "measure",
                                                          "title": "taken over"})
    check(s == 400 and "not yours" in body, "another member's record cannot be amended (%d)" % s)
    s, h, body = w.post("/retract", {"csrf": csrf, "id": lid, "reason": "wrong municipality"})
    check(s == 303, "retract answers with the record (%d)" % s)
    s, h, body = w.get("/record/" + lid)
    check("retracted by its author" in body, "the record says it is retracted")
    s, h, body = w.get("/?q=geothermal")
    check('id="none"' in body, "a retracted lesson is no longer found")
    s, h, body = w.post("/retract", {"csrf": csrf, "id": ids["evil_measure"]})
    check(s == 400 and "not yours" in body, "another member's record cannot be retracted")

    with_agorad(w, home, csrf)

    # ---- XSS: every page that shows hostile text
    pages = ["/?q=alert", "/?q=scriptcontext", "/?municipality=Kommune&kind=measure",
             "/?tag=%3Cb%3Etag%3C%2Fb%3E",
             "/record/" + ids["own_lesson"], "/record/" + ids["evil_measure"],
             "/town/" + ids["evil_key"], "/members", "/report/doc",
             "/amend/" + ids["own_lesson"]]
    for page in pages:
        s, h, body = w.get(page)
        check(s == 200, "%s is served (%d)" % (page, s))
        for raw in webtest.RAW:
            check(raw not in body, "%s holds raw %r" % (page, raw))
    s, h, body = w.get("/record/" + ids["own_lesson"])
    check("&lt;script&gt;alert(1)&lt;/script&gt;" in body, "the hostile title is shown as text")
    s, h, body = w.get("/?q=alert")
    check("&lt;img src=x onerror=<mark>alert</mark>(2)&gt;" in body, "the hostile measure is a hit, escaped")
    s, h, body = w.get("/town/" + ids["evil_key"])
    check("&lt;script&gt;alert(5)&lt;/script&gt; Kommune" in body, "the hostile town name, escaped")
    hostile_bytes_checks(w, home)

    # ---- the live report speaks the browser's language; figures link to records
    s, h, body = w.get("/report/doc", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"})
    check(s == 200 and "Topmøderapport" in body and 'lang="da"' in body,
          "the report follows Accept-Language (da)")
    s, h, body = w.get("/report/doc?lang=pl", headers={"Accept-Language": "da"})
    check(s == 200 and 'lang="pl"' in body, "?lang= wins over Accept-Language")
    check(re.search(r'<a href="/record/[0-9a-f]{64}"', body) is not None and
          '<base target="_top">' in body, "report figures link to the record pages")
    # ---- the pages themselves speak it too: every word from cli/lang/*.ini
    for lang, words in (("da", ["Søg", "Medlemmer og node", "Kommune", "Rækkefølge",
                                ">Tiltag</option>", ">Kommunale bygninger og anlæg</option>"]),
                        ("pl", ["Szukaj", "Członkowie i węzeł", "Gmina",
                                ">Budynki i obiekty gminne</option>"]),
                        ("nl", ["Zoeken", "Leden en knooppunt", "Gemeente"])):
        s, h, body = w.get("/?kind=measure", headers={"Accept-Language": lang + ";q=0.8"})
        check(s == 200 and 'lang="%s"' % lang in body and all(x in body for x in words) and
              "Members and node" not in body and "web." not in body,
              "the search page in %s: %r" % (lang, [x for x in words if x not in body]))
    s, h, body = w.get("/members?lang=nl", headers={"Accept-Language": "da"})
    check(s == 200 and "Dit knooppunt" in body, "?lang= picks the pages' language too")
    check("agora_lang=nl" in h.get("set-cookie", ""), "?lang= is kept as a cookie")
    s, h, body = w.get("/members", headers={"Accept-Language": "da",
                                            "Cookie": w.cookie + "; agora_lang=pl"})
    check(s == 200 and "Ten węzeł" in body, "the language cookie wins over Accept-Language")
    s, h, body = w.get("/record/" + "0" * 64, headers={"Accept-Language": "pl"})
    check(s == 404 and "W tym magazynie nie ma takiego rekordu." in body,
          "an error page in the browser's language")
    atom_checks(w, ids)
    s, h, body = w.get("/amend/" + ids["own_lesson"])
    check('value="&lt;script&gt;alert(1)&lt;/script&gt;"' in body,
          "the amend form holds the hostile title escaped in its value")


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_checks(w, ids):
    """A search as an Atom feed: linked from the search page, opened by the
    feed token alone, well-formed, filtered, hostile strings escaped."""
    s, h, body = w.get("/?kind=measure")
    m = re.search(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" '
                  r'href="(/atom\?[^"]*)">', body)
    check(m is not None and 'id="feed"' in body, "the search page links to its Atom feed")
    if not m:
        return
    href = m.group(1).replace("&amp;", "&")
    check("kind=measure" in href and re.search(r"feed=[0-9a-f]{64}", href),
          "the feed link carries the filter and a feed token: %s" % href)
    feed_tok = re.search(r"feed=([0-9a-f]{64})", href).group(1)
    check(feed_tok != w.token, "the feed token is not the secret token")
    s, h, body = w.get(href, cookie=False)
    check(s == 200 and h.get("content-type", "").startswith("application/atom+xml"),
          "the feed opens with its token alone (%d %s)" % (s, h.get("content-type")))
    try:
        root = ET.fromstring(body.encode("utf-8"))
    except ET.ParseError as e:
        check(False, "the feed is well-formed XML: %s" % e)
        return
    entries = root.findall(ATOM + "entry")
    check(root.tag == ATOM + "feed" and root.find(ATOM + "updated") is not None and
          root.find(ATOM + "id") is not None and len(entries) >= 3,
          "an Atom feed with id, updated and entries (%d)" % len(entries))
    kinds = {e.find(ATOM + "category").get("term") for e in entries}
    check(kinds == {"measure"}, "the kind filter holds in the feed: %r" % kinds)
    evil = [e for e in entries if e.find(ATOM + "id").text.endswith(ids["evil_measure"])]
    check(len(evil) == 1, "the hostile measure is in the feed")
    if evil:
        e = evil[0]
        check(e.find(ATOM + "title").text == webtest.IMG and
              e.find(ATOM + "summary").text == '"><script>alert(3)</script>' and
              e.find(ATOM + "author/" + ATOM + "name").text == webtest.HOSTILE_TOWN,
              "hostile title, summary and municipality come out of the XML as the text they are")
        link = e.find(ATOM + "link").get("href")
        check(link == "%s/record/%s" % (w.base, ids["evil_measure"]),
              "each entry links to its record page: %s" % link)
    for raw in webtest.RAW:
        check(raw not in body, "no raw %r in the feed" % raw)
    for e in entries:
        check(e.find(ATOM + "updated").text.endswith("Z") and e.find(ATOM + "author") is not None,
              "each entry has its time and author")
    # the words filter too
    s, h, body = w.get("/atom?kind=measure&q=v%C3%A5domr%C3%A5de&feed=" + feed_tok, cookie=False)
    root = ET.fromstring(body.encode("utf-8"))
    titles = [e.find(ATOM + "title").text for e in root.findall(ATOM + "entry")]
    check(s == 200 and titles and len(titles) < len(entries) and
          all("dområde" in x.lower() or "wetland" in x.lower() for x in titles),
          "the words filter holds in the feed: %r" % titles)
    # what the feed token does not open
    s, h, body = w.get("/atom?kind=measure", cookie=False)
    check(s == 403, "no feed without a token (%d)" % s)
    s, h, body = w.get("/atom?kind=measure&feed=" + "0" * 64, cookie=False)
    check(s == 403, "no feed with a wrong feed token (%d)" % s)
    s, h, body = w.get("/?feed=" + feed_tok, cookie=False)
    check(s == 403, "the feed token opens no other page (%d)" % s)
    s, h, body = w.get("/atom?sector=no_such&feed=" + feed_tok, cookie=False)
    check(s == 400, "a bad filter is refused (%d)" % s)


if __name__ == "__main__":
    main()
