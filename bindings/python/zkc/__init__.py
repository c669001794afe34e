"""zkc: a high-level ZooKeeper client (Python binding of the zkc C SDK).

    import zkc
    with zkc.Client("zk://127.0.0.1:2181") as client:
        client.create("/app/config", b"v1", makepath=True)
        data, stat = client.get("/app/config")

See docs/python.md for the tour: nodes, transactions, batches, watches,
recipes (lock, counter, queue, cache, election, ...), asyncio (zkc.aio).
"""
from . import _zkc_c
from ._errors import (Error, NoNodeError, NodeExistsError, BadVersionError, NotEmptyError,
                      NoAuthError, AuthFailedError, InvalidACLError,
                      NoChildrenForEphemeralsError, ConnectionLossError, SessionExpiredError,
                      TimeoutError, UnknownOutcomeError, TLSError, BadArgumentsError,
                      TooLargeError, URLError, ClosedError, InvalidStateError, CancelledError,
                      LostError, WouldBlockError, NotSupportedError, DeadlockError, error_for)
from ._client import (Client, Transaction, Batch, ZnodeStat, State, EventType, WatchedEvent,
                      Mode, Retry, TLS, ACL, OPEN_ACL_UNSAFE, CREATOR_ALL_ACL, READ_ACL_UNSAFE,
                      PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN, PERM_ALL,
                      digest_acl)
from ._recipes import (Lock, Lease, LockEvent, RWLock, Semaphore, SemaphoreLease, Counter,
                       Queue, QueueItem, Cache, CacheEvent, Election, ElectionEvent,
                       LeadershipEvent, LeadershipReason, Participant, Barrier,
                       DoubleBarrier, PersistentNode, Registration, Router, Endpoint, Instance,
                       Index, Record, Hit, IndexIssue, IndexReport)

__version__ = "0.1.0"

#: Version of the C library this module runs on.
core_version: str = str(_zkc_c.zkc_version())

MAX_DATA_LEN: int = _zkc_c.ZKC_MAX_DATA_LEN

__all__ = [
    "Client", "Transaction", "Batch", "ZnodeStat", "State", "EventType", "WatchedEvent", "Mode",
    "Retry", "TLS", "ACL", "OPEN_ACL_UNSAFE", "CREATOR_ALL_ACL", "READ_ACL_UNSAFE", "PERM_READ",
    "PERM_WRITE", "PERM_CREATE", "PERM_DELETE", "PERM_ADMIN", "PERM_ALL", "digest_acl",
    "Error", "NoNodeError", "NodeExistsError", "BadVersionError", "NotEmptyError",
    "NoAuthError", "AuthFailedError", "InvalidACLError", "NoChildrenForEphemeralsError",
    "ConnectionLossError", "SessionExpiredError", "TimeoutError", "UnknownOutcomeError",
    "TLSError", "BadArgumentsError", "TooLargeError", "URLError", "ClosedError",
    "InvalidStateError", "CancelledError", "LostError", "WouldBlockError", "NotSupportedError",
    "DeadlockError", "error_for", "Lock", "Lease", "LockEvent", "RWLock", "Semaphore",
    "SemaphoreLease", "Counter", "Queue", "QueueItem", "Cache", "CacheEvent", "Election",
    "ElectionEvent", "LeadershipEvent", "LeadershipReason",
    "Participant", "Barrier", "DoubleBarrier", "PersistentNode", "Registration", "Router",
    "Endpoint", "Instance", "Index", "Record", "Hit", "IndexIssue", "IndexReport", "core_version", "MAX_DATA_LEN", "__version__",
]

from . import aio  # noqa: E402  (zkc.aio: the asyncio API)
