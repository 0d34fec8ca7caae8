#!/bin/bash
# A record published while connected arrives live (pushed, no restart),
# and `agora sync`, `agora peers` and `agora peer list` answer; `agora peer
# add/remove` reach a running node, and a broken agora.conf on SIGHUP
# changes nothing.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
mknode c
admit a b c
allow c a
allow b a
start b
link a b
start a
b_live() { ag b peers | grep -q " live "; }
wait_for 20 "b's session with a" b_live
ag a status | grep -q "live" || wait_for 10 "session live" sh -c "'$AGORA' --home '$WORK/a' status | grep -q live"
for i in 1 2 3; do
	ag a publish measure --title "Live $i" --language da --mitigation --sector waste \
		--status completed >/dev/null || fail "publish $i"
	wait_for 10 "live record $i at b" has_measures b $i
done
# An alliance founded while connected travels once its founder admits the
# other side, and the other side's records in it come back.
ag b alliance create --name Beta >/dev/null || fail "alliance create"
ag b alliance admit "$(key a)" --name a --country DK >/dev/null || fail "admit a into Beta"
wait_for 10 "Beta's charter, profile and admission at a" has_records a 10
ag a publish measure --alliance Beta --title "In Beta" --language da --mitigation \
	--sector waste --status completed >/dev/null || fail "publish into Beta"
wait_for 10 "a's record in Beta at b" has_measures b 4
ag b peers | grep -q "live" || fail "agora peers does not show a live session"
ag b sync | grep -q "sync started with 1" || fail "agora sync"
ag b peer list | grep -q "$(key a)" || fail "peer list"
ag b status --json | grep -q '"behind": 0' || fail "status json"
start c
ag a peer add "127.0.0.1:$(port c)" "$(key c)" --name c | grep -q "new peer list" ||
	fail "peer add did not reach the running node"
wait_for 20 "c to get a's records through the new peer" has_measures c 3
# c is in DK2020 only: a never offers it Beta.
[ "$(measures c)" = 3 ] || fail "c received records of Beta"
ag c alliance list | grep -q Beta && fail "c learnt of Beta"
c_live() { ag c peers | grep -q " live "; }
c_gone() { ! c_live; }
wait_for 10 "c's session to be live" c_live
ag a peer remove "$(key c)" | grep -q "new peer list" || fail "peer remove"
wait_for 10 "c's session to end after the removal" c_gone
echo "[bogus" >> "$WORK/a/agora.conf"
kill -HUP "$(cat "$WORK/a.pid")"
wait_for 10 "the reload error in the log" logged a "keeping the running configuration"
ag a peers | grep -q " live " || fail "a lost its session with b after a bad reload"
stop a
stop b
stop c
echo "ok"
