#!/usr/bin/env python3
"""A worker that does its job only while it holds a lock, and stops when the
lock may be lost: run several at once against the same ZooKeeper.

    ZKC_URL=zk://127.0.0.1:2181 python3 examples/python/lock_worker.py /demo/lock 3
"""
from __future__ import annotations

import os
import sys
import time

import zkc


def main() -> int:
    lock_path = sys.argv[1] if len(sys.argv) > 1 else "/examples/python/lock"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    owner = lock_path + "-owner"  # the lock directory itself must hold no data
    with zkc.Client() as client:
        client.ensure_path(owner)
        lock = client.lock(lock_path, timeout=30)
        lock.add_listener(lambda ev: print(f"[{os.getpid()}] lock event: {ev.name}"))
        for n in range(rounds):
            with lock as lease:
                print(f"[{os.getpid()}] round {n}: holding {lease.path} (token {lease.token})")
                # writes guarded by the lock commit only while it is held
                with lease.fence() as t:
                    t.set(owner, f"{os.getpid()} round {n}".encode())
                time.sleep(0.1)
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
