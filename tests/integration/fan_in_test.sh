#!/bin/bash
# One node takes in more than it may hold unstored, from one peer and then
# from three at once: 10,000 records of about 1 KB from a (11 MB, over the
# 6 MiB a session may hold), then 6,000 each from b, c and d together (20 MB,
# over the 12 MiB all sessions may hold).  Reading stops at each limit and
# starts again as the store catches up; every record arrives exactly once.
. "$(dirname "$0")/lib.sh"
body=$(printf 'Fjernvarme og varmepumper i landsbyerne. %.0s' $(seq 1 21))   # 903 bytes
declare -A N=([a]=10000 [b]=6000 [c]=6000 [d]=6000)
mknode h Hub
for f in a b c d; do
	mknode $f "Alliance $f"
	ag $f alliance admit "$(key h)" --name h --country DK >/dev/null || fail "$f admits h"
	ag h alliance admit "$(key $f)" --name $f --country DK >/dev/null || fail "h admits $f"
	gen_measures "${N[$f]}" "Measure of $f" "$body" > "$WORK/$f.jsonl"
	ag $f publish --file "$WORK/$f.jsonl" >/dev/null || fail "publish at $f"
	allow h $f
done

# "not reading from ADDR until records are stored: X KiB of its own (limit
# L), Y KiB in all (limit M)": how often the session's own limit (which=own)
# or the node's (which=all) was passed.
stops() {
	sed -n 's/.*not reading from .*: \([0-9]*\) KiB of its own (limit \([0-9]*\)), \([0-9]*\) KiB in all (limit \([0-9]*\))$/\1 \2 \3 \4/p' "$WORK/h.log" |
		awk -v which="$1" '(which == "own" && $1 > $2) || (which == "all" && $3 > $4) { n++ } END { print n + 0 }'
}

LOGLEVEL=debug start h
link a h
start a
wait_for 120 "h holds a's ${N[a]} measures" has_measures h "${N[a]}"
own=$(stops own)
[ "$own" -gt 0 ] || fail "reading from a never stopped at the session's limit"

# b, c and d connect while h is stopped, so that all three send at once.
kill -STOP "$(cat "$WORK/h.pid")"
for f in b c d; do link $f h; start $f; done
kill -CONT "$(cat "$WORK/h.pid")"
total=$((N[a] + N[b] + N[c] + N[d]))
wait_for 200 "h holds $total measures" has_measures h $total
[ "$(measures h)" = $total ] || fail "h holds $(measures h) measures, not $total"
held=$(ag h query --kind measure --limit 0 --jsonl) || fail "query at h"
for f in a b c d; do
	n=$(grep -c "\"Measure of $f " <<<"$held")
	[ "$n" = "${N[$f]}" ] || fail "h holds $n measures of $f, not ${N[$f]}"
done
# Back-pressure holds sessions back; it never costs one.
! logged h "session: closing" || fail "h dropped a session: $(grep -m1 'session: closing' "$WORK/h.log")"
# Once all is stored, no session holds unstored bytes or stays stopped:
# the accounting comes back to zero.
all_stored() {
	local j; j=$(ag h status --json) || return 1
	[ "$(grep -c '"unstored": 0,' <<<"$j")" = 4 ] && ! grep -q '"paused": true' <<<"$j"
}
wait_for 10 "every session of h at 0 unstored bytes, reading" all_stored
all=$(stops all)
[ "$all" -gt 0 ] || fail "reading never stopped at the node's limit for all sessions"
for f in a b c d; do stop $f; done
stop h
echo "ok: $total measures; reading stopped $own times at a's own limit, $all times at the node's"
