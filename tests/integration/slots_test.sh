#!/bin/bash
# D9 (issue 10): strangers cannot keep members out.  An outsider holds
# 1,024 idle TCP connections to a from 127.0.0.2 (taking slots again as
# soon as a drops them, about 1,000 connections a second).  Meanwhile each of 10 session attempts by an
# admitted member (from 127.0.0.1) must be served, and c, an honest member
# starting from nothing, must sync to completion; a still publishes and its
# peak RSS stays under 64 MB (1,000 feeds).
. "$(dirname "$0")/hostile_lib.sh"
ulimit -n 8192 2>/dev/null || skip "cannot raise the open-file limit to 8192 for 1,024 connections"
target_fixture evil
rss_guard a 1024
STOP="$WORK/flood.stop"
HOSTILE_STOP="$STOP" "$HOSTILE" flood "$(port a)" 127.0.0.2 1024 > "$WORK/flood.out" 2>&1 &
fp=$!
PIDS+=("$fp")
EXTRA_CLEANUP+=("touch $STOP")
wait_for 60 "the outsider to hold its connections" grep -q "^holding" "$WORK/flood.out"
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$HOSTILE" member "$(port a)" "$WORK/evil" >> "$WORK/member.out" 2>&1 && ok=$((ok + 1))
done
echo "$ok of 10 member session attempts served while the outsider held its connections"
[ "$ok" = 10 ] || bad "an outsider's idle connections kept $((10 - ok)) of 10 member session attempts out"
after_attack
touch "$STOP"
wait "$fp"
cat "$WORK/flood.out"
finish
