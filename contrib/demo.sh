#!/usr/bin/env bash
# demo.sh - a live agora demo on one machine.
#
# Six municipalities get their own data directories (their own node identity
# and LMDB store).  Assens founds the DK2020 alliance; Vejle, Sønderborg,
# Lolland and Samsø take its charter, publish their example data, and hand
# their signed records back by bundle (the USB-stick path; the network sync
# of agorad replaces this step).  Poznań founds a twin-city alliance with
# Assen.  Then the queries a summit organiser would run.
#
# Usage: contrib/demo.sh [BUILD_DIR]      (default: ./build)
# The data directories stay in $AGORA_DEMO_DIR (default: a new temp dir).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
agora="$build/cli/agora"
examples="$here/contrib/examples"
demo="${AGORA_DEMO_DIR:-$(mktemp -d /tmp/agora-demo.XXXXXX)}"
mkdir -p "$demo"

[ -x "$agora" ] || { echo "demo: $agora not built; run contrib/setup.sh build" >&2; exit 1; }

exec 3>&1   # the command lines always reach the terminal
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
	local line="\$ agora" a
	for a in "$@"; do
		a="${a/#$demo\//}"
		case "$a" in *[[:space:]\'\"\$]*|"") line+=" \"$a\"" ;; *) line+=" $a" ;; esac
	done
	printf '%s\n' "$line" >&3
	"$agora" "$@"
}
# Like run, for commands whose stdout is a list of new record ids: people get
# the one-line summary from stderr instead.
runq() { run "$@" >/dev/null; }

dk2020="DK2020 klimaalliance"
say "Assens founds the DK2020 alliance"
run --home "$demo/assens" init --name "Assens Kommune" --country DK --alliance "$dk2020"
runq --home "$demo/assens" publish --file "$examples/assens.jsonl"
run --home "$demo/assens" bundle create "$demo/charter.agb"

for m in vejle soenderborg lolland samsoe; do
	say "$m joins: takes the charter, publishes its own records"
	name="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["name"])' "$examples/$m.jsonl")"
	run --home "$demo/$m" init --name "$name" --country DK
	run --home "$demo/$m" bundle import "$demo/charter.agb"
	run --home "$demo/$m" alliance use "$dk2020"
	runq --home "$demo/$m" publish --file "$examples/$m.jsonl"
	run --home "$demo/$m" bundle create "$demo/$m.agb"
done

say "Assens imports the members' bundles (every record is verified)"
for m in vejle soenderborg lolland samsoe; do
	run --home "$demo/assens" bundle import "$demo/$m.agb"
done

say "Poznań and Assen found their twin-city alliance"
run --home "$demo/poznan" init --name "Miasto Poznań" --country PL --alliance "Poznań–Assen"
runq --home "$demo/poznan" publish --file "$examples/poznan.jsonl"
run --home "$demo/poznan" bundle create "$demo/poznan.agb"
run --home "$demo/assen" init --name "Gemeente Assen" --country NL
run --home "$demo/assen" bundle import "$demo/poznan.agb"
run --home "$demo/assen" alliance use "Poznań–Assen"
runq --home "$demo/assen" publish --file "$examples/assen.jsonl"

say "What does Assens know now?"
run --home "$demo/assens" alliance list
run --home "$demo/assens" query --kind measure --limit 15
say "Who has built wetlands? (by area of intervention, then full text in any case)"
run --home "$demo/assens" query --area wetlands
run --home "$demo/assens" query --text "VÅDOMRÅDER"
say "Adaptation to coastal flooding across the alliance"
run --home "$demo/assens" query --hazard coastal_flood
say "Lessons about financial barriers"
run --home "$demo/assens" query --kind lesson --text "finansiering"
say "One measure in full, with its results and signature"
id="$("$agora" --home "$demo/assens" query --kind measure --text skovrejsning --jsonl --limit 1 |
	python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')"
run --home "$demo/assens" show "${id:0:12}"
say "Inventories as CSV for a spreadsheet (SECAP columns)"
run --home "$demo/assens" export --kind inventory --format csv -o "$demo/inventories.csv"
head -n 6 "$demo/inventories.csv"
echo "... ($(wc -l < "$demo/inventories.csv") lines in $demo/inventories.csv)"
say "Poznań's records at Assen (twin-city alliance only)"
run --home "$demo/assen" query --text "ubóstwo energetyczne"

say "Done.  Data directories: $demo"
