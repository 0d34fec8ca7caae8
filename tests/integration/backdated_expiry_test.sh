#!/bin/bash
# D8 (issue 10): a record its author signs after its admission expired is
# refused even when it is back-dated (PROTOCOL.md 6.6).  m is admitted for
# 8 s and publishes one record, which a holds.  Once a sees the admission
# expired, a member relays a record of m's key at m's next seq, signed now
# but dated before the expiry, followed by one record of its own.  When a
# has stored the relay's record, it must not hold m's late one, and
# neither must b; afterwards a still publishes, a fresh member syncs to
# completion, and a's peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture relay m
ag m alliance use DK2020 >/dev/null || fail "alliance use at m"
t0=$(date +%s%3N)
ag a alliance admit "$(key m)" --name m --country DK --expires 8s >/dev/null || fail "admit m for 8 s"
ag m publish measure --title "In time" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "m publishes before its admission expires"
ag m bundle create "$WORK/m.agb" >/dev/null && ag a bundle import "$WORK/m.agb" >/dev/null ||
	fail "m's record to a"
has_title a "In time" || fail "a does not hold m's record"
mk=$(key m | cut -c1-16)
# agorad notes m's head as its last seq on its tick once the expiry passed
expired() { ag a alliance members | grep "^$mk" | grep -q "expired after seq 1"; }
wait_for 30 "a to note m's admission expired after seq 1" expired
STOP="$WORK/relay.stop"
HOSTILE_STOP="$STOP" "$HOSTILE" backdate "$(port a)" "$WORK/relay" "$WORK/m" $((t0 + 3000)) \
	> "$WORK/h.out" 2>&1 &
hp=$!
PIDS+=("$hp")
soft_wait 30 "a to store the relay's own record" has_title a "Marker"
cat "$WORK/h.out"
has_title a "Backdated" &&
	bad "a stored m's record signed after its admission expired (dated before it)"
soft_wait 30 "b to get the relay's record through a" has_title b "Marker"
has_title b "Backdated" && bad "a relayed m's back-dated record to b"
touch "$STOP"
wait "$hp"
after_attack
finish
