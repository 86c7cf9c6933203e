/*
 * decode.c — how long is this instruction, and what does its ModRM say?
 *
 * An x86 instruction is a sequence of optional parts (Intel SDM Vol. 2
 * §2.1, Figure 2-1; AMD APM Vol. 3 §1.1):
 *
 *   legacy prefixes   REX     opcode      ModRM   SIB    displacement  immediate
 *   0-4 (or more)     0-1     1-3 bytes   0-1     0-1    0,1,2,4       0,1,2,4,8
 *
 * and no instruction may be longer than 15 bytes.  Nothing in the bytes says
 * how long the instruction is: the decoder must walk them in this order and
 * know, for every opcode, whether a ModRM byte follows and how big its
 * immediate is.  Those facts are the tables in decode_tables.c; this file is
 * the walk.  decode_classify.c then says *which* instruction it was, for the
 * ones the hypervisor emulates.
 *
 * A hypervisor decodes instructions that trapped: a privileged instruction
 * at CPL 3 (#GP/#UD), a write to a write-protected guest page table (#PF),
 * an access to an emulated device (nested-page fault).  Getting the length
 * wrong means resuming the guest in the middle of an instruction, so when
 * the decoder is unsure it says so (DECODE_UNSUPPORTED) instead of guessing.
 */
#include "decode.h"
#include "decode_tables.h"

/* The bytes being decoded and how far we have read. */
struct cursor {
    const uint8_t *bytes;
    size_t avail;
    unsigned pos;
    enum decode_status error; /* why the last fetch failed */
};

/* Read one byte.  Running past 15 bytes is #GP/#UD on a real processor
 * (SDM §2.3.11 calls it "instruction length limit"), running past the bytes
 * the caller could give us is "truncated": the caller may fetch more. */
static bool fetch(struct cursor *c, uint8_t *byte)
{
    if (c->pos >= INSN_MAX_LENGTH) {
        c->error = DECODE_INVALID;
        return false;
    }
    if (c->pos >= c->avail) {
        c->error = DECODE_TRUNCATED;
        return false;
    }
    *byte = c->bytes[c->pos++];
    return true;
}

/* Read a little-endian value of @size bytes, sign-extended to 64 bits. */
static bool fetch_signed(struct cursor *c, unsigned size, int64_t *value)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b;
        if (!fetch(c, &b))
            return false;
        v |= (uint64_t)b << (8 * i);
    }
    if (size < 8 && (v >> (8 * size - 1)) & 1)
        v |= ~0ull << (8 * size);
    *value = (int64_t)v;
    return true;
}

/* Look at the next byte without consuming it (used for VEX/XOP detection). */
static bool peek(struct cursor *c, uint8_t *byte)
{
    if (!fetch(c, byte))
        return false;
    c->pos--;
    return true;
}

/*
 * ModRM with 16-bit addressing (SDM Table 2-1): r/m names one of eight fixed
 * register pairs, and mod=00 r/m=110 is a bare disp16 instead of [BP].
 */
static bool decode_mem16(struct cursor *c, struct insn *insn)
{
    static const int8_t base16[8] = { GPR_RBX, GPR_RBX, GPR_RBP, GPR_RBP,
                                      GPR_RSI, GPR_RDI, GPR_RBP, GPR_RBX };
    static const int8_t index16[8] = { GPR_RSI, GPR_RDI, GPR_RSI, GPR_RDI,
                                       MEM_INDEX_NONE, MEM_INDEX_NONE,
                                       MEM_INDEX_NONE, MEM_INDEX_NONE };
    struct insn_mem *m = &insn->mem;
    unsigned rm = insn->modrm_rm;

    m->base = base16[rm];
    m->index = index16[rm];
    if (insn->modrm_mod == 0 && rm == 6) {
        m->base = MEM_BASE_NONE;
        insn->disp_size = 2;
    } else if (insn->modrm_mod == 1) {
        insn->disp_size = 1;
    } else if (insn->modrm_mod == 2) {
        insn->disp_size = 2;
    }
    /* BP-based addresses default to the stack segment. */
    if (m->base == GPR_RBP)
        m->segment = SEG_SS;
    return fetch_signed(c, insn->disp_size, &m->disp);
}

/*
 * ModRM with 32- and 64-bit addressing (SDM Tables 2-2 and 2-3, §2.2.1.3):
 *   - r/m = 100 means "a SIB byte follows": base + index * 2^scale;
 *   - mod = 00, r/m = 101 means disp32 with no base: RIP-relative in 64-bit
 *     mode, absolute in 32-bit mode (absolute in 64-bit mode needs a SIB);
 *   - in a SIB, index = 100 means "no index", base = 101 with mod = 00
 *     means "no base, disp32".
 * REX.X and REX.B add a fourth bit to index and base.  These special cases
 * look only at the three ModRM/SIB bits, so R12 as a base still needs a SIB
 * and R13 with mod = 00 still means "disp32" (SDM Table 2-5).
 */
static bool decode_mem32(struct cursor *c, struct insn *insn)
{
    struct insn_mem *m = &insn->mem;
    unsigned rex_b = (insn->rex & 1) << 3, rex_x = (insn->rex & 2) << 2;
    unsigned mod = insn->modrm_mod;

    if (insn->modrm_rm == 4) {
        if (!fetch(c, &insn->sib))
            return false;
        insn->has_sib = true;
        unsigned scale = insn->sib >> 6, index = (insn->sib >> 3) & 7, base = insn->sib & 7;
        m->scale = (uint8_t)(1u << scale);
        m->index = (index | rex_x) == 4 ? MEM_INDEX_NONE : (int8_t)(index | rex_x);
        if (base == 5 && mod == 0) {
            m->base = MEM_BASE_NONE;
            insn->disp_size = 4;
        } else {
            m->base = (int8_t)(base | rex_b);
        }
    } else if (insn->modrm_rm == 5 && mod == 0) {
        m->base = insn->mode == DECODE_MODE_64 ? MEM_BASE_RIP : MEM_BASE_NONE;
        insn->disp_size = 4;
    } else {
        m->base = (int8_t)(insn->modrm_rm | rex_b);
    }
    if (mod == 1)
        insn->disp_size = 1;
    else if (mod == 2)
        insn->disp_size = 4;
    /* rSP- and rBP-based addresses default to SS (SDM Vol. 1 §3.7.4). */
    if (m->base == GPR_RSP || m->base == GPR_RBP)
        m->segment = SEG_SS;
    return fetch_signed(c, insn->disp_size, &m->disp);
}

/*
 * The mandatory-prefix column of an SSE row (SDM §2.1.2; Table A-3 gives
 * each row four columns).  F2/F3 (the last one) win over 66, which wins
 * over none; a prefix the row has no column for is ignored, as processors
 * and Capstone do, so the next candidate is tried.  @valid is the row's
 * P_* mask.  Returns the column, or 0 if the row has none for these
 * prefixes (the instruction is #UD).
 */
static unsigned prefix_column(const struct insn *insn, uint8_t last_rep, unsigned valid)
{
    if (last_rep == 0xf3 && (valid & P_F3))
        return P_F3;
    if (last_rep == 0xf2 && (valid & P_F2))
        return P_F2;
    if (insn->opsize_override && (valid & P_66))
        return P_66;
    return valid & P_NP;
}

/*
 * x87 escapes D8-DF with mod = 3 (SDM Table ): most /digit rows
 * are eight register forms ST(i), some hold single instructions (D9 E0 FCHS,
 * D9 E1 FABS, ...) and some are empty.  Bit n of x87_full_rows[op - D8] says
 * row /n is valid for every ST(i); the partial rows are spelled out below.
 * The undocumented aliases (D9 /3 FSTP1, DD /1 FXCH4, DE /2 FCOMP5,
 * DF /0-/3) are valid on every processor since the 8087 and are kept.
 */
static bool x87_register_form_valid(uint8_t op, unsigned reg, unsigned rm)
{
    static const uint8_t x87_full_rows[8] = {
        0xff, 0xcb, 0x0f, 0x6f, 0xff, 0x3f, 0xf7, 0x6f,
    };
    if (x87_full_rows[op - 0xd8] & (1u << reg))
        return true;
    switch ((op << 4) | reg) {
    case 0xd92: return rm == 0;                       /* FNOP */
    case 0xd94: return rm <= 1 || rm == 4 || rm == 5; /* FCHS FABS FTST FXAM */
    case 0xd95: return rm != 7;                       /* FLD1 ... FLDZ */
    case 0xda5: return rm == 1;                       /* FUCOMPP */
    case 0xdb4: return rm <= 4;                       /* FENI FDISI FNCLEX FNINIT FSETPM */
    case 0xde3: return rm == 1;                       /* FCOMPP */
    case 0xdf4: return rm == 0;                       /* FNSTSW AX */
    }
    return false;
}

/*
 * Groups: opcodes whose ModRM.reg field is a third opcode byte ("/digit",
 * SDM Table A-6).  Reject the /digits that are not instructions, and fix up
 * the immediate where it depends on /digit.  Returns DECODE_OK or why not.
 */
static enum decode_status check_group(struct insn *insn, unsigned *imm, unsigned column)
{
    unsigned reg = insn->modrm_reg, mod = insn->modrm_mod;
    bool is64 = insn->mode == DECODE_MODE_64;

    if (insn->opcode_map == 1) {
        switch (insn->opcode) {
        case 0x8f: /* 1A: POP Ev; the others are AMD XOP's escape */
            return reg == 0 ? DECODE_OK : DECODE_UNSUPPORTED;
        case 0xc6: /* 11: MOV Eb,Ib; C6 F8 ib is XABORT */
        case 0xc7: /* 11: MOV Ev,Iz; C7 F8 is XBEGIN Jz */
            if (reg == 0)
                return DECODE_OK;
            if (insn->modrm == 0xf8) {
                if (insn->opcode == 0xc7)
                    *imm = IMM_REL_Z;
                return DECODE_OK;
            }
            return DECODE_INVALID;
        case 0xf6: /* 3: TEST Eb,Ib (/1 is an undocumented alias); NOT NEG MUL IMUL DIV IDIV */
        case 0xf7:
            if (reg <= 1)
                *imm = insn->opcode == 0xf6 ? IMM_B : IMM_Z;
            return DECODE_OK;
        case 0xd8 ... 0xdf: /* x87 */
        if (mod == 3)
            return x87_register_form_valid(insn->opcode, reg, insn->modrm_rm)
                       ? DECODE_OK : DECODE_INVALID;
        /* Memory forms: four /digits are reserved (SDM Tables A-8 ... A-16):
         * D9 /1, DB /4, DB /6, DD /5. */
        if ((insn->opcode == 0xd9 && reg == 1) || (insn->opcode == 0xdb && (reg == 4 || reg == 6)) ||
            (insn->opcode == 0xdd && reg == 5))
            return DECODE_INVALID;
        return DECODE_OK;
    case 0xfe: /* 4: INC/DEC Eb */
            return reg <= 1 ? DECODE_OK : DECODE_INVALID;
        case 0xff: /* 5: INC DEC CALL CALLF JMP JMPF PUSH */
            if (reg == 7 || ((reg == 3 || reg == 5) && mod == 3))
                return DECODE_INVALID;
            return DECODE_OK;
        }
        return DECODE_OK;
    }
    switch (insn->opcode) { /* the two-byte map */
    case 0x00: /* 6: SLDT STR LLDT LTR VERR VERW */
        return reg <= 5 ? DECODE_OK : DECODE_INVALID;
    case 0x01: /* 7: memory forms SGDT ... INVLPG; register forms in classify */
        return mod == 3 || reg != 5 ? DECODE_OK : DECODE_INVALID;
    case 0xd6: /* 66: MOVQ; F3: MOVQ2DQ, F2: MOVDQ2Q (registers only) */
        return column != P_66 && mod != 3 ? DECODE_INVALID : DECODE_OK;
    case 0x0d: /* P: PREFETCHW; /0 PREFETCH and the rest are AMD-only aliases */
        return reg == 1 ? DECODE_OK : DECODE_UNSUPPORTED;
    case 0x18: /* 16: PREFETCHh m; the register forms are reserved */
        return mod != 3 ? DECODE_OK : DECODE_UNSUPPORTED;
    case 0x71: /* 12: PSRLW PSRAW PSLLW Nq/Ux, Ib */
    case 0x72: /* 13: PSRLD PSRAD PSLLD */
        return reg == 2 || reg == 4 || reg == 6 ? DECODE_OK : DECODE_INVALID;
    case 0x73: /* 14: PSRLQ PSRLDQ(66) PSLLQ PSLLDQ(66) */
        if (reg == 2 || reg == 6 || ((reg == 3 || reg == 7) && column == P_66))
            return DECODE_OK;
        return DECODE_INVALID;
    case 0x78: /* VMREAD Ey,Gy; 66: EXTRQ Uq,Ib,Ib; F2: INSERTQ Vq,Uq,Ib,Ib */
    case 0x79: /* VMWRITE Gy,Ey; 66: EXTRQ Vq,Uq; F2: INSERTQ Vq,Uq */
        if (column == P_NP)
            return DECODE_OK;
        if (mod != 3) /* neither VMREAD (no prefix) nor EXTRQ/INSERTQ (registers) */
            return DECODE_UNSUPPORTED;
        if (insn->opcode == 0x78)
            *imm = IMM_BB;
        return DECODE_OK;
    case 0xae: /* 15 */
        if (mod != 3) {
            /* FXSAVE FXRSTOR LDMXCSR STMXCSR XSAVE XRSTOR XSAVEOPT CLFLUSH;
             * 66 /6 CLWB and 66 /7 CLFLUSHOPT */
            if (column == P_NP || (column == P_66 && reg >= 6))
                return DECODE_OK;
            return DECODE_UNSUPPORTED; /* F3 /4 PTWRITE and friends */
        }
        if (column == P_NP && reg >= 5 && insn->modrm_rm == 0) /* LFENCE MFENCE SFENCE */
            return DECODE_OK;
        if (column == P_F3 && reg <= 3) /* RDFSBASE RDGSBASE WRFSBASE WRGSBASE */
            return is64 ? DECODE_OK : DECODE_INVALID;
        return DECODE_UNSUPPORTED;
    case 0xba: /* 8: BT BTS BTR BTC Ev,Ib */
        return reg >= 4 ? DECODE_OK : DECODE_INVALID;
    case 0xc7: /* 9 */
        if (mod != 3) {
            if (reg == 1 || reg == 6 || reg == 7)
                return DECODE_OK; /* CMPXCHG8B/16B, VMPTRLD/VMCLEAR/VMXON, VMPTRST */
            if (reg >= 3 && reg <= 5)
                return DECODE_OK; /* XRSTORS XSAVEC XSAVES */
            return DECODE_INVALID;
        }
        if (reg == 6 || reg == 7) /* RDRAND, RDSEED, F3 /7: RDPID */
            return DECODE_OK;
        return DECODE_INVALID;
    }
    return DECODE_OK;
}

/* The operand and address sizes in bytes (SDM Vol. 1 §3.6, Table 3-4;
 * §2.2.1.2 for 64-bit mode, where REX.W beats 66 and "d64" instructions
 * such as PUSH default to 64 bits). */
static void compute_sizes(struct insn *insn, uint16_t attr)
{
    switch (insn->mode) {
    case DECODE_MODE_64:
        if (insn->rex & 8)
            insn->operand_size = 8;
        else if (insn->opsize_override)
            insn->operand_size = 2;
        else
            insn->operand_size = (attr & A_D64) ? 8 : 4;
        insn->address_size = insn->addrsize_override ? 4 : 8;
        break;
    case DECODE_MODE_32:
        insn->operand_size = insn->opsize_override ? 2 : 4;
        insn->address_size = insn->addrsize_override ? 2 : 4;
        break;
    default:
        insn->operand_size = insn->opsize_override ? 4 : 2;
        insn->address_size = insn->addrsize_override ? 4 : 2;
        break;
    }
}

/* Read the immediate(s) that follow ModRM/SIB/displacement. */
static bool decode_immediate(struct cursor *c, struct insn *insn, unsigned kind)
{
    unsigned z = insn->operand_size == 2 ? 2 : 4;
    switch (kind) {
    case IMM_NONE:
        return true;
    case IMM_B:
        insn->imm_size = 1;
        break;
    case IMM_W:
        insn->imm_size = 2;
        break;
    case IMM_Z:
        insn->imm_size = (uint8_t)z;
        break;
    case IMM_V:
        insn->imm_size = insn->operand_size;
        break;
    case IMM_WB: /* ENTER Iw, Ib */
    case IMM_BB: /* EXTRQ/INSERTQ Ib, Ib */
        insn->imm_size = kind == IMM_WB ? 2 : 1;
        insn->imm2_size = 1;
        break;
    case IMM_FAR: /* Ap: offset, then selector */
        insn->imm_size = (uint8_t)z;
        insn->imm2_size = 2;
        break;
    case IMM_REL_B:
        insn->imm_size = 1;
        insn->relative = true;
        break;
    case IMM_REL_Z:
        /* 66 shortens a near branch to rel16 in every mode on AMD (APM
         * Vol. 3 "Jcc"); Intel ignores 66 here in 64-bit mode.  We follow
         * AMD and Capstone (see docs/decoder.md). */
        insn->imm_size = (uint8_t)z;
        insn->relative = true;
        break;
    case IMM_MOFFS:
        /* MOV AL/rAX <-> [moffs]: no ModRM, the address itself follows,
         * as wide as the address size (8 bytes in 64-bit mode). */
        insn->has_mem = true;
        insn->disp_size = insn->address_size;
        insn->mem.base = MEM_BASE_NONE;
        if (!fetch_signed(c, insn->disp_size, &insn->mem.disp))
            return false;
        if (insn->disp_size < 8) /* an address, not a displacement: zero-extend */
            insn->mem.disp &= (int64_t)((1ull << (8 * insn->disp_size)) - 1);
        return true;
    }
    if (!fetch_signed(c, insn->imm_size, &insn->imm))
        return false;
    if (kind == IMM_W || kind == IMM_WB) /* RET/ENTER sizes are unsigned */
        insn->imm &= 0xffff;
    return fetch_signed(c, insn->imm2_size, &insn->imm2);
}

enum decode_status insn_decode(const uint8_t *bytes, size_t avail, enum decode_mode mode,
                               struct insn *out)
{
    struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0, .error = DECODE_OK };
    struct insn *insn = out;
    enum decode_status status;
    uint8_t b, last_rep = 0;

    __builtin_memset(insn, 0, sizeof(*insn));
    insn->mode = (uint8_t)mode;
    insn->segment_override = -1;
    insn->mem.index = MEM_INDEX_NONE;
    insn->mem.base = MEM_BASE_NONE;
    insn->mem.scale = 1;
    insn->mem.segment = SEG_DS;

    /*
     * Prefixes (SDM §2.1.1).  Legacy prefixes come in any order; within a
     * group the last one counts.  In 64-bit mode a REX byte (40-4F, the
     * old INC/DEC r32) counts only if it comes last, right before the
     * opcode: a REX followed by a legacy prefix is ignored (SDM §2.2.1).
     */
    for (;;) {
        if (!fetch(&c, &b))
            goto fail;
        switch (b) {
        case 0xf0: insn->lock = true; break;
        case 0xf2: insn->repne = true; last_rep = b; break;
        case 0xf3: insn->rep = true; last_rep = b; break;
        case 0x66: insn->opsize_override = true; break;
        case 0x67: insn->addrsize_override = true; break;
        case 0x26: insn->segment_override = SEG_ES; break;
        case 0x2e: insn->segment_override = SEG_CS; break;
        case 0x36: insn->segment_override = SEG_SS; break;
        case 0x3e: insn->segment_override = SEG_DS; break;
        case 0x64: insn->segment_override = SEG_FS; break;
        case 0x65: insn->segment_override = SEG_GS; break;
        default:
            if (mode == DECODE_MODE_64 && (b & 0xf0) == 0x40) {
                insn->rex = b;
                continue;
            }
            goto opcode;
        }
        insn->rex = 0;
    }

opcode:
    insn->prefix_count = (uint8_t)(c.pos - 1);
    /* Opcode maps (SDM §2.1.2, Appendix A.1): 0F escapes to the two-byte
     * map, 0F 38 and 0F 3A to the three-byte maps. */
    uint16_t attr;
    unsigned column = P_NP, valid = 0;
    insn->opcode_map = 1;
    insn->opcode = b;
    if (b == 0x0f) {
        if (!fetch(&c, &b))
            goto fail;
        insn->opcode_map = 2;
        insn->opcode = b;
        if (b == 0x38 || b == 0x3a) {
            insn->opcode_map = b == 0x38 ? 3 : 4;
            if (!fetch(&c, &insn->opcode))
                goto fail;
        }
    }

    switch (insn->opcode_map) {
    case 1:
        attr = decode_onebyte_attr[insn->opcode];
        /* VEX (C4, C5) and EVEX (62) reuse LES, LDS and BOUND.  In 64-bit
         * mode those are gone and the byte is always VEX/EVEX; elsewhere it
         * is VEX/EVEX when the next byte would be a register-form ModRM,
         * which LES/LDS/BOUND do not allow (SDM §2.3.5, §2.6.1). */
        if (insn->opcode == 0xc4 || insn->opcode == 0xc5 || insn->opcode == 0x62) {
            if (mode == DECODE_MODE_64)
                return DECODE_UNSUPPORTED;
            if (!peek(&c, &b))
                goto fail;
            if ((b >> 6) == 3)
                return DECODE_UNSUPPORTED;
        }
        break;
    case 2:
        attr = decode_twobyte_attr[insn->opcode];
        valid = decode_twobyte_prefixes[insn->opcode];
        /* Rows that are not SSE keep 66/F2/F3 as ordinary prefixes, but
         * groups 15 and 9 still tell instructions apart by them. */
        column = prefix_column(insn, last_rep, valid ? valid : P_ANY);
        if (!column)
            return DECODE_INVALID;
        break;
    default:
        /* The three-byte maps: every opcode takes ModRM; 0F 3A adds an Ib.
         * An unassigned entry (0) may be a recent extension: unsupported. */
        valid = insn->opcode_map == 3 ? decode_0f38_prefixes[insn->opcode]
                                      : decode_0f3a_prefixes[insn->opcode];
        if (!valid)
            return DECODE_UNSUPPORTED;
        column = prefix_column(insn, last_rep, valid);
        if (!column)
            return DECODE_INVALID;
        attr = insn->opcode_map == 3 ? A_MODRM : A_MODRM | IMM_B;
        if (insn->opcode_map == 3 && insn->opcode >= 0xf0 && insn->opcode <= 0xf1 &&
            column != P_F2)
            attr |= A_MEM; /* MOVBE; with F2 it is CRC32, which allows registers */
        if (insn->opcode_map == 3 && insn->opcode == 0x2a)
            attr |= A_MEM; /* MOVNTDQA */
        break;
    }
    if (valid) /* only SSE rows have mandatory prefixes */
        insn->mandatory_prefix = column == P_66 ? 0x66 : column == P_F3 ? 0xf3
                               : column == P_F2 ? 0xf2 : 0;
    if (attr & A_BAD)
        return DECODE_INVALID;
    if (attr & A_UNSUP)
        return DECODE_UNSUPPORTED;
    if ((attr & A_I64) && mode == DECODE_MODE_64)
        return DECODE_INVALID;
    if ((attr & A_O64) && mode != DECODE_MODE_64)
        return DECODE_INVALID;
    compute_sizes(insn, attr);

    unsigned imm = attr & A_IMM_MASK;
    if (attr & A_MODRM) {
        if (!fetch(&c, &insn->modrm))
            goto fail;
        insn->has_modrm = true;
        insn->modrm_mod = insn->modrm >> 6;
        insn->modrm_reg = (insn->modrm >> 3) & 7;
        insn->modrm_rm = insn->modrm & 7;
        if ((attr & A_MEM) && insn->modrm_mod == 3)
            return DECODE_INVALID;
        if ((attr & A_REG) && insn->modrm_mod != 3)
            return DECODE_INVALID;
        if (attr & A_GROUP) {
            status = check_group(insn, &imm, column);
            if (status != DECODE_OK)
                return status;
        }
        /* MOV to/from CRn/DRn ignore mod: r/m is always a register. */
        bool control = insn->opcode_map == 2 && insn->opcode >= 0x20 && insn->opcode <= 0x23;
        if (insn->modrm_mod != 3 && !control) {
            insn->has_mem = true;
            insn->mem.address_size = insn->address_size;
            bool ok = insn->address_size == 2 ? decode_mem16(&c, insn) : decode_mem32(&c, insn);
            if (!ok)
                goto fail;
        }
    }
    if (!decode_immediate(&c, insn, imm))
        goto fail;
    insn->mem.address_size = insn->address_size;
    if (insn->segment_override >= 0) {
        insn->mem.segment = (uint8_t)insn->segment_override;
        insn->mem.segment_overridden = true;
    }
    insn->length = (uint8_t)c.pos;
    return decode_classify(insn);

fail:
    insn->length = (uint8_t)c.pos;
    return c.error;
}

uint64_t insn_effective_address(const struct insn_mem *mem, const uint64_t gpr[16],
                                uint64_t rip_next)
{
    uint64_t ea = (uint64_t)mem->disp;
    if (mem->base == MEM_BASE_RIP)
        ea += rip_next;
    else if (mem->base >= 0)
        ea += gpr[mem->base];
    if (mem->index >= 0)
        ea += gpr[mem->index] * mem->scale;
    /* The sum wraps at the address size: with 67h in 64-bit mode,
     * [eax + ebx] is computed in 32 bits and zero-extended (SDM §3.3.7). */
    if (mem->address_size == 4)
        ea &= 0xffffffffull;
    else if (mem->address_size == 2)
        ea &= 0xffffull;
    return ea;
}

const char *decode_status_name(enum decode_status status)
{
    switch (status) {
    case DECODE_OK: return "ok";
    case DECODE_TRUNCATED: return "truncated";
    case DECODE_UNSUPPORTED: return "unsupported";
    case DECODE_INVALID: return "invalid";
    }
    return "?";
}
