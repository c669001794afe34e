#!/usr/bin/env bash
# tests/build/test_static_link.sh - zkc.pc tells a static link everything it
# needs, as a TAP test for `make check`: a small program linked against
# every object of libzkc.a (--whole-archive) with exactly
# `pkg-config --static --libs zkc` links and runs; and where every library
# on that line has a static archive installed, `cc -static` does too.
#
# On Debian 12 libcurl's own dependencies (nghttp2, rtmp, ssh2, psl,
# gssapi_krb5, ldap, zstd) ship no .a files, so with zk+k8s:// built in the
# fully static link is reported as skipped, naming the missing archives;
# a --disable-k8s build links fully static.
#
# Usage: tests/build/test_static_link.sh   (ZKC_TEST_BUILDDIR, ZKC_TEST_CC)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${ZKC_TEST_BUILDDIR:-$TOP/build}
CC=${ZKC_TEST_CC:-${CC:-cc}}
ARCHIVE="$BUILD/.libs/libzkc.a"
PC="$BUILD/zkc.pc"

if [ ! -f "$ARCHIVE" ] || [ ! -f "$PC" ]; then
	echo "1..0 # SKIP no libzkc.a or zkc.pc in $BUILD (configured with --disable-static?)"
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
cat > "$tmp/prog.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include "zkc.h"

int main(void)
{
	zkc_t *zk = NULL;
	int rc = zkc_open(&zk, "zk://127.0.0.1:2181?no_such_option=1", NULL);

	if (rc != ZKC_EURL || zk || strcmp(zkc_strcode(rc), "ZKC_EURL") != 0) {
		fprintf(stderr, "unexpected: %d %s\n", rc, zkc_strcode(rc));
		return 1;
	}
	puts("static-ok");
	return 0;
}
PROG

if ! libs=$(pkg-config --static --libs "$PC" 2>"$tmp/pc.err"); then
	not_ok "pkg-config --static --libs zkc answers" "$(cat "$tmp/pc.err")"
	echo "1..$n"
	exit 1
fi
ok "pkg-config --static --libs zkc: $libs"
others=$(tr ' ' '\n' <<<"$libs" | grep -v '^-lzkc$' | grep -v '^-L' | tr '\n' ' ')
# a sanitizer build's archive needs the sanitizer runtime (never static)
cflags="-I$TOP/include ${ZKC_TEST_SAN_CFLAGS:-}"
san_ldflags=${ZKC_TEST_SAN_LDFLAGS:-}

# What zkc.pc itself names: its Libs.private and the libraries of the
# modules in its Requires.private (their own private dependencies are
# theirs to name, and are only needed by a fully static link).
private=$(sed -n 's/^Libs.private://p' "$PC")
reqs=$(pkg-config --print-requires-private "$PC" | awk '{ print $1 }' | tr '\n' ' ')
direct="$private $( [ -n "$reqs" ] && pkg-config --libs $reqs)"
# libzkc itself comes from the archive, whole, so every object's needs show
if $CC $cflags -o "$tmp/prog" "$tmp/prog.c" -Wl,--whole-archive "$ARCHIVE" \
	-Wl,--no-whole-archive $direct $san_ldflags > "$tmp/link.log" 2>&1 &&
   [ "$("$tmp/prog")" = static-ok ]; then
	ok "every object of libzkc.a links and runs with what zkc.pc names:$direct"
else
	mapfile -t l < <(grep -E 'undefined reference|cannot find|error' "$tmp/link.log" | sed 's/.*: //' | sort -u | head -n 20)
	not_ok "every object of libzkc.a links and runs with what zkc.pc names:$direct" "${l[@]}"
fi

# A fully static executable needs a .a for every -l on the line.
missing=()
for flag in $others; do
	case "$flag" in
	-l*)
		lib=${flag#-l}
		f=$($CC -print-file-name="lib$lib.a")
		[ "$f" != "lib$lib.a" ] && [ -f "$f" ] || missing+=("lib$lib.a")
		;;
	esac
done
if [ -n "$san_ldflags" ]; then
	ok "cc -static # SKIP a sanitizer build links its runtime dynamically"
elif [ ${#missing[@]} -gt 0 ]; then
	ok "cc -static # SKIP no static archive installed for: $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
elif $CC -static $cflags -o "$tmp/prog-static" "$tmp/prog.c" "$ARCHIVE" $others \
	> "$tmp/static.log" 2>&1 && [ "$("$tmp/prog-static")" = static-ok ]; then
	ok "cc -static with pkg-config --static --libs zkc links and runs"
else
	mapfile -t l < <(grep -E 'undefined reference|cannot find|error' "$tmp/static.log" | sed 's/.*: //' | sort -u | head -n 20)
	not_ok "cc -static with pkg-config --static --libs zkc links and runs" "${l[@]}"
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
