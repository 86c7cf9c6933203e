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


# --- Dom0's portable parts as host programs (grader/unit/test_dom0_*.py) ---------------------

DOM0_INCLUDES = [ROOT / "grader/unit/host/hosted", ROOT / "guests/dom0", ROOT / "guests/include"]


def build_dom0_tool(directory, name, sources):
    """Compile a harness of grader/unit/host/ with Dom0 or guest-runtime @sources into @directory/@name.

    With AddressSanitizer and UBSan, stopping at the first error: a memory error in the
    code under test fails the test that ran it. -DDOM0_HOSTED takes the C library's
    functions in place of the guest runtime's (guests/dom0/dom0_env.h)."""
    exe = Path(directory) / name
    subprocess.run([CC, "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-DDOM0_HOSTED",
                    *[f"-I{d}" for d in DOM0_INCLUDES], "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    *[str(ROOT / s) for s in sources], "-o", str(exe)], check=True)
    return exe


def splitmix_bytes(seed, words):
    """@words 64-bit words of SplitMix64 from @seed, little-endian: what the harnesses fill pages with."""
    import struct
    import sys
    sys.path.insert(0, str(ROOT / "grader"))
    from gradelib import splitmix64_sequence
    return b"".join(struct.pack("<Q", z) for z in splitmix64_sequence(seed, words))
