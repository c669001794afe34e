"""zkc.aio on a real ensemble: awaited calls, watches and events on the
loop, async locks, cancellation that reaches the C wait."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, List, TypeVar

import pytest

import zkc
import zkc.aio
from conftest import TIMEOUT

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT * 2))


def test_aio_nodes_and_watch(ensemble_url: str, path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url) as client:
            assert client.state == zkc.State.CONNECTED
            await client.create(path, b"a", makepath=True)
            data, stat = await client.get(path)
            assert data == b"a" and stat.version == 0
            loop_thread = threading.current_thread()
            fired = asyncio.get_running_loop().create_future()

            def on(ev: zkc.WatchedEvent) -> None:
                assert threading.current_thread() is loop_thread  # runs on the loop
                fired.set_result(ev)

            await client.get(path, watch=on)
            await client.set(path, b"b")
            ev = await asyncio.wait_for(fired, TIMEOUT)
            assert ev.type == zkc.EventType.CHANGED and ev.path == path
            assert await client.exists(path + "/none") is None
            with pytest.raises(zkc.NoNodeError):
                await client.get(path + "/none")
            async with client.transaction() as t:
                t.create(path + "/x", b"1")
                t.set(path, b"c")
            assert t.results is not None and t.results[0] == path + "/x"
            b = client.batch()
            b.get(path)
            b.children(path)
            r = await b.run()
            assert r[0][0] == b"c" and r[1] == ["x"]
            # many concurrent awaits share the fixed pool
            results = await asyncio.gather(*(client.get(path) for _ in range(50)))
            assert all(d == b"c" for d, _ in results)
        assert client.state == zkc.State.CLOSED
    run(main())


def test_aio_batches_come_back_through_the_loop_without_a_thread(ensemble_url: str,
                                                                   path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url, workers=1) as client, \
                zkc.aio.Client(ensemble_url) as other:
            await client.create(path + "/n", b"v", makepath=True)
            # the only worker thread waits for a lock the other client holds
            held = other.lock(path + "/lock")
            await held.acquire()
            waiter = asyncio.ensure_future(client.lock(path + "/lock").acquire(timeout=TIMEOUT))
            while len(await other.children(path + "/lock")) < 2:
                await asyncio.sleep(0.01)
            # ... and batches still run: nothing of theirs waits on a thread
            batches = []
            for i in range(20):
                b = client.batch()
                b.get(path + "/n")
                b.exists(path + "/none")
                b.create(path + "/c-%d" % i, b"x")
                batches.append(b)
            results = await asyncio.gather(*(b.run() for b in batches))
            assert not waiter.done()
            for i, r in enumerate(results):
                assert r[0][0] == b"v" and r[1] is None and r[2] == path + "/c-%d" % i
            # a batch that came back is reusable; a watch set in it fires on the loop
            fired = asyncio.get_running_loop().create_future()
            b = batches[0]
            b.get(path + "/n", watch=fired.set_result)
            b.children(path)
            r = await b.run()
            assert r[0][0] == b"v" and len(r[1]) == 22
            await other.set(path + "/n", b"w")
            ev = await asyncio.wait_for(fired, TIMEOUT)
            assert ev.type == zkc.EventType.CHANGED
            # a cancelled run is dropped when it comes back; the client goes on
            c = client.batch()
            c.get(path + "/n")
            task = asyncio.ensure_future(c.run())
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            c.free()
            d = client.batch()
            d.get(path + "/n")
            assert (await d.run())[0][0] == b"w"
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            held.release(sync=True)
        # close with batches in flight: their awaits end with ClosedError
        client = await zkc.aio.connect(ensemble_url)
        flying = []
        for _ in range(5):
            b = client.batch()
            for _ in range(50):
                b.exists(path)
            flying.append(asyncio.ensure_future(b.run()))
        await asyncio.sleep(0)
        await client.close()
        for f in flying:
            try:
                assert len(await f) == 50  # answered before the close
            except zkc.ClosedError:
                pass
    run(main())


def test_aio_lock_and_cancellation(ensemble_url: str, path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url) as a, zkc.aio.Client(ensemble_url) as b:
            la = a.lock(path)
            lb = b.lock(path)
            async with la as lease:
                assert lease.token > 0 and la.valid
                waiter = asyncio.ensure_future(lb.acquire(timeout=TIMEOUT))
                while len(await a.children(path)) < 2:
                    await asyncio.sleep(0.01)
                waiter.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiter
                # the cancelled acquire deleted its node
                deadline = asyncio.get_running_loop().time() + TIMEOUT
                while len(await a.children(path)) != 1:
                    assert asyncio.get_running_loop().time() < deadline
                    await asyncio.sleep(0.01)
            async with lb as lease2:
                assert lease2.token > lease.token
    run(main())


def test_aio_cache_events(ensemble_url: str, path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url) as client:
            await client.create(path + "/a", b"A", makepath=True)
            async with await client.cache(path) as cache:
                assert cache[path + "/a"] == b"A" and path + "/a" in cache
                events = cache.events()
                await client.create(path + "/b", b"B")
                seen: List[zkc.CacheEvent] = []
                async for ev in events:
                    seen.append(ev)
                    if ev.path == path + "/b":
                        break
                assert seen[-1].type == "ADDED"
                assert cache[path + "/b"] == b"B"
    run(main())


def test_aio_recipes(ensemble_url: str, path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url) as client:
            counter = client.counter(path + "/n")
            vals = await asyncio.gather(*(counter.add(1) for _ in range(20)))
            assert sorted(vals) == list(range(1, 21)) and await counter.get() == 20
            q = client.queue(path + "/q")
            await q.put(b"job")
            item = await q.take(timeout=TIMEOUT)
            assert item.data == b"job"
            await q.ack(item)
            e = client.election(path + "/e", "me")
            await e.join()
            assert await e.await_leadership(TIMEOUT) > 0 and e.is_leader
            assert await e.leader() is not None
            await e.resign()
            states: List[zkc.State] = []
            client.add_listener(states.append)
            await client.expire_session(TIMEOUT)
            while zkc.State.CONNECTED not in states:
                await asyncio.sleep(0.01)
            assert zkc.State.LOST in states
    run(main())


def test_aio_election_events_on_the_loop(ensemble_url: str, path: str) -> None:
    async def main() -> None:
        async with zkc.aio.Client(ensemble_url) as a, zkc.aio.Client(ensemble_url) as b:
            e1 = a.election(path, "one")
            e2 = b.election(path, "two")
            loop_thread: List[threading.Thread] = []
            e2.add_listener(lambda ev: loop_thread.append(threading.current_thread()))
            events = e2.events()
            async with e1:
                epoch1 = await e1.await_leadership(TIMEOUT)
                await e2.join()
                await e1.resign()
                ev = await asyncio.wait_for(events.__anext__(), TIMEOUT)
            assert ev.type == zkc.LeadershipEvent.LEADER and ev.epoch > epoch1
            assert loop_thread == [threading.current_thread()]   # run on the loop
            e2.close()
    run(main())


def test_aio_connect_failure_is_clear() -> None:
    async def main() -> None:
        with pytest.raises(zkc.URLError):
            await zkc.aio.connect("nonsense://")
    run(main())
