# Helpers shared by the CLI core tests (sourced).  $AGORA is the binary.
AGORA=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset AGORA_HOME AGORA_PASSPHRASE

fail() { echo "FAIL: $*" >&2; exit 1; }

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
