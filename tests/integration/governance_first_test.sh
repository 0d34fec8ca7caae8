#!/bin/bash
# Governance first (PROTOCOL.md 4.4): a session streams the feeds of the
# alliance's coordinators before any other, so a node learns who is
# admitted before the records of the newly admitted.  m's admission is in
# coordinator k's feed, and m's key is chosen below k's: in plain key order
# b would get m's records first and refuse them (as the landed code did).
. "$(dirname "$0")/lib.sh"
mknode a DK2020
for n in b c n1 n2; do mknode $n; done
if [[ "$(key n1)" < "$(key n2)" ]]; then m=n1; k=n2; else m=n2; k=n1; fi
ag a alliance admit "$(key b)" --name b --country DK >/dev/null || fail "admit b"
ag a alliance admit "$(key c)" --name c --country DK >/dev/null || fail "admit c"
ag a alliance admit "$(key $k)" --name k --country DK --role coordinator >/dev/null ||
	fail "admit k"
ag a bundle create "$WORK/a.agb" >/dev/null || fail "bundle a"
for n in b $k; do ag $n bundle import "$WORK/a.agb" >/dev/null || fail "import at $n"; done
ag $k alliance use DK2020 >/dev/null
ag $k alliance admit "$(key $m)" --name m --country DK >/dev/null || fail "k admits m"
ag $k bundle create "$WORK/k.agb" >/dev/null && ag $m bundle import "$WORK/k.agb" >/dev/null ||
	fail "k's bundle to m"
ag $m alliance use DK2020 >/dev/null
ag $m publish measure --title "Early bird" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "m publishes"
ag $m bundle create "$WORK/m.agb" >/dev/null && ag c bundle import "$WORK/m.agb" >/dev/null ||
	fail "m's bundle to c"
# b knows of neither m nor its admission; c holds both.
ag b alliance members --alliance DK2020 | grep -q "^$(key $m | cut -c1-16)" && fail "b already knows m"
allow b c
start b
link c b
start c
wait_for 20 "m's measure at b" has_measures b 1
logged b "not accepting records" && fail "b refused m's records: its admission came after them"
ag b query --kind measure --jsonl | grep -q "Early bird" || fail "wrong measure"
stop c
stop b
echo "ok"
