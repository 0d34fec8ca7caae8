#!/usr/bin/env bash
# agora publish KIND with generic flags: every kind, read back as JSON, and
# the errors for bad values naming the flag.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H" DK2020
P() { expect_exit "$1" "$AGORA" --home "$H" publish "${@:2}"; }

P 0 measure --title "Vådområde ved Gamborg" --language da --sector agriculture_forestry_fisheries \
	--areas wetlands,tree_planting --areas climate-proofing --mitigation --adaptation \
	--hazards flash_flood --start-year 2022 --investment 1200000.5 --currency DKK \
	--status ongoing --translation "en:Wetland at Gamborg:Restoring a wetland" \
	--tags wetlands --stakeholders "Region Syddanmark" --no-illustrative --json
m=$(json_get "$TMP/out" 'd["id"]')
[ "$(json_get "$TMP/out" 'd["areas"]')" = "['wetlands', 'tree_planting', 'climate_proofing']" ] ||
	fail "areas: $(json_get "$TMP/out" 'd["areas"]')"
[ "$(json_get "$TMP/out" 'd["investment"]')" = 1200000.5 ] || fail "investment"
[ "$(json_get "$TMP/out" 'd["translations"][0]["summary"]')" = "Restoring a wetland" ] || fail "translation"
[ "$(json_get "$TMP/out" 'd["illustrative"]')" = False ] || fail "--no-illustrative"
[ "$(json_get "$TMP/out" 'd["created"][-1]')" = Z ] || fail "created not ISO UTC"

# Plain output is the id alone.
P 0 result --measure "${m:0:8}" --year 2024 --indicator "restored area" --value 3.5 --unit ha \
	--estimation measured
r=$(cat "$TMP/out")
[[ "$r" =~ ^[0-9a-f]{64}$ ]] || fail "publish did not print an id: $r"

P 0 lesson --title "Talk to farmers early" --language en --measures "$m" --barriers social,financial \
	--json
[ "$(json_get "$TMP/out" 'd["measures"][0]')" = "$m" ] || fail "lesson measures"
P 0 target --type absolute_reduction --baseline-year 1990 --target-year 2030 --reduction-pct 70 \
	--scope territorial --title "70 % by 2030" --language en --json
[ "$(json_get "$TMP/out" 'd["reduction_pct"]')" = 70.0 ] || fail "target"
P 0 inventory --type bei --year 2019 --sector-line waste:1200.5 \
	--sector-line transport_public:300:1000 --factor-source Energistyrelsen --json
[ "$(json_get "$TMP/out" 'd["sectors"][1]["mwh"]')" = 1000.0 ] || fail "sector line"
P 0 endorsement --target "$m" --note "Best practice" --language en --json
[ "$(json_get "$TMP/out" 'd["target"]')" = "$m" ] || fail "endorsement"
P 0 profile --name "Assens Kommune" --country DK --population 41000 --json
[ "$(json_get "$TMP/out" 'd["population"]')" = 41000 ] || fail "profile"

# Read back through the store when `agora show` is there.
if "$AGORA" --home "$H" show "$m" --json >"$TMP/show" 2>/dev/null; then
	[ "$(json_get "$TMP/show" 'd["title"] if "title" in d else d["record"]["title"]')" = \
		"Vådområde ved Gamborg" ] || fail "show does not give the title back"
fi

# Errors: one line, the flag named, the right exit status.
P 3 measure --title T --language da --mitigation --start-year 1850
expect_err_line "agora: --start-year: 1850 is not a plausible year"
P 3 measure --title T --language da --mitigation --sector wetland
expect_err_line "--sector: 'wetland' is not a sector"
P 3 measure --title T --language da --mitigation --areas wetland
expect_err_line "did you mean wetlands"
P 2 measure --title T --bogus 3
expect_err_line "unknown option '--bogus'"   # the one message every command gives
P 3 measure --title T --investment 12abc
expect_err_line "--investment: '12abc' is not a number"
P 3 measure --title T --investment inf
P 3 measure --title T --investment nan
P 3 measure --title T --start-year 2030x
expect_err_line "--start-year"
P 3 measure --title T --mitigation=maybe
P 2 measure --title
expect_err_line "--title needs a value"
P 3 result --measure ffff --year 2024 --value 1 --unit ha
expect_err_line "--measure"
P 2 charter --name X
P 0 measure --help
grep -q -- "--hazards HAZARD\[,...\]" "$TMP/out" || fail "help lacks --hazards"
grep -q "extreme_heat" "$TMP/out" || fail "help lacks enum names"
echo ok
