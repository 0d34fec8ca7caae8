#!/usr/bin/env bash
# query_test.sh - `agora query`: each filter, each output format, the table's
# width, and the errors for unknown names.  Usage: query_test.sh path/to/agora
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
A() { "$AGORA" --home "$TMP/a" "$@"; }

# --- data: Assens in DK2020 (one measure amended later) ----------------------
run 0 A init --name "Assens Kommune" --country DK --alliance DK2020
cat >"$TMP/data.jsonl" <<'JSON'
{"kind": "measure", "ref": "wet", "title": "Vådområde ved Assens", "summary": "Wetland, restored", "language": "da", "adaptation": true, "sector": "agriculture_forestry_fisheries", "areas": ["wetlands", "tree_planting"], "hazards": ["coastal_flood"], "status": "ongoing", "start_year": 2021, "end_year": 2025, "tags": ["nature", "water"]}
{"kind": "measure", "ref": "dh", "title": "District heating, \"phase 2\"", "summary": "Line one\nline two", "language": "en", "mitigation": true, "sector": "local_heat_cold_production", "areas": ["district_heating"], "status": "completed", "start_year": 2018, "end_year": 2020, "tags": ["heat"]}
{"kind": "result", "measure": "@wet", "year": 2023, "indicator": "Wetland restored", "value": 42, "unit": "ha", "estimation": "measured", "language": "en"}
{"kind": "lesson", "title": "Talk to landowners first", "measures": ["@wet"], "barriers": ["social"], "year": 2022, "language": "en"}
{"kind": "inventory", "type": "bei", "year": 2019, "sectors": [{"sector": "residential_buildings", "tco2e": 1000, "mwh": 5000}], "factor_source": "IPCC 2006", "factor_method": "ipcc"}
JSON
run 0 A publish --file "$TMP/data.jsonl"

# --- kinds and every filter --------------------------------------------------
run 0 A query --jsonl
total=$(lines)
[ "$total" -ge 5 ] || fail "expected at least 5 records, got $total"
run 0 A query --kind measure --jsonl
[ "$(lines)" = 2 ] || fail "--kind measure: $(lines) lines"
run 0 A query --kind result --jsonl
[ "$(lines)" = 1 ] || fail "--kind result"; has '"Wetland restored"'
run 0 A query --sector local_heat_cold_production --jsonl
[ "$(lines)" = 1 ] || fail "--sector"; has 'District heating'
run 0 A query --area wetlands --jsonl
[ "$(lines)" = 1 ] || fail "--area"; has 'Vådområde'
run 0 A query --hazard coastal_flood --jsonl
[ "$(lines)" = 1 ] || fail "--hazard"; has 'Vådområde'
run 0 A query --status completed --jsonl
[ "$(lines)" = 1 ] || fail "--status"; has 'District heating'
run 0 A query --tag NATURE --jsonl
[ "$(lines)" = 1 ] || fail "--tag (case-folded)"; has 'Vådområde'
run 0 A query --kind measure --since 2021 --jsonl
[ "$(lines)" = 1 ] || fail "--since"; has 'Vådområde'
run 0 A query --kind measure --until 2020 --jsonl
[ "$(lines)" = 1 ] || fail "--until"; has 'District heating'
run 0 A query --text "VÅDOMRÅDE" --jsonl
[ "$(lines)" = 1 ] || fail "--text folds case"; has 'Vådområde'
run 0 A query --municipality assens --kind measure --jsonl
[ "$(lines)" = 2 ] || fail "--municipality substring, case-insensitive"
run 0 A query --alliance DK2020 --kind measure --jsonl
[ "$(lines)" = 2 ] || fail "--alliance"
wet=$(A query --kind measure --area wetlands --jsonl | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
run 0 A query --measure "${wet:0:10}" --jsonl
[ "$(lines)" = 2 ] || fail "--measure: results and lessons of the measure: $OUT"
has 'Wetland restored'; has 'Talk to landowners first'
run 0 A query --limit 2 --jsonl
[ "$(lines)" = 2 ] || fail "--limit 2"
run 0 A query --limit 0 --jsonl
[ "$(lines)" = "$total" ] || fail "--limit 0 is all"

# --- sort --------------------------------------------------------------------
newest=$(A query --kind measure --sort newest --jsonl | sed -n 1p | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])')
oldest=$(A query --kind measure --sort oldest --jsonl | sed -n 1p | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])')
[ "$newest" != "$oldest" ] || fail "--sort newest and oldest give the same first record"
run 0 A query --text wetland --sort relevance --jsonl
has 'Wetland'

# --- history: an amended measure ---------------------------------------------
printf '{"kind": "measure", "supersedes": "%s", "title": "Vådområde ved Assens (udvidet)", "summary": "Bigger", "language": "da", "adaptation": true, "sector": "agriculture_forestry_fisheries", "areas": ["wetlands"], "status": "ongoing", "start_year": 2021, "end_year": 2026}\n' "$wet" >"$TMP/amend.jsonl"
if A publish --file "$TMP/amend.jsonl" >/dev/null 2>"$TMP/err"; then
	run 0 A query --kind measure --jsonl
	[ "$(lines)" = 2 ] || fail "superseded version must not be listed"
	has 'udvidet'
	run 0 A query --kind measure --history --jsonl
	[ "$(lines)" = 3 ] || fail "--history lists all versions"
	run 0 A query --kind measure --history
	has '[superseded]'
else
	echo "note: publishing a supersede failed ($(cat "$TMP/err")); --history not tested" >&2
fi

# --- output formats ----------------------------------------------------------
run 0 A query --kind measure --json
printf '%s' "$OUT" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert isinstance(a,list) and len(a)==2, a; assert all(len(r["id"])==64 for r in a)' \
	|| fail "--json is not an array of 2 records"
run 0 A query --kind result --json --limit 0
printf '%s' "$OUT" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert len(a)==1 and a[0]["kind"]=="result"' || fail "--json one"
run 0 A query --kind lesson --status cancelled --json
[ "$OUT" = "[]" ] || fail "empty --json must be []: $OUT"

run 0 A query --kind measure --csv
first=$(printf '%s\n' "$OUT" | sed -n 1p | tr -d '\r')
[ "$first" = "id,kind,municipality,years,sector,status,title,created" ] || fail "CSV header: $first"
has '"District heating, ""phase 2"""'
printf '%s' "$OUT" | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
assert len(rows) == 3, rows
assert all(len(r) == 8 for r in rows), rows
assert any(r[6] == "District heating, \"phase 2\"" for r in rows), rows
assert all(r[2] == "Assens Kommune" for r in rows[1:]), rows
' || fail "CSV does not parse back"

# Table (not a terminal: no width limit unless COLUMNS is set).
run 0 A query --kind measure
has 'ID'; has 'MUNICIPALITY'; has 'Assens Kommune'; has 'Vådområde'
[ "$(lines)" = 3 ] || fail "table: header + 2 rows"
short=$(printf '%s\n' "$OUT" | sed -n 2p | cut -c1-12)
[[ "$short" =~ ^[0-9a-f]{12}$ ]] || fail "table starts with a 12-hex id: $short"
run 0 env COLUMNS=60 "$AGORA" --home "$TMP/a" query
printf '%s\n' "$OUT" | python3 -c '
import sys, unicodedata
for line in sys.stdin.read().split("\n"):
    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
    assert w <= 60, (w, line)
' || fail "table wider than COLUMNS=60: $OUT"
has '…'

# --- on a terminal: at most 50 rows unless --limit, and a note when cut -------
# tty CMD...: run CMD with stdout and stderr on a new pseudo-terminal, print
# everything it wrote (read to the end, so nothing is lost when it exits).
tty() {
	python3 - "$@" <<'PY'
import os, subprocess, sys
master, slave = os.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(p.returncode)
PY
}
python3 -c '
for i in range(60):
    print("{\"kind\": \"measure\", \"title\": \"Bulk %d\", \"language\": \"en\", \"mitigation\": true, \"sector\": \"waste\", \"status\": \"ongoing\"}" % i)' >"$TMP/bulk.jsonl"
"$AGORA" --home "$TMP/b" init --name "Bulk By" --country DK --alliance Bulk >/dev/null
"$AGORA" --home "$TMP/b" publish --file "$TMP/bulk.jsonl" >/dev/null
tty "$AGORA" --home "$TMP/b" query --kind measure >"$TMP/tty"
rows=$(grep -c 'Bulk [0-9]' "$TMP/tty" || true)
[ "$rows" = 50 ] || fail "terminal default limit: $rows rows"
grep -q 'limit 0 shows all' "$TMP/tty" || fail "terminal: no note that rows were cut"
tty "$AGORA" --home "$TMP/b" query --kind measure --limit 0 >"$TMP/tty"
[ "$(grep -c 'Bulk [0-9]' "$TMP/tty")" = 60 ] || fail "terminal --limit 0"
tty "$AGORA" --home "$TMP/a" query --kind measure >"$TMP/tty"
! grep -q 'shows all' "$TMP/tty" || fail "terminal: note although nothing was cut"

# --- errors ------------------------------------------------------------------
run 4 A query --municipality "zzz-nowhere"
[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "error is one line: $ERR"
grep -q 'Assens Kommune' <<<"$ERR" || fail "unknown municipality lists known names: $ERR"
run 2 A query --kind bogus
grep -q 'measure' <<<"$ERR" || fail "bad --kind lists kinds: $ERR"
run 2 A query --sector bogus
grep -q 'waste' <<<"$ERR" || fail "bad --sector lists sectors: $ERR"
run 2 A query --hazard heat
grep -q 'extreme_heat' <<<"$ERR" || fail "bad --hazard lists hazards: $ERR"
run 2 A query --since 20x1
run 2 A query --since 2030 --until 2020
run 2 A query --limit -3
run 2 A query --sort sideways
run 2 A query --frobnicate
run 2 A query --kind
run 4 A query --alliance "No Such Alliance"
run 0 A query --help
has '--municipality'; has '--limit'
run 4 "$AGORA" --home "$TMP/none" query
echo "query_test: ok"
