#!/bin/bash
# After a revocation published at the coordinator, every node of a
# five-node line hides the revoked key's records past the revoked seq
# (already relayed ones included), refuses its later records, and drops
# its sessions.  e is the revoked one: a - b - c - d - e.
. "$(dirname "$0")/lib.sh"
line a b c d e
for n in b c d e; do ag $n alliance use DK2020 >/dev/null; done
pub() { ag e publish measure --title "$1" --language da --mitigation --sector waste \
	--status ongoing >/dev/null; }
pub "kept" || fail "publish kept"
kept=$(ag e alliance members --json | python3 -c 'import json,sys; print([m["records"] for m in json.load(sys.stdin) if m["name"] == "e"][0])')
pub "stolen" || fail "publish stolen"
for n in a b c d; do wait_for 30 "both of e's measures at $n" has_measures $n 2; done

ag a alliance revoke "$(key e)" --after-seq "$kept" --reason "stolen laptop" >/dev/null ||
	fail "revoke"
revoked_at() { ag "$1" alliance members | grep -q "revoked after seq $kept"; }
one_measure() { [ "$(measures "$1")" = 1 ]; }
for n in a b c d; do
	wait_for 30 "the revocation at $n" revoked_at $n
	wait_for 10 "$n to hide the measure past the revocation" one_measure $n
done
wait_for 20 "d to drop e's session" logged d "no longer active"
e_off() { ! ag d peers | grep "^  e " | grep -q " live "; }
wait_for 20 "d to hold no live session with e" e_off
# e's later records: refused by e's own store if the revocation reached it,
# and by every other node in any case.
pub "after" || true
ag e bundle create "$WORK/e.agb" >/dev/null || fail "bundle at e"
for n in a b c d; do
	before=$(records $n)
	ag $n bundle import "$WORK/e.agb" >/dev/null 2>&1
	[ "$(records $n)" = "$before" ] || fail "$n took e's records after the revocation"
	[ "$(measures $n)" = 1 ] || fail "$n shows $(measures $n) measures"
done
ag d peers | grep -q " live " || fail "d lost its other session"
for n in a b c d e; do stop $n; done
echo "ok"
