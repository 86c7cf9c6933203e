/*
 * decode_classify.c — which instruction did we decode, and what are its
 * operands?
 *
 * decode.c found the instruction's parts; here we name the few dozen
 * instructions a hypervisor emulates (enum insn_class) and spell out their
 * operands in Intel order, destination first, including the implicit ones
 * (the DX of OUT DX, AL; the [RDI] of STOS), so that an emulator never has
 * to look at opcode bytes again.  Everything else stays INSN_OTHER.
 *
 * The opcode and /digit of each instruction are in SDM Vol. 2 Chapters 3-5
 * (one page per instruction) and Appendix A; AMD APM Vol. 3 for SVM.
 */
#include "decode_tables.h"

/* Registers named by ModRM.reg and ModRM.rm, with REX.R / REX.B (SDM §2.2.1.2). */
static unsigned reg_field(const struct insn *insn)
{
    return insn->modrm_reg | ((insn->rex & 4u) << 1);
}

static unsigned rm_field(const struct insn *insn)
{
    return insn->modrm_rm | ((insn->rex & 1u) << 3);
}

static struct insn_operand *next_operand(struct insn *insn)
{
    return &insn->operands[insn->operand_count++];
}

/* A general-purpose register.  Without a REX prefix, byte registers 4-7
 * are AH CH DH BH; with any REX they are SPL BPL SIL DIL (SDM §3.4.1.1). */
static void add_gpr(struct insn *insn, unsigned reg, unsigned size, unsigned access)
{
    struct insn_operand *o = next_operand(insn);
    o->kind = OPERAND_GPR;
    o->size = (uint8_t)size;
    o->access = (uint8_t)access;
    if (size == 1 && !insn->rex && reg >= 4 && reg <= 7) {
        o->high_byte = true;
        reg -= 4;
    }
    o->reg = (uint8_t)reg;
}

static void add_mem(struct insn *insn, const struct insn_mem *mem, unsigned size,
                    unsigned access)
{
    struct insn_operand *o = next_operand(insn);
    o->kind = OPERAND_MEMORY;
    o->size = (uint8_t)size;
    o->access = (uint8_t)access;
    o->mem = *mem;
}

/* The ModRM "E" operand: a register if mod = 3, else the memory reference. */
static void add_rm(struct insn *insn, unsigned size, unsigned access)
{
    if (insn->modrm_mod == 3)
        add_gpr(insn, rm_field(insn), size, access);
    else
        add_mem(insn, &insn->mem, size, access);
}

/* The ModRM "G" operand: the register in ModRM.reg. */
static void add_reg(struct insn *insn, unsigned size, unsigned access)
{
    add_gpr(insn, reg_field(insn), size, access);
}

static void add_other(struct insn *insn, enum operand_kind kind, unsigned reg, unsigned size,
                      unsigned access)
{
    struct insn_operand *o = next_operand(insn);
    o->kind = kind;
    o->reg = (uint8_t)reg;
    o->size = (uint8_t)size;
    o->access = (uint8_t)access;
}

/* An immediate, sign-extended to the operand it combines with (83 /0 ib
 * adds a sign-extended byte to a dword; C7 /0 id stores a sign-extended
 * dword into a qword). */
static void add_imm(struct insn *insn, int64_t value, unsigned size)
{
    struct insn_operand *o = next_operand(insn);
    o->kind = OPERAND_IMMEDIATE;
    o->size = (uint8_t)size;
    o->access = OPERAND_READ;
    if (size < 8) {
        uint64_t mask = (1ull << (8 * size)) - 1;
        value = (int64_t)((uint64_t)value & mask);
    }
    o->imm = value;
}

/* The implicit [rSI] or [rDI] of a string instruction.  The destination
 * [rDI] is always in ES; the source [rSI] is in DS unless overridden
 * (SDM Vol. 1 §7.3.9.1). */
static void add_string(struct insn *insn, unsigned reg, unsigned size, unsigned access)
{
    struct insn_mem m = {
        .base = (int8_t)reg, .index = MEM_INDEX_NONE, .scale = 1, .segment = SEG_DS,
        .address_size = insn->address_size, .disp = 0,
    };
    if (reg == GPR_RDI) {
        m.segment = SEG_ES;
    } else if (insn->segment_override >= 0) {
        m.segment = (uint8_t)insn->segment_override;
        m.segment_overridden = true;
    }
    add_mem(insn, &m, size, access);
}

#define RW (OPERAND_READ | OPERAND_WRITE)
#define R OPERAND_READ
#define W OPERAND_WRITE

/* The eight arithmetic operations of rows 00-3F and group 1, in opcode order. */
static const enum insn_class alu_classes[8] = {
    INSN_ADD, INSN_OR, INSN_ADC, INSN_SBB, INSN_AND, INSN_SUB, INSN_XOR, INSN_CMP,
};

/* 0F 01 with mod = 3: the modrm byte is the rest of the opcode (SDM Table A-6,
 * APM Vol. 3 Table A-8).  Returns a class (INSN_OTHER: known, not emulated),
 * GROUP7_UNSUPPORTED for instructions of recent processors this decoder does
 * not know, or GROUP7_INVALID. */
#define GROUP7_INVALID (-2)
#define GROUP7_UNSUPPORTED (-1)
static int group7_register_form(uint8_t modrm)
{
    switch (modrm) {
    case 0xc1: return INSN_VMCALL;
    case 0xc2: return INSN_VMLAUNCH;
    case 0xc3: return INSN_VMRESUME;
    case 0xc4: return INSN_VMXOFF;
    case 0xc8: return INSN_MONITOR;
    case 0xc9: return INSN_MWAIT;
    case 0xca: /* CLAC */
    case 0xcb: /* STAC */
    case 0xd4: /* VMFUNC */
    case 0xd5: /* XEND */
    case 0xd6: /* XTEST */
    case 0xcf: /* ENCLS */
    case 0xd7: /* ENCLU */
        return INSN_OTHER;
    case 0xd0: return INSN_XGETBV;
    case 0xd1: return INSN_XSETBV;
    case 0xd8: return INSN_VMRUN;
    case 0xd9: return INSN_VMMCALL;
    case 0xda: return INSN_VMLOAD;
    case 0xdb: return INSN_VMSAVE;
    case 0xdc: return INSN_STGI;
    case 0xdd: return INSN_CLGI;
    case 0xde: return INSN_SKINIT;
    case 0xdf: return INSN_INVLPGA;
    case 0xf8: return INSN_SWAPGS;
    case 0xf9: return INSN_RDTSCP;
    case 0xc0: case 0xc5: case 0xe8: case 0xee: case 0xef:
    case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        return GROUP7_UNSUPPORTED; /* ENCLV PCONFIG SERIALIZE RDPKRU WRPKRU MONITORX
                                      MWAITX CLZERO RDPRU */
    }
    if (modrm >= 0xe0 && modrm <= 0xe7)
        return INSN_SMSW;
    if (modrm >= 0xf0 && modrm <= 0xf7)
        return INSN_LMSW;
    return GROUP7_INVALID;
}

/* The one-byte map. */
static enum decode_status classify_onebyte(struct insn *insn)
{
    uint8_t op = insn->opcode;
    unsigned v = insn->operand_size, bsize = (op & 1) ? v : 1;
    /* IN/OUT: AL, AX or EAX, never RAX: REX.W is ignored, 66 still counts. */
    unsigned port_size = insn->opsize_override ? 2 : 4;

    if (op < 0x40 && (op & 7) < 6) {
        /* ALU rows: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  rAX,Iz */
        enum insn_class cls = alu_classes[op >> 3];
        unsigned dst = cls == INSN_CMP ? R : RW;
        insn->cls = cls;
        switch (op & 7) {
        case 0: case 1: add_rm(insn, bsize, dst); add_reg(insn, bsize, R); break;
        case 2: case 3: add_reg(insn, bsize, dst); add_rm(insn, bsize, R); break;
        default: add_gpr(insn, GPR_RAX, bsize, dst); add_imm(insn, insn->imm, bsize); break;
        }
        return DECODE_OK;
    }
    switch (op) {
    case 0x63:
        if (insn->mode != DECODE_MODE_64)
            return DECODE_OK; /* ARPL: not emulated */
        insn->cls = INSN_MOVSXD;
        add_reg(insn, v, W);
        add_rm(insn, v == 2 ? 2 : 4, R);
        return DECODE_OK;
    case 0x80: case 0x81: case 0x82: case 0x83:
        insn->cls = alu_classes[insn->modrm_reg];
        bsize = op == 0x81 || op == 0x83 ? v : 1;
        add_rm(insn, bsize, insn->cls == INSN_CMP ? R : RW);
        add_imm(insn, insn->imm, bsize);
        return DECODE_OK;
    case 0x84: case 0x85: /* TEST Eb,Gb / Ev,Gv */
        insn->cls = INSN_TEST;
        add_rm(insn, bsize, R);
        add_reg(insn, bsize, R);
        return DECODE_OK;
    case 0x86: case 0x87: /* XCHG Eb,Gb / Ev,Gv */
        insn->cls = INSN_XCHG;
        add_rm(insn, bsize, RW);
        add_reg(insn, bsize, RW);
        return DECODE_OK;
    case 0x88: case 0x89: /* MOV Eb,Gb / Ev,Gv: a store when mod != 3 */
        insn->cls = INSN_MOV;
        add_rm(insn, bsize, W);
        add_reg(insn, bsize, R);
        return DECODE_OK;
    case 0x8a: case 0x8b: /* MOV Gb,Eb / Gv,Ev: a load */
        insn->cls = INSN_MOV;
        add_reg(insn, op == 0x8a ? 1 : v, W);
        add_rm(insn, op == 0x8a ? 1 : v, R);
        return DECODE_OK;
    case 0x8c: /* MOV Ev,Sw: stores 2 bytes to memory, zero-extends into a register */
    case 0x8e: /* MOV Sw,Ew: CS cannot be loaded this way */
        if (insn->modrm_reg > SEG_GS || (op == 0x8e && insn->modrm_reg == SEG_CS) ||
            (insn->rex & 4)) /* REX.R would name segment registers 8-15 */
            return DECODE_INVALID;
        if (op == 0x8c) {
            insn->cls = INSN_MOV_FROM_SEG;
            add_rm(insn, insn->modrm_mod == 3 ? v : 2, W);
            add_other(insn, OPERAND_SEGMENT, insn->modrm_reg, 2, R);
        } else {
            insn->cls = INSN_MOV_TO_SEG;
            add_other(insn, OPERAND_SEGMENT, insn->modrm_reg, 2, W);
            add_rm(insn, 2, R);
        }
        return DECODE_OK;
    case 0x90 ... 0x97: /* XCHG rAX, r; 90 alone is NOP and F3 90 is PAUSE */
        if (op == 0x90 && !(insn->rex & 1))
            return DECODE_OK;
        insn->cls = INSN_XCHG;
        add_gpr(insn, (op & 7) | ((insn->rex & 1u) << 3), v, RW);
        add_gpr(insn, GPR_RAX, v, RW);
        return DECODE_OK;
    case 0x9c: insn->cls = INSN_PUSHF; return DECODE_OK;
    case 0x9d: insn->cls = INSN_POPF; return DECODE_OK;
    case 0xa0: case 0xa1: /* MOV AL/rAX, moffs */
        insn->cls = INSN_MOV;
        add_gpr(insn, GPR_RAX, bsize, W);
        add_mem(insn, &insn->mem, bsize, R);
        return DECODE_OK;
    case 0xa2: case 0xa3: /* MOV moffs, AL/rAX */
        insn->cls = INSN_MOV;
        add_mem(insn, &insn->mem, bsize, W);
        add_gpr(insn, GPR_RAX, bsize, R);
        return DECODE_OK;
    case 0xa4: case 0xa5:
        insn->cls = INSN_MOVS;
        add_string(insn, GPR_RDI, bsize, W);
        add_string(insn, GPR_RSI, bsize, R);
        return DECODE_OK;
    case 0xa6: case 0xa7:
        insn->cls = INSN_CMPS;
        add_string(insn, GPR_RSI, bsize, R);
        add_string(insn, GPR_RDI, bsize, R);
        return DECODE_OK;
    case 0xa8: case 0xa9:
        insn->cls = INSN_TEST;
        add_gpr(insn, GPR_RAX, bsize, R);
        add_imm(insn, insn->imm, bsize);
        return DECODE_OK;
    case 0xaa: case 0xab:
        insn->cls = INSN_STOS;
        add_string(insn, GPR_RDI, bsize, W);
        add_gpr(insn, GPR_RAX, bsize, R);
        return DECODE_OK;
    case 0xac: case 0xad:
        insn->cls = INSN_LODS;
        add_gpr(insn, GPR_RAX, bsize, W);
        add_string(insn, GPR_RSI, bsize, R);
        return DECODE_OK;
    case 0xae: case 0xaf:
        insn->cls = INSN_SCAS;
        add_gpr(insn, GPR_RAX, bsize, R);
        add_string(insn, GPR_RDI, bsize, R);
        return DECODE_OK;
    case 0xb0 ... 0xbf: /* MOV r, imm: B8+r with REX.W is the only imm64 */
        insn->cls = INSN_MOV;
        bsize = op >= 0xb8 ? v : 1;
        add_gpr(insn, (op & 7) | ((insn->rex & 1u) << 3), bsize, W);
        add_imm(insn, insn->imm, bsize);
        return DECODE_OK;
    case 0xc6: case 0xc7: /* MOV Eb,Ib / Ev,Iz (XABORT/XBEGIN otherwise) */
        if (insn->modrm_reg != 0)
            return DECODE_OK;
        insn->cls = INSN_MOV;
        add_rm(insn, bsize, W);
        add_imm(insn, insn->imm, bsize);
        return DECODE_OK;
    case 0xcc: insn->cls = INSN_INT3; return DECODE_OK;
    case 0xcd:
        insn->cls = INSN_INT;
        add_imm(insn, insn->imm, 1);
        return DECODE_OK;
    case 0xce: insn->cls = INSN_INTO; return DECODE_OK;
    case 0xcf: insn->cls = INSN_IRET; return DECODE_OK;
    case 0x6c: case 0x6d: /* INS [rDI], DX */
        insn->cls = INSN_INS;
        add_string(insn, GPR_RDI, op == 0x6c ? 1 : port_size, W);
        add_gpr(insn, GPR_RDX, 2, R);
        return DECODE_OK;
    case 0x6e: case 0x6f: /* OUTS DX, [rSI] */
        insn->cls = INSN_OUTS;
        add_gpr(insn, GPR_RDX, 2, R);
        add_string(insn, GPR_RSI, op == 0x6e ? 1 : port_size, R);
        return DECODE_OK;
    case 0xe4: case 0xe5: case 0xec: case 0xed: /* IN AL/eAX, Ib or DX */
        insn->cls = INSN_IN;
        add_gpr(insn, GPR_RAX, (op & 1) ? port_size : 1, W);
        if (op < 0xe8)
            add_imm(insn, insn->imm, 1);
        else
            add_gpr(insn, GPR_RDX, 2, R);
        return DECODE_OK;
    case 0xe6: case 0xe7: case 0xee: case 0xef: /* OUT Ib or DX, AL/eAX */
        insn->cls = INSN_OUT;
        if (op < 0xe8)
            add_imm(insn, insn->imm, 1);
        else
            add_gpr(insn, GPR_RDX, 2, R);
        add_gpr(insn, GPR_RAX, (op & 1) ? port_size : 1, R);
        return DECODE_OK;
    case 0xf1: insn->cls = INSN_INT1; return DECODE_OK;
    case 0xf4: insn->cls = INSN_HLT; return DECODE_OK;
    case 0xfa: insn->cls = INSN_CLI; return DECODE_OK;
    case 0xfb: insn->cls = INSN_STI; return DECODE_OK;
    case 0xf6: case 0xf7: /* group 3 */
        switch (insn->modrm_reg) {
        case 0: case 1:
            insn->cls = INSN_TEST;
            add_rm(insn, bsize, R);
            add_imm(insn, insn->imm, bsize);
            return DECODE_OK;
        case 2: insn->cls = INSN_NOT; break;
        case 3: insn->cls = INSN_NEG; break;
        default: return DECODE_OK; /* MUL IMUL DIV IDIV */
        }
        add_rm(insn, bsize, RW);
        return DECODE_OK;
    case 0xfe: case 0xff: /* groups 4 and 5: INC, DEC (the rest are branches/PUSH) */
        if (insn->modrm_reg > 1)
            return DECODE_OK;
        insn->cls = insn->modrm_reg == 0 ? INSN_INC : INSN_DEC;
        add_rm(insn, bsize, RW);
        return DECODE_OK;
    }
    return DECODE_OK;
}

/* The 0F map. */
static enum decode_status classify_twobyte(struct insn *insn)
{
    static const enum insn_class group6[6] = {
        INSN_SLDT, INSN_STR, INSN_LLDT, INSN_LTR, INSN_VERR, INSN_VERW,
    };
    static const enum insn_class group7_memory[8] = {
        INSN_SGDT, INSN_SIDT, INSN_LGDT, INSN_LIDT, INSN_SMSW, INSN_OTHER, INSN_LMSW, INSN_INVLPG,
    };
    static const enum insn_class bit_tests[4] = { INSN_BT, INSN_BTS, INSN_BTR, INSN_BTC };
    uint8_t op = insn->opcode;
    unsigned v = insn->operand_size, reg = insn->modrm_reg;
    bool is64 = insn->mode == DECODE_MODE_64;
    unsigned native = is64 ? 8 : 4; /* CRn/DRn moves and VMX operands ignore 66 and REX.W */

    switch (op) {
    case 0x00: /* group 6: SLDT/STR store 2 bytes to memory, or zero-extend into a register */
        insn->cls = group6[reg];
        if (reg <= 1)
            add_rm(insn, insn->modrm_mod == 3 ? v : 2, W);
        else
            add_rm(insn, 2, R);
        return DECODE_OK;
    case 0x01: /* group 7 */
        if (insn->modrm_mod == 3) {
            int cls = group7_register_form(insn->modrm);
            if (cls == GROUP7_INVALID || (cls == INSN_SWAPGS && !is64))
                return DECODE_INVALID;
            if (cls == GROUP7_UNSUPPORTED)
                return DECODE_UNSUPPORTED;
            insn->cls = (enum insn_class)cls;
            if (cls == INSN_SMSW)
                add_rm(insn, v, W);
            else if (cls == INSN_LMSW)
                add_rm(insn, 2, R);
            return DECODE_OK;
        }
        insn->cls = group7_memory[reg];
        if (reg <= 3) /* a 2-byte limit and a 4- or 8-byte base (SDM "LGDT/LIDT") */
            add_mem(insn, &insn->mem, is64 ? 10 : 6, reg <= 1 ? W : R);
        else if (reg == 4)
            add_mem(insn, &insn->mem, 2, W);
        else if (reg == 6)
            add_mem(insn, &insn->mem, 2, R);
        else /* INVLPG: the address matters, not the bytes */
            add_mem(insn, &insn->mem, 1, 0);
        return DECODE_OK;
    case 0x05: insn->cls = INSN_SYSCALL; return DECODE_OK;
    case 0x06: insn->cls = INSN_CLTS; return DECODE_OK;
    case 0x07: insn->cls = INSN_SYSRET; return DECODE_OK;
    case 0x08: insn->cls = INSN_INVD; return DECODE_OK;
    case 0x09: insn->cls = INSN_WBINVD; return DECODE_OK;
    case 0x0b: insn->cls = INSN_UD2; return DECODE_OK;
    case 0x20 ... 0x23: {
        /* MOV r, CRn (20) / DRn (21); MOV CRn (22) / DRn (23), r.  The GPR
         * is 64 bits in 64-bit mode whatever 66 or REX.W say; REX.R reaches
         * CR8 (the TPR).  Reserved register numbers decode here and #UD in
         * the emulator, which knows which CRs exist. */
        enum operand_kind kind = (op & 1) ? OPERAND_DEBUG : OPERAND_CONTROL;
        static const enum insn_class classes[4] = {
            INSN_MOV_FROM_CR, INSN_MOV_FROM_DR, INSN_MOV_TO_CR, INSN_MOV_TO_DR,
        };
        insn->cls = classes[op - 0x20];
        insn->operand_size = (uint8_t)native;
        if (op < 0x22) {
            add_gpr(insn, rm_field(insn), native, W);
            add_other(insn, kind, reg_field(insn), native, R);
        } else {
            add_other(insn, kind, reg_field(insn), native, W);
            add_gpr(insn, rm_field(insn), native, R);
        }
        return DECODE_OK;
    }
    case 0x30: insn->cls = INSN_WRMSR; return DECODE_OK;
    case 0x31: insn->cls = INSN_RDTSC; return DECODE_OK;
    case 0x32: insn->cls = INSN_RDMSR; return DECODE_OK;
    case 0x33: insn->cls = INSN_RDPMC; return DECODE_OK;
    case 0x34: insn->cls = INSN_SYSENTER; return DECODE_OK;
    case 0x35: insn->cls = INSN_SYSEXIT; return DECODE_OK;
    case 0x78: case 0x79: /* VMREAD Ey,Gy / VMWRITE Gy,Ey (no prefix) */
        if (insn->mandatory_prefix)
            return DECODE_OK; /* EXTRQ / INSERTQ */
        insn->operand_size = (uint8_t)native;
        if (op == 0x78) {
            insn->cls = INSN_VMREAD;
            add_rm(insn, native, W);
            add_reg(insn, native, R);
        } else {
            insn->cls = INSN_VMWRITE;
            add_reg(insn, native, R);
            add_rm(insn, native, R);
        }
        return DECODE_OK;
    case 0xa2: insn->cls = INSN_CPUID; return DECODE_OK;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: /* BT BTS BTR BTC Ev,Gv */
        insn->cls = bit_tests[(op >> 3) & 3];
        add_rm(insn, v, insn->cls == INSN_BT ? R : RW);
        add_reg(insn, v, R);
        return DECODE_OK;
    case 0xba: /* group 8: BT BTS BTR BTC Ev,Ib */
        insn->cls = bit_tests[reg - 4];
        add_rm(insn, v, insn->cls == INSN_BT ? R : RW);
        add_imm(insn, insn->imm, 1);
        return DECODE_OK;
    case 0xb0: case 0xb1: /* CMPXCHG Eb,Gb / Ev,Gv */
    case 0xc0: case 0xc1: /* XADD Eb,Gb / Ev,Gv */
        insn->cls = op >= 0xc0 ? INSN_XADD : INSN_CMPXCHG;
        add_rm(insn, (op & 1) ? v : 1, RW);
        add_reg(insn, (op & 1) ? v : 1, op >= 0xc0 ? RW : R);
        return DECODE_OK;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: /* MOVZX / MOVSX Gv, Eb or Ew */
        insn->cls = op < 0xb8 ? INSN_MOVZX : INSN_MOVSX;
        add_reg(insn, v, W);
        add_rm(insn, (op & 1) ? 2 : 1, R);
        return DECODE_OK;
    case 0xc3: /* MOVNTI My, Gy: 32 or 64 bits only */
        insn->cls = INSN_MOVNTI;
        add_rm(insn, v == 8 ? 8 : 4, W);
        add_reg(insn, v == 8 ? 8 : 4, R);
        return DECODE_OK;
    case 0xc7: /* group 9 */
        if (insn->modrm_mod == 3)
            return DECODE_OK; /* RDRAND, RDSEED, RDPID */
        if (reg == 1) {
            insn->cls = (insn->rex & 8) ? INSN_CMPXCHG16B : INSN_CMPXCHG8B;
            add_mem(insn, &insn->mem, (insn->rex & 8) ? 16 : 8, RW);
        } else if (reg == 6) {
            insn->cls = insn->rep ? INSN_VMXON
                      : insn->opsize_override ? INSN_VMCLEAR : INSN_VMPTRLD;
            add_mem(insn, &insn->mem, 8, R);
        } else if (reg == 7) {
            insn->cls = INSN_VMPTRST;
            add_mem(insn, &insn->mem, 8, W);
        }
        return DECODE_OK;
    }
    return DECODE_OK;
}

/* Instructions LOCK may prefix (SDM Vol. 2 "LOCK"), and only with a memory
 * destination; anything else with LOCK raises #UD. */
static bool lockable(const struct insn *insn)
{
    switch (insn->cls) {
    case INSN_ADD: case INSN_OR: case INSN_ADC: case INSN_SBB: case INSN_AND:
    case INSN_SUB: case INSN_XOR: case INSN_NOT: case INSN_NEG: case INSN_INC:
    case INSN_DEC: case INSN_XCHG: case INSN_CMPXCHG: case INSN_CMPXCHG8B:
    case INSN_CMPXCHG16B: case INSN_XADD: case INSN_BTS: case INSN_BTR: case INSN_BTC:
        return insn->operands[0].kind == OPERAND_MEMORY;
    default:
        return false;
    }
}

enum decode_status decode_classify(struct insn *insn)
{
    enum decode_status status = DECODE_OK;

    if (insn->opcode_map == 1) {
        status = classify_onebyte(insn);
    } else if (insn->opcode_map == 2) {
        status = classify_twobyte(insn);
    } else if (insn->opcode_map == 3 && insn->opcode >= 0x80 && insn->opcode <= 0x82) {
        /* 66 0F 38 80-82: INVEPT, INVVPID, INVPCID r64, m128 (memory only) */
        static const enum insn_class classes[3] = { INSN_INVEPT, INSN_INVVPID, INSN_INVPCID };
        if (insn->modrm_mod == 3)
            return DECODE_INVALID;
        insn->cls = classes[insn->opcode - 0x80];
        add_reg(insn, insn->mode == DECODE_MODE_64 ? 8 : 4, R);
        add_mem(insn, &insn->mem, 16, R);
    }
    if (status == DECODE_OK && insn->lock && !lockable(insn))
        return DECODE_INVALID;
    /* For classified instructions, operand_size is the size of the first
     * operand: 1 for the byte forms (MOV Eb,Gb ...). */
    const struct insn_operand *data = &insn->operands[0];
    if (insn->cls == INSN_OUT || insn->cls == INSN_OUTS) /* the port comes first */
        data = &insn->operands[1];
    if (insn->operand_count && insn->cls != INSN_INVLPG && data->size <= 8 &&
        (data->kind == OPERAND_GPR || data->kind == OPERAND_MEMORY))
        insn->operand_size = data->size;
    return status;
}

const struct insn_operand *insn_memory_operand(const struct insn *insn)
{
    for (unsigned i = 0; i < insn->operand_count; i++)
        if (insn->operands[i].kind == OPERAND_MEMORY)
            return &insn->operands[i];
    return NULL;
}

bool insn_writes_memory(const struct insn *insn)
{
    for (unsigned i = 0; i < insn->operand_count; i++)
        if (insn->operands[i].kind == OPERAND_MEMORY && (insn->operands[i].access & W))
            return true;
    return false;
}

const char *insn_class_name(enum insn_class cls)
{
    static const char *const names[INSN_CLASS_COUNT] = {
        [INSN_OTHER] = "other", [INSN_MOV] = "mov", [INSN_MOVZX] = "movzx",
        [INSN_MOVSX] = "movsx", [INSN_MOVSXD] = "movsxd", [INSN_MOV_FROM_SEG] = "mov_from_seg",
        [INSN_MOV_TO_SEG] = "mov_to_seg", [INSN_MOVNTI] = "movnti", [INSN_XCHG] = "xchg",
        [INSN_CMPXCHG] = "cmpxchg", [INSN_CMPXCHG8B] = "cmpxchg8b",
        [INSN_CMPXCHG16B] = "cmpxchg16b", [INSN_XADD] = "xadd", [INSN_ADD] = "add",
        [INSN_OR] = "or", [INSN_ADC] = "adc", [INSN_SBB] = "sbb", [INSN_AND] = "and",
        [INSN_SUB] = "sub", [INSN_XOR] = "xor", [INSN_CMP] = "cmp", [INSN_TEST] = "test",
        [INSN_NOT] = "not", [INSN_NEG] = "neg", [INSN_INC] = "inc", [INSN_DEC] = "dec",
        [INSN_BT] = "bt", [INSN_BTS] = "bts", [INSN_BTR] = "btr", [INSN_BTC] = "btc",
        [INSN_MOVS] = "movs", [INSN_STOS] = "stos", [INSN_LODS] = "lods", [INSN_CMPS] = "cmps",
        [INSN_SCAS] = "scas", [INSN_IN] = "in", [INSN_OUT] = "out", [INSN_INS] = "ins",
        [INSN_OUTS] = "outs", [INSN_CLI] = "cli", [INSN_STI] = "sti", [INSN_HLT] = "hlt",
        [INSN_PUSHF] = "pushf", [INSN_POPF] = "popf", [INSN_IRET] = "iret", [INSN_INT] = "int",
        [INSN_INT3] = "int3", [INSN_INTO] = "into", [INSN_INT1] = "int1",
        [INSN_MOV_FROM_CR] = "mov_from_cr", [INSN_MOV_TO_CR] = "mov_to_cr",
        [INSN_MOV_FROM_DR] = "mov_from_dr", [INSN_MOV_TO_DR] = "mov_to_dr",
        [INSN_CLTS] = "clts", [INSN_LMSW] = "lmsw", [INSN_SMSW] = "smsw", [INSN_LGDT] = "lgdt",
        [INSN_LIDT] = "lidt", [INSN_SGDT] = "sgdt", [INSN_SIDT] = "sidt", [INSN_LLDT] = "lldt",
        [INSN_LTR] = "ltr", [INSN_SLDT] = "sldt", [INSN_STR] = "str", [INSN_VERR] = "verr",
        [INSN_VERW] = "verw", [INSN_INVLPG] = "invlpg", [INSN_INVPCID] = "invpcid",
        [INSN_WBINVD] = "wbinvd", [INSN_INVD] = "invd", [INSN_RDMSR] = "rdmsr",
        [INSN_WRMSR] = "wrmsr", [INSN_RDTSC] = "rdtsc", [INSN_RDTSCP] = "rdtscp",
        [INSN_RDPMC] = "rdpmc", [INSN_CPUID] = "cpuid", [INSN_XGETBV] = "xgetbv",
        [INSN_XSETBV] = "xsetbv", [INSN_MONITOR] = "monitor", [INSN_MWAIT] = "mwait",
        [INSN_SWAPGS] = "swapgs", [INSN_SYSCALL] = "syscall", [INSN_SYSRET] = "sysret",
        [INSN_SYSENTER] = "sysenter", [INSN_SYSEXIT] = "sysexit", [INSN_UD2] = "ud2",
        [INSN_VMRUN] = "vmrun", [INSN_VMMCALL] = "vmmcall", [INSN_VMLOAD] = "vmload",
        [INSN_VMSAVE] = "vmsave", [INSN_STGI] = "stgi", [INSN_CLGI] = "clgi",
        [INSN_SKINIT] = "skinit", [INSN_INVLPGA] = "invlpga", [INSN_VMCALL] = "vmcall",
        [INSN_VMLAUNCH] = "vmlaunch", [INSN_VMRESUME] = "vmresume", [INSN_VMXOFF] = "vmxoff",
        [INSN_VMXON] = "vmxon", [INSN_VMCLEAR] = "vmclear", [INSN_VMPTRLD] = "vmptrld",
        [INSN_VMPTRST] = "vmptrst", [INSN_VMREAD] = "vmread", [INSN_VMWRITE] = "vmwrite",
        [INSN_INVEPT] = "invept", [INSN_INVVPID] = "invvpid",
    };
    if ((unsigned)cls >= INSN_CLASS_COUNT || !names[cls])
        return "?";
    return names[cls];
}
