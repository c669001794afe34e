#!/usr/bin/env bash
# tests/build/test_install.sh - `make install DESTDIR=...` installs the zkc
# program, its man page (which man renders, naming every command) and the
# bash completion, as a TAP test.
#
# Usage: tests/build/test_install.sh   (ZKC_TEST_BUILDDIR)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${ZKC_TEST_BUILDDIR:-$TOP/build}
MAKE=${MAKE:-make}

if [ ! -x "$BUILD/zkc" ]; then
	echo "1..0 # SKIP no zkc program in $BUILD"
	exit 0
fi
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT

n=0
nfail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

echo "1..6"
# MAKEFLAGS of an outer `make check` would hand this make its jobserver
if out=$(env -u MAKEFLAGS -u MFLAGS "$MAKE" -C "$BUILD" install DESTDIR="$DEST" 2>&1); then
	ok "make install DESTDIR"
else
	not_ok "make install DESTDIR" "$(printf '%s\n' "$out" | tail -5)"
fi
bin=$(find "$DEST" -path '*/bin/zkc' -type f | head -1)
man=$(find "$DEST" -path '*/man/man1/zkc.1' -type f | head -1)
comp=$(find "$DEST" -path '*/bash-completion/completions/zkc' -type f | head -1)
if [ -n "$bin" ] && [ -x "$bin" ]; then ok "the program: ${bin#"$DEST"}"; else not_ok "no bin/zkc installed"; fi
if [ -n "$man" ]; then ok "the man page: ${man#"$DEST"}"; else not_ok "no man1/zkc.1 installed"; fi
if [ -n "$comp" ] && cmp -s "$comp" "$TOP/tools/zkc.bash-completion"; then
	ok "the completion: ${comp#"$DEST"}"
else
	not_ok "no bash-completion/completions/zkc installed"
fi
# every command of `zkc --help` has its section, and the exit table is there
missing=""
for c in $("$BUILD/zkc" --help | awk '/^commands/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on && /^$/ { exit }'); do
	grep -qx ".SS $c" "${man:-/dev/null}" || missing="$missing $c"
done
if [ -z "$missing" ] && grep -q '^\.SH EXIT STATUS' "${man:-/dev/null}"; then
	ok "the man page covers every command and the exit status"
else
	not_ok "the man page lacks:$missing"
fi
if ! command -v man >/dev/null; then
	ok "# SKIP man is not installed"
elif warn=$(MANWIDTH=80 man --warnings -l "${man:-/dev/null}" 2>&1 >/dev/null) && [ -z "$warn" ]; then
	ok "man renders it without a warning"
else
	not_ok "man warns" "$warn"
fi
[ "$nfail" -eq 0 ]
