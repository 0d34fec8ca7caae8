#!/usr/bin/env bash
# agora init: key 0600, never overwritten, key permissions, encrypted keys.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/a/nested/home
expect_exit 0 "$AGORA" --home "$H" init --name "Assens Kommune" --country DK --population 41000
[ "$(stat -c %a "$H/identity.key")" = 600 ] || fail "identity.key mode $(stat -c %a "$H/identity.key")"
[ "$(stat -c %a "$H")" = 700 ] || fail "data dir mode $(stat -c %a "$H")"
[ -d "$H/db" ] || fail "no db/"
grep -q '^population = 41000$' "$H/agora.conf" || fail "agora.conf lacks the profile"
grep -q 'next: agora alliance create' "$TMP/out" || fail "no hint without --alliance"

# Never overwrite: same key bytes after a second init, exit 5.
before=$(sha256sum <"$H/identity.key")
expect_exit 5 "$AGORA" --home "$H" init --name Other --country SE
expect_err_line "already exists"
[ "$(sha256sum <"$H/identity.key")" = "$before" ] || fail "init changed an existing key"

# A key readable by others is refused like ssh does.
chmod 644 "$H/identity.key"
expect_exit 5 "$AGORA" --home "$H" alliance create --name DK2020
expect_err_line "identity.key is readable by others (mode 0644): run chmod 600"
chmod 600 "$H/identity.key"
expect_exit 0 "$AGORA" --home "$H" alliance create --name DK2020

# Missing name/country is a usage error; bad country an input error naming the flag.
expect_exit 2 "$AGORA" --home "$TMP/u" init --name X
expect_exit 3 "$AGORA" --home "$TMP/v" init --name X --country Denmark
expect_err_line "--country"
[ ! -e "$TMP/v/identity.key" ] || fail "a rejected init left a key behind"

# Encrypted key: works with the passphrase, fails without it or with a wrong one.
E=$TMP/enc
printf 'correct horse\n' >"$TMP/pass"
chmod 644 "$TMP/pass"
expect_exit 5 "$AGORA" --home "$E" init --name Assen --country NL --passphrase-file "$TMP/pass"
expect_err_line "passphrase file is readable by others (mode 0644): run chmod 600 $TMP/pass"
[ ! -e "$E/identity.key" ] || fail "a refused passphrase file left a key behind"
chmod 600 "$TMP/pass"
expect_exit 0 "$AGORA" --home "$E" init --name Assen --country NL --passphrase-file "$TMP/pass"
grep -q argon2id "$E/identity.key" || fail "key not encrypted"
expect_exit 5 "$AGORA" --home "$E" alliance create --name Twin
expect_err_line "encrypted"
AGORA_PASSPHRASE=wrong expect_exit 5 "$AGORA" --home "$E" alliance create --name Twin
expect_err_line "wrong passphrase"
AGORA_PASSPHRASE='correct horse' expect_exit 0 "$AGORA" --home "$E" alliance create --name Twin
expect_exit 0 "$AGORA" --home "$E" publish measure --title T --language nl --mitigation \
	--passphrase-file "$TMP/pass"

# init --alliance founds the alliance and publishes the profile into it.
F=$TMP/f
expect_exit 0 "$AGORA" --home "$F" init --name Poznań --country PL --alliance "Twin cities"
expect_exit 0 "$AGORA" --home "$F" alliance list --json
[ "$(json_get "$TMP/out" 'd[0]["name"]')" = "Twin cities" ] || fail "alliance not founded"
[ "$(json_get "$TMP/out" 'd[0]["records"]')" = 2 ] || fail "charter + profile expected"
echo ok
