"""Lab 3: the GDB helper hv-vmcb decodes a live VMCB (docs/gdb.md, 'Watching one VM exit')."""
import re

import pytest

from gradelib import run_gdb_session

pytestmark = pytest.mark.handout("docs/gdb.md, 'Watching one VM exit (SVM, lab 3)'")

ROOT_GDB = "source scripts/gdb/hypatia.py"


@pytest.mark.points(3)
@pytest.mark.student
def test_hv_vmcb_shows_the_exit(build, nonce):
    """Stopped right after an IOIO #VMEXIT, hv-vmcb's EXITCODE equals the VMCB's own bytes.

    The breakpoint's condition skips the timer's INTR exits, which may come first."""
    module = f"{build.guest_image('hello')} name=h mode=nested nonce={nonce}"
    out, _ = run_gdb_session(build.kernel32, build.kernel, f"nonce={nonce}",
                             [ROOT_GDB, "hbreak svm_decode_exit if *(unsigned long *)(s->vmcb + 0x70) == 0x7b",
                              "continue",
                              "print/x *(unsigned long *)(s->vmcb + 0x70)", "hv-vmcb", "kill"],
                             modules=[module])
    if "gdb-timeout" in out:
        raise AssertionError("GDB did not finish within its time limit:\n" + out[-2000:])
    raw = re.search(r"^\$1 = (0x[0-9a-f]+)$", out, re.M)
    shown = re.search(r"\+0x070 exitcode\s+(0x[0-9a-f]+)", out)
    if not raw or not shown or int(raw.group(1), 16) != int(shown.group(1), 16):
        raise AssertionError("hv-vmcb should print EXITCODE (VMCB offset 0x70) as the VMCB holds it; "
                             "GDB said:\n" + out[-3000:])
    if int(raw.group(1), 16) != 0x7B:
        raise AssertionError(f"the breakpoint was conditioned on an IOIO exit (0x7b); EXITCODE was {raw.group(1)}")
