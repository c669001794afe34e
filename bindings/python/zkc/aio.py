"""asyncio for zkc: ``await client.get(...)``, ``async with client.lock(...)``,
``async for event in cache.events()``.

    async with zkc.aio.Client("zk://127.0.0.1:2181") as client:
        await client.create("/app/x", b"1", makepath=True)
        data, stat = await client.get("/app/x")
        async with client.lock("/app/lock", timeout=5) as lease:
            ...

Notifications (watches, state changes, cache and lock events) are read
from the C core's event queues by the loop itself (``loop.add_reader`` on
their file descriptors): callbacks run on the loop, no thread involved.
Batches (``client.batch()``, pipelined operations) are sent from the loop
and come back through the client's completion queue, whose descriptor the
loop watches too: ``await batch.run()`` uses no thread, so any number of
batches can be in flight at once. Other calls that wait for the servers
run on a small fixed pool of threads owned by the client (``workers``,
default 4) with the GIL released, never one thread per call; cancelling
the awaiting task fires a zkc cancellation token bound to that call, so the
C wait returns at once and cleans up (a cancelled lock acquire deletes its
node).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from typing import (Any, AsyncIterator, Callable, Dict, List, Optional, Sequence, Tuple,
                    TypeVar, Union)

from . import _zkc_c as _c
from . import _client as _sync
from . import _recipes as _r
from ._client import ACL, BytesLike, State, WatchedEvent, ZnodeStat
from ._errors import closed as _closed

T = TypeVar("T")


def _event_stream(handle: Any) -> AsyncIterator[Any]:
    """The iterator of an ``events()`` method: a queue in the synchronous
    handle's ``_queues`` (filled on the loop) registered now, not at the
    first ``__anext__``, left when the iteration ends; it ends when the
    handle is closed."""
    q: "asyncio.Queue[Any]" = asyncio.Queue()
    handle._queues.append(q)
    return _drain(handle, q)


async def _drain(handle: Any, q: "asyncio.Queue[T]") -> AsyncIterator[T]:
    try:
        while not handle.closed:
            yield await q.get()
    finally:
        handle._queues.remove(q)


class _Token:
    """A zkc cancellation token, fired and freed at most once."""

    def __init__(self) -> None:
        (self.ptr,) = _c.zkc_cancel_new()
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:
            if self.ptr is not None:
                _c.zkc_cancel_fire(self.ptr)

    def free(self) -> None:
        with self._lock:
            p, self.ptr = self.ptr, None
        if p is not None:
            _c.zkc_cancel_free(p)


class Client:
    """An asyncio ZooKeeper client; the options are :class:`zkc.Client`'s.
    ``async with zkc.aio.Client(url) as client:`` or
    ``client = await zkc.aio.connect(url)`` ... ``await client.close()``."""

    def __init__(self, url: Optional[str] = None, *, workers: int = 4, **options: Any) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self._url = url
        self._options = options
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                           thread_name_prefix="zkc-aio")
        self._sync: Optional[_sync.Client] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._readers: List[int] = []
        # batches in flight by tag: the waiting future and the batch
        self._inflight: Dict[int, Tuple["asyncio.Future[None]", _sync.Batch]] = {}
        self._tags = itertools.count(1)

    async def open(self) -> "Client":
        if self._sync is not None:
            return self
        loop = asyncio.get_running_loop()
        self._loop = loop
        url, options = self._url, self._options
        sync = await loop.run_in_executor(
            self._pool, lambda: _sync.Client(url, _loop_mode=True, **options))
        ev = sync._events
        ev.loop_add = self._add_reader
        ev.loop_remove = self._remove_reader
        self._add_reader(ev.fd, ev.drain)
        self._add_reader(_c.zkc_completions_fd(sync._handle()), self._completions)
        self._sync = sync
        return self

    def _completions(self) -> None:
        """Wakes the waiters of the batches that came back (on the loop)."""
        sync = self._sync
        if sync is None:
            return
        h = sync._handle()
        while True:
            code, _b, tag = _c.zkc_completions_next(h, 0)
            if code != 0:
                return
            waiter = self._inflight.pop(tag, None)
            if waiter is not None and not waiter[0].done():
                waiter[0].set_result(None)
            elif waiter is not None:
                waiter[1]._back(cancelled=True)

    async def _run_batch(self, batch: _sync.Batch) -> List[Any]:
        """Sends a batch from the loop and waits for it to come back
        through the completion queue; no thread involved."""
        assert self._loop is not None
        b = batch._batch()
        tag = next(self._tags)
        fut: "asyncio.Future[None]" = self._loop.create_future()
        batch._sent(b, tag)
        self._inflight[tag] = (fut, batch)
        # cancelled: zkc still owns the batch; _completions drops its
        # results when it comes back
        await fut
        return batch._back(cancelled=False)

    def _add_reader(self, fd: int, fn: Callable[[], None]) -> None:
        assert self._loop is not None
        self._loop.add_reader(fd, fn)
        self._readers.append(fd)

    def _remove_reader(self, fd: int) -> None:
        if self._loop is not None and fd in self._readers:
            self._loop.remove_reader(fd)
            self._readers.remove(fd)

    @property
    def sync(self) -> _sync.Client:
        """The underlying blocking client (for non-blocking reads)."""
        if self._sync is None:
            from ._errors import closed
            raise closed("client")
        return self._sync

    async def close(self) -> None:
        """Closes the session; calling it again does nothing."""
        sync, self._sync = self._sync, None
        if sync is None:
            return
        for fd in list(self._readers):
            self._remove_reader(fd)
        # zkc_close frees the batches still in flight or queued
        inflight, self._inflight = self._inflight, {}
        for fut, batch in inflight.values():
            batch._forget()
            if not fut.done():
                fut.set_exception(_closed("client"))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, sync.close)
        self._pool.shutdown(wait=False)

    async def __aenter__(self) -> "Client":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Runs a blocking call on the pool with a cancellation token bound
        to it; cancelling the awaiting task fires the token."""
        tok = _Token()

        def call() -> T:
            prev = _c.zkc_cancel_bind(tok.ptr)
            try:
                return fn(*args, **kw)
            finally:
                _c.zkc_cancel_bind(prev)

        cf = self._pool.submit(call)
        cf.add_done_callback(lambda _: tok.free())
        try:
            return await asyncio.wrap_future(cf)
        except asyncio.CancelledError:
            tok.fire()
            raise

    # ------------------------------------------------------------ state

    @property
    def state(self) -> State:
        return State.CLOSED if self._sync is None else self._sync.state

    def add_listener(self, fn: Callable[[State], Any]) -> None:
        """Calls ``fn(state)`` on the event loop at every state change."""
        self.sync.add_listener(fn)

    def remove_listener(self, fn: Callable[[State], Any]) -> None:
        self.sync.remove_listener(fn)

    async def states(self) -> AsyncIterator[State]:
        """State changes from now on, until CLOSED."""
        q: "asyncio.Queue[State]" = asyncio.Queue()
        waiters = self.sync._events.state_waiters
        waiters.append(q.put_nowait)
        try:
            while True:
                s = await q.get()
                yield s
                if s == State.CLOSED:
                    return
        finally:
            waiters.remove(q.put_nowait)

    async def wait_connected(self, timeout: Optional[float] = None) -> None:
        await self._run(self.sync.wait_connected, timeout)

    # ------------------------------------------------------------ nodes

    async def create(self, path: str, value: BytesLike = b"", **kw: Any) -> Any:
        return await self._run(self.sync.create, path, value, **kw)

    async def ensure_path(self, path: str) -> None:
        await self._run(self.sync.ensure_path, path)

    async def get(self, path: str,
                  watch: Optional[Callable[[WatchedEvent], Any]] = None) -> Tuple[bytes, ZnodeStat]:
        """Data and stat; ``watch(event)`` runs on the loop."""
        return await self._run(self.sync.get, path, watch)

    async def set(self, path: str, value: BytesLike, version: int = -1) -> ZnodeStat:
        return await self._run(self.sync.set, path, value, version)

    async def delete(self, path: str, version: int = -1, recursive: bool = False) -> None:
        await self._run(self.sync.delete, path, version, recursive)

    async def exists(self, path: str, watch: Optional[Callable[[WatchedEvent], Any]] = None
                     ) -> Optional[ZnodeStat]:
        return await self._run(self.sync.exists, path, watch)

    async def children(self, path: str,
                       watch: Optional[Callable[[WatchedEvent], Any]] = None) -> List[str]:
        result: List[str] = await self._run(self.sync.children, path, watch)
        return result

    get_children = children

    async def sync_path(self, path: str) -> None:
        await self._run(self.sync.sync, path)

    def transaction(self) -> "Transaction":
        """``async with client.transaction() as t:`` commits at the end."""
        return Transaction(self)

    def batch(self) -> "Batch":
        return Batch(self)

    async def expire_session(self, timeout: float = 10.0) -> None:
        await self._run(self.sync.expire_session, timeout)

    # ------------------------------------------------------------ recipes

    def lock(self, path: str, *, timeout: Optional[float] = None, **kw: Any) -> "Lock":
        """``async with client.lock(path, timeout=5) as lease:``"""
        return Lock(self, self.sync.lock(path, timeout=timeout, **kw))

    async def cache(self, path: str, *, wait: bool = True, **kw: Any) -> "Cache":
        """A cache; by default waits for its first load."""
        c = Cache(self, self.sync.cache(path, **kw))
        if wait:
            await c.wait_initialized()
        return c

    def counter(self, path: str, **kw: Any) -> "Counter":
        return Counter(self, self.sync.counter(path, **kw))

    def queue(self, path: str, **kw: Any) -> "Queue":
        return Queue(self, self.sync.queue(path, **kw))

    def election(self, path: str, id: str = "", **kw: Any) -> "Election":
        return Election(self, self.sync.election(path, id, **kw))

    def semaphore(self, path: str, max_leases: int, **kw: Any) -> "Semaphore":
        return Semaphore(self, self.sync.semaphore(path, max_leases, **kw))


async def connect(url: Optional[str] = None, **options: Any) -> Client:
    """Opens an asyncio client (waits for the first session off the loop)."""
    return await Client(url, **options).open()


class Transaction:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._t = client.sync.transaction()
        self.create = self._t.create
        self.set = self._t.set
        self.delete = self._t.delete
        self.check = self._t.check

    @property
    def results(self) -> Optional[List[Any]]:
        return self._t.results

    async def commit(self) -> List[Any]:
        return await self._client._run(self._t.commit)

    async def __aenter__(self) -> "Transaction":
        return self

    async def __aexit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is None:
            await self.commit()
        else:
            self._t.free()


class Batch:
    """Pipelined operations; ``await batch.run()`` sends them from the loop
    and resumes when every reply is in (no thread). Cancelling the await
    does not recall what was sent: the results are dropped when they come."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._b = client.sync.batch()
        self.get = self._b.get
        self.exists = self._b.exists
        self.children = self._b.children
        self.create = self._b.create
        self.set = self._b.set
        self.delete = self._b.delete

    async def run(self) -> List[Any]:
        return await self._client._run_batch(self._b)

    def free(self) -> None:
        self._b.free()


class Lock:
    """``async with lock as lease:`` acquires off the loop; cancelling the
    task that waits deletes the waiting node."""

    def __init__(self, client: Client, lock: _r.Lock) -> None:
        self._client = client
        self.sync = lock

    async def acquire(self, timeout: Optional[float] = None, blocking: bool = True) -> _r.Lease:
        return await self._client._run(self.sync.acquire, timeout, blocking)

    def release(self, sync: bool = False) -> None:
        """Releases (the delete is sent in the background: no wait)."""
        self.sync.release(sync)

    @property
    def valid(self) -> bool:
        return self.sync.valid

    def add_listener(self, fn: Callable[[_r.LockEvent], Any]) -> None:
        """Lock events (SUSPENDED, RECONNECTED, LOST) on the loop."""
        self.sync.add_listener(fn)

    def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> _r.Lease:
        return await self.acquire()

    async def __aexit__(self, exc_type: Any, *exc: object) -> None:
        self.sync.__exit__(exc_type)


class Cache:
    """Reads are local (no await): ``cache[path]``, ``path in cache``,
    ``cache.children(path)``. Changes: ``async for ev in cache.events()``."""

    def __init__(self, client: Client, cache: _r.Cache) -> None:
        self._client = client
        self.sync = cache

    def __getitem__(self, path: str) -> bytes:
        return self.sync[path]

    def __contains__(self, path: object) -> bool:
        return path in self.sync

    def __len__(self) -> int:
        return len(self.sync)

    def get(self, path: str, default: Optional[bytes] = None) -> Optional[bytes]:
        return self.sync.get(path, default)

    def stat(self, path: str) -> Optional[ZnodeStat]:
        return self.sync.stat(path)

    def children(self, path: Optional[str] = None) -> List[str]:
        return self.sync.children(path)

    async def wait_initialized(self, timeout: Optional[float] = None) -> None:
        await self._client._run(self.sync.wait_initialized, timeout)

    async def wait_zxid(self, zxid: int, timeout: Optional[float] = None) -> None:
        await self._client._run(self.sync.wait_zxid, zxid, timeout)

    def events(self) -> AsyncIterator[_r.CacheEvent]:
        """Changes from now on (registered at once), until close."""
        return _event_stream(self.sync)

    def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> "Cache":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Counter:
    def __init__(self, client: Client, counter: _r.Counter) -> None:
        self._client = client
        self.sync = counter

    async def get(self) -> int:
        return await self._client._run(self.sync.get)

    async def add(self, delta: int = 1) -> int:
        return await self._client._run(self.sync.add, delta)

    async def cas(self, expected: int, value: int) -> Tuple[bool, int]:
        return await self._client._run(self.sync.cas, expected, value)

    async def set(self, value: int) -> None:
        await self._client._run(self.sync.set, value)

    def close(self) -> None:
        self.sync.close()


class Queue:
    def __init__(self, client: Client, queue: _r.Queue) -> None:
        self._client = client
        self.sync = queue

    async def put(self, data: BytesLike, priority: int = 100) -> str:
        return await self._client._run(self.sync.put, data, priority)

    async def put_many(self, items: Sequence[Union[BytesLike, Tuple[BytesLike, int]]],
                       priority: int = 100) -> None:
        await self._client._run(self.sync.put_many, items, priority)

    async def take(self, timeout: Optional[float] = None, ack: bool = True) -> _r.QueueItem:
        return await self._client._run(self.sync.take, timeout, ack)

    async def ack(self, item: _r.QueueItem) -> None:
        await self._client._run(item.ack)

    def __aiter__(self) -> AsyncIterator[_r.QueueItem]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[_r.QueueItem]:
        while True:
            yield await self.take()

    def close(self) -> None:
        self.sync.close()


class Election:
    def __init__(self, client: Client, election: _r.Election) -> None:
        self._client = client
        self.sync = election

    async def join(self) -> None:
        await self._client._run(self.sync.join)

    async def await_leadership(self, timeout: Optional[float] = None) -> int:
        return await self._client._run(self.sync.await_leadership, timeout)

    @property
    def is_leader(self) -> bool:
        return self.sync.is_leader

    async def resign(self) -> None:
        await self._client._run(self.sync.resign)

    async def leader(self) -> Optional[Tuple[str, int]]:
        return await self._client._run(self.sync.leader)

    def add_listener(self, fn: Callable[[_r.ElectionEvent], Any]) -> None:
        """Leadership changes (LEADER, NOT_LEADER) on the loop."""
        self.sync.add_listener(fn)

    def events(self) -> AsyncIterator[_r.ElectionEvent]:
        """Leadership changes from now on (registered at once), until close."""
        return _event_stream(self.sync)

    def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> "Election":
        await self.join()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class Semaphore:
    def __init__(self, client: Client, sem: _r.Semaphore) -> None:
        self._client = client
        self.sync = sem

    async def acquire(self, timeout: Optional[float] = None) -> _r.SemaphoreLease:
        return await self._client._run(self.sync.acquire, timeout)

    def close(self) -> None:
        self.sync.close()


__all__ = ["Client", "connect", "Transaction", "Batch", "Lock", "Cache", "Counter", "Queue",
           "Election", "Semaphore", "ACL"]
