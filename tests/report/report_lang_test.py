#!/usr/bin/env python3
"""report_lang_test.py - the summit report for people, in its four languages.

A secretariat founds an alliance and publishes no climate data of its own;
one member publishes inventories over fifteen years, an off-track target,
measures with large investments, results and a lesson.  Checked, for
--lang en, da, pl and nl and each format:
- no code name of a code list is shown where a name for people belongs
  (table, Markdown, HTML), and the report's title is the language's own;
- numbers carry the language's thousands separator and decimal sign;
- the generated date ($SOURCE_DATE_EPOCH) and the data-as-of date appear
  in the language's form;
- the secretariat is not a member row (nor a chart), but listed apart;
- the trajectory chart's legend explains each colour drawn (an off-track
  path is red, and "off track" is in the legend); the x axis has a label
  every few years, not only at its ends;
- HTML figures link to their records with short ids, each link resolves to
  a record line holding the full id, and no 64-hex id fills a table cell;
- --format csv is one rectangular table that Python's csv module reads.

Usage: report_lang_test.py AGORA_BINARY
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

AGORA = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="agora-report-lang.")
FAILS = []
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1800000000")    # 2027-01-15 08:00 UTC


def run(home, *args, check=True):
    p = subprocess.run([AGORA, "--home", home] + list(args), capture_output=True, text=True,
                       env=ENV)
    if check and p.returncode != 0:
        sys.exit("FAIL: agora %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


sec, mem = os.path.join(TMP, "secretariat"), os.path.join(TMP, "assens")
run(sec, "init", "--name", "DK2020 Sekretariatet", "--country", "DK", "--alliance", "Klimaalliancen")
run(mem, "init", "--name", "Assens Kommune", "--country", "DK")
key = [l.split()[2] for l in run(mem, "whoami").stdout.splitlines() if l.startswith("public key")][0]
run(sec, "alliance", "admit", key, "--name", "Assens Kommune", "--country", "DK")
charter = os.path.join(TMP, "charter.agb")
run(sec, "bundle", "create", charter)
run(mem, "bundle", "import", charter)
run(mem, "alliance", "use", "Klimaalliancen")
recs = [
    {"kind": "inventory", "type": "bei", "year": 2010, "sectors": [
        {"sector": "local_heat_cold_production", "tco2e": 950000000.0},
        {"sector": "residential_buildings", "tco2e": 12345.5}]},
    {"kind": "inventory", "type": "mei", "year": 2018, "sectors": [
        {"sector": "local_heat_cold_production", "tco2e": 940000000.0}]},
    {"kind": "inventory", "type": "mei", "year": 2024, "sectors": [
        {"sector": "local_heat_cold_production", "tco2e": 930000000.0}]},
    {"kind": "target", "type": "absolute_reduction", "title": "70 % i 2030", "language": "da",
     "baseline_year": 2010, "baseline_tco2e": 950012345.5,
     "target_year": 2030, "reduction_pct": 70.0, "scope": "territorial"},
    {"kind": "measure", "ref": "m1", "title": "Fjernvarme i Glamsbjerg", "language": "da",
     "mitigation": True, "sector": "local_heat_cold_production", "status": "ongoing",
     "start_year": 2021, "investment": 125000000.0, "currency": "DKK",
     "reduction_tco2e": 18000.0},
    {"kind": "result", "measure": "@m1", "year": 2024, "indicator": "Reduktion",
     "unit": "t CO2e/a", "value": 12500.5, "estimation": "measured"},
    {"kind": "lesson", "title": "Tidlig dialog med forsyningen", "language": "da",
     "sector": "local_heat_cold_production", "year": 2024, "outcome": "x"},
]
path = os.path.join(TMP, "assens.jsonl")
with open(path, "w") as f:
    for r in recs:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
run(mem, "publish", "--file", path)
b = os.path.join(TMP, "assens.agb")
run(mem, "bundle", "create", b)
run(sec, "bundle", "import", b)

# Code names that must never be shown to people as they are.
CODES = ["local_heat_cold_production", "residential_buildings", "absolute_reduction",
         "not_started"]
WANT = {
    "en": {"title": "Summit report", "sector": "Local heat/cold production",
           "big": "930,000,000", "dec": "12,500.5", "date": "15 January 2027", "asof": "Data as of: ",
           "off": "target path, off track"},
    "da": {"title": "Topmøderapport", "sector": "Lokal varme- og køleproduktion",
           "big": "930.000.000", "dec": "12.500,5", "date": "15. januar 2027", "asof": "Data pr.: ",
           "off": "reduktionssti, bagud"},
    "pl": {"title": "Raport na szczyt", "sector": "Lokalna produkcja ciepła i chłodu",
           "big": "930\u00a0000\u00a0000", "dec": "12\u00a0500,5", "date": "15 stycznia 2027", "asof": "Dane na dzień: ",
           "off": "ścieżka celu, opóźnienie"},
    "nl": {"title": "Topconferentierapport", "sector": "Lokale warmte- en koudeproductie",
           "big": "930.000.000", "dec": "12.500,5", "date": "15 januari 2027", "asof": "Gegevens per: ",
           "off": "reductiepad, achter op schema"},
}
for lang, w in WANT.items():
    tab = run(sec, "report", "--lang", lang).stdout
    md = run(sec, "report", "--lang", lang, "--format", "markdown").stdout
    out = os.path.join(TMP, "report-%s.html" % lang)
    run(sec, "report", "--lang", lang, "--format", "html", "-o", out)
    html = open(out, encoding="utf-8").read()
    for fmt, text in (("table", tab), ("markdown", md), ("html", html)):
        check(w["title"] in text, "%s %s: title %r" % (lang, fmt, w["title"]))
        check(w["sector"] in text, "%s %s: sector name %r" % (lang, fmt, w["sector"]))
        shown = [c for c in CODES if c in text]
        check(not shown, "%s %s: code names shown: %s" % (lang, fmt, shown))
        check(w["big"] in text, "%s %s: %r with thousands separators" % (lang, fmt, w["big"]))
        check(w["dec"] in text, "%s %s: %r with decimal sign" % (lang, fmt, w["dec"]))
        check("950000000" not in text and "930000000" not in text,
              "%s %s: no ungrouped large number" % (lang, fmt))
        check(w["date"] in text, "%s %s: generated date %r" % (lang, fmt, w["date"]))
        check(w["asof"] in text, "%s %s: data-as-of date" % (lang, fmt))
        # The secretariat is named once, apart, never as a member row.
        check(text.count("DK2020 Sekretariatet") == 1,
              "%s %s: secretariat shown %d times" % (lang, fmt, text.count("DK2020 Sekretariatet")))
    # The off-track path is red and its colour is in the legend.
    check('stroke="#c53030"' in html and w["off"] in html, "%s: off-track legend" % lang)
    # The x axis of the trajectory (2010..2030) has labels between its ends.
    years = set(re.findall(r'text-anchor="middle" font-size="9" fill="#4a5568">(\d{4})<', html))
    check({"2010", "2015", "2020", "2025", "2030"} <= years, "%s: x axis labels %s" % (lang, sorted(years)))
    # Figures link to records by short id; every link has its target.
    links = re.findall(r'<a href="#r-([0-9a-f]{64})" title="\1"><code>([0-9a-f]{8})</code></a>', html)
    targets = set(re.findall(r'<li id="r-([0-9a-f]{64})"><code>\1</code></li>', html))
    check(len(links) >= 5, "%s: figures link to their records (%d links)" % (lang, len(links)))
    check(all(full in targets and full.startswith(short) for full, short in links),
          "%s: every record link resolves to a record line" % lang)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    check(not any(re.search(r"(?<![#r-])\b[0-9a-f]{64}\b", re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"', "", c))) for c in cells),
          "%s: no 64-hex id in a table cell" % lang)

# JSON and CSV stay machine-readable: codes and plain numbers.
js = json.loads(run(sec, "report", "--format", "json", "--lang", "da").stdout)
check(js["generated"] == "2027-01-15", "json generated date %r" % js["generated"])
check(re.match(r"^\d{4}-\d{2}-\d{2}$", js["data_as_of"] or ""), "json data_as_of %r" % js["data_as_of"])
sek = [m for m in js["members"] if m["name"] == "DK2020 Sekretariatet"]
check(sek and sek[0]["coordinator"] and not sek[0]["climate_data"], "json marks the secretariat")

raw = subprocess.run([AGORA, "--home", sec, "report", "--format", "csv", "--lang", "pl", "--explain"],
                     capture_output=True, env=ENV).stdout.decode()
rows = list(csv.reader(io.StringIO(raw, newline="")))
check(rows and rows[0] == ["section", "row", "column", "header", "value", "records"],
      "csv header %s" % rows[:1])
check(len(set(len(r) for r in rows)) == 1, "csv rectangular: widths %s" % set(len(r) for r in rows))
dr = list(csv.DictReader(io.StringIO(raw, newline="")))
prog = {r["column"]: r["value"] for r in dr if r["section"] == "progress"}
check(prog.get("latest") == "930000000" and prog.get("municipality") == "Assens Kommune",
      "csv progress row: %s" % prog)
check(not any(r["value"] == "DK2020 Sekretariatet" for r in dr if r["section"] == "progress"),
      "csv: no secretariat row")
check(all(re.fullmatch(r"([0-9a-f]{64}( [0-9a-f]{64})*)?", r["records"]) for r in dr),
      "csv records are full ids")

shutil.rmtree(TMP)
if FAILS:
    print("%d check(s) failed" % len(FAILS))
    sys.exit(1)
print("report_lang_test: all checks passed")
