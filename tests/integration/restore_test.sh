#!/bin/bash
# A node restored from an old copy of its store learns its own feed back
# from a peer before it publishes again, and does not fork it.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
admit a b
pub() { ag a publish measure --title "$1" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish $1"; }
pub "one"
cp -r "$WORK/a/db" "$WORK/a-backup" || fail "backup"
pub "two"
pub "three"
allow b a
start b
link a b
start a
wait_for 20 "b holds a's 6 records" has_records b 6
stop a
rm -rf "$WORK/a/db" && mv "$WORK/a-backup" "$WORK/a/db"
[ "$(measures a)" = 1 ] || fail "restore did not roll a back"
start a
wait_for 20 "a learns its feed back" has_measures a 3
# the peer streams a's own feed right after governance; it chains on the
# restored head, so nothing conflicts and no floor is needed
logged a "conflict\|recover" && fail "a saw a conflict where there is none"
pub "four"
wait_for 10 "b receives seq 6" has_measures b 4
[ "$(records b)" = 7 ] || fail "b holds $(records b) records, not 7"
ag b status --json | grep -q '"last_error": "sent a bad record"' && fail "b rejected a record"
stop a
stop b
echo "ok"
