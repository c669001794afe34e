#!/usr/bin/env bash
# tests/build/test_completion.sh - the bash completion of tools/ (installed
# by `make install`) completes what the built zkc offers, as a TAP test:
# commands, a command's options and verbs, and nothing after `--'.
#
# Usage: tests/build/test_completion.sh   (ZKC_TEST_BUILDDIR)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${ZKC_TEST_BUILDDIR:-$TOP/build}

if [ ! -x "$BUILD/zkc" ]; then
	echo "1..0 # SKIP no zkc program in $BUILD"
	exit 0
fi
PATH=$BUILD:$PATH
unset ZKC_URL
# shellcheck source=../../tools/zkc.bash-completion
complete() { :; }   # no readline here: only the function is wanted
. "$TOP/tools/zkc.bash-completion"

n=0
nfail=0
# complete WORDS...: the last word is the one being completed
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_zkc
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
}
check() {   # NAME EXPECTED-WORDS -- WORDS...
	local name=$1 want=$2 got
	shift 3
	got=$(complete_words "$@" | sort | tr '\n' ' ')
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "# completing '$*': got '$got', want '$want'"
		nfail=$((nfail + 1))
	fi
}
has() {   # NAME WORD -- WORDS...
	local name=$1 want=$2
	shift 3
	n=$((n + 1))
	if complete_words "$@" | grep -x -- "$want" >/dev/null; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "# completing '$*': no '$want' in: $(complete_words "$@" | tr '\n' ' ')"
		nfail=$((nfail + 1))
	fi
}

echo "1..15"
check "commands by prefix" "get grep " -- zkc g
check "commands after a global flag" "elect ensemble " -- zkc --json e
has "every command of zkc --help" ensemble -- zkc ""
has "zkc help COMMAND" watch -- zkc help w
check "global flags" "--help --json --url --version " -- zkc --
check "queue verbs" "peek put " -- zkc queue p
has "counter verbs" cas -- zkc counter ""
check "acl verbs" "get " -- zkc acl g
has "acl set" set -- zkc acl ""
has "a command's options" --stat -- zkc get --s
has "options of create" --protected -- zkc create /x --p
check "ensemble verbs" "restart " -- zkc ensemble res
check "elect --watch and its options" "--watch " -- zkc elect name --w
check "elect --watch --count" "--count " -- zkc elect name --watch --co
check "nothing after --" "" -- zkc lock name -- ma
[ "$nfail" -eq 0 ]
