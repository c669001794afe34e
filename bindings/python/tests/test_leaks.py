"""Resources: 10,000 open/close cycles without fd or memory growth, and
objects dropped without close collected without leaks."""
from __future__ import annotations

import gc
import tracemalloc
import weakref

import zkc
from zkc import _zkc_c
from conftest import fd_count, rss_kib

CYCLES = 10_000


def test_open_close_cycles_leak_nothing(ensemble_url: str) -> None:
    for _ in range(100):  # warm up allocator pools and thread stacks
        zkc.Client(ensemble_url, session_timeout=2).close()
    gc.collect()
    fds0, rss0 = fd_count(), rss_kib()
    for i in range(CYCLES):
        with zkc.Client(ensemble_url, session_timeout=2) as c:
            if i % 1000 == 0:
                assert c.exists("/") is not None
    gc.collect()
    assert _zkc_c.zkc_testing_open_clients() == 0
    assert fd_count() == fds0
    grown = rss_kib() - rss0
    assert grown < 16 * 1024, f"RSS grew {grown} KiB over {CYCLES} cycles"


def test_dropped_objects_are_collected(ensemble_url: str, path: str) -> None:
    def make() -> "weakref.ref[zkc.Client]":
        c = zkc.Client(ensemble_url)
        lock = c.lock(path + "/lock")
        lock.acquire()
        cache = c.cache(path)
        cache.wait_initialized(30)
        q = c.queue(path + "/q")
        q.put(b"x")
        item = q.take(timeout=30)
        c.counter(path + "/n").add(1)
        c.get("/", watch=lambda ev: None)
        c.transaction().create(path + "/t")
        c.batch().get("/")
        del lock, cache, q, item
        return weakref.ref(c)

    tracemalloc.start()
    ref = make()  # the first round imports and caches what later rounds reuse
    gc.collect()
    assert ref() is None
    snap0 = tracemalloc.take_snapshot()
    refs = [make() for _ in range(20)]
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert all(r() is None for r in refs), "a dropped client was not collected"
    assert _zkc_c.zkc_testing_open_clients() == 0
    zkc_files = [tracemalloc.Filter(True, "*zkc*")]
    diff = snap1.filter_traces(zkc_files).compare_to(snap0.filter_traces(zkc_files), "filename")
    grown = sum(d.size_diff for d in diff)
    assert grown < 32 * 1024, f"zkc's Python allocations grew {grown} bytes: {diff[:5]}"
