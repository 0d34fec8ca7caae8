#!/bin/bash
# agorad re-reads its [hook]s on SIGHUP: a hook removed from agora.conf
# stops (its `agora watch` child ends) and gets no later record, an added
# one starts and gets it, and one left as it was keeps its watcher running
# (the same process) and gets it too.  A command of the removed hook that
# is running at the reload finishes.
. "$(dirname "$0")/lib.sh"
# agorad finds `agora watch` beside itself, else on $PATH
PATH="$(dirname "$AGORA"):$PATH"
export PATH
mknode a DK2020
for h in old kept new; do
	printf '#!/bin/sh\ncat >> "%s"\n' "$WORK/$h.jsonl" > "$WORK/$h.sh"
done
# The old hook's command is still running when the hook is removed: it
# waits for the test to let it end (agorad frees the removed hook only
# after that command is over).
printf '#!/bin/sh\ncat >> "%s"\nwhile [ ! -e "%s" ]; do sleep 0.1; done\necho > "%s"\n' \
	"$WORK/old.jsonl" "$WORK/release" "$WORK/old.done" > "$WORK/old.sh"
cp "$WORK/a/agora.conf" "$WORK/base.conf"
# Each hook has its own filter (all match a's measures) so that its
# watcher can be told apart by its command line.
hook() { printf '\n[hook]\ncommand = /bin/sh %s\nfilter = %s\n' "$WORK/$1.sh" "$2"; }
{ cat "$WORK/base.conf"; hook old "--kind measure"; hook kept "--municipality a"
  hook bad "--kind nonsense"; } > "$WORK/a/agora.conf"
watcher() { pgrep -f -- "--home $WORK/a watch --jsonl $1\$"; }
OLD_F="--kind measure" KEPT_F="--municipality a" NEW_F="--kind measure --municipality a"
start a

# Both hooks get a first record: their watchers are watching.
ag a publish measure --title "First wetlands" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish 1"
got() { grep -q "\"title\":\"$2\"" "$WORK/$1.jsonl" 2>/dev/null; }
wait_for 30 "the old hook to get the first record" got old "First wetlands"
wait_for 30 "the kept hook to get the first record" got kept "First wetlands"
kept_pid=$(watcher "$KEPT_F") || fail "no watcher of the kept hook"
# A filter agora watch refuses leaves that hook off (logged once, not
# restarted every few seconds) until agora.conf changes.
wait_for 30 "the refused filter in the log" logged a "hook 3: .*refuses this filter"
watcher "$OLD_F" >/dev/null || fail "no watcher of the old hook"

# The old hook goes, a new one comes: SIGHUP.
{ cat "$WORK/base.conf"; hook kept "--municipality a"; hook new "$NEW_F"; } > "$WORK/a/agora.conf"
kill -HUP "$(cat "$WORK/a.pid")"
wait_for 30 "the reload in the log" logged a "reloaded .*2 hook(s)"
old_gone() { ! watcher "$OLD_F" >/dev/null; }
wait_for 30 "the old hook's watcher to end" old_gone
logged a "hook 1: /bin/sh $WORK/old.sh .* removed from agora.conf: stopped" ||
	fail "the removal is not logged"
# the new watcher is watching once its inotify descriptor exists (made
# after it read the store's write number)
new_watching() {
	local p; p=$(watcher "$NEW_F") && ls -l "/proc/$p/fd" 2>/dev/null | grep -q inotify
}
wait_for 30 "the new hook's watcher to watch" new_watching
[ -e "$WORK/old.done" ] && fail "the old hook's command did not wait"
touch "$WORK/release"
wait_for 30 "the removed hook's last command to end" test -e "$WORK/old.done"
[ "$(watcher "$KEPT_F")" = "$kept_pid" ] || fail "the unchanged hook's watcher was restarted"

ag a publish measure --title "Second wetlands" --language da --mitigation --sector waste \
	--status ongoing >/dev/null || fail "publish 2"
wait_for 30 "the new hook to get the second record" got new "Second wetlands"
wait_for 30 "the kept hook to get the second record" got kept "Second wetlands"
got old "Second wetlands" && fail "the removed hook got a record after the reload"
got new "First wetlands" && fail "the new hook got a record from before it started"
[ "$(grep -c wetlands "$WORK/kept.jsonl")" = 2 ] || fail "the kept hook got a record twice"

# Removing every hook stops every watcher; agorad keeps serving.
cp "$WORK/base.conf" "$WORK/a/agora.conf"
kill -HUP "$(cat "$WORK/a.pid")"
no_watchers() { ! pgrep -f -- "--home $WORK/a watch --jsonl" >/dev/null; }
wait_for 30 "every watcher to end" no_watchers
ag a status >/dev/null || fail "agorad stopped answering after the hooks went"
stop a
echo "hook_reload: ok"
