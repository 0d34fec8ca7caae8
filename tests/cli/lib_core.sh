# Helpers shared by the CLI tests (sourced; $1 is the agora binary).  $TMP
# is a temporary directory removed at exit.
AGORA=${1:?usage: $(basename "$0") path/to/agora}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset AGORA_HOME XDG_DATA_HOME AGORA_PASSPHRASE COLUMNS || true

fail() { echo "FAIL: $*" >&2; exit 1; }

# run WANT_EXIT CMD...: stdout in $OUT, stderr in $ERR; fails on another exit
# status.  has/lacks look for a fixed string in $OUT (on a here-string: under
# pipefail, `... | grep -q` fails when grep quits early).
run() {
	local want=$1 rc=0; shift
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
	[ "$rc" = "$want" ] || fail "exit $rc, want $want: $* :: $OUT :: $ERR"
}
lines() { if [ -z "$OUT" ]; then echo 0; else printf '%s\n' "$OUT" | wc -l; fi; }
has() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks '$1': $OUT"; }
lacks() { ! grep -qF -- "$1" <<<"$OUT" || fail "output has '$1': $OUT"; }

# expect_exit CODE CMD...: run CMD, require exit status CODE; stderr in $TMP/err.
expect_exit() {
	local want=$1; shift
	local got=0
	"$@" >"$TMP/out" 2>"$TMP/err" || got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, want $want: $(cat "$TMP/err")"
}

# The error must be exactly one line on stderr and contain $1.
expect_err_line() {
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "stderr is not one line: $(cat "$TMP/err")"
	grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"
}

# json_get FILE EXPR: python3 expression on the parsed JSON `d`.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# A node with an alliance: new_node DIR [ALLIANCE]
new_node() {
	"$AGORA" --home "$1" init --name "Assens Kommune" --country DK \
		${2:+--alliance "$2"} >/dev/null
}
