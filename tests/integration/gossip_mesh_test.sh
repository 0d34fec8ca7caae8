#!/bin/bash
# Eager and lazy push with real agorad (PROTOCOL.md 4.8): a coordinator
# invites MEMBERS (default 12) members that form their mesh from invite
# codes; records published at several members reach everyone, and each
# node receives each of them about once.  The figure is read from `agora
# status --json` (records_received, records_already_held):
#   copies per record = records received by all nodes
#                       / records they stored from peers
# Sessions start eager, so the first records cost more copies while each
# session learns which of its peers bring them first: WARM records are
# published before the measured ones.  Here 13 nodes measured 1.000; with
# agorad never pruning (ingest.c not calling sync_duplicate), 3.833.
. "$(dirname "$0")/lib.sh"
N=${MEMBERS:-12}
WARM=${WARM:-4}
RECORDS=${RECORDS:-12}
BOUND=${BOUND:-1.3}
mapfile -t PORTS < <(python3 -c '
import socket
ss = [socket.socket() for _ in range('"$((N + 1))"')]
for s in ss: s.bind(("127.0.0.1", 0))
for s in ss: print(s.getsockname()[1])')

mknode c DK2020
ag c endpoint set "127.0.0.1:${PORTS[0]}" >/dev/null || fail "endpoint set at c"
start c "${PORTS[0]}"
NODES=(c)
for ((i = 1; i <= N; i++)); do
	code=$(ag c alliance invite --name "m$i" --country DK --role member) || fail "invite m$i"
	ag "m$i" init --name "m$i" --country DK >/dev/null || fail "init m$i"
	ag "m$i" join "$code" --public-address "127.0.0.1:${PORTS[i]}" >/dev/null || fail "join m$i"
	start "m$i" "${PORTS[i]}"
	NODES+=("m$i")
done

all_same() {
	local want n; want=$(records c)
	[ -n "$want" ] && [ "$want" -ge $((1 + 3 * N)) ] || return 1
	for n in "${NODES[@]}"; do [ "$(records "$n")" = "$want" ] || return 1; done
}
wait_for $((60 + 4 * N)) "all $((N + 1)) nodes to hold the same records" all_same
live() { ag "$1" peers --json | grep -c '"state": "live"'; }
meshed() {
	local i
	for ((i = 1; i <= N; i++)); do [ "$(live "m$i")" -ge 2 ] || return 1; done
}
wait_for 60 "every member to keep sessions with other members" meshed

counter() { ag "$1" status --json | sed -n "s/^  \"$2\": \([0-9]*\).*/\1/p"; }
# publish K TAG: K records, one at a time at members taken in turn, each
# awaited everywhere before the next (so the figure does not depend on the
# machine's speed), then the stores compared.
publish() {
	local k i n want
	for ((k = 0; k < $1; k++)); do
		i=$(( k % N + 1 ))
		ag "m$i" publish measure --title "$2 $k" --language da --mitigation --sector waste \
			--status ongoing >/dev/null || fail "publish at m$i"
		want=$(records "m$i")
		for n in "${NODES[@]}"; do
			wait_for 60 "$2 $k to reach $n" has_records "$n" "$want"
		done
	done
	wait_for 60 "all nodes to hold the same records" all_same
}
publish "$WARM" warm
sum() { local n t=0; for n in "${NODES[@]}"; do t=$((t + $(counter "$n" "$1"))); done; echo $t; }
r0=$(sum records_received); h0=$(sum records_already_held); s0=$(sum records)
publish "$RECORDS" measured
r1=$(sum records_received); h1=$(sum records_already_held); s1=$(sum records)
# Records stored from peers: every node's new records but the ones it
# published itself.
from_peers=$(( s1 - s0 - RECORDS ))
[ "$from_peers" -ge $(( RECORDS * N )) ] || fail "only $from_peers records reached the nodes"
copies=$(python3 -c "print('%.3f' % ($((r1 - r0)) / $from_peers))")
echo "copies received per record per node: $copies ($((r1 - r0)) received, $((h1 - h0)) already" \
     "held, $from_peers stored from peers; $((N + 1)) nodes, $RECORDS records)"
python3 -c "import sys; sys.exit(0 if $copies <= $BOUND else 1)" ||
	fail "copies per record $copies > $BOUND"
[ $((h1 - h0)) -eq $((r1 - r0 - from_peers)) ] ||
	fail "records_already_held $((h1 - h0)) != received - stored $((r1 - r0 - from_peers))"

# Tree links die: a quarter of the members are killed (SIGKILL), the
# sessions they held with the others end, and records published by the
# rest still reach all the rest (announcements grafted, new sessions).
DEAD=$(( (N + 3) / 4 ))
for ((i = 1; i <= DEAD; i++)); do stop "m$i" KILL; done
ALIVE=(c); for ((i = DEAD + 1; i <= N; i++)); do ALIVE+=("m$i"); done
for ((k = 0; k < 4; k++)); do
	i=$(( DEAD + 1 + k % (N - DEAD) ))
	ag "m$i" publish measure --title "after the kill $k" --language da --mitigation \
		--sector waste --status ongoing >/dev/null || fail "publish at m$i"
done
alive_same() {
	local want n; want=$(records c)
	for n in "${ALIVE[@]}"; do [ "$(records "$n")" = "$want" ] || return 1; done
	ag c query --text "kill" --jsonl | grep -c "after the kill" | grep -qx 4
}
wait_for 90 "the ${#ALIVE[@]} live nodes to hold the records published after $DEAD were killed" \
	alive_same
echo "after killing $DEAD members: the ${#ALIVE[@]} others converged"
for n in "${ALIVE[@]}"; do stop "$n"; done
echo "ok"
