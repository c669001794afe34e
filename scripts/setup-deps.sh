#!/bin/sh
# scripts/setup-deps.sh - installs the Debian packages zkc needs to build and
# test, only those missing. Idempotent; prints nothing when all are there.
set -eu

PACKAGES="zookeeper libzookeeper-mt-dev swig libssl-dev uthash-dev
libcmocka-dev libcurl4-openssl-dev libjansson-dev libyaml-dev autoconf automake libtool
pkg-config python3-dev python3-venv valgrind libtsan2 clang libclang-rt-14-dev dnsmasq-base openssl
doxygen linux-perf strace time"

missing=""
for pkg in $PACKAGES; do
	# "install ok installed" only: a removed package leaves "deinstall ..."
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done

[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "setup-deps: apt-get not found; install these yourself:$missing" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "setup-deps: need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi

echo "setup-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# apt's own progress goes to a log shown only when something fails
# shellcheck disable=SC2086
if ! { $SUDO apt-get update -q && \
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
           --no-install-recommends $missing; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "setup-deps: apt-get failed (log above)" >&2
	exit 1
fi
