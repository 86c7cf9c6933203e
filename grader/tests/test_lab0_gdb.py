"""Lab 0: the GDB workflow works — QEMU's GDB stub, the kit's symbols, a breakpoint, a variable.

This is what `make qemu-gdb` + `make gdb` do, run in batch mode.
"""
import re

import pytest

from gradelib import run_gdb_session

pytestmark = pytest.mark.handout("labs/lab0/README.md, 'A GDB tour'; docs/gdb.md")


def test_gdb_breakpoint_and_variable(build, nonce):
    # A hardware breakpoint: when GDB attaches, paging is still off, so GDB
    # could not write an INT3 at the upper-half address of selftest_run.
    out, _ = run_gdb_session(build.kernel32, build.kernel, f"nonce={nonce} selftest=heap",
                             ["hbreak selftest_run", "continue", "print boot_nonce", "print/x $rip",
                              "print selftest_run", "kill"])
    if "gdb-timeout" in out:
        raise AssertionError("GDB did not finish within its time limit:\n" + out[-2000:])
    hit = re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?selftest_run", out)
    if not hit:
        raise AssertionError("GDB never stopped at the breakpoint on selftest_run; GDB said:\n" + out[-2000:])
    m = re.search(r"^\$1 = (\d+)$", out, re.M)
    if not m or int(m.group(1)) != nonce:
        raise AssertionError(f"'print boot_nonce' should show the nonce {nonce}; GDB said:\n" + out[-2000:])
    rip = re.search(r"^\$2 = (0x[0-9a-f]+)$", out, re.M)
    func = re.search(r"^\$3 = .*(0x[0-9a-f]+) <selftest_run>", out, re.M)
    if not rip or not func or int(rip.group(1), 16) != int(func.group(1), 16):
        raise AssertionError("RIP at the breakpoint should be selftest_run's address; GDB said:\n" + out[-2000:])
