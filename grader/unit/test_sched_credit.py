"""The credit scheduler's policy (kernel/dom/sched_credit.c) in a simulation on the host.

The kernel file is compiled as a host library (hostlib.build_shared) and driven tick by
tick, as kernel/dom/schedule.c will drive it: busy domains, a capped one, a halted one,
and a Dom0 that wakes now and then for a moment's work while DomUs spin. The expected
shares follow from Xen's rules (weights, caps, BOOST), not from a run.
"""
import ctypes
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_shared  # noqa: E402

TICKS = 3000  # 30 s of 10 ms ticks


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(str(build_shared("sched_credit", ["kernel/dom/sched_credit.c"])))
    for name, res, args in [("credit_init", None, [ctypes.c_void_p]),
                            ("credit_add", ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint, ctypes.c_bool]),
                            ("credit_set", ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]),
                            ("credit_sleep", None, [ctypes.c_void_p, ctypes.c_uint]),
                            ("credit_wake", None, [ctypes.c_void_p, ctypes.c_uint]),
                            ("credit_tick", ctypes.c_bool, [ctypes.c_void_p]),
                            ("credit_pick", ctypes.c_int, [ctypes.c_void_p]),
                            ("credit_cpu_ticks", ctypes.c_uint64, [ctypes.c_void_p, ctypes.c_uint])]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


class Sim:
    def __init__(self, lib):
        self.lib, self.s = lib, ctypes.create_string_buffer(1 << 16)
        lib.credit_init(self.s)

    def add(self, i, runnable=True, weight=256, cap=0):
        assert self.lib.credit_add(self.s, i, runnable) == 0
        assert self.lib.credit_set(self.s, i, weight, cap) == 0

    def run(self, ticks, before_tick=None):
        running = self.lib.credit_pick(self.s)
        for t in range(ticks):
            if before_tick:
                running = before_tick(t, running)
            if self.lib.credit_tick(self.s):
                running = self.lib.credit_pick(self.s)
        return running

    def share(self, i, ticks=TICKS):
        return self.lib.credit_cpu_ticks(self.s, i) / ticks


def test_busy_domains_share_by_weight(lib):
    sim = Sim(lib)
    for i, w in [(1, 256), (2, 512), (3, 256)]:
        sim.add(i, weight=w)
    sim.run(TICKS)
    assert abs(sim.share(1) - 0.25) < 0.03 and abs(sim.share(2) - 0.50) < 0.03 and abs(sim.share(3) - 0.25) < 0.03


def test_a_cap_holds_a_domain_down_even_when_the_cpu_is_free(lib):
    sim = Sim(lib)
    sim.add(1, weight=256, cap=20)
    sim.add(2, runnable=False)                 # halted throughout: no help from weights
    sim.run(TICKS)
    assert 0.17 < sim.share(1) <= 0.21         # its cap, though nobody else wants the CPU
    assert sim.share(2) == 0


def test_halted_domains_cost_nothing(lib):
    sim = Sim(lib)
    sim.add(1)
    for i in range(2, 10):
        sim.add(i, runnable=False)
    sim.run(TICKS)
    assert sim.share(1) == 1.0 and all(sim.share(i) == 0 for i in range(2, 10))


def test_dom0_stays_responsive_while_domus_spin(lib):
    sim = Sim(lib)
    sim.add(0, runnable=False)                 # Dom0: asleep, wakes every 47 ticks for one tick of work
    for i in (1, 2, 3):
        sim.add(i)
    woke, delays = None, []

    def dom0(t, running):
        nonlocal woke
        if running == 0 and woke is not None:  # Dom0 got the CPU: its work takes this tick, then it sleeps
            delays.append(t - woke)
            woke = None
            lib.credit_sleep(sim.s, 0)
            return lib.credit_pick(sim.s)
        if t % 47 == 0 and woke is None:
            woke = t
            lib.credit_wake(sim.s, 0)
        return running

    sim.run(TICKS, dom0)
    assert len(delays) > 50
    assert max(delays) <= 1, delays            # BOOST: on the CPU at the next tick, every time
    for i in (1, 2, 3):                        # and the spinners still share the rest evenly
        assert abs(sim.share(i) - (1 - sim.share(0)) / 3) < 0.03


def test_bad_settings_are_refused(lib):
    sim = Sim(lib)
    sim.add(1)
    for weight, cap in [(0, 0), (65536, 0), (256, 101)]:
        assert lib.credit_set(sim.s, 1, weight, cap) == -1
    assert lib.credit_set(sim.s, 7, 256, 0) == -1              # no such domain
    assert lib.credit_add(sim.s, 1, True) == -1                # taken
    assert lib.credit_add(sim.s, 64, True) == -1               # out of range
