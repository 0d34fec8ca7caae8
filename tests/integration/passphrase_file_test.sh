#!/bin/bash
# D16 (issue 10): agorad checks --passphrase-file as it checks the key.
# The key is encrypted under "correct horse".  agorad must refuse a
# passphrase file that others may read (0644) and one that holds a NUL
# ("correct horse\0junk": the landed node cut it at the NUL and started),
# and start with a 0600 file holding just the passphrase.
. "$(dirname "$0")/hostile_lib.sh"
printf 'correct horse\n' > "$WORK/pass"
chmod 600 "$WORK/pass"
ag p init --name p --country DK --passphrase-file "$WORK/pass" >/dev/null || fail "init with a passphrase"
grep -q argon2id "$WORK/p/identity.key" || fail "the key is not encrypted"
cp "$WORK/pass" "$WORK/pass-open"
chmod 644 "$WORK/pass-open"
printf 'correct horse\0junk\n' > "$WORK/pass-nul"
chmod 600 "$WORK/pass-nul"
[ "$(try_agorad p --passphrase-file "$WORK/pass")" = started ] ||
	fail "agorad does not start with a good passphrase file: $(tail -n 3 "$WORK/p.log")"
[ "$(try_agorad p --passphrase-file "$WORK/pass-open")" = refused ] ||
	bad "agorad accepts a passphrase file readable by others (mode 0644)"
[ "$(try_agorad p --passphrase-file "$WORK/pass-nul")" = refused ] ||
	bad "agorad accepts a passphrase file with a NUL in it (the passphrase was cut at the NUL)"
finish
