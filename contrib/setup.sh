#!/usr/bin/env bash
# setup.sh - install what agora needs on Debian 12, build it, and run the demo
# or the test suite.  Usage:
#   contrib/setup.sh demo     install, build, run the live demo
#   contrib/setup.sh test     install, build, run every test: plain build (with a
#                             pretend newer agora in build-next for the
#                             compatibility test), then AddressSanitizer +
#                             UndefinedBehaviorSanitizer, then each libFuzzer
#                             harness for a short while
#   contrib/setup.sh build    install and build only (into build/)
# Environment: AGORA_FUZZ_SECONDS (default 20) per fuzz harness; JOBS (default nproc).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
jobs="${JOBS:-$(nproc)}"
mode="${1:-build}"

packages=(build-essential cmake pkg-config git libuv1-dev libsodium-dev libprotobuf-c-dev
          protobuf-c-compiler liblmdb-dev libjansson-dev libinih-dev libutf8proc-dev
          libstemmer-dev libhunspell-dev hunspell-pl libcmocka-dev python3
          libmicrohttpd-dev libcsv-dev libxlsxwriter-dev libzip-dev libexpat1-dev)
if [ "$mode" = test ]; then
	# clang for libFuzzer; chromium to check the HTML report headless;
	# python3-cryptography for the independent Noise example check.
	packages+=(clang libclang-rt-14-dev chromium fonts-dejavu-core python3-cryptography)
	# chromium-driver and python3-selenium drive agora web in a real browser.
	packages+=(chromium-driver python3-selenium)
	# python3-openpyxl reads the xlsx export in the spreadsheet round-trip test.
	packages+=(python3-openpyxl)
	# zsh: the completion test parses the zsh script with zsh -n.
	packages+=(zsh)
	# the package test: a clean Debian 12 chroot, lintian on the .deb
	packages+=(debootstrap lintian)
fi

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
			missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	echo "==> installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # build DIR [cmake options...]
	local dir="$1"; shift
	cmake -S . -B "$dir" -DAGORA_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$jobs"
}

install_packages
case "$mode" in
build)
	build build
	;;
demo)
	build build
	exec contrib/demo.sh "$here/build"
	;;
test)
	# A pretend newer agora (PROTOCOL.md section 7.6) for the compatibility
	# test integration_compat_newer_version: only the two binaries it runs.
	echo "==> build the newer-version test build (build-next: agora, agorad)"
	cmake -S . -B build-next -DAGORA_WERROR=ON -DAGORA_SCHEMA_NEXT=ON -DAGORA_TESTS=OFF \
		-DAGORA_BENCH=OFF >/dev/null
	cmake --build build-next -j "$jobs" --target agora agorad
	echo "==> build and test (RelWithDebInfo)"
	build build -DAGORA_NEXT_BUILD="$here/build-next"
	(cd build && ctest --output-on-failure -j "$jobs")
	echo "==> build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
	build build-asan -DCMAKE_BUILD_TYPE=Debug -DAGORA_ASAN=ON -DAGORA_UBSAN=ON -DAGORA_BENCH=OFF \
		-DAGORA_NEXT_BUILD="$here/build-next"
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j "$jobs" -LE heavy)
	echo "==> fuzz each harness for ${AGORA_FUZZ_SECONDS:-20} s (libFuzzer, clang)"
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DAGORA_FUZZ=ON -DAGORA_ASAN=ON \
		-DAGORA_BENCH=OFF >/dev/null
	cmake --build build-fuzz -j "$jobs" --target fuzzers
	for f in build-fuzz/tests/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name="$(basename "$f")"
		corpus="$(mktemp -d)"
		[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
		echo "--> $name"
		"$f" -max_total_time="${AGORA_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 "$corpus" \
			2>&1 | tail -n 3
		rm -rf "$corpus"
	done
	echo "==> all tests passed"
	;;
*)
	echo "usage: $0 demo|test|build" >&2
	exit 2
	;;
esac
