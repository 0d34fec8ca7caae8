# hostile_lib.sh - what the hostile-member tests (issue 10) share, on top
# of lib.sh: a target node in a 1,000-feed alliance with an admitted
# attacker, the checks every attack ends with (the node still publishes, a
# good peer still syncs to completion, the node's memory stays bounded), a
# control-socket latency probe, and checks that report every failure of a
# test rather than only the first.
#
# Needs: AGORA, AGORAD and HOSTILE (and GEN_FEEDS for the fixture), set by
# ctest.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${HOSTILE:?}"

RSS_LIMIT_MB=${RSS_LIMIT_MB:-64}   # agorad, 1,000 feeds in the alliance
LATENCY_LIMIT_MS=${LATENCY_LIMIT_MS:-200}
FAILED=0
EXTRA_CLEANUP=()

# Checks that do not stop the test: every broken promise is reported.
bad() {
	echo "FAIL: $*" >&2
	FAILED=1
}
finish() {
	if [ "$FAILED" != 0 ]; then
		for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done
		exit 1
	fi
	echo "ok"
	exit 0
}

# Run extra cleanup (unmounts, helper processes) before lib.sh's.
hostile_cleanup() {
	local c
	for c in "${EXTRA_CLEANUP[@]}"; do eval "$c" 2>/dev/null; done
	cleanup
}
trap hostile_cleanup EXIT

skip() {
	echo "SKIP: $*"
	exit 77
}

pid_of() { cat "$WORK/$1.pid"; }
# VmHWM (peak resident set) / VmRSS of a node, in kB.
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$(pid_of "$1")/status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$(pid_of "$1")/status"; }

# Start measuring a node's peak resident set afresh (Linux: clear_refs 5).
reset_hwm() { echo 5 > "/proc/$(pid_of "$1")/clear_refs" 2>/dev/null; }

# check_rss NODE [MB]: the node's peak resident set since the last check
# (or reset_hwm) stayed under the bound; the next check starts afresh.
check_rss() {
	local lim=${2:-$RSS_LIMIT_MB} kb
	kb=$(hwm_kb "$1") || { bad "agorad $1 is gone (crashed or killed)"; return; }
	if [ -n "${AGORA_ASAN:-}" ]; then
		echo "agorad $1: peak RSS $((kb / 1024)) MB, not checked (ASan build: its quarantine keeps freed memory)"
		return
	fi
	echo "agorad $1: peak RSS $((kb / 1024)) MB (VmHWM $kb kB), bound $lim MB"
	[ "$kb" -le $((lim * 1024)) ] ||
		bad "agorad $1 peak RSS $((kb / 1024)) MB (VmHWM $kb kB) > $lim MB"
	reset_hwm "$1"
}

# rss_guard NODE CAP_MB: kill the node if it ever holds more than CAP_MB,
# so that a test of a node that does not bound its memory fails without
# taking the machine with it.  The kill is reported as a failure.
rss_guard() {
	local n=$1 cap=$2 pid
	[ -n "${AGORA_ASAN:-}" ] && cap=$((cap + 1024))   # ASan's quarantine
	pid=$(pid_of "$n")
	(
		while kill -0 "$pid" 2>/dev/null; do
			kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
			if [ "${kb:-0}" -gt $((cap * 1024)) ]; then
				echo "rss_guard: agorad $n reached $((kb / 1024)) MB > $cap MB: killed" \
					>> "$WORK/rss_guard.txt"
				kill -KILL "$pid"
				break
			fi
			sleep 0.05
		done
	) &
	PIDS+=("$!")
}
guard_report() {
	[ -s "$WORK/rss_guard.txt" ] && bad "$(cat "$WORK/rss_guard.txt")"
	return 0
}

# Records a node holds in DK2020 (the alliance every test node shares; a
# node may hold others).
dk_records() {
	ag "$1" status --json 2>/dev/null | python3 -c '
import json, sys
for a in json.load(sys.stdin)["alliances"]:
    if a.get("name") == "DK2020":
        print(a["records"])
'
}
same_dk() { local x; x=$(dk_records "$1"); [ -n "$x" ] && [ "$x" = "$(dk_records "$2")" ]; }

# JSON field of a configured peer as `agora peers --json` shows it.
peer_field() {   # peer_field NODE PEERNAME FIELD
	ag "$1" peers --json 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["name"] == sys.argv[1]:
        v = p.get(sys.argv[2], "")
        print(str(v).lower() if isinstance(v, bool) else v)
' "$2" "$3"
}

# growth SECS CMD...: how much the counter CMD prints grows over SECS
# seconds, read every 0.2 s.  A counter of one session starts again from
# 0 when the session is replaced: a drop counts as a new session, so what
# the old one did after the last reading is missed (a lower bound).
growth() {
	local secs=$1 prev cur total=0; shift
	local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	prev=$("$@"); prev=${prev:-0}
	while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do
		sleep 0.2
		cur=$("$@"); cur=${cur:-0}
		if [ "$cur" -ge "$prev" ]; then total=$((total + cur - prev)); else total=$((total + cur)); fi
		prev=$cur
	done
	echo "$total"
}

# Control-socket latency while something runs: probe_start NODE measures
# the slowest PeersReq answer for 3 s first (the machine's own figure,
# in the same run), then keeps probing; probe_stop WHAT stops and checks
# that the slowest answer meanwhile stayed under LATENCY_LIMIT_MS, or 3x
# the baseline when the machine is so loaded that it is slower than that.
probe_run() {   # probe_run NODE STOPFILE OUT
	rm -f "$2"
	HOSTILE_STOP="$2" "$HOSTILE" probe "$WORK/$1/agorad.sock" > "$3" 2> "$3.err" &
	PROBE_PID=$!
	PIDS+=("$PROBE_PID")
}
probe_start() {
	PROBE_NODE=$1
	probe_run "$1" "$WORK/probe0.stop" "$WORK/probe0.out"
	sleep 3   # the baseline window
	touch "$WORK/probe0.stop"
	wait "$PROBE_PID"
	PROBE_BASE=$(cat "$WORK/probe0.out")
	PROBE_STOP="$WORK/probe.stop"
	probe_run "$1" "$PROBE_STOP" "$WORK/probe.out"
}
probe_stop() {   # probe_stop WHAT
	touch "$PROBE_STOP"
	wait "$PROBE_PID"
	local ms lim=$LATENCY_LIMIT_MS
	ms=$(cat "$WORK/probe.out")
	[ -n "$PROBE_BASE" ] && [ $((3 * PROBE_BASE)) -gt "$lim" ] && lim=$((3 * PROBE_BASE))
	echo "while $1: $(cat "$WORK/probe.out.err"); idle baseline ${PROBE_BASE:-?} ms"
	[ -n "$ms" ] && [ "$ms" -le "$lim" ] ||
		bad "agorad $PROBE_NODE's loop: slowest \`agora peers\` answer ${ms:-?} ms while $1 (bound $lim ms; idle ${PROBE_BASE:-?} ms)"
}

# start_in_ns NAME RESOLV: start agorad NAME as lib.sh's start does, in a
# mount namespace of its own where /etc/resolv.conf is the file RESOLV.
start_in_ns() {
	local n=$1 resolv=$2
	rm -f "$WORK/$n/agorad.port"
	unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' _ "$resolv" \
		"$AGORAD" --home "$WORK/$n" --listen 127.0.0.1:0 --log-level "${LOGLEVEL:-info}" \
		2>>"$WORK/$n.log" &
	local pid=$!
	PIDS+=("$pid")
	echo "$pid" > "$WORK/$n.pid"
	wait_for 10 "agorad $n listening" test -s "$WORK/$n/agorad.port"
	wait_for 10 "agorad $n control socket" ag "$n" status
}

# try_agorad NAME ARGS...: start agorad on NAME's home with extra ARGS and
# print "started" (it bound its port; it is then stopped) or "refused" (it
# exited first), within 10 s.
try_agorad() {
	local n=$1 pid; shift
	rm -f "$WORK/$n/agorad.port"
	"$AGORAD" --home "$WORK/$n" --listen 127.0.0.1:0 "$@" 2>>"$WORK/$n.log" &
	pid=$!
	PIDS+=("$pid")
	local end=$(( $(date +%s) + 10 ))
	while kill -0 "$pid" 2>/dev/null; do
		if [ -s "$WORK/$n/agorad.port" ] || [ "$(date +%s)" -ge $end ]; then
			kill -TERM "$pid"
			wait "$pid"
			echo started
			return
		fi
		sleep 0.05
	done
	wait "$pid"
	echo refused
}

# The target: node a founds DK2020 with 1,000 more feeds (gen_feeds), b and
# c are honest members (b connected now, c kept for a fresh sync at the
# end), and each name given is an admitted member that a and b accept (the
# attackers' keys).  a listens; b dials it and is in sync when this returns.
# With $A_RESOLV set, a runs with that file as its /etc/resolv.conf.
target_fixture() {
	: "${GEN_FEEDS:?}"
	local e
	mknode a DK2020
	mknode b
	mknode c
	for e in "$@"; do mknode "$e"; done
	admit a b c "$@"
	for e in b c; do ag "$e" alliance use DK2020 >/dev/null || fail "alliance use at $e"; done
	"$GEN_FEEDS" "$WORK/a" 1000 || fail "gen_feeds"
	for e in b c "$@"; do allow a "$e"; done
	for e in c "$@"; do allow b "$e"; done
	if [ -n "${A_RESOLV:-}" ]; then start_in_ns a "$A_RESOLV"; else start a; fi
	link b a
	start b
	wait_for 60 "b to sync the 1,000-feed alliance" same_dk a b
	check_rss a   # the honest sync of 1,000 feeds: the baseline
	check_rss b
	ATTACK_NO=0
}

# soft_wait SECS WHAT CMD...: as wait_for, but a timeout is reported with
# bad and the test goes on.  1 on timeout.
soft_wait() {
	local secs=$1 what=$2; shift 2
	local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		if [ $(( $(date +%s%N) / 1000000 )) -ge $end ]; then
			bad "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.05
	done
}

has_title() { ag "$1" query --kind measure --limit 0 --jsonl | grep -qF "\"title\":\"$2\""; }

# after_attack [NODE [GOOD]]: after an attack on NODE (default a) it still
# publishes and the record reaches GOOD (default b); c, an honest member
# that starts from nothing (or is already running), syncs to completion;
# the node's peak RSS stayed under the bound.
after_attack() {
	local n=${1:-a} good=${2:-b} title
	ATTACK_NO=$((ATTACK_NO + 1))
	title="after attack $ATTACK_NO"
	if ! kill -0 "$(pid_of "$n")" 2>/dev/null; then
		bad "agorad $n is not running after the attack"
		guard_report
		return
	fi
	if ag "$n" publish measure --title "$title" --language da --mitigation --sector waste \
		--status ongoing >/dev/null 2>"$WORK/publish.err"; then
		soft_wait 20 "the record published at $n after the attack to reach $good" \
			has_title "$good" "$title"
	else
		bad "$n cannot publish after the attack: $(cat "$WORK/publish.err")"
	fi
	if [ ! -f "$WORK/c.pid" ]; then
		link c "$n"
		start c
	fi
	soft_wait 60 "c, a fresh honest member, to sync to completion with $n" same_dk "$n" c
	check_rss "$n"
	guard_report
}
