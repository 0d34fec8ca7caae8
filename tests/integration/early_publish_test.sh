#!/bin/bash
# Records published while a brand-new session is still in its handshake or
# first exchange reach the peer all the same: nothing waits for a later
# change to go out.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
admit a b
allow b a
start b
link a b
start a
for i in 1 2 3 4 5 6 7 8; do
	ag a publish measure --title "Early $i" --language da --mitigation --sector waste \
		--status completed >/dev/null || fail "publish $i"
done
wait_for 20 "all eight early records at b" has_measures b 8
stop a
stop b
echo "ok"
