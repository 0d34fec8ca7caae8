#!/bin/bash
# D11 (issue 10): an Ack cannot make a node stream a feed again and again.
# a holds its own feed of 3,000 measures (about 1.3 MB).  An admitted
# member syncs from nothing and, each time a Records of a's feed arrives,
# answers Ack{seq 0} ("I hold none of it"), up to 20 times.  Once
# a has nothing left to send it, the member must have received at most two
# copies of the feed in all (the first, and one rewind: PROTOCOL.md 4.4
# allows one per feed and session, as a gap legitimately asks for it),
# not one more per Ack; afterwards a still publishes,
# a fresh member syncs to completion, and a's peak RSS stayed under 64 MB.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
gen_measures 3000 "Measure" "$(head -c 400 /dev/zero | tr '\0' y)" > "$WORK/a.jsonl"
ag a publish --file "$WORK/a.jsonl" >/dev/null || fail "publish"
wait_for 60 "b to sync a's feed" same_dk a b
check_rss a
rss_guard a 1024
STOP="$WORK/ack.stop"
HOSTILE_STOP="$STOP" "$HOSTILE" ackloop "$(port a)" "$WORK/evil" 20 > "$WORK/h.out" 2>&1 &
hp=$!
PIDS+=("$hp")
wait_for 120 "the member's first Ack" grep -q "^first Ack sent" "$WORK/h.out"
done_sending() { local st; st=$(peer_field a evil state); [ "$st" = live ] || [ -z "$st" ] ||
	[ "$st" = idle ]; }
# a has nothing left to send the member, and still nothing a second later
# (an Ack in flight would set it streaming again).
settled() { done_sending && sleep 1 && done_sending; }
wait_for 120 "a to finish streaming to the member" settled
touch "$STOP"
wait "$hp" || bad "Acks of seq 0 made a stream its feed again and again: $(tail -n 1 "$WORK/h.out")"
cat "$WORK/h.out"
after_attack
finish
