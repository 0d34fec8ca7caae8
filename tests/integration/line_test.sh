#!/bin/bash
# A line of five nodes A-B-C-D-E carries a record from A to E, and a record
# published at A while connected arrives live at E.
. "$(dirname "$0")/lib.sh"
line a b c d e
# Every node already holds the charter and admissions (admit): wait until
# every link's first exchange is done, as the old "charter reaches e" did.
live_links() { [ "$(ag "$1" peers | grep -c " live ")" -ge "$2" ]; }
for n in a e; do wait_for 30 "$n's link to be live" live_links $n 1; done
for n in b c d; do wait_for 30 "$n's links to be live" live_links $n 2; done
id=$(ag a publish measure --title "Vådområde ved Assens" --language da --mitigation \
	--sector other --status ongoing) || fail "publish"
wait_for 30 "the measure reaches e" has_measures e 1
ag e show "$id" >/dev/null || fail "e cannot show $id"
for n in a b c d e; do stop $n; done
echo "ok: record $id crossed A-B-C-D-E"
