"""The page-table walker and decoders of scripts/gdb/hypatia.py, without GDB.

hypatia.py runs inside GDB and imports its `gdb` module; here a stand-in
module lets the pure parts run on the host against hand-built page tables.
The commands themselves are tested against a live hypervisor in
grader/tests/test_lab1_gdb.py.
"""
import importlib.util
import sys
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent.parent / "scripts/gdb/hypatia.py"


def load_hypatia():
    fake = types.ModuleType("gdb")

    class Command:
        def __init__(self, name, command_class):
            self.command_name = name

    fake.Command = Command
    fake.COMMAND_USER = 13
    fake.GdbError = type("GdbError", (Exception,), {})
    fake.MemoryError = type("MemoryError", (Exception,), {})
    fake.error = type("error", (Exception,), {})
    sys.modules["gdb"] = fake
    try:
        spec = importlib.util.spec_from_file_location("hypatia", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del sys.modules["gdb"]
    return module


hv = load_hypatia()
P, W, U, PS, NX = 1, 2, 4, 0x80, 1 << 63


def tables(entries):
    """read_entry over {(table physical address, index): entry}; absent entries read as 0."""
    return lambda table, index: entries.get((table, index), 0)


def walk(vaddr, entries, root=0x1000):
    return hv.walk(vaddr, root, tables(entries), hex)


def test_walk_4k_page_keeps_the_offset(capsys):
    va = (3 << 39) | (5 << 30) | (7 << 21) | (9 << 12) | 0xABC
    entries = {(0x1000, 3): 0x2000 | P | W | U, (0x2000, 5): 0x3000 | P | W | U,
               (0x3000, 7): 0x4000 | P | W | U, (0x4000, 9): 0x7654000 | P | U | NX}
    assert walk(va, entries) == 0x7654ABC
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[:4]] == ["PML4", "PDPT", "PD", "PT"]
    assert "4 KiB page at 0x7654000" in out
    assert "user, read-only, no-execute" in out  # W clear in the PT entry, NX set


def test_walk_2m_and_1g_pages_stop_early(capsys):
    entries = {(0x1000, 0): 0x2000 | P | W, (0x2000, 0): 0x3000 | P | W, (0x3000, 1): 0x40000000 | P | W | PS}
    assert walk(0x2FEDCB, entries) == 0x40000000 + 0xFEDCB
    assert "2 MiB page" in capsys.readouterr().out
    entries = {(0x1000, 0): 0x2000 | P, (0x2000, 2): 0xC0000000 | P | PS}
    assert walk(0x8ABCDEF0, entries) == 0xC0000000 + 0xABCDEF0
    out = capsys.readouterr().out
    assert "1 GiB page" in out and "supervisor-only" in out


def test_walk_not_present(capsys):
    entries = {(0x1000, 0): 0x2000 | P | W | U, (0x2000, 0): 0x3000 | P | W | U, (0x3000, 0): 0x5000 | W | U}
    assert walk(0x1000, entries) is None
    levels = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert levels == ["PML4", "PDPT", "PD"]  # the walk stops at the PD entry with P=0


def test_walk_ignores_cr3_flag_bits(capsys):
    # CR3 bits 11:0 are PCID / PWT / PCD, not part of the table address (SDM Vol. 3A §4.5).
    entries = {(0x1000, 0): 0x2000 | P, (0x2000, 0): 0x3000 | P, (0x3000, 0): 0x4000 | P, (0x4000, 1): 0x9000 | P}
    assert walk(0x1234, entries, root=0x1000 | 0x18) == 0x9234


def test_guest_tables_are_read_through_the_p2m(capsys, monkeypatch):
    # Guest frame n lives at host frame 0x100 + 2n: tables and pages both go through the p2m.
    domain = {"memory_bytes": 16 * 4096, "p2m": [(0x100 + 2 * n) * 4096 for n in range(16)],
              "id": 1, "name": None}
    host = {((0x100 + 2 * 1) * 4096, 0): 0x2000 | P, ((0x100 + 2 * 2) * 4096, 0): 0x3000 | P,
            ((0x100 + 2 * 3) * 4096, 0): 0x4000 | P, ((0x100 + 2 * 4) * 4096, 5): 0xA000 | P}
    monkeypatch.setattr(hv, "read_phys_u64", lambda pa: host.get((pa & ~0xFFF, (pa & 0xFFF) // 8), 0))
    read_entry, show_table = hv.guest_table_reader(domain)
    gpa = hv.walk(0x5010, 0x1000, read_entry, show_table)
    assert gpa == 0xA010
    assert hv.gpa_to_hpa(domain, gpa) == (0x100 + 2 * 10) * 4096 + 0x10
    assert hv.gpa_to_hpa(domain, 16 * 4096) is None
    assert "gpa 0x1000 (hpa 0x102000)" in capsys.readouterr().out


def test_canonical_addresses():
    hv.check_canonical(0x00007FFFFFFFFFFF)
    hv.check_canonical(0xFFFF800000000000)
    with pytest.raises(Exception, match="not canonical"):
        hv.check_canonical(0x0000800000000000)


def test_decoders():
    assert hv.flags(0x80010033, hv.CR0_BITS) == "0x80010033 [ PG WP NE ET MP PE ]"
    assert hv.bit_names(0xD00, hv.EFER_BITS) == "NXE LMA LME"
    assert hv.bit_names(0x3246, hv.RFLAGS_BITS) == "IF ZF PF"
    assert hv.bit_names(0x80000000000001E3, hv.PTE_BITS) == "P W A D PS G NX"
    assert [hv.vector_name(v) for v in (13, 14, 32, 0x82, 200)] == ["#GP", "#PF", "IRQ 0", "hypercall gate", "INT"]
