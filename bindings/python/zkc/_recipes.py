"""Recipes over the C core: lock, read/write lock, semaphore, counter, queue,
cache, election, barriers, persistent node, service registry and router.

Each class wraps one C handle. Handles belong to their client: close them
before it (``Client.close`` closes any still open), or use them as context
managers. Blocking methods release the GIL; timeouts are in seconds (None:
wait without a deadline, 0: one attempt).
"""
from __future__ import annotations

import enum
import logging
import queue as _queue
import weakref
from typing import (Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple,
                    TypeVar, Union)

from . import _zkc_c as _c
from . import _errors as E
from ._client import (ACL, BytesLike, Client, Transaction, ZnodeStat, _acl_list, _acl_ptr,
                      _check_data, _check_path, _ms, WatchedEvent, EventType)


def _lock_timeout(timeout: Optional[float], blocking: bool) -> int:
    if not blocking:
        return 0
    return -1 if timeout is None else _ms(timeout)


def _weak_call(method: Callable[..., Any]) -> Callable[..., Any]:
    """A callable that calls the bound method while its object lives, so a
    dispatcher entry never keeps a dropped handle alive."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> Any:
        m = ref()
        return None if m is None else m(*args)
    return call


class _Handle:
    """A C handle owned by a Python object, closed once."""

    _what = "handle"

    def __init__(self, client: Client) -> None:
        self._client = client
        self._h: Any = None

    def _handle(self) -> Any:
        h = self._h
        if h is None or self._client._h is None:
            raise E.closed(self._what)
        return h

    def _attach(self, h: Any) -> None:
        self._h = h
        self._client._children.add(self)

    def _close_handle(self, h: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Frees the handle; calling it again does nothing."""
        h, self._h = self._h, None
        if h is not None:
            self._close_handle(h)
            self._client._children.discard(self)

    @property
    def closed(self) -> bool:
        return self._h is None

    def __del__(self) -> None:
        if getattr(self, "_h", None) is not None and self._client._h is not None:
            try:
                self.close()
            except Exception:
                pass


_T = TypeVar("_T")


def _event_stream(owner: "_Handle", queues: List["_queue.Queue[_T]"],
                  timeout: Optional[float]) -> Iterator[_T]:
    """The iterator of an ``events()`` method: a queue in ``queues`` (which
    the handle's dispatcher fills) registered now, not at the first
    next(); it yields what arrives until ``timeout`` seconds pass without
    anything (None: never) or ``owner`` is closed, and then leaves
    ``queues``."""
    q: "_queue.Queue[_T]" = _queue.Queue()
    queues.append(q)
    return _drain(owner, queues, q, timeout)


def _drain(owner: "_Handle", queues: List["_queue.Queue[_T]"], q: "_queue.Queue[_T]",
           timeout: Optional[float]) -> Iterator[_T]:
    try:
        while owner._h is not None:
            try:
                yield q.get(timeout=timeout)
            except _queue.Empty:
                return
    finally:
        queues.remove(q)


# ------------------------------------------------------------ lock

class LockEvent(enum.IntEnum):
    """What the holder of a lock is told."""
    SUSPENDED = 1    #: connection lost while held: the lock MAY be lost
    RECONNECTED = 2  #: the same session is back: still held
    LOST = 3         #: the session is gone: the lock is lost


class Lease:
    """A held lock: its node ``path``, ``session_id`` and fencing ``token``
    (the node's creation zxid; each new holder gets a larger one)."""

    def __init__(self, lock: "Lock", path: str, session_id: int, token: int) -> None:
        self.lock = lock
        self.path = path
        self.session_id = session_id
        self.token = token

    @property
    def valid(self) -> bool:
        """Held on a live, connected session (local, no round trip)."""
        return self.lock.valid

    def fence(self) -> Transaction:
        """A transaction whose first operation checks that this lock node
        still exists: writes added to it commit only while the lock is
        held, however late the holder learns of a loss."""
        (m,) = _c.zkc_lock_fence(self.lock._handle())
        return Transaction(self.lock._client, _multi=m, _offset=1)

    def release(self) -> None:
        self.lock.release()

    def __repr__(self) -> str:
        return f"Lease(path={self.path!r}, token={self.token})"


class Lock(_Handle):
    """A fair, fenced, exclusive lock (Curator's InterProcessMutex layout).

    ``with client.lock(path, timeout=5) as lease:`` acquires (raising
    zkc.TimeoutError after 5 s) and releases at the end of the block; if
    the lock was lost meanwhile the release raises zkc.LostError. Lock
    events (SUSPENDED, RECONNECTED, LOST) reach ``add_listener`` callbacks
    on the client's event thread and the ``events()`` iterator."""

    _what = "lock"

    def __init__(self, client: Client, path: str, *, timeout: Optional[float] = None,
                 reentrant: bool = False, sticky: bool = False, data: BytesLike = b"",
                 acl: Optional[Sequence[ACL]] = None, _half: Any = None) -> None:
        super().__init__(client)
        self.timeout = timeout
        if timeout is not None:
            _ms(timeout)
        self._listeners: List[Callable[[LockEvent], Any]] = []
        self._queues: List["_queue.Queue[LockEvent]"] = []
        self._owned = _half is None
        if _half is not None:
            h = _half
        else:
            _check_path(path)
            self._acl = _acl_list(acl)
            flags = (1 if reentrant else 0) | (2 if sticky else 0)
            (h,) = _c.zkc_py_lock_open(client._handle(), path, flags, _acl_ptr(self._acl),
                                       _check_data(data))
        self._attach(h)
        self._fd = _c.zkc_lock_events_fd(h)
        client._events.add_fd(self._fd, _weak_call(self._drain))

    @property
    def path(self) -> str:
        return str(_c.zkc_lock_path(self._handle()))

    def _drain(self) -> None:
        h = self._h
        while h is not None:
            rc, ev = _c.zkc_lock_events_next(h, 0)
            if rc != 0:
                return
            event = LockEvent(ev)
            for q in list(self._queues):
                q.put(event)
            for fn in list(self._listeners):
                try:
                    fn(event)
                except Exception:
                    logging.getLogger("zkc").exception("zkc: lock listener failed")

    def add_listener(self, fn: Callable[[LockEvent], Any]) -> None:
        """Calls ``fn(LockEvent)`` on the client's event thread."""
        if not callable(fn):
            raise TypeError("listener must be callable")
        self._listeners.append(fn)

    def events(self, timeout: Optional[float] = None) -> Iterator[LockEvent]:
        """A blocking iterator over this lock's events from now on; it ends
        after ``timeout`` seconds without one (None: never) or at close."""
        return _event_stream(self, self._queues, timeout)

    def acquire(self, timeout: Optional[float] = None, blocking: bool = True) -> Lease:
        """Acquires the lock, waiting up to ``timeout`` seconds (None: the
        handle's default, else forever); raises zkc.TimeoutError, or
        zkc.WouldBlockError when ``blocking`` is False and another holds
        it."""
        if timeout is None:
            timeout = self.timeout
        (lease,) = _c.zkc_lock_acquire(self._handle(), _lock_timeout(timeout, blocking))
        return Lease(self, *lease)

    def try_acquire(self) -> Optional[Lease]:
        """One attempt: the lease, or None when another holds the lock."""
        try:
            return self.acquire(blocking=False)
        except E.WouldBlockError:
            return None

    def release(self, sync: bool = False) -> None:
        """Releases the lock (the delete is sent in the background unless
        ``sync``). Raises zkc.LostError if the lock had been lost: the
        critical section was not exclusive to its end."""
        _c.zkc_lock_release(self._handle(), 1 if sync else 0)

    def cancel(self) -> None:
        """Makes a running acquire (on another thread) raise
        zkc.CancelledError soon; its node is deleted."""
        _c.zkc_lock_cancel(self._handle())

    @property
    def valid(self) -> bool:
        h = self._h
        return h is not None and bool(_c.zkc_lock_valid(h))

    @property
    def lease(self) -> Optional[Lease]:
        try:
            (lease,) = _c.zkc_lock_lease(self._handle())
        except E.InvalidStateError:
            return None
        return Lease(self, *lease)

    def _close_handle(self, h: Any) -> None:
        self._client._events.remove_fd(self._fd)
        if self._owned:
            _c.zkc_lock_close(h)

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        try:
            self.release()
        except E.LostError:
            if exc_type is None:
                raise


class RWLock(_Handle):
    """A fair read/write lock: ``rw.read_lock`` is shared,
    ``rw.write_lock`` exclusive; both are :class:`Lock` objects."""

    _what = "rwlock"

    def __init__(self, client: Client, path: str, *, timeout: Optional[float] = None,
                 data: BytesLike = b"", acl: Optional[Sequence[ACL]] = None) -> None:
        super().__init__(client)
        _check_path(path)
        self._acl = _acl_list(acl)
        (h,) = _c.zkc_py_rwlock_open(client._handle(), path, _acl_ptr(self._acl),
                                     _check_data(data))
        self._attach(h)
        self.read_lock = Lock(client, path, timeout=timeout, _half=_c.zkc_rwlock_read(h))
        self.write_lock = Lock(client, path, timeout=timeout, _half=_c.zkc_rwlock_write(h))

    def _close_handle(self, h: Any) -> None:
        self.read_lock.close()
        self.write_lock.close()
        _c.zkc_rwlock_close(h)


# ------------------------------------------------------------ semaphore

class SemaphoreLease:
    """One of a semaphore's leases; release it (or use ``with``)."""

    def __init__(self, sem: "Semaphore", h: Any) -> None:
        self._sem = sem
        self._h: Any = h
        self.path = str(_c.zkc_semaphore_lease_path(h))
        self.token = int(_c.zkc_semaphore_lease_token(h))

    @property
    def valid(self) -> bool:
        return self._h is not None and bool(_c.zkc_semaphore_lease_valid(self._h))

    def fence(self) -> Transaction:
        if self._h is None:
            raise E.closed("semaphore lease")
        (m,) = _c.zkc_semaphore_fence(self._h)
        return Transaction(self._sem._client, _multi=m, _offset=1)

    def release(self, sync: bool = False) -> None:
        """Returns the lease; raises zkc.LostError if it had been lost."""
        h, self._h = self._h, None
        if h is None:
            return
        try:
            _c.zkc_semaphore_release(h, 1 if sync else 0)
        finally:
            _c.zkc_semaphore_lease_free(h)
            self._sem._leases.discard(self)

    def __enter__(self) -> "SemaphoreLease":
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        try:
            self.release()
        except E.LostError:
            if exc_type is None:
                raise

    def __del__(self) -> None:
        if getattr(self, "_h", None) is not None and self._sem._h is not None:
            try:
                self.release()
            except Exception:
                pass


class Semaphore(_Handle):
    """At most ``max_leases`` holders at once across all clients (Curator's
    InterProcessSemaphoreV2 layout)."""

    _what = "semaphore"

    def __init__(self, client: Client, path: str, max_leases: int, *,
                 data: BytesLike = b"", acl: Optional[Sequence[ACL]] = None) -> None:
        super().__init__(client)
        _check_path(path)
        if isinstance(max_leases, bool) or not isinstance(max_leases, int):
            raise TypeError("max_leases must be an int")
        self._acl = _acl_list(acl)
        self._leases: "set[SemaphoreLease]" = set()
        (h,) = _c.zkc_py_semaphore_open(client._handle(), path, max_leases,
                                        _acl_ptr(self._acl), _check_data(data))
        self._attach(h)

    def acquire(self, timeout: Optional[float] = None, blocking: bool = True) -> SemaphoreLease:
        (h,) = _c.zkc_semaphore_acquire(self._handle(), _lock_timeout(timeout, blocking))
        lease = SemaphoreLease(self, h)
        self._leases.add(lease)
        return lease

    def _close_handle(self, h: Any) -> None:
        for lease in list(self._leases):
            try:
                lease.release()
            except E.Error:
                pass
        _c.zkc_semaphore_close(h)


# ------------------------------------------------------------ counter

class Counter(_Handle):
    """A replicated signed 64-bit counter (Curator's DistributedAtomicLong
    format). ``counter.add(1)`` returns the new value; ``counter.value``
    reads it from the servers."""

    _what = "counter"

    def __init__(self, client: Client, path: str, *, shards: int = 0,
                 timeout: Optional[float] = None) -> None:
        super().__init__(client)
        _check_path(path)
        (h,) = _c.zkc_py_counter_open(client._handle(), path, int(shards),
                                      0 if timeout is None else max(1, _ms(timeout)))
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_counter_close(h)

    @property
    def value(self) -> int:
        return self.get()

    def get(self) -> int:
        (v,) = _c.zkc_counter_get(self._handle())
        return int(v)

    def add(self, delta: int = 1) -> int:
        """Adds delta (may be negative) and returns the new value. Raises
        zkc.UnknownOutcomeError when the reply was lost and the add may or
        may not have been applied."""
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError("delta must be an int")
        if not -2**63 <= delta < 2**63:
            raise OverflowError("delta must fit in 64 bits")
        (v,) = _c.zkc_counter_add(self._handle(), delta)
        return int(v)

    def __iadd__(self, delta: int) -> "Counter":
        self.add(delta)
        return self

    def __isub__(self, delta: int) -> "Counter":
        self.add(-delta)
        return self

    def cas(self, expected: int, value: int) -> Tuple[bool, int]:
        """Writes ``value`` if the counter equals ``expected``: returns
        (True, value), or (False, current value)."""
        try:
            (cur,) = _c.zkc_counter_cas(self._handle(), expected, value)
            return True, int(cur)
        except E.BadVersionError:
            return False, self.get()

    def set(self, value: int) -> None:
        _c.zkc_counter_set(self._handle(), value)


# ------------------------------------------------------------ queue

class QueueItem:
    """A taken (or peeked) item: ``data``, ``name``, ``priority``. In ack
    mode, :meth:`ack` consumes it and :meth:`release` gives it back."""

    def __init__(self, queue: Optional["Queue"], raw: Any) -> None:
        self._queue = queue
        self._raw: Any = None
        self._raw = raw
        name, data, prio, sid = _c.zkc_py_queue_item(raw)
        self.name: str = name
        self.data: bytes = data
        self.priority: int = prio
        self.session_id: int = sid

    def ack(self) -> None:
        """Consumes the item (raises zkc.LostError if the session that took
        it is gone: it will be delivered again)."""
        if self._queue is None:
            raise E.InvalidStateError(E.EINVALIDSTATE, "not an item taken in ack mode")
        _c.zkc_queue_ack(self._queue._handle(), self._raw)
        self._queue = None

    def release(self) -> None:
        """Gives the item back without consuming it."""
        if self._queue is None:
            raise E.InvalidStateError(E.EINVALIDSTATE, "not an item taken in ack mode")
        _c.zkc_queue_release(self._queue._handle(), self._raw)
        self._queue = None

    def __repr__(self) -> str:
        return f"QueueItem(name={self.name!r}, data={self.data!r})"

    def __del__(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            _c.zkc_queue_item_free(raw)


class Queue(_Handle):
    """A distributed FIFO queue with priorities (kazoo LockingQueue's
    layout). ``take(ack=True)`` is at-least-once (ack the item when done),
    ``take(ack=False)`` exactly-once by delete. Iterating takes items in ack
    mode until ``timeout`` seconds pass without one."""

    _what = "queue"

    def __init__(self, client: Client, path: str, *, create: bool = True,
                 bucket_size: int = 10000, acl: Optional[Sequence[ACL]] = None) -> None:
        super().__init__(client)
        _check_path(path)
        self._acl = _acl_list(acl)
        (h,) = _c.zkc_py_queue_open(client._handle(), path, 1 if create else 0,
                                    int(bucket_size), _acl_ptr(self._acl))
        self._attach(h)
        self.timeout: Optional[float] = None

    def _close_handle(self, h: Any) -> None:
        _c.zkc_queue_close(h)

    def put(self, data: BytesLike, priority: int = 100) -> str:
        """Puts one item (priority 0..999, lower first); returns its name."""
        (name,) = _c.zkc_queue_put(self._handle(), _check_data(data), int(priority))
        return str(name)

    def put_many(self, items: Sequence[Union[BytesLike, Tuple[BytesLike, int]]],
                 priority: int = 100) -> None:
        """Puts the items in one transaction: all or none, in order. An item
        is its data (put with ``priority``) or a ``(data, priority)`` pair."""
        if isinstance(items, (bytes, bytearray, str)):
            raise TypeError("items must be a sequence of bytes-like objects")
        _c.zkc_py_queue_put_many(self._handle(), list(items), int(priority))

    def take(self, timeout: Optional[float] = None, ack: bool = True) -> QueueItem:
        """Takes the first item, waiting up to ``timeout`` seconds (None:
        forever, 0: one attempt). Raises zkc.TimeoutError (or
        zkc.WouldBlockError with timeout 0) when none came."""
        rc, raw = _c.zkc_queue_take(self._handle(), 0 if ack else 1,
                                    -1 if timeout is None else _ms(timeout))
        if rc != 0:
            code, msg = _c.zkc_py_error_last()
            err = E.error_for(rc, msg if code == rc else "")
            if raw is not None:
                err.item = QueueItem(None, raw)  # type: ignore[attr-defined]
            raise err
        return QueueItem(self if ack else None, raw)

    def peek(self) -> Optional[QueueItem]:
        try:
            (raw,) = _c.zkc_queue_peek(self._handle())
        except E.WouldBlockError:
            return None
        return QueueItem(None, raw)

    def size(self) -> Tuple[int, int]:
        """(items, of which taken and not acked)."""
        n, taken = _c.zkc_queue_size(self._handle())
        return int(n), int(taken)

    def __len__(self) -> int:
        return self.size()[0]

    def iter(self, timeout: Optional[float] = None, ack: bool = True) -> Iterator[QueueItem]:
        """Takes items until ``timeout`` seconds pass without one."""
        while True:
            try:
                yield self.take(timeout=timeout, ack=ack)
            except (E.TimeoutError, E.WouldBlockError):
                return

    def __iter__(self) -> Iterator[QueueItem]:
        return self.iter(self.timeout)


# ------------------------------------------------------------ cache

class CacheEvent(NamedTuple):
    """A cache change: ``type`` is ADDED, UPDATED, REMOVED, INITIALIZED,
    SUSPENDED, RESYNCED or OVERFLOW; ``path`` the node (None otherwise)."""
    type: str
    path: Optional[str]


_CACHE_TYPES = {int(EventType.CACHE_ADDED): "ADDED", int(EventType.CACHE_UPDATED): "UPDATED",
                int(EventType.CACHE_REMOVED): "REMOVED",
                int(EventType.CACHE_INITIALIZED): "INITIALIZED",
                int(EventType.CACHE_SUSPENDED): "SUSPENDED",
                int(EventType.CACHE_RESYNCED): "RESYNCED",
                int(EventType.CACHE_OVERFLOW): "OVERFLOW"}


class Cache(_Handle):
    """A watch-driven local copy of a node's subtree; reads cost no round
    trip. Mapping-like: ``cache[path]`` is the data (KeyError when not
    cached), ``path in cache``, ``len(cache)``, ``cache.stat(path)``,
    ``cache.children(path)``. Changes arrive as :class:`CacheEvent`:
    ``for ev in cache.events(timeout=...)`` or ``cache.listen(fn)``."""

    _what = "cache"

    def __init__(self, client: Client, path: str, *, depth: int = -1, data: bool = True,
                 max_nodes: int = 0, max_bytes: int = 0, events: bool = True) -> None:
        super().__init__(client)
        _check_path(path)
        self._listeners: List[Callable[[CacheEvent], Any]] = []
        self._queues: List[Any] = []
        self._token = client._events.register(_weak_call(self._on_event), once=False)
        try:
            (h,) = _c.zkc_py_cache_open(client._handle(), path, int(depth), 1 if data else 0,
                                        int(max_nodes), int(max_bytes), 1 if events else 0,
                                        self._token)
        except BaseException:
            client._events.unregister(self._token)
            raise
        self._attach(h)

    def _on_event(self, ev: WatchedEvent) -> None:
        event = CacheEvent(_CACHE_TYPES.get(int(ev.type), str(ev.type)), ev.path)
        for q in list(self._queues):
            q.put_nowait(event)
        for fn in list(self._listeners):
            fn(event)

    def _close_handle(self, h: Any) -> None:
        self._client._events.unregister(self._token)
        _c.zkc_cache_close(h)

    @property
    def path(self) -> str:
        return str(_c.zkc_cache_path(self._handle()))

    def wait_initialized(self, timeout: Optional[float] = None) -> None:
        _c.zkc_cache_wait_initialized(self._handle(), _ms(timeout))

    def wait_zxid(self, zxid: int, timeout: Optional[float] = None) -> None:
        """Read-your-writes: waits until the cache reflects every change up
        to zxid (e.g. the mzxid of one's own write)."""
        _c.zkc_cache_wait_zxid(self._handle(), int(zxid), _ms(timeout))

    def get(self, path: str, default: Optional[bytes] = None) -> Optional[bytes]:
        try:
            return self[path]
        except KeyError:
            return default

    def get_with_stat(self, path: str) -> Tuple[bytes, ZnodeStat]:
        _check_path(path)
        try:
            data, stat = _c.zkc_cache_get(self._handle(), path)
        except E.NoNodeError:
            raise KeyError(path) from None
        return data, stat

    def stat(self, path: str) -> Optional[ZnodeStat]:
        try:
            return self.get_with_stat(path)[1]
        except KeyError:
            return None

    def __getitem__(self, path: str) -> bytes:
        h = self._h
        if h is None or self._client._h is None:
            raise E.closed(self._what)
        data: Optional[bytes] = _c.zkc_py_cache_data(h, path)
        if data is None:
            raise KeyError(path)
        return data

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.stat(path) is not None

    def children(self, path: Optional[str] = None) -> List[str]:
        """Children names of a cached node (sorted); [] when not cached."""
        try:
            (names,) = _c.zkc_cache_children(self._handle(), path or self.path)
        except E.NoNodeError:
            return []
        return list(names)

    def __len__(self) -> int:
        return int(_c.zkc_cache_count(self._handle()))

    @property
    def bytes(self) -> int:
        return int(_c.zkc_cache_bytes(self._handle()))

    @property
    def overflowed(self) -> bool:
        return int(_c.zkc_cache_status(self._handle())) != 0

    def listen(self, fn: Callable[[CacheEvent], Any]) -> None:
        """Calls ``fn(event)`` on the client's event thread for each change."""
        if not callable(fn):
            raise TypeError("listener must be callable")
        self._listeners.append(fn)

    def events(self, timeout: Optional[float] = None) -> Iterator[CacheEvent]:
        """A blocking iterator over the changes from now on; it ends after
        ``timeout`` seconds without one (None: never) or at close."""
        return _event_stream(self, self._queues, timeout)

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------ election

class Participant(NamedTuple):
    id: str
    node: str
    epoch: int
    session_id: int
    is_leader: bool


class LeadershipEvent(enum.IntEnum):
    """A change of a candidate's leadership."""
    LEADER = 1      #: this candidate leads from now
    NOT_LEADER = 2  #: this candidate no longer leads


class LeadershipReason(enum.IntEnum):
    """Why leadership ended (``NONE`` with ``LEADER``)."""
    NONE = 0
    SUSPENDED = 1  #: connection lost (default policy); may lead again at reconnection
    LOST = 2       #: session lost; the candidate joins again on the new session
    NODE_GONE = 3  #: its node was deleted by someone, or is no longer this session's


class ElectionEvent(NamedTuple):
    """One leadership change: ``type``, the ``epoch`` (the leader node's
    creation zxid, the fencing token; it grows with every new leadership)
    and, with NOT_LEADER, the ``reason``."""
    type: LeadershipEvent
    epoch: int
    reason: LeadershipReason


class Election(_Handle):
    """Leader election (Curator's LeaderLatch layout). ``join()``, then
    ``await_leadership(timeout)`` returns the epoch (fencing token) once
    this candidate leads; ``is_leader``; ``resign()``. ``run(fn)`` joins,
    waits, calls fn and resigns. Leadership changes (:class:`ElectionEvent`)
    reach ``add_listener`` callbacks on the client's event thread and the
    ``events()`` iterator; none comes for ``resign()`` or ``close()``."""

    _what = "election"

    def __init__(self, client: Client, path: str, id: str = "", *,
                 step_down_on_lost_only: bool = False,
                 acl: Optional[Sequence[ACL]] = None) -> None:
        super().__init__(client)
        _check_path(path)
        self.election_path = path
        self._acl = _acl_list(acl)
        self._listeners: List[Callable[[ElectionEvent], Any]] = []
        self._queues: List[Any] = []
        (h,) = _c.zkc_py_election_open(client._handle(), path, id,
                                       1 if step_down_on_lost_only else 0,
                                       _acl_ptr(self._acl))
        self._attach(h)
        self._fd = _c.zkc_election_events_fd(h)
        client._events.add_fd(self._fd, _weak_call(self._drain))

    def _drain(self) -> None:
        h = self._h
        while h is not None:
            rc, (kind, epoch, reason) = _c.zkc_election_events_next(h, 0)
            if rc != 0:
                return
            event = ElectionEvent(LeadershipEvent(kind), int(epoch), LeadershipReason(reason))
            for q in list(self._queues):
                q.put_nowait(event)
            for fn in list(self._listeners):
                try:
                    fn(event)
                except Exception:
                    logging.getLogger("zkc").exception("zkc: election listener failed")

    def add_listener(self, fn: Callable[[ElectionEvent], Any]) -> None:
        """Calls ``fn(ElectionEvent)`` on the client's event thread (on the
        loop with zkc.aio)."""
        if not callable(fn):
            raise TypeError("listener must be callable")
        self._listeners.append(fn)

    def events(self, timeout: Optional[float] = None) -> Iterator[ElectionEvent]:
        """A blocking iterator over this candidate's leadership changes
        from now on; it ends after ``timeout`` seconds without one (None:
        never) or at close."""
        return _event_stream(self, self._queues, timeout)

    def _close_handle(self, h: Any) -> None:
        self._client._events.remove_fd(self._fd)
        _c.zkc_election_close(h)

    def join(self) -> None:
        _c.zkc_election_join(self._handle())

    def await_leadership(self, timeout: Optional[float] = None) -> int:
        (epoch,) = _c.zkc_election_await(self._handle(), _ms(timeout))
        return int(epoch)

    @property
    def is_leader(self) -> bool:
        h = self._h
        return h is not None and bool(_c.zkc_election_is_leader(h)[0])

    @property
    def epoch(self) -> Optional[int]:
        flag, epoch = _c.zkc_election_is_leader(self._handle())
        return int(epoch) if flag else None

    def fence(self) -> Tuple[str, int]:
        """(leader node path, epoch) read together while leading."""
        path, epoch = _c.zkc_election_fence(self._handle())
        return str(path), int(epoch)

    def resign(self) -> None:
        _c.zkc_election_resign(self._handle())

    def leader(self) -> Optional[Tuple[str, int]]:
        """The current leader's (id, epoch), or None."""
        try:
            ident, epoch = _c.zkc_election_leader(self._client._handle(), self.election_path)
        except E.NoNodeError:
            return None
        return str(ident), int(epoch)

    def participants(self) -> List[Participant]:
        raw = _c.zkc_py_election_participants(self._client._handle(), self.election_path)
        return [Participant(i, n, z, s, bool(ldr)) for (i, n, z, s, ldr) in raw]

    def run(self, fn: Callable[..., Any], *args: Any, timeout: Optional[float] = None) -> Any:
        self.join()
        try:
            self.await_leadership(timeout)
            return fn(*args)
        finally:
            self.resign()

    def __enter__(self) -> "Election":
        self.join()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------ barriers

class Barrier:
    """A simple barrier: ``set()`` raises it, ``remove()`` lowers it,
    ``wait(timeout)`` waits until it is lowered."""

    def __init__(self, client: Client, path: str) -> None:
        self._client = client
        self.path = _check_path(path)

    def set(self) -> None:
        _c.zkc_barrier_set(self._client._handle(), self.path)

    def remove(self) -> None:
        _c.zkc_barrier_remove(self._client._handle(), self.path)

    def wait(self, timeout: Optional[float] = None) -> None:
        _c.zkc_barrier_wait(self._client._handle(), self.path, _ms(timeout))


class DoubleBarrier(_Handle):
    """``count`` participants enter together and leave together."""

    _what = "double barrier"

    def __init__(self, client: Client, path: str, count: int, id: Optional[str] = None) -> None:
        super().__init__(client)
        _check_path(path)
        (h,) = _c.zkc_double_barrier_open(client._handle(), path, int(count), id)
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_double_barrier_close(h)

    def enter(self, timeout: Optional[float] = None) -> None:
        _c.zkc_double_barrier_enter(self._handle(), _ms(timeout))

    def leave(self, timeout: Optional[float] = None) -> None:
        _c.zkc_double_barrier_leave(self._handle(), _ms(timeout))


# ------------------------------------------------------------ persistent node

class PersistentNode(_Handle):
    """An ephemeral node zkc creates again after every session loss
    (Curator's PersistentNode)."""

    _what = "persistent node"

    def __init__(self, client: Client, path: str, data: BytesLike = b"",
                 sequential: bool = False) -> None:
        super().__init__(client)
        _check_path(path)
        (h,) = _c.zkc_pnode_open(client._handle(), path, _check_data(data),
                                 3 if sequential else 1)
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_pnode_close(h)

    @property
    def path(self) -> Optional[str]:
        try:
            return str(_c.zkc_pnode_path(self._handle())[0])
        except E.NoNodeError:
            return None

    def set(self, data: BytesLike) -> None:
        _c.zkc_pnode_set(self._handle(), _check_data(data))

    def wait(self, timeout: Optional[float] = None) -> None:
        _c.zkc_pnode_wait(self._handle(), _ms(timeout))

    def delete(self) -> None:
        _c.zkc_pnode_delete(self._handle())


# ------------------------------------------------------------ service registry

class Endpoint(NamedTuple):
    id: str
    address: str
    port: int
    weight: int


class Instance(NamedTuple):
    id: str
    address: str
    port: int
    weight: int
    draining: bool
    metadata: bytes
    session_id: int


class Registration(_Handle):
    """A registered service instance (an ephemeral node kept across
    session loss) until :meth:`unregister` or close."""

    _what = "registration"

    def __init__(self, client: Client, service_path: str, id: str, address: str, port: int,
                 *, weight: int = 1, draining: bool = False, metadata: BytesLike = b"",
                 replace: bool = False) -> None:
        super().__init__(client)
        _check_path(service_path)
        if not isinstance(id, str) or not isinstance(address, str):
            raise TypeError("id and address must be str")
        for n, v in (("port", port), ("weight", weight)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{n} must be an int")
        (h,) = _c.zkc_py_service_reg_open(client._handle(), service_path, id, address, port,
                                          weight, 1 if draining else 0,
                                          _check_data(metadata) or None, 1 if replace else 0)
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_service_reg_close(h)

    @property
    def path(self) -> str:
        return str(_c.zkc_service_reg_path(self._handle()))

    def set_draining(self, draining: bool = True) -> None:
        _c.zkc_service_set_draining(self._handle(), 1 if draining else 0)

    def set_weight(self, weight: int) -> None:
        _c.zkc_service_set_weight(self._handle(), int(weight))

    def wait(self, timeout: Optional[float] = None) -> None:
        _c.zkc_service_reg_wait(self._handle(), _ms(timeout))

    def unregister(self) -> None:
        """Deletes the instance's node now and closes the registration."""
        try:
            _c.zkc_service_unregister(self._handle())
        finally:
            self.close()

    def __enter__(self) -> "Registration":
        return self

    def __exit__(self, *exc: object) -> None:
        self.unregister()


class Router(_Handle):
    """Routes a key to a live instance by weighted rendezvous hashing over a
    cache of the service's instances: no round trip per route."""

    _what = "router"

    def __init__(self, client: Client, service_path: str,
                 timeout: Optional[float] = 30.0) -> None:
        super().__init__(client)
        _check_path(service_path)
        ms = -1 if timeout is None else max(1, _ms(timeout))
        (h,) = _c.zkc_py_router_open(client._handle(), service_path, ms)
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_service_router_close(h)

    @staticmethod
    def _key(key: Any) -> BytesLike:
        if isinstance(key, str):
            return key.encode()
        return _check_data(key)

    def route(self, key: Any) -> Endpoint:
        """The instance for key (str or bytes); raises zkc.NoNodeError when
        no instance is routable."""
        (ep,) = _c.zkc_service_route(self._handle(), self._key(key))
        return Endpoint(*ep)

    def route_n(self, key: Any, n: int) -> List[Endpoint]:
        return [Endpoint(*e) for e in _c.zkc_py_route_n(self._handle(), self._key(key), n)]

    def instances(self) -> List[Instance]:
        return [Instance(i, a, p, w, bool(d), m, s)
                for (i, a, p, w, d, m, s) in _c.zkc_py_router_list(self._handle())]

    def __len__(self) -> int:
        return int(_c.zkc_service_router_count(self._handle()))

    @property
    def generation(self) -> int:
        return int(_c.zkc_service_router_generation(self._handle()))

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------ index

def _key(v: Any, what: str) -> BytesLike:
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return v
    raise TypeError(f"{what} must be str or bytes-like, not {type(v).__name__}")


class Record(NamedTuple):
    id: bytes
    data: bytes
    fields: Dict[str, bytes]
    version: int


class Hit(NamedTuple):
    id: bytes
    value: bytes


class IndexIssue(NamedTuple):
    kind: str
    field: Optional[str]
    value: Optional[bytes]
    id: Optional[bytes]
    path: Optional[str]
    version: int


class IndexReport(NamedTuple):
    records: int
    entries: int
    issues: List[IndexIssue]
    repaired: int


class Index(_Handle):
    """Records in a collection with secondary indexes on named fields: a
    put changes the record and its index entries in one transaction;
    lookups come from a cache. Ids and values are bytes (str is encoded as
    UTF-8). Create the collection once with :meth:`Index.create`."""

    _what = "index"

    @staticmethod
    def create(client: Client, path: str, fields: Sequence[Any]) -> None:
        """Creates the collection: ``fields`` are names, or (name, unique)
        pairs."""
        spec = []
        for f in fields:
            name, unique = (f, False) if isinstance(f, str) else f
            spec.append((name, 1 if unique else 0))
        _c.zkc_index_create(client._handle(), _check_path(path), spec)

    @staticmethod
    def drop(client: Client, path: str) -> None:
        _c.zkc_index_drop(client._handle(), _check_path(path))

    def __init__(self, client: Client, path: str, *, cache: bool = True,
                 cache_records: bool = False, timeout: Optional[float] = None) -> None:
        super().__init__(client)
        _check_path(path)
        (h,) = _c.zkc_py_index_open(client._handle(), path, 1 if cache else 0,
                                    1 if cache_records else 0,
                                    0 if timeout is None else max(1, _ms(timeout)))
        self._attach(h)

    def _close_handle(self, h: Any) -> None:
        _c.zkc_index_close(h)

    @property
    def fields(self) -> List[Tuple[str, bool]]:
        h = self._handle()
        out = []
        for i in range(int(_c.zkc_index_field_count(h))):
            name, flags = _c.zkc_index_field_at(h, i)
            out.append((str(name), bool(flags & 1)))
        return out

    def put(self, id: Any, data: BytesLike = b"", fields: Optional[Dict[str, Any]] = None, *,
            create: bool = False, update: bool = False, wait: bool = False) -> None:
        """Stores the record with its field values (replacing it)."""
        kv = [(str(k), _key(v, "field value")) for k, v in (fields or {}).items()]
        flags = (1 if create else 0) | (2 if update else 0) | (4 if wait else 0)
        _c.zkc_index_put(self._handle(), _key(id, "id"), _check_data(data), kv, flags)

    def delete(self, id: Any, wait: bool = False) -> None:
        _c.zkc_index_delete(self._handle(), _key(id, "id"), 4 if wait else 0)

    def get(self, id: Any, server: bool = False) -> Record:
        (r,) = _c.zkc_index_get(self._handle(), _key(id, "id"), 8 if server else 0)
        rid, data, fields, version = r
        return Record(rid, data, dict(fields), version)

    def find(self, field: str, value: Any, limit: int = 0, server: bool = False) -> List[Hit]:
        (hits,) = _c.zkc_index_find(self._handle(), field, _key(value, "value"), int(limit),
                                    8 if server else 0)
        return [Hit(*h) for h in hits]

    def prefix(self, field: str, prefix: Any = b"", limit: int = 0,
               server: bool = False) -> List[Hit]:
        (hits,) = _c.zkc_index_prefix(self._handle(), field, _key(prefix, "prefix"), int(limit),
                                      8 if server else 0)
        return [Hit(*h) for h in hits]

    def range(self, field: str, lo: Any = None, hi: Any = None, limit: int = 0,
              server: bool = False) -> List[Hit]:
        """Values v with lo <= v < hi (None: open end)."""
        (hits,) = _c.zkc_index_range(self._handle(), field,
                                     None if lo is None else _key(lo, "lo"),
                                     None if hi is None else _key(hi, "hi"), int(limit),
                                     8 if server else 0)
        return [Hit(*h) for h in hits]

    def sync(self, timeout: Optional[float] = None) -> None:
        _c.zkc_index_sync(self._handle(), _ms(timeout))

    @staticmethod
    def _report(raw: Any) -> IndexReport:
        records, entries, issues, repaired = raw
        return IndexReport(records, entries, [IndexIssue(*i) for i in issues], repaired)

    def verify(self) -> IndexReport:
        (raw,) = _c.zkc_index_verify(self._handle())
        return self._report(raw)

    def rebuild(self) -> IndexReport:
        (raw,) = _c.zkc_index_rebuild(self._handle())
        return self._report(raw)

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Index", "Record", "Hit", "IndexIssue", "IndexReport", "Lock", "Lease", "LockEvent", "RWLock", "Semaphore", "SemaphoreLease", "Counter",
           "Queue", "QueueItem", "Cache", "CacheEvent", "Election", "Participant", "Barrier",
           "DoubleBarrier", "PersistentNode", "Registration", "Router", "Endpoint", "Instance"]
