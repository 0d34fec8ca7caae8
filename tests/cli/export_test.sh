#!/usr/bin/env bash
# export_test.sh - `agora export`: JSON Lines, CSV tables with SECAP columns,
# RFC 4180 quoting, one row per inventory sector, --output-dir, filters.
# Usage: export_test.sh path/to/agora
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
A() { "$AGORA" --home "$TMP/a" "$@"; }

run 0 A init --name "Assens Kommune" --country DK --alliance DK2020
cat >"$TMP/data.jsonl" <<'JSON'
{"kind": "measure", "ref": "wet", "title": "Vådområde, \"fase 1\"", "summary": "Line one\nline two", "language": "da", "adaptation": true, "sector": "agriculture_forestry_fisheries", "areas": ["wetlands", "tree_planting"], "hazards": ["coastal_flood", "heavy_precipitation"], "status": "ongoing", "start_year": 2021, "end_year": 2025, "investment": 1200000, "currency": "DKK", "financing": ["municipal_budget", "foundation"], "reduction_tco2e": 12.5, "stakeholders": ["Landowners", "Naturstyrelsen"], "tags": ["nature"], "responsible": "Teknik og Miljø"}
{"kind": "result", "measure": "@wet", "year": 2023, "indicator": "Wetland restored", "value": 42, "unit": "ha", "estimation": "measured", "language": "en"}
{"kind": "lesson", "title": "Talk to landowners first", "measures": ["@wet"], "barriers": ["social", "financial"], "year": 2022, "language": "en"}
{"kind": "target", "type": "absolute_reduction", "title": "-70 % by 2030", "baseline_year": 1990, "baseline_tco2e": 500000, "target_year": 2030, "reduction_pct": 70, "scope": "territorial", "language": "en"}
{"kind": "inventory", "type": "bei", "year": 2019, "sectors": [{"sector": "residential_buildings", "tco2e": 1000, "mwh": 5000}, {"sector": "transport_private_commercial", "tco2e": 2000.25}], "factor_source": "IPCC 2006", "factor_method": "ipcc"}
JSON
run 0 A publish --file "$TMP/data.jsonl"

# --- JSON Lines (default), everything and filtered ---------------------------
run 0 A export
n=$(lines)
[ "$n" -ge 5 ] || fail "export: $n lines"
printf '%s\n' "$OUT" | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin if l.strip()]
kinds = sorted(r["kind"] for r in recs)
for k in ("inventory", "lesson", "measure", "result", "target"):
    assert k in kinds, kinds
assert all(len(r["id"]) == 64 for r in recs)
' || fail "export JSONL"
run 0 A export --format jsonl --kind result
[ "$(lines)" = 1 ] || fail "export --kind result"; has '"Wetland restored"'
run 0 A export --kind measure -o "$TMP/m.jsonl"
[ -z "$OUT" ] || fail "-o FILE writes nothing to stdout"
[ "$(wc -l <"$TMP/m.jsonl")" = 1 ] || fail "-o FILE content"

# --- CSV: measures (the SECAP actions sheet) ---------------------------------
run 0 A export --format csv --kind measure -o "$TMP/measures.csv"
head -n1 "$TMP/measures.csv" | tr -d '\r' >"$TMP/header"
[ "$(cat "$TMP/header")" = "id,municipality,country,title,summary,language,sector,areas,instruments,mitigation,adaptation,hazards,status,start_year,end_year,investment,running_cost,currency,financing,energy_saving_mwh,renewable_mwh,reduction_tco2e,stakeholders,tags,responsible,illustrative,created" ] \
	|| fail "measures.csv header: $(cat "$TMP/header")"
grep -qF '"Vådområde, ""fase 1"""' "$TMP/measures.csv" || fail "RFC 4180 quoting of , and \""
python3 - "$TMP/measures.csv" <<'PY' || fail "measures.csv content"
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
assert len(rows) == 1, rows
r = rows[0]
assert r["title"] == 'Vådområde, "fase 1"', r["title"]
assert r["summary"] == "Line one\nline two", repr(r["summary"])
assert r["municipality"] == "Assens Kommune" and r["country"] == "DK", r
assert r["areas"] == "wetlands; tree_planting", r["areas"]
assert r["hazards"] == "coastal_flood; heavy_precipitation", r["hazards"]
assert r["financing"] == "municipal_budget; foundation", r["financing"]
assert r["stakeholders"] == "Landowners; Naturstyrelsen", r["stakeholders"]
assert r["investment"] == "1200000" and r["reduction_tco2e"] == "12.5", r
assert r["start_year"] == "2021" and r["end_year"] == "2025"
assert r["adaptation"] == "true" and r["status"] == "ongoing" and r["sector"] == "agriculture_forestry_fisheries"
assert r["responsible"] == "Teknik og Miljø"
assert len(r["id"]) == 64 and r["created"].endswith("UTC")
PY
grep -q $'\r$' "$TMP/measures.csv" || fail "CSV rows end in CRLF"

# --- CSV: one row per (inventory, sector) ------------------------------------
run 0 A export --format csv --kind inventory
printf '%s' "$OUT" | python3 -c '
import csv, io, sys
rows = list(csv.DictReader(io.StringIO(sys.stdin.read(), newline="")))
assert list(rows[0].keys()) == ["id","municipality","type","year","sector","tco2e","mwh","factor_source","factor_method","illustrative"], list(rows[0].keys())
assert len(rows) == 2, rows
assert rows[0]["id"] == rows[1]["id"]
assert {r["sector"] for r in rows} == {"residential_buildings", "transport_private_commercial"}
by = {r["sector"]: r for r in rows}
assert by["residential_buildings"]["tco2e"] == "1000" and by["residential_buildings"]["mwh"] == "5000"
assert by["transport_private_commercial"]["tco2e"] == "2000.25" and by["transport_private_commercial"]["mwh"] == ""
assert rows[0]["type"] == "bei" and rows[0]["year"] == "2019" and rows[0]["factor_method"] == "ipcc"
' || fail "inventories CSV: $OUT"

# --- CSV: results name their measure -----------------------------------------
run 0 A export --format=csv --kind result
printf '%s' "$OUT" | python3 -c '
import csv, io, sys
rows = list(csv.DictReader(io.StringIO(sys.stdin.read(), newline="")))
assert len(rows) == 1
assert rows[0]["measure_title"] == "Vådområde, \"fase 1\"", rows[0]
assert rows[0]["value"] == "42" and rows[0]["unit"] == "ha" and rows[0]["estimation"] == "measured"
' || fail "results CSV: $OUT"

# --- CSV without --kind: an error, or one file per kind ----------------------
run 2 A export --format csv
grep -q -- '--kind' <<<"$ERR" || fail "csv without --kind explains: $ERR"
run 0 A export --format csv --output-dir "$TMP/csv"
for f in measures inventories results lessons targets profiles; do
	[ -s "$TMP/csv/$f.csv" ] || fail "--output-dir: $f.csv missing"
done
[ ! -e "$TMP/csv/endorsements.csv" ] || fail "no empty table for a kind without records"
grep -q 'Talk to landowners first' "$TMP/csv/lessons.csv" || fail "lessons.csv content"
grep -q 'social; financial' "$TMP/csv/lessons.csv" || fail "lessons.csv barriers"
grep -q '70' "$TMP/csv/targets.csv" || fail "targets.csv content"

# --- errors ------------------------------------------------------------------
run 2 A export --format xml
run 2 A export --output-dir "$TMP/x"
run 2 A export --format csv --kind charter
run 2 A export --bogus
run 1 A export -o "$TMP/no/such/dir/file.jsonl"
run 0 A export --help
has 'measures.csv'
echo "export_test: ok"
