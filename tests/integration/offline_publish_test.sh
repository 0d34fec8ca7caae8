#!/bin/bash
# The honest failure of the own-feed floor (issue 10, "restore/offline
# publish"): a member's data directory is restored from a copy that is
# behind what its partners hold of its own feed, and `agora publish` runs
# with agorad stopped.  Two sequences:
#   long:  copy, publish twice (synced), restore, publish offline;
#   short: copy, publish once (synced), restore, publish offline (the
#          offline record takes the seq the partners already hold).
# When agorad starts again: no session resends records in a loop (at most
# 100 records move between m and its partners in 10 s), m says what
# happened and names the command that recovers (`agora recover`, in its
# status or log), `agora recover` succeeds, and what m publishes then
# reaches both partners.
. "$(dirname "$0")/hostile_lib.sh"

pub() { ag "$1" publish measure --title "$2" --language da --mitigation --sector waste \
	--status ongoing >/dev/null 2>"$WORK/publish.err"; }

# Records that moved on m's sessions with its partners, both ways.
moved() {
	ag "$1" peers --json 2>/dev/null | python3 -c '
import json, sys
print(sum(p["records_in"] + p["records_out"] for p in json.load(sys.stdin)))'
}

sequence() {   # sequence long|short
	local s=$1 a=a-$1 b=b-$1 m=m-$1
	echo "--- the $s sequence"
	mknode "$a" DK2020
	mknode "$b"
	mknode "$m"
	admit "$a" "$b" "$m"
	for n in "$b" "$m"; do ag "$n" alliance use DK2020 >/dev/null || fail "alliance use"; done
	pub "$m" "one" || fail "publish one"
	cp -a "$WORK/$m/db" "$WORK/$m-backup" || fail "backup"
	allow "$a" "$b"
	allow "$a" "$m"
	allow "$b" "$m"
	start "$a"
	link "$b" "$a"
	start "$b"
	link "$m" "$a"
	link "$m" "$b"
	start "$m"
	pub "$m" "two" || fail "publish two"
	last=two
	if [ "$s" = long ]; then pub "$m" "three" || fail "publish three"; last=three; fi
	wait_for 20 "$a to hold m's $last" has_title "$a" "$last"
	wait_for 20 "$b to hold m's $last" has_title "$b" "$last"
	stop "$m"
	rm -rf "$WORK/$m/db" && mv "$WORK/$m-backup" "$WORK/$m/db" || fail "restore"
	if pub "$m" "offline"; then
		echo "agora publish with agorad stopped on the restored store: accepted"
	else
		echo "agora publish with agorad stopped on the restored store: refused ($(cat "$WORK/publish.err"))"
	fi
	start "$m"
	open_() { local x; x=$(peer_field "$m" "$a" state); [ "$x" = live ] || [ "$x" = syncing ]; }
	wait_for 20 "m's session with $a" open_
	local r
	r=$(growth 10 moved "$m")   # a window: records moving in it are a resend loop
	echo "records moved between m and its partners in 10 s: $r"
	[ "$r" -le 100 ] || bad "$s: $r records moved between m and its partners in 10 s (a resend loop)"
	told() { grep -q "agora recover" "$WORK/$m.log" || ag "$m" status 2>/dev/null | grep -q "agora recover"; }
	soft_wait 20 "$s: m to say what happened and that \`agora recover\` recovers" told
	if ag "$m" recover >"$WORK/recover.out" 2>&1; then
		echo "agora recover: $(head -n 3 "$WORK/recover.out")"
	else
		bad "$s: \`agora recover\` failed: $(head -n 3 "$WORK/recover.out")"
	fi
	if pub "$m" "after recovery"; then
		soft_wait 30 "$s: m's record published after recovery to reach $a" \
			has_title "$a" "after recovery"
		soft_wait 30 "$s: m's record published after recovery to reach $b" \
			has_title "$b" "after recovery"
	else
		bad "$s: m cannot publish after \`agora recover\`: $(cat "$WORK/publish.err")"
	fi
	check_rss "$m"
	for n in "$m" "$b" "$a"; do stop "$n"; done
}

sequence long
sequence short
finish
