# Helpers for the CLI output tests (sourced; $1 is the agora binary).
# `run WANT_EXIT cmd...` keeps stdout in $OUT and stderr in $ERR and fails
# on another exit status; has/lacks look for a fixed string in $OUT (on a
# here-string: under pipefail, `... | grep -q` fails when grep quits early).
# $T is a temporary directory removed at exit.
AGORA=${1:?usage: $(basename "$0") path/to/agora}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset AGORA_HOME XDG_DATA_HOME AGORA_PASSPHRASE COLUMNS || true

fail() { echo "FAIL: $*" >&2; exit 1; }
run() {
	local want=$1 rc=0; shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
	[ "$rc" = "$want" ] || fail "exit $rc, want $want: $* :: $OUT :: $ERR"
}
lines() { if [ -z "$OUT" ]; then echo 0; else printf '%s\n' "$OUT" | wc -l; fi; }
has() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks '$1': $OUT"; }
lacks() { ! grep -qF -- "$1" <<<"$OUT" || fail "output has '$1': $OUT"; }
