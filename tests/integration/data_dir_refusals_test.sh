#!/bin/bash
# agorad and its data directory (issue 10, D15 and D16): it refuses to run
# in a directory another user owns or could write to, never writes through
# a link planted under a name it writes, and checks the key and the
# passphrase file as the CLI does.  Every refusal is one log line saying
# what to run.
. "$(dirname "$0")/lib.sh"
mknode a
H=$WORK/a

# refused NAME WHAT...: agorad exits 1 at once, and its log says WHAT.
refused() {
	local name=$1 rc=0; shift
	timeout 20 "$AGORAD" --home "$H" --listen 127.0.0.1:0 "${@:2}" 2>"$WORK/$name.err" || rc=$?
	[ "$rc" = 1 ] || fail "$name: agorad exited $rc: $(cat "$WORK/$name.err")"
	grep -qF -- "$1" "$WORK/$name.err" || fail "$name: log lacks '$1': $(cat "$WORK/$name.err")"
	[ "$(wc -l <"$WORK/$name.err")" = 1 ] || fail "$name: not one line: $(cat "$WORK/$name.err")"
}

chmod 770 "$H"
refused group_writable "is writable by other users (mode 0770): run chmod go-w $H"
chmod 700 "$H"

# A link where agorad writes its port: refused, and its target untouched.
echo "root's file" >"$WORK/victim"
ln -s "$WORK/victim" "$H/agorad.port"
refused port_link "$H/agorad.port is a symbolic link, which agora never writes through"
rm "$H/agorad.port"

# A link under the name the old writer used for its temporary file: the
# port is written beside it under a fresh name, and the link is not used.
ln -s "$WORK/victim" "$H/agorad.port.tmp"
start a
[ "$(cat "$WORK/victim")" = "root's file" ] || fail "agorad wrote through a planted link"
[ -f "$H/agorad.port" ] && [ ! -L "$H/agorad.port" ] || fail "agorad.port is not a regular file"
# A second agorad on the same directory: refused, and the running node's
# agorad.port (what scripts dial) left as it was.
port_before=$(cat "$H/agorad.port")
refused second_agorad "another agorad is running on $H/agorad.sock"
[ "$(cat "$H/agorad.port")" = "$port_before" ] || fail "a refused agorad overwrote agorad.port"
ag a status >/dev/null || fail "the running node stopped answering"
stop a
rm "$H/agorad.port.tmp"

if [ "$(id -u)" = 0 ]; then
	# Root on another user's directory: the case D15 reproduced.
	chown 65534 "$H"
	refused other_owner "$H belongs to uid 65534, not to the user running agora (uid 0)"
	chown 0 "$H"
fi

# The key and the passphrase file, checked as the CLI checks them.
chmod 640 "$H/identity.key"
refused key_mode "identity.key is readable by others (mode 0640): run chmod 600"
chmod 600 "$H/identity.key"
printf 'pw\n' >"$WORK/pass"
chmod 644 "$WORK/pass"
refused pass_mode "passphrase file is readable by others (mode 0644)" --passphrase-file "$WORK/pass"
echo "ok"
