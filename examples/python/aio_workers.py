#!/usr/bin/env python3
"""asyncio: producers put jobs on a queue, consumers take and ack them, and a
counter tallies the work, all on one event loop.

    ZKC_URL=zk://127.0.0.1:2181 python3 examples/python/aio_workers.py
"""
from __future__ import annotations

import asyncio
import os

import zkc
import zkc.aio


async def main() -> None:
    base = f"/examples/python/aio-{os.getpid()}"
    async with zkc.aio.Client() as client:
        jobs = client.queue(f"{base}/jobs")
        done = client.counter(f"{base}/done")

        async def consumer(name: str) -> None:
            while True:
                try:
                    item = await jobs.take(timeout=1.0)
                except zkc.TimeoutError:
                    return
                await done.add(1)
                await jobs.ack(item)
                print(name, "did", item.data.decode())

        await jobs.put_many([f"job-{i}".encode() for i in range(10)])
        await asyncio.gather(*(consumer(f"consumer-{i}") for i in range(3)))
        print("jobs done:", await done.get())
        jobs.close()
        done.close()
        await client.delete(base, recursive=True)


if __name__ == "__main__":
    asyncio.run(main())
