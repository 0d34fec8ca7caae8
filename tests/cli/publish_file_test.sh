#!/usr/bin/env bash
# agora publish --file: JSON Lines, arrays, single objects, @ref, and
# all-or-nothing with the bad line named.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H" DK2020
count() { "$AGORA" --home "$H" alliance list --json >"$TMP/l"; json_get "$TMP/l" 'd[0]["records"]'; }
base=$(count)

cat >"$TMP/ok.jsonl" <<'J'
{"kind": "measure", "ref": "wet", "title": "Wetland", "language": "da", "mitigation": true, "sector": "agriculture_forestry_fisheries", "areas": ["wetlands"]}

{"kind": "result", "measure": "@wet", "year": 2024, "value": 3.5, "unit": "ha", "indicator": "area"}
{"kind": "lesson", "title": "Talk to farmers", "language": "en", "measures": ["@wet"], "barriers": ["social"]}
J
expect_exit 0 "$AGORA" --home "$H" publish --file "$TMP/ok.jsonl"
[ "$(wc -l <"$TMP/out")" = 3 ] || fail "three ids expected"
m=$(sed -n 1p "$TMP/out")
r=$(sed -n 2p "$TMP/out")
[ "$(count)" = $((base + 3)) ] || fail "three records not stored"
if "$AGORA" --home "$H" show "$r" --json >"$TMP/show" 2>/dev/null; then
	grep -q "$m" "$TMP/show" || fail "@ref did not resolve to the measure id"
fi

# One bad line: nothing stored, the line and field named, exit 3.
sed 's/"social"/"sociall"/' "$TMP/ok.jsonl" >"$TMP/bad.jsonl"
expect_exit 3 "$AGORA" --home "$H" publish --file "$TMP/bad.jsonl"
expect_err_line "bad.jsonl:4: lesson.barriers[0]: 'sociall' is not a barrier"
[ "$(count)" = $((base + 3)) ] || fail "a failed file stored records"

# A record the signer rejects (no mitigation/adaptation) also stores nothing.
sed 's/"mitigation": true, //' "$TMP/ok.jsonl" >"$TMP/bad2.jsonl"
expect_exit 3 "$AGORA" --home "$H" publish --file "$TMP/bad2.jsonl"
expect_err_line "bad2.jsonl:1:"
[ "$(count)" = $((base + 3)) ] || fail "a rejected batch stored records"

# @ref to a later record, unknown field, broken JSON.
printf '%s\n' '{"kind":"result","measure":"@later","year":2024}' >"$TMP/fwd.jsonl"
expect_exit 3 "$AGORA" --home "$H" publish --file "$TMP/fwd.jsonl"
expect_err_line "fwd.jsonl:1: result.measure"
printf '%s\n' '{"kind":"measure","title":"T","colour":"red"}' >"$TMP/unk.jsonl"
expect_exit 3 "$AGORA" --home "$H" publish --file "$TMP/unk.jsonl"
expect_err_line "measure.colour"
printf '%s\n' '{"kind":"measure","title":"T","language":"da","mitigation":true}' '{"kind": ' >"$TMP/syn.jsonl"
expect_exit 3 "$AGORA" --home "$H" publish --file "$TMP/syn.jsonl"
expect_err_line "syn.jsonl:2"

# An array and a pretty-printed single object.
cat >"$TMP/arr.json" <<'J'
[ {"kind": "measure", "ref": "a", "title": "A", "language": "da", "adaptation": true, "hazards": ["coastal_flood"]},
  {"kind": "endorsement", "target": "@a", "note": "good"} ]
J
expect_exit 0 "$AGORA" --home "$H" publish --file "$TMP/arr.json"
[ "$(wc -l <"$TMP/out")" = 2 ] || fail "array: two ids expected"
cat >"$TMP/one.json" <<'J'
{
  "kind": "target",
  "type": "net_zero",
  "target_year": 2050,
  "title": "Net zero",
  "language": "en"
}
J
expect_exit 0 "$AGORA" --home "$H" publish --file "$TMP/one.json"
[ "$(wc -l <"$TMP/out")" = 1 ] || fail "single object: one id expected"
[ "$(count)" = $((base + 6)) ] || fail "records after array and object"
echo ok
