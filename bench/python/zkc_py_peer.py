"""bench/python/zkc_py_peer.py - the Python binding's side of the peer
benchmarks: the scenarios, arguments and JSON line of
bench/peers/kazoo_peer.py (and zkc_peer.c), run with `import zkc`.
Several clients are separate processes, as kazoo's are."""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import zkc
import zkc.aio

PIPELINE = 100


def cpu_seconds() -> float:
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def open_client(args: argparse.Namespace) -> zkc.Client:
    return zkc.Client(f"zk://{args.connect}", session_timeout=10, connect_timeout=30)


def node_path(args: argparse.Namespace) -> str:
    return args.root + "/node"


async def aio_pipelined_get(args: argparse.Namespace, record: Any) -> None:
    """A batch of 100 gets awaited on an asyncio loop, again and again: 100
    requests in flight, as in pipelined_get and kazoo's."""
    async with zkc.aio.Client(f"zk://{args.connect}", session_timeout=10,
                              connect_timeout=30) as client:
        path = node_path(args)
        mono = time.monotonic

        b = client.batch()
        while True:
            t0 = mono()
            for _ in range(PIPELINE):
                b.get(path)
            await b.run()
            if not record(t0, mono(), PIPELINE):
                break
        b.free()


def client_loop(args: argparse.Namespace, idx: int, t_start: float, t_end: float,
                out: Any) -> None:
    windows = [0] * (int(args.seconds) + 1)
    samples: List[float] = []
    s = args.scenario

    def record(t0: float, t1: float, n: int = 1) -> bool:
        if t1 >= t_end:
            return False
        if t1 >= t_start:
            w = int(t1 - t_start)
            if w < len(windows):
                windows[w] += n
            if idx == 0:
                samples.extend([t1 - t0] * n)
        return True

    if s == "aio_pipelined_get":
        asyncio.run(aio_pipelined_get(args, record))
        out.put((idx, windows, samples))
        return
    zk = open_client(args)
    mono = time.monotonic
    if s in ("lock", "handoff", "lock_sticky"):
        lock = zk.lock(args.root + "/lock", sticky=(s == "lock_sticky"))
        while True:
            t0 = mono()
            lock.acquire()
            lock.release()
            if not record(t0, mono()):
                break
        lock.close()
    elif s == "counter":
        counter = zk.counter(args.root + "/counter")
        while True:
            t0 = mono()
            counter.add(1)
            if not record(t0, mono()):
                break
        counter.close()
    elif s == "queue":
        q = zk.queue(args.root + "/queue-%d" % idx)
        while True:
            t0 = mono()
            q.put(b"item")
            q.take(ack=False)
            if not record(t0, mono()):
                break
        q.close()
    elif s == "failover":
        # sequential sets while bench/peers/run kills the leader: the
        # client's own retry first, then again until the set succeeds (as
        # zkc_peer.c), so max_us is the longest a write waited
        path = node_path(args)
        data = b"\0" * 100
        retried = (zkc.ConnectionLossError, zkc.TimeoutError, zkc.UnknownOutcomeError,
                   zkc.SessionExpiredError)
        while True:
            t0 = mono()
            while True:
                try:
                    zk.set(path, data)
                    break
                except retried:
                    pass
            if not record(t0, mono()):
                break
    elif s == "get":
        path = node_path(args)
        get = zk.get
        while True:
            t0 = mono()
            get(path)
            if not record(t0, mono()):
                break
    elif s == "pipelined_get":
        path = node_path(args)
        b = zk.batch()
        while True:
            t0 = mono()
            for _ in range(PIPELINE):
                b.get(path)
            b.run()
            if not record(t0, mono(), PIPELINE):
                break
        b.free()
    elif s == "state":
        # no round trip: the binding's own cost per call
        while True:
            t0 = mono()
            for _ in range(PIPELINE):
                zk.state
            if not record(t0, mono(), PIPELINE):
                break
    zk.close()
    out.put((idx, windows, samples))


def pct(samples: List[float], p: float) -> float:
    if not samples:
        return -1
    return samples[int(p * (len(samples) - 1))] * 1e6


def report(args: argparse.Namespace, windows: List[List[int]], samples: List[float], cpu: float,
           extra: Optional[Dict[str, Any]] = None, label: Optional[str] = None) -> None:
    per = [sum(w) for w in windows]
    full = int(args.seconds)
    min_window = min((w[i] for w in windows for i in range(min(full, len(w)))), default=-1)
    samples.sort()
    total = sum(per)
    out: Dict[str, Any] = {
        "peer": "zkc-python", "scenario": args.scenario, "clients": args.clients,
        "seconds": args.seconds, "ops": total, "rate_per_s": total / args.seconds,
        "p50_us": pct(samples, 0.5), "p99_us": pct(samples, 0.99),
        "max_us": pct(samples, 1.0),
        "cpu_us_per_op": cpu / total * 1e6 if total else -1,
        "min_window_ops": min_window, "per_client": per,
    }
    if label:
        out["implementation"] = label
    out.update(extra or {})
    print(json.dumps(out), flush=True)


def run_clients(args: argparse.Namespace) -> None:
    t_start = time.monotonic() + args.warmup + 1.0 + 0.5 * args.clients
    t_end = t_start + args.seconds
    q: Any = mp.Queue()
    cpu0 = cpu_seconds()
    procs = [mp.Process(target=client_loop, args=(args, i, t_start, t_end, q))
             for i in range(args.clients)]
    for p in procs:
        p.start()
    results = [q.get(timeout=args.seconds + args.warmup + 120) for _ in procs]
    for p in procs:
        p.join()
    results.sort()
    cpu = (cpu_seconds() - cpu0) * args.seconds / (t_end - (t_start - args.warmup))
    label = {"queue": "zkc.Queue (put, take)", "counter": "zkc.Counter", "lock": "zkc.Lock",
             "lock_sticky": "zkc.Lock(sticky=True)", "handoff": "zkc.Lock",
             "failover": "set (the client's retry, then again)",
             "pipelined_get": "zkc.Batch of 100 gets",
             "aio_pipelined_get": "zkc.aio.Batch of 100 gets",
             "state": "client.state (no round trip)"}.get(args.scenario)
    report(args, [r[1] for r in results], results[0][2], cpu, label=label)


def cache_scenario(args: argparse.Namespace) -> None:
    zk = open_client(args)
    writer = open_client(args)
    path = node_path(args)
    seen: Dict[int, float] = {}
    cv = threading.Condition()
    cache = zk.cache(path)

    def listener(ev: zkc.CacheEvent) -> None:
        if ev.type == "UPDATED" and ev.path == path:
            st = cache.stat(path)
            if st is not None:
                with cv:
                    seen[st.version] = time.monotonic()
                    cv.notify_all()

    cache.listen(listener)
    cache.wait_initialized(30)
    end = time.monotonic() + args.warmup
    while time.monotonic() < end:
        cache[path]
    samples: List[float] = []
    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    end = t0 + args.seconds
    reads = 0
    mono = time.monotonic
    while True:
        a = mono()
        cache[path]
        b = mono()
        samples.append(b - a)
        reads += 1
        if b >= end:
            break
    cpu = cpu_seconds() - cpu0
    args.seconds = time.monotonic() - t0
    prop: List[float] = []
    for _ in range(200):
        st = writer.set(path, b"\0" * 100)
        acked = time.monotonic()
        with cv:
            cv.wait_for(lambda: st.version in seen, timeout=10)
            if st.version in seen:
                prop.append(max(0.0, seen[st.version] - acked))
    prop.sort()
    cache.close()
    writer.close()
    zk.close()
    report(args, [[reads]], samples, cpu, label="zkc.Cache",
           extra={"change_to_cache_p50_us": prop[len(prop) // 2] * 1e6 if prop else -1,
                  "change_to_cache_n": len(prop)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--scenario", required=True,
                    choices=["lock", "lock_sticky", "handoff", "counter", "queue", "get",
                             "pipelined_get", "aio_pipelined_get", "cache", "failover",
                             "state"])
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--root", default="/bench-peers-zkcpy-%d" % os.getpid())
    args = ap.parse_args()
    admin = open_client(args)
    admin.ensure_path(args.root)
    if args.scenario in ("get", "pipelined_get", "aio_pipelined_get", "cache", "failover"):
        try:
            admin.create(node_path(args), b"\0" * 100)
        except zkc.NodeExistsError:
            pass
    if args.scenario == "cache":
        cache_scenario(args)
    else:
        # the clients are forked: no client (and none of its threads) may
        # run in this process meanwhile, or a child could inherit a lock
        # that one of them held at the fork
        admin.close()
        run_clients(args)
        admin = open_client(args)
    admin.delete(args.root, recursive=True)
    admin.close()


if __name__ == "__main__":
    sys.exit(main())
