#!/bin/bash
# bench_blobs.sh [RECORDS] [FILES] [MB] - does a backlog of attachments slow
# record sync?  (issue 15: "record sync of 10,000 records is not slowed by a
# 200 MB attachment backlog").
#
# Node a holds FILES measures (default 10) with one attachment of MB
# megabytes each (default 20: a 200 MB backlog), published first, then
# RECORDS plain measures (default 10,000).  Two fresh members dial a, one
# after the other, and the time until each holds every record of a is
# measured:
#   1. b1, while a's blobs/ is moved away: the same records, no file to send;
#   2. b2, with a's files in place: the records and the 200 MB backlog.
# Printed: both record-sync times and rates, their ratio (1.00 = not slowed
# at all), the rate beside this machine's Ed25519 verify rate measured in
# the same run (mesh_probe verify), and for run 2 the time until b2 holds
# every file, its rate beside this machine's BLAKE2b-256 rate (b2sum).
# Needs AGORA, AGORAD and MESH_PROBE (paths):
#   AGORA=build/cli/agora AGORAD=build/node/agorad \
#   MESH_PROBE=build/tests/bench/mesh_probe tests/bench/bench_blobs.sh
set -u
: "${MESH_PROBE:?}"
. "$(dirname "$0")/../integration/lib.sh"
R=${1:-10000}
F=${2:-10}
MB=${3:-20}
LOGLEVEL=warn
ms() { echo $(( $(date +%s%N) / 1000000 )); }
say() { printf '%s\n' "$*"; }

mknode a DK2020
mknode b1
mknode b2
admit a b1 b2
printf '\n[attachments]\nmax-file = 1G\n' >>"$WORK/a/agora.conf"
for n in b1 b2; do printf '\n[attachments]\nmax-file = 1G\n' >>"$WORK/$n/agora.conf"; done
for ((i = 1; i <= F; i++)); do
	head -c $((MB * 1000000)) /dev/urandom >"$WORK/plan$i.pdf"
	ag a publish measure --title "Plan $i" --language da --mitigation --sector waste \
		--status ongoing --attach "$WORK/plan$i.pdf" >/dev/null || fail "publish with file $i"
done
gen_measures "$R" "Bench measure" >"$WORK/m.jsonl"
ag a publish --file "$WORK/m.jsonl" >/dev/null 2>&1 || fail "publish $R measures"
# records in a store, read by the probe (with or without agorad)
held() { "$MESH_PROBE" count "$WORK/$1" | cut -d' ' -f1; }
holds_all() { [ "$(held "$1")" = "$total" ]; }
total=$(held a)
say "a holds $total records and $F files of $MB MB"

# Same-run limits: Ed25519 verify, and BLAKE2b-256 over one of the files.
verify_us=$("$MESH_PROBE" verify)
t=$(ms)
for ((k = 0; k < 5; k++)); do b2sum -l 256 "$WORK/plan1.pdf" >/dev/null; done
hash_mb_s=$(python3 -c "print('%.0f' % (5 * $MB / (($(ms) - $t) / 1000)))")

files() { find "$WORK/$1/blobs" -type f -regextype egrep -regex '.*/[0-9a-f]{64}' 2>/dev/null | wc -l; }
all_files() { [ "$(files "$1")" -ge "$F" ]; }

# sync_from_a NODE: NODE dials a; SYNC_MS = milliseconds until it holds
# every record (not a $(...): start and stop keep the pids of this shell).
sync_from_a() {
	link "$1" a
	local t0; t0=$(ms)
	start "$1"
	wait_for 600 "$1 to hold $total records" holds_all "$1"
	SYNC_MS=$(( $(ms) - t0 ))
}

mv "$WORK/a/blobs" "$WORK/a/blobs.away"
start a
sync_from_a b1
ms1=$SYNC_MS
stop b1
stop a
# a, lacking its files, may have tried to fetch them from b1 and made a
# blobs/ of its own meanwhile (only temporary files): put its files back
# in its place, not inside it.
rm -rf "$WORK/a/blobs"
mv "$WORK/a/blobs.away" "$WORK/a/blobs"
start a
t0=$(ms)
sync_from_a b2
ms2=$SYNC_MS
# (not wait_for, which ends the run: a time-out is a figure here)
blob_ms=
while (( $(ms) - t0 < ${BLOB_WAIT:-600} * 1000 )); do
	if all_files b2; then blob_ms=$(( $(ms) - t0 )); break; fi
	sleep 0.05
done

rate() { python3 -c "print('%.0f' % ($total / ($1 / 1000)))"; }
echo
say "bench_blobs: $R records + $F files of $MB MB, 2 agorad on loopback, $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
say "  record sync, no files to send:   $ms1 ms ($(rate "$ms1") records/s)"
say "  record sync, $((F * MB)) MB of files queued: $ms2 ms ($(rate "$ms2") records/s)"
say "  slowdown by the backlog: ratio $(python3 -c "print('%.2f' % ($ms2 / $ms1))")   (1.00 = not slowed)"
say "  Ed25519 verify here: $verify_us µs = $(python3 -c "print('%.0f' % (1e6 / $verify_us))")/s on one core; record sync with the backlog at $(python3 -c "print('%.2f' % ($total / ($ms2 / 1000) / (1e6 / $verify_us)))") of it"
if [ -n "$blob_ms" ]; then
	say "  every file at b2: $blob_ms ms after it started, $(python3 -c "print('%.1f' % ($F * $MB / ($blob_ms / 1000)))") MB/s   (BLAKE2b-256 here: $hash_mb_s MB/s; ratio $(python3 -c "print('%.2f' % ($F * $MB / ($blob_ms / 1000) / $hash_mb_s))"))"
else
	say "  the files did not all reach b2 within ${BLOB_WAIT:-600} s ($(files b2) of $F)"
fi
