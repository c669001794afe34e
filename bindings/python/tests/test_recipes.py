"""The recipes through the Python layer, against a real ensemble."""
from __future__ import annotations

import threading
import time
from typing import List

import pytest

import zkc
from conftest import TIMEOUT, wait_until


def test_lock_context_manager_and_fence(client: zkc.Client, path: str) -> None:
    lock = client.lock(path, timeout=TIMEOUT)
    with lock as lease:
        assert lease.path.startswith(path + "/") and lease.token > 0 and lease.valid
        assert lock.lease is not None and lock.lease.token == lease.token
        client.ensure_path(path + "-data")
        with lease.fence() as t:
            t.set(path + "-data", b"fenced")
        assert t.results is not None and t.results[0].version == 1
        assert client.get(path + "-data")[0] == b"fenced"
    assert lock.lease is None and not lock.valid
    with pytest.raises(zkc.InvalidStateError):
        lock.release()
    lock.close()
    lock.close()
    with pytest.raises(zkc.ClosedError):
        lock.acquire()


def test_lock_contention_try_and_timeout(ensemble_url: str, client: zkc.Client,
                                         path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        a = client.lock(path)
        b = other.lock(path)
        first = a.acquire()
        assert b.try_acquire() is None
        with pytest.raises(zkc.WouldBlockError):
            b.acquire(blocking=False)
        t0 = time.monotonic()
        with pytest.raises(zkc.TimeoutError):
            b.acquire(timeout=0.3)
        assert time.monotonic() - t0 >= 0.25
        a.release()
        second = b.acquire(timeout=TIMEOUT)
        assert second.token > first.token  # fencing tokens grow per holder
        b.release()


def test_lock_held_while_python_threads_run(ensemble_url: str, client: zkc.Client,
                                            path: str) -> None:
    """A thread waits in C for a held lock; the GIL is free meanwhile."""
    with zkc.Client(ensemble_url) as other:
        holder = client.lock(path)
        holder.acquire()
        waiter = other.lock(path)
        got = threading.Event()

        def wait_for_lock() -> None:
            waiter.acquire(timeout=TIMEOUT)
            got.set()

        t = threading.Thread(target=wait_for_lock)
        t.start()
        ticks = 0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            ticks += 1
        assert not got.is_set() and ticks > 10000
        holder.release()
        assert got.wait(TIMEOUT)
        t.join()
        waiter.release()


def test_lock_cancel_from_another_thread(ensemble_url: str, client: zkc.Client,
                                         path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        held = client.lock(path)
        held.acquire()
        waiter = other.lock(path)
        errors: List[BaseException] = []
        t = threading.Thread(target=lambda: _catch(errors, waiter.acquire))
        t.start()
        wait_until(lambda: len(client.children(path)) == 2, what="the waiter's node")
        waiter.cancel()
        t.join(TIMEOUT)
        assert len(errors) == 1 and isinstance(errors[0], zkc.CancelledError)
        wait_until(lambda: len(client.children(path)) == 1, what="the cancelled node's delete")
        held.release()


def _catch(errors: List[BaseException], fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except BaseException as e:
        errors.append(e)


def test_lock_lost_on_session_expiry(ensemble_url: str, path: str) -> None:
    c = zkc.Client(ensemble_url, session_timeout=4)
    try:
        lock = c.lock(path)
        seen: List[zkc.LockEvent] = []
        lock.add_listener(seen.append)
        stream = lock.events(timeout=TIMEOUT)  # registered now, not at next()
        lease = lock.acquire(timeout=TIMEOUT)
        node = lease.path
        c.expire_session(TIMEOUT)
        wait_until(lambda: zkc.LockEvent.LOST in seen, what="LOST from the lock")
        # the iterator had its own copy of every event the listener saw
        streamed = [next(stream) for _ in seen]
        assert streamed == seen
        del stream  # CPython closes the generator at once
        assert lock._queues == []  # a finished iterator leaves no queue behind
        ended = lock.events()
        assert not lock.valid
        wait_until(lambda: c.connected, what="a new session")
        assert c.exists(node) is None  # the lock node went with the session
        with pytest.raises(zkc.LostError):
            lock.release()
        # a fenced write after the loss is refused by ZooKeeper itself
        lock2 = c.lock(path)
        with lock2 as lease2:
            assert lease2.token > lease.token
        lock.close()
        assert list(ended) == []  # ends at close
        assert lock._queues == []
    finally:
        c.close()


def test_lock_exit_reports_loss(ensemble_url: str, path: str) -> None:
    c = zkc.Client(ensemble_url, session_timeout=4)
    try:
        lock = c.lock(path)
        with pytest.raises(zkc.LostError):
            with lock:
                c.expire_session(TIMEOUT)
                wait_until(lambda: not lock.valid and c.connected, what="the loss")
    finally:
        c.close()


def test_rwlock(ensemble_url: str, client: zkc.Client, path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        rw1 = client.rwlock(path)
        rw2 = other.rwlock(path)
        r1 = rw1.read_lock.acquire(timeout=TIMEOUT)
        r2 = rw2.read_lock.acquire(timeout=TIMEOUT)  # readers share
        assert r1.valid and r2.valid
        assert rw2.write_lock.try_acquire() is None
        rw1.read_lock.release()
        rw2.read_lock.release()
        with rw2.write_lock:
            assert rw1.read_lock.try_acquire() is None
        rw1.close()
        rw2.close()


def test_semaphore(client: zkc.Client, path: str) -> None:
    sem = client.semaphore(path, 2)
    a = sem.acquire(timeout=TIMEOUT)
    b = sem.acquire(timeout=TIMEOUT)
    with pytest.raises(zkc.WouldBlockError):
        sem.acquire(blocking=False)
    assert a.valid and a.token != b.token
    a.release()
    with sem.acquire(timeout=TIMEOUT) as c:
        assert c.valid
    b.release()
    sem.close()


def test_counter_threads(client: zkc.Client, path: str) -> None:
    counter = client.counter(path)
    assert counter.value == 0
    errors: List[BaseException] = []

    def adds() -> None:
        try:
            for _ in range(25):
                counter.add(1)
        except BaseException as e:
            errors.append(e)

    ts = [threading.Thread(target=adds) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(TIMEOUT)
    assert not errors
    assert counter.get() == 100
    counter += 5
    counter -= 2
    assert counter.value == 103
    assert counter.cas(103, 7) == (True, 7)
    assert counter.cas(103, 8) == (False, 7)
    counter.set(-3)
    assert counter.value == -3
    with pytest.raises(TypeError):
        counter.add(1.5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        counter.add(2**70)


def test_queue(client: zkc.Client, path: str) -> None:
    q = client.queue(path)
    q.put(b"one")
    q.put(b"urgent", priority=1)
    q.put_many([b"two", b"three"])
    assert len(q) == 4
    peeked = q.peek()
    assert peeked is not None and peeked.data == b"urgent"
    item = q.take(timeout=TIMEOUT)
    assert item.data == b"urgent" and item.priority == 1
    assert q.size() == (4, 1)
    item.ack()
    exact = q.take(timeout=TIMEOUT, ack=False)
    assert exact.data == b"one"
    rest = [i.data for i in q.iter(timeout=0.2, ack=False)]
    assert rest == [b"two", b"three"]
    with pytest.raises(zkc.TimeoutError):
        q.take(timeout=0.1)
    with pytest.raises(zkc.WouldBlockError):
        q.take(timeout=0)
    again = q.put(b"again")
    assert again
    item2 = q.take(timeout=TIMEOUT)
    item2.release()  # given back
    assert q.take(timeout=TIMEOUT, ack=False).data == b"again"
    with pytest.raises(TypeError):
        q.put("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        q.put_many(b"abc")  # type: ignore[arg-type]
    # (data, priority) pairs: each item keeps its own priority
    q.put_many([(b"low", 700), b"default", (b"high", 3)])
    assert [i.data for i in q.iter(timeout=0.2, ack=False)] == [b"high", b"default", b"low"]
    with pytest.raises(zkc.BadArgumentsError):
        q.put_many([b"ok", (b"bad", 1000)])
    assert len(q) == 0  # all or none
    q.close()


def test_cache_reads_and_events(client: zkc.Client, path: str) -> None:
    client.create(path + "/a", b"A", makepath=True)
    cache = client.cache(path)
    events = cache.events(timeout=TIMEOUT)
    cache.wait_initialized(TIMEOUT)
    assert cache[path + "/a"] == b"A"
    assert path + "/a" in cache and path + "/none" not in cache
    assert cache.get(path + "/none") is None
    with pytest.raises(KeyError):
        cache[path + "/none"]
    assert cache.children(path) == ["a"] and len(cache) == 2
    seen: List[zkc.CacheEvent] = []
    cache.listen(seen.append)
    stat = client.set(path + "/a", b"B")
    cache.wait_zxid(stat.mzxid, TIMEOUT)
    assert cache[path + "/a"] == b"B"
    client.create(path + "/b", b"new")
    got = []
    for ev in events:
        got.append(ev)
        if ev.type == "ADDED" and ev.path == path + "/b":
            break
    types = [e.type for e in got]
    assert "UPDATED" in types and types[-1] == "ADDED"
    wait_until(lambda: any(e.type == "ADDED" and e.path == path + "/b" for e in seen),
               what="the listener's ADDED")
    cache.close()
    with pytest.raises(zkc.ClosedError):
        cache[path + "/a"]


def test_election(ensemble_url: str, client: zkc.Client, path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        e1 = client.election(path, "one")
        e2 = other.election(path, "two")
        e1.join()
        epoch1 = e1.await_leadership(TIMEOUT)
        e2.join()
        with pytest.raises(zkc.TimeoutError):
            e2.await_leadership(0.2)
        assert e1.is_leader and not e2.is_leader
        assert e1.leader() == ("one", epoch1)
        parts = e2.participants()
        assert [p.id for p in parts] == ["one", "two"] and parts[0].is_leader
        e1.resign()
        epoch2 = e2.await_leadership(TIMEOUT)
        assert epoch2 > epoch1 and e2.leader() == ("two", epoch2)
        assert e2.run(lambda: "ran") == "ran"
        e1.close()
        e2.close()


def test_election_events_follow_hand_over_and_expiry(ensemble_url: str, client: zkc.Client,
                                                     path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        e1 = client.election(path, "one")
        e2 = other.election(path, "two")
        heard: List[zkc.ElectionEvent] = []
        e2.add_listener(heard.append)
        ev1, ev2 = e1.events(timeout=TIMEOUT), e2.events(timeout=TIMEOUT)
        e1.join()
        first = next(ev1)
        epoch1 = e1.await_leadership(TIMEOUT)
        assert first == (zkc.LeadershipEvent.LEADER, epoch1, zkc.LeadershipReason.NONE)
        e2.join()
        e1.resign()
        got = next(ev2)
        assert got.type == zkc.LeadershipEvent.LEADER and got.epoch > epoch1
        # the session ends under the leader: it steps down (at SUSPENDED
        # or LOST), rejoins on the new session and, alone, leads again.
        # The expiry opens a second connection on the same session, which
        # can bounce this one first: SUSPENDED, then RECONNECTED with the
        # node still first gives LEADER again with the same epoch.
        other.expire_session(TIMEOUT)
        down = next(ev2)
        assert down.type == zkc.LeadershipEvent.NOT_LEADER
        assert down.reason in (zkc.LeadershipReason.SUSPENDED, zkc.LeadershipReason.LOST)
        again = next(ev2)
        while again.type != zkc.LeadershipEvent.LEADER or again.epoch == got.epoch:
            if again.type == zkc.LeadershipEvent.NOT_LEADER:
                assert again.reason in (zkc.LeadershipReason.SUSPENDED,
                                        zkc.LeadershipReason.LOST), again
            again = next(ev2)
        assert again.epoch > got.epoch and e2.epoch == again.epoch
        wait_until(lambda: len(heard) >= 3, what="the listener's events")
        assert heard[0] == got and heard[1] == down
        # no event for the candidate's own resign
        assert list(e1.events(timeout=0.2)) == []
        e1.close()
        e2.close()
        with pytest.raises(TypeError):
            e2.add_listener("not callable")  # type: ignore[arg-type]


def test_barriers(client: zkc.Client, path: str) -> None:
    b = client.barrier(path + "/b")
    b.set()
    with pytest.raises(zkc.TimeoutError):
        b.wait(0.2)
    b.remove()
    b.wait(TIMEOUT)
    db = client.double_barrier(path + "/db", 1)
    db.enter(TIMEOUT)
    db.leave(TIMEOUT)
    db.close()


def test_persistent_node(client: zkc.Client, path: str) -> None:
    pn = client.persistent_node(path + "/me", b"x")
    pn.wait(TIMEOUT)
    assert pn.path == path + "/me"
    assert client.get(path + "/me")[0] == b"x"
    pn.set(b"y")
    wait_until(lambda: client.get(path + "/me")[0] == b"y", what="the new data")
    pn.delete()
    pn.close()
    assert client.exists(path + "/me") is None


def test_registry_and_router(ensemble_url: str, client: zkc.Client, path: str) -> None:
    with zkc.Client(ensemble_url) as other:
        r1 = client.register(path, "i1", "10.0.0.1", 80, metadata=b"{}")
        r2 = other.register(path, "i2", "10.0.0.2", 81, weight=2)
        router = client.router(path)
        wait_until(lambda: len(router) == 2, what="two routable instances")
        ep = router.route("user-42")
        assert ep.id in ("i1", "i2") and ep.port in (80, 81)
        assert router.route(b"user-42") == ep
        assert [e.id for e in router.route_n("user-42", 5)][0] == ep.id
        ids = sorted(i.id for i in router.instances())
        assert ids == ["i1", "i2"]
        moved = {k for k in range(200) if router.route(str(k)).id == "i2"}
        r2.unregister()
        wait_until(lambda: len(router) == 1, what="one instance left")
        assert all(router.route(str(k)).id == "i1" for k in moved)
        r1.set_draining(True)
        wait_until(lambda: len(router) == 0, what="the drained instance out")
        with pytest.raises(zkc.NoNodeError):
            router.route("x")
        router.close()
        r1.close()


def test_client_close_closes_handles(ensemble_url: str, path: str) -> None:
    c = zkc.Client(ensemble_url)
    lock = c.lock(path)
    lock.acquire()
    cache = c.cache(path)
    counter = c.counter(path + "-n")
    c.close()
    assert lock.closed and cache.closed and counter.closed
    with pytest.raises(zkc.ClosedError):
        lock.acquire()


def test_index(client: zkc.Client, path: str) -> None:
    zkc.Index.create(client, path, ["city", ("email", True)])
    with client.index(path) as ix:
        assert ix.fields == [("city", False), ("email", True)]
        ix.put("u1", b"alice", {"city": "paris", "email": "a@x"}, wait=True)
        ix.put(b"u2", b"bob", {"city": b"paris", "email": "b@x"}, wait=True)
        ix.put("u3", b"carol", {"city": "rome"}, wait=True)
        with pytest.raises(zkc.NodeExistsError):
            ix.put("u4", b"dup", {"email": "a@x"})  # unique value taken
        rec = ix.get("u1")
        assert rec.data == b"alice" and rec.fields == {"city": b"paris", "email": b"a@x"}
        assert [h.id for h in ix.find("city", "paris")] == [b"u1", b"u2"]
        assert [h.id for h in ix.prefix("email", "b")] == [b"u2"]
        assert [h.value for h in ix.range("city", "p", "s")] == [b"paris", b"paris", b"rome"]
        ix.delete("u1", wait=True)
        assert [h.id for h in ix.find("city", "paris")] == [b"u2"]
        with pytest.raises(zkc.NoNodeError):
            ix.get("u1")
        report = ix.verify()
        assert report.issues == [] and report.records == 2
        with pytest.raises(zkc.BadArgumentsError):
            ix.find("nofield", "x")
        with pytest.raises(TypeError):
            ix.put("u5", b"", {"city": 5})
    zkc.Index.drop(client, path)
