#!/usr/bin/env bash
# bench/peers/zkcgo/count.sh - what one operation costs a peer program in
# counts that do not depend on the machine's load as its rate does: system
# calls (all, futex, poll, socket reads and writes), context switches and
# CPU time per operation, from `perf stat` (software events and syscall
# tracepoints; needs perf and root or perf_event_paranoid <= -1).
#
# usage: bench/peers/zkcgo/count.sh HOST:PORT SCENARIO PROGRAM [CLIENTS]
#   PROGRAM is a peer of bench/peers (build/bench/peers/.libs/zkc_peer,
#   build/peers-zkcgo, build/peers-gozk); it runs SCENARIO for 3 s
#   ($COUNT_SECONDS) without warm-up, so its start (a session, a node or
#   two) is counted too: a few hundred calls against thousands of ops.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
connect=$1 scenario=$2 program=$3 clients=${4:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
events=raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_poll
events=$events,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_nanosleep
events=$events,syscalls:sys_enter_read,syscalls:sys_enter_write
events=$events,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
events=$events,context-switches,task-clock
perf stat -x, -o "$tmp/stat" -e "$events" "$program" --connect "$connect" \
	--scenario "$scenario" --clients "$clients" --seconds "${COUNT_SECONDS:-3}" \
	--warmup 0 --root "/bench-count-$$" >"$tmp/line"
python3 - "$tmp/stat" "$tmp/line" <<'PY'
import csv, json, sys
line = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
ops = line["ops"]
names = {"raw_syscalls:sys_enter": "syscalls", "task-clock": "cpu_us"}
out = {"peer": line["peer"], "scenario": line["scenario"], "clients": line["clients"],
       "ops": ops, "rate_per_s": round(line["rate_per_s"], 1)}
rows = csv.reader(l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#"))
for row in rows:
    if not row or not row[0].replace(".", "").isdigit():
        continue
    name = names.get(row[2], row[2].replace("syscalls:sys_enter_", ""))
    value = float(row[0]) * (1000 if name == "cpu_us" else 1)   # task-clock is in ms
    out[name + "_per_op"] = round(value / ops, 2) if ops else None
print(json.dumps(out))
PY
