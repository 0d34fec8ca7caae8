#!/bin/bash
# D12 (issue 10): a member cannot find out whether a node holds an
# alliance it is not in.  a holds DK2020 and Twin; the attacker is a member
# of DK2020 only and knows Twin's id.  A Digest for Twin and a Digest for
# an alliance nobody holds, each on a session of its own, must get the
# same kind of answer; afterwards a still publishes, a fresh member syncs
# to completion, and a's peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
ag a alliance create --name Twin >/dev/null || fail "alliance create"
ag a alliance use DK2020 >/dev/null || fail "alliance use"
twin=$(ag a alliance list --json | python3 -c '
import json, sys
print([a["id"] for a in json.load(sys.stdin) if a["name"] == "Twin"][0])')
ag a sync >/dev/null   # a's vectors now hold Twin
"$HOSTILE" digest "$(port a)" "$WORK/evil" "$twin" > "$WORK/h.out" 2>&1 ||
	bad "a answers a Digest for an alliance it holds differently from one it does not: $(cat "$WORK/h.out")"
cat "$WORK/h.out"
after_attack
finish
