#!/bin/bash
# A fork injected at one node becomes known to every node: m's key signs
# two different records at seq 2 (a second store with the same key); c
# learns of the second one, and the proof travels c -> b -> a.  Each shows
# m as equivocating in `agora alliance members` and `agora status`.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
for n in b c m m2; do mknode $n; done
admit a b c m
cp "$WORK/m/identity.key" "$WORK/m2/identity.key" || fail "copy key"
ag m2 bundle import "$WORK/a-governance.agb" >/dev/null || fail "import at m2"
for n in m m2; do ag $n alliance use DK2020 >/dev/null; done
ag m publish measure --title "Skov" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish at m"
ag m2 publish measure --title "Eng" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish at m2"
ag m bundle create "$WORK/m.agb" >/dev/null && ag a bundle import "$WORK/m.agb" >/dev/null ||
	fail "m's bundle to a"
ag m2 bundle create "$WORK/m2.agb" >/dev/null || fail "bundle at m2"
allow c b; allow b a
start c
link b c; start b
link a b; start a
for n in b c; do wait_for 20 "m's measure at $n" has_measures $n 1; done
ag c bundle import "$WORK/m2.agb" >/dev/null 2>&1
mk=$(key m | cut -c1-16)
forked() { ag "$1" alliance members --alliance DK2020 | grep "^$mk" | grep -q "fork"; }
forked c || fail "c does not flag the fork it imported"
for n in b a; do wait_for 20 "the fork proof at $n" forked $n; done
ag a status | grep -q "EQUIVOCATING author $mk" || fail "agora status does not show it"
ag a status --json | grep -q '"equivocating": \[' || fail "status --json"
logged a "equivocating" || fail "no log line at a"
for n in a b c; do stop $n; done
echo "ok"
