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
json=$(ag a peers --json)
bin=$(echo "$json" | sed -n 's/.*"bytes_in": \([0-9]*\).*/\1/p')
bout=$(echo "$json" | sed -n 's/.*"bytes_out": \([0-9]*\).*/\1/p')
total=$((bin + bout))
echo "in sync with 1002 feeds: $bin bytes in + $bout bytes out = $total"
[ "$total" -lt 1024 ] || fail "in-sync exchange cost $total bytes"
# proto/PROTOCOL.md section 4.3 works this size out: 262 + 2 x 99 + 103 + 60.
[ "$total" = 623 ] || fail "in-sync exchange cost $total bytes, not the 623 PROTOCOL.md works out"
ag b publish measure --title "after" --language da --mitigation --sector waste --status ongoing \
	>/dev/null || fail "publish"
wait_for 10 "the new measure at a" has_measures a 1
stop a
stop b
echo "ok"
