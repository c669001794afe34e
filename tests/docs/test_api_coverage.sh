#!/usr/bin/env bash
# tests/docs/test_api_coverage.sh - every public function (each ZKC_EXTERN
# declaration in include/zkc/*.h) is named on some user-facing page:
# README.md or docs/**/*.md. A TAP test: one case per header.
#
# Usage: tests/docs/test_api_coverage.sh
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"

pages=(README.md)
while IFS= read -r p; do pages+=("$p"); done < <(find docs -name '*.md' | sort)

# The function names of one header: the identifier before the first '(' of
# every line that declares with ZKC_EXTERN.
names_of() {
	{ grep -E "^[[:space:]]*ZKC_EXTERN[[:space:]]" "$1" || true; } |
		sed -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/' |
		sort -u
}

# every identifier the pages name, once
named=$(cat "${pages[@]}" | grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u)

n=0
nfail=0
total=0
for h in include/zkc.h include/zkc/*.h; do
	[ -f "$h" ] || continue
	names=$(names_of "$h")
	[ -n "$names" ] || continue
	count=$(printf '%s\n' "$names" | wc -l)
	total=$((total + count))
	missing=$(comm -23 <(printf '%s\n' "$names") <(printf '%s\n' "$named"))
	n=$((n + 1))
	if [ -z "$missing" ]; then
		echo "ok $n - $h: all $count functions are documented"
	else
		nfail=$((nfail + 1))
		echo "not ok $n - $h: $(printf '%s\n' "$missing" | wc -l) of $count functions on no page"
		printf '%s\n' "$missing" | sed 's/^/#   /'
	fi
done
# a header parse that finds nothing is a broken check, not a pass
n=$((n + 1))
if [ "$total" -ge 100 ]; then
	echo "ok $n - $total public functions found in the headers"
else
	echo "not ok $n - only $total public functions found: is the ZKC_EXTERN parse broken?"
fi
echo "1..$n"
