#!/usr/bin/env python3
"""tests/docs/test_docs.py - the documentation's code, checked as a TAP test.

Extracts the fenced snippets of README.md and docs/**/*.md and hands each
to the runner of its language (the fence's info string: its first word is
the language, the rest says what kind of snippet it is; conventions in
tests/docs/README.md). C snippets are compiled (programs also linked and
run against a local ensemble), Python programs run with the build's
binding, Go programs are built in a scratch module that uses
bindings/go and run, shell sessions run in order in an empty
directory, other shell blocks are syntax-checked. Languages without a
runner are counted and reported as skipped; adding one is one function
in RUNNERS.

Environment (set by `make check`): ZKC_TEST_BUILDDIR (the build tree),
ZKC_TEST_CC, ZKC_TEST_SAN_CFLAGS / ZKC_TEST_SAN_LDFLAGS (the build's
sanitizer flags), ZKC_TEST_TIMEOUT_SCALE.

Usage: tests/docs/test_docs.py [FILE.md ...]   (default: every page)
"""

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

SRCDIR = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.path.realpath(os.environ.get("ZKC_TEST_BUILDDIR") or os.getcwd())
CC = os.environ.get("ZKC_TEST_CC") or "cc"
SAN_CFLAGS = os.environ.get("ZKC_TEST_SAN_CFLAGS", "")
SAN_LDFLAGS = os.environ.get("ZKC_TEST_SAN_LDFLAGS", "")
SCALE = max(1.0, float(os.environ.get("ZKC_TEST_TIMEOUT_SCALE") or 1))

PROGRAM_TIMEOUT = 120 * SCALE     # one program against the ensemble
SESSION_TIMEOUT = 600 * SCALE     # one page's shell sessions, JVMs included

# Every snippet sees these headers; fragments run inside a function that
# has a client `zk` in scope (a fragment may declare its own).
PRELUDE = """#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zkc.h>
"""

# Warnings that stop a snippet: a call to a function that no longer exists
# or a changed signature must fail, not pass as an implicit declaration.
C_WARN = ["-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]
C_WARN_SNIPPET = C_WARN + ["-Wno-unused-variable", "-Wno-unused-but-set-variable",
                           "-Wno-unused-function", "-Wno-unused-label"]


# ------------------------------------------------------------ extraction

class Snippet:
    def __init__(self, page, line, lang, attrs, text):
        self.page = page          # path relative to SRCDIR
        self.line = line          # line of the first code line (1-based)
        self.lang = lang          # "" for a fence without info string
        self.attrs = attrs        # the info string's other words
        self.text = text

    def where(self):
        return "%s:%d" % (self.page, self.line)


FENCE = re.compile(r"^( {0,3}|\t*[ ]*)(`{3,}|~{3,})\s*([^`]*)$")


def extract(page):
    """The fenced blocks of one Markdown file, in order."""
    out = []
    with open(os.path.join(SRCDIR, page), encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        words = info.split()
        start = i + 1
        body = []
        i += 1
        while i < len(lines):
            s = lines[i]
            if s.strip().startswith(fence[0] * len(fence)) and \
                    s.strip().strip(fence[0]) == "":
                break
            body.append(s[len(indent):] if s.startswith(indent) else s.lstrip())
            i += 1
        i += 1
        out.append(Snippet(page, start + 1, words[0].lower() if words else "",
                           words[1:], "\n".join(body) + "\n"))
    return out


def pages(args):
    if args:
        return [os.path.relpath(os.path.realpath(a), SRCDIR) for a in args]
    found = ["README.md"] + sorted(glob.glob("docs/**/*.md", root_dir=SRCDIR,
                                             recursive=True))
    return [p for p in found if os.path.exists(os.path.join(SRCDIR, p))]


# ------------------------------------------------------------ TAP

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, diag="", skip=None):
        self.n += 1
        if not ok:
            self.failed += 1
        line = "%s %d - %s" % ("ok" if ok else "not ok", self.n, name)
        if skip:
            line += " # SKIP " + skip
        print(line, flush=True)
        for d in diag.rstrip("\n").split("\n") if diag.strip() else []:
            print("# " + d, flush=True)

    def comment(self, text):
        for d in text.rstrip("\n").split("\n"):
            print("# " + d, flush=True)


# ------------------------------------------------------------ context

def run(argv, cwd=None, env=None, timeout=None, input=None):
    """Runs argv in its own process group; (status, output). A timeout
    kills the whole group and gives status None."""
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.PIPE
                         if input is not None else subprocess.DEVNULL,
                         start_new_session=True, text=True)
    try:
        out, _ = p.communicate(input=input, timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, (out or "") + "\n(killed after %d s)" % timeout


class Context:
    """What runners share: a scratch directory, the build tree as an
    installed zkc would look to a user (pkg-config, PATH, the library
    path), and a lazily started 1-node ensemble for programs."""

    def __init__(self, tap):
        self.tap = tap
        self.tmp = tempfile.mkdtemp(prefix="zkc-docs-")
        self.ens_dir = None
        self.ens_env = None
        self.sessions = {}        # page -> [snippet]
        self.programs = {}        # page -> {file name: snippet}
        self.skipped = {}         # language -> count
        self._setup_tools()

    def _setup_tools(self):
        bindir = os.path.join(self.tmp, "bin")
        pcdir = os.path.join(self.tmp, "pkgconfig")
        os.makedirs(bindir)
        os.makedirs(pcdir)
        # pkg-config prefers NAME-uninstalled.pc: the build tree as if
        # installed, with the build's sanitizer flags
        with open(os.path.join(pcdir, "zkc-uninstalled.pc"), "w") as f:
            f.write("Name: zkc\nDescription: zkc (build tree)\nVersion: 0\n"
                    "Cflags: -I%s %s\nLibs: -L%s -lzkc %s\n" % (
                        os.path.join(SRCDIR, "include"), SAN_CFLAGS,
                        os.path.join(BUILDDIR, ".libs"), SAN_LDFLAGS))
        # `cc` in a session is the compiler the build used
        cc = os.path.join(bindir, "cc")
        with open(cc, "w") as f:
            f.write("#!/bin/sh\nexec %s \"$@\"\n" % CC)
        os.chmod(cc, 0o755)
        env = dict(os.environ)
        for k in ("ZKC_URL", "ZKC_ENSEMBLE_DIR"):
            env.pop(k, None)
        env["PATH"] = "%s:%s:%s" % (bindir, BUILDDIR, env.get("PATH", ""))
        env["PKG_CONFIG_PATH"] = pcdir
        env["LD_LIBRARY_PATH"] = os.path.join(BUILDDIR, ".libs") + \
            (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        self.env = env

    def flags(self, what):
        status, out = run(["pkg-config", what, "zkc"], env=self.env)
        if status != 0:
            raise RuntimeError("pkg-config %s zkc: %s" % (what, out))
        return shlex.split(out)

    def ensemble_env(self):
        """The environment of a program: ZKC_URL of a 1-node ensemble
        started on first use."""
        if self.ens_env is None:
            self.ens_dir = os.path.join(self.tmp, "ensemble")
            status, out = run(["zkc", "ensemble", "up", "--nodes", "1", "--dir",
                               self.ens_dir, "--env"], env=self.env,
                              timeout=120 * SCALE)
            if status != 0:
                self.ens_dir = None
                raise RuntimeError("zkc ensemble up: " + out)
            env = dict(self.env)
            for m in re.finditer(r"^export (\w+)='([^']*)'$", out, re.M):
                env[m.group(1)] = m.group(2)
            if "ZKC_URL" not in env:
                raise RuntimeError("zkc ensemble up --env printed no ZKC_URL: " + out)
            self.ens_env = env
        return self.ens_env

    def cleanup(self):
        # every ensemble a program or session left under the scratch dir
        for state in glob.glob(os.path.join(self.tmp, "**", "ensemble.state"),
                               recursive=True):
            run(["zkc", "ensemble", "down", "--dir", os.path.dirname(state)],
                env=self.env, timeout=60 * SCALE)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------ C

C_KINDS = ("program", "fragment", "unit")


def c_source(s):
    """The translation unit a C snippet becomes; #line keeps compiler
    messages pointing into the page."""
    kind = s.attrs[0]
    at = '#line %d "%s"\n' % (s.line, s.page)
    if kind == "program":
        return at + s.text
    if kind == "unit":
        return PRELUDE + at + s.text
    return (PRELUDE + "int zkc_doc_fragment(zkc_t *zk);\n"
            "int zkc_doc_fragment(zkc_t *zk)\n{\n\t{\n" + at + s.text +
            "\t}\n\treturn 0;\n}\n")


def run_c(s, ctx):
    """C: `c program [FILE]` is compiled, linked and run with ZKC_URL set
    (it must exit 0; FILE names it for the page's shell sessions);
    `c fragment` is compiled as statements inside a function where `zk`
    is a client; `c unit` is compiled as a file of its own (declarations
    and functions). All with the page's headers as a user has them."""
    if not s.attrs or s.attrs[0] not in C_KINDS:
        ctx.tap.result(False, "%s: C snippet without a kind" % s.where(),
                       "write ```c program, ```c fragment or ```c unit "
                       "(tests/docs/README.md)")
        return
    kind = s.attrs[0]
    work = tempfile.mkdtemp(dir=ctx.tmp, prefix="c-")
    src = os.path.join(work, "snippet.c")
    with open(src, "w") as f:
        f.write(c_source(s))
    cflags = ctx.flags("--cflags")
    warn = C_WARN if kind == "program" else C_WARN_SNIPPET
    if kind != "program":
        status, out = run([CC, "-std=gnu11"] + warn + cflags +
                          ["-c", "-o", os.path.join(work, "snippet.o"), src],
                          env=ctx.env, timeout=120 * SCALE)
        ctx.tap.result(status == 0, "%s: C %s compiles" % (s.where(), kind), out)
        return
    exe = os.path.join(work, "program")
    status, out = run([CC, "-std=gnu11"] + warn + cflags + ["-o", exe, src] +
                      ctx.flags("--libs"), env=ctx.env, timeout=120 * SCALE)
    ctx.tap.result(status == 0, "%s: C program compiles and links" % s.where(), out)
    if len(s.attrs) > 1:
        ctx.programs.setdefault(s.page, {})[s.attrs[1]] = s
    if status != 0:
        return
    try:
        env = ctx.ensemble_env()
    except RuntimeError as e:
        ctx.tap.result(False, "%s: C program runs" % s.where(), str(e))
        return
    status, out = run([exe], cwd=work, env=env, timeout=PROGRAM_TIMEOUT)
    ctx.tap.result(status == 0, "%s: C program runs and exits 0" % s.where(),
                   out + ("\nexit status %s" % status if status != 0 else ""))


# ------------------------------------------------------------ shell

def run_sh(s, ctx):
    """Shell: `sh session` blocks of a page run later, in order, as one
    script (set -eu) in an empty directory holding the page's named C
    programs; other blocks are only checked with `bash -n`."""
    if s.attrs and s.attrs[0] == "session":
        ctx.sessions.setdefault(s.page, []).append(s)
        return
    status, out = run(["bash", "-n"], input=s.text, env=ctx.env, timeout=30)
    ctx.tap.result(status == 0, "%s: shell syntax" % s.where(), out)


def run_sessions(page, snippets, ctx):
    work = tempfile.mkdtemp(dir=ctx.tmp, prefix="session-")
    for name, p in ctx.programs.get(page, {}).items():
        with open(os.path.join(work, name), "w") as f:
            f.write(p.text)
    script = ["set -euo pipefail", "set -x"]
    for s in snippets:
        script.append("# %s" % s.where())
        script.append(s.text)
    status, out = run(["bash", "-c", "\n".join(script)], cwd=work, env=ctx.env,
                      timeout=SESSION_TIMEOUT)
    ctx.tap.result(status == 0, "%s: %d shell session(s) run in order" %
                   (page, len(snippets)), out)


# ------------------------------------------------------------ Python

PY_KINDS = ("program", "unit")


def python_dir():
    """The binding `make` built into the build tree, or None (configure
    found no Python or SWIG, or a sanitizer build, which skips it)."""
    d = os.path.join(BUILDDIR, "python")
    return d if os.path.exists(os.path.join(d, "zkc", "__init__.py")) else None


def run_python(s, ctx):
    """Python: `python program` runs as a script (it must exit 0) with
    the build tree's binding on PYTHONPATH and ZKC_URL set to the local
    ensemble; `python unit` (definitions) is compiled, not run."""
    if not s.attrs or s.attrs[0] not in PY_KINDS:
        ctx.tap.result(False, "%s: Python snippet without a kind" % s.where(),
                       "write ```python program or ```python unit "
                       "(tests/docs/README.md)")
        return
    kind = s.attrs[0]
    try:
        compile("\n" * (s.line - 1) + s.text, s.page, "exec")
        ctx.tap.result(True, "%s: Python %s compiles" % (s.where(), kind))
    except SyntaxError as e:
        ctx.tap.result(False, "%s: Python %s compiles" % (s.where(), kind), str(e))
        return
    if kind != "program":
        return
    pydir = python_dir()
    if pydir is None:
        ctx.tap.result(True, "%s: Python program runs" % s.where(),
                       skip="the build has no Python binding (configure "
                       "found no Python or SWIG, or sanitizers are on)")
        return
    try:
        env = dict(ctx.ensemble_env())
    except RuntimeError as e:
        ctx.tap.result(False, "%s: Python program runs" % s.where(), str(e))
        return
    env["PYTHONPATH"] = pydir + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    work = tempfile.mkdtemp(dir=ctx.tmp, prefix="py-")
    src = os.path.join(work, "snippet.py")
    with open(src, "w") as f:
        # blank lines keep tracebacks pointing at the page's line numbers
        f.write("\n" * (s.line - 1) + s.text)
    status, out = run([sys.executable, src], cwd=work, env=env,
                      timeout=PROGRAM_TIMEOUT)
    ctx.tap.result(status == 0, "%s: Python program runs and exits 0" % s.where(),
                   out + ("\nexit status %s" % status if status != 0 else ""))


# ------------------------------------------------------------ Go

GO_KINDS = ("program", "unit")
GO_MODULE = "github.com/zkc-project/zkc/bindings/go"


def go_tool():
    go = shutil.which("go") or ("/usr/local/go/bin/go"
                                if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    return go


def go_module(ctx, s):
    """A scratch module holding the snippet as main.go, requiring the
    binding from this tree (a replace directive), as a user's module
    would after `go get`."""
    work = tempfile.mkdtemp(dir=ctx.tmp, prefix="go-")
    with open(os.path.join(work, "go.mod"), "w") as f:
        f.write("module zkcdocs/snippet\n\ngo 1.23\n\nrequire %s v0.0.0\n\n"
                "replace %s => %s\n" % (GO_MODULE, GO_MODULE,
                                         os.path.join(SRCDIR, "bindings", "go")))
    shutil.copy(os.path.join(SRCDIR, "bindings", "go", "go.sum"),
                os.path.join(work, "go.sum"))
    with open(os.path.join(work, "main.go"), "w") as f:
        f.write("//line %s:%d\n" % (s.page, s.line) + s.text)
    return work


def run_go(s, ctx):
    """Go: `go program` (package main with func main) is built in a
    scratch module that uses the binding from this tree and run with
    ZKC_URL set (it must exit 0); `go unit` (a file of declarations) is
    type-checked with go vet, not run."""
    if not s.attrs or s.attrs[0] not in GO_KINDS:
        ctx.tap.result(False, "%s: Go snippet without a kind" % s.where(),
                       "write ```go program or ```go unit (tests/docs/README.md)")
        return
    kind = s.attrs[0]
    go = go_tool()
    why = None
    if go is None:
        why = "no go command"
    elif SAN_LDFLAGS.strip():
        why = "a sanitizer build: cgo programs are not linked against it"
    if why:
        ctx.tap.result(True, "%s: Go %s builds" % (s.where(), kind), skip=why)
        return
    work = go_module(ctx, s)
    env = dict(ctx.env)
    env["CGO_ENABLED"] = "1"
    env["GOFLAGS"] = "-mod=mod"
    env["PATH"] = os.path.dirname(go) + ":" + env["PATH"]
    if kind == "unit":
        status, out = run([go, "vet", "."], cwd=work, env=env, timeout=600 * SCALE)
        ctx.tap.result(status == 0, "%s: Go unit type-checks" % s.where(), out)
        return
    exe = os.path.join(work, "program")
    status, out = run([go, "build", "-o", exe, "."], cwd=work, env=env,
                      timeout=600 * SCALE)
    ctx.tap.result(status == 0, "%s: Go program builds" % s.where(), out)
    if status != 0:
        return
    try:
        penv = ctx.ensemble_env()
    except RuntimeError as e:
        ctx.tap.result(False, "%s: Go program runs" % s.where(), str(e))
        return
    status, out = run([exe], cwd=work, env=penv, timeout=PROGRAM_TIMEOUT)
    ctx.tap.result(status == 0, "%s: Go program runs and exits 0" % s.where(),
                   out + ("\nexit status %s" % status if status != 0 else ""))


# ------------------------------------------------------------ main

RUNNERS = {
    "c": run_c,
    "sh": run_sh,
    "bash": run_sh,
    "shell": run_sh,
    "python": run_python,
    "go": run_go,
}

# Blocks that are not code to check: text, output, configuration.
NOT_CODE = {"", "text", "console", "yaml", "json", "toml", "ini", "diff"}


def main(argv):
    tap = Tap()
    ctx = Context(tap)

    def stop(signum, frame):
        ctx.cleanup()
        sys.exit(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    nsnippets = 0
    try:
        for page in pages(argv[1:]):
            for s in extract(page):
                runner = RUNNERS.get(s.lang)
                if runner:
                    nsnippets += 1
                    runner(s, ctx)
                elif s.lang not in NOT_CODE:
                    ctx.skipped[s.lang] = ctx.skipped.get(s.lang, 0) + 1
            if page in ctx.sessions:
                run_sessions(page, ctx.sessions.pop(page), ctx)
        for lang, n in sorted(ctx.skipped.items()):
            tap.result(True, "%d %s snippet(s) not run" % (n, lang),
                       skip="no runner for %s yet" % lang)
        if nsnippets == 0:
            tap.result(False, "no snippet found to check")
    finally:
        ctx.cleanup()
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
