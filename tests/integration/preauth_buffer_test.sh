#!/bin/bash
# D5 (issue 10): what a connection may buffer before it is authenticated
# is bounded.  While an invite is open, 30 unknown keys complete the
# handshake and each sends all but the last byte of an 8 MiB message (as
# if redeeming).  The node's peak RSS must stay under 64 MB (1,000 feeds)
# until it has dropped them all; afterwards it still publishes and a fresh
# member syncs to completion.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture
rss_guard a 1024
ag a alliance invite --name "Vejle Kommune" --country DK --role member >/dev/null || fail "invite"
"$HOSTILE" preauth "$(port a)" 30 || fail "hostile preauth"
after_attack
finish
