#!/bin/bash
# Mixed versions in one alliance (issue 12, point 5; PROTOCOL.md section 7).
# A line new1 - old1 - old2 - new2: new1 and new2 run a pretend newer agora
# (built with -DAGORA_SCHEMA_NEXT=ON: content kind 63 "test_note" and Measure
# field 100 "test_extra"), old1 and old2 today's.  new1 publishes a note, a
# measure with the newer field, and a plain record after them:
#   - the old nodes hold and relay all three (the author's feed does not stop
#     at the note), and can still show them;
#   - new2 reads the note and the newer field whole, through two old nodes;
#   - records flow the other way too (old2's lesson and new2's note reach new1).
# Needs NEXT_AGORA and NEXT_AGORAD (the newer binaries) besides AGORA/AGORAD.
. "$(dirname "$0")/lib.sh"
: "${NEXT_AGORA:?}" "${NEXT_AGORAD:?}"

newer() { [ "$1" = new1 ] || [ "$1" = new2 ]; }
# lib.sh's ag and start, with each node's own version of the binaries.
ag() {
	local n=$1; shift
	if newer "$n"; then "$NEXT_AGORA" --home "$WORK/$n" "$@"; else "$AGORA" --home "$WORK/$n" "$@"; fi
}
start() {
	local n=$1 bin=$AGORAD
	newer "$n" && bin=$NEXT_AGORAD
	rm -f "$WORK/$n/agorad.port"
	"$bin" --home "$WORK/$n" --listen "127.0.0.1:0" --log-level "${LOGLEVEL:-info}" \
		2>>"$WORK/$n.log" &
	PIDS+=("$!")
	echo "$!" > "$WORK/$n.pid"
	wait_for 10 "agorad $n listening" test -s "$WORK/$n/agorad.port"
	wait_for 10 "agorad $n control socket" ag "$n" status
}
holds() { ag "$1" show "$2" >/dev/null 2>&1; }

line new1 old1 old2 new2
live_links() { [ "$(ag "$1" peers | grep -c " live ")" -ge "$2" ]; }
for n in new1 new2; do wait_for 30 "$n's link to be live" live_links $n 1; done
for n in old1 old2; do wait_for 30 "$n's links to be live" live_links $n 2; done

note=$(ag new1 publish test_note --text "Noter fra topmødet i Vejle" --language da) ||
	fail "new1 cannot publish a test_note"
extra=$(ag new1 publish measure --title "Vådområde ved Haarby Å" --language da --adaptation \
	--test-extra "only newer nodes read this") || fail "new1 cannot publish the newer field"
after=$(ag new1 publish lesson --title "Landowners first" --language en) ||
	fail "new1 cannot publish after the note"
lesson=$(ag old2 publish lesson --alliance DK2020 --title "Ask the farmers" --language da) || fail "old2 publish"
back=$(ag new2 publish test_note --alliance DK2020 --text "Svar fra Sønderborg") || fail "new2 publish"

# The old nodes hold all of new1's feed, past the note; new2 holds it too.
for n in old1 old2 new2; do
	wait_for 30 "new1's lesson (after the note) to reach $n" holds $n "$after"
	holds $n "$note" || fail "$n lacks the note"
	holds $n "$extra" || fail "$n lacks the measure with the newer field"
	ag $n show "$note" | grep -q "signature: *valid" || fail "$n shows the note unverified"
done
# new2 reads what crossed two old nodes, whole.
ag new2 show "$note" | grep -q "Noter fra topmødet i Vejle" || fail "new2 cannot read the note"
ag new2 show "$extra" | grep -q "only newer nodes read this" || fail "new2 lost the newer field"
ag new2 show "$note" | grep -q "kind: *test_note" || fail "new2 does not know the note's kind"
# The other direction, through the same old nodes.
wait_for 30 "old2's lesson to reach new1" holds new1 "$lesson"
wait_for 30 "new2's note to reach new1" holds new1 "$back"
ag new1 show "$back" | grep -q "Svar fra Sønderborg" || fail "new1 cannot read new2's note"
holds old1 "$back" || fail "old1 lacks new2's note"
for n in new1 old1 old2 new2; do stop $n; done
# old1 is upgraded (PROTOCOL.md 7.2): what it carried unread is indexed by
# the newer agora's first open of its store, with no command, and found by
# its words; the open after that reads nothing again.
found() { "$@" --jsonl | grep -c .; }
[ "$(found ag old1 query --text "topmødet")" = 0 ] || fail "old1 searched the note's text"
[ "$(found ag old1 query --text "newer nodes")" = 0 ] || fail "old1 searched the newer field"
"$NEXT_AGORA" --home "$WORK/old1" query --kind measure --jsonl >/dev/null 2>"$WORK/upgrade.err" ||
	fail "the newer agora cannot open old1's store"
grep -q "read 3 records of a newer version" "$WORK/upgrade.err" ||
	fail "the upgraded agora did not say it read old1's 3 records (2 notes, 1 measure): $(cat "$WORK/upgrade.err")"
"$NEXT_AGORA" --home "$WORK/old1" query --text "topmødet" --jsonl | grep -q "${note:0:16}" ||
	fail "upgraded old1 does not find the note by its text"
"$NEXT_AGORA" --home "$WORK/old1" query --text "newer nodes" --jsonl | grep -q "${extra:0:16}" ||
	fail "upgraded old1 does not find the measure by its newer field"
"$NEXT_AGORA" --home "$WORK/old1" query --text "topmødet" --jsonl 2>&1 >/dev/null | grep -q "newer version" &&
	fail "the upgraded store was read again"
echo "ok: newer kind $note, newer field $extra and later records crossed old nodes both ways;"
echo "ok: old1 upgraded finds them by text"
