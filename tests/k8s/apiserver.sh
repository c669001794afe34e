#!/usr/bin/env bash
# tests/k8s/apiserver.sh - a throwaway Kubernetes API server for tests:
# etcd plus kube-apiserver on 127.0.0.1, with free ports picked at start,
# certificates made with openssl and static bearer tokens. No controller
# manager, scheduler or kubelet: objects are stored and served, nothing runs
# (EndpointSlices, for one, are written by the test itself).
#
# Usage: tests/k8s/apiserver.sh COMMAND DIR [OPTIONS]
#   start DIR [--token T] [--owner PID]
#             make DIR, start etcd and kube-apiserver, wait until /readyz
#             answers ok. --token sets the test token (default: random).
#             --owner PID stops both servers once PID has exited.
#   restart DIR [--token T]
#             restart kube-apiserver only, on the same port (starts it if it
#             is down). With --token, only T (and the admin token) is valid
#             afterwards; DIR/token is NOT rewritten: the test does that.
#   stop-apiserver DIR
#             stop kube-apiserver only (etcd keeps running); `restart` brings
#             it back on the same port
#   stop DIR  stop kube-apiserver and etcd and wait for them (no error if
#             nothing runs); DIR and its logs stay
#   status DIR
#             exit 0 if kube-apiserver answers /readyz, 1 if not
#
# Files in DIR (DIR must not contain whitespace):
#   env          KEY=VALUE lines, no quoting, for `set -a; . DIR/env; set +a`:
#                KUBE_SERVER, KUBE_CA, KUBE_TOKEN_FILE, KUBE_ADMIN_TOKEN_FILE,
#                KUBECONFIG, KUBECTL, KUBE_APISERVER_PORT, ETCD_ENDPOINT
#   ca.crt       the CA that signed the serving cert (IP 127.0.0.1, DNS localhost)
#   token        the test's bearer token (no trailing newline), system:masters
#   admin-token  a second system:masters token, never rotated; kubeconfig uses it
#   kubeconfig   for kubectl: server, certificate-authority (path), admin token
#   kubeconfig-embedded  the same with certificate-authority-data
#   apiserver.log, etcd.log, apiserver.pid, etcd.pid, tokens.csv, pki/, etcd-data/
#
# Environment:
#   ZKC_K8S_CACHE          where tests/k8s/build.sh put the binaries
#                          (default $HOME/.cache/zkc-k8s; binaries in bin/)
#   ZKC_K8S_START_TIMEOUT  seconds to wait for readiness (default 240)
#   ZKC_K8S_APISERVER_FLAGS  extra kube-apiserver flags (words), at start
#                          and restart; e.g. "--watch-cache=false"
#
# Exit status: 0 on success; non-zero with the failing server's log tail.
set -euo pipefail

SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
CACHE=${ZKC_K8S_CACHE:-$HOME/.cache/zkc-k8s}
BIN=$CACHE/bin
TIMEOUT=${ZKC_K8S_START_TIMEOUT:-240}
SA_ISSUER=https://kubernetes.default.svc.cluster.local
SERVICE_RANGE=10.96.0.0/16

# Admission: NamespaceLifecycle stays (objects need their namespace); the
# plugins that need a controller manager or only matter for pods are off.
DISABLED_ADMISSION="ServiceAccount,LimitRanger,ResourceQuota,\
DefaultStorageClass,DefaultTolerationSeconds,Priority,TaintNodesByCondition,\
StorageObjectInUseProtection,PersistentVolumeClaimResize,RuntimeClass,\
DefaultIngressClass,PodSecurity,MutatingAdmissionWebhook,\
ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy"

usage() {
	sed -n '/^# Usage:/,/^# Exit status:/p' "$SELF" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

die() {
	echo "apiserver.sh: $*" >&2
	exit 1
}

log_tail() {
	if [ -f "$1" ]; then
		echo "---- last lines of $1 ----" >&2
		tail -n 40 "$1" >&2
	fi
}

# pid_alive PIDFILE NAME: the pid in PIDFILE runs a program called NAME
pid_alive() {
	local pid cmd
	[ -f "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	# spawn writes the pid file just before exec, and while the kernel
	# replaces the process image its cmdline reads empty: a process caught
	# there is starting, not gone (3 of 100 starts of kube-apiserver under
	# load read empty; the test then said "exited during start")
	[ -z "$cmd" ] && return 0
	case "$cmd" in *"$2"*) return 0 ;; esac
	return 1
}

# stop_pid PIDFILE NAME: SIGTERM, wait up to 30 s, then SIGKILL; waits
stop_pid() {
	local pid i
	if pid_alive "$1" "$2"; then
		pid=$(cat "$1")
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do
			[ -d "/proc/$pid" ] || break
			# a zombie is gone as far as we care
			grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
			sleep 0.1
		done
		if [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
			echo "apiserver.sh: $2 ($pid) ignored SIGTERM for 30s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				[ -d "/proc/$pid" ] || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$1"
}

# spawn PIDFILE LOG CMD...: runs CMD in its own session, detached from our
# stdin/stdout/stderr and from every other descriptor we hold (a test
# runner's pipe kept open by a server would never see end of file)
spawn() {
	local pidfile=$1 log=$2
	shift 2
	rm -f "$pidfile"
	# shellcheck disable=SC2016  # the inner script expands its own variables
	setsid bash -c '
		pidfile=$1 log=$2; shift 2
		for fd in /proc/$$/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		echo $$ >"$pidfile"
		exec "$@" </dev/null >>"$log" 2>&1
	' spawn "$pidfile" "$log" "$@" </dev/null >/dev/null 2>&1 &
	# wait until the child wrote its pid (it execs right after)
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$pidfile" ] && return 0
		sleep 0.05
	done
	die "could not start $3"
}

free_ports() {
	python3 -c '
import socket
socks = [socket.socket() for _ in range(int(__import__("sys").argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
}

need_bins() {
	local b
	for b in kube-apiserver kubectl etcd; do
		[ -x "$BIN/$b" ] || die "$BIN/$b is missing: run tests/k8s/build.sh first"
	done
	command -v openssl >/dev/null || die "openssl is not installed"
	command -v curl >/dev/null || die "curl is not installed"
	command -v python3 >/dev/null || die "python3 is not installed"
}

make_pki() {
	local pki=$DIR/pki
	[ -f "$pki/apiserver.crt" ] && [ -f "$pki/sa.key" ] && return 0
	mkdir -p "$pki"
	(
		cd "$pki"
		openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
			-keyout ca.key -out ca.crt -subj "/CN=zkc-test-ca" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		openssl req -newkey rsa:2048 -nodes -sha256 \
			-keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
		cat >apiserver.ext <<-EOF
			basicConstraints=CA:FALSE
			keyUsage=critical,digitalSignature,keyEncipherment
			extendedKeyUsage=serverAuth
			subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1
		EOF
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key \
			-CAcreateserial -days 3650 -sha256 -extfile apiserver.ext \
			-out apiserver.crt
		openssl genrsa -out sa.key 2048
		openssl rsa -in sa.key -pubout -out sa.pub
	) >"$DIR/pki.log" 2>&1 || { log_tail "$DIR/pki.log"; die "openssl failed"; }
	cp "$pki/ca.crt" "$DIR/ca.crt"
}

new_token() {
	openssl rand -hex 24
}

# write_tokens TEST_TOKEN: the static token file, admin token plus TEST_TOKEN
write_tokens() {
	local admin
	admin=$(cat "$DIR/admin-token")
	printf '%s,zkc-admin,zkc-admin,"system:masters"\n%s,zkc-test,zkc-test,"system:masters"\n' \
		"$admin" "$1" >"$DIR/tokens.csv.new"
	chmod 600 "$DIR/tokens.csv.new"
	mv "$DIR/tokens.csv.new" "$DIR/tokens.csv"
}

check_token() {
	case "$1" in
	""|*[!A-Za-z0-9._~+/=-]*) die "token must be non-empty, of [A-Za-z0-9._~+/=-] only" ;;
	esac
}

write_client_files() {
	local server=https://127.0.0.1:$APISERVER_PORT admin ca_data
	admin=$(cat "$DIR/admin-token")
	ca_data=$(base64 -w0 <"$DIR/ca.crt")
	kubeconfig() {
		cat <<-EOF
			apiVersion: v1
			kind: Config
			clusters:
			- name: zkc-test
			  cluster:
			    server: $server
			    $1
			users:
			- name: zkc-admin
			  user:
			    token: $admin
			contexts:
			- name: zkc-test
			  context:
			    cluster: zkc-test
			    user: zkc-admin
			    namespace: default
			current-context: zkc-test
		EOF
	}
	kubeconfig "certificate-authority: $DIR/ca.crt" >"$DIR/kubeconfig"
	kubeconfig "certificate-authority-data: $ca_data" >"$DIR/kubeconfig-embedded"
	chmod 600 "$DIR/kubeconfig" "$DIR/kubeconfig-embedded"
	cat >"$DIR/env" <<-EOF
		KUBE_SERVER=$server
		KUBE_CA=$DIR/ca.crt
		KUBE_TOKEN_FILE=$DIR/token
		KUBE_ADMIN_TOKEN_FILE=$DIR/admin-token
		KUBECONFIG=$DIR/kubeconfig
		KUBECTL=$BIN/kubectl
		KUBE_APISERVER_PORT=$APISERVER_PORT
		ETCD_ENDPOINT=http://127.0.0.1:$ETCD_PORT
	EOF
}

load_state() {
	[ -f "$DIR/state" ] || die "$DIR/state is missing: was '$0 start $DIR' run?"
	# shellcheck source=/dev/null
	. "$DIR/state"
	: "${ETCD_PORT:?}" "${APISERVER_PORT:?}"
}

start_etcd() {
	spawn "$DIR/etcd.pid" "$DIR/etcd.log" "$BIN/etcd" \
		--name zkc-test --data-dir "$DIR/etcd-data" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "zkc-test=http://127.0.0.1:$ETCD_PEER_PORT" \
		--logger zap --log-outputs stderr
}

start_apiserver() {
	# shellcheck disable=SC2086  # extra flags are words
	spawn "$DIR/apiserver.pid" "$DIR/apiserver.log" "$BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
		--secure-port "$APISERVER_PORT" \
		--cert-dir "$DIR/pki" \
		--tls-cert-file "$DIR/pki/apiserver.crt" \
		--tls-private-key-file "$DIR/pki/apiserver.key" \
		--client-ca-file "$DIR/ca.crt" \
		--token-auth-file "$DIR/tokens.csv" \
		--service-account-issuer "$SA_ISSUER" \
		--service-account-key-file "$DIR/pki/sa.pub" \
		--service-account-signing-key-file "$DIR/pki/sa.key" \
		--service-cluster-ip-range "$SERVICE_RANGE" \
		--authorization-mode RBAC \
		--disable-admission-plugins "$DISABLED_ADMISSION" \
		--endpoint-reconciler-type none \
		--shutdown-watch-termination-grace-period 2s \
		--enable-priority-and-fairness=false \
		--profiling=false \
		--v 1 \
		${ZKC_K8S_APISERVER_FLAGS:-}
}

# wait_ready URL PIDFILE NAME LOG [CURL ARGS...]: poll URL until it answers
# "ok"/health true, the server dies, or the deadline passes
wait_ready() {
	local url=$1 pidfile=$2 name=$3 log=$4 deadline out
	shift 4
	deadline=$(( $(date +%s) + TIMEOUT ))
	while :; do
		if ! pid_alive "$pidfile" "$name"; then
			log_tail "$log"
			echo "apiserver.sh: $name exited during start" >&2
			return 1
		fi
		out=$(curl -s --max-time 5 "$@" "$url" 2>/dev/null || true)
		case "$out" in
		ok|*'"health":"true"'*) return 0 ;;
		esac
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log_tail "$log"
			echo "apiserver.sh: $name not ready after ${TIMEOUT}s ($url said: ${out:0:200})" >&2
			return 1
		fi
		sleep 0.2
	done
}

apiserver_ready() {
	wait_ready "https://127.0.0.1:$APISERVER_PORT/readyz" "$DIR/apiserver.pid" \
		kube-apiserver "$DIR/apiserver.log" --cacert "$DIR/ca.crt"
}

etcd_ready() {
	wait_ready "http://127.0.0.1:$ETCD_PORT/health" "$DIR/etcd.pid" \
		etcd "$DIR/etcd.log"
}

port_in_use_failure() {
	grep -q -i 'address already in use' "$DIR/etcd.log" "$DIR/apiserver.log" 2>/dev/null
}

start_watchdog() {
	local owner=$1
	kill -0 "$owner" 2>/dev/null || die "--owner $owner: no such process"
	# shellcheck disable=SC2016  # the inner script expands its own variables
	setsid bash -c '
		owner=$1 dir=$2 self=$3
		for fd in /proc/$$/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		echo $$ >"$dir/watchdog.pid"
		while kill -0 "$owner" 2>/dev/null; do sleep 1; done
		rm -f "$dir/watchdog.pid"
		exec "$self" stop "$dir"
	' watchdog "$owner" "$DIR" "$SELF" </dev/null >>"$DIR/watchdog.log" 2>&1 &
}

cmd_start() {
	local token="" owner="" attempt
	while [ $# -gt 0 ]; do
		case "$1" in
		--token) [ $# -ge 2 ] || usage; token=$2; shift ;;
		--owner) [ $# -ge 2 ] || usage; owner=$2; shift ;;
		*) echo "apiserver.sh: unknown option '$1'" >&2; usage ;;
		esac
		shift
	done
	need_bins
	if pid_alive "$DIR/apiserver.pid" kube-apiserver || pid_alive "$DIR/etcd.pid" etcd; then
		die "servers already run in $DIR: '$0 stop $DIR' first"
	fi
	mkdir -p "$DIR"
	make_pki
	[ -s "$DIR/admin-token" ] || { new_token | tr -d '\n' >"$DIR/admin-token"; }
	if [ -n "$token" ]; then
		check_token "$token"
	else
		token=$(new_token)
	fi
	printf '%s' "$token" >"$DIR/token"
	chmod 600 "$DIR/admin-token" "$DIR/token"
	write_tokens "$token"

	for attempt in 1 2 3; do
		read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT <<<"$(free_ports 3)"
		printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' \
			"$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" >"$DIR/state"
		rm -rf "$DIR/etcd-data"
		: >"$DIR/etcd.log"
		: >"$DIR/apiserver.log"
		start_etcd
		if etcd_ready; then
			start_apiserver
			if apiserver_ready; then
				write_client_files
				[ -z "$owner" ] || start_watchdog "$owner"
				echo "apiserver.sh: ready at https://127.0.0.1:$APISERVER_PORT (env: $DIR/env)"
				return 0
			fi
		fi
		stop_pid "$DIR/apiserver.pid" kube-apiserver
		stop_pid "$DIR/etcd.pid" etcd
		if port_in_use_failure && [ "$attempt" -lt 3 ]; then
			echo "apiserver.sh: a port was taken meanwhile; trying other ports" >&2
			continue
		fi
		die "start failed (logs: $DIR/etcd.log, $DIR/apiserver.log)"
	done
}

cmd_restart() {
	local token=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--token) [ $# -ge 2 ] || usage; token=$2; shift ;;
		*) echo "apiserver.sh: unknown option '$1'" >&2; usage ;;
		esac
		shift
	done
	need_bins
	load_state
	pid_alive "$DIR/etcd.pid" etcd || die "etcd does not run in $DIR: use start"
	stop_pid "$DIR/apiserver.pid" kube-apiserver
	if [ -n "$token" ]; then
		check_token "$token"
		write_tokens "$token"
	fi
	echo "--- restart $(date -u +%FT%TZ) ---" >>"$DIR/apiserver.log"
	start_apiserver
	if ! apiserver_ready; then
		stop_pid "$DIR/apiserver.pid" kube-apiserver
		die "kube-apiserver did not come back (log: $DIR/apiserver.log)"
	fi
	echo "apiserver.sh: restarted at https://127.0.0.1:$APISERVER_PORT"
}

cmd_stop_apiserver() {
	[ $# -eq 0 ] || usage
	stop_pid "$DIR/apiserver.pid" kube-apiserver
}

cmd_stop() {
	local wd
	[ $# -eq 0 ] || usage
	if [ -f "$DIR/watchdog.pid" ]; then
		wd=$(cat "$DIR/watchdog.pid" 2>/dev/null || true)
		rm -f "$DIR/watchdog.pid"
		[ -z "$wd" ] || kill "$wd" 2>/dev/null || true
	fi
	stop_pid "$DIR/apiserver.pid" kube-apiserver
	stop_pid "$DIR/etcd.pid" etcd
}

cmd_status() {
	[ $# -eq 0 ] || usage
	load_state
	pid_alive "$DIR/apiserver.pid" kube-apiserver || exit 1
	[ "$(curl -s --max-time 5 --cacert "$DIR/ca.crt" \
		"https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null || true)" = ok ]
}

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
shift 2
case "$DIR" in
*[[:space:]\"\'\\]*) die "DIR must not contain whitespace or quotes: '$DIR'" ;;
esac
if [ "$CMD" = start ]; then
	mkdir -p "$DIR" || die "cannot make directory '$DIR'"
elif [ ! -d "$DIR" ]; then
	[ "$CMD" = stop ] && exit 0   # nothing was started there
	die "no directory '$DIR'"
fi
DIR=$(cd "$DIR" && pwd) || die "cannot use directory '$DIR'"

case "$CMD" in
start) cmd_start "$@" ;;
restart) cmd_restart "$@" ;;
stop-apiserver) cmd_stop_apiserver "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
*) usage ;;
esac
