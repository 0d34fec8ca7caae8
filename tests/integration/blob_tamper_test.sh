#!/bin/bash
# blob_tamper_test.sh - an attachment whose bytes a peer serves wrong is
# not stored, and is fetched again from an honest peer (PROTOCOL.md 4.9).
# A publishes a 3 MB file; B fetches it; then B's copy is altered on disk.
# C, peering only with B, fetches it, finds that it does not hash to what
# the record says, and keeps nothing; once C also peers with A, it fetches
# the file from A, byte for byte.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
mknode c
admit a b c
allow b a
allow b c
allow a c
start b
link a b
start a

head -c $((3 * 1024 * 1024)) /dev/urandom > "$WORK/plan.pdf"
id=$(ag a publish measure --title "Klimaplan" --language da --mitigation --sector other \
	--status ongoing --attach "$WORK/plan.pdf") || fail "publish with --attach"
fetched() { ag "$1" attachment get "$id" --out - > /dev/null 2>&1; }
wait_for 60 "the attachment reaches b" fetched b

# B's copy goes bad on its disk (same size, other bytes).
blob=$(find "$WORK/b/blobs" -type f | head -n 1)
[ -n "$blob" ] || fail "b holds no blob file"
printf 'not the bytes of the plan' | dd of="$blob" bs=1 seek=1000000 conv=notrunc 2>/dev/null
ag b attachment get "$id" --out - > /dev/null 2>&1 && fail "b's copy should now be damaged"

link c b
start c
wait_for 60 "c to refuse b's bytes" logged c "does not match its hash"
out=$(ag c attachment get "$id" --out - 2>&1 >/dev/null) && fail "c stored bytes that do not match"
echo "$out" | grep -q "not fetched yet" || fail "c should say the file is not fetched yet: $out"
[ -z "$(find "$WORK/c/blobs" -type f 2>/dev/null)" ] || fail "c kept a file from the bad bytes"

link c a   # agora peer add reloads the running agorad
wait_for 60 "the attachment reaches c from a" fetched c
(cd "$WORK" && ag c attachment get "$id" --out "$WORK/c-copy.pdf") || fail "get at c"
[ "$(sha256sum < "$WORK/plan.pdf")" = "$(sha256sum < "$WORK/c-copy.pdf")" ] ||
	fail "c's copy differs from a's file"
for n in a b c; do stop $n; done
echo "ok: bytes that do not hash right were refused, and the file came from an honest peer"
