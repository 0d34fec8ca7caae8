#!/usr/bin/env bash
# agora alliance rotate-key: a coordinator's new key takes over at once; a
# member's new key needs a coordinator's admission; the old key is retired.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

C=$TMP/coord
M=$TMP/member
X=$TMP/nobody
new_node "$C" DK2020
"$AGORA" --home "$M" init --name "Vejle Kommune" --country DK >/dev/null
"$AGORA" --home "$X" init --name "Nobody" --country DK >/dev/null
pk() { "$AGORA" --home "$1" whoami | awk '/public key/ {print $3}'; }
old_c=$(pk "$C")
old_m=$(pk "$M")

expect_exit 1 "$AGORA" --home "$X" alliance rotate-key
expect_err_line "active in no alliance"
[ "$(pk "$X")" != "" ] && [ ! -e "$X/identity.key.new" ] || fail "failed rotation left a key behind"

"$AGORA" --home "$C" alliance admit "$old_m" --name "Vejle Kommune" --country DK >/dev/null
"$AGORA" --home "$C" bundle create "$TMP/gov.agb" >/dev/null
"$AGORA" --home "$M" bundle import "$TMP/gov.agb" >/dev/null
"$AGORA" --home "$M" alliance use DK2020 >/dev/null

# the coordinator: its new key takes over at once
expect_exit 0 "$AGORA" --home "$C" alliance rotate-key
new_c=$(cat "$TMP/out")
[ ${#new_c} = 64 ] && [ "$new_c" != "$old_c" ] || fail "no new key printed"
[ "$(pk "$C")" = "$new_c" ] || fail "whoami does not show the new key"
[ -e "$C/identity.key.retired-${old_c:0:16}" ] || fail "old key file not kept"
expect_exit 0 "$AGORA" --home "$C" alliance members
grep -q "^${old_c:0:16}.*rotated after seq" "$TMP/out" || fail "old key not retired"
grep -q "^${new_c:0:16}.*coordinator active" "$TMP/out" || fail "new key not coordinator"
expect_exit 0 "$AGORA" --home "$C" publish measure --title "Med ny nøgle" --language da --mitigation

# a member: its new key must be admitted by a coordinator
expect_exit 0 "$AGORA" --home "$M" alliance rotate-key
new_m=$(cat "$TMP/out")
grep -q "ask a coordinator to run \`agora alliance admit $new_m" "$TMP/err" ||
	fail "no admission hint: $(cat "$TMP/err")"
expect_exit 1 "$AGORA" --home "$M" publish measure --title "Før" --language da --mitigation
grep -q "not admitted" "$TMP/err" || fail "publish before admission: $(cat "$TMP/err")"
"$AGORA" --home "$M" bundle create "$TMP/m.agb" >/dev/null
"$AGORA" --home "$C" bundle import "$TMP/m.agb" >/dev/null
expect_exit 0 "$AGORA" --home "$C" alliance admit "$new_m" --name "Vejle Kommune" --country DK
"$AGORA" --home "$C" bundle create "$TMP/gov2.agb" >/dev/null
"$AGORA" --home "$M" bundle import "$TMP/gov2.agb" >/dev/null
expect_exit 0 "$AGORA" --home "$M" publish measure --title "Efter" --language da --mitigation
echo ok
