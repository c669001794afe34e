#!/usr/bin/env python3
"""Follows a configuration subtree through a local cache: reads cost no round
trip, changes arrive as events.

    ZKC_URL=zk://127.0.0.1:2181 python3 examples/python/config_watch.py /demo/config 10
"""
from __future__ import annotations

import sys

import zkc


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "/examples/python/config"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    with zkc.Client() as client:
        client.ensure_path(root)
        with client.cache(root) as cache:
            cache.wait_initialized(30)
            for name in cache.children(root):
                print(f"{root}/{name} = {cache[f'{root}/{name}']!r}")
            print(f"following {root} for {seconds:g}s of quiet")
            for ev in cache.events(timeout=seconds):
                value = cache.get(ev.path) if ev.path else None
                print(ev.type, ev.path, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
