#!/bin/bash
# D13 (issue 10): a full disk is named as such and pauses sending instead
# of looping.  b's data directory is a 3 MB tmpfs; a sends it a feed of
# about 6 MB.  Once b's disk is full: b must say "No space left on device"
# (log or `agora status`), and over the next 10 s a must send b less than
# the feed's size again (the landed node re-sends it in a hot loop).  Once
# space is freed, the sync must complete, and b then publishes into a.
. "$(dirname "$0")/hostile_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
mkdir -p "$WORK/b"
mount -t tmpfs -o size=3m,mode=0700 agora-test "$WORK/b" 2>/dev/null || skip "cannot mount a tmpfs"
EXTRA_CLEANUP+=("umount -l '$WORK/b'")
mknode a DK2020
mknode b
admit a b
ag b alliance use DK2020 >/dev/null || fail "alliance use at b"
gen_measures 8000 "Measure" "$(head -c 600 /dev/zero | tr '\0' z)" > "$WORK/a.jsonl"
ag a publish --file "$WORK/a.jsonl" >/dev/null || fail "publish"
ag a bundle create "$WORK/a.agb" >/dev/null || fail "bundle"
feed=$(stat -c %s "$WORK/a.agb")   # about the bytes of every record a holds
echo "a holds $(measures a) measures, about $feed bytes"
allow b a
start b
link a b
start a
full() { [ "$(df --output=avail -k "$WORK/b" | tail -n 1)" -lt 512 ]; }
wait_for 120 "b's disk to fill up" full
nospace() { grep -q "No space left on device" "$WORK/b.log" ||
	ag b status 2>/dev/null | grep -q "No space left on device"; }
soft_wait 20 "b to say \"No space left on device\"" nospace ||
	echo "b says: $(grep -i -m 3 -E "cannot|error|space" "$WORK/b.log")"
# A window: what a sends b in 10 s while b's disk stays full.
sent=$(growth 10 peer_field a b bytes_out)
echo "a sent b $sent bytes in 10 s with b's disk full (the feed: $feed bytes)"
[ "$sent" -lt "$feed" ] ||
	bad "a re-sent $sent bytes to b in 10 s while b's disk was full (feed: $feed bytes)"
mount -o remount,size=128m "$WORK/b" || fail "remount"
soft_wait 120 "the sync to complete once b has space" same_records a b
if ag b publish measure --title "after the full disk" --language da --mitigation --sector waste \
	--status ongoing >/dev/null 2>"$WORK/publish.err"; then
	soft_wait 20 "b's new record at a" has_title a "after the full disk"
else
	bad "b cannot publish once it has space: $(cat "$WORK/publish.err")"
fi
check_rss a
check_rss b
finish
