#!/bin/bash
# D4 (issue 10): the cost of parsing a message is bounded before it is
# unpacked.  One 8 MiB message of 4 million empty Range entries, sent (1)
# by an unknown key as its first message while an invite is open, and (2)
# by an admitted member after Hello, must leave the node's peak RSS under
# 64 MB (1,000 feeds).  (3) Once its only invite is used, an unknown key
# reaches nothing: the node closes its connection at once (within 5 s,
# not at the 10-s redemption deadline).  After each, the node still
# publishes and a fresh member syncs to completion.
. "$(dirname "$0")/hostile_lib.sh"
target_fixture evil
rss_guard a 2048
code=$(ag a alliance invite --name "Vejle Kommune" --country DK --role member) || fail "invite"
"$HOSTILE" bigparse "$(port a)" - || fail "hostile bigparse (outsider)"
after_attack
"$HOSTILE" bigparse "$(port a)" "$WORK/evil" || fail "hostile bigparse (member)"
after_attack
"$HOSTILE" redeem "$(port a)" "$code" || fail "the invite could not be redeemed"
"$HOSTILE" outsider "$(port a)" 5 ||
	bad "with no invite open, an unknown key still waits to redeem one after its handshake"
after_attack
finish
