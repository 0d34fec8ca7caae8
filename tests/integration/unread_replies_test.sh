#!/bin/bash
# D3 (issue 10): what a node queues for a peer that does not read is
# bounded for every kind of reply, not only Records.  An admitted member
# sends 8 MiB of Pings (a million) and never reads a Pong.  Once the node
# has read them all (or closed the session), its peak RSS must be under
# 64 MB (1,000 feeds); afterwards it still publishes and a fresh member
# syncs to completion.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 1024
STOP="$WORK/pings.stop"
HOSTILE_STOP="$STOP" "$HOSTILE" pings "$(port a)" "$WORK/evil" 8 > "$WORK/h.out" 2>&1 &
hp=$!
PIDS+=("$hp")
wait_for 60 "the attacker to send its Pings" grep -q "^sent" "$WORK/h.out"
sent=$(sed -n 's/^sent \([0-9]*\) bytes.*/\1/p' "$WORK/h.out")
read_all() {   # the node read every Ping, or hung up on the attacker
	local st bin
	st=$(peer_field a evil state)
	bin=$(peer_field a evil bytes_in)
	[ "$st" != live ] && [ "$st" != syncing ] && return 0
	[ "${bin:-0}" -ge "$sent" ]
}
wait_for 120 "a to read the Pings or close the session" read_all
cat "$WORK/h.out"
echo "a: session with the attacker $(peer_field a evil state), VmRSS now $(( $(rss_kb a) / 1024 )) MB"
touch "$STOP"
wait "$hp"
after_attack
finish
