"""The client and the node API against a real ensemble."""
from __future__ import annotations

import threading
import time
from typing import List

import pytest

import zkc
from conftest import TIMEOUT, wait_until


def test_version() -> None:
    assert zkc.__version__ == "0.1.0"
    assert zkc.core_version.count(".") == 2


def test_create_get_set_delete(client: zkc.Client, path: str) -> None:
    created = client.create(path, b"one", makepath=True)
    assert created == path
    data, stat = client.get(path)
    assert data == b"one" and stat.version == 0 and stat.data_length == 3
    stat2 = client.set(path, b"two", version=0)
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid
    with pytest.raises(zkc.BadVersionError) as ei:
        client.set(path, b"three", version=0)
    assert ei.value.code == -103 and path in ei.value.message
    client.delete(path, version=1)
    assert client.exists(path) is None
    with pytest.raises(zkc.NoNodeError):
        client.get(path)


def test_modes_and_children(client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    client.ensure_path(path)  # idempotent
    e = client.create(path + "/e", ephemeral=True)
    s1 = client.create(path + "/s-", sequence=True)
    s2 = client.create(path + "/s-", sequence=True)
    assert s1 != s2 and s1.startswith(path + "/s-") and len(s1) == len(path) + 13
    p = client.create(path + "/p-", ephemeral=True, sequence=True, protected=True)
    assert "_c_" in p
    stat = client.exists(e)
    assert stat is not None and stat.ephemeral_owner != 0
    names, pstat = client.children(path, include_stat=True)
    assert sorted(names) == sorted(n.rsplit("/", 1)[1] for n in (e, s1, s2, p))
    assert pstat.num_children == 4
    with pytest.raises(zkc.NotEmptyError):
        client.delete(path)
    client.delete(path, recursive=True)
    assert client.exists(path) is None


def test_ttl_and_container(client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    c = client.create(path + "/c", mode=zkc.Mode.CONTAINER)
    assert client.exists(c) is not None
    try:
        t = client.create(path + "/t", b"x", ttl=60)
    except zkc.Error as e:  # servers without extendedTypesEnabled refuse TTL nodes
        assert e.code in (-6, -8, -100), e
    else:
        assert client.get(t)[0] == b"x"
    client.delete(path, recursive=True)


def test_errors_are_classes(client: zkc.Client, path: str) -> None:
    client.create(path, makepath=True)
    with pytest.raises(zkc.NodeExistsError) as ei:
        client.create(path)
    err = ei.value
    assert isinstance(err, zkc.Error) and err.code == -110 and err.name == "ZKC_ENODEEXISTS"
    assert path in str(err)
    assert issubclass(zkc.TimeoutError, TimeoutError)
    assert issubclass(zkc.BadArgumentsError, ValueError)
    assert isinstance(zkc.error_for(-1002), zkc.TimeoutError)
    assert isinstance(zkc.error_for(-1001), zkc.UnknownOutcomeError)
    assert isinstance(zkc.error_for(-4), zkc.ConnectionLossError)
    assert isinstance(zkc.error_for(-112), zkc.SessionExpiredError)
    assert isinstance(zkc.error_for(-1007), zkc.TLSError)
    assert isinstance(zkc.error_for(-102), zkc.NoAuthError)


def test_bad_input_raises(client: zkc.Client, path: str) -> None:
    with pytest.raises(TypeError):
        client.get(b"/x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.create(path, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.get(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.get("/a\0b")
    with pytest.raises(zkc.BadArgumentsError):
        client.get("relative")
    with pytest.raises(zkc.BadArgumentsError):
        client.get("/trailing/")
    with pytest.raises(zkc.TooLargeError):
        client.create(path, b"x" * (2 * 1024 * 1024), makepath=True)
    with pytest.raises(TypeError):
        client.set(path, b"x", version="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.set(path, b"x", version=-5)
    with pytest.raises(TypeError):
        client.create(path, acl="world")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.create(path, acl=[("all", "world", "anyone")])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        client.wait_connected(-1)
    with pytest.raises(zkc.URLError):
        zkc.Client("bogus://x")
    with pytest.raises(TypeError):
        zkc.Client(42)  # type: ignore[arg-type]
    # memoryview and bytearray are data too
    client.create(path, bytearray(b"ba"), makepath=True)
    client.set(path, memoryview(b"mv"))
    assert client.get(path)[0] == b"mv"


def test_close_twice_and_use_after_close(ensemble_url: str, path: str) -> None:
    c = zkc.Client(ensemble_url)
    assert c.state == zkc.State.CONNECTED
    c.close()
    c.close()
    assert c.state == zkc.State.CLOSED and c.closed
    with pytest.raises(zkc.ClosedError):
        c.get("/")
    with pytest.raises(zkc.ClosedError):
        c.transaction().commit()
    with zkc.Client(ensemble_url) as c2:
        assert c2.exists("/") is not None
    assert c2.closed


def test_watches(client: zkc.Client, path: str) -> None:
    client.create(path, b"a", makepath=True)
    seen: List[zkc.WatchedEvent] = []
    threads: List[threading.Thread] = []

    def on(ev: zkc.WatchedEvent) -> None:
        threads.append(threading.current_thread())
        seen.append(ev)

    client.get(path, watch=on)
    client.exists(path + "/child", watch=on)
    client.children(path, watch=on)
    client.set(path, b"b")
    client.create(path + "/child")
    wait_until(lambda: len(seen) >= 3, what="three watch events")
    kinds = sorted(e.type.name for e in seen)
    assert kinds == ["CHANGED", "CHILD", "CREATED"]
    assert all(e.path in (path, path + "/child") for e in seen)
    assert all(t is not threading.main_thread() for t in threads)
    client.set(path, b"c")  # one-shot: no further event
    client.sync(path)
    time_limit = len(seen)
    assert time_limit == 3


def test_transaction(client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    with client.transaction() as t:
        t.create(path + "/a", b"1")
        t.create(path + "/b", b"2")
        t.check(path, -1)
    assert t.committed and t.results == [path + "/a", path + "/b", None]
    with pytest.raises(zkc.NoNodeError) as ei:
        with client.transaction() as t2:
            t2.set(path + "/a", b"x")
            t2.delete(path + "/missing")
    assert ei.value.results[0] is None  # type: ignore[attr-defined]
    assert isinstance(ei.value.results[1], zkc.NoNodeError)  # type: ignore[attr-defined]
    assert client.get(path + "/a")[0] == b"1"  # nothing applied
    with pytest.raises(RuntimeError):
        with client.transaction() as t3:
            t3.delete(path + "/a")
            raise RuntimeError("abandon")
    assert client.exists(path + "/a") is not None  # not committed


def test_batch(client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    b = client.batch()
    i0 = b.create(path + "/x", b"x")
    i1 = b.get(path + "/x")
    i2 = b.exists(path + "/none")
    i3 = b.children(path)
    i4 = b.get(path + "/none")
    i5 = b.set(path + "/x", b"y")
    assert (i0, i1, i2, i3, i4, i5) == (0, 1, 2, 3, 4, 5) and len(b) == 6
    r = b.run()
    assert r[0] == path + "/x"
    assert r[1][0] == b"x"  # sees the create sent before it
    assert r[2] is None
    assert r[3] == ["x"]
    assert isinstance(r[4], zkc.NoNodeError)
    assert r[5].version == 1
    assert b.run() == []
    b.free()
    with pytest.raises(zkc.ClosedError):
        b.get(path)


def test_digest_auth_and_acl(ensemble_url: str, client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    acl = [zkc.digest_acl("alice", "secret")]
    with zkc.Client(ensemble_url, digest="alice:secret") as alice:
        alice.create(path + "/private", b"p", acl=acl)
        assert alice.get(path + "/private")[0] == b"p"
    with pytest.raises(zkc.NoAuthError):
        client.get(path + "/private")
    with zkc.Client(ensemble_url, digest="bob:wrong") as bob:
        with pytest.raises(zkc.NoAuthError):
            bob.get(path + "/private")
    client.create(path + "/ro", b"r", acl=zkc.READ_ACL_UNSAFE)
    with pytest.raises(zkc.NoAuthError):
        client.set(path + "/ro", b"w")
    acl_ro, stat = client.get_acl(path + "/ro")
    assert acl_ro == [(zkc.PERM_READ, "world", "anyone")] and stat.data_length == 1
    with pytest.raises(zkc.NoAuthError):  # reading an ACL needs READ or ADMIN
        client.get_acl(path + "/private")
    with zkc.Client(ensemble_url, digest="alice:secret") as alice:
        assert alice.get_acl(path + "/private")[0] == acl
    with pytest.raises(zkc.NoNodeError):
        client.get_acl(path + "/none")


def test_state_listener_and_expiry(ensemble_url: str, path: str) -> None:
    c = zkc.Client(ensemble_url, session_timeout=4)
    try:
        states: List[zkc.State] = []
        c.add_listener(states.append)
        c.create(path, makepath=True)
        eph = c.create(path + "/eph", ephemeral=True)
        before = c.session_id
        cid = c.client_id
        assert cid is not None and cid[0] == before != 0
        assert len(cid[1]) == 16 and cid[1] != bytes(16)
        stat = c.exists(eph)
        assert stat is not None and stat.ephemeral_owner == before
        c.expire_session(TIMEOUT)
        wait_until(lambda: zkc.State.LOST in states and states[-1] == zkc.State.CONNECTED,
                   what="LOST then CONNECTED")
        assert states.index(zkc.State.LOST) < len(states) - 1
        assert c.session_id != before
        after = c.client_id
        assert after is not None and after[0] == c.session_id and after[1] != cid[1]
        assert c.exists(eph) is None  # the old session's node is gone
    finally:
        c.close()


def test_threads_share_one_client(client: zkc.Client, path: str) -> None:
    client.ensure_path(path)
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                p = client.create(f"{path}/t{n}-{i}", str(i).encode())
                assert client.get(p)[0] == str(i).encode()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(TIMEOUT)
    assert not errors, errors
    assert len(client.children(path)) == 8 * 50


def test_blocking_call_releases_the_gil(client: zkc.Client, path: str) -> None:
    # A thread blocks in C (a barrier wait); Python keeps running meanwhile.
    client.ensure_path(path)
    barrier = path + "/barrier"
    from zkc import _zkc_c as c
    c.zkc_barrier_set(client._handle(), barrier)
    done = threading.Event()

    def waiter() -> None:
        c.zkc_barrier_wait(client._handle(), barrier, int(TIMEOUT * 1000))
        done.set()

    t = threading.Thread(target=waiter)
    t.start()
    spins = 0
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        spins += 1
    assert not done.is_set()
    assert spins > 10000  # the main thread was not starved by the blocked call
    c.zkc_barrier_remove(client._handle(), barrier)
    assert done.wait(TIMEOUT)
    t.join()
