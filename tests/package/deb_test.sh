#!/bin/bash
# deb_test.sh BUILD_DIR - the Debian package as a municipal IT department
# installs it.  Builds the .deb with cpack, checks what it holds (binaries,
# man pages, completions, the systemd unit naming /usr/bin/agorad, which
# passes `systemd-analyze verify` and keeps its security exposure, the
# runtime library dependencies, and lintian without errors), then installs it with apt into a clean
# Debian 12 made by debootstrap from this machine's apt mirror and, inside,
# checks `agora --version`, `agorad --version`, the agora user and its home,
# `agora init` as that user, agorad started with the unit's ExecStart as
# that user, and `agora status` answering.
#
# Everything lives under BUILD_DIR/package-test and is removed at the end.
# Exit 77 (ctest: skipped) with the reason when it cannot run here: not
# root, no cpack/debootstrap, or no mirror reachable; the checks of the
# .deb's contents have run by then.
set -u
B=$(cd "$1" && pwd)
W=$B/package-test
ROOT=$W/chroot
AGORAD_PID=
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
	if [ -n "$AGORAD_PID" ]; then kill -KILL "$AGORAD_PID" 2>/dev/null; wait 2>/dev/null; fi
	# agorad started in the chroot: kill it by its pid file's process, then unmount
	if [ -f "$ROOT/tmp/agorad.pid" ]; then kill -KILL "$(cat "$ROOT/tmp/agorad.pid")" 2>/dev/null; fi
	mountpoint -q "$ROOT/proc" 2>/dev/null && umount "$ROOT/proc"
	mountpoint -q "$ROOT/dev" 2>/dev/null && umount "$ROOT/dev"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
rm -rf "$W" && mkdir -p "$W" || fail "cannot make $W"

echo "== cpack -G DEB"
(cd "$B" && cpack --config CPackConfig.cmake -G DEB -B "$W/pkg") > "$W/cpack.log" 2>&1 ||
	{ cat "$W/cpack.log"; fail "cpack failed"; }
deb=$(ls "$W"/pkg/agora_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || fail "no .deb in $W/pkg"
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

echo "== contents"
dpkg-deb -c "$deb" | awk '{print $6}' > "$W/files"
for f in ./usr/bin/agora ./usr/bin/agorad ./usr/share/man/man1/agora.1.gz \
         ./usr/share/man/man1/agorad.1.gz ./usr/share/bash-completion/completions/agora \
         ./usr/share/zsh/vendor-completions/_agora ./usr/lib/systemd/system/agorad.service \
         ./usr/share/doc/agora/copyright ./usr/share/doc/agora/changelog.gz; do
	grep -qxF "$f" "$W/files" || fail "the package lacks $f"
done
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libuv1 libsodium23 liblmdb0 libprotobuf-c1 libjansson4 libinih1 libutf8proc2 \
           libstemmer0d libhunspell passwd; do
	grep -q "$lib" <<< "$deps" || fail "Depends lacks $lib: $deps"
done
dpkg-deb -I "$deb" postinst | grep -q "useradd --system" || fail "no postinst creating the user"
mkdir -p "$W/x" && dpkg-deb -x "$deb" "$W/x"
unit=$W/x/usr/lib/systemd/system/agorad.service
grep -qx "ExecStart=/usr/bin/agorad --home /var/lib/agora" "$unit" ||
	fail "the unit does not start /usr/bin/agorad: $(grep ExecStart "$unit")"
grep -qx "StateDirectory=agora" "$unit" || fail "the unit lost StateDirectory=agora"
if command -v systemd-analyze >/dev/null; then
	# the unit as packaged, its agorad found where the package was unpacked
	# (systemd-analyze's --root would want a whole system's units there)
	mkdir -p "$W/verify"
	sed "s|^ExecStart=/usr/bin/agorad|ExecStart=$W/x/usr/bin/agorad|" "$unit" \
		> "$W/verify/agorad.service"
	systemd-analyze verify "$W/verify/agorad.service" > "$W/verify.log" 2>&1
	# man: pages are not in the host's man database; anything else is an error
	if grep -v "man agora\|Command 'man" "$W/verify.log" | grep -q .; then
		cat "$W/verify.log"; fail "systemd-analyze verify"
	fi
	exposure=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
	           sed -n 's/.*Overall exposure level for agorad.service: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: exposure $exposure (was 1.4 before packaging)"
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 1.4) }' ||
		fail "the unit's exposure is $exposure, more than 1.4"
else
	echo "note: systemd-analyze missing: unit not verified"
fi
# lintian (contrib/setup.sh installs it for the tests): no errors; its
# warnings are shown, not failed on.
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$deb" > "$W/lintian.log" 2>&1
	lrc=$?
	echo "lintian: $(grep -c '^E:' "$W/lintian.log") errors, $(grep -c '^W:' "$W/lintian.log") warnings"
	grep '^W:' "$W/lintian.log"
	if grep -q '^E:' "$W/lintian.log" || [ $lrc -gt 1 ]; then
		cat "$W/lintian.log"; fail "lintian finds errors in the package (exit $lrc)"
	fi
else
	echo "note: lintian missing: the package is not checked by it"
fi

echo "== install into a clean Debian 12"
[ "$(id -u)" = 0 ] || skip "not root: debootstrap and chroot need root (the .deb checks above passed)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (the .deb checks above passed)"
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
         grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
                             /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || skip "no Debian mirror configured in /etc/apt/sources.list*"
t0=$(date +%s)
if ! debootstrap --variant=minbase bookworm "$ROOT" "$mirror" > "$W/debootstrap.log" 2>&1; then
	tail -5 "$W/debootstrap.log"
	skip "debootstrap could not build Debian 12 from $mirror (see above); the .deb checks passed"
fi
echo "debootstrap from $mirror: $(( $(date +%s) - t0 )) s"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$ROOT/proc" || fail "cannot mount /proc in the chroot"
mount --bind /dev "$ROOT/dev" || fail "cannot bind /dev into the chroot"
cp "$deb" "$ROOT/tmp/agora.deb"
in_root() { chroot "$ROOT" "$@"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	/tmp/agora.deb > "$W/apt.log" 2>&1 || { tail -20 "$W/apt.log"; fail "apt-get install of the .deb"; }
va=$(in_root agora --version) || fail "agora --version in the chroot"
vd=$(in_root agorad --version) || fail "agorad --version in the chroot"
echo "installed: $va, $vd"
[ "${va#agora }" = "${vd#agorad }" ] || fail "versions differ: $va / $vd"
in_root getent passwd agora | grep -q ':/var/lib/agora:/usr/sbin/nologin$' ||
	fail "no system user agora with home /var/lib/agora: $(in_root getent passwd agora)"
[ "$(in_root stat -c '%U %a' /var/lib/agora)" = "agora 700" ] ||
	fail "/var/lib/agora is $(in_root stat -c '%U %a' /var/lib/agora)"
in_root test -f /usr/share/bash-completion/completions/agora || fail "completion not installed"
as_agora() { in_root runuser -u agora -- "$@"; }
as_agora agora --home /var/lib/agora init --name "Testby Kommune" --country DK \
	--alliance Test > "$W/init.log" 2>&1 || { cat "$W/init.log"; fail "agora init as user agora"; }
exec_start=$(sed -n 's/^ExecStart=//p' "$ROOT/usr/lib/systemd/system/agorad.service")
env_line=$(sed -n 's/^Environment=//p' "$ROOT/usr/lib/systemd/system/agorad.service")
# No systemd in a chroot: the unit's command, as its user, by hand (on a
# free port, as other tests may hold 7420).
# shellcheck disable=SC2086
in_root runuser -u agora -- env $env_line sh -c 'echo $$ > /tmp/agorad.pid; exec "$@"' agorad \
	$exec_start --listen 127.0.0.1:0 > "$W/agorad.log" 2>&1 &
AGORAD_PID=$!
end=$(( $(date +%s) + 20 ))
until as_agora agora --home /var/lib/agora status > "$W/status.log" 2>&1; do
	[ "$(date +%s)" -lt "$end" ] || { cat "$W/agorad.log" "$W/status.log"; fail "agora status did not answer"; }
	sleep 0.2
done
grep -q "Testby Kommune\|Test" "$W/status.log" || { cat "$W/status.log"; fail "status says nothing of the node"; }
head -3 "$W/status.log"
kill -TERM "$(cat "$ROOT/tmp/agorad.pid")"
wait "$AGORAD_PID" || fail "agorad did not stop cleanly on SIGTERM"
AGORAD_PID=
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z info node: stopped' "$W/agorad.log" ||
	{ cat "$W/agorad.log"; fail "agorad's log outside journald has no timestamps or no stop"; }
echo "package: ok ($(( $(date +%s) - t0 )) s for the chroot part)"
