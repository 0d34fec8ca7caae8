#!/usr/bin/env bash
# agora whoami: key, profile and alliances, also for an encrypted key.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
expect_exit 0 "$AGORA" --home "$H" init --name "Assens Kommune" --country DK --alliance DK2020
key=$(sed -n 's/^public key: //p' "$TMP/out")
[ ${#key} = 64 ] || fail "init printed no key"
expect_exit 0 "$AGORA" --home "$H" whoami --json
[ "$(json_get "$TMP/out" 'd["key"]')" = "$key" ] || fail "whoami key differs"
[ "$(json_get "$TMP/out" 'd["profile"]["name"]')" = "Assens Kommune" ] || fail "no profile"
[ "$(json_get "$TMP/out" 'd["alliances"][0]["default"]')" = True ] || fail "no default"
[ "$(json_get "$TMP/out" 'len(d["profile_record"])')" = 64 ] || fail "no profile record"
expect_exit 0 "$AGORA" --home "$H" whoami
grep -q "$key" "$TMP/out" || fail "text whoami lacks the key"
! grep -q "plain" "$TMP/out" || fail "whoami printed key material"

# Encrypted key: whoami needs no passphrase and prints the same key.
printf 'pw\n' >"$TMP/pass"
chmod 600 "$TMP/pass"   # a passphrase file others can read is refused, like the key
expect_exit 0 "$AGORA" --home "$TMP/e" init --name X --country DK --passphrase-file "$TMP/pass"
ekey=$(sed -n 's/^public key: //p' "$TMP/out")
expect_exit 0 "$AGORA" --home "$TMP/e" whoami --json
[ "$(json_get "$TMP/out" 'd["key"]')" = "$ekey" ] || fail "encrypted whoami key differs"

expect_exit 5 "$AGORA" --home "$TMP/none" whoami
expect_err_line "agora init"
echo ok
