#!/bin/bash
# blob_limits_test.sh - the receive side's limits (PROTOCOL.md 4.9): B
# takes files of at most 1M ([attachments] max-file) and 1M of files per
# alliance ([attachments] quota).  A publishes a measure with a 1.5 MB file
# and two of 800 KB: B fetches one of the small ones, not the large one
# (over max-file) nor the other (over the quota), logs why, `agora status`
# counts them, and `agora attachment get` says so with what to do.
. "$(dirname "$0")/lib.sh"
mknode a DK2020
mknode b
admit a b
printf '\n[attachments]\nmax-file = 1M\nquota = 1M\n' >> "$WORK/b/agora.conf"
allow b a
start b
link a b
start a

head -c 1500000 /dev/urandom > "$WORK/big.pdf"
head -c 800000 /dev/urandom > "$WORK/s1.pdf"
head -c 800000 /dev/urandom > "$WORK/s2.pdf"
id=$(ag a publish measure --title "Klimaplan" --language da --mitigation --sector other \
	--status ongoing --attach "$WORK/big.pdf" --attach "$WORK/s1.pdf" \
	--attach "$WORK/s2.pdf") || fail "publish with --attach"
wait_for 30 "the measure reaches b" has_measures b 1
wait_for 60 "b to pass over the large file" logged b "over \[attachments\] max-file"
wait_for 60 "b to stop at its quota" logged b "over \[attachments\] quota"
held() { ag b attachment get "$id:$1" --out - > /dev/null 2>&1; }
n=0
for i in 1 2; do held $i && n=$((n + 1)); done
[ $n = 1 ] || fail "b should hold exactly one of the small files, holds $n"
held 0 && fail "b fetched a file over its max-file"

out=$(ag b attachment get "$id:0" --out - 2>&1 >/dev/null)
echo "$out" | grep -q "max-file = 1.0 MB" ||
	fail "get should name max-file: $out"
echo "$out" | grep -q "not fetched" || fail "get should say not fetched: $out"
for i in 1 2; do
	held $i && continue
	out=$(ag b attachment get "$id:$i" --out - 2>&1 >/dev/null)
	echo "$out" | grep -q "quota" || fail "get should name the quota: $out"
done
# agora status counts them: one fetched, two over the limits, none to fetch.
st=$(ag b status --json) || fail "status --json at b"
for kv in '"missing": 0' '"over_limit": 2' '"fetched": 1' '"fetched_bytes": 800000'; do
	echo "$st" | grep -qF "$kv" || fail "status --json at b should say $kv: $st"
done
st=$(ag b status) || fail "status at b"
echo "$st" | grep -q "no attached file to fetch, 2 over the \[attachments\] limits.*; 1 fetched" ||
	fail "status at b should count the files: $st"
for n in a b; do stop $n; done
echo "ok: max-file and quota hold on the receiving side, get says why, status counts them"
