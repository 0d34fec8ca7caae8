#!/bin/bash
# blob_line_test.sh - attachments travel between peers (PROTOCOL.md 4.9):
# A publishes a measure with a 20 MB attachment; in the line A-B-C (C does
# not peer with A) the file reaches C through B, and C's `agora attachment
# get` writes out a byte-identical copy.  Before it arrives C says "not
# fetched yet".
. "$(dirname "$0")/lib.sh"
line a b c
live_links() { [ "$(ag "$1" peers | grep -c " live ")" -ge "$2" ]; }
for n in a c; do wait_for 30 "$n's link to be live" live_links $n 1; done
wait_for 30 "b's links to be live" live_links b 2

head -c $((20 * 1024 * 1024)) /dev/urandom > "$WORK/plan.pdf"
id=$(ag a publish measure --title "Klimaplan 2030" --language da --mitigation --sector other \
	--status ongoing --attach "$WORK/plan.pdf") || fail "publish with --attach"
wait_for 30 "the measure reaches c" has_measures c 1

fetched() { ag "$1" attachment get "$id" --out - > /dev/null 2>&1; }
wait_for 120 "the attachment reaches b" fetched b
wait_for 120 "the attachment reaches c" fetched c
(cd "$WORK" && ag c attachment get "$id" --out "$WORK/c-copy.pdf") || fail "get at c"
want=$(sha256sum < "$WORK/plan.pdf")
got=$(sha256sum < "$WORK/c-copy.pdf")
[ "$want" = "$got" ] || fail "c's copy differs from a's file"
logged c "fetched attachment" || fail "c did not log the fetch"
for n in a b c; do stop $n; done
echo "ok: a 20 MB attachment crossed A-B-C byte for byte"
