#!/usr/bin/env bash
# bundle_test.sh - `agora bundle`: create -> verify -> import into another
# home gives the same query results; a second import finds everything known;
# damaged, truncated and forged bundles are rejected with a clear message;
# a filtered bundle imports on its own.  Usage: bundle_test.sh path/to/agora
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
A() { "$AGORA" --home "$TMP/a" "$@"; }
B() { "$AGORA" --home "$TMP/b" "$@"; }
C() { "$AGORA" --home "$TMP/c" "$@"; }
D() { "$AGORA" --home "$TMP/d" "$@"; }
ids() { "$AGORA" --home "$1" query --limit 0 --alliance DK2020 --jsonl | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' | sort; }

run 0 A init --name "Assens Kommune" --country DK --alliance DK2020
cat >"$TMP/data.jsonl" <<'JSON'
{"kind": "measure", "ref": "wet", "title": "Vådområde ved Assens", "language": "da", "adaptation": true, "sector": "agriculture_forestry_fisheries", "areas": ["wetlands"], "status": "ongoing", "start_year": 2021, "end_year": 2025}
{"kind": "measure", "title": "District heating", "language": "en", "mitigation": true, "sector": "local_heat_cold_production", "status": "completed", "start_year": 2018, "end_year": 2020}
{"kind": "result", "measure": "@wet", "year": 2023, "indicator": "Wetland restored", "value": 42, "unit": "ha", "language": "en"}
{"kind": "lesson", "title": "Talk to landowners first", "measures": ["@wet"], "year": 2022, "language": "en"}
JSON
run 0 A publish --file "$TMP/data.jsonl"
run 0 B init --name "Poznań" --country PL --alliance "Twin cities"
run 0 C init --name "Assen" --country NL

# --- create, verify ----------------------------------------------------------
run 0 A bundle create "$TMP/a.agb"
has 'wrote'
[ "$(head -c 8 "$TMP/a.agb")" = "AGORAB1" ] || fail "magic"
n=$(python3 -c '
import sys, struct, hashlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"AGORAB1\n"
off, n = 8, 0
while True:
    (l,) = struct.unpack(">I", b[off:off+4])
    if l == 0: break
    off += 4 + l; n += 1
(cnt,) = struct.unpack(">Q", b[off+4:off+12])
assert cnt == n, (cnt, n)
assert b[off+12:off+44] == hashlib.blake2b(b[:off], digest_size=32).digest()
assert len(b) == off + 44
print(n)' "$TMP/a.agb") || fail "bundle format does not match the documented layout"
[ "$n" -ge 6 ] || fail "bundle holds $n records"
run 0 A bundle verify "$TMP/a.agb"
has 'framing and checksum ok'
has "signatures: $n valid, 0 invalid"
has 'problems: none'
has 'measure'
has 'Assens Kommune'

# --- import into another home: same query results ----------------------------
run 0 B bundle import "$TMP/a.agb"
has "$n new, 0 already known, 0 rejected"
[ "$(ids "$TMP/a")" = "$(ids "$TMP/b")" ] || fail "B does not answer DK2020 queries like A"
[ -n "$(ids "$TMP/b")" ] || fail "no DK2020 records in B"
run 0 B query --municipality assens --kind measure --jsonl
[ "$(printf '%s\n' "$OUT" | wc -l)" = 2 ] || fail "B: measures of Assens"
run 0 B query --municipality "POZNAŃ" --kind profile --jsonl
has 'Poznań'
# folded as search folds: without the accent, too
run 0 B query --municipality "poznan" --kind profile --jsonl
has 'Poznań'

# --- import twice: everything known ------------------------------------------
run 0 B bundle import "$TMP/a.agb"
has "0 new, $n already known, 0 rejected"

# --- B holds two alliances: without --alliance, only its default -------------
run 0 B bundle create "$TMP/b.agb"
has 'alliance Twin cities;'
lacks 'DK2020'
run 0 B bundle verify "$TMP/b.agb"
has 'alliances: 1 charter,'
run 0 D init --name "Sønderborg" --country DK
run 0 D bundle import "$TMP/b.agb"
run 0 D query --limit 0 --jsonl
has 'Poznań'
lacks 'Vådområde'
run 4 D query --alliance DK2020 --limit 0
# several only when asked, and it says which
run 0 B bundle create "$TMP/b2.agb" --alliance DK2020 --alliance "Twin cities"
has '2 alliances: '
has 'DK2020'
has 'Twin cities'
run 0 B bundle create "$TMP/b3.agb" --all-alliances
has '2 alliances: '
cmp -s "$TMP/b2.agb" "$TMP/b3.agb" || fail "--all-alliances differs from naming both"
run 0 B bundle create "$TMP/b4.agb" --alliance DK2020
has 'alliance DK2020;'
lacks 'Twin cities'
run 2 B bundle create "$TMP/b5.agb" --alliance DK2020 --all-alliances
run 4 B bundle create "$TMP/b5.agb" --alliance "No such alliance"
run 4 C bundle create "$TMP/c.agb"
grep -q 'no alliance' <<<"$ERR" || fail "a node in no alliance: $ERR"
[ ! -e "$TMP/b5.agb" ] && [ ! -e "$TMP/c.agb" ] || fail "a refused bundle create wrote a file"
run 0 B bundle create --help
[ "$(grep -c -- '--alliance NAME' <<<"$OUT")" = 1 ] || fail "--alliance twice in help: $OUT"
run 0 A bundle import "$TMP/b2.agb"
run 0 A query --municipality poz --kind profile --jsonl
has 'Poznań'

# --- damaged files: nothing is imported --------------------------------------
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[2], "wb").write(b)' "$TMP/a.agb" "$TMP/flip.agb"
run 3 A bundle verify "$TMP/flip.agb"
grep -Eq 'checksum|corrupt' <<<"$ERR" || fail "flipped byte: $ERR"
[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "one-line error: $ERR"
run 3 C bundle import "$TMP/flip.agb"
grep -Eq 'checksum|corrupt' <<<"$ERR" || fail "flipped byte import: $ERR"
head -c $(( $(stat -c %s "$TMP/a.agb") - 20 )) "$TMP/a.agb" >"$TMP/trunc.agb"
run 3 C bundle verify "$TMP/trunc.agb"
grep -q 'truncated' <<<"$ERR" || fail "truncated trailer: $ERR"
head -c 100 "$TMP/a.agb" >"$TMP/trunc2.agb"
run 3 C bundle import "$TMP/trunc2.agb"
grep -q 'truncated' <<<"$ERR" || fail "truncated record: $ERR"
printf 'not a bundle at all' >"$TMP/junk.agb"
run 3 C bundle verify "$TMP/junk.agb"
grep -q 'not an agora bundle' <<<"$ERR" || fail "junk: $ERR"
cat "$TMP/a.agb" >"$TMP/extra.agb"; printf 'x' >>"$TMP/extra.agb"
run 3 C bundle verify "$TMP/extra.agb"
run 4 C bundle verify "$TMP/does-not-exist.agb"
# C still holds nothing of DK2020 after the failed imports.
run 0 C query --limit 0 --jsonl
! grep -q 'Vådområde' <<<"$OUT" || fail "a damaged bundle stored records"

# --- forged: a signature byte changed, checksum recomputed -------------------
python3 -c '
import sys, struct, hashlib
b = bytearray(open(sys.argv[1], "rb").read())
off, recs = 8, []
while True:
    (l,) = struct.unpack(">I", b[off:off+4])
    if l == 0: break
    recs.append((off + 4, l)); off += 4 + l
start, l = recs[-1]
b[start + l - 1] ^= 0x01           # last byte of the last record signature
b[off+12:off+44] = hashlib.blake2b(bytes(b[:off]), digest_size=32).digest()
open(sys.argv[2], "wb").write(b)' "$TMP/a.agb" "$TMP/forged.agb"
run 3 A bundle verify "$TMP/forged.agb"
has "signatures: $((n - 1)) valid, 1 invalid"
has 'problem: record'
# All or nothing (exit 3 = nothing stored): the good records before the
# forged one are not stored either.
run 3 C bundle import "$TMP/forged.agb"
has "0 new, 0 already known, 1 rejected: nothing was stored"
has "rejected: record $n "
grep -qi 'signature' <<<"$OUT" || fail "rejection names the reason: $OUT"
grep -q 'nothing of it was stored' <<<"$ERR" || fail "the error says nothing was stored: $ERR"
run 0 C query --limit 0 --jsonl
lacks 'Vådområde'
lacks 'Assens Kommune'
run 0 C alliance list
lacks 'DK2020'
# Once whole again, the same records import.
run 0 C bundle import "$TMP/a.agb"
has "$n new, 0 already known, 0 rejected"

# --- a filtered bundle still imports on its own ------------------------------
rm -rf "$TMP/c"
run 0 C init --name "Assen" --country NL
run 0 A bundle create "$TMP/results.agb" --kind result --alliance DK2020
run 0 A bundle verify "$TMP/results.agb"
has 'problems: none'
run 0 C bundle import "$TMP/results.agb"
has '0 rejected'
run 0 C query --kind result --jsonl
has 'Wetland restored'

# --- usage -------------------------------------------------------------------
run 2 A bundle
run 2 A bundle frobnicate x
run 2 A bundle verify
run 2 A bundle create
run 0 A bundle --help
has 'AGORAB1'
echo "bundle_test: ok"
