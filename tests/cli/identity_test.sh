#!/usr/bin/env bash
# identity.key and its passphrase: every refusal is one line on stderr that
# says what to run, with exit status 5 (storage/keyfile.c, the loader agora
# and agorad share).
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
printf 'correct horse\n' >"$TMP/pass"
chmod 600 "$TMP/pass"
expect_exit 0 "$AGORA" --home "$H" init --name Assens --country DK --passphrase-file "$TMP/pass"
sign() { "$AGORA" --home "$H" alliance create --name "A$RANDOM" "$@"; }

# The passphrase file is checked like the key: others may not read it.
expect_exit 0 sign --passphrase-file "$TMP/pass"
chmod 640 "$TMP/pass"
expect_exit 5 sign --passphrase-file "$TMP/pass"
expect_err_line "passphrase file is readable by others (mode 0640): run chmod 600 $TMP/pass"
chmod 600 "$TMP/pass"

# A NUL byte would cut the passphrase short in every C string: refused.
printf 'correct horse\0tail\n' >"$TMP/nul"
chmod 600 "$TMP/nul"
expect_exit 5 sign --passphrase-file "$TMP/nul"
expect_err_line "holds a NUL byte"

# An empty passphrase is no passphrase, from a file or the environment.
printf '\n' >"$TMP/empty"
chmod 600 "$TMP/empty"
expect_exit 5 sign --passphrase-file "$TMP/empty"
expect_err_line "is empty: write the passphrase on its first line"
AGORA_PASSPHRASE= expect_exit 5 sign
expect_err_line "identity.key is encrypted: set AGORA_PASSPHRASE or give --passphrase-file FILE"

# A missing passphrase file is named.
expect_exit 5 sign --passphrase-file "$TMP/nowhere"
expect_err_line "cannot read passphrase file $TMP/nowhere"

# identity.key must be a regular file.
mv "$H/identity.key" "$TMP/key.saved"
mkdir "$H/identity.key"
AGORA_PASSPHRASE='correct horse' expect_exit 5 sign
expect_err_line "is not a regular file"
rmdir "$H/identity.key"
mv "$TMP/key.saved" "$H/identity.key"
AGORA_PASSPHRASE='correct horse' expect_exit 0 sign

# Another user's key (or passphrase file) is refused, with the chown to run.
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$H/identity.key"
	AGORA_PASSPHRASE='correct horse' expect_exit 5 sign
	expect_err_line "identity.key $H/identity.key belongs to uid 65534"
	grep -qF "run chown 0 $H/identity.key" "$TMP/err" || fail "no chown hint: $(cat "$TMP/err")"
	chown 0 "$H/identity.key"
	chown 65534 "$TMP/pass"
	expect_exit 5 sign --passphrase-file "$TMP/pass"
	expect_err_line "passphrase file $TMP/pass belongs to uid 65534"
	chown 0 "$TMP/pass"
fi
expect_exit 0 sign --passphrase-file "$TMP/pass"

# init refuses a loose passphrase file before it creates anything.
chmod 644 "$TMP/pass"
expect_exit 5 "$AGORA" --home "$TMP/fresh" init --name X --country DK --passphrase-file "$TMP/pass"
expect_err_line "run chmod 600"
[ ! -e "$TMP/fresh" ] || fail "a refused init created the data directory"
echo ok
