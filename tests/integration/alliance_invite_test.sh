#!/bin/bash
# An invite brings a brand-new node from nothing to a full, synced member
# with one command (agora join CODE) and a running agorad; the same code
# used a second time is refused, and that node learns nothing.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
ag a publish measure --title "Vådområde" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish"
start a
code=$(ag a alliance invite --name "Vejle Kommune" --country DK --role member) ||
	fail "invite"
case "$code" in agora1-*) ;; *) fail "not an invite code: $code" ;; esac
mknode n
ag n join "$code" >/dev/null || fail "join"
dk=$(ag a alliance list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["records"])')
start n
# a publishes the admission when the code is redeemed, and n its profile
# and endpoint, signed at join, once it holds the alliance: three more
wait_for 20 "the new node to hold all $((dk + 3)) records" has_records n $((dk + 3))
logged a "redeemed" || fail "no redemption log line at a"
ag n alliance members | grep "^$(key n | cut -c1-16)" | grep -q "Vejle Kommune.*member.*active" ||
	fail "n is not an active member in its own store"
ag n publish measure --title "Fra Vejle" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "the new member cannot publish"
wait_for 10 "n's measure at a" has_measures a 2

# the same code again, from another fresh node
mknode x
ag x join "$code" >/dev/null || fail "join x"
start x
# no invite is open any more: a lets the stranger redeem only to tell it
# why not, and x shows that reason and stops redialling
wait_for 20 "a to refuse the used code" logged a "invite already used"
wait_for 10 "x to show why" logged x "invite_used"
wait_for 10 "x to stop redialling a" sh -c "'$AGORA' --home '$WORK/x' peers --json | grep -q '\"state\": \"refused\"'"
[ "$(records x)" = 0 ] || fail "x holds $(records x) records"
ag x peers | grep -q " live " && fail "x has a live session"
# a malformed code is a clear error
ag x join "agora1-nonsense" 2>/dev/null && fail "a bad code was accepted"
stop x
stop n
stop a
echo "ok"
