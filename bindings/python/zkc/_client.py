"""The client: one ZooKeeper session that survives faults, node operations,
transactions, batches, watches and state listeners.

Every blocking call releases the GIL while the C core waits. Notifications
(watches, state changes, cache events) never arrive on a C thread: they are
read from the client's event queue through its file descriptor, by a Python
thread this module owns (``Client``) or by the asyncio loop (``zkc.aio``).
"""
from __future__ import annotations

import enum
import itertools
import logging
import os
import queue as _queue
import select
import threading
import weakref
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple, Union)

from . import _zkc_c as _c
from . import _errors as E

if TYPE_CHECKING:
    from ._recipes import (Lock, RWLock, Semaphore, Counter, Queue, Cache, Election, Barrier,
                           DoubleBarrier, PersistentNode, Registration, Router, Index)

log = logging.getLogger("zkc")

BytesLike = Union[bytes, bytearray, memoryview]


class ZnodeStat(NamedTuple):
    """A node's metadata, as ZooKeeper keeps it."""
    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeral_owner: int
    data_length: int
    num_children: int
    pzxid: int

    @property
    def created(self) -> float:
        """Creation time, seconds since the epoch."""
        return self.ctime / 1000.0

    @property
    def last_modified(self) -> float:
        """Last modification time, seconds since the epoch."""
        return self.mtime / 1000.0


_c.zkc_py_set_hooks(E.error_for, ZnodeStat)


class State(enum.IntEnum):
    """Connection states (``zkc_state_t``)."""
    CONNECTING = 0
    CONNECTED = 1
    SUSPENDED = 2
    RECONNECTED = 3
    LOST = 4
    CLOSED = 5


_STATES = tuple(State)


class EventType(enum.IntEnum):
    """Event types (``zkc_event_type_t``)."""
    STATE = 1
    CREATED = 2
    DELETED = 3
    CHANGED = 4
    CHILD = 5
    CANCELLED = 6
    HOSTS = 7
    CACHE_ADDED = 8
    CACHE_UPDATED = 9
    CACHE_REMOVED = 10
    CACHE_INITIALIZED = 11
    CACHE_SUSPENDED = 12
    CACHE_RESYNCED = 13
    CACHE_OVERFLOW = 14
    CACHE_RESET = 15
    #: the ensemble lost its data: zxids and tokens from before are not
    #: comparable with later ones (docs/decisions/0006-history-reset.md)
    HISTORY_RESET = 32


class WatchedEvent(NamedTuple):
    """What a watch, a state listener or an event iterator receives."""
    type: EventType
    state: State
    path: Optional[str]
    session_id: int


class Mode(enum.IntEnum):
    """Creation modes (``zkc_mode_t``)."""
    PERSISTENT = 0
    EPHEMERAL = 1
    PERSISTENT_SEQUENTIAL = 2
    EPHEMERAL_SEQUENTIAL = 3
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


# Permission bits and ready-made ACLs: an ACL is a list of (perms, scheme, id).
PERM_READ = 1
PERM_WRITE = 2
PERM_CREATE = 4
PERM_DELETE = 8
PERM_ADMIN = 16
PERM_ALL = 0x1F

ACL = Tuple[int, str, str]
OPEN_ACL_UNSAFE: List[ACL] = [(PERM_ALL, "world", "anyone")]
CREATOR_ALL_ACL: List[ACL] = [(PERM_ALL, "auth", "")]
READ_ACL_UNSAFE: List[ACL] = [(PERM_READ, "world", "anyone")]


def digest_acl(user: str, password: str, perms: int = PERM_ALL) -> ACL:
    """An ACL entry granting `perms` to digest credentials user:password."""
    (ident,) = _c.zkc_acl_digest_id(user, password)
    return (perms, "digest", ident)


class _AclList:
    """Owns a C ACL list built from (perms, scheme, id) tuples."""

    def __init__(self, acl: Sequence[ACL]) -> None:
        self.ptr: Any = None
        self.ptr = _c.zkc_py_acl_list(list(acl))

    def __del__(self) -> None:
        p, self.ptr = self.ptr, None
        if p is not None:
            _c.delete_zkc_acl_list_t(p)


def _acl_list(acl: Optional[Sequence[ACL]]) -> Any:
    """The C ACL list for a call; the holder must stay referenced while C
    may read it (the caller keeps it in a local or attribute)."""
    if acl is None:
        return None
    if isinstance(acl, (str, bytes)):
        raise TypeError("acl must be a sequence of (perms, scheme, id) tuples")
    return _AclList(acl)


def _acl_ptr(holder: Any) -> Any:
    return None if holder is None else holder.ptr


def _ms(timeout: Optional[float], what: str = "timeout") -> int:
    """Seconds (None = forever) to the C core's milliseconds (-1 = forever)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"{what} must be >= 0 seconds or None")
    ms = int(timeout * 1000)
    return min(ms, 2**31 - 1)


def _check_path(path: object) -> str:
    if not isinstance(path, str):
        raise TypeError(f"path must be str, not {type(path).__name__}")
    return path


def _check_data(data: object) -> BytesLike:
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    if data is None:
        return b""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
    return data


def _check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError("version must be an int")
    if not -1 <= version <= 2**31 - 1:
        raise ValueError("version must be -1 (any) or a znode version")
    return version


class Retry(NamedTuple):
    """A retry policy: bounded exponential backoff with jitter, in seconds."""
    base: float = 0.02
    max: float = 1.0
    max_attempts: int = 0
    deadline: float = 30.0


class TLS(NamedTuple):
    """TLS to the servers: PEM files, verification of the host name on by
    default."""
    ca_file: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    key_password: Optional[str] = None
    server_name: Optional[str] = None
    verify_host: bool = True


WatchFn = Callable[[WatchedEvent], Any]
ListenerFn = Callable[[State], Any]


class _Dispatcher:
    """Reads the client's event queue and routes each event: watches by their
    payload token, cache events to their cache, state changes to listeners;
    recipes add their own queues' fds (lock events) with a drain function.

    In thread mode a daemon thread owned by the client waits on the fds (and
    a wake-up pipe) and runs the callbacks; in loop mode (zkc.aio) the
    asyncio loop calls the drains when an fd is readable."""

    def __init__(self, handle: Any) -> None:
        self._h = handle
        self._lock = threading.Lock()
        self._drain_lock = threading.RLock()
        self._tokens = itertools.count(1)
        self._handlers: Dict[int, Tuple[Callable[[WatchedEvent], Any], bool]] = {}
        self._extra: Dict[int, Callable[[], None]] = {}
        self.listeners: List[ListenerFn] = []
        self.state_waiters: List[Callable[[State], Any]] = []
        self.fd: int = _c.zkc_events_fd(handle)
        self._thread: Optional[threading.Thread] = None
        self._wake_r = self._wake_w = -1
        self._stopping = False
        self.loop_add: Optional[Callable[[int, Callable[[], None]], None]] = None
        self.loop_remove: Optional[Callable[[int], None]] = None

    def register(self, fn: Callable[[WatchedEvent], Any], once: bool = True) -> int:
        token = next(self._tokens)
        with self._lock:
            self._handlers[token] = (fn, once)
        return token

    def unregister(self, token: int) -> None:
        with self._lock:
            self._handlers.pop(token, None)

    def add_fd(self, fd: int, drain: Callable[[], None]) -> None:
        with self._drain_lock:
            self._extra[fd] = drain
        if self.loop_add is not None:
            self.loop_add(fd, drain)
        self._wake()

    def remove_fd(self, fd: int) -> None:
        """After it returns, the fd's drain is not running and will not run."""
        if self.loop_remove is not None:
            self.loop_remove(fd)
        with self._drain_lock:
            self._extra.pop(fd, None)
        self._wake()

    def _wake(self) -> None:
        if self._thread is not None and self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"r")
            except OSError:
                pass

    def start_thread(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._thread = threading.Thread(target=self._run, name="zkc-events", daemon=True)
        self._thread.start()

    def on_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def _run(self) -> None:
        while not self._stopping:
            fds = [self.fd, self._wake_r] + list(self._extra)
            try:
                r, _, _ = select.select(fds, [], [])
            except InterruptedError:
                continue
            except (OSError, ValueError):
                if self._stopping:
                    return
                continue  # an extra fd closed under us: take the new set
            if self._wake_r in r:
                try:
                    os.read(self._wake_r, 512)
                except OSError:
                    pass
            if self._stopping:
                return
            if self.fd in r:
                self.drain()
            for fd in r:
                if fd in (self.fd, self._wake_r):
                    continue
                with self._drain_lock:
                    fn = self._extra.get(fd)
                    if fn is not None:
                        self._call(lambda _: fn(), None)

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            os.write(self._wake_w, b"x")
            if threading.current_thread() is not self._thread:
                self._thread.join()
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1
            self._thread = None

    def drain(self) -> None:
        while not self._stopping:
            rc, ev = _c.zkc_events_next(self._h, 0)
            if rc != 0 or ev is None:
                return
            self._dispatch(ev)

    def _dispatch(self, raw: Tuple[int, int, Optional[str], int, int]) -> None:
        etype, state, path, sid, token = raw
        try:
            event = WatchedEvent(EventType(etype), State(state), path, sid)
        except ValueError:
            return
        if etype == EventType.STATE:
            for fn in list(self.state_waiters) + list(self.listeners):
                self._call(fn, event.state)
            return
        if not token:
            return
        with self._lock:
            entry = self._handlers.get(token)
            if entry is not None and entry[1]:
                del self._handlers[token]
        if entry is not None:
            self._call(entry[0], event)

    @staticmethod
    def _call(fn: Callable[[Any], Any], arg: Any) -> None:
        try:
            fn(arg)
        except Exception:  # a callback's failure must not stop the others
            log.exception("zkc: callback %r failed", fn)


class Client:
    """A ZooKeeper client: ``zkc.Client(url=None, **options)``.

    ``url`` defaults to ``$ZKC_URL`` (``zk://h1:2181,h2:2181/chroot``,
    ``zk+dns://``, ``zk+srv://``, ``zk+k8s://``, ``zks://`` for TLS). The
    constructor waits up to ``connect_timeout`` seconds for the first session
    (``connect_timeout=0`` returns at once and connects in the background).
    Use it as a context manager, or call :meth:`close`.

    Options: ``session_timeout``, ``connect_timeout`` (seconds), ``chroot``,
    ``digest`` (``"user:password"``, re-applied on every new session),
    ``acl`` (default ACL of creates: a list of ``(perms, scheme, id)``),
    ``retry`` (:class:`Retry`), ``tls`` (:class:`TLS`).
    """

    def __init__(self, url: Optional[str] = None, *, session_timeout: Optional[float] = None,
                 connect_timeout: Optional[float] = None, chroot: Optional[str] = None,
                 digest: Optional[str] = None, acl: Optional[Sequence[ACL]] = None,
                 retry: Optional[Retry] = None, tls: Optional[TLS] = None,
                 _loop_mode: bool = False) -> None:
        self._h: Any = None
        self._closed = False
        if url is not None and not isinstance(url, str):
            raise TypeError("url must be str or None")
        for name, val in (("chroot", chroot), ("digest", digest)):
            if val is not None and not isinstance(val, str):
                raise TypeError(f"{name} must be str or None")
        opts = _c.new_zkc_options_t()
        try:
            _c.zkc_options_t_version_set(opts, _c.ZKC_OPTIONS_VERSION)
            if session_timeout is not None:
                _c.zkc_options_t_session_timeout_ms_set(
                    opts, max(1, _ms(session_timeout, "session_timeout")))
            if connect_timeout is not None:
                ms = _ms(connect_timeout, "connect_timeout")
                _c.zkc_options_t_connect_timeout_ms_set(opts, ms if ms > 0 else -1)
            if retry is not None:
                if not isinstance(retry, Retry):
                    raise TypeError("retry must be a zkc.Retry")
                r = _c.zkc_options_t_retry_get(opts)
                _c.zkc_retry_t_version_set(r, _c.ZKC_RETRY_VERSION)
                _c.zkc_retry_t_base_ms_set(r, _ms(retry.base, "retry.base"))
                _c.zkc_retry_t_max_ms_set(r, _ms(retry.max, "retry.max"))
                _c.zkc_retry_t_max_attempts_set(r, int(retry.max_attempts))
                _c.zkc_retry_t_deadline_ms_set(r, _ms(retry.deadline, "retry.deadline"))
            self._acl = _acl_list(acl)
            t = None
            strs: Tuple[Optional[str], ...] = (None,) * 5
            if tls is not None:
                if not isinstance(tls, TLS):
                    raise TypeError("tls must be a zkc.TLS")
                t = _c.new_zkc_tls_options_t()
                _c.zkc_tls_options_t_version_set(t, _c.ZKC_TLS_OPTIONS_VERSION)
                _c.zkc_tls_options_t_verify_host_set(t, 1 if tls.verify_host else 0)
                strs = (tls.ca_file, tls.cert_file, tls.key_file, tls.key_password,
                        tls.server_name)
            try:
                (self._h,) = _c.zkc_py_open(url, opts, chroot, digest, _acl_ptr(self._acl), t,
                                            *strs)
            finally:
                if t is not None:
                    _c.delete_zkc_tls_options_t(t)
        finally:
            _c.delete_zkc_options_t(opts)
        self._events = _Dispatcher(self._h)
        self._children: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._loop_mode = _loop_mode
        if not _loop_mode:
            self._events.start_thread()

    # ------------------------------------------------------------ lifecycle

    def _handle(self) -> Any:
        h = self._h
        if h is None:
            raise E.closed("client")
        return h

    def close(self) -> None:
        """Closes the session (its ephemeral nodes go at once) and frees the
        client. Close recipes and caches opened on it first. Calling it again
        does nothing."""
        h = self._h
        if h is None:
            return
        for child in list(self._children):
            try:
                child.close()
            except Exception:
                log.exception("zkc: closing %r failed", child)
        self._h = None
        self._closed = True
        self._events.stop()
        _c.zkc_close(h)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_h", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    @property
    def closed(self) -> bool:
        return self._h is None

    @property
    def state(self) -> State:
        """The connection state (``State.CLOSED`` after close)."""
        h = self._h
        return State.CLOSED if h is None else _STATES[_c.zkc_state(h)]

    @property
    def connected(self) -> bool:
        return self.state in (State.CONNECTED, State.RECONNECTED)

    def wait_connected(self, timeout: Optional[float] = None) -> None:
        """Waits until CONNECTED or RECONNECTED; raises zkc.TimeoutError."""
        _c.zkc_wait_connected(self._handle(), _ms(timeout))

    @property
    def servers(self) -> str:
        """The server list the host provider currently gives."""
        return str(_c.zkc_servers(self._handle())[0])

    @property
    def current_server(self) -> Optional[str]:
        """The server the session is connected to (``ip:port``), or None."""
        try:
            return str(_c.zkc_current_server(self._handle())[0])
        except E.InvalidStateError:
            return None

    def set_retry(self, retry: Retry) -> None:
        """Replaces the default retry policy of later calls."""
        r = _c.new_zkc_retry_t()
        try:
            _c.zkc_retry_t_version_set(r, _c.ZKC_RETRY_VERSION)
            _c.zkc_retry_t_base_ms_set(r, _ms(retry.base))
            _c.zkc_retry_t_max_ms_set(r, _ms(retry.max))
            _c.zkc_retry_t_max_attempts_set(r, int(retry.max_attempts))
            _c.zkc_retry_t_deadline_ms_set(r, _ms(retry.deadline))
            _c.zkc_set_retry(self._handle(), r)
        finally:
            _c.delete_zkc_retry_t(r)

    # ------------------------------------------------------------ listeners

    def add_listener(self, fn: ListenerFn) -> None:
        """Calls ``fn(state)`` on the client's event thread at every state
        change (SUSPENDED, RECONNECTED, LOST, CONNECTED...)."""
        if not callable(fn):
            raise TypeError("listener must be callable")
        self._handle()
        self._events.listeners.append(fn)

    def remove_listener(self, fn: ListenerFn) -> None:
        try:
            self._events.listeners.remove(fn)
        except ValueError:
            pass

    def states(self, timeout: Optional[float] = None) -> Iterator[State]:
        """A blocking iterator over state changes from now on; it ends after
        ``timeout`` seconds without one (None: never) or at CLOSED."""
        q: "_queue.Queue[State]" = _queue.Queue()
        self._events.state_waiters.append(q.put)  # now, not at the first next()
        return self._iter_states(q, timeout)

    def _iter_states(self, q: "_queue.Queue[State]",
                     timeout: Optional[float]) -> Iterator[State]:
        try:
            while True:
                try:
                    s = q.get(timeout=timeout)
                except _queue.Empty:
                    return
                yield s
                if s == State.CLOSED:
                    return
        finally:
            try:
                self._events.state_waiters.remove(q.put)
            except ValueError:
                pass

    def _watch_token(self, watch: Optional[WatchFn]) -> int:
        if watch is None:
            return 0
        if not callable(watch):
            raise TypeError("watch must be callable")
        return self._events.register(watch)

    # ------------------------------------------------------------ nodes

    def create(self, path: str, value: BytesLike = b"", *, ephemeral: bool = False,
               sequence: bool = False, mode: Optional[Mode] = None, ttl: Optional[float] = None,
               protected: bool = False, makepath: bool = False,
               acl: Optional[Sequence[ACL]] = None, include_stat: bool = False) -> Any:
        """Creates a node and returns its actual path (with the sequence
        suffix or protected prefix), or ``(path, stat)`` with include_stat.

        ``mode`` overrides ephemeral/sequence (``Mode.CONTAINER``,
        ``Mode.PERSISTENT_WITH_TTL`` with ``ttl`` in seconds...);
        ``makepath`` creates missing parents; ``protected`` puts a GUID in
        the name so a create whose reply was lost is found, not repeated."""
        _check_path(path)
        value = _check_data(value)
        if mode is None:
            mode = Mode(int(ephemeral) | (int(sequence) << 1))
            if ttl is not None:
                mode = Mode.PERSISTENT_SEQUENTIAL_WITH_TTL if sequence else \
                    Mode.PERSISTENT_WITH_TTL
        flags = (1 if makepath else 0) | (2 if protected else 0)
        ttl_ms = 0 if ttl is None else _ms(ttl, "ttl")
        acl_obj = _acl_list(acl)
        created, stat = _c.zkc_py_create(self._handle(), path, value, int(mode), flags, ttl_ms,
                                         _acl_ptr(acl_obj))
        return (created, stat) if include_stat else created

    def ensure_path(self, path: str, acl: Optional[Sequence[ACL]] = None) -> None:
        """Creates the node and its parents if missing (persistent, empty)."""
        try:
            self.create(path, b"", makepath=True, acl=acl)
        except E.NodeExistsError:
            pass

    def get(self, path: str, watch: Optional[WatchFn] = None) -> Tuple[bytes, ZnodeStat]:
        """The node's data and stat; ``watch(event)`` fires once on its
        next change or deletion (on the client's event thread)."""
        _check_path(path)
        if watch is None:
            return _c.zkc_get(self._handle(), path)  # type: ignore[no-any-return]
        token = self._watch_token(watch)
        try:
            return _c.zkc_get_w(self._handle(), path, token)  # type: ignore[no-any-return]
        except BaseException:
            self._events.unregister(token)
            raise

    def set(self, path: str, value: BytesLike, version: int = -1) -> ZnodeStat:
        """Writes the node's data if its version is ``version`` (-1: any);
        returns the new stat."""
        _check_path(path)
        (stat,) = _c.zkc_set(self._handle(), path, _check_data(value), _check_version(version))
        return stat  # type: ignore[no-any-return]

    def delete(self, path: str, version: int = -1, recursive: bool = False) -> None:
        """Deletes the node (at ``version``; -1: any), with its subtree when
        ``recursive``."""
        _check_path(path)
        _c.zkc_delete(self._handle(), path, _check_version(version), 1 if recursive else 0)

    def exists(self, path: str, watch: Optional[WatchFn] = None) -> Optional[ZnodeStat]:
        """The node's stat, or None if it does not exist; ``watch`` fires on
        its creation, change or deletion."""
        _check_path(path)
        token = self._watch_token(watch)
        try:
            if token:
                (stat,) = _c.zkc_exists_w(self._handle(), path, token)
            else:
                (stat,) = _c.zkc_exists(self._handle(), path)
            return stat  # type: ignore[no-any-return]
        except E.NoNodeError:
            return None
        except BaseException:
            self._events.unregister(token)
            raise

    def children(self, path: str, watch: Optional[WatchFn] = None,
                 include_stat: bool = False) -> Any:
        """The node's children names (in the server's order), or
        ``(names, stat)`` with include_stat; ``watch`` fires when they
        change."""
        _check_path(path)
        token = self._watch_token(watch)
        try:
            if token:
                names, stat = _c.zkc_children_w(self._handle(), path, token)
            else:
                names, stat = _c.zkc_children(self._handle(), path)
        except BaseException:
            self._events.unregister(token)
            raise
        return (names, stat) if include_stat else names

    get_children = children

    def get_acl(self, path: str) -> Tuple[List[ACL], ZnodeStat]:
        """The node's ACL, a list of (perms, scheme, id), and its stat."""
        b = self.batch()
        try:
            b.get_acl(path)
            (r,) = b.run()
        finally:
            b.free()
        if isinstance(r, E.Error):
            raise r
        return r  # type: ignore[no-any-return]

    def sync(self, path: str) -> None:
        """Waits until the connected server has caught up with the leader."""
        _c.zkc_sync(self._handle(), _check_path(path))

    # ------------------------------------------------------------ groups

    def transaction(self) -> "Transaction":
        """A transaction: operations that commit together or not at all.

        ``with client.transaction() as t: t.create(...); t.set(...)`` commits
        when the block ends without an exception; ``t.results`` then holds
        one result per operation."""
        return Transaction(self)

    def batch(self) -> "Batch":
        """A pipelined batch: independent operations sent back to back and
        answered together, in one round trip."""
        return Batch(self)

    # ------------------------------------------------------------ recipes

    def lock(self, path: str, *, timeout: Optional[float] = None, reentrant: bool = False,
             sticky: bool = False, data: BytesLike = b"",
             acl: Optional[Sequence[ACL]] = None) -> "Lock":
        """A lock handle on directory ``path``: ``with client.lock(p,
        timeout=5) as lease:`` (see :class:`zkc.Lock`)."""
        from ._recipes import Lock
        return Lock(self, path, timeout=timeout, reentrant=reentrant, sticky=sticky, data=data,
                    acl=acl)

    def rwlock(self, path: str, *, timeout: Optional[float] = None,
               acl: Optional[Sequence[ACL]] = None) -> "RWLock":
        from ._recipes import RWLock
        return RWLock(self, path, timeout=timeout, acl=acl)

    def semaphore(self, path: str, max_leases: int, *,
                  acl: Optional[Sequence[ACL]] = None) -> "Semaphore":
        from ._recipes import Semaphore
        return Semaphore(self, path, max_leases, acl=acl)

    def counter(self, path: str, *, shards: int = 0,
                timeout: Optional[float] = None) -> "Counter":
        from ._recipes import Counter
        return Counter(self, path, shards=shards, timeout=timeout)

    def queue(self, path: str, *, create: bool = True, bucket_size: int = 10000,
              acl: Optional[Sequence[ACL]] = None) -> "Queue":
        from ._recipes import Queue
        return Queue(self, path, create=create, bucket_size=bucket_size, acl=acl)

    def cache(self, path: str, *, depth: int = -1, data: bool = True, max_nodes: int = 0,
              max_bytes: int = 0) -> "Cache":
        from ._recipes import Cache
        return Cache(self, path, depth=depth, data=data, max_nodes=max_nodes,
                     max_bytes=max_bytes)

    def election(self, path: str, id: str = "", *, step_down_on_lost_only: bool = False,
                 acl: Optional[Sequence[ACL]] = None) -> "Election":
        from ._recipes import Election
        return Election(self, path, id, step_down_on_lost_only=step_down_on_lost_only, acl=acl)

    def barrier(self, path: str) -> "Barrier":
        from ._recipes import Barrier
        return Barrier(self, path)

    def double_barrier(self, path: str, count: int, id: Optional[str] = None) -> "DoubleBarrier":
        from ._recipes import DoubleBarrier
        return DoubleBarrier(self, path, count, id)

    def persistent_node(self, path: str, data: BytesLike = b"",
                        sequential: bool = False) -> "PersistentNode":
        from ._recipes import PersistentNode
        return PersistentNode(self, path, data, sequential)

    def register(self, service_path: str, id: str, address: str, port: int, *,
                 weight: int = 1, draining: bool = False, metadata: BytesLike = b"",
                 replace: bool = False) -> "Registration":
        """Registers a service instance (kept across session loss)."""
        from ._recipes import Registration
        return Registration(self, service_path, id, address, port, weight=weight,
                            draining=draining, metadata=metadata, replace=replace)

    def index(self, path: str, *, cache: bool = True, cache_records: bool = False,
              timeout: Optional[float] = None) -> "Index":
        """A handle on the index collection at ``path`` (see
        :meth:`zkc.Index.create`)."""
        from ._recipes import Index
        return Index(self, path, cache=cache, cache_records=cache_records, timeout=timeout)

    def router(self, service_path: str, timeout: Optional[float] = 30.0) -> "Router":
        from ._recipes import Router
        return Router(self, service_path, timeout)

    # ------------------------------------------------------------ testing

    def expire_session(self, timeout: float = 10.0) -> None:
        """Ends the current session from the outside (for tests): the client
        hears LOST, then makes a new session."""
        _c.zkc_testing_expire_session(self._handle(), _ms(timeout))

    @property
    def session_id(self) -> int:
        """The current session's id, 0 when there is none (local, no
        round trip)."""
        return self._session_id()

    def _session_id(self) -> int:
        info = self._session_info()
        return 0 if info is None else info[0]

    def _session_info(self) -> Optional[Tuple[int, int, bytes]]:
        try:
            (info,) = _c.zkc_session_info(self._handle())
        except E.InvalidStateError:
            return None
        return (int(info[0]), int(info[1]), bytes(info[2]))

    @property
    def client_id(self) -> Optional[Tuple[int, bytes]]:
        """The current session as ``(session_id, password)``, None when
        there is none."""
        info = self._session_info()
        return None if info is None else (info[0], info[2])


def _result_of(kind: str, code: int, data: Optional[bytes], stat: Optional[ZnodeStat],
               path: Optional[str], kids: Optional[List[str]],
               acl: Optional[List[ACL]] = None) -> Any:
    if code == 0:
        if kind == "get_acl":
            return (acl, stat)
        if kind == "get":
            return (data, stat)
        if kind == "exists":
            return stat
        if kind == "children":
            return kids
        if kind == "create":
            return path
        if kind == "set":
            return stat
        return None
    if kind == "exists" and code == E.ENONODE:
        return None
    return E.error_for(code, str(_c.zkc_strerror(code)))


class Transaction:
    """Operations that commit together in one ``multi`` or not at all."""

    def __init__(self, client: Client, _multi: Any = None, _offset: int = 0) -> None:
        self._client = client
        self._m = _multi if _multi is not None else _c.zkc_multi_new()[0]
        self._kinds: List[str] = ["check"] * _offset
        self._offset = _offset
        self._acls: List[Any] = []
        self.results: Optional[List[Any]] = None
        self.committed = False

    def _multi(self) -> Any:
        if self._m is None:
            raise E.closed("transaction")
        return self._m

    def create(self, path: str, value: BytesLike = b"", *, ephemeral: bool = False,
               sequence: bool = False, mode: Optional[Mode] = None,
               acl: Optional[Sequence[ACL]] = None) -> "Transaction":
        _check_path(path)
        if mode is None:
            mode = Mode(int(ephemeral) | (int(sequence) << 1))
        a = _acl_list(acl)
        self._acls.append(a)
        _c.zkc_multi_create(self._multi(), path, _check_data(value), int(mode),
                            _acl_ptr(a))
        self._kinds.append("create")
        return self

    def set(self, path: str, value: BytesLike, version: int = -1) -> "Transaction":
        _c.zkc_multi_set(self._multi(), _check_path(path), _check_data(value),
                         _check_version(version))
        self._kinds.append("set")
        return self

    set_data = set

    def delete(self, path: str, version: int = -1) -> "Transaction":
        _c.zkc_multi_delete(self._multi(), _check_path(path), _check_version(version))
        self._kinds.append("delete")
        return self

    def check(self, path: str, version: int) -> "Transaction":
        _c.zkc_multi_check(self._multi(), _check_path(path), _check_version(version))
        self._kinds.append("check")
        return self

    def commit(self) -> List[Any]:
        """Commits. Returns one result per operation (created path, new stat
        or None); raises the failing operation's error (with ``results``,
        where that operation holds its exception) if nothing was applied."""
        m = self._multi()
        try:
            rc, raw = _c.zkc_multi_commit(self._client._handle(), m)
            msg = _c.zkc_py_error_last()[1] if rc else ""
        finally:
            self.free()
        results: List[Any] = []
        for kind, (code, path, stat) in zip(self._kinds, raw):
            if code == 0 and rc:
                results.append(None)  # rolled back with the failing op
            elif code == 0:
                results.append(path if kind == "create" else stat if kind == "set" else None)
            else:
                results.append(E.error_for(code, str(_c.zkc_strerror(code))))
        self.results = results[self._offset:]
        if rc:
            err = E.error_for(rc, msg)
            err.results = self.results  # type: ignore[attr-defined]
            raise err
        self.committed = True
        return self.results

    def free(self) -> None:
        m, self._m = self._m, None
        if m is not None:
            _c.zkc_multi_free(m)

    def __len__(self) -> int:
        return len(self._kinds) - self._offset

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is None and self._m is not None:
            self.commit()
        else:
            self.free()

    def __del__(self) -> None:
        self.free()


class Batch:
    """Pipelined operations: each succeeds or fails on its own, all are sent
    back to back and answered in one round trip. Add operations, then
    :meth:`run`: it returns one result per operation, in order, where a
    failed one holds its exception (``exists`` of a missing node: None)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._b = _c.zkc_batch_new()[0]
        self._kinds: List[str] = []
        self._tokens: List[int] = []
        self._acls: List[Any] = []
        # sent by zkc.aio and not back yet: the C batch belongs to zkc
        self._inflight = False
        self._free_when_back = False

    def _batch(self) -> Any:
        if self._b is None:
            raise E.closed("batch")
        if self._inflight:
            raise E.error_for(E.EBADARGUMENTS, "the batch is running")
        return self._b

    def _add(self, kind: str, index: int, token: int = 0) -> int:
        self._kinds.append(kind)
        self._tokens.append(token)
        return index

    def _watched(self, kind: str, fn: Any, path: str, watch: Optional[WatchFn]) -> int:
        _check_path(path)
        b = self._batch()
        token = self._client._watch_token(watch)
        try:
            return self._add(kind, fn(b, path, 1 if token else 0, token), token)
        except BaseException:
            if token:
                self._client._events.unregister(token)
            raise

    def get(self, path: str, watch: Optional[WatchFn] = None) -> int:
        return self._watched("get", _c.zkc_batch_get, path, watch)

    def exists(self, path: str, watch: Optional[WatchFn] = None) -> int:
        return self._watched("exists", _c.zkc_batch_exists, path, watch)

    def children(self, path: str, watch: Optional[WatchFn] = None) -> int:
        return self._watched("children", _c.zkc_batch_children, path, watch)

    def create(self, path: str, value: BytesLike = b"", *, ephemeral: bool = False,
               sequence: bool = False, mode: Optional[Mode] = None, ttl: Optional[float] = None,
               protected: bool = False, acl: Optional[Sequence[ACL]] = None) -> int:
        if mode is None:
            mode = Mode(int(ephemeral) | (int(sequence) << 1))
        a = _acl_list(acl)
        self._acls.append(a)
        return self._add("create", _c.zkc_py_batch_create(
            self._batch(), _check_path(path), _check_data(value), int(mode),
            2 if protected else 0, 0 if ttl is None else _ms(ttl, "ttl"), _acl_ptr(a)))

    def set(self, path: str, value: BytesLike, version: int = -1) -> int:
        return self._add("set", _c.zkc_batch_set(self._batch(), _check_path(path),
                                                  _check_data(value), _check_version(version)))

    def delete(self, path: str, version: int = -1) -> int:
        return self._add("delete", _c.zkc_batch_delete(self._batch(), _check_path(path),
                                                        _check_version(version)))

    def sync(self, path: str) -> int:
        return self._add("sync", _c.zkc_batch_sync(self._batch(), _check_path(path)))

    def get_acl(self, path: str) -> int:
        """The node's ACL: the result is ``(acl, stat)``."""
        return self._add("get_acl", _c.zkc_batch_get_acl(self._batch(), _check_path(path)))

    def run(self) -> List[Any]:
        """Sends every operation and waits for every reply."""
        b = self._batch()
        try:
            _c.zkc_batch_run(self._client._handle(), b)
        except BaseException:
            self._drop_watches()
            raise
        return self._results(b)

    def _drop_watches(self) -> None:
        for t in self._tokens:
            if t:
                self._client._events.unregister(t)

    def _sent(self, b: Any, tag: int) -> None:
        """Hands the batch to zkc.aio's completion queue under ``tag``."""
        _c.zkc_batch_run_queued(self._client._handle(), b, tag)
        self._inflight = True

    def _back(self, cancelled: bool) -> List[Any]:
        """The batch came back from the completion queue: its results (a
        cancelled waiter's are dropped, with the watches of its ops)."""
        self._inflight = False
        b = self._b
        if self._free_when_back or cancelled:
            self._drop_watches()
            self._kinds, self._tokens, self._acls = [], [], []
            if self._free_when_back:
                self.free()
            elif b is not None:
                _c.zkc_batch_clear(b)
            return []
        return self._results(b)

    def _forget(self) -> None:
        """The client closed with the batch in flight: zkc freed it."""
        self._inflight = False
        self._b = None

    def _results(self, b: Any) -> List[Any]:
        raw = _c.zkc_py_batch_results(b)
        out = []
        for kind, token, (code, data, stat, path, kids, acl) in zip(self._kinds, self._tokens,
                                                                    raw):
            ok = code == 0 or (kind == "exists" and code == E.ENONODE)
            if token and not ok:
                self._client._events.unregister(token)
            out.append(_result_of(kind, code, data, stat, path, kids, acl))
        _c.zkc_batch_clear(b)
        self._kinds = []
        self._tokens = []
        self._acls = []
        return out

    def __len__(self) -> int:
        return len(self._kinds)

    def free(self) -> None:
        if self._inflight:
            self._free_when_back = True
            return
        b, self._b = self._b, None
        if b is not None:
            _c.zkc_batch_free(b)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.free()

    def __del__(self) -> None:
        self.free()
