#!/usr/bin/env python3
"""The demo's worker in Python (examples/demo/worker.c and worker_go/ are the
same worker in C and Go; docs/demo.md describes what they share).

    worker.py --url URL --root /zkc-demo --name py-1 --jobs 300 [--work-ms 80] [--break]

It registers as an instance of the service ROOT/workers, joins the election
ROOT/election (the leader is the coordinator: it queues the jobs and says
when all are done), takes jobs from the queue ROOT/jobs (at-least-once: a
job is acked only after its result is recorded), and records each result
under the lock ROOT/lock in the index ROOT/results, counted by the counter
ROOT/done. Every line it prints is one event for the driver to show.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from typing import Optional, Tuple

import zkc

LANG = "python"
_out = threading.Lock()


def say(msg: str) -> None:
    with _out:
        print(msg, flush=True)


def collatz_steps(x: int) -> int:
    """The job's "work": the number of Collatz steps from x down to 1."""
    n = 0
    while x != 1:
        x = x // 2 if x % 2 == 0 else 3 * x + 1
        n += 1
    return n


def job_result(i: int) -> str:
    return str(collatz_steps(1000000 + i))


def parse_register(data: bytes) -> Tuple[int, str]:
    """The register holds "TOKEN JOB WORKER": the fencing token of the last
    lock holder that wrote it, and the job it was recording; empty at first."""
    f = data.decode().split()
    if len(f) != 3:
        return 0, ""
    return int(f[0]), f[1]


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.root = args.root
        self.name = args.name
        self.client = zkc.Client(args.url, session_timeout=args.session_timeout)
        self.client.add_listener(lambda st: say(f"session {st.name}"))
        meta = json.dumps({"lang": LANG, "pid": os.getpid()}).encode()
        self.reg = self.client.register(self.root + "/workers", self.name, "127.0.0.1", 0,
                                        metadata=meta)
        self.election = self.client.election(self.root + "/election", self.name)
        self.election.join()
        self.queue = self.client.queue(self.root + "/jobs")
        self.counter = self.client.counter(self.root + "/done")
        self.lock = self.client.lock(self.root + "/lock")
        self.lock_lost = False
        self.lock.add_listener(self.on_lock)
        try:
            zkc.Index.create(self.client, self.root + "/results",
                             ["worker", "lang", ("n", True)])
        except zkc.NodeExistsError:
            pass
        self.index = self.client.index(self.root + "/results")
        self.client.ensure_path(self.root + "/steps")
        self.client.ensure_path(self.root + "/violations")
        try:
            self.client.create(self.root + "/register", b"")
        except zkc.NodeExistsError:
            pass
        self.coordinator = False
        self.broken = False
        self.done = 0

    def on_lock(self, ev: zkc.LockEvent) -> None:
        say(f"lock {ev.name}")
        if ev == zkc.LockEvent.LOST:
            self.lock_lost = True

    # ---------------------------------------------------------------- coordinator

    def queued(self) -> int:
        """How many jobs ROOT/plan says are queued ("QUEUED of JOBS")."""
        try:
            data, _ = self.client.get(self.root + "/plan")
            return int(data.split()[0])
        except zkc.NoNodeError:
            return 0

    def fill(self) -> None:
        """Queues jobs [queued, N) in batches, recording progress in ROOT/plan.
        A coordinator that dies mid-batch leaves part of it queued; the next
        one queues the batch again, and duplicates are harmless (a job whose
        result is recorded is acked without doing it again)."""
        queued = self.queued()
        n = self.a.jobs
        if queued >= n:
            return
        batch = 50
        for start in range(queued, n, batch):
            items = [str(i).encode() for i in range(start, min(n, start + batch))]
            self.queue.put_many(items)
            plan = f"{start + len(items)} of {n}".encode()
            try:
                self.client.set(self.root + "/plan", plan)
            except zkc.NoNodeError:
                self.client.create(self.root + "/plan", plan)
        say(f"queued jobs {queued}..{n - 1}")

    def maybe_finish(self) -> None:
        if self.queued() < self.a.jobs:
            return
        items, _ = self.queue.size()
        if items == 0:
            try:
                self.client.create(self.root + "/finished", self.name.encode())
                say("all jobs acked: finished")
            except zkc.NodeExistsError:
                pass

    # ---------------------------------------------------------------- the step

    def violation(self, what: str) -> None:
        say(f"VIOLATION {what}")
        self.client.create(self.root + "/violations/v-", what.encode(), sequence=True)

    def enter(self) -> None:
        """Proves the lock: an ephemeral node that exists only while someone
        is in the critical section. Finding another's is two holders."""
        path = self.root + "/holder"
        try:
            self.client.create(path, self.name.encode(), ephemeral=True)
        except zkc.NodeExistsError:
            data, st = self.client.get(path)
            if st.ephemeral_owner != self.client.session_id:
                self.violation(f"{self.name} entered while {data.decode()} held the lock")

    def leave(self) -> None:
        path = self.root + "/holder"
        try:
            _, st = self.client.get(path)
            if st.ephemeral_owner == self.client.session_id:
                self.client.delete(path, st.version)
        except (zkc.NoNodeError, zkc.BadVersionError):
            pass

    def has_record(self, job: str) -> bool:
        try:
            self.index.get(job, server=True)
            return True
        except zkc.NoNodeError:
            return False

    def count_recorded(self) -> int:
        """Counts every result that is recorded but not yet counted, and
        returns the counter. Each result is recorded as the (counter+1)-th
        and the count positions are a unique field, so at most one such
        record exists: the one whose worker stopped between recording and
        counting."""
        c = self.counter.get()
        while True:
            hits = self.index.find("n", "%08d" % (c + 1), server=True)
            if not hits:
                return c
            ok, cur = self.counter.cas(c, c + 1)
            if ok:
                say(f"counted {hits[0].id.decode()}, recorded by a worker "
                    "that stopped before counting it")
                cur = c + 1
            c = cur

    def step(self, job: str, result: str, token: int) -> str:
        """Records the job's result and counts it, exactly once however
        often it runs (a retry, or another worker redoing the job of one
        that died). Returns "done", "lost" (the lock is gone or a later
        holder wrote the register) or "failed"."""
        reg_path = self.root + "/register"
        for _ in range(30):
            try:
                data, st = self.client.get(reg_path)
                r_token, r_job = parse_register(data)
                if r_token > token:
                    say(f"fenced off: my token {token} is older than the register's {r_token}")
                    return "lost"
                c = self.count_recorded()
                if self.has_record(job):
                    return "done"
                if (r_token, r_job) != (token, job):
                    # the token-checked register and the step log, written
                    # only while this lock node exists (a fenced transaction)
                    lease = self.lock.lease
                    if lease is None:
                        return "lost"
                    t = lease.fence()
                    t.set(reg_path, f"{token} {job} {self.name}".encode(), st.version)
                    t.create(self.root + "/steps/s-", f"{token} {job} {self.name}".encode(),
                             sequence=True)
                    t.commit()
                self.index.put(job, result.encode(),
                               {"worker": self.name, "lang": LANG, "n": "%08d" % (c + 1)},
                               create=True)
                if self.a.crash_after_record and self.done >= 3:
                    # the worst moment to die: recorded, not yet counted
                    say(f"CRASH after recording {job}, before counting it")
                    os._exit(3)
                if self.counter.cas(c, c + 1)[0]:
                    return "done"
            except zkc.BadVersionError:
                # the guard passed (this lock node exists) yet someone wrote
                # the register since it was read: two holders at once
                self.violation(f"{self.name}: the register changed under the lock")
            except zkc.LostError:
                return "lost"
            except zkc.Error as e:
                if self.lock_lost or self.lock.lease is None:
                    return "lost"
                say(f"retrying {job}: {type(e).__name__}: {e}")
                time.sleep(0.2)
        return "failed"

    # ---------------------------------------------------------------- main loop

    def finished(self) -> bool:
        return self.client.exists(self.root + "/finished") is not None

    def take(self) -> Optional[zkc.QueueItem]:
        try:
            return self.queue.take(timeout=0.5)
        except (zkc.TimeoutError, zkc.WouldBlockError):
            return None

    def work(self, item: zkc.QueueItem) -> None:
        i = int(item.data)
        job = "job-%05d" % i
        result = job_result(i)
        time.sleep(self.a.work_ms / 1000.0 * random.uniform(0.5, 1.5))
        if self.a.brk and not self.broken:
            self.broken = True
            say(f"dropping {job} without recording it (--break)")
            item.ack()
            return
        lease = self.lock.acquire(timeout=60)
        self.lock_lost = False
        try:
            self.enter()
            outcome = self.step(job, result, lease.token)
            self.leave()
        finally:
            try:
                self.lock.release()
            except zkc.Error:
                pass
        if outcome == "done":
            item.ack()
            self.done += 1
        else:
            say(f"{job}: {outcome}; giving it back")
            try:
                item.release()
            except zkc.Error:
                pass

    def run(self) -> int:
        say(f"ready (pid {os.getpid()}, session 0x{self.client.session_id:x})")
        while True:
            leads = self.election.is_leader
            if leads != self.coordinator:
                self.coordinator = leads
                say(f"elected coordinator (epoch {self.election.epoch})" if leads
                    else "no longer the coordinator")
            if self.coordinator:
                self.fill()
            item = self.take()
            if item is None:
                if self.coordinator:
                    self.maybe_finish()
                if self.finished():
                    break
                continue
            try:
                self.work(item)
            except zkc.Error as e:
                say(f"job {item.data.decode()} failed: {type(e).__name__}: {e}")
                try:
                    item.release()
                except zkc.Error:
                    pass
        say(f"exiting: {self.done} jobs done here")
        self.election.close()
        self.reg.unregister()
        self.client.close()
        return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("ZKC_URL"))
    p.add_argument("--root", default="/zkc-demo")
    p.add_argument("--name", default=f"py-{os.getpid()}")
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--work-ms", type=int, default=80)
    p.add_argument("--session-timeout", type=float, default=10.0)
    p.add_argument("--break", dest="brk", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--crash-after-record", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    return Worker(args).run()


if __name__ == "__main__":
    sys.exit(main())
