"""Lab 3: hardware-assisted virtualization with AMD SVM and nested paging (QEMU TCG).

The same test guests as lab 1 now run unmodified at CPL 0 (`mode=nested`):
the CPU runs them from a VMCB and exits only on what the hypervisor
intercepts (port I/O, CPUID, HLT, a few MSRs, VMMCALL, shutdown); nested
paging translates guest-physical addresses. Equivalence with native is the
test (DESIGN §5) — and lab 1's non-virtualizable guest is no longer
different: the lab's punch line.

The tests of this module share one nonce (a fresh one per grading run), so
that a guest's native reference run, which several tests compare with (nested,
shadow, native-as-guest), boots once.
"""
import pytest

from test_lab1_equivalence import (diff_lines, domain_end, domain_id, expect_equivalent, expect_exit, module,
                                   run_hypervisor, transcript)
from test_lab1_equivalence import run_native as run_native_once

pytestmark = pytest.mark.handout("labs/lab3/README.md")

_native_runs = {}


@pytest.fixture
def nonce(module_nonce):
    """This module's tests share the module's nonce (see the docstring)."""
    return module_nonce


def run_native(build, guest, cmdline):
    """The native run of @guest with @cmdline, booted once per module run."""
    key = (str(build.guest_native(guest)), cmdline)
    if key not in _native_runs:
        _native_runs[key] = run_native_once(build, guest, cmdline)
    return _native_runs[key]


def nested(build, guest, nonce, extra=""):
    """Run @guest natively and as a mode=nested domain; both transcripts."""
    native = run_native(build, guest, f"nonce={nonce}{' ' + extra if extra else ''}")
    r = run_hypervisor(build, [module(build, "image", guest, guest, nonce, ("mode=nested " + extra).strip())],
                       nonce)
    return native, r


def case(guest, points, extra=""):
    return pytest.param(guest, extra, marks=[pytest.mark.points(points)], id=guest)


@pytest.mark.student
@pytest.mark.parametrize("guest,extra", [
    case("hello", 3), case("primes", 3, "rounds=2"), case("io", 5), case("cpu_state", 5),
    case("exceptions", 5), case("timer", 8),
])
def test_equivalence_nested(build, nonce, guest, extra):
    native, r = nested(build, guest, nonce, extra)
    expect_equivalent(r, guest, native.lines, "nested")
    expect_exit(r, guest, 0x10)


@pytest.mark.points(10)
@pytest.mark.student
def test_nonvirtualizable_instructions_behave_natively(build, nonce):
    """POPF, PUSHF, mov %cs and SGDT/SIDT/STR: every line lab 1 marked DIFF: equals native now."""
    native, r = nested(build, "nonvirt", nonce, "umip=0")
    expect_exit(r, "nonvirt", 0x10)
    want, got = diff_lines(native.lines), diff_lines(transcript(r, "nonvirt"))
    wrong = [f"    native: {want[k]}\n    nested: {got.get(k, '(missing)')}" for k in want if got.get(k) != want[k]]
    if wrong or not want:
        r.fail("under SVM the guest runs at CPL 0 on the real CPU, so the lines that differed under "
               "trap-and-emulate must now equal native:\n" + "\n".join(wrong))
    expect_equivalent(r, "nonvirt", native.lines, "nested")


@pytest.mark.points(5)
@pytest.mark.student
def test_triple_fault_ends_only_that_guest(build, nonce):
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "mode=nested how=triple"),
                               module(build, "image", "hello", "hello", nonce, "mode=nested")], nonce)
    end = domain_end(r, "crash")
    if not end or end[0] != "crashed" or "triple fault" not in end[1]:
        r.fail(f"the guest that triple-faults should crash alone with a 'triple fault' reason; it: {end}")
    expect_exit(r, "hello", 0x10)


@pytest.mark.points(3)
@pytest.mark.student
def test_guest_handles_its_own_invalid_opcode(build, nonce):
    """No exception is intercepted: the guest's own IDT takes #UD, exactly as natively."""
    native = run_native_crash(build, nonce)
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "mode=nested how=ud")], nonce)
    expect_exit(r, "crash", 0x12)
    # The RIP differs: the native and image builds are different binaries.
    got = [line.split(" rip=")[0] for line in transcript(r, "crash") if line.startswith("GUEST EXCEPTION")]
    want = [line.split(" rip=")[0] for line in native.lines if line.startswith("GUEST EXCEPTION")]
    if got != want or not want:
        r.fail(f"the guest's own #UD report should equal native's:\n    native: {want}\n    nested: {got}")


def run_native_crash(build, nonce):
    from gradelib import run_qemu
    r = run_qemu(build.guest_native("crash"), f"nonce={nonce} how=ud", timeout=15)
    r.expect_status("panic")
    return r


@pytest.mark.student
@pytest.mark.parametrize("guest,extra", [
    case("paging_basic", 4), case("paging_faults", 4), case("paging_processes", 4),
    case("paging_stress", 3, "steps=300"), case("exceptions", 2), case("timer", 3),
])
def test_equivalence_hvm_on_shadow_paging(build, nonce, guest, extra):
    """`type=hvm mode=shadow`: the unmodified guest at CPL 0 under SVM, on lab 2's shadow MMU
    (nested paging off: CR3 loads, CR0/CR4 writes, INVLPG and #PF intercepted)."""
    native = run_native(build, guest, f"nonce={nonce}{' ' + extra if extra else ''}")
    r = run_hypervisor(build, [module(build, "image", guest, guest, nonce,
                                      ("type=hvm mode=shadow " + extra).strip())], nonce)
    expect_equivalent(r, guest, native.lines, "hvm-shadow")
    expect_exit(r, guest, 0x10)


@pytest.mark.points(4)
@pytest.mark.student
def test_svm_is_invisible_and_untouchable(build, nonce):
    """The guest sees a CPU without SVM: VMRUN is #UD, EFER.SVME cannot be set, VM_HSAVE_PA does
    not exist (#GP) — each guest takes the exception and ends alone; the hypervisor is untouched."""
    mods = [module(build, "image", "crash", how, nonce, f"mode=nested how={how}") for how in ("vmrun", "svme", "hsave")]
    mods.append(module(build, "image", "hello", "hello", nonce, "mode=nested"))
    r = run_hypervisor(build, mods, nonce)
    r.expect_status("success")
    for how, vector in (("vmrun", "6 (#UD)"), ("svme", "13 (#GP)"), ("hsave", "13 (#GP)")):
        expect_exit(r, how, 0x12)
        if not any(line.startswith(f"GUEST EXCEPTION: vector={vector}") for line in transcript(r, how)):
            r.fail(f"how={how}: the guest should have taken vector {vector}; it printed: {transcript(r, how)[-3:]}")
    expect_exit(r, "hello", 0x10)


@pytest.mark.points(3)
@pytest.mark.student
def test_access_outside_guest_memory_is_a_nested_page_fault(build, nonce):
    """A guest mapping a frame past its memory reaches no host memory: the NPF ends it alone."""
    r = run_hypervisor(build, [module(build, "image", "paging_attack", "attack", nonce, "mode=nested only=outside"),
                               module(build, "image", "hello", "hello", nonce, "mode=nested")], nonce)
    end = domain_end(r, "attack")
    if not end or end[0] != "crashed" or "outside" not in end[1]:
        r.fail(f"the guest touching guest-physical memory it does not have should crash alone "
               f"('... outside its N KiB'); it: {end}")
    expect_exit(r, "hello", 0x10)


def mmio_expected(nonce):
    """What guests/tests/mmio.c prints, computed from the nonce."""
    value = (nonce * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
    console = f"mmio console: {nonce % 1000003 * 3}"
    return ["mmio: device id 0x41505948",
            f"mmio: scratch wrote 0x{value:x}, read 0x{value:x}, equal",
            f"mmio: after a byte store, low 16 bits 0x{(value & 0xff00) | (nonce & 0xff):04x}",
            console,
            f"mmio: accesses seen by the device: {5 + len(console) + 1 + 1}",  # id, 4 scratch, chars + newline, this read
            "RESULT: PASS"]


@pytest.mark.points(5)
@pytest.mark.student
def test_mmio_device_through_nested_page_faults(build, nonce):
    """Loads and stores to the kit's MMIO test device (guest-physical 0xfeb00000) are nested page
    faults the hypervisor completes by decoding the instruction (kernel/virt/emulate.c)."""
    r = run_hypervisor(build, [module(build, "image", "mmio", "mmio", nonce, "mode=nested")], nonce)
    expect_exit(r, "mmio", 0x10)
    want, got = mmio_expected(nonce), transcript(r, "mmio")
    if got != want:
        r.fail("the MMIO guest's lines, computed from the nonce:\n    want: " + "\n          ".join(want) +
               "\n    got:  " + "\n          ".join(got))


@pytest.mark.student
@pytest.mark.parametrize("guest,extra", [
    case("hello", 3), case("io", 2), case("exceptions", 2), case("timer", 2), case("cpu_state", 2),
    case("nonvirt", 3), case("paging_basic", 2), case("paging_faults", 2),
])
def test_native_multiboot_kernel_runs_unmodified(build, nonce, guest, extra):
    """DESIGN §5's purest test: the very ELF32 multiboot kernel QEMU boots natively, loaded by the
    hypervisor (32-bit protected mode, EBX = multiboot info) under SVM, prints the same lines —
    even 'hello from native'."""
    native = run_native(build, guest, f"nonce={nonce}{' ' + extra if extra else ''}")
    r = run_hypervisor(build, [f"{build.guest_native(guest)} name={guest} mode=nested nonce={nonce}"
                               f"{' ' + extra if extra else ''}"], nonce)
    expect_equivalent(r, guest, native.lines, "native-as-guest")
    if guest == "hello" and transcript(r, guest)[0] != native.lines[0]:
        r.fail(f"even the platform name must match: {native.lines[0]!r} vs {transcript(r, guest)[0]!r}")
    if guest == "nonvirt" and diff_lines(transcript(r, guest)) != diff_lines(native.lines):
        r.fail("every DIFF: line of nonvirt must equal native under SVM")
    expect_exit(r, guest, 0x10)


@pytest.mark.points(2)
def test_multiboot_kernel_needs_nested_paging(build, nonce):
    """A native kernel cannot run deprivileged: refused with a reason, the other domain runs."""
    r = run_hypervisor(build, [f"{build.guest_native('hello')} name=mb nonce={nonce}",
                               module(build, "image", "hello", "hello", nonce)], nonce)
    r.expect(r"^\[hv\] domain 'mb' refused: a native multiboot kernel runs only with mode=nested",
             "the refusal of a multiboot kernel without mode=nested")
    expect_exit(r, "hello", 0x10)


@pytest.mark.points(2)
@pytest.mark.student
def test_guest_ram_is_populated_on_first_touch(build, nonce):
    """Under nested paging a domain's RAM gets host frames only when first touched (a nested page
    fault each): a 16 MiB guest that prints one line uses a handful of its 4096 pages."""
    r = run_hypervisor(build, [f"{build.guest_native('hello')} name=hello mode=nested nonce={nonce}"], nonce)
    expect_exit(r, "hello", 0x10)
    m = r.expect(r"^\[hv\] d1 memory: (\d+) of (\d+) pages populated on first touch$", "the populated-pages line")
    populated, total = int(m.group(1)), int(m.group(2))
    exits = r.expect(r"^\[hv\] d1 exits:(.*)$", "the exit counters").group(1)
    if not (0 < populated < total // 20) or "nested_page_fault=" not in exits:
        r.fail(f"{populated} of {total} pages populated (exits:{exits}); expected a few, by nested page faults")


@pytest.mark.points(3)
@pytest.mark.student
def test_dirty_logging_counts_the_pages_written(build, nonce):
    """dirtylog=1 (the hook lab 6's live migration needs): nested entries start read-only, each
    first write is a nested page fault that sets the page's bit. Two domains, one writing
    8 + nonce % 48 pages and one writing none, differ by exactly that many."""
    r = run_hypervisor(build, [module(build, "image", "dirty", "writer", nonce, "mode=nested dirtylog=1"),
                               module(build, "image", "dirty", "idle", nonce, "mode=nested dirtylog=1 touch=0")],
                       nonce)
    expect_exit(r, "writer", 0x10)
    expect_exit(r, "idle", 0x10)
    counts = {}
    for name in ("writer", "idle"):
        m = r.expect(rf"^\[hv\] d{domain_id(r, name)} dirty log: (\d+) pages written$", f"{name}'s dirty-log line")
        counts[name] = int(m.group(1))
    pages = 8 + nonce % 48
    if counts["writer"] - counts["idle"] != pages:
        r.fail(f"the writer wrote {pages} more pages than the idle guest, but the dirty logs say "
               f"{counts['writer']} vs {counts['idle']}")


@pytest.mark.points(3)
@pytest.mark.student
def test_vmmcall_hypercalls(build, nonce):
    """VMMCALL (#VMEXIT 0x81) is the HVM guest's door, with the same ABI as the PV `int $0x82`:
    console_write, the error returns, yield, and shutdown with the guest's own code."""
    from test_lab1_hypercall import expected_start, shutdown_code
    r = run_hypervisor(build, [module(build, "image", "hypercall", "hc", nonce, "mode=nested")], nonce)
    code = shutdown_code(nonce)
    start = expected_start(nonce)
    want = start[:1] + ["hypercall: entered with vmmcall"] + start[1:] + [f"shutdown(0x{code:x})", "RESULT: PASS"]
    got = transcript(r, "hc")
    if got != want:
        r.fail("the hypercall guest printed:\n      " + "\n      ".join(got) +
               "\n  but should have printed:\n      " + "\n      ".join(want))
    expect_exit(r, "hc", code)
