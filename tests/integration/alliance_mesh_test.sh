#!/bin/bash
# Issue 13: an alliance runs itself.  From nothing, a coordinator invites N
# members (MEMBERS, default 15); each runs `agora init`, `agora join CODE`
# and agorad, and no other command.  All converge; each member keeps
# sessions with other members, not only with the coordinator (the mesh,
# from their endpoint records), and none holds more than its bound; killing
# the coordinator does not stop a record published by one member from
# reaching all the others.  With CHURN=1, a quarter of the nodes are then
# killed and restarted, and everything must converge again within bounds.
. "$(dirname "$0")/lib.sh"
N=${MEMBERS:-15}
BOUND=8   # agorad's default bound (agora.conf [node] connections): below the
          # 15 others, so the mesh must choose
# fixed ports: a member's endpoint names its port before agorad starts
mapfile -t PORTS < <(python3 -c '
import socket
ss = [socket.socket() for _ in range('"$((N + 1))"')]
for s in ss: s.bind(("127.0.0.1", 0))
for s in ss: print(s.getsockname()[1])')

mknode c DK2020
ag c endpoint set "127.0.0.1:${PORTS[0]}" >/dev/null || fail "endpoint set at c"
start c "${PORTS[0]}"
for ((i = 1; i <= N; i++)); do
	code=$(ag c alliance invite --name "m$i" --country DK --role member) || fail "invite m$i"
	ag "m$i" init --name "m$i" --country DK >/dev/null || fail "init m$i"
	ag "m$i" join "$code" --public-address "127.0.0.1:${PORTS[i]}" >/dev/null || fail "join m$i"
	start "m$i" "${PORTS[i]}"
done

# Every member's admission, profile and endpoint at every node.
all_same() {
	local want i; want=$(records c)
	[ -n "$want" ] && [ "$want" -ge $((1 + 3 * N)) ] || return 1
	for ((i = 1; i <= N; i++)); do [ "$(records "m$i")" = "$want" ] || return 1; done
}
wait_for $((60 + 4 * N)) "all $((N + 1)) nodes to hold the same records" all_same
echo "$((N + 1)) nodes hold $(records c) records each"

live() { ag "$1" peers --json | grep -c '"state": "live"'; }
# Each member reaches other members, and none goes past its bound (plus the
# coordinator it joined through, a pinned peer).
meshed() {
	local i
	for ((i = 1; i <= N; i++)); do [ "$(live "m$i")" -ge 2 ] || return 1; done
}
wait_for 60 "every member to keep sessions with other members" meshed
# The coordinator is a way in, not a hub: once a member reaches others it
# drops its bootstrap session, and no node holds more than the bound.
bounded() {
	local n
	for n in $(seq -f "m%g" 1 $N) ${C_UP-c}; do [ "$(live "$n")" -le "$BOUND" ] || return 1; done
}
wait_for 60 "every node to hold at most $BOUND sessions" bounded
echo "sessions per node: $(for n in c $(seq -f "m%g" 1 $N); do printf '%s ' "$(live "$n")"; done)"

stop c KILL
C_UP=""
ag m1 publish measure --title "Without the coordinator" --language da --mitigation \
	--sector waste --status ongoing >/dev/null || fail "publish at m1"
has_it() {
	local i
	for ((i = 2; i <= N; i++)); do
		ag "m$i" query --text "coordinator" --jsonl | grep -q "Without the coordinator" || return 1
	done
}
wait_for 60 "m1's record to reach the $((N - 1)) other members without c" has_it

if [ "${CHURN:-0}" = 1 ]; then
	# A quarter of the members die at once (SIGKILL) and come back.
	mapfile -t DOWN < <(seq 1 $N | shuf -n $(((N + 1) / 4)))
	for i in "${DOWN[@]}"; do stop "m$i" KILL; done
	ag m"$(seq 1 $N | grep -vxF -f <(printf '%s\n' "${DOWN[@]}") | head -n 1)" publish measure \
		--title "During the churn" --language da --mitigation --sector waste \
		--status ongoing >/dev/null || fail "publish during the churn"
	for i in "${DOWN[@]}"; do start "m$i" "${PORTS[i]}"; done
	t0=$(date +%s%N)
	churned() {
		local i want; want=$(records m1)
		for ((i = 2; i <= N; i++)); do [ "$(records "m$i")" = "$want" ] || return 1; done
		ag m1 query --text "churn" --jsonl | grep -q "During the churn"
	}
	wait_for $((60 + 2 * N)) "the members to converge after ${#DOWN[@]} were killed and restarted" churned
	echo "converged $(( ($(date +%s%N) - t0) / 1000000 )) ms after restarting ${#DOWN[@]} members"
	wait_for 60 "every member to hold at most $BOUND sessions after the churn" bounded
fi
for ((i = 1; i <= N; i++)); do stop "m$i"; done
echo "ok"
