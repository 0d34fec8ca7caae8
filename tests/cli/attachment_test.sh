#!/usr/bin/env bash
# attachment_test.sh - `agora publish --attach`, `agora show` and `agora
# attachment get`: files attached to a record come back byte for byte; a
# node that holds the record but not the file says "not fetched yet"; a file
# over [attachments] max-file is refused saying so, and nothing is stored; a
# damaged stored copy is reported, not written out.
# Usage: attachment_test.sh path/to/agora
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
A() { "$AGORA" --home "$TMP/a" "$@"; }
B() { "$AGORA" --home "$TMP/b" "$@"; }

run 0 A init --name "Assens Kommune" --country DK --alliance DK2020
head -c 3000000 /dev/urandom >"$TMP/klimaplan 2030.pdf"
printf 'photo bytes' >"$TMP/eng.JPG"

# --- publish with two files, show lists them --------------------------------
run 0 A publish measure --title "Vådområder" --language da --adaptation \
	--attach "$TMP/klimaplan 2030.pdf" --attach "$TMP/eng.JPG"
id=$OUT
[ ${#id} = 64 ] || fail "no id: $id"
run 0 A show "${id:0:8}"
has "[0] klimaplan 2030.pdf  3.0 MB  application/pdf"
has "[1] eng.JPG  11 bytes  image/jpeg"
lacks "not fetched yet"
lacks "attachments[0]"          # listed once, not also as raw fields
hash0=$(b2sum -l 256 "$TMP/klimaplan 2030.pdf" | cut -d' ' -f1)
has "$hash0"
run 0 A show "${id:0:8}" --json
python3 - "$TMP/out" "$hash0" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["attachment_files"]
assert [a["name"] for a in f] == ["klimaplan 2030.pdf", "eng.JPG"], f
assert f[0]["hash"] == sys.argv[2] and f[0]["size"] == 3000000 and f[0]["fetched"] is True, f
PY

# --- attachment get: by record and number, by hash, to stdout ---------------
mkdir "$TMP/out.d"
(cd "$TMP/out.d" && "$AGORA" --home "$TMP/a" attachment get "${id:0:8}") 2>"$TMP/err"
cmp "$TMP/out.d/klimaplan 2030.pdf" "$TMP/klimaplan 2030.pdf" || fail "file differs"
# never over an existing file
(cd "$TMP/out.d" && expect_exit 1 "$AGORA" --home "$TMP/a" attachment get "${id:0:8}:0")
expect_err_line "File exists"
run 0 A attachment get "${id:0:8}:1" --out -
[ "$OUT" = "photo bytes" ] || fail "stdout: $OUT"
run 0 A attachment get "$hash0" --out "$TMP/by-hash.pdf"
cmp "$TMP/by-hash.pdf" "$TMP/klimaplan 2030.pdf" || fail "by hash differs"
expect_exit 4 A attachment get "${id:0:8}:2"
expect_err_line "has no attachment 2"

# --- another node with the record but not the file --------------------------
run 0 A bundle create "$TMP/dk.agb"
run 0 B init --name "Vejle Kommune" --country DK
run 0 B bundle import "$TMP/dk.agb"
run 0 B show "${id:0:8}"
has "[0] klimaplan 2030.pdf  3.0 MB  application/pdf  (not fetched yet)"
has "[1] eng.JPG  11 bytes  image/jpeg  (not fetched yet)"
expect_exit 4 B attachment get "${id:0:8}" --out "$TMP/nothing.pdf"
expect_err_line "klimaplan 2030.pdf (3.0 MB) is not fetched yet"
[ ! -e "$TMP/nothing.pdf" ] || fail "wrote a file for a blob it does not hold"

# --- the size limit ----------------------------------------------------------
printf '\n[attachments]\nmax-file = 1M\n' >>"$TMP/a/agora.conf"
before=$(A query --kind measure --jsonl | wc -l)
expect_exit 3 A publish measure --title "For stor" --language da --adaptation \
	--attach "$TMP/klimaplan 2030.pdf"
expect_err_line "the file is 3.0 MB, larger than the limit of 1.0 MB for an attachment ([attachments] max-file in agora.conf)"
[ "$(A query --kind measure --jsonl | wc -l)" = "$before" ] || fail "a record was stored"
sed -i 's/^max-file = 1M$/max-file = 2G/' "$TMP/a/agora.conf"
expect_exit 3 A publish measure --title x --language da --adaptation --attach "$TMP/eng.JPG"
grep -qF "[attachments] max-file: '2G' is not a size from 1 to 1G" "$TMP/err" || fail "$(cat "$TMP/err")"

# --- kinds without attachments, too many, empty files ------------------------
sed -i 's/^max-file = 2G$/max-file = 256M/' "$TMP/a/agora.conf"
expect_exit 3 A publish target --type net_zero --target-year 2050 --attach "$TMP/eng.JPG"
expect_err_line "only a measure, a result or a lesson carries files"
args=()
for i in $(seq 0 16); do printf '%d' "$i" >"$TMP/f$i.txt"; args+=(--attach "$TMP/f$i.txt"); done
expect_exit 2 A publish measure --title x --language da --adaptation "${args[@]}"
expect_err_line "at most 16 files"
: >"$TMP/empty.pdf"
expect_exit 3 A publish measure --title x --language da --adaptation --attach "$TMP/empty.pdf"
expect_err_line "not a file with something in it"
expect_exit 3 A publish measure --title x --language da --adaptation --attach "$TMP/none.pdf"

# --- a damaged stored copy is reported and not written out --------------------
blob=$(find "$TMP/a/blobs" -name "$hash0")
[ -f "$blob" ] || fail "blob not under blobs/: $(find "$TMP/a/blobs")"
printf 'X' | dd of="$blob" bs=1 seek=1000 conv=notrunc status=none
expect_exit 1 A attachment get "${id:0:8}" --out "$TMP/damaged.pdf"
expect_err_line "is damaged"
[ ! -e "$TMP/damaged.pdf" ] || fail "a damaged copy was written out"
echo "attachment_test: ok"
