#!/usr/bin/env bash
# scripts/demo.sh - sets everything up on a fresh Debian machine and runs the
# demo: a local 3-node ZooKeeper ensemble, writes and reads through a kill -9
# of its leader, and the proof that the session survived.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

[ "${ZKC_SKIP_DEPS:-0}" = 1 ] || scripts/setup-deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p build
[ -f build/Makefile ] || (cd build && "$ROOT/configure" -q >/dev/null)
make -C build -j2 zkc examples/failover >/dev/null

DIR=$(mktemp -d /tmp/zkc-demo-XXXXXX)
cleanup() { build/zkc ensemble down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

echo "starting a 3-node ZooKeeper ensemble in $DIR ..."
URL=$(build/zkc ensemble up --nodes 3 --dir "$DIR")
echo "ensemble up: $URL"
build/zkc ensemble status --dir "$DIR"
echo
build/examples/failover "$URL" "$DIR" "${ZKC_DEMO_WRITES:-300}"
