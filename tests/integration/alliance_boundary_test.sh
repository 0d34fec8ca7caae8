#!/bin/bash
# Alliances are trust boundaries.  A key in a node's peer list but admitted
# to none of its alliances cannot complete a session and learns nothing;
# a member of DK2020 connected to a node in DK2020 and Twin receives every
# record of DK2020 and not one of Twin.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode m
mknode x
admit a m
ag a alliance create --name Twin >/dev/null || fail "create Twin"
ag a publish measure --alliance Twin --title "Secret twin measure" --language da --mitigation \
	--sector waste --status ongoing >/dev/null || fail "publish in Twin"
ag a alliance use DK2020 >/dev/null
ag a publish measure --title "Shared measure" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish in DK2020"
allow a m
allow a x
start a
# the outsider dials first: refused at the handshake, whatever it holds
ag x peer add "127.0.0.1:$(port a)" "$(key a)" --name a >/dev/null || fail "peer add x"
start x
wait_for 20 "a to refuse the outsider" logged a "is not active in any alliance this node is in"
ag x peers | grep -q " live " && fail "the outsider has a live session"
[ "$(records x)" = 0 ] || fail "the outsider holds $(records x) records"
ag x alliance list 2>&1 | grep -q "no alliance yet" || fail "the outsider learnt an alliance"

# the member: everything of DK2020, nothing of Twin
dk=$(ag a alliance list --json | python3 -c 'import json,sys; print([x["records"] for x in json.load(sys.stdin) if x["name"] == "DK2020"][0])')
ag m peer add "127.0.0.1:$(port a)" "$(key a)" --name a >/dev/null || fail "peer add m"
start m
wait_for 20 "the member to hold DK2020's $dk records" has_records m "$dk"
m_live() { ag m peers | grep -q " live "; }
wait_for 10 "the member's session to be live" m_live
ag a alliance members --alliance DK2020 --json | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin) if x["key"] == sys.argv[1]][0]
sys.exit(0 if m.get("last_seen_ms", 0) > 0 else 1)' "$(key m)" || fail "members shows no last seen for m"
ag a publish measure --title "Live shared" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish live"
ag a publish measure --alliance Twin --title "Live secret" --language da --mitigation \
	--sector waste --status ongoing >/dev/null || fail "publish live in Twin"
wait_for 10 "the live DK2020 record at m" has_records m $((dk + 1))
ag a sync >/dev/null 2>&1 || true
wait_for 10 "a's session to be live again" sh -c "'$AGORA' --home '$WORK/a' peers | grep -q ' live '"
[ "$(records m)" = $((dk + 1)) ] || fail "m holds $(records m) records, DK2020 has $((dk + 1))"
ag m alliance list | grep -q Twin && fail "m learnt of Twin"
ag m query --text secret --limit 0 --jsonl | grep -q . && fail "a Twin record reached m"
stop m
stop x
stop a
echo "ok"
