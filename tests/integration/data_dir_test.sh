#!/bin/bash
# D15 (issue 10): agorad writes nothing through a symlink planted in its
# data directory, and runs only on a data directory its own user owns.
# (1) root runs agorad on a data directory owned by another user (nobody)
# in which agorad.port.tmp is a symlink to a root-owned file: the file
# must be unchanged, and agorad must refuse to run there.  (2) In root's
# own data directory the same planted symlink must not be followed either:
# the file is unchanged, agorad.port is a regular file, and the node runs.
. "$(dirname "$0")/hostile_lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root: the attack is root running agorad on another user's directory"
other=$(id -u nobody 2>/dev/null) || skip "no user 'nobody' to own the directory"
printf 'precious\n' > "$WORK/victim"
cp "$WORK/victim" "$WORK/victim.orig"
mknode v
chown -R "$other" "$WORK/v"
ln -s "$WORK/victim" "$WORK/v/agorad.port.tmp"
r=$(try_agorad v)
cmp -s "$WORK/victim" "$WORK/victim.orig" ||
	bad "agorad (root) followed agorad.port.tmp in another user's directory and overwrote a root-owned file (now: $(head -c 40 "$WORK/victim"))"
[ "$r" = refused ] || bad "agorad (root) runs on a data directory owned by uid $other"

mknode w
cp "$WORK/victim.orig" "$WORK/victim2"
ln -s "$WORK/victim2" "$WORK/w/agorad.port.tmp"
start w
cmp -s "$WORK/victim2" "$WORK/victim.orig" ||
	bad "agorad followed a symlink planted as agorad.port.tmp in its own directory (file now: $(head -c 40 "$WORK/victim2"))"
[ -L "$WORK/w/agorad.port" ] && bad "agorad.port is a symlink (to $(readlink "$WORK/w/agorad.port"))"
ag w status >/dev/null || bad "agorad w does not answer"
stop w
finish
