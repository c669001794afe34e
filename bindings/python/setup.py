"""Builds the zkc extension: SWIG generates the C wrapper of the public API
(bindings/zkc.i, shared with the Go binding, through zkc_python.i) and the
compiler builds it against libzkc.

Where libzkc comes from:
  - pkg-config zkc (an installed libzkc: `make install`), the default;
  - ZKC_CFLAGS / ZKC_LIBS in the environment (the in-tree `make` sets them).
SWIG is `$SWIG` or `swig` on PATH (pip installs the `swig` package from PyPI
as a build requirement)."""
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "zkc"], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        sys.exit("zkc: cannot find libzkc with pkg-config (%s).\n"
                 "Install zkc (make install) and set PKG_CONFIG_PATH to the directory of "
                 "zkc.pc, or set ZKC_CFLAGS and ZKC_LIBS." % detail.strip())
    return shlex.split(out)


def _flags():
    if os.environ.get("ZKC_LIBS") is not None:
        cflags = shlex.split(os.environ.get("ZKC_CFLAGS", ""))
        libs = shlex.split(os.environ["ZKC_LIBS"])
    else:
        cflags = _pkg_config("--cflags")
        libs = _pkg_config("--libs")
    incs = [f[2:] for f in cflags if f.startswith("-I")]
    other_c = [f for f in cflags if not f.startswith("-I")]
    libdirs = [f[2:] for f in libs if f.startswith("-L")]
    names = [f[2:] for f in libs if f.startswith("-l")]
    rpath = os.environ.get("ZKC_RPATH")
    rpaths = shlex.split(rpath) if rpath is not None else libdirs
    return incs, other_c, libdirs, names, rpaths


def _find_neutral_interface():
    for d in (os.path.join(HERE, ".."), HERE):
        if os.path.exists(os.path.join(d, "zkc.i")):
            return os.path.abspath(d)
    sys.exit("zkc: bindings/zkc.i not found next to bindings/python")


class BuildExt(build_ext):
    """Runs SWIG into the build directory (the source tree stays clean)."""

    def swig_sources(self, sources, extension):
        out = []
        os.makedirs(self.build_temp, exist_ok=True)
        swig = os.environ.get("SWIG") or shutil.which("swig") or "swig"
        for src in sources:
            if not src.endswith(".i"):
                out.append(src)
                continue
            target = os.path.join(self.build_temp, "zkc_python_wrap.c")
            cmd = [swig, "-python", "-threads", "-noproxy", "-o", target]
            cmd += ["-I" + d for d in extension.include_dirs]
            cmd += ["-I" + _find_neutral_interface(), src]
            self.announce("swig: " + " ".join(cmd), level=2)
            subprocess.run(cmd, check=True)
            out.append(target)
        return out


incs, other_c, libdirs, names, rpaths = _flags()

ext = Extension(
    "zkc._zkc_c",
    sources=[os.path.relpath(os.path.join(HERE, "zkc_python.i"))],
    include_dirs=incs,
    library_dirs=libdirs,
    libraries=names,
    runtime_library_dirs=rpaths,
    extra_compile_args=other_c + ["-Wno-unused-but-set-variable", "-Wno-unused-label",
                                  "-fno-strict-aliasing"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": BuildExt})
