#!/bin/bash
# D17 (issue 10): idle control-socket connections time out.  100
# connections to agorad.sock (half send nothing, half the first two bytes
# of a request's length) must all be closed by the node within 30 s, while
# it keeps answering `agora status`; afterwards it still publishes, a fresh
# member syncs to completion, and its peak RSS stayed under 64 MB.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture
"$HOSTILE" ctlidle "$WORK/a/agorad.sock" 100 30 > "$WORK/h.out" 2>&1 &
hp=$!
PIDS+=("$hp")
ag a status >/dev/null || bad "a does not answer while idle control connections are open"
wait "$hp" || bad "idle control connections are kept: $(cat "$WORK/h.out")"
cat "$WORK/h.out"
after_attack
finish
