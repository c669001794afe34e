#!/usr/bin/env bash
# scripts/soak.sh - a long run (30 minutes by default; not part of CI) of a
# steady mixed workload (tests/soak/zkc_soak.c: locks, counter, queue,
# writes followed by caches, clients opened and closed) against a local
# 3-node ensemble while servers are killed, frozen and restarted. Prints
# the workload process's resident memory, open file descriptors and
# threads over time, then whether they stayed flat after the warm-up.
#
# usage: scripts/soak.sh [--minutes N] [--interval SEC] [--fault-every SEC] [--build DIR]
#   --minutes N       length of the run (default 30)
#   --interval SEC    one sample per SEC seconds (default 30)
#   --fault-every SEC one fault per SEC seconds, in turn: the leader
#                     killed (restarted 10 s later), a follower frozen with
#                     SIGSTOP for 10 s, a follower restarted (default 60)
#   --build DIR       build directory with zkc and tests/soak/zkc_soak
#                     (default build; they are made if missing)
# Exit status: 0 when memory, descriptors and threads were flat after the
# warm-up (the first fifth of the run) and the workload still succeeded at
# the end; 1 otherwise; 2 for usage errors.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
minutes=30 interval=30 fault_every=60 build=build

while [ $# -gt 0 ]; do
	case "$1" in
	--minutes) minutes=${2:-}; shift 2 ;;
	--interval) interval=${2:-}; shift 2 ;;
	--fault-every) fault_every=${2:-}; shift 2 ;;
	--build) build=${2:-}; shift 2 ;;
	-h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
for v in "$minutes" "$interval" "$fault_every"; do
	case "$v" in ''|*[!0-9]*|0) echo "soak.sh: --minutes, --interval and --fault-every want positive integers" >&2; exit 2 ;; esac
done

make -C "$build" -s zkc tests/soak/zkc_soak >/dev/null || { echo "soak.sh: build failed in $build" >&2; exit 1; }
ZKC=$ROOT/$build/zkc
[ -x "$ZKC" ] || ZKC=$build/zkc
SOAK=$(dirname "$ZKC")/tests/soak/zkc_soak

ensdir=$(mktemp -d -u "${TMPDIR:-/tmp}/zkc-soak.XXXXXX")
out=$(mktemp)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	"$ZKC" ensemble down --dir "$ensdir" >/dev/null 2>&1
	rm -f "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ZKC_URL=$("$ZKC" ensemble up --nodes 3 --dir "$ensdir") || { echo "soak.sh: no ensemble" >&2; exit 1; }
export ZKC_URL
echo "soak.sh: $minutes min, a sample every ${interval}s, a fault every ${fault_every}s; ensemble $ZKC_URL ($ensdir)"
"$SOAK" "$interval" >"$out" 2>&1 &
pid=$!

# SERVER id (1-based) of a node that does not lead, for the follower faults.
follower() {
	"$ZKC" ensemble status --dir "$ensdir" | awk '$5 == "follower" { print $1; exit }'
}

samples=0
undo="" undo_at=0 fault_n=0 faults=""
start=$SECONDS end=$((SECONDS + minutes * 60)) next_sample=$((SECONDS + interval))
next_fault=$((SECONDS + fault_every))
declare -a S_RSS S_FD S_THR S_OPS
printf '%6s %10s %5s %7s %10s %10s %8s  %s\n' min rss_kB fds threads ok failed opens "faults since last"
while [ $SECONDS -lt $end ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "soak.sh: the workload died:"; cat "$out"; exit 1
	fi
	if [ -n "$undo" ] && [ $SECONDS -ge $undo_at ]; then
		eval "$undo" >/dev/null 2>&1 || echo "soak.sh: could not undo: $undo"
		undo=""
	fi
	if [ -z "$undo" ] && [ $SECONDS -ge $next_fault ]; then
		case $((fault_n % 3)) in
		0) "$ZKC" ensemble kill --dir "$ensdir" leader >/dev/null 2>&1 &&
			{ faults="$faults kill-leader"; f=$("$ZKC" ensemble status --dir "$ensdir" | awk '$4 != "running" { print $1; exit }');
			  undo="\"$ZKC\" ensemble restart --dir \"$ensdir\" $f"; undo_at=$((SECONDS + 10)); } ;;
		1) f=$(follower); [ -n "$f" ] && "$ZKC" ensemble stop --dir "$ensdir" "$f" >/dev/null 2>&1 &&
			{ faults="$faults stop-$f"; undo="\"$ZKC\" ensemble cont --dir \"$ensdir\" $f"; undo_at=$((SECONDS + 10)); } ;;
		2) f=$(follower); [ -n "$f" ] && "$ZKC" ensemble restart --dir "$ensdir" "$f" >/dev/null 2>&1 &&
			faults="$faults restart-$f" ;;
		esac
		fault_n=$((fault_n + 1))
		next_fault=$((SECONDS + fault_every))
	fi
	if [ $SECONDS -ge $next_sample ]; then
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		fds=$(ls "/proc/$pid/fd" | wc -l)
		thr=$(ls "/proc/$pid/task" | wc -l)
		read -r _ ops _ ok _ failed _ opens < <(tail -n 1 "$out")
		S_RSS[samples]=$rss S_FD[samples]=$fds S_THR[samples]=$thr S_OPS[samples]=${ok:-0}
		printf '%6.1f %10s %5s %7s %10s %10s %8s  %s\n' "$(awk -v s=$((SECONDS - start)) 'BEGIN { print s / 60 }')" \
			"$rss" "$fds" "$thr" "${ok:-0}" "${failed:-0}" "${opens:-0}" "${faults:-"-"}"
		faults=""
		samples=$((samples + 1))
		next_sample=$((SECONDS + interval))
	fi
	sleep 1
done
[ -n "$undo" ] && eval "$undo" >/dev/null 2>&1

if [ $samples -lt 3 ]; then
	echo "soak.sh: only $samples samples: run longer or sample more often"; exit 1
fi
# Warm-up: the first fifth of the samples (at least one). Descriptors and
# threads move with the moment of a sample (the churn client may be open,
# a client may be between connections), so they are compared by their
# highest value in the first and the last third after the warm-up: flat
# when the last third's is no higher. RSS: the last sample within 5 MiB of
# the warm-up's last, and never above it by more than 8 MiB.
w=$(( samples / 5 )); [ $w -lt 1 ] && w=1
base=$((w - 1)) last=$((samples - 1))
third=$(( (samples - w) / 3 )); [ $third -lt 1 ] && third=1
max_rss=0 fd_a=0 fd_b=0 thr_a=0 thr_b=0
for ((i = w; i < samples; i++)); do
	[ "${S_RSS[i]}" -gt $max_rss ] && max_rss=${S_RSS[i]}
	if [ $i -lt $((w + third)) ]; then
		[ "${S_FD[i]}" -gt $fd_a ] && fd_a=${S_FD[i]}
		[ "${S_THR[i]}" -gt $thr_a ] && thr_a=${S_THR[i]}
	fi
	if [ $i -ge $((samples - third)) ]; then
		[ "${S_FD[i]}" -gt $fd_b ] && fd_b=${S_FD[i]}
		[ "${S_THR[i]}" -gt $thr_b ] && thr_b=${S_THR[i]}
	fi
done
d_rss=$((S_RSS[last] - S_RSS[base]))
progress=$((S_OPS[last] - S_OPS[last - 1]))
echo ""
echo "after warm-up (sample $((base + 1)) of $samples) to the end: RSS ${S_RSS[base]} -> ${S_RSS[last]} kB ($d_rss kB, max $max_rss),"
echo "  highest fds in the first / last third after it: $fd_a / $fd_b, threads: $thr_a / $thr_b,"
echo "  $progress operations succeeded in the last interval; faults injected: $fault_n"
verdict=flat
if [ $d_rss -gt 5120 ] || [ $((max_rss - S_RSS[base])) -gt 8192 ] || [ $fd_b -gt $fd_a ] ||
	[ $thr_b -gt $thr_a ]; then
	verdict=growing
fi
[ $progress -gt 0 ] || verdict="stalled"
echo "soak.sh: $verdict"
[ "$verdict" = flat ]
