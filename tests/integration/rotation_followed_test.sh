#!/bin/bash
# Issue 13: a rotated key is followed by its partners without any command.
# A coordinator c and two members (joined by invite codes, so nobody typed
# a peer) run.  c rotates its key while its agorad runs (the old key's
# agorad sends the KeyRotation out, as rotate-key's help says), then
# restarts agorad: the new key's profile and endpoint are published once it
# starts, the members find the new key by its endpoint; a record c publishes
# with the new key reaches both, and nobody ran a command on the members.
. "$(dirname "$0")/lib.sh"
mapfile -t PORTS < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
for s in ss: print(s.getsockname()[1])')
mknode c DK2020
ag c endpoint set "127.0.0.1:${PORTS[0]}" >/dev/null || fail "endpoint set at c"
start c "${PORTS[0]}"
for i in 1 2; do
	code=$(ag c alliance invite --name "m$i" --country DK --role member) || fail "invite m$i"
	ag "m$i" init --name "m$i" --country DK >/dev/null || fail "init m$i"
	ag "m$i" join "$code" --public-address "127.0.0.1:${PORTS[i]}" >/dev/null || fail "join m$i"
	start "m$i" "${PORTS[i]}"
done
same() { same_records c m1 && same_records c m2; }
wait_for 60 "the three nodes to converge" same
old=$(key c)
ag c alliance rotate-key > "$WORK/rotate.out" 2>"$WORK/rotate.err" || fail "rotate-key: $(cat "$WORK/rotate.err")"
new=$(head -n 1 "$WORK/rotate.out")
[ "$new" != "$old" ] && [ ${#new} = 64 ] || fail "rotate-key printed no new key: $new"
rotated() { ag "$1" alliance members | grep "^${old:0:16}" | grep -q "rotated"; }
wait_for 30 "m1 to hold the rotation" rotated m1
wait_for 30 "m2 to hold the rotation" rotated m2
stop c
start c "${PORTS[0]}"
ag c publish measure --title "Signed by the new key" --language da --mitigation \
	--sector waste --status ongoing >/dev/null || fail "publish with the new key"
got() { ag "$1" query --text "signed" --jsonl | grep -q "Signed by the new key"; }
wait_for 60 "m1 to get the new key's record" got m1
wait_for 60 "m2 to get the new key's record" got m2
# the members know c's new key as the coordinator now, and its endpoint
for i in 1 2; do
	ag "m$i" alliance members | grep "^${new:0:16}" | grep -q "coordinator.*active" ||
		fail "m$i does not hold the new key as an active coordinator"
	ag "m$i" endpoint --key "$new" | grep -q "127.0.0.1:${PORTS[0]}" ||
		fail "m$i does not hold the new key's endpoint"
	grep -q "^key = $old" "$WORK/m$i/agora.conf" && ! grep -q "bootstrap" "$WORK/m$i/agora.conf" &&
		fail "m$i pins the old key"
done
stop m1
stop m2
stop c
echo "ok"
