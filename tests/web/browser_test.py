#!/usr/bin/env python3
"""browser_test.py - `agora web` in a real browser: headless Chromium
driven by chromedriver through selenium.

On a store with the example data and hostile records (webtest.make_store),
as a climate officer would:
  * opens the address `agora web` printed (token -> cookie -> page);
  * searches "vådområde" in the form and sees the wetland measures, the
    word marked;
  * opens a hit: the record page says "signature verified";
  * publishes a lesson through the form and is taken to it, then attaches
    a file to it with the upload form (the new version links the file);
  * searches for it and finds it;
  * without the token (cookies cleared) the same form is refused and
    nothing is stored;
  * publishes a target (on the municipality's page after) and admits a
    municipality in the Danish admission form (on the members page after);
  * invites a new member (the code shown is one `agora join` takes) and
    revokes the admitted key (refused until the permanence is confirmed;
    `agora alliance members` shows it revoked after);
  * on a member's node, the admit, invite and revoke links lead to a page
    that says only the coordinator can, names it, and holds no form;
  * XSS: the hostile records are on the result page and their record
    pages as text: no alert opens, no <img> or <script> element comes from
    them, the title reads exactly as typed;
and saves screenshots of the main pages in SHOT_DIR (a CI artifact).
Exit 77 (ctest SKIP) when chromium, chromedriver or python3-selenium is
missing.  Usage: browser_test.py AGORA_BINARY SHOT_DIR
"""
import os
import shutil
import sys
import tempfile

# Debian's python3-selenium lives in the system interpreter's packages.
try:
    import selenium  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("python3-selenium is not installed: skipping")
    sys.exit(77)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webtest  # noqa: E402

AGORA, SHOTS = sys.argv[1], sys.argv[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not CHROMIUM or not os.path.exists(DRIVER):
    print("chromium or chromedriver is not installed: skipping")
    sys.exit(77)

check = webtest.check


def browser(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--window-size=1280,1400",
              "--user-data-dir=" + profile):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    d.set_page_load_timeout(120)
    return d


def no_alert(d, where):
    try:
        a = d.switch_to.alert
        check(False, "an alert opened on %s: %r" % (where, a.text))
        a.dismiss()
    except NoAlertPresentException:
        pass


def no_hostile_elements(d, where):
    # The hostile texts hold <img src=x ...> and <script>: no such element may exist.
    imgs = d.find_elements(By.CSS_SELECTOR, "img")
    scripts = d.find_elements(By.CSS_SELECTOR, "script")
    check(not imgs and not scripts, "%s has %d img and %d script elements" %
          (where, len(imgs), len(scripts)))


def shot(d, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    d.save_screenshot(path)
    check(os.path.getsize(path) > 5000, "screenshot %s is not empty" % name)


def wait_for(d, css):
    try:
        return WebDriverWait(d, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))
    except TimeoutException:
        main = d.find_elements(By.CSS_SELECTOR, "main")
        raise SystemExit("FAIL: %s did not appear on %s; the page says: %s" %
                         (css, d.current_url, main[0].text[:600] if main else d.page_source[:600]))


def lessons(home):
    return webtest.run(AGORA, home, "query", "--kind", "lesson", "--json").stdout.count('"id"')


def main():
    tmp = tempfile.mkdtemp(prefix="agora-web-browser.")
    d = None
    w = None
    try:
        home, ids = webtest.make_store(AGORA, tmp)
        w = webtest.Web(AGORA, home)
        d = browser(os.path.join(tmp, "profile"))
        steps(d, w, home, ids)
    finally:
        if d:
            d.quit()
        if w:
            rc, err = w.stop()
            check(rc == 0, "agora web exits 0 (%d: %s)" % (rc, err))
        shutil.rmtree(tmp, ignore_errors=True)
    webtest.finish("ok: screenshots in " + SHOTS)


def member_status(home, key):
    return webtest.member_status(AGORA, home, key)


def coordinator_forms(d, w, home, admitted):
    """The coordinator invites a new member and revokes a key, clicking
    through the forms as a person does."""
    d.get(w.base + "/members?lang=en")
    wait_for(d, "#invite").click()
    wait_for(d, "#f_name").send_keys("Haderslev Kommune")
    d.find_element(By.ID, "f_country").send_keys("dk")
    Select(d.find_element(By.ID, "f_role")).select_by_value("member")
    d.find_element(By.ID, "f_expires").send_keys("3d")
    d.find_element(By.ID, "f_address").send_keys("127.0.0.1:7420")
    shot(d, "9-invite")
    d.find_element(By.ID, "submit").click()
    code = wait_for(d, "#code").text.strip()
    check(code.startswith("agora1-"), "the invite page shows the code: %r" % code)
    check(d.find_element(By.ID, "join").text.strip() == "agora join " + code,
          "with the line the new member runs")
    shot(d, "9-invite-code")
    joinhome, p = webtest.join(AGORA, home, "Haderslev Kommune", code, "127.0.0.1:7998")
    check(p.returncode == 0 and "joining as Haderslev Kommune" in p.stdout,
          "agora join takes the code shown in the browser: %s%s" % (p.stdout, p.stderr))

    check(member_status(home, admitted) == ["active"], "the admitted key is active before")
    d.get(w.base + "/members")
    wait_for(d, "#revoke").click()
    wait_for(d, "#f_key").send_keys(admitted)
    d.find_element(By.ID, "f_reason").send_keys("the laptop with the key was stolen")
    check(d.find_element(By.ID, "warning").text != "", "the revoke form warns it is permanent")
    d.find_element(By.ID, "submit").click()        # not confirmed: refused, values kept
    err = wait_for(d, "#error")
    check("confirm" in err.text and member_status(home, admitted) == ["active"],
          "an unconfirmed revocation is refused and changes nothing: %r" % err.text)
    check(d.find_element(By.ID, "f_key").get_attribute("value") == admitted,
          "the refused form keeps the key")
    d.find_element(By.ID, "f_confirm").click()
    shot(d, "10-revoke")
    d.find_element(By.ID, "submit").click()
    wait_for(d, "#published")
    st = member_status(home, admitted)
    check(len(st) == 1 and st[0].startswith("revoked after seq"),
          "agora alliance members shows the key revoked: %r" % st)


def member_is_told(d, home):
    """On a member's node (not a coordinator) the coordinators' links lead
    to a page that says so and names the coordinator, with no form."""
    evil = os.path.join(os.path.dirname(home), "evil")
    m = webtest.Web(AGORA, evil)
    try:
        d.get(m.url)
        wait_for(d, "#q")
        for link in ("#admit", "#invite", "#revoke"):
            d.get(m.base + "/members?lang=da")
            wait_for(d, link).click()
            told = wait_for(d, "#only_coordinator")
            check("Kun alliancens koordinator" in told.text,
                  "%s: the member is told, in Danish, that only the coordinator can" % link)
            names = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#coordinators li")]
            check(names == ["Assens Kommune"], "%s names the coordinator: %r" % (link, names))
            check(not d.find_elements(By.CSS_SELECTOR, "main form, #submit"),
                  "%s shows the member no form" % link)
        shot(d, "11-member-not-coordinator")
    finally:
        m.stop()


def steps(d, w, home, ids):
    # The address with the token; the browser keeps the cookie.
    d.get(w.url)
    wait_for(d, "#q")
    check("token" not in d.current_url, "the token left the address bar: " + d.current_url)
    shot(d, "1-search")

    # Search as a person types it.
    box = d.find_element(By.ID, "q")
    box.send_keys("vådområde")
    d.find_element(By.ID, "go").click()
    wait_for(d, "#hits li, #none")
    hits = d.find_elements(By.CSS_SELECTOR, "#hits li")
    titles = [h.find_element(By.CSS_SELECTOR, ".title").text for h in hits]
    check(any("Vådområder" in t for t in titles), "vådområde finds the wetlands: %r" % titles)
    check(d.find_elements(By.CSS_SELECTOR, "#hits mark"), "the matches are marked")
    shot(d, "2-results")

    # Open a record.
    hits[0].find_element(By.CSS_SELECTOR, ".title a").click()
    sig = wait_for(d, "#sig")
    check("signature verified" in sig.text, "the record says its signature is verified")
    shot(d, "3-record")

    # Publish a lesson through the form.
    d.get(w.base + "/publish?kind=lesson")
    wait_for(d, "#f_title")
    title = "Schools heated by heat pumps: start with the <i>insulation</i>"
    d.find_element(By.ID, "f_title").send_keys(title)
    d.find_element(By.ID, "f_language").send_keys("en")
    d.find_element(By.ID, "f_context").send_keys("Three village schools moved off oil in 2023.")
    d.find_element(By.CSS_SELECTOR, "input[name=barriers][value=financial]").click()
    shot(d, "4-publish")
    before = lessons(home)
    d.find_element(By.ID, "submit").click()
    wait_for(d, "#published")
    h1 = d.find_element(By.ID, "title")
    check(h1.text == title, "the published title reads as typed: %r" % h1.text)
    check(not h1.find_elements(By.CSS_SELECTOR, "i"), "the title's <i> is text, not markup")
    check(lessons(home) == before + 1, "the form stored one lesson")

    # Attach a file to it with the upload form: a new version lists it.
    plan = os.path.join(os.path.dirname(home), "skoler-varmepumpe.pdf")
    with open(plan, "wb") as fp:
        fp.write(b"%PDF-1.4 heat pumps in three village schools\n" * 200)
    wait_for(d, "#f_file").send_keys(plan)
    shot(d, "4b-attach")
    d.find_element(By.ID, "attach").click()
    wait_for(d, "#published")
    link = wait_for(d, "#files a")
    check(link.text == "skoler-varmepumpe.pdf" and
          "/file/" in (link.get_attribute("href") or ""),
          "the new version links the uploaded file: %r" % link.text)
    check(d.find_element(By.ID, "title").text == title, "the new version keeps the title")

    # It is found by search.
    d.get(w.base + "/")
    wait_for(d, "#q").send_keys("heat pump school")
    d.find_element(By.ID, "go").click()
    wait_for(d, "#hits li, #none")
    titles = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#hits .title")]
    check(title in titles, "search finds the new lesson: %r" % titles)

    # Without the token the form is refused and nothing is stored.
    d.get(w.base + "/publish?kind=lesson")
    wait_for(d, "#f_title").send_keys("A lesson without the token")
    d.delete_all_cookies()
    d.find_element(By.ID, "submit").click()
    wait_for(d, ".err")
    check("token" in d.find_element(By.CSS_SELECTOR, ".err").text,
          "without the token the form is refused, saying why")
    check(lessons(home) == before + 1, "nothing was stored without the token")
    d.get(w.url)            # the token again
    wait_for(d, "#q")

    # A target through the same form: it shows on the municipality's page.
    d.get(w.base + "/publish?kind=target")
    wait_for(d, "#f_title").send_keys("Climate neutral municipality by 2040")
    Select(d.find_element(By.ID, "f_type")).select_by_value("net_zero")
    d.find_element(By.ID, "f_baseline_year").send_keys("2018")
    d.find_element(By.ID, "f_target_year").send_keys("2040")
    d.find_element(By.ID, "f_reduction_pct").send_keys("100")
    d.find_element(By.ID, "submit").click()
    wait_for(d, "#published")
    d.get(w.base + "/town/" + webtest.key(AGORA, home))
    wait_for(d, "#title")
    check("Climate neutral municipality by 2040" in d.find_element(By.TAG_NAME, "main").text,
          "the target published through the form is on the municipality's page")

    # A coordinator admits a municipality through the form (Danish pages).
    newhome = os.path.join(os.path.dirname(home), "aabenraa")
    webtest.run(AGORA, newhome, "init", "--name", "Aabenraa Kommune", "--country", "DK")
    d.get(w.base + "/members?lang=da")
    wait_for(d, "#admit").click()
    wait_for(d, "#f_key").send_keys(webtest.key(AGORA, newhome))
    check(d.find_element(By.TAG_NAME, "h1").text == "Optag en kommune",
          "the admission form speaks Danish when asked")
    d.find_element(By.ID, "f_name").send_keys("Aabenraa Kommune")
    d.find_element(By.ID, "f_country").send_keys("dk")
    Select(d.find_element(By.ID, "f_role")).select_by_value("member")
    shot(d, "8-admit")
    d.find_element(By.ID, "submit").click()
    wait_for(d, "#published")
    d.get(w.base + "/members")
    wait_for(d, "#node")
    check("Aabenraa Kommune" in d.find_element(By.TAG_NAME, "main").text,
          "the admitted municipality is on the members page")

    coordinator_forms(d, w, home, webtest.key(AGORA, newhome))
    member_is_told(d, home)
    d.get(w.url)            # this node's token again (the member's replaced it)
    wait_for(d, "#q")

    # Hostile records are text on the result page and their own pages.
    d.get(w.base + "/?q=alert")
    wait_for(d, "#hits li")
    no_alert(d, "the results")
    no_hostile_elements(d, "the results")
    titles = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#hits .title")]
    check(webtest.SCRIPT in titles and webtest.IMG in titles,
          "the hostile titles are hits, as text: %r" % titles)
    for rid in (ids["own_lesson"], ids["evil_measure"]):
        d.get(w.base + "/record/" + rid)
        wait_for(d, "#title")
        no_alert(d, "record " + rid)
        no_hostile_elements(d, "record " + rid)
    check(d.find_element(By.ID, "title").text == webtest.IMG, "the <img> title reads as typed")
    d.get(w.base + "/town/" + ids["evil_key"])
    wait_for(d, "#title")
    no_alert(d, "the hostile town")
    no_hostile_elements(d, "the hostile town")
    check(webtest.HOSTILE_TOWN in d.find_element(By.ID, "title").text,
          "the hostile town name reads as typed")

    # The other main pages.
    for path, name, css in (("/town/" + webtest.key(AGORA, home), "5-municipality", "#title"),
                            ("/members", "6-members", "#node"),
                            ("/report", "7-report", "#report")):
        d.get(w.base + path)
        wait_for(d, css)
        no_alert(d, path)
        shot(d, name)
    # The report (in its frame) shows the hostile town name as text too.
    d.switch_to.frame(d.find_element(By.ID, "report"))
    wait_for(d, "h1")
    no_alert(d, "the report")
    no_hostile_elements(d, "the report")
    d.switch_to.default_content()

    # The live report in each language (?lang= is kept as a cookie, so
    # each page after it speaks it: English first, as the reference).
    english = None
    for lang in ("en", "da", "pl", "nl"):
        d.get(w.base + "/report?lang=" + lang)
        wait_for(d, "#report")
        d.switch_to.frame(d.find_element(By.ID, "report"))
        wait_for(d, "h1")
        title = d.find_element(By.TAG_NAME, "h1").text
        d.switch_to.default_content()
        if lang == "en":
            english = title
            check(title.startswith("Summit report"), "the English report's title: %r" % title)
            shot(d, "7-report-en")
            continue
        check(title != english, "the report's title in %s: %r (English: %r)" % (lang, title, english))
        shot(d, "7-report-" + lang)


if __name__ == "__main__":
    main()
