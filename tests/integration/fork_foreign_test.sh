#!/bin/bash
# D10 (issue 10): a ForkProof carries only records of the alliance it
# names, and only of an alliance the session shares.  An admitted member
# of DK2020 sends a ForkProof naming DK2020 whose two envelopes are the
# charter and a record of an alliance it has just founded.  The node must
# store neither (it holds one alliance and as many records as before);
# afterwards it still publishes, a fresh member syncs to completion, and
# its peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
before=$(records a)
other=$("$HOSTILE" foreignfork "$(port a)" "$WORK/evil" 2>"$WORK/h.err") ||
	fail "hostile foreignfork: $(cat "$WORK/h.err")"
cat "$WORK/h.err"
ag a alliance list --json | grep -q "\"$other\"" &&
	bad "a now holds alliance ${other:0:16}…, smuggled in by a fork proof naming DK2020"
[ "$(records a)" = "$before" ] ||
	bad "a holds $(records a) records after the fork proof, $before before"
after_attack
finish
