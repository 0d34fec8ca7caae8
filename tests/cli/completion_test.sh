#!/bin/bash
# completion_test.sh AGORA AGORAD - `agora completion bash|zsh` knows every
# command, subcommand, publish kind and option that the tool's own --help
# prints (read here with a separate grep, not the generator's parser), and
# completes them in a real bash (and zsh -n checks the zsh script).  Also:
# agora --version and agorad --version name the same version.
set -euo pipefail
AGORA=$1 AGORAD=$2
TMP=$(mktemp -d /tmp/agora-compl.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

va=$("$AGORA" --version) vd=$("$AGORAD" --version) ||
	fail "agorad --version failed"
[ "${va#agora }" = "${vd#agorad }" ] && [ -n "${va#agora }" ] ||
	fail "versions differ: '$va' / '$vd'"

"$AGORA" completion bash > "$TMP/agora.bash"
"$AGORA" completion zsh > "$TMP/_agora"
bash -n "$TMP/agora.bash" || fail "the bash script does not parse"
if command -v zsh >/dev/null; then
	zsh -n "$TMP/_agora" || fail "the zsh script does not parse"
else
	echo "note: zsh not installed, zsh script not parsed"
fi
"$AGORA" completion fish 2>/dev/null && fail "completion fish accepted"

# complete WORD...: what bash offers for the last word (may be empty).
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ));
	         _agora; printf "%s\n" "${COMPREPLY[@]}"' _ "$TMP/agora.bash" "$@"
}
# Option names in a help text's option lines ("  -o, --output FILE  ...").
help_opts() {
	grep -E '^ +-' | sed -E 's/^ +//; s/  .*//' | grep -oE '(^| )--?[a-zA-Z][a-z0-9-]*' | tr -d ' '
}
# check KEY HELP-ARGS...: every option of that help completes after KEY.
check_opts() {
	local key=$1; shift
	local offered; offered=$(complete_words agora $key -)
	for o in $("$AGORA" "$@" --help | help_opts); do
		grep -qxF -- "$o" <<< "$offered" || fail "agora $key: $o is not completed"
	done
}

commands=$("$AGORA" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}')
[ "$(wc -w <<< "$commands")" -ge 15 ] || fail "agora --help lists too few commands"
offered=$(complete_words agora "")
for c in $commands; do
	grep -qxF "$c" <<< "$offered" || fail "command $c is not completed"
	check_opts "$c" "$c"
	# subcommands: "agora CMD sub" usage lines
	subs=$("$AGORA" "$c" --help | sed -nE "s/^(usage: |       )agora $c ([a-z][a-z-]*)( .*)?$/\2/p" |
	       sort -u)
	if [ "$c" = publish ]; then
		subs=$("$AGORA" publish --help | tr '\n' ' ' | sed -E 's/.*KIND is one of: ([^.]*)\..*/\1/' |
		       tr -d ',')
		[ "$(wc -w <<< "$subs")" -ge 7 ] || fail "publish kinds not found in its help"
	fi
	for s in $subs; do
		grep -qxF "$s" <<< "$(complete_words agora "$c" "")" ||
			fail "agora $c: subcommand $s is not completed"
		check_opts "$c $s" "$c" "$s"
	done
done
for o in --home --version --help; do
	"$AGORA" --help | grep -q -- "$o" || [ "$o" != --home ] || fail "agora --help lost $o"
	grep -qxF -- "$o" <<< "$(complete_words agora --)" || fail "global $o is not completed"
done

# A few completions as a user would see them.
[ "$(complete_words agora alli)" = alliance ] || fail "'agora alli' does not complete"
[ "$(complete_words agora --home /tmp alliance cr)" = create ] ||
	fail "--home DIR before the command confuses it"
grep -qx -- --title <<< "$(complete_words agora publish measure --ti)" ||
	fail "publish measure --ti does not offer --title"
touch "$TMP/records.jsonl"
[ "$(complete_words agora publish --file "$TMP/rec")" = "$TMP/records.jsonl" ] ||
	fail "--file does not complete a file name"
echo "completion: ok"
