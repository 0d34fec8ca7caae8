#!/usr/bin/env bash
# Every command reads its options through one table-driven parser
# (cli/opt.c): the same one-line errors and exit status 2 everywhere, and a
# --help generated from the same table.
set -euo pipefail
source "$(dirname "$0")/lib_core.sh"

H=$TMP/h
new_node "$H" DK2020
A() { "$AGORA" --home "$H" "$@"; }

for cmd in whoami query show export status peers sync report "alliance list" \
           "alliance members" "alliance create" "bundle create" "peer add" "publish measure" \
           retract init join "alliance invite" "alliance rotate-key" endpoint "endpoint set"; do
	# shellcheck disable=SC2086
	expect_exit 2 A $cmd --no-such-option
	expect_err_line "unknown option '--no-such-option'"
	grep -qF "(see 'agora ${cmd%% measure} --help')" "$TMP/err" ||
		fail "$cmd: no help pointer: $(cat "$TMP/err")"
	# shellcheck disable=SC2086
	expect_exit 0 A $cmd --help
	grep -q "^usage: agora ${cmd%% measure}" "$TMP/out" || fail "$cmd --help has no usage line"
	grep -qF -- "-h, --help" "$TMP/out" || fail "$cmd --help lists no options"
done

# A value that is missing, and one given with '='.
expect_exit 2 A query --kind
expect_err_line "query: --kind needs a value"
expect_exit 0 A query --kind=measure --limit=0
expect_exit 2 A alliance members --json=yes
expect_err_line "--json takes no value"
# Too few or too many arguments, and a required option.
expect_exit 2 A show
expect_err_line "usage: agora show ID"
expect_exit 2 A show abcd efgh
expect_err_line "show: unexpected argument 'efgh'"
expect_exit 2 A alliance revoke abcd
expect_err_line "usage: agora alliance revoke KEY --reason TEXT"
# Subcommand groups.
expect_exit 2 A bundle
expect_err_line "bundle: say create, verify or import"
expect_exit 2 A alliance frobnicate
expect_err_line "alliance: 'frobnicate' is not create, list, use, members, admit, revoke, rotate-key or invite"
expect_exit 0 A alliance --help
grep -q "'agora alliance SUBCOMMAND --help'" "$TMP/out" || fail "alliance --help"
# "--" ends the options: what follows is an argument.
expect_exit 2 A show -- --help
expect_err_line "'--help' is not a record id"
echo ok
