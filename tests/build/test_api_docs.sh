#!/usr/bin/env bash
# tests/build/test_api_docs.sh - `make docs` builds the API reference from
# include/ with Doxygen without a single warning, and the page of a header
# carries its functions' descriptions, as a TAP test. Skipped when
# configure found no doxygen.
#
# Usage: tests/build/test_api_docs.sh   (ZKC_TEST_BUILDDIR)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${ZKC_TEST_BUILDDIR:-$TOP/build}
MAKE=${MAKE:-make}

if ! grep -q '^DOXYGEN = .*doxygen' "$BUILD/Makefile" 2>/dev/null; then
	echo "1..0 # SKIP configure found no doxygen"
	exit 0
fi
echo "1..2"
if out=$(env -u MAKEFLAGS -u MFLAGS "$MAKE" -C "$BUILD" docs 2>&1); then
	echo "ok 1 - make docs, no warning"
else
	echo "not ok 1 - make docs"
	printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
fi
page="$BUILD/docs/api/html/queue_8h.html"
if [ -f "$page" ] && grep -q 'Opens a queue at' "$page" && grep -q 'zkc_queue_take' "$page"; then
	echo "ok 2 - the headers' comments are the reference's text"
else
	echo "not ok 2 - no description of zkc_queue_open in $page"
fi
