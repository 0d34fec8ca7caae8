#!/usr/bin/env bash
# agora alliance members / admit / revoke: a coordinator admits and revokes,
# a member cannot, bad input gets a clear one-line error.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

C=$TMP/coord
M=$TMP/member
new_node "$C" DK2020
"$AGORA" --home "$M" init --name "Vejle Kommune" --country DK >/dev/null
mkey=$("$AGORA" --home "$M" whoami | awk '/public key/ {print $3}')
ckey=$("$AGORA" --home "$C" whoami | awk '/public key/ {print $3}')

expect_exit 0 "$AGORA" --home "$C" alliance --help
grep -q "alliance admit KEY" "$TMP/out" || fail "help lacks admit"
expect_exit 2 "$AGORA" --home "$C" alliance admit 1234 --name V --country DK
expect_err_line "is not a public key"
expect_exit 2 "$AGORA" --home "$C" alliance admit "$mkey" --name V --country DK --role king
expect_err_line "unknown role 'king'"
expect_exit 2 "$AGORA" --home "$C" alliance admit "$mkey" --name V --country DK --expires soon
expect_err_line "is not a duration"
expect_exit 2 "$AGORA" --home "$C" alliance admit "$mkey" --country DK
expect_err_line "usage: agora alliance admit"

# The member cannot publish before it is admitted (it does not even hold
# the alliance), then can once the charter and its admission reach it.
expect_exit 0 "$AGORA" --home "$C" alliance admit "$mkey" --name "Vejle Kommune" --country DK \
	--expires 30d
expect_exit 0 "$AGORA" --home "$C" alliance members --json
[ "$(json_get "$TMP/out" 'len(d)')" = 2 ] || fail "two members expected"
[ "$(json_get "$TMP/out" '[m["role"] for m in d if m["key"] == "'"$mkey"'"][0]')" = member ] ||
	fail "role"
[ "$(json_get "$TMP/out" '[m["status"] for m in d if m["key"] == "'"$mkey"'"][0]')" = active ] ||
	fail "status"
[ "$(json_get "$TMP/out" '[m["name"] for m in d if m["key"] == "'"$mkey"'"][0]')" = "Vejle Kommune" ] ||
	fail "name"
[ "$(json_get "$TMP/out" '"expires_ms" in [m for m in d if m["key"] == "'"$mkey"'"][0]')" = True ] ||
	fail "expiry"
[ "$(json_get "$TMP/out" '[m["role"] for m in d if m["key"] == "'"$ckey"'"][0]')" = coordinator ] ||
	fail "founder is not a coordinator"

"$AGORA" --home "$C" bundle create "$TMP/gov.agb" >/dev/null
"$AGORA" --home "$M" bundle import "$TMP/gov.agb" >/dev/null
"$AGORA" --home "$M" alliance use DK2020 >/dev/null
expect_exit 0 "$AGORA" --home "$M" publish measure --title "Cykelsti" --language da --mitigation
expect_exit 0 "$AGORA" --home "$M" publish measure --title "Vådområde" --language da --mitigation

# A member may not admit, revoke or endorse.
expect_exit 1 "$AGORA" --home "$M" alliance admit "$ckey" --name X --country DK
expect_err_line "only a coordinator of this alliance can do that"
expect_exit 1 "$AGORA" --home "$M" alliance revoke "$ckey" --reason "coup"
expect_err_line "only a coordinator of this alliance can do that"

# Revocation: after seq 1, the second measure is hidden at the coordinator.
"$AGORA" --home "$M" bundle create "$TMP/m.agb" >/dev/null
"$AGORA" --home "$C" bundle import "$TMP/m.agb" >/dev/null
[ "$("$AGORA" --home "$C" query --kind measure --limit 0 --jsonl | wc -l)" = 2 ] ||
	fail "coordinator does not hold both measures"
expect_exit 2 "$AGORA" --home "$C" alliance revoke "$mkey"
expect_err_line "usage: agora alliance revoke"
expect_exit 2 "$AGORA" --home "$C" alliance revoke "$mkey" --reason x --after-seq -1
expect_exit 0 "$AGORA" --home "$C" alliance revoke "$mkey" --after-seq 1 --reason "stolen laptop"
[ "$("$AGORA" --home "$C" query --kind measure --limit 0 --jsonl | wc -l)" = 1 ] ||
	fail "the measure past the revocation is still returned"
expect_exit 0 "$AGORA" --home "$C" alliance members
grep -q "revoked after seq 1" "$TMP/out" || fail "members does not show the revocation"
# The revoked key cannot publish any more where the revocation is known.
"$AGORA" --home "$C" bundle create "$TMP/gov2.agb" >/dev/null
expect_exit 0 "$AGORA" --home "$M" bundle import "$TMP/gov2.agb"
grep -q "^1 new" "$TMP/out" || fail "the revocation did not reach m: $(cat "$TMP/out")"
expect_exit 1 "$AGORA" --home "$M" publish measure --title "Efter" --language da --mitigation
grep -q "revoked" "$TMP/err" || fail "publish after revocation: $(cat "$TMP/err")"

# Two active keys of one name: admit warns (stderr, exit 0), members marks
# both; case and accents do not count; a revoked key no longer counts.
k1=$(printf '1%.0s' {1..64}); k2=$(printf '2%.0s' {1..64}); k3=$(printf '3%.0s' {1..64})
expect_exit 0 "$AGORA" --home "$C" alliance admit "$k1" --name "Sønderborg Kommune" --country DK
[ ! -s "$TMP/err" ] || fail "a new name warned: $(cat "$TMP/err")"
expect_exit 0 "$AGORA" --home "$C" alliance admit "$k2" --name "SONDERBORG kommune" --country DK
expect_err_line "warning: 1 other active key of this alliance is named 'Sønderborg Kommune' (1111111111111111)"
[ "$(wc -l <"$TMP/out")" = 1 ] || fail "admit with a warning still prints the record id"
expect_exit 0 "$AGORA" --home "$C" alliance admit "$k3" --name "Assens" --country DK
[ ! -s "$TMP/err" ] || fail "another name warned: $(cat "$TMP/err")"
# admitting the same key again (new terms) is not a second key
expect_exit 0 "$AGORA" --home "$C" alliance admit "$k3" --name "Assens" --country DK --expires 30d
[ ! -s "$TMP/err" ] || fail "re-admitting one key warned: $(cat "$TMP/err")"
expect_exit 0 "$AGORA" --home "$C" alliance members
[ "$(grep -c 'same-name$' "$TMP/out")" = 2 ] || fail "members marks the two: $(cat "$TMP/out")"
grep "^3333" "$TMP/out" | grep -q same-name && fail "Assens marked"
expect_exit 0 "$AGORA" --home "$C" alliance members --json
[ "$(json_get "$TMP/out" 'sorted(m["key"][:4] for m in d if m["same_name"])')" = "['1111', '2222']" ] ||
	fail "same_name in JSON: $(cat "$TMP/out")"
# an invite for a name two active keys have warns too (the code is still made)
expect_exit 0 "$AGORA" --home "$C" alliance invite --name "sønderborg KOMMUNE" --address 127.0.0.1:7420
grep -q "^warning: 2 other active keys\|: warning: 2 other active keys" "$TMP/err" ||
	fail "invite did not warn: $(cat "$TMP/err")"
grep -q "^agora1-" "$TMP/out" || fail "invite with a warning printed no code: $(cat "$TMP/out")"
expect_exit 0 "$AGORA" --home "$C" alliance revoke "$k2" --after-seq 0 --reason "admitted twice"
expect_exit 0 "$AGORA" --home "$C" alliance members
grep -q 'same-name' "$TMP/out" && fail "a revoked key still counts: $(cat "$TMP/out")"
expect_exit 0 "$AGORA" --home "$C" alliance admit "$k1" --name "Sønderborg Kommune" --country DK
[ ! -s "$TMP/err" ] || fail "the revoked key's name warned: $(cat "$TMP/err")"
echo ok
