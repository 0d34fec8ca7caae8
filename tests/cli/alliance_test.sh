#!/usr/bin/env bash
# agora alliance create / list / use, and the no-alliance error.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H"
expect_exit 4 "$AGORA" --home "$H" publish measure --title T --language da --mitigation
expect_err_line "you are in no alliance yet: run \`agora alliance create --name NAME\`"

expect_exit 0 "$AGORA" --home "$H" alliance create --name DK2020 --description "16 municipalities"
a=$(cat "$TMP/out")
expect_exit 0 "$AGORA" --home "$H" alliance create --name "Twin cities"
b=$(cat "$TMP/out")
[ ${#a} = 64 ] && [ ${#b} = 64 ] && [ "$a" != "$b" ] || fail "bad alliance ids"

expect_exit 0 "$AGORA" --home "$H" alliance list --json
[ "$(json_get "$TMP/out" 'len(d)')" = 2 ] || fail "two alliances expected"
[ "$(json_get "$TMP/out" '[x["name"] for x in d if x["default"]][0]')" = "Twin cities" ] ||
	fail "last created is not the default"
[ "$(json_get "$TMP/out" 'd[0]["members"]')" = 1 ] || fail "members"

# use by name (any case), then by id prefix; publish goes to the default.
expect_exit 0 "$AGORA" --home "$H" alliance use dk2020
expect_exit 0 "$AGORA" --home "$H" alliance list
grep -q '^\* DK2020' "$TMP/out" || fail "default marker not on DK2020"
expect_exit 0 "$AGORA" --home "$H" publish measure --title T --language da --mitigation --json
[ "$(json_get "$TMP/out" 'd["alliance"]')" = "$a" ] || fail "record not in the default alliance"
expect_exit 0 "$AGORA" --home "$H" alliance use "${b:0:10}"
expect_exit 0 "$AGORA" --home "$H" publish measure --title T --language da --mitigation \
	--alliance DK2020 --json
[ "$(json_get "$TMP/out" 'd["alliance"]')" = "$a" ] || fail "--alliance NAME ignored"
expect_exit 4 "$AGORA" --home "$H" alliance use Nowhere
expect_err_line "no alliance 'Nowhere'"
expect_exit 2 "$AGORA" --home "$H" alliance frobnicate
echo ok
