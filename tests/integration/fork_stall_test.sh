#!/bin/bash
# D7 (issue 10): nothing a peer sends is verified or written to disk on the
# loop thread.  An admitted member sends 1,000 ForkProofs at once (its own
# feed, seq 1, a different second record in each).  While the node takes
# them in, its loop must answer `agora peers` within 200 ms; afterwards it
# still publishes, a fresh member syncs to completion, and its peak RSS
# stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 1024
probe_start a
"$HOSTILE" forkproofs "$(port a)" "$WORK/evil" 1000 > "$WORK/h.out" 2>&1 ||
	fail "hostile forkproofs: $(cat "$WORK/h.out")"
probe_stop "a member's 1,000 fork proofs were taken in"
cat "$WORK/h.out"
after_attack
finish
