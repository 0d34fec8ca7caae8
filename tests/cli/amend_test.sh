#!/usr/bin/env bash
# agora amend and agora retract.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H" DK2020
expect_exit 0 "$AGORA" --home "$H" publish measure --title Wetland --language da --mitigation \
	--areas wetlands --status ongoing --start-year 2022
m=$(cat "$TMP/out")

expect_exit 0 "$AGORA" --home "$H" amend "${m:0:8}" --status completed --areas tree_planting --json
v2=$(json_get "$TMP/out" 'd["id"]')
[ "$(json_get "$TMP/out" 'd["supersedes"]')" = "$m" ] || fail "amend does not supersede"
[ "$(json_get "$TMP/out" 'd["status"]')" = completed ] || fail "status not changed"
[ "$(json_get "$TMP/out" 'd["areas"]')" = "['tree_planting']" ] || fail "areas not replaced"
[ "$(json_get "$TMP/out" 'd["start_year"]')" = 2022 ] || fail "unchanged field lost"

# Amending the old id edits the newest version (keeps the status change).
expect_exit 0 "$AGORA" --home "$H" amend "$m" --title "Wetland II" --json
[ "$(json_get "$TMP/out" 'd["supersedes"]')" = "$v2" ] || fail "second amend not of newest"
[ "$(json_get "$TMP/out" 'd["status"]')" = completed ] || fail "second amend lost a change"

expect_exit 2 "$AGORA" --home "$H" amend "$m"
expect_err_line "nothing to change"
expect_exit 3 "$AGORA" --home "$H" amend "$m" --start-year 1850
expect_err_line "--start-year"
expect_exit 4 "$AGORA" --home "$H" amend 0000000000
expect_exit 2 "$AGORA" --home "$H" amend "$m" --nope 1

# A record this store does not hold (another node's) cannot be retracted here.
O=$TMP/o
new_node "$O" Other
expect_exit 0 "$AGORA" --home "$O" publish measure --title Theirs --language da --mitigation
theirs=$(cat "$TMP/out")
expect_exit 4 "$AGORA" --home "$H" retract "$theirs"

expect_exit 0 "$AGORA" --home "$H" retract "$m" --reason "duplicate"
[[ "$(cat "$TMP/out")" =~ ^[0-9a-f]{64}$ ]] || fail "retract did not print an id"
expect_exit 3 "$AGORA" --home "$H" amend "$m" --status ongoing
expect_err_line "retracted"
expect_exit 3 "$AGORA" --home "$H" retract "$m"
echo ok
