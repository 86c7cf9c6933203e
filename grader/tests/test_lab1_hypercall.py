"""Lab 1: hypercalls, the paravirtual guest's door into the hypervisor — Xen's ABI (docs/hypercalls.md).

guests/tests/hypercall.c, pv build: console_io, error returns (Xen's errno
values), sched_op yield, the virtual timer as an event channel (VIRQ_TIMER)
with the shared-info page's evtchn_upcall_mask, and sched_op shutdown with a
code of its own. Every expected value is computed here from the nonce and
Xen's headers (the numbers in guests/include/xen.h, each cited there).
"""
import pytest

from gradelib import run_qemu
from test_lab1_equivalence import expect_exit, module, run_hypervisor, transcript

pytestmark = pytest.mark.handout("docs/hypercalls.md")

MASK64 = (1 << 64) - 1


EFAULT, EPERM, ENOSYS = 14, 1, 38  # Xen's errno.h


def expected_start(nonce):
    text = f"console_write: {(nonce * 0x9E3779B97F4A7C15) & MASK64:x}"
    return [f"hypercall: nonce={nonce}",
            text,
            f"console_io(write) returned 0 (length {len(text) + 1})",
            f"console_io(write) outside guest memory: -{EFAULT}",
            f"console_io(read): -{EPERM}",
            f"console_io({2 + nonce % 50}): -{ENOSYS}",
            f"hypercall {1000 + nonce % 1000}: -{ENOSYS}",
            "sched_op(yield): 0",
            f"sched_op({100 + nonce % 100}): -{ENOSYS}"]


def shutdown_code(nonce):
    return 0x10 | (1 + nonce % 15) << 8


def expect_lines(r, got, want):
    if got != want:
        r.fail("the hypercall guest printed:\n      " + "\n      ".join(got) +
               "\n  but should have printed:\n      " + "\n      ".join(want))


def test_hypercalls(build, nonce):
    r = run_hypervisor(build, [module(build, "pv", "hypercall", "hc", nonce, "timer=0")], nonce)
    code = shutdown_code(nonce)
    expect_lines(r, transcript(r, "hc"), expected_start(nonce) + [f"sched_op(shutdown 0x{code:x})", "RESULT: PASS"])
    expect_exit(r, "hc", code)


def test_hypercall_guest_skips_natively(build, nonce):
    # Vector 0x82 means nothing on bare metal: the guest must say SKIP, not crash.
    r = run_qemu(build.guest_native("hypercall"), f"nonce={nonce}", timeout=15)
    r.expect_status("success")
    r.expect(r"^RESULT: SKIP hypercalls are for the pv build", "'RESULT: SKIP' natively")


@pytest.mark.points(6)
@pytest.mark.student
def test_virtual_timer_and_shared_info(build, nonce):
    r = run_hypervisor(build, [module(build, "pv", "hypercall", "hc", nonce)], nonce)
    code = shutdown_code(nonce)
    vector = 48 + nonce % 16
    # The first port a domain binds is 1 (port 0 is never valid); one port is in group 0 of the selector.
    expect_lines(r, transcript(r, "hc"), expected_start(nonce) + [
        f"hvm_op(set_param CALLBACK_IRQ, vector {vector}): 0",
        "event_channel_op(bind_virq VIRQ_TIMER): 0, port 1",
        "vcpu_op(set_periodic_timer 10 ms): 0",
        "unmasked: at least 3 timer events handled",
        "masked: 0 handled, port pending: 1, selector bit: 1, upcall pending: 1",
        "unmasked again: delivered at once: yes",
        "vcpu_op(stop_periodic_timer): 0",
        "event_channel_op(close): 0",
        f"sched_op(shutdown 0x{code:x})",
        "RESULT: PASS"])
    expect_exit(r, "hc", code)


# Xen's numbers the xen_abi guest must meet (xen/include/public/): EINVAL 22, EEXIST 17; XENFEAT_auto_translated_physmap
# 2, XENFEAT_hvm_callback_vector 8; EVTCHNSTAT_closed 0, virq 4, ipi 5; vcpu_info[0] at 0 (upcall_pending @0, mask @1,
# pending_sel @8), evtchn_pending @2048, evtchn_mask @2560 — offsets in bytes of the shared-info page.
EINVAL, EEXIST = 22, 17


def call_name(vendor):
    return "vmcall" if vendor == "vmx" else "vmmcall"


def expected_xen_abi(nonce, hvm=False, upcall=True):
    """Every line of guests/tests/xen_abi.c, from the nonce and Xen's headers (not from a run)."""
    ports = 65 + nonce % 60
    word, bit = ports // 64, 1 << ports % 64
    pending, mask = 2048 + 8 * word, 2560 + 8 * word
    want = [f"xen_abi: nonce={nonce}",
            "xen_version: 4.17",
            "xen_version(extraversion): 0 .0-hypatia",
            f"xen_version(get_features 0): 0, submap {hex(1 << 2 | (1 << 8 if hvm else 0))}",
            f"xen_version(get_features {1 + nonce % 7}): -{EINVAL}",
            f"xen_version(get_features, bad pointer): -{EFAULT}",
            f"xen_version({64 + nonce % 64}): -{ENOSYS}",
            f"event_channel_op(init_control): -{ENOSYS}"]
    if hvm:
        want.append("memory_op(add_to_physmap shared_info): 0")
    want += [f"event_channel_op(bind_ipi) x {ports}: last port {ports}",
             f"mask bit @{mask}: {bit:#x}",
             f"send({ports}): 0",
             f"masked: pending @{pending} {bit:#x}, selector @8 0x0, upcall pending @0 0",
             f"unmask({ports}): 0",
             # An HVM guest masks with RFLAGS.IF; a PV one's virtual IF is evtchn_upcall_mask.
             f"unmasked: mask @{mask} 0x0, selector @8 {1 << word:#x}, upcall pending @0 1, "
             f"upcall mask @1 {0 if hvm else 1}"]
    if upcall:
        want += [f"hvm_op(set_param CALLBACK_IRQ, vector {64 + nonce % 32}): 0", "upcalls taken on unmasking: 1"]
    want += [f"event on port {ports}; pending @{pending} now 0x0, upcall pending 0",
             f"status({ports}): 0, status 5, vcpu 0",
             f"close({ports}): 0, again: -{EINVAL}",
             f"status({ports}): 0, status 0; send: -{EINVAL}; close(0): -{EINVAL}",
             f"bind_virq(VIRQ_TIMER): 0, port {ports}; again: -{EEXIST}",
             f"status({ports}): 0, status 4, virq 0; send: -{EINVAL}",
             f"bind_virq({24 + nonce % 100}): -{EINVAL}; bind_ipi(bad pointer): -{EFAULT}"]
    if hvm:
        n = nonce % 128
        call = "0f 01 c1" if hvm == "vmx" else "0f 01 d9"  # VMCALL (SDM Vol. 2B) / VMMCALL (APM Vol. 3)
        want += ["cpuid 0x40000000: 40000005 566e6558 65584d4d 4d4d566e",  # "XenVMMXenVMM", highest leaf base+5
                 "cpuid 0x40000001: 00040011 00000000 00000000 00000000",  # version 4.17
                 "cpuid 0x40000002: 00000001 40000000 00000000 00000000",  # one page, MSR 0x40000000
                 "cpuid 0x40000003: 00000000 00000000 00000000 00000000",
                 "cpuid 0x40000004: 00000008 00000000 00000000 00000000",  # vCPU id in EBX (0)
                 "cpuid 0x40000100: 40000100 HypatiaHypat",
                 f"hypercall page stub {n}: b8 {n:02x} 00 00 00 {call} c3 cc",
                 "xen_version through the page: 4.17",
                 f"{call_name(hvm)} from user mode: -{EPERM}"]  # only the guest's kernel may call
    return want + ["RESULT: PASS"]


@pytest.mark.points(0)
def test_xen_abi_without_upcalls(build, nonce):
    """Kit check: the given hypercalls and event channels, polled (no delivery needed)."""
    r = run_hypervisor(build, [module(build, "pv", "xen_abi", "xen", nonce, "upcall=0")], nonce)
    expect_lines(r, transcript(r, "xen"), expected_xen_abi(nonce, upcall=False))
    expect_exit(r, "xen")


@pytest.mark.points(2)
@pytest.mark.student
def test_event_channel_upcall(build, nonce):
    """The upcall of an event sent while masked, delivered through the guest's IDT the moment it unmasks
    (pv_deliver_pending_interrupt, labs/lab1/README.md part 3)."""
    r = run_hypervisor(build, [module(build, "pv", "xen_abi", "xen", nonce)], nonce)
    expect_lines(r, transcript(r, "xen"), expected_xen_abi(nonce))
    expect_exit(r, "xen")


def test_hypercall_fuzzing_hurts_nobody(build, nonce):
    """10^5 random hypercalls with random arguments from a PV guest (guests/tests/hcfuzz.c): each comes
    back, the hypervisor does not panic, and a domain beside it finishes as it must (a kit check)."""
    other = nonce ^ 0x5DEECE66D
    r = run_hypervisor(build, [module(build, "pv", "hcfuzz", "fuzz", nonce, "calls=100000"),
                               module(build, "pv", "hello", "hello", other)], nonce, timeout=60)
    r.expect_status("success")
    lines = transcript(r, "fuzz")
    if not lines or lines[0] != f"hcfuzz: nonce={nonce} calls=100000" or \
            not any(line.startswith("hcfuzz: 100000 calls came back: ") for line in lines):
        r.fail(f"the fuzzer should report that all 100000 calls came back; it printed {lines[:3]}")
    expect_exit(r, "fuzz", 0x10)
    expect_exit(r, "hello", 0x10)
