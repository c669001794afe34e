#!/usr/bin/env bash
# tests/build/test_symbols.sh - the ABI users link against, as a TAP test for
# `make check`: the symbols the built libzkc.so exports (nm -D) are exactly
# those listed in tests/build/symbols.txt, each is a zkc_ name declared in a
# public header, so an accidental export or a removed function fails here.
#
# Usage: tests/build/test_symbols.sh [--update]
#   ZKC_TEST_BUILDDIR  the build directory (set by `make check`)
#   --update           rewrite symbols.txt from the built library instead
#                      (`make update-symbols`); review the diff before
#                      committing: a removed line is a broken ABI.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
LIST="$HERE/symbols.txt"
BUILD=${ZKC_TEST_BUILDDIR:-$TOP/build}
SO="$BUILD/.libs/libzkc.so"

if [ ! -f "$SO" ]; then
	if [ "${1:-}" = --update ]; then
		echo "test_symbols.sh: $SO is not built" >&2
		exit 1
	fi
	echo "1..0 # SKIP no shared library in $BUILD (configured with --disable-shared?)"
	exit 0
fi

exported() {
	nm -D --defined-only "$SO" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sed 's/@.*//' | LC_ALL=C sort -u
}

if [ "${1:-}" = --update ]; then
	{
		echo "# tests/build/symbols.txt - every symbol libzkc.so exports, one a line,"
		echo "# sorted; checked by tests/build/test_symbols.sh in make check. Regenerate"
		echo "# with \`make update-symbols\` after changing the public API."
		exported
	} > "$LIST"
	echo "test_symbols.sh: wrote $(grep -vc '^#' "$LIST") symbols to $LIST"
	exit 0
fi

n=0
nfail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exported > "$tmp/have"
grep -v '^#' "$LIST" | sed '/^$/d' | LC_ALL=C sort -u > "$tmp/want"

if [ ! -s "$tmp/have" ]; then
	not_ok "libzkc.so exports symbols" "nm -D found none in $SO"
else
	ok "libzkc.so exports $(wc -l < "$tmp/have") symbols"
fi

extra=$(LC_ALL=C comm -23 "$tmp/have" "$tmp/want")
if [ -z "$extra" ]; then
	ok "no symbol is exported beyond tests/build/symbols.txt"
else
	mapfile -t l <<<"$extra"
	not_ok "no symbol is exported beyond tests/build/symbols.txt" "${l[@]}" \
		"(new public function? run 'make update-symbols' and commit the list)"
fi

missing=$(LC_ALL=C comm -13 "$tmp/have" "$tmp/want")
if [ -z "$missing" ]; then
	ok "every symbol in tests/build/symbols.txt is exported"
else
	mapfile -t l <<<"$missing"
	not_ok "every symbol in tests/build/symbols.txt is exported" "${l[@]}" \
		"(a removed or renamed function breaks the ABI; if intended, 'make update-symbols')"
fi

bad=()
while read -r sym; do
	case "$sym" in
	zkc_*) grep -qw "$sym" "$TOP"/include/zkc.h "$TOP"/include/zkc/*.h ||
		bad+=("$sym: not declared in include/") ;;
	*) bad+=("$sym: not a zkc_ name") ;;
	esac
done < "$tmp/have"
if [ ${#bad[@]} -eq 0 ]; then
	ok "every exported symbol is a zkc_ name declared in a public header"
else
	not_ok "every exported symbol is a zkc_ name declared in a public header" "${bad[@]}"
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
