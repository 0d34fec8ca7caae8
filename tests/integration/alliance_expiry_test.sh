#!/bin/bash
# An admission that expires stops working without anyone acting: the
# session is dropped on the node's own clock with a Bye that says why, the
# member shows the reason and stops redialling, a new session (asked for
# with `agora sync`) is refused, and the member's store refuses to publish.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode m
ag a alliance admit "$(key m)" --name m --country DK --expires 12s >/dev/null || fail "admit"   # room for a slow (ASan) build to get there first
ag a bundle create "$WORK/gov.agb" >/dev/null && ag m bundle import "$WORK/gov.agb" >/dev/null ||
	fail "bundle"
ag m alliance use DK2020 >/dev/null
ag m publish measure --title "in time" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish before expiry"
allow a m
start a
link m a
start m
wait_for 10 "a to receive m's measure" has_measures a 1
wait_for 30 "a to drop m's session on its own" logged a "no longer active"
wait_for 10 "m to log why it was dropped" logged m "admission_expired"
peer_state() { ag m peers --json | sed -n 's/^ *"state": "\(.*\)",*$/\1/p'; }
wait_for 10 "m to stop redialling a" [ "$(peer_state)" = refused ]
ag m sync >/dev/null || fail "agora sync on m"
wait_for 20 "a to refuse m's new session" logged a "is not active in any alliance this node is in"
ag m publish measure --title "too late" --language da --mitigation --sector waste \
	--status ongoing >/dev/null 2>&1 && fail "m published after its admission expired"
ag a alliance members | grep "^$(key m | cut -c1-16)" | grep -q expired ||
	fail "members does not show the expiry"
stop m
stop a
echo "ok"
