#!/usr/bin/env bash
# tests/k8s/build.sh - builds the Kubernetes pieces the k8s tests need, from
# the Go module proxy, into a cache outside the repository:
#
#   kube-apiserver, kubectl   k8s.io/kubernetes (cmd/kube-apiserver, cmd/kubectl)
#   helm                      helm.sh/helm/v3 (cmd/helm)
#   etcd                      go.etcd.io/etcd/server/v3 (the etcd server)
#
# Each Go program is built in a throwaway module under $CACHE/src/ that
# requires the upstream module at a fixed version. k8s.io/kubernetes names
# its staging modules (k8s.io/api, k8s.io/client-go, ...) as v0.0.0 with
# local replace lines, which do not apply to a dependency; the throwaway
# module maps each one to the published v0.MINOR.PATCH instead.
#
# Idempotent: a binary whose stamp matches the wanted version is not touched,
# so a rerun with everything built runs no go command at all. GOPATH,
# GOMODCACHE and GOCACHE live in the cache too, so a rebuild after a version
# change reuses what it can. Builds run under `nice -n 10` with -p 2.
#
# Usage: tests/k8s/build.sh [--force] [--bindir]
#   --force    rebuild even where the stamp matches
#   --bindir   print the bin directory and exit (builds nothing)
#
# Environment:
#   ZKC_K8S_CACHE        cache directory (default $HOME/.cache/zkc-k8s)
#   ZKC_K8S_VERSION      k8s.io/kubernetes version (default v1.37.2)
#   ZKC_HELM_VERSION     helm.sh/helm/v3 version (default v3.22.0)
#   ZKC_ETCD_VERSION     go.etcd.io/etcd/server/v3 version (default v3.7.0, the
#                        etcd client version k8s.io/kubernetes v1.37 uses)
#   ZKC_K8S_GO_JOBS      go build -p (default 2; the machine is shared)
#
# Output: one line per component (built or up to date, with seconds), then
# "build.sh: done in Ns". Exit status non-zero, with the build log's tail,
# if anything failed.
set -euo pipefail

usage() {
	sed -n '/^# Usage:/,/^# Output:/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

FORCE=0
PRINT_BINDIR=0
while [ $# -gt 0 ]; do
	case "$1" in
	--force) FORCE=1 ;;
	--bindir) PRINT_BINDIR=1 ;;
	-h|--help) usage ;;
	*) echo "build.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

CACHE=${ZKC_K8S_CACHE:-$HOME/.cache/zkc-k8s}
BIN=$CACHE/bin
K8S_VERSION=${ZKC_K8S_VERSION:-v1.37.2}
HELM_VERSION=${ZKC_HELM_VERSION:-v3.22.0}
ETCD_VERSION=${ZKC_ETCD_VERSION:-v3.7.0}
JOBS=${ZKC_K8S_GO_JOBS:-2}

if [ "$PRINT_BINDIR" = 1 ]; then
	echo "$BIN"
	exit 0
fi

mkdir -p "$BIN" "$CACHE/src"
export GOPATH="$CACHE/gopath"
export GOMODCACHE="$CACHE/gopath/pkg/mod"
export GOCACHE="$CACHE/gocache"
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
LOG="$CACHE/build.log"

# One build at a time per cache (several worktrees share $HOME).
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	echo "build.sh: another build holds $CACHE/.lock; waiting" >&2
	flock 9
fi
# what an interrupted build left behind
rm -rf "$BIN"/.build.*

t_all=$(date +%s)

fail() {
	echo "build.sh: $1" >&2
	if [ -f "$LOG" ]; then
		echo "---- last lines of $LOG ----" >&2
		tail -n 30 "$LOG" >&2
	fi
	exit 1
}

need_go() {
	# a non-interactive shell may lack the PATH entry that ~/.bashrc adds
	if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
		PATH=/usr/local/go/bin:$PATH
	fi
	command -v go >/dev/null 2>&1 || fail "go is not installed (the machine's Go, 1.26+, is needed)"
}

# stamp_ok NAME WANT: true if $BIN/NAME exists and was built as WANT
stamp_ok() {
	[ "$FORCE" = 0 ] && [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.stamp" ] &&
		[ "$(cat "$BIN/.$1.stamp")" = "$2" ]
}

# set_module DIR: stdin is the throwaway module's go.mod as generated; kept
# as DIR/go.mod.in. When it changed (or go.sum is missing), go.mod is laid
# anew and `go mod tidy` adds the requirements and go.sum.
set_module() {
	local dir=$1 tmp
	tmp=$(mktemp "$dir/go.mod.in.XXXXXX")
	cat >"$tmp"
	if [ -f "$dir/go.mod.in" ] && cmp -s "$tmp" "$dir/go.mod.in" &&
		[ -s "$dir/go.sum" ] && [ -f "$dir/go.mod" ]; then
		rm -f "$tmp"
		return 0
	fi
	rm -f "$dir/go.sum"
	cp "$tmp" "$dir/go.mod"
	(cd "$dir" && nice -n 10 go mod tidy) >>"$LOG" 2>&1 || {
		rm -f "$tmp"
		return 1
	}
	mv "$tmp" "$dir/go.mod.in"
}

# go_build DIR LDFLAGS PKG...: builds PKGs in module DIR into a temporary
# directory, then moves each binary into $BIN (a binary in use, or a link,
# is replaced, never written through)
go_build() {
	local dir=$1 ldflags=$2 tmp f
	shift 2
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	if ! (cd "$dir" && nice -n 10 go build -p "$JOBS" -trimpath \
		-ldflags="$ldflags" -o "$tmp/" "$@") >>"$LOG" 2>&1; then
		rm -rf "$tmp"
		return 1
	fi
	for f in "$tmp"/*; do
		mv -f "$f" "$BIN/"
	done
	rmdir "$tmp"
}

# ------------------------------------------------------------ kubernetes
build_kube() {
	local want dir gomod minor staging ldflags t0 pkg
	want="k8s.io/kubernetes $K8S_VERSION"
	if stamp_ok kube-apiserver "$want" && stamp_ok kubectl "$want"; then
		echo "build.sh: kube-apiserver, kubectl $K8S_VERSION: up to date"
		return 0
	fi
	need_go
	t0=$(date +%s)
	dir="$CACHE/src/kube"
	mkdir -p "$dir"
	echo "build.sh: building kube-apiserver, kubectl $K8S_VERSION (log: $LOG)"
	# k8s.io/kubernetes's own go.mod lists the staging modules
	gomod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$LOG" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p') ||
		fail "go mod download k8s.io/kubernetes@$K8S_VERSION failed"
	[ -f "$gomod" ] || fail "no go.mod for k8s.io/kubernetes@$K8S_VERSION from the module proxy"
	minor=${K8S_VERSION#v1.}
	staging=$(awk -v v="v0.$minor" '
		/^require \(/ { r = 1; next }
		r && /^\)/ { r = 0 }
		r && $1 ~ /^k8s\.io\// && $2 == "v0.0.0" { printf "\t%s => %s %s\n", $1, $1, v }
	' "$gomod")
	[ -n "$staging" ] || fail "no v0.0.0 staging requires found in $gomod"
	{
		printf 'module zkc.invalid/k8s-build\n\ngo 1.26.0\n\n'
		printf 'require k8s.io/kubernetes %s\n\n' "$K8S_VERSION"
		printf 'tool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kubectl\n)\n\n'
		printf 'replace (\n%s\n)\n' "$staging"
	} | set_module "$dir" || fail "go mod tidy for k8s.io/kubernetes@$K8S_VERSION failed"
	# the version k8s's own build stamps in (hack/lib/version.sh)
	ldflags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION"
		ldflags="$ldflags -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
		ldflags="$ldflags -X $pkg.gitTreeState=clean"
	done
	go_build "$dir" "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kubectl || fail "go build of kube-apiserver/kubectl failed"
	echo "$want" >"$BIN/.kube-apiserver.stamp"
	echo "$want" >"$BIN/.kubectl.stamp"
	echo "build.sh: kube-apiserver, kubectl $K8S_VERSION: built in $(( $(date +%s) - t0 ))s"
}

# ------------------------------------------------------------------ helm
build_helm() {
	local want dir t0 cgo ldflags pkg
	want="helm.sh/helm/v3 $HELM_VERSION (k8s version from client-go)"
	if stamp_ok helm "$want"; then
		echo "build.sh: helm $HELM_VERSION: up to date"
		return 0
	fi
	need_go
	t0=$(date +%s)
	dir="$CACHE/src/helm"
	mkdir -p "$dir"
	echo "build.sh: building helm $HELM_VERSION (log: $LOG)"
	{
		printf 'module zkc.invalid/helm-build\n\ngo 1.26.0\n\n'
		printf 'require helm.sh/helm/v3 %s\n\n' "$HELM_VERSION"
		printf 'tool helm.sh/helm/v3/cmd/helm\n'
	} | set_module "$dir" || fail "go mod tidy for helm.sh/helm/v3@$HELM_VERSION failed"
	# as helm's Makefile does: the default Kubernetes version of `helm
	# template` and `helm lint` is that of the client-go helm links
	cgo=$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go) ||
		fail "no k8s.io/client-go version in helm's module"
	cgo=${cgo#v0.}
	ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
	for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
		ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${cgo%%.*}"
	done
	go_build "$dir" "$ldflags" helm.sh/helm/v3/cmd/helm || fail "go build of helm failed"
	echo "$want" >"$BIN/.helm.stamp"
	echo "build.sh: helm $HELM_VERSION: built in $(( $(date +%s) - t0 ))s"
}

# ------------------------------------------------------------------ etcd
# The etcd server of the version whose client kube-apiserver links. (Debian
# 12's etcd 3.4.23 works too, but lacks RequestWatchProgress: the API
# server then logs "Error getting keys ... Too large resource version"
# every few seconds.)
build_etcd() {
	local want dir t0 ldflags
	want="go.etcd.io/etcd/server/v3 $ETCD_VERSION"
	if stamp_ok etcd "$want"; then
		echo "build.sh: etcd $ETCD_VERSION: up to date"
		return 0
	fi
	need_go
	t0=$(date +%s)
	dir="$CACHE/src/etcd"
	mkdir -p "$dir"
	echo "build.sh: building etcd $ETCD_VERSION (log: $LOG)"
	# the etcd module's own replace lines (../api, ...) do not apply to a
	# dependency: require its sibling modules at the same version
	{
		printf 'module zkc.invalid/etcd-build\n\ngo 1.26.0\n\n'
		printf 'require (\n'
		printf '\tgo.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION"
		printf '\tgo.etcd.io/etcd/api/v3 %s\n' "$ETCD_VERSION"
		printf '\tgo.etcd.io/etcd/client/pkg/v3 %s\n' "$ETCD_VERSION"
		printf '\tgo.etcd.io/etcd/client/v3 %s\n' "$ETCD_VERSION"
		printf '\tgo.etcd.io/etcd/pkg/v3 %s\n' "$ETCD_VERSION"
		printf ')\n\ntool go.etcd.io/etcd/server/v3\n'
	} | set_module "$dir" || fail "go mod tidy for go.etcd.io/etcd/server/v3@$ETCD_VERSION failed"
	ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION"
	rm -f "$BIN/server"
	go_build "$dir" "$ldflags" go.etcd.io/etcd/server/v3 || fail "go build of etcd failed"
	# the package is the module root: go names its binary "server"
	mv -f "$BIN/server" "$BIN/etcd"
	echo "$want" >"$BIN/.etcd.stamp"
	echo "build.sh: etcd $ETCD_VERSION: built in $(( $(date +%s) - t0 ))s"
}

build_kube
build_etcd
build_helm
echo "build.sh: done in $(( $(date +%s) - t_all ))s (binaries in $BIN)"
