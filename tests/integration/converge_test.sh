#!/bin/bash
# Two nodes, each with 5,000 records of its own alliance, converge on
# 10,000 (plus charters and profiles) and the counts match exactly.
. "$(dirname "$0")/lib.sh"
mknode a Alpha
mknode b Beta
# each admits the other into its alliance (no records travel before the link)
ag a alliance admit "$(key b)" --name b --country DK >/dev/null || fail "admit b"
ag b alliance admit "$(key a)" --name a --country DK >/dev/null || fail "admit a"
gen_measures 5000 "Alpha measure" > "$WORK/a.jsonl"
gen_measures 5000 "Beta measure" > "$WORK/b.jsonl"
ag a publish --file "$WORK/a.jsonl" >/dev/null || fail "publish a"
ag b publish --file "$WORK/b.jsonl" >/dev/null || fail "publish b"
allow b a
start b
link a b
start a
wait_for 120 "both hold 10,000 measures" has_measures a 10000
wait_for 60 "b holds 10,000 measures" has_measures b 10000
[ "$(measures a)" = 10000 ] || fail "a holds $(measures a) measures, not 10000"
[ "$(measures b)" = 10000 ] || fail "b holds $(measures b) measures, not 10000"
wait_for 10 "same record counts" same_records a b
ag a status | grep -q "live" || fail "a's session is not live"
stop a
stop b
echo "ok: converged on $(measures b) measures"
