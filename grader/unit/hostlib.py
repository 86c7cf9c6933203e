"""Build pieces of the hypervisor as host shared libraries, for unit tests.

Kernel files are freestanding C: they use no C library, so the same source
compiles for the kernel and, with the host compiler, into a `.so` that a
pytest module loads with ctypes.  This module holds the one command that does
it; the Makefile's `unit` target and every unit test call `build_shared()`.

    from hostlib import build_shared
    lib = ctypes.CDLL(str(build_shared("decode", DECODER_SOURCES)))
"""
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / "build" / "host"
INCLUDE_DIR = ROOT / "kernel" / "include"
CC = os.environ.get("HOST_CC", "gcc")
CFLAGS = ["-std=gnu11", "-O2", "-g", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
          "-fvisibility=default", f"-I{INCLUDE_DIR}"]


def _inputs(sources):
    """Every file the library depends on: its sources, their directories' private
    headers, and the public headers."""
    paths = [Path(s) if Path(s).is_absolute() else ROOT / s for s in sources]
    deps = set(paths)
    for p in paths:
        deps.update(p.parent.glob("*.h"))
    deps.update(INCLUDE_DIR.glob("*.h"))
    return paths, deps


def compile_command(name, sources):
    """The gcc command line that builds build/host/lib<name>.so (for the Makefile)."""
    paths, _ = _inputs(sources)
    return [CC, *CFLAGS, "-o", str(BUILD_DIR / f"lib{name}.so"), *map(str, paths)]


def build_shared(name, sources):
    """Compile `sources` (paths relative to the repository root, or absolute) into
    build/host/lib<name>.so unless it is newer than every source and header.
    Returns the library's path.  Safe to call from parallel test workers: the
    library is written to a temporary name and renamed into place."""
    paths, deps = _inputs(sources)
    out = BUILD_DIR / f"lib{name}.so"
    if out.exists():
        built = out.stat().st_mtime
        if all(d.stat().st_mtime <= built for d in deps):
            return out
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".lib{name}.", suffix=".so", dir=BUILD_DIR)
    os.close(fd)
    cmd = [CC, *CFLAGS, "-o", tmp, *map(str, paths)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError(f"host build of lib{name}.so failed:\n  {' '.join(cmd)}\n"
                           f"{result.stdout}{result.stderr}")
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    import sys
    if len(sys.argv) < 3:
        sys.exit("usage: hostlib.py NAME SOURCE...   (builds build/host/libNAME.so)")
    print(build_shared(sys.argv[1], sys.argv[2:]))
