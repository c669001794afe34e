#!/usr/bin/env bash
# scripts/demo.sh - the README's first command: on a fresh Debian machine,
# installs what is missing, builds zkc, its Python binding and the demo's
# workers in C, Python and Go, and runs the demo (examples/demo/demo.py):
# a local 3-node ZooKeeper ensemble, workers in three languages sharing a
# queue, a lock, an index and a counter, the ZooKeeper leader killed and
# restarted and one worker killed mid-run, and a summary that checks that
# nothing was lost. Exits non-zero if anything was. docs/demo.md explains it.
#
#   scripts/demo.sh [--short] [DEMO OPTIONS...]
#
# --short runs the short version CI runs (fewer jobs, one worker per
# language). Other options go to examples/demo/demo.py (--jobs N,
# --workers c=2,python=2,go=2, --plain, --help...).
#
# Environment: ZKC_SKIP_DEPS=1 skips scripts/setup-deps.sh; ZKC_BUILD_DIR
# (default build) is the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${ZKC_BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

args=()
for a in "$@"; do
	if [ "$a" = "--short" ]; then
		args+=(--jobs 60 --workers c=1,python=1,go=1 --work-ms 40 --timeout 240)
	else
		args+=("$a")
	fi
done
# a --workers list without Go needs no Go toolchain
want_go=1
prev=""
for a in "${args[@]}"; do
	if [ "$prev" = "--workers" ] || [ "${a#--workers=}" != "$a" ]; then
		spec=${a#--workers=}
		case ",$spec," in *,go=[1-9]*) want_go=1 ;; *) want_go=0 ;; esac
	fi
	prev=$a
done

step() { printf 'demo.sh: %s\n' "$*"; }

[ "${ZKC_SKIP_DEPS:-0}" = 1 ] || scripts/setup-deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	step "autoreconf"
	autoreconf -fi >/dev/null 2>&1
fi
mkdir -p "$BUILD"
if [ ! -f "$BUILD/Makefile" ]; then
	step "configure"
	(cd "$BUILD" && "$ROOT/configure" -q >/dev/null)
fi
if ! grep -q '^all-local: python/.built' "$BUILD/Makefile"; then
	echo "demo.sh: configure did not enable the Python binding (Python 3 headers, setuptools and SWIG are needed)" >&2
	exit 1
fi
step "building zkc, the Python binding and the C worker (make -j2; the first build takes a few minutes)"
make -C "$BUILD" -j2 zkc examples/demo/worker python/.built >"$BUILD/demo-build.log" 2>&1 || {
	tail -n 30 "$BUILD/demo-build.log"
	echo "demo.sh: build failed (log: $BUILD/demo-build.log)" >&2
	exit 1
}

if [ "$want_go" = 1 ]; then
	if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
		PATH=$PATH:/usr/local/go/bin
	fi
	if ! command -v go >/dev/null; then
		echo "demo.sh: the Go worker needs Go 1.23 or later (https://go.dev/dl/);" \
		     "without it run: scripts/demo.sh --workers c=2,python=2" >&2
		exit 1
	fi
	step "building the Go worker (go build)"
	# a pkg-config file for this build tree, so `#cgo pkg-config: zkc`
	# finds the headers and the library (and the binary finds it at run time)
	pc="$BUILD/demo-pkgconfig"
	mkdir -p "$pc" "$BUILD/examples/demo"
	cat >"$pc/zkc.pc" <<PC
Name: zkc
Description: zkc from the build tree $BUILD
Version: 0.1.0
Libs: -L$BUILD/.libs -Wl,-rpath,$BUILD/.libs -lzkc
Cflags: -I$ROOT/include
PC
	(cd examples/demo/go && PKG_CONFIG_PATH="$pc" CGO_ENABLED=1 \
		go build -o "$BUILD/examples/demo/worker-go" .) >"$BUILD/demo-go-build.log" 2>&1 || {
		cat "$BUILD/demo-go-build.log"
		echo "demo.sh: go build of examples/demo/go failed" >&2
		exit 1
	}
fi

PYTHON=$(sed -n 's/^PYTHON = //p' "$BUILD/Makefile")
PYTHONPATH="$BUILD/python${PYTHONPATH:+:$PYTHONPATH}" \
	exec "${PYTHON:-python3}" examples/demo/demo.py --build "$BUILD" "${args[@]}"
