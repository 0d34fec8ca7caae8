#!/bin/bash
# D1 (issue 10): no unsigned claim of a peer raises the own-feed floor.  An
# admitted member says it holds the node's own feed up to seq 1,000,000 -
# once in a Ranges vector entry (at the coordinator a), once in the header
# of a Records message whose record then fails its signature (at the
# member b).  Each node must go on publishing (the record reaching its
# partner), a must still be able to revoke the attacker, and a fresh member
# syncs to completion; peak RSS stays under 64 MB with 1,000 feeds.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 512
rss_guard b 512
"$HOSTILE" floorvector "$(port a)" "$WORK/evil" || fail "hostile floorvector"
after_attack a b
"$HOSTILE" floorheader "$(port b)" "$WORK/evil" || fail "hostile floorheader"
after_attack b a
ag a alliance revoke "$(key evil)" --reason "stolen key" >/dev/null 2>"$WORK/revoke.err" ||
	bad "the coordinator cannot revoke the attacker: $(cat "$WORK/revoke.err")"
finish
