#!/usr/bin/env bash
# agora.conf as the user meets it through `agora peer` and `agora whoami`:
# storage's one parser and editor (storage/conf.c).  Edits keep comments
# and the other sections, keep mode 0600, never write through a link, and
# an invalid file is named with file:line and left alone.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H"
C=$H/agora.conf
K1=193f40ca96cc68ce793c8fded14e27b7ee4d7c6bdfd1d8e4498c03a43589a5b2
K2=1F9B2A116D8C2CC2F67D3A819358E526170C8DE20C5BCCFFE292A4819507310E
k2=$(tr 'A-F' 'a-f' <<<"$K2")
printf '\n# partners of the DK2020 summit\n' >>"$C"
cp "$C" "$TMP/before"

run 0 "$AGORA" --home "$H" peer add agora.vejle.dk:7420 "$K1" --name "Vejle Kommune"
has "added peer $K1 at agora.vejle.dk:7420"
run 0 "$AGORA" --home "$H" peer add "[::1]:7421" "$K2"
run 0 "$AGORA" --home "$H" peer list
has "$K1  agora.vejle.dk:7420"
has "$k2  [::1]:7421"
[ "$(stat -c %a "$C")" = 600 ] || fail "agora.conf mode $(stat -c %a "$C")"
# Everything that was there is still there, as written.
head -c "$(stat -c %s "$TMP/before")" "$C" | cmp -s - "$TMP/before" || fail "peer add rewrote what it did not add"

# The same key twice is refused; so are a bad address, key or name.
run 2 "$AGORA" --home "$H" peer add h:1 "$K1"
grep -qF "is already in agora.conf (remove it first)" "$TMP/err" || fail "no duplicate error"
run 2 "$AGORA" --home "$H" peer add nowhere "$K1"
grep -qF "'nowhere' is not HOST:PORT" "$TMP/err" || fail "no address error"
run 2 "$AGORA" --home "$H" peer add h:1 abc
grep -qF "'abc' is not a public key" "$TMP/err" || fail "no key error"
run 2 "$AGORA" --home "$H" peer add h:1 "$K2" --name "a ; b"
run 2 "$AGORA" --home "$H" peer add h:1
grep -qF "usage: agora peer add HOST:PORT KEY" "$TMP/err" || fail "no usage line"

# Removing both gives the file back as it was (by key, in any case).
run 0 "$AGORA" --home "$H" peer remove "$K2"
run 0 "$AGORA" --home "$H" peer remove "$K1"
run 4 "$AGORA" --home "$H" peer remove "$K1"
grep -qF "no peer with key $K1 in agora.conf" "$TMP/err" || fail "no not-found error"
cmp -s "$C" "$TMP/before" || fail "add + remove changed agora.conf: $(diff "$TMP/before" "$C")"

# A planted link is replaced, never written through.
echo "someone else's file" >"$TMP/victim"
mv "$C" "$TMP/conf.real"
ln -s "$TMP/conf.real" "$C"
run 0 "$AGORA" --home "$H" peer add h:1 "$K1"
[ "$(cat "$TMP/victim")" = "someone else's file" ] || fail "the victim changed"
[ -L "$C" ] && fail "agora.conf is still a link"
cmp -s "$TMP/conf.real" "$TMP/before" || fail "the link's target was written"

# An invalid file: one line naming file and line, exit 3; nothing edited.
printf '[peer]\nkey = %s\nadress = h:1\n' "$K2" >>"$C"
cp "$C" "$TMP/broken"
run 3 "$AGORA" --home "$H" peer list
[ "$(wc -l <"$TMP/err")" = 1 ] || fail "not one line: $(cat "$TMP/err")"
grep -qE "agora.conf:[0-9]+: \[peer\] has no key 'adress'" "$TMP/err" || fail "no file:line: $(cat "$TMP/err")"
run 3 "$AGORA" --home "$H" peer add h:2 "$K2"
cmp -s "$C" "$TMP/broken" || fail "an invalid agora.conf was edited"
echo ok
