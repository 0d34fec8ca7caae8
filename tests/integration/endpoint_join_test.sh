#!/bin/bash
# Joining publishes where the new member is reached: the coordinator
# invites (the code names its published endpoint), the member runs init
# and `agora join CODE --public-address ...` and starts agorad; once it is
# admitted, its profile and endpoint (signed at join, kept pending until
# it held the alliance) reach the coordinator, and `agora endpoint set` on
# the member changes what the coordinator holds.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
start a
ag a endpoint set "127.0.0.1:$(port a)" >/dev/null || fail "endpoint set at a"
ag a endpoint --json | grep -q "\"127.0.0.1:$(port a)\"" || fail "a does not show its endpoint"
code=$(ag a alliance invite --name "Vejle Kommune" --country DK --role member) || fail "invite"

mknode n
ag n join "$code" --public-address 127.0.0.1:7999 > "$WORK/join.out" || fail "join"
grep -q "127.0.0.1:7999" "$WORK/join.out" || fail "join does not say which address it publishes"
# the coordinator named in the code is where a's endpoint says
grep -q "address = 127.0.0.1:$(port a)" "$WORK/n/agora.conf" || fail "the code's address is not a's endpoint"
# signed, not stored: n does not hold the alliance yet
ag n endpoint | grep -q "127.0.0.1:7999.*pending" || fail "n does not show its pending endpoint"
[ "$(ag n query --limit 0 --jsonl | wc -l)" = 0 ] || fail "n stored records before holding the alliance"
kn=$(key n)

start n
at_a() { ag a endpoint --key "$kn" --json | grep -q "\"$1\""; }
wait_for 20 "n's endpoint at a" at_a 127.0.0.1:7999
ag a query --kind profile --jsonl | grep -q '"name": *"n"' || fail "n's profile is not at a"
ag n endpoint | grep -q "127.0.0.1:7999  (seq 2)" || fail "n does not show its published endpoint"
logged n "signed at join" || fail "no log line for the records signed at join"

# a new endpoint replaces the old one at the coordinator
ag n endpoint set 127.0.0.1:7998 "[::1]:7998" >/dev/null || fail "endpoint set at n"
wait_for 20 "n's new endpoint at a" at_a "\[::1\]:7998"
at_a 127.0.0.1:7999 && fail "a still shows n's old endpoint"
ag a endpoint --key "$kn" | grep -q "(seq 3)" || fail "a does not hold n's endpoint at seq 3"
ag n endpoint set --dial-out-only >/dev/null || fail "dial-out-only at n"
wait_for 20 "n dial-out only at a" sh -c "'$AGORA' --home '$WORK/a' endpoint --key $kn | grep -q 'dial-out only'"
# endpoints are not records a default query shows
ag a query --jsonl | grep -q '"kind": *"endpoint"' && fail "a default query shows endpoints"
stop n
stop a
echo "ok"
