#!/bin/bash
# D19 (issue 10): a session wedged on an incomplete frame is closed even
# when the peer trickles bytes.  An admitted member sends Hello, then the
# header of a 65535-byte frame and one byte of it a second.  The node must
# close the session within 90 s (45 s of silence from the last whole
# message, plus margin); afterwards it still publishes, a fresh member
# syncs to completion, and its peak RSS stayed under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
"$HOSTILE" trickle "$(port a)" "$WORK/evil" 90 > "$WORK/h.out" 2>&1 ||
	bad "a trickled frame keeps the session open: $(cat "$WORK/h.out")"
cat "$WORK/h.out"
after_attack
finish
