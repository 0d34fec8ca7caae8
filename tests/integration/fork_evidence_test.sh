#!/bin/bash
# D6 (issue 10): fork evidence is capped and relaying it costs in
# proportion to what the forker sent.  An admitted member (a stolen key)
# signs 1,000 different records at seq 1 of its feed and sends them to a,
# 50 a second, as Records.  Once b holds all the evidence a holds, a must
# have sent b at most 4x the attacker's bytes + 1 MiB, and a must keep at
# most 64 proofs of that one author (the bound this test holds a per-author
# cap to).  Afterwards a still publishes, a fresh member syncs to
# completion, and a's peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 1024
forks() { "$HOSTILE" forkcount "$WORK/$1"; }
out0=$(peer_field a b bytes_out)
"$HOSTILE" forkrecords "$(port a)" "$WORK/evil" 1000 50 > "$WORK/h.out" 2>&1 ||
	fail "hostile forkrecords: $(cat "$WORK/h.out")"
cat "$WORK/h.out"
sent=$(sed -n 's/.*seq 1: \([0-9]*\) bytes$/\1/p' "$WORK/h.out")
stored() { [ "$(peer_field a evil unstored)" = 0 ] || [ "$(peer_field a evil state)" != live ]; }
wait_for 60 "a to store what the attacker sent" stored
caught_up() { local x; x=$(forks a); [ -n "$x" ] && [ "$x" -gt 0 ] && [ "$(forks b)" -ge "$x" ]; }
wait_for 120 "b to hold the fork evidence a holds" caught_up
relayed=$(( $(peer_field a b bytes_out) - out0 ))
echo "attacker sent $sent bytes; a holds $(forks a) fork proofs, b $(forks b); a sent b $relayed bytes"
[ "$relayed" -le $((4 * sent + 1048576)) ] ||
	bad "relaying the forks cost $relayed bytes a->b for $sent bytes sent (bound 4x + 1 MiB)"
[ "$(forks a)" -le 64 ] || bad "a keeps $(forks a) fork proofs of one author (bound 64)"
after_attack
finish
