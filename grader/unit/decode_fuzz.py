#!/usr/bin/python3
"""Differential fuzzing of Hypatia's instruction decoder against Capstone.

    /usr/bin/python3 grader/unit/decode_fuzz.py --count 5000000 --seed 7 [--mode 64]

generates instruction byte strings, decodes each with kernel/virt/decode.c
(built for the host by hostlib.build_shared) and with Capstone, and prints how
often they agree and an example of every kind of disagreement.  test_decode.py
runs the same comparison on 100 000 cases with a fixed seed.  docs/decoder.md
explains the categories and the allow-list below.
"""
import argparse
import ctypes
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostlib  # noqa: E402

import capstone  # noqa: E402
from capstone import x86 as cs_x86  # noqa: E402

DECODER_SOURCES = ["kernel/virt/decode.c", "kernel/virt/decode_tables.c",
                   "kernel/virt/decode_classify.c"]

# A test-only C shim: decodes many 15-byte cases in one call and flattens each
# struct insn into NFIELDS int64s, so Python never mirrors the struct layout.
SHIM_SOURCE = r"""
#include "decode.h"
#define NFIELDS 48
int decode_batch(const uint8_t *buf, int count, int stride, int mode, int64_t *out)
{
    for (int i = 0; i < count; i++, out += NFIELDS) {
        struct insn in;
        enum decode_status st = insn_decode(buf + (size_t)i * stride, stride, mode, &in);
        for (int k = 0; k < NFIELDS; k++) out[k] = 0;
        out[0] = st; out[1] = in.length; out[2] = in.cls; out[3] = in.operand_size;
        out[4] = in.address_size; out[5] = in.imm; out[6] = in.imm_size;
        out[7] = in.operand_count; out[8] = in.opcode_map; out[9] = in.opcode;
        out[46] = in.has_mem; out[47] = in.has_modrm ? in.modrm : -1;
        for (int j = 0; j < in.operand_count; j++) {
            const struct insn_operand *o = &in.operands[j];
            int64_t *f = out + 10 + 12 * j;
            f[0] = o->kind; f[1] = o->size; f[2] = o->reg; f[3] = o->high_byte;
            f[4] = o->access; f[5] = o->mem.base; f[6] = o->mem.index; f[7] = o->mem.scale;
            f[8] = o->mem.disp; f[9] = o->mem.segment_overridden ? o->mem.segment : -1;
            f[10] = o->mem.address_size; f[11] = o->imm;
        }
    }
    return count;
}
const char *class_name(int c) { return insn_class_name(c); }
/* Decode and return the effective address of the ModRM/moffs memory operand. */
uint64_t effective_address(const uint8_t *bytes, int avail, int mode, const uint64_t *gpr,
                           uint64_t rip)
{
    struct insn in;
    if (insn_decode(bytes, avail, mode, &in) != DECODE_OK || !in.has_mem)
        return 0xdeadbeefdeadbeefull;
    return insn_effective_address(&in.mem, gpr, rip + in.length);
}
"""
NFIELDS = 48
STRIDE = 15
STATUS = ["ok", "truncated", "unsupported", "invalid"]
OK, TRUNCATED, UNSUPPORTED, INVALID = range(4)
OPERAND_KINDS = {1: "gpr", 2: "seg", 3: "cr", 4: "dr", 5: "mem", 6: "imm"}

# Disagreements we accept, each with its reason (docs/decoder.md repeats them).
# A key is a category name plus Capstone's mnemonic.
ALLOWED = {
    # LOCK on an instruction that cannot be locked raises #UD (SDM Vol. 2
    # "LOCK"); Capstone decodes the instruction and ignores the prefix.
    "lock_misuse": "Capstone ignores an illegal LOCK prefix; the CPU raises #UD",
    # UD0 (0F FF) and UD1 (0F B9) exist to raise #UD; the SDM gives them a
    # ModRM byte, Capstone 4 decodes them as two bytes.  We report INVALID.
    "ud0": "defined to raise #UD; Capstone 4 and the SDM disagree on its length",
    "ud2b": "UD1 (0F B9): defined to raise #UD; lengths disagree as for UD0",
    # The CPU does not care in which order legacy prefixes come (SDM Vol. 2
    # §2.1.1); Capstone 4 does: a 66 followed by another prefix is partly
    # ignored, and the last of 66/F2/F3 picks an SSE column.  When Capstone
    # agrees with us on a reordering of the same prefixes, we accept.
    "capstone_prefix_order": "Capstone 4 depends on legacy-prefix order; the CPU does not",
    # 0F 19-1F are "NOP Ev" for every mod (SDM Table A-3 and "NOP"); Capstone
    # 4 rejects most of their register forms (even 0F 1F C0).
    "hint_nop_register_form": "0F 1A-1F with mod=3 are NOPs; Capstone 4 rejects them",
    # Capstone 4 decodes 63 as MOVSXD r64 whatever REX.W says; without REX.W
    # it is MOVSXD r32/r16 (SDM "MOVSX/MOVSXD").  Lengths agree.
    "movsxd_without_rexw": "Capstone 4 always shows a 64-bit MOVSXD destination",
    # With 67 and REX.W together, Capstone 4 often behaves as if 66 were
    # present too (16-bit IN/OUT data, rel16 branches, 66-column SSE forms).
    # Accepted when Capstone decodes the case exactly as it decodes the case
    # with a 66 added, and we agree with Capstone on that second case.
    "capstone_67_rexw": "Capstone 4 treats 67 + REX.W as if 66 were present",
    # RET Iw / RETF Iw always take 2 bytes; with 66 and REX.W Capstone 4 reads 4.
    "ret_imm16": "Capstone 4 reads a 4-byte RET immediate with 66 + REX.W",
    # MOV CS, r/m (8E /1) is #UD (SDM "MOV"); Capstone 4 decodes it.
    "mov_to_cs": "MOV to CS is #UD; Capstone 4 decodes it",
    # SWAPGS is #UD outside 64-bit mode (SDM "SWAPGS"); Capstone 4 decodes it.
    "swapgs": "SWAPGS outside 64-bit mode is #UD; Capstone 4 decodes it",
}


def load_library():
    """Build (if stale) and load build/host/libdecode.so with the test shim."""
    shim = hostlib.BUILD_DIR / "decode_shim.c"
    hostlib.BUILD_DIR.mkdir(parents=True, exist_ok=True)
    if not shim.exists() or shim.read_text() != SHIM_SOURCE:
        shim.write_text(SHIM_SOURCE)
    global _LIB
    lib = ctypes.CDLL(str(hostlib.build_shared("decode", DECODER_SOURCES + [str(shim)])))
    _LIB = lib
    lib.decode_batch.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_int64)]
    lib.class_name.restype = ctypes.c_char_p
    lib.effective_address.restype = ctypes.c_uint64
    lib.effective_address.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                                      ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint64]
    return lib


class Decoded:
    """One case as our decoder saw it (fields unpacked from the shim)."""
    __slots__ = ("status", "length", "cls", "opsize", "imm", "operands", "map", "opcode",
                 "has_mem", "modrm")

    def __init__(self, f, class_names):
        self.status, self.length = f[0], f[1]
        self.cls = class_names[f[2]]
        self.opsize, self.imm = f[3], f[5]
        self.map, self.opcode = f[8], f[9]
        self.has_mem, self.modrm = f[46], f[47]
        self.operands = []
        for j in range(f[7]):
            k = f[10 + 12 * j: 22 + 12 * j]
            self.operands.append(k)


def decode_all(lib, cases, mode, stride=STRIDE):
    """Decode every case (each exactly `stride` bytes) with our decoder."""
    out = (ctypes.c_int64 * (NFIELDS * len(cases)))()
    lib.decode_batch(b"".join(cases), len(cases), stride, mode, out)
    flat = memoryview(out).cast("B").cast("q")
    names = [lib.class_name(i).decode() for i in range(128)]
    return [Decoded(flat[i * NFIELDS:(i + 1) * NFIELDS], names) for i in range(len(cases))]


# ---- normalising operands to one comparable form ---------------------------------
_GPR = {}
for n, names in enumerate(zip(
        "rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15".split(),
        "eax ecx edx ebx esp ebp esi edi r8d r9d r10d r11d r12d r13d r14d r15d".split(),
        "ax cx dx bx sp bp si di r8w r9w r10w r11w r12w r13w r14w r15w".split(),
        "al cl dl bl spl bpl sil dil r8b r9b r10b r11b r12b r13b r14b r15b".split())):
    for name in names:
        _GPR[name] = ("gpr", n, False)
for n, name in enumerate("ah ch dh bh".split()):
    _GPR[name] = ("gpr", n, True)
for n, name in enumerate("es cs ss ds fs gs".split()):
    _GPR[name] = ("seg", n, False)
for n in range(16):
    _GPR[f"cr{n}"] = ("cr", n, False)
    _GPR[f"dr{n}"] = ("dr", n, False)
_BASE = {name: t[1] for name, t in _GPR.items() if t[0] == "gpr" and not t[2]}
_BASE.update(rip=16, eip=16, ip=16)


def _mask(value, size):
    return value & ((1 << (8 * size)) - 1) if size < 8 else value & (2 ** 64 - 1)


def capstone_operands(ins, imm_sizes):
    """Capstone's operands as comparable tuples; imm_sizes gives, per position,
    the size our decoder says an immediate has (Capstone's own is not reliable)."""
    result = []
    for pos, op in enumerate(ins.operands):
        if op.type == cs_x86.X86_OP_REG:
            name = ins.reg_name(op.reg)
            kind, num, high = _GPR.get(name, ("other:" + name, 0, False))
            size = op.size if kind == "gpr" else 0
            result.append((kind, num, high, size))
        elif op.type == cs_x86.X86_OP_MEM:
            m = op.mem
            base = _BASE.get(ins.reg_name(m.base), -1) if m.base else -1
            index = _BASE.get(ins.reg_name(m.index), -1) if m.index else -1
            seg = _GPR[ins.reg_name(m.segment)][1] if m.segment else -1
            result.append(("mem", base, index, m.scale if index >= 0 else 1, seg, m.disp, op.size))
        elif op.type == cs_x86.X86_OP_IMM:
            size = imm_sizes.get(pos, op.size)
            result.append(("imm", _mask(op.imm, size), size))
    return result


def our_operands(d, address_size_of):
    result = []
    for f in d.operands:
        kind = OPERAND_KINDS[f[0]]
        if kind == "mem":
            index = f[6]
            result.append(("mem", 16 if f[5] == 16 else f[5], index, f[7] if index >= 0 else 1,
                           f[9], f[8], f[1]))
        elif kind == "imm":
            result.append(("imm", _mask(f[11], f[1]), f[1]))
        else:
            result.append((kind, f[2], bool(f[3]), f[1] if kind == "gpr" else 0))
    return result


STRING_CLASSES = ("movs", "cmps", "stos", "lods", "scas", "ins", "outs")
SVM_IMPLICIT = ("vmrun", "vmload", "vmsave", "skinit", "invlpga")


def _strip_sizes(ops):
    return [o[:3] + (0,) if o[0] != "mem" else o[:6] + (0,) for o in ops]


def match_operands(ours, theirs, cls, rex_w, opsize_prefix):
    """Compare operands.  Returns "" on an exact match, the name of the
    Capstone quirk (an ALLOWED key) that explains the difference, or None."""
    if cls in SVM_IMPLICIT:
        theirs = []  # Capstone lists the implicit rAX/ECX; we leave them to the emulator
    if cls == "mov_to_seg":  # we say 2 bytes are read; Capstone names the full register
        ours, theirs = _strip_sizes(ours), _strip_sizes(theirs)
    if same_operands(ours, theirs, cls):
        return ""
    if cls == "movsxd" and not rex_w:
        if same_operands(_strip_sizes(ours), _strip_sizes(theirs), cls):
            return "movsxd_without_rexw"
    return None


def same_operands(ours, theirs, cls):
    """Compare operand lists.  Displacements compare modulo 2^32 (Capstone
    sign-extends 32-bit addresses), descriptor-table and INVLPG sizes are not
    compared."""
    if len(ours) != len(theirs):
        return False
    if cls == "xchg":  # commutative; Capstone orders 90+r differently
        ours, theirs = sorted(ours), sorted(theirs)
    for a, b in zip(ours, theirs):
        if a[0] != b[0]:
            return False
        if a[0] == "mem":
            if a[4] == -1 and b[4] == 0 and a[1] == 7 and cls in STRING_CLASSES:
                b = b[:4] + (-1,) + b[5:]  # [rDI] is always in ES: 32-bit Capstone says so
            if a[1:5] != b[1:5]:
                return False
            if (a[5] - b[5]) % (2 ** 32) != 0:
                return False
            if cls not in ("sgdt", "sidt", "lgdt", "lidt", "invlpg") and a[6] != b[6]:
                return False
        elif a != b:
            return False
    return True


# ---- generating cases ------------------------------------------------------------
LEGACY_PREFIXES = [0x66, 0x66, 0x67, 0xf2, 0xf3, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]
# Opcodes the emulator cares about, to make sure they are well covered.
RELEVANT = [bytes([b]) for b in (
    0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xaa, 0xab,
    0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x80, 0x81,
    0x83, 0x84, 0x85, 0x86, 0x87, 0xf6, 0xf7, 0xfe, 0xff, 0x01, 0x09, 0x21, 0x31, 0x29,
    0x39, 0x03, 0x0b, 0x23, 0x8c, 0x8e, 0xfa, 0xfb, 0xf4, 0x9c, 0x9d, 0xcf, 0xcd, 0xb8)]
RELEVANT += [bytes([0x0f, b]) for b in (
    0x20, 0x21, 0x22, 0x23, 0x00, 0x01, 0x01, 0x01, 0x30, 0x31, 0x32, 0xa2, 0x05, 0x07,
    0xb6, 0xb7, 0xbe, 0xbf, 0xb0, 0xb1, 0xc0, 0xc1, 0xc7, 0xa3, 0xab, 0xb3, 0xbb, 0xba,
    0x06, 0x08, 0x09, 0x78, 0x79, 0xc3)]
RELEVANT += [bytes([0x66, 0x0f, 0x38, b]) for b in (0x80, 0x81, 0x82)]


PREFIX_GROUPS = [(0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65), (0x67,), (0x66,), (0xf2, 0xf3), (0xf0,)]


def generate(rng, mode):
    """One case: legacy prefixes, maybe a REX, an opcode from any map, then
    random ModRM/SIB/displacement/immediate bytes, 15 bytes in all.  Most
    cases use at most one prefix per group, in the order assemblers emit them
    (segment, 67, 66, F2/F3, LOCK); one in ten piles up 3-6 prefixes in any order."""
    b = bytearray()
    r = rng.random()
    if r < 0.9:
        for group in PREFIX_GROUPS:
            if rng.random() < 0.15:
                b.append(rng.choice(group))
    else:
        for _ in range(rng.randint(3, 6)):
            b.append(rng.choice(LEGACY_PREFIXES))
    if mode == 64 and rng.random() < 0.35:
        b.append(0x40 | rng.randrange(16))
    r = rng.random()
    if r < 0.40:
        b.append(rng.randrange(256))
    elif r < 0.72:
        b += bytes((0x0f, rng.randrange(256)))
    elif r < 0.78:
        b += bytes((0x0f, 0x38, rng.randrange(256)))
    elif r < 0.82:
        b += bytes((0x0f, 0x3a, rng.randrange(256)))
    else:
        b += rng.choice(RELEVANT)
    tail = STRIDE - len(b)
    if tail > 0:
        b += rng.getrandbits(8 * tail).to_bytes(tail, "little")
    return bytes(b[:STRIDE])


def is_vex_like(case, mode):
    """VEX/EVEX/XOP/3DNow! encodings: allowed to be unsupported."""
    i = 0
    while i < len(case) and (case[i] in (0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e,
                                         0x64, 0x65) or (mode == 64 and case[i] >> 4 == 4)):
        i += 1
    op = case[i:i + 2]
    return op[:1] in (b"\xc4", b"\xc5", b"\x62", b"\x8f") or op in (b"\x0f\x0f", b"\x0f\x0e")


class Report:
    """Counts of every outcome, with up to `examples` byte strings per kind."""

    def __init__(self, examples=3):
        self.counts = Counter()
        self.examples = defaultdict(list)
        self.max_examples = examples

    def add(self, kind, case, note=""):
        self.counts[kind] += 1
        if len(self.examples[kind]) < self.max_examples:
            self.examples[kind].append(f"{case.hex(' ')}  {note}")

    def disagreements(self):
        return {k: v for k, v in self.counts.items() if k.startswith("BAD")}

    def unsupported_fraction(self):
        total = sum(v for k, v in self.counts.items() if k.startswith("cap_ok")
                    and "vex" not in k) + sum(v for k, v in self.counts.items()
                                              if k.startswith("BAD"))
        return self.counts["cap_ok/unsupported"] / max(total, 1)

    def format(self):
        lines = []
        for kind in sorted(self.counts):
            lines.append(f"  {kind:40s} {self.counts[kind]:9d}")
            for e in self.examples[kind]:
                lines.append(f"      {e}")
        lines.append(f"  unsupported fraction (non-VEX, Capstone decodes): "
                     f"{100 * self.unsupported_fraction():.3f}%")
        return "\n".join(lines)


LEGACY = (0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65)


def split_prefixes(case, mode):
    """(legacy prefix bytes, REX byte or 0, the rest) of a case."""
    i, rex = 0, 0
    while i < len(case) and (case[i] in LEGACY or (mode == 64 and case[i] >> 4 == 4)):
        rex = case[i] if case[i] >> 4 == 4 else 0
        i += 1
    legacy = bytes(b for b in case[:i] if b in LEGACY)
    return legacy, rex, case[i:]


def reorderings(case, mode, limit=40):
    """The same case with its legacy prefixes in other orders that mean the
    same to the CPU: the relative order of the segment prefixes and of F2/F3
    (where the last one counts) is kept, REX stays last, and REX bytes that
    the CPU ignores (any not right before the opcode) are dropped; the caller
    allows for the shorter length."""
    import itertools
    legacy, rex, rest = split_prefixes(case, mode)
    tail = (bytes([rex]) if rex else b"") + rest
    canonical = legacy + tail
    seen, out = {legacy}, [canonical] if canonical != case[:len(canonical)] else []
    # First the likeliest fixes: 66 last, or the last F2/F3 last.
    for b in (0x66, reps_last(legacy)):
        if b and b in legacy:
            p = bytes(x for x in legacy if x != b) + bytes([b]) * legacy.count(b)
            if p not in seen:
                seen.add(p)
                out.append(p + tail)
    segs = [b for b in legacy if b in PREFIX_GROUPS[0]]
    reps = [b for b in legacy if b in (0xf2, 0xf3)]
    for perm in itertools.permutations(legacy):
        if len(out) >= limit:
            break
        p = bytes(perm)
        if p in seen:
            continue
        seen.add(p)
        if [b for b in p if b in PREFIX_GROUPS[0]] != segs or \
                [b for b in p if b in (0xf2, 0xf3)] != reps:
            continue
        out.append(p + tail)
    return out


def reps_last(legacy):
    reps = [b for b in legacy if b in (0xf2, 0xf3)]
    return reps[-1] if reps and len(set(reps)) == 1 else None


def lock_is_the_reason(case, mode):
    """Without its F0 prefixes, do we decode `case` to the length Capstone gives?"""
    legacy, rex, rest = split_prefixes(case, mode)
    alt = (legacy.replace(b"\xf0", b"") + (bytes([rex]) if rex else b"") + rest)
    n = len(case) - len(alt)  # the F0s and any REX the CPU ignored
    alt = (alt + b"\x90" * n)[:STRIDE]
    ours = decode_all(_LIB, [alt], mode)[0]
    theirs = next(_LITE[mode].disasm_lite(case, 0x1000, 1), None)
    return ours.status == OK and theirs is not None and ours.length + n == theirs[1]


_LIB = None
_LITE = {m: capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64 if m == 64
                        else capstone.CS_MODE_32) for m in (32, 64)}


def judge(case, ours, md_lite, md, mode, delta=0):
    """Compare our decoding of `case` with Capstone's.  Returns (kind, note):
    kind starts with "BAD" for a disagreement, "allowed/" for an allow-listed
    Capstone quirk, "cap_ok/" or "cap_bad/" otherwise.  `delta` is how many
    bytes longer the case `ours` was decoded from is."""
    legacy, rex, _ = split_prefixes(case, mode)
    lite = next(md_lite.disasm_lite(case, 0x1000, 1), None)
    if lite is None:
        if ours.status != OK:
            return "cap_bad/" + STATUS[ours.status], ""
        if ours.map == 2 and 0x1a <= ours.opcode <= 0x1f:
            return "allowed/hint_nop_register_form", ""
        return "BAD ours ok, Capstone rejects", f"ours len {ours.length} {ours.cls}"
    _, size, mnemonic, op_str = lite
    text = f"{mnemonic} {op_str}"
    if ours.status == UNSUPPORTED:
        return "cap_ok/unsupported" + ("/vex" if is_vex_like(case, mode) else ""), text
    if ours.status != OK:
        if mnemonic in ALLOWED and (mnemonic != "swapgs" or mode != 64):
            return f"allowed/{mnemonic}", text
        if ours.status == INVALID and 0xf0 in legacy and lock_is_the_reason(case, mode):
            return "allowed/lock_misuse", text
        if ours.status == INVALID and ours.map == 1 and ours.opcode == 0x8e and \
                (ours.modrm >> 3) & 7 == 1:
            return "allowed/mov_to_cs", text
        return f"BAD Capstone ok, ours {STATUS[ours.status]}", text
    if size + delta != ours.length:
        if ours.map == 1 and ours.opcode in (0xc2, 0xca) and 0x66 in legacy and rex & 8 \
                and size == ours.length + 2:
            return "allowed/ret_imm16", text
        return "BAD length", f"{text}: capstone {size}, ours {ours.length}"
    if ours.cls == "other":
        return "cap_ok/ok length", ""
    ins = next(md.disasm(case, 0x1000, 1))
    imm_sizes = {i: f[1] for i, f in enumerate(ours.operands) if f[0] == 6}
    theirs = capstone_operands(ins, imm_sizes)
    mine = our_operands(ours, None)
    quirk = match_operands(mine, theirs, ours.cls, bool(rex & 8), 0x66 in legacy)
    if quirk == "":
        return "cap_ok/ok operands", ""
    if quirk:
        return f"allowed/{quirk}", text
    return f"BAD operands ({ours.cls})", f"{text}\n        ours {mine}\n        cap  {theirs}"


def capstone_67_rexw(lib, case, mode, md_lite, md):
    """Does Capstone decode `case` (67 ... REX.W ...) exactly as it decodes the
    same bytes with a 66 added, and do we agree with Capstone on the latter?"""
    legacy, rex, rest = split_prefixes(case, mode)
    if mode != 64 or 0x67 not in legacy or not rex & 8 or 0x66 in legacy:
        return False
    a = next(md_lite.disasm_lite(case, 0x1000, 1), None)
    for r in (rex, rex & ~8):  # Capstone sometimes drops the W as well
        alt = (legacy + b"\x66" + bytes([r]) + rest)[:STRIDE]
        b = next(md_lite.disasm_lite(alt, 0x1000, 1), None)
        if a is None or b is None:
            if a is None and b is None:
                return True
            continue
        if (a[1] + 1, a[2]) != (b[1], b[2]) or (a[3] != b[3] and not a[2].startswith(
                ("call", "j", "loop"))):  # branch targets move with the length
            continue
        kind = judge(alt, decode_all(lib, [alt], mode)[0], md_lite, md, mode)[0]
        if kind.startswith(("cap_ok/ok", "allowed/")):
            return True
    return False


def compare(lib, cases, mode, report):
    """Decode `cases` with both decoders and record each outcome in `report`."""
    md_lite = capstone.Cs(capstone.CS_ARCH_X86,
                          capstone.CS_MODE_64 if mode == 64 else capstone.CS_MODE_32)
    md = capstone.Cs(capstone.CS_ARCH_X86,
                     capstone.CS_MODE_64 if mode == 64 else capstone.CS_MODE_32)
    md.detail = True
    ours_all = decode_all(lib, cases, mode)
    for case, ours in zip(cases, ours_all):
        kind, note = judge(case, ours, md_lite, md, mode)
        if kind.startswith("BAD"):
            # Same prefixes, another order: if Capstone then agrees, the
            # difference is Capstone's order sensitivity, not our bug.
            for other in reorderings(case, mode):
                delta = len(case) - len(other)
                if judge(other, ours, md_lite, md, mode, delta)[0].startswith(
                        ("cap_ok/ok", "cap_bad", "allowed/")):
                    kind, note = "allowed/capstone_prefix_order", note.split("\n")[0]
                    break
        if kind.startswith("BAD") and capstone_67_rexw(lib, case, mode, md_lite, md):
            kind, note = "allowed/capstone_67_rexw", note.split("\n")[0]
        report.add(kind, case, note)


def run(count, seed, mode, batch=20000, progress=None, examples=3):
    """Generate and compare `count` cases; returns the Report."""
    lib = load_library()
    rng = random.Random(seed)
    report = Report(examples)
    done = 0
    while done < count:
        n = min(batch, count - done)
        compare(lib, [generate(rng, mode) for _ in range(n)], mode, report)
        done += n
        if progress:
            progress(done, report)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", type=int, choices=(32, 64), default=64)
    parser.add_argument("--examples", type=int, default=3, help="examples shown per outcome")
    args = parser.parse_args()
    start = time.time()

    def progress(done, report):
        rate = done / (time.time() - start)
        print(f"\r{done:>10d}/{args.count} cases, {sum(report.disagreements().values())} "
              f"disagreements, {rate:,.0f} cases/s", end="", file=sys.stderr, flush=True)

    report = run(args.count, args.seed, args.mode, progress=progress, examples=args.examples)
    print(file=sys.stderr)
    print(f"decoder vs Capstone {capstone.__version__}, {args.mode}-bit mode, seed {args.seed}, "
          f"{args.count} cases, {time.time() - start:.1f} s")
    print(report.format())
    bad = report.disagreements()
    print(f"disagreements: {sum(bad.values())}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
