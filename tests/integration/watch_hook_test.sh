#!/bin/bash
# A record published at one node shows up in `agora watch --jsonl` at its
# partner as soon as it is stored there, and agorad's [hook] gives it, as
# JSON on stdin, to a command that matches (never to one whose filter does
# not match); a hook that hangs is killed after its timeout, and the
# session's end is logged with its records in and out.
. "$(dirname "$0")/lib.sh"
# agorad finds `agora watch` beside itself, else on $PATH (the build tree
# keeps them in different folders).
PATH="$(dirname "$AGORA"):$PATH"
export PATH
mknode a DK2020
mknode b
admit a b
allow b a
cat > "$WORK/hook.sh" <<EOS
#!/bin/sh
cat >> "$WORK/hooked.jsonl"
EOS
cat > "$WORK/lessons.sh" <<EOS
#!/bin/sh
cat >> "$WORK/lessons.jsonl"
EOS
cat >> "$WORK/b/agora.conf" <<EOS

[hook]
command = /bin/sh '$WORK/hook.sh'
filter = --kind measure --municipality a
timeout = 10

[hook]
command = sleep 600
filter = --kind measure
timeout = 1

[hook]
command = /bin/sh "$WORK/lessons.sh"
filter = --kind lesson
EOS
start b
link a b
start a
b_live() { ag b peers | grep -q " live "; }
wait_for 20 "b's session with a" b_live

"$AGORA" --home "$WORK/b" watch --jsonl --kind measure > "$WORK/watch.out" 2> "$WORK/watch.err" &
WPID=$!
PIDS+=("$WPID")
# it is watching once its inotify descriptor exists (made after it read
# the store's write number)
watching() { ls -l "/proc/$WPID/fd" 2>/dev/null | grep -q inotify; }
wait_for 30 "agora watch to start" watching

ag a publish measure --title "Watched wetlands" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish at a"
in_watch() { grep -q '"title":"Watched wetlands"' "$WORK/watch.out"; }
wait_for 30 "the record in agora watch at b" in_watch
grep -q '"kind":"measure"' "$WORK/watch.out" || fail "watch line is not the record's JSON"
grep -q '"municipality":"a"' "$WORK/watch.out" || fail "watch line lacks the municipality"
[ "$(wc -l < "$WORK/watch.out")" = 1 ] || fail "watch printed more than the one record"

hooked() { grep -q '"title":"Watched wetlands"' "$WORK/hooked.jsonl"; }
wait_for 30 "the hook to receive the record" hooked
wait_for 30 "the hanging hook to be killed" logged b "still running after 1 s: killed"
[ -e "$WORK/lessons.jsonl" ] && fail "the lesson hook ran for a measure"

ag a publish lesson --title "What we learnt" --language da >/dev/null || fail "lesson at a"
lesson_hooked() { grep -q '"title":"What we learnt"' "$WORK/lessons.jsonl" 2>/dev/null; }
wait_for 30 "the lesson hook" lesson_hooked
grep -q "What we learnt" "$WORK/hooked.jsonl" && fail "the measure hook got a lesson"
grep -q "What we learnt" "$WORK/watch.out" && fail "watch --kind measure printed a lesson"

kill -INT "$WPID"
wait "$WPID"
rc=$?
[ $rc = 0 ] || fail "agora watch exited $rc on SIGINT"

# b's log: timestamps outside journald, and the session's end with counts
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z info ' "$WORK/b.log" ||
	fail "b's log lines carry no ISO 8601 timestamp"
stop a
ended() { grep -qE 'session: ended .* after [0-9]+ s: [1-9][0-9]* records in, [0-9]+ out' "$WORK/b.log"; }
wait_for 30 "b to log the session's end with its records in" ended
# agorad's watchers end with it, even when it is killed outright: they see
# their pipe's reader gone
watchers() { pgrep -f -- "--home $WORK/b watch --jsonl" >/dev/null; }
watchers || fail "agorad's agora watch children are not running"
stop b KILL
no_watchers() { ! watchers; }
wait_for 30 "the hook watchers to end after agorad was killed" no_watchers
echo "watch_hook: ok"
