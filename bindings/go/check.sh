#!/usr/bin/env bash
# bindings/go/check.sh BUILD_DIR - checks the Go binding against the libzkc
# built in BUILD_DIR (this tree's, not an installed one): the generated
# capi is current (when swig is installed), gofmt over every Go file of
# the project, go vet, staticcheck, and
# go test -race against a 3-server ensemble the tests start with
# BUILD_DIR/zkc. Prints one "go-result: PASS|FAIL NAME" line per check and
# per top-level test, for scripts/test.sh to count. Go modules come from
# the module proxy (go.sum is committed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: check.sh BUILD_DIR}" && pwd)
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	PATH=$PATH:/usr/local/go/bin
fi
if ! command -v go >/dev/null; then
	echo "go-result: FAIL go-toolchain (no go command)"
	exit 0
fi

# a pkg-config file for the build tree, so `#cgo pkg-config: zkc` finds it
pc="$build/go-pkgconfig"
mkdir -p "$pc"
cat >"$pc/zkc.pc" <<PC
Name: zkc
Description: zkc from the build tree $build
Version: 0.1.0
Libs: -L$build/.libs -lzkc
Cflags: -I$root/include
PC
export PKG_CONFIG_PATH="$pc" LD_LIBRARY_PATH="$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CGO_ENABLED=1 ZKC_BIN="$build/zkc"
# the Python binding the build made (configure found Python and SWIG), for
# the cross-language test; without it that test is skipped
[ -d "$build/python/zkc" ] && export ZKC_PYTHONPATH="$build/python"
unset ZKC_TEST_URL ZKC_TEST_ENSEMBLE_DIR

result() { echo "go-result: $1 $2"; }
cd "$here" || exit 1

if command -v swig >/dev/null; then
	tmp=$(mktemp -d)
	if sh internal/capi/gen.sh "$tmp" && cmp -s "$tmp/capi.go" internal/capi/capi.go &&
		cmp -s "$tmp/zkc_wrap.c" internal/capi/zkc_wrap.c; then
		result PASS generated-capi-current
	else
		echo "internal/capi differs from what zkc_go.i generates: run go generate ./... in bindings/go"
		result FAIL generated-capi-current
	fi
	rm -rf "$tmp"
fi

# gofmt over every Go file of the project (the bindings, the examples, the
# chaos checker, the bench peers), tracked or new but not ignored; a list
# that comes back empty is a failure, so the check cannot pass by finding
# nothing
gofiles=$(git -C "$root" ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null)
if [ -z "$gofiles" ]; then
	echo "gofmt: no Go file found under $root (not a git checkout?)"
	result FAIL gofmt
elif unformatted=$(cd "$root" && printf '%s\n' "$gofiles" | xargs gofmt -l) && [ -z "$unformatted" ]; then
	result PASS gofmt
else
	echo "gofmt: not formatted (run gofmt -w on them):"
	printf '%s\n' "$unformatted"
	result FAIL gofmt
fi

# internal/capi is generated (SWIG's own runtime code in it trips vet):
# vet and staticcheck look at the hand-written package
if go vet .; then result PASS go-vet; else result FAIL go-vet; fi
if go run "$STATICCHECK" .; then result PASS staticcheck; else result FAIL staticcheck; fi
if (cd "$root/examples/go" && go vet ./...); then result PASS examples-vet; else result FAIL examples-vet; fi

# one result per top-level test; a package that does not build is a failure
log=$(mktemp)
go test -race -count=1 -v -timeout 15m . 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
sed -n 's/^--- \(PASS\|FAIL\): \([A-Za-z0-9_]*\).*/go-result: \1 \2/p' "$log"
if [ "$status" -ne 0 ] && ! grep -q '^--- FAIL' "$log"; then
	result FAIL go-test-package
fi
rm -f "$log"
exit 0
