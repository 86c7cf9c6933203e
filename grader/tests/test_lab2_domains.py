"""Lab 2: shadow domains beside other domains.

Each domain has its own shadow (its own address space in the hypervisor):
switching between domains must switch shadows, and one domain's CR3 loads,
INVLPGs and faults must not touch another's. A `mode=pv` (direct paging)
domain keeps running on the tables the hypervisor built for it.
"""
import pytest

from test_lab1_domains import expect_primes, expect_refused
from test_lab1_equivalence import expect_equivalent, expect_exit, module, run_native
from test_lab2_equivalence import expect_not_crashed, run_shadow, shadow_module

pytestmark = pytest.mark.handout("labs/lab2/README.md, 1. The picture")


@pytest.mark.points(5)
@pytest.mark.student
def test_shadow_beside_pv(build, nonce):
    native = run_native(build, "paging_stress", f"nonce={nonce}")
    r = run_shadow(build, [shadow_module(build, "paging_stress", "stress", nonce),
                           module(build, "pv", "primes", "primes", nonce, "rounds=2")], nonce)
    expect_not_crashed(r, "stress")
    expect_equivalent(r, "stress", native.lines, "image, mode=shadow")
    expect_exit(r, "stress", 0x10)
    expect_primes(r, "primes", nonce)
    r.expect(r"^\[hv\] all domains ended: 2 exited, 0 crashed, 0 refused$", "'[hv] all domains ended: 2 exited'")


@pytest.mark.points(5)
@pytest.mark.student
def test_two_shadow_domains(build, nonce):
    # paging_processes puts its heap at 0x7f0000000000 + (nonce % 512) * 2 MiB:
    # two nonces equal modulo 512 give both domains the same heap addresses
    # and different tags, so a shadow entry that leaked from one domain to
    # the other shows up as a wrong tag.
    other = nonce + 512 * (1 + nonce % 1000)
    want = {name: run_native(build, "paging_processes", f"nonce={n}").lines
            for name, n in (("procs1", nonce), ("procs2", other))}
    r = run_shadow(build, [shadow_module(build, "paging_processes", "procs1", nonce),
                           shadow_module(build, "paging_processes", "procs2", other)], nonce)
    for name in want:
        expect_not_crashed(r, name)
        expect_equivalent(r, name, want[name], "image, mode=shadow")
        expect_exit(r, name, 0x10)


def test_refuses_a_shadow_domain_too_small(build, nonce):
    # Given code: the image check comes before any shadow is built.
    r = run_shadow(build, [shadow_module(build, "paging_basic", "small", nonce, "mem=2M"),
                           module(build, "pv", "primes", "primes", nonce)], nonce)
    expect_refused(r, "small", r"mem|memory|fit", "mode=shadow mem=2M, less than the image needs")
    expect_primes(r, "primes", nonce)
