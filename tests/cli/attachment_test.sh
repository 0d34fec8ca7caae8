#!/usr/bin/env bash
# attachment_test.sh - `agora publish --attach`, `agora show` and `agora
# attachment get`: files attached to a record come back byte for byte; a
# node that holds the record but not the file says "not fetched yet"; a file
# over [attachments] max-file is refused saying so, and nothing is stored; a
# damaged stored copy is reported, not written out; a bundle made with
# --attachments carries the files (format AGORAB2) and a bundle whose file
# was altered, or that carries a file no record lists, stores nothing;
# `agora amend --attach/--detach` changes a new version's list.
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

# --- bundles with attachments -----------------------------------------------
run 0 A bundle create "$TMP/dk2.agb" --attachments
has "and 2 attachments (3.0 MB) to $TMP/dk2.agb"
[ "$(head -c 8 "$TMP/dk2.agb")" = "AGORAB2" ] || fail "magic of a bundle with files"
run 0 B bundle verify "$TMP/dk2.agb"
has "and 2 attachments (3.0 MB), framing, checksum and the attachments' hashes ok"
has "problems: none"
run 0 B bundle import "$TMP/dk2.agb"
has "attachments: 2 stored, 0 already held"
run 0 B show "${id:0:8}"
lacks "not fetched yet"
run 0 B attachment get "${id:0:8}" --out "$TMP/from-bundle.pdf"
cmp "$TMP/from-bundle.pdf" "$TMP/klimaplan 2030.pdf" || fail "file from the bundle differs"
run 0 B bundle import "$TMP/dk2.agb"
has "attachments: 0 stored, 2 already held"
# B holds the records and the files: its bundle carries them on (two hops)
run 0 B bundle create "$TMP/vejle.agb" --attachments
has "and 2 attachments (3.0 MB)"
# without --attachments: format 1, records only
run 0 A bundle create "$TMP/plain.agb"
[ "$(head -c 8 "$TMP/plain.agb")" = "AGORAB1" ] || fail "magic without --attachments"

# Rewrite a version 2 bundle: `bad` flips a byte of the first file, `extra`
# adds a file no record lists, `newer` writes format 3; the counts and the
# checksum are made right again, so only the new checks can refuse it.
rewrite() {
	python3 - "$1" "$2" "$3" <<'PY'
import hashlib, struct, sys
src, how, dst = sys.argv[1:]
b = bytearray(open(src, "rb").read())
body, trailer = b[:-52], b[-52:]
nrec, nblob = struct.unpack(">QQ", trailer[4:20])
off, recs, blobs = 8, [], []
while off < len(body):
    (n,) = struct.unpack(">I", body[off:off + 4])
    if n == 0xffffffff:
        size = struct.unpack(">Q", body[off + 36:off + 44])[0]
        blobs.append((bytes(body[off + 4:off + 36]), bytes(body[off + 44:off + 44 + size])))
        off += 44 + size
    else:
        recs.append(bytes(body[off:off + 4 + n]))
        off += 4 + n
if how == "bad":
    h, d = blobs[0]
    blobs[0] = (h, bytes([d[0] ^ 1]) + d[1:])
elif how == "extra":
    d = b"a file no record lists"
    blobs.append((hashlib.blake2b(d, digest_size=32).digest(), d))
    blobs.sort()
out = bytearray(b"AGORAB3\n" if how == "newer" else b"AGORAB2\n")
for r in recs:
    out += r
for h, d in blobs:
    out += struct.pack(">I", 0xffffffff) + h + struct.pack(">Q", len(d)) + d
out += struct.pack(">IQQ", 0, len(recs), len(blobs))
out += hashlib.blake2b(bytes(out[:-20]), digest_size=32).digest()
open(dst, "wb").write(out)
PY
}
C() { "$AGORA" --home "$TMP/c" "$@"; }
run 0 C init --name "Horsens Kommune" --country DK
rewrite "$TMP/dk2.agb" same "$TMP/same.agb"
cmp "$TMP/same.agb" "$TMP/dk2.agb" || fail "the test's rewrite does not round-trip"
rewrite "$TMP/dk2.agb" bad "$TMP/bad.agb"
expect_exit 3 C bundle import "$TMP/bad.agb"
expect_err_line "do not match its hash; nothing was used"
rewrite "$TMP/dk2.agb" extra "$TMP/extra.agb"
expect_exit 3 C bundle verify "$TMP/extra.agb"
grep -q "is not listed with its size by any record of the bundle" "$TMP/out" || fail "$(cat "$TMP/out")"
expect_exit 3 C bundle import "$TMP/extra.agb"
expect_err_line "1 attachment of $TMP/extra.agb is not listed by its records (see above); nothing of it was stored"
rewrite "$TMP/dk2.agb" newer "$TMP/newer.agb"
expect_exit 3 C bundle import "$TMP/newer.agb"
expect_err_line "a bundle of format 3, made by a newer agora: update agora to read it"
[ ! -d "$TMP/c/blobs" ] || [ -z "$(find "$TMP/c/blobs" -type f)" ] || fail "C stored a file"
expect_exit 4 C show "${id:0:8}"

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
# --- amend: --attach adds to the new version's list, --detach N takes one off ---
printf 'second photo' >"$TMP/eng2.png"
run 0 A amend "${id:0:8}" --attach "$TMP/eng2.png"
v2=$OUT
run 0 A show "${v2:0:8}"
has "[1] eng.JPG  11 bytes  image/jpeg"
has "[2] eng2.png  12 bytes  image/png"
run 0 A amend "${id:0:8}" --detach 0 --detach 1
v3=$OUT
run 0 A show "${v3:0:8}"
has "[0] eng2.png  12 bytes  image/png"
lacks "klimaplan 2030.pdf"
lacks "eng.JPG"
expect_exit 3 A amend "${id:0:8}" --detach 1
expect_err_line "--detach 1: the record has no attachment 1 (it has 1;"
expect_exit 2 A amend "${id:0:8}" --detach x
expect_err_line "'x' is not an attachment number"
run 0 A publish target --type net_zero --target-year 2050
expect_exit 3 A amend "${OUT:0:8}" --attach "$TMP/eng2.png"
expect_err_line "only a measure, a result or a lesson carries files"
echo "attachment_test: ok"
