#!/bin/bash
# Hostile peers are each dropped with a log line while a good peer syncs
# to completion: random bytes, a 65535-byte frame announced then silence,
# a handshake with a key not in the peer list, a valid frame holding a
# malformed protobuf, records with a bad signature / out of order / of
# another alliance, and 200 connections that open and idle.
. "$(dirname "$0")/lib.sh"
: "${HOSTILE:?}"
mknode a DK2020
mknode b
# One identity per keyed attacker: sessions of one key replace each other.
for m in badproto badsig outoforder otheralliance; do mknode "evil-$m"; done
# The hostile peers are admitted members (so they get past the handshake
# and their bad records are what is refused); b is an honest member.
admit a b evil-badproto evil-badsig evil-outoforder evil-otheralliance
gen_measures 3000 "Measure" "$(head -c 400 /dev/zero | tr '\0' y)" > "$WORK/a.jsonl"
ag a publish --file "$WORK/a.jsonl" >/dev/null || fail "publish"
for m in badproto badsig outoforder otheralliance; do allow a "evil-$m"; done
allow a b
start a
hp=()
for mode in random bigframe badkey badproto badsig outoforder otheralliance; do
	"$HOSTILE" $mode "$(port a)" "$WORK/evil-$mode" > "$WORK/h-$mode.out" 2>&1 &
	hp+=("$!:$mode")
done
"$HOSTILE" idle "$(port a)" 200 > "$WORK/h-idle.out" 2>&1 &
hp+=("$!:idle")
ag b peer add "127.0.0.1:$(port a)" "$(key a)" --name a >/dev/null
start b
wait_for 60 "the good peer to sync 3000 measures" has_measures b 3000
for e in "${hp[@]}"; do
	wait "${e%%:*}" || fail "hostile ${e#*:} was not dropped ($(cat "$WORK/h-${e#*:}.out"))"
done
ag a status >/dev/null || fail "a stopped answering"
logged a "not in the peer list" || fail "no log line for the unknown key"
logged a "handshake timeout" || fail "no log line for the silent frame / idle connections"
logged a "protocol violation" || fail "no log line for the malformed protobuf"
logged a "signature" || fail "no log line for the bad signature"
logged a "does not match its Records header" || fail "no log line for out-of-order records"
logged a "alliance" || fail "no log line for the foreign alliance"
# each idle stranger goes at the handshake timeout, or earlier when more
# connections from its address wait than the node keeps (at most 8)
[ "$(grep -c 'handshake timeout\|too many connections from one address' "$WORK/a.log")" -ge 200 ] ||
	fail "not every idle connection was dropped"
stop b
stop a
echo "ok"
