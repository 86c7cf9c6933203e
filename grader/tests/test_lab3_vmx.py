"""Lab 3: hardware-assisted virtualization with Intel VMX and EPT (Bochs).

The twin of test_lab3_svm.py. QEMU's TCG has no VMX, so these runs boot the
hypervisor in Bochs (corei7_haswell_4770: VMX, EPT, unrestricted guest; no
SVM), where hardware-assisted domains get the vmx backend. The reference is
the guest's *native* run in QEMU, as for every other equivalence test.

One Bochs boot serves most of the module: a Bochs run costs 2-3 s of BIOS and
GRUB before the hypervisor even starts, so nearly every guest below is one domain
of the same run (the hypervisor runs them round robin and prefixes each
line with [dN]), and each test judges its own domain's lines — with its own
points and its own message, quoting that domain's lines only. One nonce per
module run, folded into every guest's output. The native runs (QEMU) happen
while Bochs boots. The guests that count timer ticks (timer, nonvirt) run
alone, in two more Bochs runs at the same time (test_lab3_svm.py says why).

The two runs are on different CPUs: QEMU's default model is an AMD one,
Bochs' an Intel Haswell. A line that reports what the CPU is (its vendor,
brand string, family or model, raw CPUID output) would differ natively too,
so such lines are left out of the comparison (VENDOR_DEPENDENT below). The
guests compared here print none today, so in practice every line is compared.
"""
import re

import pytest

from gradelib import kvm_vmx_available, run_bochs, run_qemu_kvm
from test_lab1_equivalence import comparable, diff_lines, domain_end, domain_id, expect_exit, transcript
from test_lab3_svm import (BatchRun, expect_lapic, expect_lapic_bad, expect_dirty_pages_counted, expect_hypercalls, expect_outside_access_crashes_alone,
                            expect_mmio_lines, expect_populated_on_first_touch)
from test_lab1_hypercall import expect_lines, expected_xen_abi

pytestmark = [pytest.mark.handout("labs/lab3/README.md; docs/bochs.md"), pytest.mark.slow]

BOCHS_TIMEOUT = 60
VENDOR_DEPENDENT = re.compile(r"GenuineIntel|AuthenticAMD|\b(vendor|brand|family|model|cpuid)\b", re.I)

# Every domain of the module's Bochs run: (name, build, guest, domain options and guest arguments).
# build "native" is the guest's ELF32 multiboot kernel, loaded as it is.
DOMAINS = [
    ("hello", "image", "hello", "mode=nested"),
    ("io", "image", "io", "mode=nested"),
    ("cpu_state", "image", "cpu_state", "mode=nested"),
    ("exceptions", "image", "exceptions", "mode=nested"),
    ("crash", "image", "crash", "mode=nested how=triple"),
    ("shadow-paging_basic", "image", "paging_basic", "type=hvm mode=shadow mem=8M"),
    ("shadow-paging_faults", "image", "paging_faults", "type=hvm mode=shadow mem=8M"),
    ("shadow-paging_processes", "image", "paging_processes", "type=hvm mode=shadow mem=8M"),
    ("shadow-paging_stress", "image", "paging_stress", "type=hvm mode=shadow mem=8M steps=300"),
    ("shadow-exceptions", "image", "exceptions", "type=hvm mode=shadow mem=8M"),
    ("shadow-paging_user", "image", "paging_user", "type=hvm mode=shadow mem=8M"),
    ("paging_user", "image", "paging_user", "mode=nested"),
    ("multiboot-hello", "native", "hello", "mode=nested"),
    ("multiboot-exceptions", "native", "exceptions", "mode=nested"),
    ("mmio", "image", "mmio", "mode=nested"),
    ("writer", "image", "dirty", "mode=nested dirtylog=1"),
    ("idle", "image", "dirty", "mode=nested dirtylog=1 touch=0"),
    ("attack", "image", "paging_attack", "mode=nested only=outside"),
    ("hypercall", "image", "hypercall", "mode=nested"),
    ("xen", "image", "xen_abi", "mode=nested"),
    ("fpu-nested", "image", "fpu_state", "mode=nested salt=1"),
    ("fpu-shadow", "image", "fpu_state", "type=hvm mode=shadow mem=8M salt=2"),
    ("lapic", "image", "lapic", "mode=nested"),
    ("shadow-lapic", "image", "lapic", "type=hvm mode=shadow mem=8M"),
    ("apic-bad", "image", "lapic_bad", "mode=nested"),
]
# The guests that count timer ticks, each in a Bochs run of its own (test_lab3_svm.py says why);
# Bochs' clock is its own, so the three runs go at once.
ALONE = [
    ("timer", "image", "timer", "mode=nested"),
    ("nonvirt", "image", "nonvirt", "mode=nested umip=0"),
]


class VmxRun(BatchRun):
    """The module's one Bochs run, and the native runs it is compared with."""

    def __init__(self, build, nonce):
        if kvm_vmx_available():  # an Intel host with nested KVM: QEMU runs VMX (gradelib says when)
            def runner(modules):
                return run_qemu_kvm(build.kernel32, f"nonce={nonce}", modules=modules, timeout=BOCHS_TIMEOUT)
        else:
            def runner(modules):
                return run_bochs(build.kernel, f"nonce={nonce}", modules=modules, timeout=BOCHS_TIMEOUT)
        super().__init__(build, nonce, [DOMAINS] + [[d] for d in ALONE], runner, parallel=1 + len(ALONE))
        self.run = self.runs[0]

    def domain(self, name):
        r = self.run_of(name)
        if "mode vmx" not in r.output and r.status in ("success", "crash"):
            r.fail("no domain ran on the vmx backend: under Bochs (Intel, no SVM) hardware-assisted domains "
                   "must pick vmx_vcpu_ops (kernel/dom/domain.c) and vmx_enable() must succeed")
        return super().domain(name)


@pytest.fixture(scope="module")
def vmx(build, module_nonce):
    return VmxRun(build, module_nonce)


def vendor_neutral(lines):
    """comparable() lines, without those that depend on the CPU's vendor (module docstring)."""
    return [line for line in comparable(lines) if not VENDOR_DEPENDENT.search(line)]


def expect_equivalent_vmx(run, name, native_lines, kind="vmx"):
    want, got = vendor_neutral(native_lines), vendor_neutral(transcript(run, name))
    if want != got:
        import difflib
        diff = "\n".join("    " + d for d in difflib.unified_diff(want, got, "native (QEMU)", f"{kind} (Bochs)",
                                                                  lineterm="", n=2))
        run.fail(f"under VMX ({kind}) '{name}' printed other lines than natively (equivalence, DESIGN §5; "
                 f"'-' native, '+' under Hypatia in Bochs):\n{diff}")


def case(name, points):
    return pytest.param(name, marks=[pytest.mark.points(points)], id=name)


@pytest.mark.points(5)
@pytest.mark.student
def test_vmx_hello_equivalent(vmx):
    """VMXON, a VMCS, VMLAUNCH, I/O exits to the UART, a clean exit: the same lines as native."""
    r = vmx.domain("hello")
    expect_equivalent_vmx(r, "hello", vmx.native("hello").lines)
    expect_exit(r, "hello", 0x10)


@pytest.mark.student
@pytest.mark.parametrize("guest", [case("io", 3), case("cpu_state", 3), case("exceptions", 3), case("timer", 5),
                                   case("paging_user", 3)])
def test_vmx_equivalence(vmx, guest):
    """More of the lab-1 suite under VMX: string I/O, MSRs and CRs, the guest's own IDT, virtual
    timer interrupts through interrupt-window exiting."""
    r = vmx.domain(guest)
    expect_equivalent_vmx(r, guest, vmx.native(guest).lines)
    expect_exit(r, guest, 0x10)


@pytest.mark.points(2)
@pytest.mark.student
def test_vmx_fpu_and_sse_registers_are_each_domains_own(vmx):
    """Two VMX domains load the x87, SSE and AVX registers with values of their own and find them
    again after the other ran: Bochs' Haswell has XSAVE and AVX, so the guests enable AVX with an
    XSETBV (an exit, carried out by kernel/arch/xstate.c) and the state moves with XSAVE/XRSTOR."""
    for name, salt in (("fpu-nested", 1), ("fpu-shadow", 2)):
        r = vmx.domain(name)
        expect_equivalent_vmx(r, name, vmx.native("fpu_state", f"salt={salt}").lines, name.split("-")[1])
        expect_exit(r, name, 0x10)


@pytest.mark.points(8)
@pytest.mark.student
def test_vmx_nonvirtualizable_instructions_behave_natively(vmx):
    """Lab 1's DIFF: lines (POPF, PUSHF, mov %cs, SGDT/SIDT/STR) equal native under VMX too."""
    r = vmx.domain("nonvirt")
    expect_exit(r, "nonvirt", 0x10)
    want, got = diff_lines(vmx.native("nonvirt", "umip=0").lines), diff_lines(transcript(r, "nonvirt"))
    wrong = [f"    native: {want[k]}\n    vmx:    {got.get(k, '(missing)')}" for k in want if got.get(k) != want[k]]
    if wrong or not want:
        r.fail("under VMX the guest runs at CPL 0 on the (emulated) CPU, so the lines that differed under "
               "trap-and-emulate must equal native:\n" + "\n".join(wrong))
    expect_equivalent_vmx(r, "nonvirt", vmx.native("nonvirt", "umip=0").lines)


@pytest.mark.points(5)
@pytest.mark.student
def test_vmx_triple_fault_ends_only_that_guest(vmx):
    """A triple fault is VM exit reason 2: that domain crashes, the others run to their end."""
    end = domain_end(vmx.run, "crash")
    if not end or end[0] != "crashed" or "triple fault" not in end[1]:
        vmx.domain("crash").fail(f"the guest that triple-faults should crash alone with a 'triple fault' "
                                 f"reason; it: {end}")
    expect_exit(vmx.domain("hello"), "hello", 0x10)


@pytest.mark.student
@pytest.mark.parametrize("guest", [case("paging_basic", 4), case("paging_faults", 4), case("paging_processes", 4),
                                   case("paging_stress", 3), case("exceptions", 2), case("paging_user", 3)])
def test_vmx_hvm_on_shadow_paging(vmx, guest):
    """`type=hvm mode=shadow` under VMX: EPT off, the guest at CPL 0 on lab 2's shadow MMU — CR3 loads
    and stores, INVLPG and #PF exit (the exception bitmap; the address is the exit qualification),
    CR0/CR4 are owned by the host and read from the read shadows."""
    name = f"shadow-{guest}"
    r = vmx.domain(name)
    expect_equivalent_vmx(r, name, vmx.native(guest, "steps=300" if guest == "paging_stress" else "").lines,
                          "hvm-shadow")
    expect_exit(r, name, 0x10)
    if not re.search(rf"^\[hv\] d{domain_id(r, name)} exits:.* page_fault=\d+", r.output, re.M):
        r.fail("a shadow-paging domain must take its page faults as VM exits (exception bitmap bit 14): "
               "no page_fault exits were counted")


@pytest.mark.student
@pytest.mark.parametrize("guest", [case("hello", 3), case("exceptions", 2)])
def test_vmx_native_multiboot_kernel_runs_unmodified(vmx, guest):
    """The very ELF32 multiboot kernel QEMU boots, under VMX: 32-bit protected mode with paging off
    (unrestricted guest), its own switch to long mode inside the VM — the same lines, even
    'hello from native'."""
    name = f"multiboot-{guest}"
    r = vmx.domain(name)
    native = vmx.native(guest)
    expect_equivalent_vmx(r, name, native.lines, "native-as-guest")
    if guest == "hello" and transcript(r, name)[:1] != native.lines[:1]:
        r.fail(f"even the platform name must match: {native.lines[0]!r} vs {transcript(r, name)[:1]}")
    expect_exit(r, name, 0x10)


@pytest.mark.points(2)
@pytest.mark.student
def test_vmx_guest_ram_is_populated_on_first_touch(vmx):
    """The EPT starts empty: a 16 MiB guest that prints one line gets host frames for a handful of its
    4096 pages, each on an EPT violation (or as the loader writes it)."""
    expect_populated_on_first_touch(vmx, "multiboot-hello", "EPT violations")


@pytest.mark.points(5)
@pytest.mark.student
def test_vmx_mmio_through_ept_violations(vmx):
    """The MMIO test device (guest-physical 0xfeb00000) is not in the EPT: each load and store is an
    EPT violation, completed by decoding the instruction, as under SVM."""
    expect_mmio_lines(vmx)


@pytest.mark.points(3)
@pytest.mark.student
def test_vmx_dirty_logging_on_ept(vmx):
    """dirtylog=1 on EPT: leaves start without W, each first write is an EPT violation that sets the
    page's bit. A writer of 8 + nonce % 48 pages and an idle twin differ by exactly that many."""
    expect_dirty_pages_counted(vmx)


@pytest.mark.points(3)
@pytest.mark.student
def test_vmx_access_outside_guest_memory_is_an_ept_violation(vmx):
    """A guest mapping a frame past its memory reaches no host memory: the EPT violation ends it alone."""
    expect_outside_access_crashes_alone(vmx)


@pytest.mark.points(3)
@pytest.mark.student
def test_vmx_vmcall_hypercalls(vmx):
    """VMCALL (exit reason 18) is the HVM guest's door, with the same ABI as the PV `int $0x82`:
    console_io, the error returns, sched_op yield, and shutdown with the guest's own code."""
    expect_hypercalls(vmx, "hypercall", "vmcall")


@pytest.mark.points(2)
@pytest.mark.student
def test_vmx_xen_cpuid_and_hypercall_page(vmx):
    """The same Xen leaves under VMX, and hypercall-page stubs that hold VMCALL (0f 01 c1), not VMMCALL."""
    r = vmx.domain("xen")
    expect_lines(r, transcript(r, "xen"), expected_xen_abi(vmx.nonce, hvm="vmx"))
    expect_exit(r, "xen")


@pytest.mark.student
@pytest.mark.parametrize("name,kind", [
    pytest.param("lapic", "vmx", marks=[pytest.mark.points(4)], id="nested"),
    pytest.param("shadow-lapic", "vmx-shadow", marks=[pytest.mark.points(2)], id="hvm-shadow"),
])
def test_vmx_local_apic_as_natively(vmx, name, kind):
    """The emulated local APIC under VMX (EPT violations or shadow-paging faults for the xAPIC page,
    x2APIC MSRs through the MSR bitmap, CR8 through the TPR shadow): what QEMU's own APIC prints."""
    expect_lapic(vmx, name, kind)


@pytest.mark.points(2)
@pytest.mark.student
def test_vmx_local_apic_bad_programming(vmx):
    """The same bad APIC programming under VMX: the SDM's ESR bits and #GPs, and the guest ends alone."""
    expect_lapic_bad(vmx)
