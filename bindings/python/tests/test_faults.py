"""Faults on a private 3-node ensemble: a leader killed during a loop of
writes loses no acknowledged write."""
from __future__ import annotations

import threading
from typing import Dict, List

import zkc
from conftest import TIMEOUT, Ensemble, wait_until


def test_leader_kill_during_writes(ensemble3: Ensemble) -> None:
    path = "/faults/writes"
    with zkc.Client(ensemble3.url, session_timeout=10) as c:
        c.ensure_path(path)
        acked: Dict[str, bytes] = {}
        unknown: List[str] = []
        killed = threading.Event()
        n = 0

        def kill_after_some_writes() -> None:
            wait_until(lambda: len(acked) >= 50, what="50 writes before the kill")
            ensemble3.kill("leader")
            killed.set()

        killer = threading.Thread(target=kill_after_some_writes)
        killer.start()
        while not killed.is_set() or len(acked) < 150 + n // 4:
            p = f"{path}/w{n:05d}"
            data = f"v{n}".encode()
            try:
                c.create(p, data)
                acked[p] = data
            except zkc.UnknownOutcomeError:
                unknown.append(p)  # outcome not learned: not acknowledged
            except (zkc.TimeoutError, zkc.ConnectionLossError):
                unknown.append(p)
            n += 1
            if n > 5000:
                break
        killer.join(TIMEOUT)
        assert killed.is_set()
        c.wait_connected(TIMEOUT)
        c.sync(path)
        present = set(c.children(path))
        missing = [p for p in acked if p.rsplit("/", 1)[1] not in present]
        assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
        for p, data in list(acked.items())[::10]:
            assert c.get(p)[0] == data
        assert len(acked) >= 150
