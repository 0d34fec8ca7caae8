#!/bin/bash
# A record published while connected arrives live (pushed, no restart),
# and `agora sync`, `agora peers` and `agora peer list` answer.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
allow b a
start b
link a b
start a
wait_for 20 "b has the alliance" has_records b 2
ag a status | grep -q "live" || wait_for 10 "session live" sh -c "'$AGORA' --home '$WORK/a' status | grep -q live"
for i in 1 2 3; do
	ag a publish measure --title "Live $i" --language da --mitigation --sector waste \
		--status completed >/dev/null || fail "publish $i"
	wait_for 10 "live record $i at b" has_measures b $i
done
ag b peers | grep -q "live" || fail "agora peers does not show a live session"
ag b sync | grep -q "sync started with 1" || fail "agora sync"
ag b peer list | grep -q "$(key a)" || fail "peer list"
ag b status --json | grep -q '"behind": 0' || fail "status json"
stop a
stop b
echo "ok"
