#!/usr/bin/env bash
# search_test.sh - full-text search finds what people type: every query of
# search_queries.tsv (Danish, Polish, Dutch, English: inflected forms,
# missing diacritics, prefixes with *, phrases in quotes) must list its
# records among the first 10 of `agora query --text QUERY`, in the order
# agora gives when no --sort is given.  The store holds every file of
# contrib/examples/ and the README's quick-start measure.
# Usage: search_test.sh path/to/agora
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
here=$(cd "$(dirname "$0")" && pwd)
examples=$here/../../contrib/examples
A() { "$AGORA" --home "$TMP/a" "$@"; }

run 0 A init --name "Assens Kommune" --country DK --alliance "DK2020 klimaalliance"
for f in "$examples"/*.jsonl; do
	run 0 A publish --file "$f" --as-mine   # one store holds them all
done
# README, Quick start, step 2, as written there
run 0 A publish measure --title "Vådområder ved Haarby Å" --language da \
	--mitigation --adaptation --sector agriculture_forestry_fisheries \
	--areas wetlands --hazards heavy_precipitation,river_flood --status ongoing \
	--start-year 2021 --end-year 2027 --investment 12500000 --currency DKK \
	--reduction-tco2e 1800 --tags vådområder,lavbundsjord

pass=0 total=0 known=0 failed=()
while IFS=$'\t' read -r lang query want why; do
	case "$lang" in ''|'#'*) continue ;; esac
	total=$((total + 1))
	A query --text "$query" --limit 10 --jsonl >"$TMP/hits" 2>"$TMP/err" || true
	missing=$(python3 - "$TMP/hits" "$want" <<'PY'
import json, sys
titles = set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip():
        titles.add(json.loads(line).get("title"))
print(" | ".join(t for t in sys.argv[2].split(" | ") if t not in titles))
PY
)
	if [ -z "$missing" ]; then
		pass=$((pass + 1))
	elif [ -n "$why" ]; then
		known=$((known + 1))
		echo "not found (${why}): [$lang] $query -> missing: $missing" >&2
	else
		failed+=("[$lang] $query -> missing: $missing")
	fi
done <"$here/search_queries.tsv"

# With --text and no --sort, query and export give relevance's order.
ids() { python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"][:8] for l in sys.stdin if l.strip()))'; }
best=$(A query --text vådområde --sort relevance --jsonl | ids)
newest=$(A query --text vådområde --sort newest --jsonl | ids)
[ "$best" != "$newest" ] || fail "relevance and newest agree: the order check shows nothing"
[ "$(A query --text vådområde --jsonl | ids)" = "$best" ] || fail "query --text is not by relevance"
[ "$(A export --text vådområde --format jsonl | ids)" = "$best" ] || fail "export --text is not by relevance"
[ "$(A query --text vådområde --sort newest --jsonl | ids)" = "$newest" ] || fail "--sort newest"

for f in "${failed[@]}"; do
	echo "not found: $f" >&2
done
echo "search: $pass of $total queries find their records in the top 10 ($known known misses)"
[ "$total" -ge 30 ] || fail "only $total queries"
[ "$((pass + known))" = "$total" ] || fail "$((total - pass - known)) of $total queries miss records"
