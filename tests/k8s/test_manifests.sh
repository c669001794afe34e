#!/usr/bin/env bash
# tests/k8s/test_manifests.sh - tests/k8s/check-manifests.sh as a TAP test
# for `make check`: one test case per check, the plan at the end.
#
# Usage: tests/k8s/test_manifests.sh
# Fails, saying so, when the Kubernetes binaries are not built
# (tests/k8s/build.sh; scripts/test.sh runs it before the tests).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)

n=0
nfail=0
status=""
while IFS= read -r line; do
	case "$line" in
	"PASS: "*) n=$((n + 1)); echo "ok $n - ${line#PASS: }" ;;
	"FAIL: "*) n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n - ${line#FAIL: }" ;;
	"check-manifests exit status: "*) status=${line##*: } ;;
	*) echo "# $line" ;;
	esac
done < <(rc=0; "$HERE/check-manifests.sh" 2>&1 || rc=$?; echo "check-manifests exit status: $rc")

case "$status" in
77)
	n=$((n + 1))
	echo "not ok $n - Kubernetes binaries not built: run tests/k8s/build.sh"
	;;
*)
	# a failure outside the checks (or no checks at all) still fails
	if [ "$status" != 0 ] && [ "$nfail" -eq 0 ] || [ "$n" -eq 0 ]; then
		n=$((n + 1))
		echo "not ok $n - check-manifests.sh exited with status ${status:-unknown}"
	fi
	;;
esac
echo "1..$n"
