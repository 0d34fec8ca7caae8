#!/bin/bash
# Two nodes already in sync on 1,000 feeds reconnect and find it out in
# under 1 KB in total, counted at the transport (both directions, Noise
# handshake included), and a record published at one still gets through.
. "$(dirname "$0")/lib.sh"
: "${GEN_FEEDS:?}"
mknode a DK2020
mknode b
admit a b
"$GEN_FEEDS" "$WORK/a" 1000 || fail "gen_feeds"
rm -rf "$WORK/b/db" && cp -r "$WORK/a/db" "$WORK/b/db" || fail "copy store"
allow b a
start b
link a b
start a
live() { ag a peers | grep -q " live "; }
wait_for 20 "a live session" live
# proto/PROTOCOL.md section 4.3 works this size out: 262 + 2 x 101 + 103 + 60
# = 627, and a's HeadCheck of its own feed (section 6.8): 130 bytes on the
# wire, as a's own head (its 1,003 admissions) is a 2-byte varint.  It goes
# once the exchange is over: wait for it, then nothing more may come.
counts() {   # "IN OUT" bytes of a's session
	ag a peers --json | sed -n 's/.*"bytes_\(in\|out\)": \([0-9]*\).*/\2/p' | tr '\n' ' '
}
settled() { local c; c=$(counts); set -- $c; [ $(($1 + $2)) -ge 757 ]; }
wait_for 10 "a's own-feed check to go out" settled
set -- $(counts)
total=$(($1 + $2))
echo "in sync with 1002 feeds: $1 bytes in + $2 bytes out = $total"
[ "$total" -lt 1024 ] || fail "in-sync exchange cost $total bytes"
[ "$total" = 757 ] || fail "in-sync exchange cost $total bytes, not the 757 PROTOCOL.md works out"
ag b publish measure --title "after" --language da --mitigation --sector waste --status ongoing \
	>/dev/null || fail "publish"
wait_for 10 "the new measure at a" has_measures a 1
stop a
stop b
echo "ok"
