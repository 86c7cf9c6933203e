"""Lab 1: several domains at once, crash containment and refused images (DESIGN §9).

A guest can crash only itself: whatever one domain does — a triple fault,
an exception nobody handles, garbage hypercalls, an endless loop — the
hypervisor and every other domain carry on. A bad image or option is
refused with one clear line, and the other domains still run.
"""
import re

import pytest

from gradelib import fnv1a64
from test_lab0_guests import primes_below
from test_lab1_equivalence import domain_end, expect_exit, module, run_hypervisor, transcript

pytestmark = pytest.mark.handout("labs/lab1/README.md, 1. What is given")


def expect_hello(r, name, nonce, platform):
    want = [f"hello from {platform}: nonce={nonce} fnv={fnv1a64(str(nonce).encode()):016x}", "RESULT: PASS"]
    got = transcript(r, name)
    if got != want:
        r.fail(f"domain '{name}' should have printed {want}, but printed {got}")
    expect_exit(r, name)


def expect_primes(r, name, nonce):
    limit = 10000 + nonce % 20000
    count, total = primes_below(limit)
    want = [f"primes below {limit}: {count}", f"sum of primes below {limit} mod 2^32: {total}", "RESULT: PASS"]
    got = transcript(r, name)
    if got != want:
        r.fail(f"domain '{name}' should have printed {want}, but printed {got}")
    expect_exit(r, name)


def expect_crashed(r, name):
    end = domain_end(r, name)
    if not end or end[0] != "crashed":
        r.fail(f"domain '{name}' should have crashed ('[hv] dN crashed: <reason> at RIP 0x...'), "
               f"but it {'never ended' if not end else 'exited with code 0x%x' % end[1]}")
    return end


def test_two_domains(build, nonce):
    # Two guests, two builds, time-sliced: their lines may interleave in the
    # log, but each domain's own transcript must be whole and in order.
    other = nonce ^ 0x5DEECE66D
    r = run_hypervisor(build, [module(build, "image", "primes", "primes", nonce, "rounds=3"),
                               module(build, "pv", "hello", "hello", other)], nonce)
    expect_primes(r, "primes", nonce)
    expect_hello(r, "hello", other, "pv")
    r.expect(r"^\[hv\] all domains ended: 2 exited, 0 crashed, 0 refused$", "'[hv] all domains ended: 2 exited'")


def test_triple_fault_is_contained(build, nonce):
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "how=triple"),
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_crashed(r, "crash")
    expect_hello(r, "hello", nonce, "image")


@pytest.mark.points(3)
@pytest.mark.student
@pytest.mark.handout("labs/lab1/README.md, 3. Exercise 2: bouncing exceptions and interrupts")
def test_triple_fault_is_named(build, nonce):
    # The guest loads an empty IDT and raises #BP: delivery fails, then #DF
    # does: a triple fault, as on the bare machine (QEMU resets natively).
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "how=triple")], nonce)
    end = expect_crashed(r, "crash")
    if "triple fault" not in end[1]:
        r.fail(f"the crash should be reported as a triple fault, not: {end[1]}")


def test_invalid_opcode_is_contained(build, nonce):
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "how=ud"),
                               module(build, "pv", "primes", "primes", nonce)], nonce)
    end = domain_end(r, "crash")
    if end not in (("exited", 0x12),) and (not end or end[0] != "crashed"):
        r.fail(f"domain 'crash' should have ended (exit code 0x12 or a crash), but it "
               f"{'never ended' if not end else 'exited with code 0x%x' % end[1]}")
    expect_primes(r, "primes", nonce)


@pytest.mark.points(3)
@pytest.mark.student
@pytest.mark.handout("labs/lab1/README.md, 3. Exercise 2: bouncing exceptions and interrupts")
def test_invalid_opcode_reaches_the_guest(build, nonce):
    # As natively: the guest's own #UD handler reports the crash and exits 0x12.
    r = run_hypervisor(build, [module(build, "image", "crash", "crash", nonce, "how=ud")], nonce)
    lines = transcript(r, "crash")
    if not lines or not re.match(r"GUEST EXCEPTION: vector=6 \(#UD\) error=0x0 rip=0x[0-9a-f]+$", lines[-1]):
        r.fail("the guest's own handler should have reported 'GUEST EXCEPTION: vector=6 (#UD) ...' last")
    expect_exit(r, "crash", 0x12)


def test_bad_hypercalls_are_refused(build, nonce):
    r = run_hypervisor(build, [module(build, "pv", "crash", "crash", nonce, "how=badcall"),
                               module(build, "image", "hello", "hello", nonce)], nonce)
    garbage = (nonce * 0x9E3779B97F4A7C15 | 1 << 63) & ((1 << 64) - 1)
    # Xen's errno values: EFAULT 14, EINVAL 22, ENOENT 2, ENOSYS 38 (docs/hypercalls.md).
    want = [f"crash: how=badcall nonce={nonce}",
            f"hypercall 0x{garbage:x}: -38",
            "console_io(hypervisor address): -14",
            "console_io(page 0): -14",
            "console_io(length past the end): -14",
            "add_to_physmap(outside memory): -22",
            "add_to_physmap(space 7): -22",
            "add_to_physmap(page 0 pointer): -14",
            "hvm_op(CALLBACK_IRQ vector 7): -22",
            "vcpu_op(set_periodic_timer under 1 ms): -22",
            f"vcpu_op(vcpu {1 + garbage % 100}): -2",
            f"event_channel_op(send to port 0x{garbage & 0xFFFFFFFF:x}): -22",
            f"sched_op(shutdown reason {6 + garbage % 10}): -22",
            "RESULT: PASS"]
    got = transcript(r, "crash")
    if got != want:
        r.fail("bad hypercalls should each return an error:\n  expected:\n      " + "\n      ".join(want) +
               "\n  got:\n      " + "\n      ".join(got))
    expect_exit(r, "crash")
    expect_hello(r, "hello", nonce, "image")


def test_spinning_domain_does_not_starve_others(build, nonce):
    # The spinning domain never ends, so neither does the run: it times out,
    # and by then the other two must have finished.
    r = run_hypervisor(build, [module(build, "image", "crash", "spin", nonce, "how=spin"),
                               module(build, "image", "hello", "hello", nonce),
                               module(build, "pv", "primes", "primes", nonce)], nonce, timeout=5)
    expect_hello(r, "hello", nonce, "image")
    expect_primes(r, "primes", nonce)
    if domain_end(r, "spin"):
        r.fail("the spinning domain should still be running")


def expect_refused(r, name, reason_pattern, what):
    m = re.search(rf"^\[hv\] domain '{re.escape(name)}' refused: (.+)$", r.output, re.M)
    if not m:
        r.fail(f"expected '[hv] domain '{name}' refused: <reason>' for {what}")
    if not re.search(reason_pattern, m.group(1), re.I):
        r.fail(f"the reason should say what is wrong ({what}), but it says: {m.group(1)}")
    if re.search(rf"^\[hv\] d\d+ '{re.escape(name)}' created", r.output, re.M):
        r.fail(f"domain '{name}' was refused but also created")


def test_refuses_a_file_that_is_not_elf(build, nonce):
    not_elf = build.guests.parent.parent / "docs/guests.md"
    r = run_hypervisor(build, [f"{not_elf} name=notelf nonce={nonce}",
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_refused(r, "notelf", r"elf", "a module that is not an ELF64 file")
    expect_hello(r, "hello", nonce, "image")


def test_refuses_an_unknown_mode(build, nonce):
    r = run_hypervisor(build, [module(build, "image", "hello", "bogus", nonce, "mode=bogus"),
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_refused(r, "bogus", r"mode", "mode=bogus")
    expect_hello(r, "hello", nonce, "image")


def test_refuses_too_little_memory(build, nonce):
    # Every guest image needs at least 4 MiB (linked at 2 MiB, rounded up to 2 MiB).
    r = run_hypervisor(build, [module(build, "image", "primes", "small", nonce, "mem=2M"),
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_refused(r, "small", r"mem|memory|fit", "mem=2M, less than the image needs")
    expect_hello(r, "hello", nonce, "image")


def elf_program_headers(data):
    """(offset of the program-header table, entry size, count) of an ELF64 file."""
    phoff = int.from_bytes(data[32:40], "little")
    return phoff, int.from_bytes(data[54:56], "little"), int.from_bytes(data[56:58], "little")


def first_two_loads(data):
    """File offsets of the first two PT_LOAD program headers."""
    phoff, size, count = elf_program_headers(data)
    loads = [phoff + i * size for i in range(count) if int.from_bytes(data[phoff + i * size:][:4], "little") == 1]
    return loads[:2]


def test_refuses_overlapping_segments(build, nonce, tmp_path):
    """An image whose second segment is placed over the first is refused, not loaded half-way."""
    data = bytearray(build.guest_image("hello").read_bytes())
    first, second = first_two_loads(data)
    data[second + 24:second + 32] = data[first + 24:first + 32]  # p_paddr of the 2nd := the 1st's
    bad = tmp_path / "overlap.elf"
    bad.write_bytes(bytes(data))
    r = run_hypervisor(build, [f"{bad} name=overlap nonce={nonce}",
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_refused(r, "overlap", r"overlap", "two PT_LOAD segments at the same address")
    expect_hello(r, "hello", nonce, "image")


def test_refuses_a_truncated_image(build, nonce, tmp_path):
    """A guest image cut short inside its segments is refused with a reason, not read past its end."""
    data = build.guest_image("hello").read_bytes()
    first, _ = first_two_loads(data)
    offset = int.from_bytes(data[first + 8:first + 16], "little")
    bad = tmp_path / "truncated.elf"
    bad.write_bytes(data[:offset + 100])
    r = run_hypervisor(build, [f"{bad} name=truncated nonce={nonce}",
                               module(build, "image", "hello", "hello", nonce)], nonce)
    expect_refused(r, "truncated", r"outside the file|truncated", "an image cut short inside a segment")
    expect_hello(r, "hello", nonce, "image")


@pytest.mark.slow
def test_noncanonical_iret_is_contained(build, nonce):
    """An IRETQ to a non-canonical RIP must end the guest (or fault in it), never the hypervisor.

    Run in Bochs: QEMU's TCG defers the canonical check to the next instruction
    fetch (at CPL 3), so there the hypervisor's own IRETQ into the guest never
    faults; Bochs, like the hardware, faults in the IRETQ itself — at CPL 0.
    """
    from gradelib import run_bochs
    r = run_bochs(build.kernel, f"nonce={nonce}",
                  modules=[module(build, "image", "crash", "crash", nonce, "how=noncanonical")], timeout=60)
    r.expect_status("success")
    r.reject(r"^\[hv\] PANIC", "a hypervisor panic")
    end = domain_end(r, "crash")
    if not end or end == ("exited", 0x10):
        r.fail(f"the guest that IRETQs to a non-canonical RIP must crash or take a #GP; it: {end}")
