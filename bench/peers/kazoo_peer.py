"""bench/peers/kazoo_peer.py - kazoo's side of `bench/run peers`: the same
scenarios, arguments and JSON line as bench/peers/zkc_peer.c. kazoo's own
recipes (Lock, Counter, Queue, TreeCache); several clients are separate
processes (one thread each would share one interpreter lock)."""
import argparse
import json
import logging
import multiprocessing as mp
import os
import resource
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError
from kazoo.recipe.cache import TreeCache, TreeEvent
from kazoo.retry import KazooRetry

PIPELINE = 100


def cpu_seconds():
    # children included: the client processes of a multi-client run
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def route_kazoo_log(path):
    """kazoo's own log goes to PATH (appended), only its errors also to
    stderr: with no handler, Python prints kazoo's warnings on stderr
    ("Connection dropped" at every server loss, as in the failover
    scenario), between the bench's own lines. Without PATH, nothing
    changes. The bench program's own errors are not kazoo's log: they
    still reach stderr as before."""
    log = logging.getLogger("kazoo")
    if not path or log.handlers:   # a forked client has its parent's
        return
    log.setLevel(logging.INFO)
    log.propagate = False
    to_file = logging.FileHandler(path)
    to_file.setFormatter(logging.Formatter(
        "%(asctime)s pid %(process)d %(name)s %(levelname)s %(message)s"))
    log.addHandler(to_file)
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)
    errors.setFormatter(logging.Formatter("kazoo: %(levelname)s %(name)s: %(message)s"))
    log.addHandler(errors)


def open_client(args):
    route_kazoo_log(args.kazoo_log)   # again in a client process not forked
    zk = KazooClient(hosts=args.connect, timeout=10.0)
    zk.start(timeout=30)
    return zk


def node_path(args):
    return args.root + "/node"


def client_loop(args, idx, t_start, t_end, out):
    """One client: runs its scenario until t_end, puts (counts, samples)."""
    zk = open_client(args)
    windows = [0] * (int(args.seconds) + 1)
    samples = []
    s = args.scenario

    def record(t0, t1, n=1):
        if t1 >= t_end:
            return False
        if t1 >= t_start:
            w = int(t1 - t_start)
            if w < len(windows):
                windows[w] += n
            if idx == 0:
                samples.extend([t1 - t0] * n)
        return True

    if s in ("lock", "handoff"):
        lock = zk.Lock(args.root + "/lock", identifier="bench-%d" % idx)
        while True:
            t0 = time.monotonic()
            lock.acquire()
            lock.release()
            if not record(t0, time.monotonic()):
                break
    elif s == "counter":
        counter = zk.Counter(args.root + "/counter")
        while True:
            t0 = time.monotonic()
            counter += 1
            if not record(t0, time.monotonic()):
                break
    elif s == "queue":
        q = zk.Queue(args.root + "/queue-%d" % idx)
        while True:
            t0 = time.monotonic()
            q.put(b"item")
            while q.get() is None:
                pass
            if not record(t0, time.monotonic()):
                break
    elif s == "failover":
        # sequential sets, each retried with kazoo's own retry helper until
        # it succeeds while bench/peers/run kills the leader
        path = node_path(args)
        retry = KazooRetry(max_tries=-1, delay=0.01, max_delay=0.5)
        while True:
            t0 = time.monotonic()
            retry(zk.set, path, b"\0" * 100)
            if not record(t0, time.monotonic()):
                break
    elif s == "get":
        path = node_path(args)
        while True:
            t0 = time.monotonic()
            zk.get(path)
            if not record(t0, time.monotonic()):
                break
    elif s == "pipelined_get":
        path = node_path(args)
        while True:
            t0 = time.monotonic()
            pending = [zk.get_async(path) for _ in range(PIPELINE)]
            for p in pending:
                p.get()
            if not record(t0, time.monotonic(), PIPELINE):
                break
    zk.stop()
    zk.close()
    out.put((idx, windows, samples))


def pct(samples, p):
    if not samples:
        return -1
    return samples[int(p * (len(samples) - 1))] * 1e6


def report(args, windows, samples, cpu, extra=None, label=None):
    per = [sum(w) for w in windows]
    full = int(args.seconds)
    min_window = min((w[i] for w in windows for i in range(min(full, len(w)))), default=-1)
    samples.sort()
    total = sum(per)
    out = {
        "peer": "kazoo", "scenario": args.scenario, "clients": args.clients,
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


def run_clients(args):
    t_start = time.monotonic() + args.warmup + 1.0 + 0.5 * args.clients  # time to connect
    t_end = t_start + args.seconds
    q = mp.Queue()
    cpu0 = cpu_seconds()
    procs = [mp.Process(target=client_loop, args=(args, i, t_start, t_end, q))
             for i in range(args.clients)]
    for p in procs:
        p.start()
    results = [q.get(timeout=args.seconds + args.warmup + 120) for _ in procs]
    for p in procs:
        p.join()
    results.sort()
    windows = [r[1] for r in results]
    samples = results[0][2]
    # CPU of the measured part is not separable per process here: the
    # clients' whole life (connect and warm-up included) scaled to the
    # measured share of their run time.
    cpu = (cpu_seconds() - cpu0) * args.seconds / (t_end - (t_start - args.warmup))
    label = {"queue": "kazoo Queue (put, get)", "counter": "kazoo Counter",
             "lock": "kazoo Lock", "handoff": "kazoo Lock",
             "failover": "set with KazooRetry"}.get(args.scenario)
    report(args, windows, samples, cpu, label=label)


def cache_scenario(args):
    zk = open_client(args)
    writer = open_client(args)
    path = node_path(args)
    seen = {}
    cv = threading.Condition()

    def listener(event):
        if event.event_type == TreeEvent.NODE_UPDATED and event.event_data.path == path:
            with cv:
                seen[event.event_data.stat.version] = time.monotonic()
                cv.notify_all()

    cache = TreeCache(zk, path)
    cache.listen(listener)
    cache.start()
    deadline = time.monotonic() + 30
    while cache.get_data(path) is None:
        if time.monotonic() > deadline:
            sys.exit("kazoo_peer cache: the TreeCache did not load in 30 s")
        time.sleep(0.01)
    end = time.monotonic() + args.warmup
    while time.monotonic() < end:
        cache.get_data(path)
    samples = []
    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    end = t0 + args.seconds
    reads = 0
    while True:
        a = time.monotonic()
        cache.get_data(path).data
        b = time.monotonic()
        samples.append(b - a)
        reads += 1
        if b >= end:
            break
    cpu = cpu_seconds() - cpu0
    args.seconds = time.monotonic() - t0
    prop = []
    for _ in range(200):
        st = writer.set(path, b"\0" * 100)
        acked = time.monotonic()
        with cv:
            cv.wait_for(lambda: st.version in seen, timeout=10)
            if st.version in seen:
                prop.append(max(0.0, seen[st.version] - acked))
    prop.sort()
    cache.close()
    writer.stop()
    zk.stop()
    report(args, [[reads]], samples, cpu, label="kazoo TreeCache",
           extra={"change_to_cache_p50_us": prop[len(prop) // 2] * 1e6 if prop else -1,
                  "change_to_cache_n": len(prop)})


def treeload(args):
    """Time from TreeCache.start() to its INITIALIZED event over an
    existing tree at --root (made by bench/scale/zkc_scale)."""
    zk = open_client(args)
    done = threading.Event()

    def listener(event):
        if event.event_type == TreeEvent.INITIALIZED:
            done.set()

    cache = TreeCache(zk, args.root)
    cache.listen(listener)
    t0 = time.monotonic()
    cache.start()
    if not done.wait(600):
        sys.exit("kazoo_peer treeload: not initialized in 600 s")
    load_ms = (time.monotonic() - t0) * 1e3
    print(json.dumps({"peer": "kazoo", "scenario": "treeload", "load_ms": load_ms,
                      "implementation": "kazoo TreeCache"}), flush=True)
    cache.close()
    zk.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--scenario", required=True,
                    choices=["lock", "handoff", "counter", "queue", "get", "pipelined_get", "cache",
                             "failover", "treeload"])
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--root", default="/bench-peers-kazoo-%d" % os.getpid())
    ap.add_argument("--kazoo-log", metavar="FILE",
                    help="append kazoo's own log here (its errors also go to stderr)")
    args = ap.parse_args()
    route_kazoo_log(args.kazoo_log)
    if args.scenario == "treeload":
        treeload(args)
        return
    admin = open_client(args)
    admin.ensure_path(args.root)
    if args.scenario in ("get", "pipelined_get", "cache", "failover"):
        try:
            admin.create(node_path(args), b"\0" * 100)
        except NodeExistsError:
            pass
    if args.scenario == "cache":
        cache_scenario(args)
    else:
        run_clients(args)
    admin.delete(args.root, recursive=True)
    admin.stop()
    admin.close()


if __name__ == "__main__":
    main()
