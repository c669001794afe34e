"""zkc exceptions: one class per status code that callers branch on.

Every failure of the C core arrives as a :class:`zkc.Error` carrying the
numeric ``code``, its symbolic ``name`` (``"ZKC_ENONODE"``) and the detail
message of the C call (path, server, cause).
"""
from __future__ import annotations

import builtins
from typing import Dict, Type

# Status codes (include/zkc/common.h).
OK = 0
ESYSTEM = -1
ECONNECTIONLOSS = -4
EOPERATIONTIMEOUT = -7
EBADARGUMENTS = -8
EINVALIDSTATE = -9
ESSLCONNECTION = -15
ENONODE = -101
ENOAUTH = -102
EBADVERSION = -103
ENOCHILDRENFOREPHEMERALS = -108
ENODEEXISTS = -110
ENOTEMPTY = -111
ESESSIONEXPIRED = -112
EINVALIDACL = -114
EAUTHFAILED = -115
EUNKNOWN = -1001
ETIMEDOUT = -1002
ENOMEM = -1003
EURL = -1004
ECLOSED = -1005
EDEADLK = -1006
ETLS = -1007
ETOOLARGE = -1008
EOS = -1009
ECANCELED = -1010
ELOST = -1011
ENOTSUP = -1012
ERESOLVE = -1013
EAGAIN = -1014


class Error(Exception):
    """A zkc failure: ``code`` (negative int), ``name`` and ``message``."""

    code: int = ESYSTEM

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def name(self) -> str:
        from . import _zkc_c
        return str(_zkc_c.zkc_strcode(self.code))

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


class NoNodeError(Error):
    """The node does not exist (``ZKC_ENONODE``)."""


class NodeExistsError(Error):
    """The node already exists (``ZKC_ENODEEXISTS``)."""


class BadVersionError(Error):
    """The node's version is not the one expected (``ZKC_EBADVERSION``)."""


class NotEmptyError(Error):
    """The node has children (``ZKC_ENOTEMPTY``)."""


class NoAuthError(Error):
    """Not authorized by the node's ACL (``ZKC_ENOAUTH``)."""


class AuthFailedError(Error):
    """The server refused the credentials (``ZKC_EAUTHFAILED``)."""


class InvalidACLError(Error):
    """The ACL is not valid (``ZKC_EINVALIDACL``)."""


class NoChildrenForEphemeralsError(Error):
    """Ephemeral nodes cannot have children."""


class ConnectionLossError(Error):
    """The connection was lost; the outcome is not known yet."""


class SessionExpiredError(Error):
    """The session expired (``ZKC_ESESSIONEXPIRED``)."""


class TimeoutError(Error, builtins.TimeoutError):
    """The call's deadline passed (``ZKC_ETIMEDOUT``); also a builtin
    :class:`TimeoutError`."""


class UnknownOutcomeError(Error):
    """A write whose outcome could not be learned (``ZKC_EUNKNOWN``): it may
    or may not have been applied."""


class TLSError(Error):
    """TLS setup or verification failed (``ZKC_ETLS``)."""


class BadArgumentsError(Error, ValueError):
    """Bad input refused before anything was sent (``ZKC_EBADARGUMENTS``);
    also a :class:`ValueError`."""


class TooLargeError(BadArgumentsError):
    """Data or request over ZooKeeper's 1 MiB limit (``ZKC_ETOOLARGE``)."""


class URLError(BadArgumentsError):
    """Malformed connection URL or unknown option (``ZKC_EURL``)."""


class ClosedError(Error):
    """The client (or handle) is closed (``ZKC_ECLOSED``)."""


class InvalidStateError(Error):
    """Not possible in the current state (``ZKC_EINVALIDSTATE``), e.g.
    releasing a lock that is not held."""


class CancelledError(Error):
    """Cancelled by another thread (``ZKC_ECANCELED``)."""


class LostError(Error):
    """The session changed under a session-bound call (``ZKC_ELOST``): a
    lock or lease was lost."""


class WouldBlockError(Error):
    """Nothing available now (``ZKC_EAGAIN``), e.g. a try-lock held by
    another."""


class NotSupportedError(Error):
    """Not supported by this build or server (``ZKC_ENOTSUP``)."""


class DeadlockError(Error):
    """A blocking call from a thread that would wait on itself."""


_BY_CODE: Dict[int, Type[Error]] = {
    ENONODE: NoNodeError,
    ENODEEXISTS: NodeExistsError,
    EBADVERSION: BadVersionError,
    ENOTEMPTY: NotEmptyError,
    ENOAUTH: NoAuthError,
    EAUTHFAILED: AuthFailedError,
    EINVALIDACL: InvalidACLError,
    ENOCHILDRENFOREPHEMERALS: NoChildrenForEphemeralsError,
    ECONNECTIONLOSS: ConnectionLossError,
    ESESSIONEXPIRED: SessionExpiredError,
    ETIMEDOUT: TimeoutError,
    EOPERATIONTIMEOUT: TimeoutError,
    EUNKNOWN: UnknownOutcomeError,
    ETLS: TLSError,
    ESSLCONNECTION: TLSError,
    EBADARGUMENTS: BadArgumentsError,
    ETOOLARGE: TooLargeError,
    EURL: URLError,
    ECLOSED: ClosedError,
    EINVALIDSTATE: InvalidStateError,
    ECANCELED: CancelledError,
    ELOST: LostError,
    EAGAIN: WouldBlockError,
    ENOTSUP: NotSupportedError,
    EDEADLK: DeadlockError,
}


def error_for(code: int, message: str = "") -> Error:
    """The exception instance for a zkc status code."""
    return _BY_CODE.get(code, Error)(code, message)


def closed(what: str) -> ClosedError:
    return ClosedError(ECLOSED, f"{what} is closed")
