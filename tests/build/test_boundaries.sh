#!/usr/bin/env bash
# tests/build/test_boundaries.sh - the layers the build promises, as a TAP
# test for `make check`: recipes/, tools/, bench/ and examples/ are built on
# the public headers only (include/zkc.h, include/zkc/*.h) plus headers of
# their own directory (tools/ensemble.h also for bench/ and examples/);
# none includes a header of src/ or calls an internal zkc__ function, and
# each of their .c files compiles with nothing but include/ on the path.
#
# Usage: tests/build/test_boundaries.sh [SRCDIR]   (ZKC_TEST_CC or CC: the compiler)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${1:-$(cd "$HERE/../.." && pwd)}
CC=${ZKC_TEST_CC:-${CC:-cc}}
cd "$TOP" || exit 1

n=0
nfail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}

# The directories a layer may take quoted includes from, besides include/.
allowed_dirs() {
	case "$1" in
	recipes) echo "recipes" ;;
	tools) echo "tools" ;;
	bench) echo "bench tools" ;;
	examples) echo "examples tools" ;;
	esac
}

for layer in recipes tools bench examples; do
	[ -d "$layer" ] || continue
	files=$(ls "$layer"/*.c "$layer"/*.h 2>/dev/null)
	[ -n "$files" ] || continue

	# 1. every quoted include resolves to include/ or an allowed directory,
	#    and never to a file of src/
	bad=()
	while IFS=: read -r file line text; do
		hdr=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$text")
		[ -n "$hdr" ] || continue
		found=""
		case "$hdr" in
		*..*|src/*) ;;
		*)
			if [ -f "include/$hdr" ]; then
				found=include
			else
				for d in $(allowed_dirs "$layer"); do
					[ -f "$d/$hdr" ] && { found=$d; break; }
				done
			fi
			;;
		esac
		if [ -z "$found" ]; then
			where="not a public header"
			[ -f "src/$hdr" ] && where="a header of src/"
			bad+=("$file:$line: #include \"$hdr\" ($where)")
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files)
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$layer/ includes only public headers and its own"
	else
		not_ok "$layer/ includes only public headers and its own" "${bad[@]}"
	fi

	# 2. no call or use of an internal zkc__ name (recipe helpers are zkcr_)
	hits=$(grep -n '\bzkc__[A-Za-z0-9_]' $files)
	if [ -z "$hits" ]; then
		ok "$layer/ uses no internal zkc__ name"
	else
		mapfile -t lines <<<"$hits"
		not_ok "$layer/ uses no internal zkc__ name" "${lines[@]}"
	fi

	# 3. each .c file compiles with only include/ (and its allowed
	#    directories) on the path: nothing reaches src/ by accident
	inc="-I include"
	for d in $(allowed_dirs "$layer"); do inc="$inc -I $d"; done
	cflags="-fsyntax-only -std=gnu11 -Werror=implicit-function-declaration -DTHREADED -D_GNU_SOURCE $inc"
	for pc in openssl; do
		if pkg-config --exists "$pc" 2>/dev/null; then cflags="$cflags $(pkg-config --cflags "$pc")"; fi
	done
	errs=()
	for f in "$layer"/*.c; do
		[ -f "$f" ] || continue
		if ! out=$($CC $cflags "$f" 2>&1); then
			errs+=("$f: $(head -n 3 <<<"$out" | tr '\n' ' ')")
		fi
	done
	if [ ${#errs[@]} -eq 0 ]; then
		ok "$layer/*.c compile with only the public headers on the path"
	else
		not_ok "$layer/*.c compile with only the public headers on the path" "${errs[@]}"
	fi
done

# The check itself must be able to fail: a planted src/ include is caught.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/recipes" "$tmp/include" "$tmp/src"
echo '#include "internal.h"' > "$tmp/recipes/planted.c"
: > "$tmp/src/internal.h"
if (cd "$tmp" && grep -q '"internal.h"' recipes/planted.c && [ ! -f include/internal.h ] && [ -f src/internal.h ]) &&
   ! "$HERE/test_boundaries.sh" "$tmp" 2>/dev/null | grep -q '^ok .*recipes/ includes only'; then
	ok "a planted include of src/internal.h in recipes/ is reported"
else
	not_ok "a planted include of src/internal.h in recipes/ is reported"
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
