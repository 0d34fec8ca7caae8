#!/usr/bin/env bash
# demo.sh - a live agora demo on one machine.
#
# Three municipalities run their own node (agorad) with their own data
# directory, identity and LMDB store, connected in a line on loopback:
#
#     Assens  <->  Vejle  <->  Sønderborg
#
# Assens founds the DK2020 alliance and admits the other two (an Admission
# record each, carried to them with the charter as a bundle: a node only
# talks to keys admitted to an alliance it holds); they publish their
# example records, and every node converges, with
# Vejle relaying between the two ends.  A record published at Sønderborg then
# arrives live at Assens.  Poznań and Assen, which have no network link in
# this demo, found their twin-city alliance and hand records over as a signed
# bundle file.  Assens also founds a second alliance on the same node, which
# Vejle and Sønderborg never see.  Then the queries and the report a summit
# organiser would run.
#
# Usage: contrib/demo.sh [BUILD_DIR]      (default: ./build)
# The data directories stay in $AGORA_DEMO_DIR (default: a new temp dir);
# the nodes are stopped when the demo ends.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
agora="$build/cli/agora"
agorad="$build/node/agorad"
examples="$here/contrib/examples"
demo="${AGORA_DEMO_DIR:-$(mktemp -d /tmp/agora-demo.XXXXXX)}"
mkdir -p "$demo"

for b in "$agora" "$agorad"; do
	[ -x "$b" ] || { echo "demo: $b not built; run contrib/setup.sh build" >&2; exit 1; }
done

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

pids=()
stop_nodes() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_nodes EXIT

# wait_for SECONDS WHAT CMD...: poll until CMD succeeds (no blind sleeps).
wait_for() {
	local secs=$1 what=$2; shift 2
	local end=$(( $(date +%s) + secs ))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "demo: gave up waiting ${secs}s for $what; node logs are in $demo/*.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# start NAME: run agorad for NAME on a free loopback port, log to NAME.log.
start() {
	rm -f "$demo/$1/agorad.port"
	printf '$ agorad --home %s --listen 127.0.0.1:0 &\n' "$1" >&3
	"$agorad" --home "$demo/$1" --listen 127.0.0.1:0 2>>"$demo/$1.log" &
	pids+=("$!")
	wait_for 10 "agorad $1 to listen" test -s "$demo/$1/agorad.port"
	wait_for 10 "agorad $1 control socket" "$agora" --home "$demo/$1" status
}
port() { cat "$demo/$1/agorad.port"; }
key() { "$agora" --home "$demo/$1" whoami --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }
records() { "$agora" --home "$demo/$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'; }
same_records() { [ "$(records "$1")" = "$(records "$2")" ]; }
holds_alliance() { grep -qF -- "$2" <<<"$("$agora" --home "$demo/$1" alliance list)"; }
holds_record() { "$agora" --home "$demo/$1" show "$2" >/dev/null; }

dk2020="DK2020 klimaalliance"
say "Three municipalities create their identities; Assens founds DK2020"
# stdin from /dev/null: on a terminal, init would ask for a passphrase for the key.
run --home "$demo/assens" init --name "Assens Kommune" --country DK --alliance "$dk2020" </dev/null
run --home "$demo/vejle" init --name "Vejle Kommune" --country DK </dev/null
run --home "$demo/soenderborg" init --name "Sønderborg Kommune" --country DK </dev/null

say "Assens, the coordinator, admits Vejle and Sønderborg and hands them the charter"
run --home "$demo/assens" alliance admit "$(key vejle)" --name "Vejle Kommune" --country DK
run --home "$demo/assens" alliance admit "$(key soenderborg)" --name "Sønderborg Kommune" --country DK
run --home "$demo/assens" bundle create "$demo/dk2020-governance.agb"
for m in vejle soenderborg; do
	run --home "$demo/$m" bundle import "$demo/dk2020-governance.agb"
	run --home "$demo/$m" alliance use "$dk2020"
done
run --home "$demo/assens" alliance members
runq --home "$demo/assens" publish --file "$examples/assens.jsonl"

say "Each starts its node (agorad) on loopback"
for m in assens vejle soenderborg; do start "$m"; done

say "They become partners, in a line: Assens - Vejle - Sønderborg"
run --home "$demo/assens" peer add "127.0.0.1:$(port vejle)" "$(key vejle)" --name Vejle
run --home "$demo/vejle" peer add "127.0.0.1:$(port assens)" "$(key assens)" --name Assens
run --home "$demo/vejle" peer add "127.0.0.1:$(port soenderborg)" "$(key soenderborg)" --name Sønderborg
run --home "$demo/soenderborg" peer add "127.0.0.1:$(port vejle)" "$(key vejle)" --name Vejle

say "Vejle and Sønderborg publish their records"
for m in vejle soenderborg; do
	runq --home "$demo/$m" publish --file "$examples/$m.jsonl"
done

say "Every node converges on the same records"
wait_for 60 "Assens and Sønderborg to converge" same_records assens soenderborg
wait_for 60 "Vejle to converge" same_records vejle assens
run --home "$demo/vejle" status

say "A record published at Sønderborg arrives live at Assens, two hops away"
t0=$(date +%s%N)
id="$(run --home "$demo/soenderborg" publish lesson --title "Stormflodsdiget skal planlægges med naboerne" \
	--language da --context "Havnefronten i Sønderborg" --worked "Fælles tidsplan med forsyningen" \
	--barriers regulatory,financial --tags klimatilpasning,stormflod | tail -n 1)"
wait_for 30 "the new lesson at Assens" holds_record assens "$id"
echo "arrived at Assens after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
run --home "$demo/assens" show "${id:0:12}"

say "Two alliances on one node: Assens also founds a Covenant of Mayors group"
run --home "$demo/assens" alliance create --name "Covenant of Mayors DK"
runq --home "$demo/assens" publish measure --alliance "Covenant of Mayors DK" \
	--title "Fælles SECAP-skabelon" --language da --mitigation --sector other --status ongoing
run --home "$demo/assens" alliance use "$dk2020"
id2="$(run --home "$demo/soenderborg" publish measure --title "Ladestandere ved rådhuset" \
	--language da --mitigation --sector transport_private_commercial --status completed | tail -n 1)"
wait_for 30 "Sønderborg's new measure at Assens" holds_record assens "$id2"
echo "Vejle and Sønderborg are not admitted to it: the node never offers it to them."
run --home "$demo/vejle" alliance list
run --home "$demo/vejle" query --text "SECAP-skabelon"
echo "($("$agora" --home "$demo/vejle" query --text "SECAP-skabelon" --jsonl | wc -l) records: nothing leaked)"

say "Poznań and Assen (no network link here) found their twin-city alliance"
run --home "$demo/poznan" init --name "Miasto Poznań" --country PL --alliance "Poznań–Assen" </dev/null
runq --home "$demo/poznan" publish --file "$examples/poznan.jsonl"
run --home "$demo/assen" init --name "Gemeente Assen" --country NL </dev/null
run --home "$demo/poznan" alliance admit "$(key assen)" --name "Gemeente Assen" --country NL
run --home "$demo/poznan" bundle create "$demo/poznan.agb"
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
say "Lessons learned across the alliance"
run --home "$demo/assens" query --kind lesson
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

say "The summit report: every member against its targets, totals, lessons"
run --home "$demo/assens" report --alliance "$dk2020" --format html -o "$demo/report.html"
echo "Open the report in a browser: file://$demo/report.html"

say "Done.  Data directories: $demo"
