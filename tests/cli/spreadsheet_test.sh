#!/usr/bin/env bash
# Spreadsheets in (issue 15): the CSV tables `agora export` writes import
# again at another node field by field, a second import stores nothing,
# Excel's ways of writing CSV are read, and bad files are refused whole.
set -euo pipefail
. "$(dirname "$0")/lib_core.sh"
EX="$(cd "$(dirname "$0")/../../contrib/examples" && pwd)"
a() { "$AGORA" --home "$TMP/a" "$@"; }
b() { "$AGORA" --home "$TMP/b" "$@"; }
count() { "$AGORA" --home "$TMP/$1" export | wc -l; }

a init --name "Assens Kommune" --country DK --alliance DK2020 >/dev/null
a publish --file "$EX/assens.jsonl" >/dev/null 2>&1 || fail "examples"
run 0 a export --format csv --output-dir "$TMP/x"

# The columns are what the export help promises, read by Python's csv module.
python3 - "$TMP/x" <<'PY' || fail "csv columns"
import csv, sys, os
want = {"measures.csv": "id,municipality,country,title,summary,language,sector,areas,instruments,mitigation,adaptation,hazards,status,start_year,end_year,investment,running_cost,currency,financing,energy_saving_mwh,renewable_mwh,reduction_tco2e,stakeholders,tags,responsible,illustrative,created",
        "results.csv": "id,municipality,measure,measure_title,year,period,indicator,value,unit,baseline_value,baseline_year,estimation,method,factor_source,note,language,illustrative,created"}
for f, cols in want.items():
    rows = list(csv.reader(open(os.path.join(sys.argv[1], f), encoding="utf-8", newline="")))
    assert rows[0] == cols.split(","), (f, rows[0])
    assert len(rows) > 2 and all(len(r) == len(rows[0]) for r in rows), f
PY

# Re-importing its own export at the same node stores nothing new.
before=$(count a)
run 0 a publish --file "$TMP/x"
grep -qF "already published" <<<"$ERR$OUT" || fail "no 'already published': $ERR"
[ "$(count a)" = "$before" ] || fail "own export re-imported stored records"

# At a fresh node: another municipality's records need --as-mine.
b init --name "Vejle Kommune" --country dk --alliance T >/dev/null
b whoami | grep -q . || fail "init with --country dk"
base=$(count b)
run 3 b publish --file "$TMP/x"
grep -qF -- "--as-mine" "$TMP/err" || fail "no --as-mine asked for: $ERR"
[ "$(count b)" = "$base" ] || fail "stored without --as-mine"
run 0 b publish --file "$TMP/x" --as-mine
# ... but never its profile: b keeps its own name, and says it left it out.
grep -qF "profiles.csv: row 2 (Assens Kommune)" <<<"$ERR" || fail "no profile left out: $ERR"
grep -qF "never its profile" <<<"$ERR" || fail "no word on the profile: $ERR"
b whoami | grep -q "profile: *Vejle Kommune (DK)" || fail "import renamed b: $(b whoami)"
[ "$(b export --kind profile | grep -c 'Assens')" = 0 ] || fail "b published Assens' profile"
# A profile written by hand under another name is another municipality's too.
echo '{"kind":"profile","name":"Odense Kommune","country":"DK"}' >"$TMP/odense.jsonl"
run 3 b publish --file "$TMP/odense.jsonl"
grep -qF "it is the profile of Odense Kommune, not of Vejle Kommune" <<<"$ERR" || fail "odense: $ERR"
run 0 b publish --file "$TMP/odense.jsonl" --as-mine
grep -qF "nothing published" <<<"$OUT$ERR" || fail "odense --as-mine: $OUT $ERR"
[ "$(b export --kind profile | grep -c 'Odense')" = 0 ] || fail "b published Odense's profile"
run 0 b export --format csv --output-dir "$TMP/y"
# Same records, field by field (ids, times and the author's columns aside;
# a result's measure by its title).
python3 - "$TMP/x" "$TMP/y" <<'PY' || fail "round trip differs"
import csv, sys, os
skip = {"id", "municipality", "country", "created", "measure", "measures", "target"}
for f in sorted(os.listdir(sys.argv[1])):
    def rows(d):
        r = list(csv.DictReader(open(os.path.join(d, f), encoding="utf-8", newline="")))
        out = sorted(tuple((k, v) for k, v in x.items() if k not in skip) for x in r)
        return [x for x in out if f != "profiles.csv"]
    x, y = rows(sys.argv[1]), rows(sys.argv[2])
    assert x == y, (f, [a for a in x if a not in y][:1], [a for a in y if a not in x][:1])
PY
# Results still cite their measure (by the new id, which the title shows).
python3 - "$TMP/y/results.csv" <<'PY' || fail "results lost their measure"
import csv, sys
r = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
assert r and all(x["measure_title"] for x in r), r[:1]
PY
after=$(count b)
run 0 b publish --file "$TMP/x" --as-mine
grep -qF "nothing new" <<<"$OUT$ERR" || fail "second import: $OUT $ERR"
[ "$(count b)" = "$after" ] || fail "second import stored records"
run 0 b publish --file "$TMP/x/measures.csv" --as-mine --again
[ "$(count b)" -gt "$after" ] || fail "--again stored nothing"

# xlsx: one sheet per kind with the CSV's columns, read by openpyxl (the
# Debian package, so the system python), imported at a third node the same.
PYX=
for p in python3 /usr/bin/python3; do "$p" -c 'import openpyxl' 2>/dev/null && { PYX=$p; break; }; done
[ -n "$PYX" ] || fail "python3-openpyxl is not installed (contrib/setup.sh test installs it)"
run 0 a export --format xlsx -o "$TMP/a.xlsx"
"$PYX" - "$TMP/a.xlsx" "$TMP/x" <<'PY' || fail "xlsx sheets differ from the CSV tables"
import csv, os, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
names = sorted(f[:-4] for f in os.listdir(sys.argv[2]))
assert sorted(wb.sheetnames) == names, (wb.sheetnames, names)
def text(v):
    if v is None: return ""
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, float) and v.is_integer(): return str(int(v))
    return str(v)
for n in names:
    rows = [[text(c) for c in r] for r in wb[n].iter_rows(values_only=True)]
    want = list(csv.reader(open(os.path.join(sys.argv[2], n + ".csv"), encoding="utf-8")))
    assert rows == want, (n, [r for r in rows if r not in want][:1], [r for r in want if r not in rows][:1])
# numbers are numbers, booleans booleans
m = wb["measures"]; hdr = [c.value for c in m[1]]
assert isinstance(m.cell(2, hdr.index("start_year") + 1).value, int)
assert isinstance(m.cell(2, hdr.index("mitigation") + 1).value, bool)
PY
"$AGORA" --home "$TMP/c" init --name "Lemvig Kommune" --country DK --alliance T >/dev/null
run 0 "$AGORA" --home "$TMP/c" publish --file "$TMP/a.xlsx" --as-mine
grep -qF "sheet profiles, row 2 (Assens Kommune) and 1 more profile row: left out" <<<"$ERR" || fail "xlsx profile: $ERR"
"$AGORA" --home "$TMP/c" whoami | grep -q "profile: *Lemvig Kommune (DK)" || fail "xlsx import renamed c"
run 0 "$AGORA" --home "$TMP/c" export --format csv --output-dir "$TMP/z"
python3 - "$TMP/y" "$TMP/z" <<'PY' || fail "xlsx round trip differs"
import csv, sys, os
skip = {"id", "municipality", "country", "created", "measure", "measures", "target"}
for f in sorted(os.listdir(sys.argv[1])):
    def rows(d):
        r = list(csv.DictReader(open(os.path.join(d, f), encoding="utf-8", newline="")))
        out = sorted(tuple((k, v) for k, v in x.items() if k not in skip) for x in r)
        return [x for x in out if f != "profiles.csv"]
    assert rows(sys.argv[1]) == rows(sys.argv[2]), f
PY
after=$("$AGORA" --home "$TMP/c" export | wc -l)
run 0 "$AGORA" --home "$TMP/c" publish --file "$TMP/a.xlsx" --as-mine
[ "$("$AGORA" --home "$TMP/c" export | wc -l)" = "$after" ] || fail "second xlsx import stored records"
# Saved again as Excel does (text in xl/sharedStrings.xml, not inline), one
# cell edited: one new version of that measure, the rest already published.
python3 - "$TMP/a.xlsx" "$TMP/edited.xlsx" <<'PY'
import re, sys, zipfile
from xml.sax.saxutils import escape
src = zipfile.ZipFile(sys.argv[1]); out = zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED)
strings = []
def shared(m):
    strings.append(m.group(2))
    return '%s t="s"><v>%d</v>' % (m.group(1), len(strings) - 1)
for info in src.infolist():
    data = src.read(info.filename)
    if info.filename.startswith("xl/worksheets/"):
        text = data.decode()
        if info.filename.endswith("sheet1.xml"):   # measures: B2's status
            text = text.replace("<t>ongoing</t>", "<t>completed</t>", 1)
        text = re.sub(r'(<c r="[A-Z]+[0-9]+"[^>]*?) t="inlineStr"><is><t[^>]*>(.*?)</t></is>', shared, text)
        assert 'inlineStr' not in text
        data = text.encode()
    out.writestr(info, data)
out.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
             "".join("<si><t>%s</t></si>" % s for s in strings) + "</sst>")
out.close()
PY
before=$(count a)
run 0 a publish --file "$TMP/edited.xlsx"
grep -qF "published 1 record from" <<<"$OUT$ERR" || fail "edited xlsx: $OUT $ERR"
grep -qF "(1 as new version of earlier records)" <<<"$OUT$ERR" || fail "not an edit: $OUT $ERR"
[ "$(a export --kind measure --status completed | wc -l)" = 1 ] || fail "the edit is not the newest version"
# A zip bomb (80 MB of shared strings in 80 kB) is refused before it is inflated.
python3 - "$TMP/bomb.xlsx" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)
z.writestr("xl/workbook.xml", '<workbook xmlns:r="r"><sheets><sheet name="measures" r:id="rId1"/></sheets></workbook>')
z.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
z.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * (80 << 20) + b"</sst>")
z.close()
PY
run 3 a publish --file "$TMP/bomb.xlsx"
grep -qF "too large to import at once" "$TMP/err" || fail "zip bomb: $ERR"
printf 'PK\x03\x04not a zip at all' >"$TMP/broken.xlsx"
run 3 a publish --file "$TMP/broken.xlsx"
grep -qF "not an xlsx workbook" "$TMP/err" || fail "broken xlsx: $ERR"

# A JSON Lines export of another node (newest first, an edited record among
# them) is refused without --as-mine, and imports whole with it, once.
a amend "$(a export --kind measure | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" \
	--responsible "Klimasekretariatet" >/dev/null
run 0 a export -o "$TMP/a.jsonl"
"$AGORA" --home "$TMP/e" init --name "Lolland Kommune" --country DK --alliance T >/dev/null
run 3 "$AGORA" --home "$TMP/e" publish --file "$TMP/a.jsonl"
grep -qF "signed by another author" "$TMP/err" || fail "jsonl foreign: $ERR"
run 0 "$AGORA" --home "$TMP/e" publish --file "$TMP/a.jsonl" --as-mine
# (every record but Assens' profiles: Lolland keeps its own)
[ "$("$AGORA" --home "$TMP/e" export | wc -l)" = \
  "$(($(wc -l <"$TMP/a.jsonl") - $(grep -c '"kind":"profile"' "$TMP/a.jsonl") + 1))" ] ||
	fail "jsonl --as-mine did not store every record"
"$AGORA" --home "$TMP/e" whoami | grep -q "profile: *Lolland Kommune (DK)" || fail "jsonl import renamed e"
run 0 "$AGORA" --home "$TMP/e" publish --file "$TMP/a.jsonl" --as-mine
grep -qF "nothing new" <<<"$OUT$ERR" || fail "jsonl second import: $OUT $ERR"

# Excel, Danish settings: BOM, ';' between cells, decimal commas.
printf '\xef\xbb\xbfid;title;summary;language;sector;mitigation;status;investment;currency;reduction_tco2e;tags\r\n;Solceller på skoler;Tagmonterede anlæg;da;local_electricity_production;SAND;ongoing;1200000,5;DKK;12,25;"sol; skoler"\r\n' >"$TMP/dk.csv"
run 0 a publish --file "$TMP/dk.csv" --json
id=$(a query --title "Solceller" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["id"] if isinstance(d,list) else d["id"])' 2>/dev/null) ||
	id=$(a export | python3 -c 'import json,sys
for l in sys.stdin:
    d=json.loads(l)
    if d.get("title")=="Solceller på skoler": print(d["id"])')
a show "$id" --json >"$TMP/show.json"
[ "$(json_get "$TMP/show.json" 'd["investment"]')" = "1200000.5" ] || fail "decimal comma: $(cat "$TMP/show.json")"
[ "$(json_get "$TMP/show.json" 'd["reduction_tco2e"]')" = "12.25" ] || fail "decimal comma 2"
[ "$(json_get "$TMP/show.json" 'd["tags"]')" = "['sol', 'skoler']" ] || fail "list"

# A broken row names row and column, and nothing of the file is stored.
before=$(count a)
printf 'title,language,start_year\nGood one,en,2020\nBad one,en,20x1\n' >"$TMP/bad.csv"
run 3 a publish --file "$TMP/bad.csv"
grep -qF "row 3, column C (start_year)" "$TMP/err" || fail "row/column not named: $ERR"
[ "$(count a)" = "$before" ] || fail "a broken file stored records"
printf 'title,language,start_year\nGood one,klingon,2020\n' >"$TMP/lang.csv"
run 3 a publish --file "$TMP/lang.csv"
grep -qF "row 2, column B (language): 'klingon' is not a known language" "$TMP/err" ||
	fail "klingon: $ERR"
run 3 a publish measure --title T --language klingon
grep -qF "'klingon' is not a known language" "$TMP/err" || fail "klingon flag: $ERR"

# Latin-1 is refused with what to do.
printf 'title,language\nVådområde,da\n' | iconv -f UTF-8 -t LATIN1 >"$TMP/latin1.csv"
run 3 a publish --file "$TMP/latin1.csv"
grep -qF "the file is not UTF-8 (byte 0xe5 at line 2): save it as UTF-8 (in Excel: Save As, CSV UTF-8)" \
	"$TMP/err" || fail "latin-1: $ERR"
# A JSON file with a byte-order mark is read.
printf '\xef\xbb\xbf{"kind": "lesson", "title": "BOM", "language": "en"}\n' >"$TMP/bom.json"
run 0 a publish --file "$TMP/bom.json"
# Left out, the profile row still counts as a row: a result after it cites
# the measure its "@ref" names, not its neighbour.
"$AGORA" --home "$TMP/r" init --name "Vejle Kommune" --country DK --alliance T >/dev/null
cat >"$TMP/refs.jsonl" <<'J'
{"kind":"profile","name":"Odense Kommune","country":"DK"}
{"kind":"measure","ref":"one","title":"Ref one","language":"da","mitigation":true,"sector":"waste","status":"ongoing"}
{"kind":"measure","ref":"two","title":"Ref two","language":"da","mitigation":true,"sector":"waste","status":"ongoing"}
{"kind":"result","measure":"@two","year":2024,"indicator":"Tons","value":5,"unit":"t","language":"da"}
J
run 0 "$AGORA" --home "$TMP/r" publish --file "$TMP/refs.jsonl" --as-mine
"$AGORA" --home "$TMP/r" query --kind measure --jsonl >"$TMP/m.jsonl"
"$AGORA" --home "$TMP/r" query --kind result --jsonl >"$TMP/r.jsonl"
python3 - "$TMP/m.jsonl" "$TMP/r.jsonl" <<'PY' || fail "the result cites the wrong measure"
import json, sys
ms = {json.loads(l)["title"]: json.loads(l)["id"] for l in open(sys.argv[1])}
rs = [json.loads(l) for l in open(sys.argv[2])]
r = [x for x in rs if x.get("measure") in ms.values() and x.get("value") == 5]
assert r and r[0]["measure"] == ms["Ref two"], (r, ms)
PY
echo "PASS spreadsheet"
