# lib.sh - helpers for the integration tests: real agorad processes on
# 127.0.0.1 with ephemeral ports (agorad --listen 127.0.0.1:0 writes the
# port it got to <home>/agorad.port).  Every wait polls a condition with a
# deadline; nothing sleeps a fixed time to "let things settle".
#
# Needs: AGORA and AGORAD (paths of the binaries), set by ctest.
set -u
: "${AGORA:?}" "${AGORAD:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/agora-it.XXXXXX")
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; } >&2; done
	exit 1
}

ag() { local n=$1; shift; "$AGORA" --home "$WORK/$n" "$@"; }

# mknode NAME [ALLIANCE]: identity, store, agora.conf (and an alliance).
mknode() {
	if [ -n "${2:-}" ]; then
		ag "$1" init --name "$1" --country DK --alliance "$2" >/dev/null || fail "init $1"
	else
		ag "$1" init --name "$1" --country DK >/dev/null || fail "init $1"
	fi
	echo "[node]" >/dev/null
}

key() { ag "$1" whoami | awk '/public key/ {print $3}'; }

# allow B A: B accepts A's key (before B starts: agorad reads agora.conf once).
allow() { printf '\n[peer]\nkey = %s\nname = %s\n' "$(key "$2")" "$2" >> "$WORK/$1/agora.conf"; }

# admit COORD NODE...: COORD, a coordinator of its default alliance, admits
# each NODE's key as a member, then hands every NODE a bundle of what COORD
# holds (charter, admissions, ...): a node accepts a session only from a key
# admitted to an alliance it holds, so each needs the governance records.
admit() {
	local c=$1 n; shift
	for n in "$@"; do
		ag "$c" alliance admit "$(key "$n")" --name "$n" --country DK >/dev/null ||
			fail "$c cannot admit $n"
	done
	ag "$c" bundle create "$WORK/$c-governance.agb" >/dev/null || fail "bundle at $c"
	for n in "$@"; do
		ag "$n" bundle import "$WORK/$c-governance.agb" >/dev/null || fail "import at $n"
	done
}

# link A B: A dials B (B must run, and allow A).
link() {
	ag "$1" peer add "127.0.0.1:$(port "$2")" "$(key "$2")" --name "$2" >/dev/null || fail "peer add"
}

# line NODE...: a line of running nodes, each dialling the next.  The first
# founds DK2020 and admits the rest; the last starts first, so every node
# has its successor to dial.
line() {
	local n i first=$1 nodes=("$@")
	mknode "$first" DK2020
	for n in "${nodes[@]:1}"; do mknode "$n"; done
	admit "$@"
	for ((i = ${#nodes[@]} - 1; i > 0; i--)); do allow "${nodes[i]}" "${nodes[i - 1]}"; done
	start "${nodes[-1]}"
	for ((i = ${#nodes[@]} - 2; i >= 0; i--)); do
		link "${nodes[i]}" "${nodes[i + 1]}"
		start "${nodes[i]}"
	done
}

start() {   # start NAME [PORT]: PORT 0 (default) = any free port
	local n=$1
	rm -f "$WORK/$n/agorad.port"
	"$AGORAD" --home "$WORK/$n" --listen "127.0.0.1:${2:-0}" --log-level "${LOGLEVEL:-info}" \
		2>>"$WORK/$n.log" &
	local pid=$!
	PIDS+=("$pid")
	echo "$pid" > "$WORK/$n.pid"
	wait_for 10 "agorad $n listening" test -s "$WORK/$n/agorad.port"
	wait_for 10 "agorad $n control socket" ag "$n" status
}

stop() {   # stop NAME [SIGNAL]
	local pid; pid=$(cat "$WORK/$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	local rc=$?
	[ "${2:-TERM}" = TERM ] && [ $rc -ne 0 ] && fail "agorad $1 exited $rc after SIGTERM"
	return 0
}

port() { cat "$WORK/$1/agorad.port"; }

# wait_for SECONDS WHAT CMD...: poll CMD until it succeeds or time runs out.
wait_for() {
	local secs=$1 what=$2; shift 2
	local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && fail "timed out after ${secs}s waiting for $what"
		sleep 0.05
	done
}

# Records in a node's store (works with or without agorad).
records() { ag "$1" status --json 2>/dev/null | sed -n 's/^  "records": \([0-9]*\).*/\1/p'; }
measures() { ag "$1" query --kind measure --limit 0 --jsonl | wc -l; }
has_records() { [ "$(records "$1")" = "$2" ]; }
has_measures() { [ "$(measures "$1")" -ge "$2" ]; }
same_records() { local a; a=$(records "$1"); [ -n "$a" ] && [ "$a" = "$(records "$2")" ]; }

# gen_measures N PREFIX > file.jsonl
gen_measures() {
	local i=0
	while [ $i -lt "$1" ]; do
		printf '{"kind":"measure","title":"%s %d","language":"da","mitigation":true,"sector":"other","status":"ongoing","summary":"%s"}\n' \
			"$2" "$i" "${3:-}"
		i=$((i + 1))
	done
}

logged() { grep -q -- "$2" "$WORK/$1.log"; }
