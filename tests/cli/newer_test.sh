#!/usr/bin/env bash
# newer_test.sh - a record of a kind this agora does not know (63, signed as
# a newer agora would; PROTOCOL.md 7.2) is shown, never raw:
#   show:  "a record of a newer kind (63): upgrade agora to read it"
#   query: the same sentence in the table; "newer:63" as its kind in JSON
#          and CSV; --kind measure leaves it out.
# Usage: newer_test.sh path/to/agora path/to/put_newer
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"
PUT=${2:?usage: newer_test.sh agora put_newer}
A() { "$AGORA" --home "$TMP/a" "$@"; }

run 0 A init --name "Assens Kommune" --country DK --alliance DK2020
run 0 A publish measure --title "Vådområde" --language da --adaptation
id=$("$PUT" "$TMP/a" 63 $'Noter fra topm\xc3\xb8det \x1b[31m') || fail "put_newer"
sentence='a record of a newer kind (63): upgrade agora to read it'
noraw() {   # the body is never printed: no part of its text, no control bytes
	! grep -q 'Noter fra' <<<"$OUT" || fail "the unreadable body was printed: $OUT"
	! grep -q $'\x1b' <<<"$OUT" || fail "control bytes reached the terminal"
}

# --- show -------------------------------------------------------------------
run 0 A show "$id"
has "kind:         newer:63"
has "note:         $sentence"
has 'signature:    valid'
noraw
run 0 A show "${id:0:10}" --json
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["kind"] == "newer:63", d["kind"]
assert d["newer"] == sys.argv[2], d.get("newer")
assert d["history"][0]["kind"] == "newer:63", d["history"]
' "$OUT" "$sentence" || fail "show --json: $OUT"
noraw

# --- query: table, JSON, CSV ------------------------------------------------
run 0 A query --limit 0
has "newer:63"
has "$sentence"
noraw
run 0 A query --limit 0 --json
python3 -c '
import json, sys
rows = json.loads(sys.argv[1])
new = [r for r in rows if r["id"] == sys.argv[2]]
assert len(new) == 1, rows
assert new[0]["kind"] == "newer:63" and new[0]["newer"] == sys.argv[3], new
assert any(r["kind"] == "measure" for r in rows), rows
' "$OUT" "$id" "$sentence" || fail "query --json: $OUT"
noraw
run 0 A query --limit 0 --csv
python3 -c '
import csv, io, sys
rows = list(csv.DictReader(io.StringIO(sys.argv[1])))
new = [r for r in rows if r["id"] == sys.argv[2]]
assert len(new) == 1 and new[0]["kind"] == "newer:63", rows
assert new[0]["title"] == sys.argv[3], new
' "$OUT" "$id" "$sentence" || fail "query --csv: $OUT"
noraw
run 0 A query --kind measure --limit 0 --jsonl
lacks "newer:63"
has 'Vådområde'

# --- carried like any record: a bundle takes it along -------------------------
run 0 A bundle create "$TMP/a.agb"
run 0 "$AGORA" --home "$TMP/b" init --name "Vejle" --country DK
run 0 "$AGORA" --home "$TMP/b" bundle import "$TMP/a.agb"
has '0 rejected'
run 0 "$AGORA" --home "$TMP/b" show "$id"
has "note:         $sentence"
noraw
echo "newer_test: ok"
