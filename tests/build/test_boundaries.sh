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

# ---- inside src/: the layers of the client (docs/design.md, "Layers")
#
# Calls go down only. Each file of src/ has a layer; a file may call a
# function defined in a lower layer, never one of a higher layer, nor one
# of another file of its own layer (files of the base layer excepted: they
# are independent helpers that use each other). It includes only the
# private headers of lower layers, its own header, and, above the base,
# client_impl.h (the client's shared types). recipes/ sit above all of src/.
src_layers=(
	# 0 base: no knowledge of the client
	"error log util cancel path url retry state history acl acl_digest hosts hosts_dns hosts_k8s k8s_json k8s_config tls readers"
	# 1 the event thread, watches, the client's state
	"events"
	# 2 the blocking-call discipline, handle use, requests in flight
	"request"
	# 3 one blocking call (retry); the session supervisor; the queue of
	# finished batches
	"call supervisor completions"
	# 4 the operations, and the client's open/close
	"ops multi acl_ops batch client"
	# 5 modules built on the operations
	"pnode cache testing"
)
src_headers=(
	"internal.h readers.h"
	"client_impl.h events.h"
	"request.h"
	"call.h supervisor.h"
	""
	""
)

# The layer of a src/ file by its base name (events for events.c and
# events.h; internal for internal.h), or "".
layer_of() {
	local i
	for i in "${!src_layers[@]}"; do
		case " ${src_layers[$i]} ${src_headers[$i]} " in
		*" $1 "*|*" $1.h "*) echo "$i"; return ;;
		esac
	done
}

# Source with comments and string literals removed.
stripped() {
	$CC -fpreprocessed -dD -E -P "$1" 2>/dev/null | sed -E 's/"([^"\\]|\\.)*"/""/g'
}

# The zkc_ and zkc__ functions a .c file defines with external linkage.
defined_functions() {
	stripped "$1" | awk '
		cand != "" && /^\{/ { print cand; cand = ""; next }
		cand != "" && /;[[:space:]]*$/ { cand = ""; next }
		/^[A-Za-z]/ && !/^(static|typedef|extern)[[:space:]]/ &&
		    match($0, /zkc_[A-Za-z0-9_]*[[:space:]]*\(/) {
			cand = substr($0, RSTART, RLENGTH); sub(/[[:space:]]*\($/, "", cand)
			if ($0 ~ /;[[:space:]]*$/) cand = ""
		}'
}

if [ -d src ] && ls src/*.c >/dev/null 2>&1; then
	# every file has a layer
	bad=()
	for f in src/*.c src/*.h; do
		b=$(basename "$f"); b=${b%.*}
		[ -n "$(layer_of "$b")" ] || bad+=("$f: in no layer (add it to src_layers)")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "every file of src/ has a layer"
	else
		not_ok "every file of src/ has a layer" "${bad[@]}"
	fi

	# includes: lower layers' headers, its own, client_impl.h above the base
	bad=()
	for f in src/*.c src/*.h; do
		b=$(basename "$f"); b=${b%.*}
		k=$(layer_of "$b")
		[ -n "$k" ] || continue
		while IFS= read -r hdr; do
			[ -f "src/$hdr" ] || continue   # public or system header
			h=${hdr%.h}
			hk=$(layer_of "$h")
			if [ "$h" = "$b" ] || { [ "$hdr" = client_impl.h ] && [ "$k" -ge 1 ]; } ||
			   { [ -n "$hk" ] && { [ "$hk" -lt "$k" ] || [ "$hk$k" = 00 ]; }; }; then
				continue
			fi
			bad+=("$f (layer $k) includes $hdr (layer ${hk:-?})")
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "src/ files include only the private headers of lower layers"
	else
		not_ok "src/ files include only the private headers of lower layers" "${bad[@]}"
	fi

	# calls: nothing of a higher layer, nothing of a sibling above the base
	defs=$(mktemp)
	for f in src/*.c; do
		b=$(basename "$f" .c)
		k=$(layer_of "$b")
		[ -n "$k" ] || continue
		defined_functions "$f" | sed "s|^|$k $b |"
	done > "$defs"
	for f in recipes/*.c; do
		[ -f "$f" ] || continue
		defined_functions "$f" | sed "s|^|${#src_layers[@]} recipes/$(basename "$f" .c) |"
	done >> "$defs"
	uses=$(mktemp)
	for f in src/*.c; do
		b=$(basename "$f" .c)
		k=$(layer_of "$b")
		[ -n "$k" ] || continue
		stripped "$f" | grep -o '\bzkc_[A-Za-z0-9_]*' | sort -u | sed "s|^|$k $b |"
	done > "$uses"
	mapfile -t bad < <(awk '
		NR == FNR { layer[$3] = $1; file[$3] = $2; next }
		($3 in layer) && file[$3] != $2 &&
		    (layer[$3] > $1 || (layer[$3] == $1 && $1 >= 1)) {
			printf "src/%s.c (layer %d) uses %s of %s (layer %d)\n", $2, $1, $3,
			       file[$3], layer[$3]
		}' "$defs" "$uses")
	rm -f "$uses"
	rm -f "$defs"
	if [ ${#bad[@]} -eq 0 ]; then
		ok "src/ files call only functions of lower layers"
	else
		not_ok "src/ files call only functions of lower layers" "${bad[@]}"
	fi
fi

# The src/ layer checks must be able to fail: violations planted in a copy
# of src/ are each reported.
if [ -z "${ZKC_BOUNDARIES_NESTED:-}" ] && [ -f src/events.c ] && [ -f src/request.c ] &&
   [ -f src/call.c ]; then
	ptmp=$(mktemp -d)
	mkdir -p "$ptmp/src"
	cp src/*.c src/*.h "$ptmp/src/"
	printf '\nvoid zkc__planted_up(zkc_t *zk);\nvoid zkc__planted_up(zkc_t *zk)\n{\n\tzkc__call_leave(zk);\n}\n' >> "$ptmp/src/events.c"
	printf '\nvoid zkc__planted_side(zkc_t *zk);\nvoid zkc__planted_side(zkc_t *zk)\n{\n\tzkc__pending_add(zk, NULL);\n}\n' >> "$ptmp/src/call.c"
	sed -i '0,/#include "request.h"/s//#include "request.h"\n#include "call.h"/' "$ptmp/src/request.c"
	printf '#include "internal.h"\n' > "$ptmp/src/planted.c"
	out=$(cd "$ptmp" && ZKC_BOUNDARIES_NESTED=1 "$HERE/test_boundaries.sh" "$ptmp" 2>/dev/null)
	for want in "src/planted.c: in no layer" \
	            "src/request.c (layer 2) includes call.h (layer 3)" \
	            "src/events.c (layer 1) uses zkc__call_leave of request (layer 2)" \
	            "src/call.c (layer 3) uses zkc__pending_add of supervisor (layer 3)"; do
		if grep -qF "# $want" <<<"$out"; then
			ok "a planted violation is reported: $want"
		else
			not_ok "a planted violation is reported: $want" "$(grep -v '^ok' <<<"$out" | head -n 5)"
		fi
	done
	# and the unplanted copy is clean, so the reports above are the plants'
	rm -rf "$ptmp/src"; mkdir -p "$ptmp/src"; cp src/*.c src/*.h "$ptmp/src/"
	if (cd "$ptmp" && ZKC_BOUNDARIES_NESTED=1 "$HERE/test_boundaries.sh" "$ptmp" >/dev/null 2>&1); then
		ok "the same copy of src/ without the plants passes"
	else
		not_ok "the same copy of src/ without the plants passes"
	fi
	rm -rf "$ptmp"
fi

# The check itself must be able to fail: a planted src/ include is caught.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/recipes" "$tmp/include" "$tmp/src"
echo '#include "internal.h"' > "$tmp/recipes/planted.c"
: > "$tmp/src/internal.h"
if [ -n "${ZKC_BOUNDARIES_NESTED:-}" ]; then
	:   # a nested run checks a planted copy; the parent judges it
elif (cd "$tmp" && grep -q '"internal.h"' recipes/planted.c && [ ! -f include/internal.h ] && [ -f src/internal.h ]) &&
   ! "$HERE/test_boundaries.sh" "$tmp" 2>/dev/null | grep -q '^ok .*recipes/ includes only'; then
	ok "a planted include of src/internal.h in recipes/ is reported"
else
	not_ok "a planted include of src/internal.h in recipes/ is reported"
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
