#!/usr/bin/env python3
"""The demo's driver: starts a local 3-node ZooKeeper ensemble, runs workers
in C, Python and Go against it, kills the ZooKeeper leader (kill -9) and
restarts it mid-run, kills one worker, shows progress live, and ends with a
summary that checks nothing was lost. Exits 0 only if every check holds.

    PYTHONPATH=build/python python3 examples/demo/demo.py --build build

scripts/demo.sh builds everything and runs this; docs/demo.md explains
what happens and what each check proves.
"""
from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import zkc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from worker import job_result  # noqa: E402  (the same result every worker computes)

LANGS = ("c", "python", "go")


# ------------------------------------------------------------ terminal output

class Display:
    """Events scroll; on a terminal a progress bar stays on the last line.
    Elsewhere (CI logs, pipes) every line is plain text and progress is
    printed at each tenth."""

    COLORS = {"c": "36", "python": "33", "go": "35", "zk": "31", "demo": "32"}

    def __init__(self, total: int, tty: bool) -> None:
        self.total = total
        self.tty = tty
        self.t0 = time.monotonic()
        self.done = 0
        self.workers = 0
        self.leader = "-"
        self.last_tenth = -1
        self.bar_shown = False
        self.drawn = ""

    def _color(self, kind: str, text: str) -> str:
        c = self.COLORS.get(kind)
        return f"\x1b[{c}m{text}\x1b[0m" if self.tty and c else text

    def event(self, who: str, kind: str, text: str) -> None:
        line = f"{time.monotonic() - self.t0:6.1f}s  {self._color(kind, f'{who:<9}')} {text}"
        if self.tty:
            sys.stdout.write("\r\x1b[K" + line + "\n")
            self._bar(force=True)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def progress(self, done: int, workers: int, leader: str) -> None:
        self.done, self.workers, self.leader = done, workers, leader
        if self.tty:
            if self._bar():
                sys.stdout.flush()
            return
        tenth = done * 10 // max(1, self.total)
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            sys.stdout.write(f"{time.monotonic() - self.t0:6.1f}s  progress  {done}/{self.total} "
                             f"jobs counted ({done * 100 // max(1, self.total)}%), "
                             f"{workers} workers, coordinator {leader}\n")
            sys.stdout.flush()

    def _bar(self, force: bool = False) -> bool:
        """Draws the bar if it changed (or force); True if it drew."""
        width = 30
        frac = min(1.0, self.done / max(1, self.total))
        fill = int(frac * width)
        bar = (f"[{'#' * fill}{'-' * (width - fill)}] {self.done}/{self.total} jobs  "
               f"{self.workers} workers  coordinator {self.leader}  "
               f"{time.monotonic() - self.t0:.0f}s")
        if bar == self.drawn and not force:
            return False
        sys.stdout.write("\r\x1b[K" + bar)
        self.drawn = bar
        self.bar_shown = True
        return True

    def end(self) -> None:
        if self.tty and self.bar_shown:
            sys.stdout.write("\n")
            sys.stdout.flush()
        self.tty = False


# ------------------------------------------------------------ the ensemble

class Ensemble:
    def __init__(self, zkc_bin: str, directory: str) -> None:
        self.bin = zkc_bin
        self.dir = directory

    def run(self, *args: str, timeout: float = 120) -> str:
        r = subprocess.run([self.bin, "ensemble", *args, "--dir", self.dir],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"zkc ensemble {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout.strip()

    def up(self) -> str:
        return self.run("up", "--nodes", "3")

    def leader(self) -> Optional[int]:
        for line in self.run("status").splitlines():
            f = line.split()
            if len(f) >= 5 and f[4] == "leader":
                return int(f[0])
        return None

    def down(self) -> None:
        try:
            self.run("down")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass


# ------------------------------------------------------------ workers

class Worker:
    def __init__(self, name: str, lang: str, argv: List[str], env: Dict[str, str],
                 events: "queue.Queue[Tuple[str, str, str]]") -> None:
        self.name = name
        self.lang = lang
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env, text=True, bufsize=1)
        self.killed = False
        self.expect_crash = False  # --crash-mid-step: exits 3 by itself
        self.lines: List[str] = []
        self._t = threading.Thread(target=self._read, args=(events,), daemon=True)
        self._t.start()

    def _read(self, events: "queue.Queue[Tuple[str, str, str]]") -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            events.put((self.name, self.lang, line))
        self.proc.wait()
        events.put((self.name, self.lang, f"exited with status {self.proc.returncode}"
                    if not self.killed else "gone (killed)"))

    def kill(self) -> None:
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)

    def join(self, timeout: float) -> None:
        self._t.join(timeout)


def worker_argv(lang: str, build: str) -> List[str]:
    if lang == "c":
        return [os.path.join(build, "examples", "demo", "worker")]
    if lang == "go":
        return [os.path.join(build, "examples", "demo", "worker-go")]
    return [sys.executable, os.path.join(HERE, "worker.py")]


def parse_workers(spec: str) -> List[str]:
    out: List[str] = []
    for part in spec.split(","):
        lang, _, n = part.partition("=")
        if lang not in LANGS or not n.isdigit():
            raise SystemExit(f"demo: bad --workers part {part!r} (want e.g. c=2,python=2,go=2)")
        out += [lang] * int(n)
    return out


# ------------------------------------------------------------ watching the run

class Observer(threading.Thread):
    """Polls what the driver shows (the counter, the live workers, the
    coordinator) on its own thread, so a slow answer during the leader's
    failover never freezes the display."""

    def __init__(self, client: zkc.Client, root: str,
                 events: "queue.Queue[Tuple[str, str, str]]") -> None:
        super().__init__(daemon=True)
        self.client = client
        self.root = root
        self.events = events
        self.done = 0
        self.workers: List[str] = []
        self.leader = "-"
        self.stop = threading.Event()
        self.counter = client.counter(root + "/done")
        self.election = client.election(root + "/election")

    def run(self) -> None:
        while not self.stop.wait(0.2):
            try:
                self.done = self.counter.get()
                try:
                    names = sorted(self.client.children(self.root + "/workers"))
                except zkc.NoNodeError:
                    names = []
                for n in sorted(set(names) - set(self.workers)):
                    self.events.put(("registry", "demo", f"{n} registered"))
                for n in sorted(set(self.workers) - set(names)):
                    self.events.put(("registry", "demo", f"{n} unregistered"))
                self.workers = names
                ldr = self.election.leader()
                name = ldr[0] if ldr else "-"
                if name != self.leader:
                    self.leader = name
                    self.events.put(("election", "demo", f"coordinator is {name}"))
            except zkc.Error:
                pass  # the next poll asks again


# ------------------------------------------------------------ the summary

def summary(client: zkc.Client, root: str, jobs: int, faults: Dict[str, str],
            out: Any) -> bool:
    checks: List[Tuple[bool, str]] = []

    def check(ok: bool, text: str) -> None:
        checks.append((ok, text))

    queued = int(client.get(root + "/plan")[0].split()[0])
    q = client.queue(root + "/jobs")
    left, taken = q.size()
    ix = client.index(root + "/results")
    hits = ix.prefix("n", b"", server=True)
    ids = {h.id.decode() for h in hits}
    expected = {"job-%05d" % i for i in range(jobs)}
    missing = sorted(expected - ids)
    done = len(ids & expected)
    check(queued == jobs and left == 0,
          f"jobs queued {queued} of {jobs}; left in the queue {left} ({taken} taken)")
    check(not missing and len(ids) == jobs,
          f"jobs done = jobs queued: {done} of {jobs} have a result"
          + (f"; missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
             if missing else "")
          + (f"; unexpected {sorted(ids - expected)[:5]}" if ids - expected else ""))
    counter = client.counter(root + "/done").get()
    check(counter == len(hits), f"counter = results: counter {counter}, results {len(hits)}")
    ns = sorted(int(h.value) for h in hits)
    check(ns == list(range(1, len(hits) + 1)),
          "each result counted once: count positions are 1..%d without gap or repeat"
          % len(hits))
    wrong = []
    langs: Dict[str, int] = {}
    for h in hits:
        rec = ix.get(h.id, server=True)
        i = int(h.id.decode().split("-")[1])
        if rec.data.decode() != job_result(i):
            wrong.append(h.id.decode())
        lang = rec.fields.get("lang", b"?").decode()
        langs[lang] = langs.get(lang, 0) + 1
    report = ix.verify()
    check(not wrong and not report.issues,
          f"index verified: {report.records} records, {report.entries} entries, "
          f"{len(report.issues)} issues, {len(wrong)} wrong results")
    steps = sorted(client.children(root + "/steps"))
    tokens = [int(client.get(f"{root}/steps/{s}")[0].split()[0]) for s in steps]
    increasing = all(a < b for a, b in zip(tokens, tokens[1:]))
    check(increasing and len(steps) >= len(hits),
          f"fencing tokens strictly increasing over {len(steps)} lock holds")
    violations = client.children(root + "/violations")
    for v in sorted(violations)[:5]:
        out(f"    violation: {client.get(f'{root}/violations/{v}')[0].decode()}")
    check(not violations, f"no two lock holders: {len(violations)} overlaps seen")
    check(all(langs.get(k, 0) > 0 for k in faults.get("langs", "").split(",") if k),
          "results by language: " + ", ".join(f"{k} {v}" for k, v in sorted(langs.items())))
    if faults.get("ensemble"):
        check("leader" in faults and "restart" in faults,
              f"ZooKeeper leader killed: {faults.get('leader', 'no')}; "
              f"restarted: {faults.get('restart', 'no')}")
    check("worker" in faults, f"worker killed: {faults.get('worker', 'no')}")
    if faults.get("crash"):
        crashed = faults.get("crashed_job", "")
        counted_by = faults.get("counted_by", "")
        check(bool(crashed) and crashed in ids and bool(counted_by),
              f"{faults['crash']} died between recording {crashed or '?'} and counting it; "
              f"{counted_by or 'nobody'} counted it")

    out("")
    out("summary")
    for ok, text in checks:
        out(f"  {'ok  ' if ok else 'FAIL'}  {text}")
    good = all(ok for ok, _ in checks)
    out("")
    out("nothing was lost" if good else "SOMETHING WAS LOST OR BROKEN: see FAIL above")
    return good


# ------------------------------------------------------------ main

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build", help="the build directory (zkc, workers)")
    p.add_argument("--jobs", type=int, default=400)
    p.add_argument("--workers", default="c=2,python=2,go=2")
    p.add_argument("--work-ms", type=int, default=120, help="simulated work per job")
    p.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    p.add_argument("--url", help="use this ensemble (no faults) instead of starting one")
    p.add_argument("--keep", action="store_true", help="keep the ensemble's directory")
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    p.add_argument("--break", dest="brk", action="store_true", help=argparse.SUPPRESS)
    # CI: a Python worker also dies between recording a result and counting it
    p.add_argument("--crash-mid-step", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    # a TERM (timeout, CI) cleans up as Ctrl-C does: workers, ensemble, files
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    langs = parse_workers(a.workers)
    if len(langs) < 2:
        raise SystemExit("demo: at least two workers (one is killed)")
    zkc_bin = os.path.join(a.build, "zkc")
    for lang in set(langs):
        exe = worker_argv(lang, a.build)[0]
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"demo: {exe} is missing: run scripts/demo.sh, which builds it")

    disp = Display(a.jobs, sys.stdout.isatty() and not a.plain)

    def say(text: str) -> None:
        disp.event("demo", "demo", text)

    ens: Optional[Ensemble] = None
    tmp = None
    print(f"zkc demo: {len(langs)} workers ({a.workers}) share {a.jobs} jobs through a "
          "ZooKeeper queue;\neach result is recorded under a lock in an index and counted. "
          + ("" if a.url else "At 25 % the ZooKeeper\nleader is killed (kill -9), then "
             "restarted; ")
          + "at 55 % the coordinator worker is killed.\n"
          "The summary at the end checks that nothing was lost.\n", flush=True)
    if a.url:
        url = a.url
    else:
        tmp = tempfile.mkdtemp(prefix="zkc-demo-")
        ens = Ensemble(zkc_bin, os.path.join(tmp, "ensemble"))
        say("starting a 3-node ZooKeeper ensemble on 127.0.0.1 (zkc ensemble up)")
        url = ens.up()
        say(f"ensemble up: {url}")
    root = "/zkc-demo-%d" % os.getpid()
    events: "queue.Queue[Tuple[str, str, str]]" = queue.Queue()
    workers: List[Worker] = []
    faults: Dict[str, str] = {"langs": ",".join(sorted(set(langs))),
                              "ensemble": "" if ens is None else "yes"}
    ok = False
    client = None
    try:
        client = zkc.Client(url, session_timeout=10)
        client.add_listener(lambda st: events.put(("driver", "demo", f"session {st.name}")))
        client.ensure_path(root)
        env = dict(os.environ, ZKC_URL=url)
        # the Go worker links the build tree's libzkc.so; cgo may drop the
        # rpath the build's pkg-config file asks for (a fresh clone's CI run
        # failed so: "libzkc.so.0: cannot open shared object file")
        libs = os.path.join(a.build, ".libs")
        env["LD_LIBRARY_PATH"] = libs + (os.pathsep + env["LD_LIBRARY_PATH"]
                                         if env.get("LD_LIBRARY_PATH") else "")
        count: Dict[str, int] = {}
        for k, lang in enumerate(langs):
            count[lang] = count.get(lang, 0) + 1
            name = f"{'py' if lang == 'python' else lang}-{count[lang]}"
            argv = worker_argv(lang, a.build) + [
                "--url", url, "--root", root, "--name", name, "--jobs", str(a.jobs),
                "--work-ms", str(a.work_ms)]
            if a.brk and k == 0:
                argv.append("--break")
            crash = a.crash_mid_step and lang == "python" and "crash" not in faults
            if crash:
                argv.append("--crash-after-record")
                faults["crash"] = name
            workers.append(Worker(name, lang, argv, env, events))
            workers[-1].expect_crash = crash
        say(f"{len(workers)} workers started: {', '.join(w.name for w in workers)}; "
            f"{a.jobs} jobs")
        obs = Observer(client, root, events)
        obs.start()
        ok = run(a, disp, ens, workers, obs, events, faults, root, client)
        obs.stop.set()
        obs.join(5)
        disp.end()
        if ok:
            ok = summary(client, root, a.jobs, faults, lambda s: print(s, flush=True))
        return 0 if ok else 1
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.kill()
        if client is not None:
            try:
                client.delete(root, recursive=True)
            except zkc.Error:
                pass
            client.close()
        if ens is not None:
            ens.down()
        if tmp and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def note_crash(who: str, line: str, faults: Dict[str, str]) -> None:
    """Remembers which job the --crash-mid-step worker left uncounted, and
    which worker counted it."""
    f = line.split()
    if line.startswith("CRASH after recording ") and len(f) > 3:
        faults["crashed_job"] = f[3].rstrip(",")
    elif (line.startswith("counted ") and len(f) > 1
          and f[1].rstrip(",") == faults.get("crashed_job")):
        faults["counted_by"] = who


def run(a: argparse.Namespace, disp: Display, ens: Optional[Ensemble], workers: List[Worker],
        obs: Observer, events: "queue.Queue[Tuple[str, str, str]]", faults: Dict[str, str],
        root: str, client: zkc.Client) -> bool:
    """Shows events and progress, injects the faults, and returns once every
    worker has exited (True) or on the deadline (False)."""
    deadline = time.monotonic() + a.timeout
    killed_leader: Optional[int] = None
    kill_t = 0.0
    kill_done = 0
    restarting: Optional[threading.Thread] = None

    def restart(sid: int) -> None:
        assert ens is not None
        t = time.monotonic()
        try:
            ens.run("restart", str(sid))
            faults["restart"] = f"server {sid} serving again after {time.monotonic() - t:.1f} s"
            events.put(("zookeeper", "zk", f"server {sid} restarted and serving"))
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            events.put(("zookeeper", "zk", f"restart of server {sid} failed: {e}"))

    while any(w.proc.poll() is None for w in workers) or not events.empty():
        try:
            item = events.get(timeout=0.1)
            while True:
                disp.event(*item)
                note_crash(item[0], item[2], faults)
                item = events.get_nowait()
        except queue.Empty:
            pass
        done = obs.done
        disp.progress(done, len(obs.workers), obs.leader)
        if time.monotonic() > deadline:
            disp.event("demo", "demo", f"timed out after {a.timeout:.0f} s with {done} jobs done")
            return False
        if ens is None:
            continue
        if killed_leader is None and done >= a.jobs // 4:
            sid = ens.leader()
            if sid is not None:
                killed_leader = sid
                kill_t = time.monotonic()
                kill_done = done
                ens.run("kill", str(sid))
                faults["leader"] = f"server {sid} at {done}/{a.jobs} jobs (kill -9)"
                disp.event("zookeeper", "zk", f"kill -9 of the ZooKeeper leader, server {sid}")
        elif (killed_leader is not None and restarting is None
              and (done >= kill_done + a.jobs // 10 or time.monotonic() - kill_t > 20)):
            disp.event("zookeeper", "zk", f"{done - kill_done} jobs done without server "
                       f"{killed_leader}; restarting it")
            restarting = threading.Thread(target=restart, args=(killed_leader,), daemon=True)
            restarting.start()
        if "worker" not in faults and done >= a.jobs * 55 // 100:
            # not the worker that is to crash by itself (--crash-mid-step)
            live = [w for w in workers if w.proc.poll() is None and not w.expect_crash]
            victim = next((w for w in live if w.name == obs.leader), live[0] if live else None)
            if victim is not None and len(live) > 1:
                role = " (the coordinator)" if victim.name == obs.leader else ""
                victim.kill()
                faults["worker"] = f"{victim.name}{role} at {done}/{a.jobs} jobs (kill -9)"
                disp.event("demo", "demo", f"kill -9 of worker {victim.name}{role}, "
                           f"pid {victim.proc.pid}; its session ends within its 10 s "
                           "timeout, and with it its registration, candidacy, lock node "
                           "and the job it had taken")
    disp.progress(obs.done, len(obs.workers), obs.leader)
    if restarting is not None:
        restarting.join(120)
    for w in workers:
        w.join(5)
    bad = [w.name for w in workers if not w.killed
           and w.proc.returncode != (3 if w.expect_crash else 0)]
    if bad:
        disp.event("demo", "demo", f"workers failed: {', '.join(bad)}")
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
