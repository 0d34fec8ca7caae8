#!/bin/bash
# D2 (issue 10): a Ranges message is answered in bounded output and bounded
# work.  An admitted member sends one Ranges holding 4,000 copies of the
# root range (160 KB) to a node of a 1,000-feed alliance.  The node's answer
# must stay under 2x the bytes sent (+64 KiB), its loop must keep answering
# `agora peers` within 200 ms meanwhile, and afterwards it still publishes,
# a fresh member syncs to completion and its peak RSS stayed under 64 MB.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 1024
probe_start a
"$HOSTILE" ranges "$(port a)" "$WORK/evil" 4000 2 > "$WORK/h.out" 2>&1 ||
	bad "the answer to repeated ranges is not bounded: $(cat "$WORK/h.out")"
cat "$WORK/h.out"
probe_stop "a member's repeated ranges were answered"
after_attack
finish
