#!/usr/bin/env bash
# tests/k8s/check-manifests.sh - checks the Kubernetes manifests in deploy/:
# `helm lint` and `helm template` of the zookeeper chart (default values,
# values-tls.yaml, and a one-server variant), then each rendering and the
# example app's manifests against a real kube-apiserver (tests/k8s/
# apiserver.sh) with `kubectl apply --dry-run=server --validate=strict`.
#
# Usage: tests/k8s/check-manifests.sh [--keep]
#   --keep   keep the work directory (renderings, API server logs)
#
# Needs the binaries of tests/k8s/build.sh (run it first); exits 77 if they
# are missing (the automake "skip" code).
#
# Output: "PASS: NAME" or "FAIL: NAME" per check (a failure's output is
# printed under it), then "check-manifests: N passed, N failed". Exit status
# 0 only if every check passed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHART=$ROOT/deploy/helm/zookeeper
APP=$ROOT/deploy/example-app
NAMESPACE=zk
RELEASE=zk

KEEP=0
while [ $# -gt 0 ]; do
	case "$1" in
	--keep) KEEP=1 ;;
	-h|--help) sed -n '/^# Usage:/,/^# Output:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	*) echo "check-manifests.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

BIN=$("$HERE/build.sh" --bindir)
HELM=$BIN/helm
KUBECTL=$BIN/kubectl
for b in helm kubectl kube-apiserver etcd; do
	if [ ! -x "$BIN/$b" ]; then
		echo "check-manifests.sh: $BIN/$b is missing: run tests/k8s/build.sh" >&2
		exit 77
	fi
done

# the Kubernetes version the chart is rendered for: the API server's
KUBE_VERSION=$("$BIN/kube-apiserver" --version | sed 's/^Kubernetes //')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zkc-manifests.XXXXXX")
SERVER=$WORK/apiserver
passed=0
failed=0

cleanup() {
	"$HERE/apiserver.sh" stop "$SERVER" >/dev/null 2>&1 || true
	if [ "$KEEP" = 1 ]; then
		echo "check-manifests.sh: kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# check NAME CMD...: runs CMD, output to a file shown only on failure
check() {
	local name=$1 out
	shift
	out=$WORK/check-$((passed + failed)).out
	if "$@" >"$out" 2>&1; then
		echo "PASS: $name"
		passed=$((passed + 1))
		return 0
	fi
	echo "FAIL: $name"
	sed 's/^/    /' "$out" | tail -n 40
	failed=$((failed + 1))
	return 1
}

render() {
	local out=$1
	shift
	"$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
		--kube-version "$KUBE_VERSION" "$@" >"$out"
	# a rendering with nothing in it would pass the dry run
	grep -q '^kind: StatefulSet' "$out"
}

dry_run() {
	"$KUBECTL" --kubeconfig "$SERVER/kubeconfig" apply --dry-run=server \
		--validate=strict -n "$NAMESPACE" -f "$1"
}

# Variants of the chart: name, then helm arguments
VARIANTS=(default tls single)
declare -A VARIANT_ARGS=(
	[default]=""
	[tls]="-f $CHART/values-tls.yaml"
	[single]="--set replicas=1,persistence.enabled=false,antiAffinity=soft,podDisruptionBudget.enabled=false"
)

for v in "${VARIANTS[@]}"; do
	# shellcheck disable=SC2086  # the arguments are words
	check "helm lint ($v)" "$HELM" lint --strict --kube-version "$KUBE_VERSION" \
		"$CHART" ${VARIANT_ARGS[$v]} || true
	# shellcheck disable=SC2086
	check "helm template ($v)" render "$WORK/$v.yaml" ${VARIANT_ARGS[$v]} || true
done

if check "kube-apiserver starts" "$HERE/apiserver.sh" start "$SERVER" --owner $$; then
	check "namespace $NAMESPACE created" \
		"$KUBECTL" --kubeconfig "$SERVER/kubeconfig" create namespace "$NAMESPACE" || true
	for v in "${VARIANTS[@]}"; do
		if [ -s "$WORK/$v.yaml" ]; then
			check "server dry run: chart ($v)" dry_run "$WORK/$v.yaml" || true
		fi
	done
	check "server dry run: example app" dry_run "$APP" || true
else
	failed=$((failed + 1))
	echo "FAIL: server dry runs (no API server)"
fi

echo "check-manifests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
