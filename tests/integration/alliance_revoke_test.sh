#!/bin/bash
# After a revocation published at the coordinator, every node of a
# five-node line hides the revoked key's records past the revoked seq
# (already relayed ones included), refuses its later records, and drops
# its sessions.  e is the revoked one: a - b - c - d - e.
#
# The stolen key's later record must reach the other nodes by a path that
# no check of e's own store stands on: it is signed in a copy of e's data
# directory taken before the revocation existed (as a thief's copy would
# be), and handed to every node in a bundle.  Each node must refuse it by
# its own revocation check (storage/members.c, store_member_check).
. "$(dirname "$0")/lib.sh"
line a b c d e
for n in b c d e; do ag $n alliance use DK2020 >/dev/null; done
pub() { ag "$1" publish measure --title "$2" --language da --mitigation --sector waste \
	--status ongoing >/dev/null; }
pub e "kept" || fail "publish kept"
kept=$(ag e alliance members --json | python3 -c 'import json,sys; print([m["records"] for m in json.load(sys.stdin) if m["name"] == "e"][0])')
pub e "stolen" || fail "publish stolen"
for n in a b c d; do wait_for 30 "both of e's measures at $n" has_measures $n 2; done

# The thief's copy: e's identity and store before the revocation.
eport=$(port e)
stop e
cp -a "$WORK/e" "$WORK/thief" || fail "copy e's data directory"
start e "$eport"
e_live() { ag d peers | grep "^  e " | grep -q " live "; }
wait_for 30 "d to be back in a live session with e" e_live

ag a alliance revoke "$(key e)" --after-seq "$kept" --reason "stolen laptop" >/dev/null ||
	fail "revoke"
revoked_at() { ag "$1" alliance members | grep -q "revoked after seq $kept"; }
one_measure() { [ "$(measures "$1")" = 1 ]; }
for n in a b c d; do
	wait_for 30 "the revocation at $n" revoked_at $n
	wait_for 10 "$n to hide the measure past the revocation" one_measure $n
done
wait_for 20 "d to drop e's session" logged d "no longer active"
wait_for 20 "d to hold no live session with e" eval '! e_live' 

# The copy knows no revocation: it signs e's next record.
ag thief alliance members | grep -q "revoked" && fail "the thief's copy already holds the revocation"
pub thief "after the theft" || fail "the thief's copy could not sign"
ag thief query --kind measure --text theft --limit 0 --jsonl | grep -q "after the theft" ||
	fail "the thief's record is not in its copy"
ag thief bundle create "$WORK/thief.agb" >/dev/null || fail "bundle at the thief's copy"
ag thief bundle verify "$WORK/thief.agb" >/dev/null || fail "the thief's bundle does not verify"
for n in a b c d; do
	before=$(records $n)
	ag $n bundle import "$WORK/thief.agb" >"$WORK/import-$n.out" 2>&1
	grep -q "rejected: .*revoked" "$WORK/import-$n.out" ||
		fail "$n did not reject e's record as revoked: $(cat "$WORK/import-$n.out")"
	[ "$(records $n)" = "$before" ] || fail "$n took e's record after the revocation"
	[ "$(measures $n)" = 1 ] || fail "$n shows $(measures $n) measures"
	! ag $n query --text theft --limit 0 --jsonl | grep -q theft || fail "$n shows the thief's record"
done
ag d peers | grep -q " live " || fail "d lost its other session"
for n in a b c d e; do stop $n; done
echo "ok"
