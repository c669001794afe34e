"""Fixtures: real ZooKeeper ensembles started with the project's own
launcher (`zkc ensemble up`, tools/ensemble.c), clients, unique paths and a
polling helper (never a fixed sleep).

Environment:
  ZKC_CLI                 the zkc program (default: `zkc` on PATH, then the
                          build tree's build/zkc)
  ZKC_TEST_URL            run the 1-node tests against this ensemble
  ZKC_TEST_TIMEOUT_SCALE  multiply every deadline
"""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from typing import Callable, Iterator, List

import pytest

import zkc

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = float(os.environ.get("ZKC_TEST_TIMEOUT_SCALE", "1") or 1)
TIMEOUT = 30.0 * SCALE


def zkc_cli() -> str:
    env = os.environ.get("ZKC_CLI")
    if env:
        return env
    found = shutil.which("zkc")
    if found:
        return found
    guess = os.path.join(HERE, "..", "..", "..", "build", "zkc")
    if os.path.exists(guess):
        return os.path.abspath(guess)
    raise RuntimeError("the zkc program was not found: set ZKC_CLI or put zkc on PATH")


def wait_until(pred: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition",
               interval: float = 0.01) -> None:
    """Polls pred until it is true; fails the test after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Ensemble:
    """A local ensemble run by `zkc ensemble` in a private directory."""

    def __init__(self, nodes: int) -> None:
        self.dir = tempfile.mkdtemp(prefix=f"zkc-py-{nodes}n-")
        self.nodes = nodes
        out = self._run("up", "--nodes", str(nodes), "--timeout", str(int(60 * SCALE)))
        self.url = out.strip().splitlines()[-1]

    def _run(self, verb: str, *args: str) -> str:
        cmd = [zkc_cli(), "ensemble", verb, "--dir", self.dir, *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180 * SCALE)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def kill(self, server: str = "leader") -> None:
        self._run("kill", server)

    def restart(self, server: str) -> None:
        self._run("restart", server)

    def status(self) -> List[str]:
        return self._run("status").strip().splitlines()

    def down(self) -> None:
        try:
            self._run("down")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def ensemble_url() -> Iterator[str]:
    url = os.environ.get("ZKC_TEST_URL")
    if url:
        yield url
        return
    ens = Ensemble(1)
    try:
        yield ens.url
    finally:
        ens.down()


@pytest.fixture
def ensemble3() -> Iterator[Ensemble]:
    ens = Ensemble(3)
    try:
        yield ens
    finally:
        ens.down()


@pytest.fixture
def client(ensemble_url: str) -> Iterator[zkc.Client]:
    c = zkc.Client(ensemble_url)
    try:
        yield c
    finally:
        c.close()


_counter = itertools.count()


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """A znode path unique to the test and the run."""
    name = request.node.name.replace("[", "_").replace("]", "").replace("/", "_")
    return f"/pytest/{uuid.uuid4().hex[:8]}-{next(_counter)}/{name}"


def open_client(url: str, **kw: object) -> zkc.Client:
    return zkc.Client(url, **kw)  # type: ignore[arg-type]


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

