/*
 * decode_tables.c — the opcode attribute tables behind insn_decode().
 *
 * These are the opcode maps of Intel SDM Vol. 2 Appendix A (Tables,
 * ) and AMD APM Vol. 3 Appendix A, reduced to what the length
 * decoder needs: does a ModRM byte follow, what immediate follows, is the
 * opcode valid in 64-bit mode, and which mandatory prefixes an SSE row takes.
 * Which instruction an opcode *is* lives in decode_classify.c, for the few
 * dozen instructions a hypervisor emulates.
 *
 * Read a row as "opcode range = attributes", e.g. [0x70 ... 0x7f] = IMM_REL_B
 * says the sixteen short conditional jumps take a one-byte displacement.
 */
#include "decode_tables.h"

#define M A_MODRM
#define MIB (A_MODRM | IMM_B)
#define MIZ (A_MODRM | IMM_Z)

/* SDM Table A-2: the one-byte opcode map. */
const uint16_t decode_onebyte_attr[256] = {
    /* 00-3F: ADD OR ADC SBB AND SUB XOR CMP, each in the six forms
     * Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  rAX,Iz.  Columns 6/7 and E/F of
     * rows 0-1 are PUSH/POP of ES CS SS DS (invalid in 64-bit mode); in
     * rows 2-3 they are segment prefixes (handled before the table is read)
     * and the BCD adjusts DAA DAS AAA AAS (invalid in 64-bit mode). */
    [0x00 ... 0x03] = M, [0x04] = IMM_B, [0x05] = IMM_Z, [0x06 ... 0x07] = A_I64,
    [0x08 ... 0x0b] = M, [0x0c] = IMM_B, [0x0d] = IMM_Z, [0x0e] = A_I64,
    /* 0x0f: escape to the two-byte map */
    [0x10 ... 0x13] = M, [0x14] = IMM_B, [0x15] = IMM_Z, [0x16 ... 0x17] = A_I64,
    [0x18 ... 0x1b] = M, [0x1c] = IMM_B, [0x1d] = IMM_Z, [0x1e ... 0x1f] = A_I64,
    [0x20 ... 0x23] = M, [0x24] = IMM_B, [0x25] = IMM_Z, [0x27] = A_I64,
    [0x28 ... 0x2b] = M, [0x2c] = IMM_B, [0x2d] = IMM_Z, [0x2f] = A_I64,
    [0x30 ... 0x33] = M, [0x34] = IMM_B, [0x35] = IMM_Z, [0x37] = A_I64,
    [0x38 ... 0x3b] = M, [0x3c] = IMM_B, [0x3d] = IMM_Z, [0x3f] = A_I64,
    /* 40-4F: INC/DEC r32 (in 64-bit mode these bytes are REX prefixes and
     * never reach the table).  50-5F: PUSH/POP r, 64-bit by default. */
    [0x50 ... 0x5f] = A_D64,
    /* 60 PUSHA, 61 POPA, 62 BOUND Gv,Ma (EVEX in 64-bit mode), 63 ARPL Ew,Gw
     * (MOVSXD Gv,Ed in 64-bit mode), 64-67 prefixes, 68 PUSH Iz,
     * 69 IMUL Gv,Ev,Iz, 6A PUSH Ib, 6B IMUL Gv,Ev,Ib, 6C-6F INS/OUTS. */
    [0x60 ... 0x61] = A_I64, [0x62] = A_I64 | M | A_MEM, [0x63] = M,
    [0x68] = IMM_Z | A_D64, [0x69] = MIZ, [0x6a] = IMM_B | A_D64, [0x6b] = MIB,
    /* 70-7F: Jcc rel8. */
    [0x70 ... 0x7f] = IMM_REL_B | A_D64,
    /* 80-83: group 1, the ALU operations with an immediate (82 is an alias
     * of 80, invalid in 64-bit mode).  84-85 TEST, 86-87 XCHG, 88-8B MOV,
     * 8C MOV Ev,Sw, 8D LEA (memory only), 8E MOV Sw,Ew, 8F group 1A POP Ev. */
    [0x80] = MIB, [0x81] = MIZ, [0x82] = MIB | A_I64, [0x83] = MIB,
    [0x84 ... 0x8c] = M, [0x8d] = M | A_MEM, [0x8e] = M, [0x8f] = M | A_GROUP | A_D64,
    /* 90-97 XCHG rAX,r (90 = NOP, F3 90 = PAUSE), 98 CBW, 99 CWD,
     * 9A CALL far Ap, 9B FWAIT, 9C PUSHF, 9D POPF, 9E SAHF, 9F LAHF. */
    [0x9a] = IMM_FAR | A_I64, [0x9c ... 0x9d] = A_D64,
    /* A0-A3 MOV AL/rAX <-> moffs, A4-A7 MOVS/CMPS, A8 TEST AL,Ib,
     * A9 TEST rAX,Iz, AA-AF STOS/LODS/SCAS. */
    [0xa0 ... 0xa3] = IMM_MOFFS, [0xa8] = IMM_B, [0xa9] = IMM_Z,
    /* B0-B7 MOV r8,Ib; B8-BF MOV r,Iv (the only imm64: with REX.W). */
    [0xb0 ... 0xb7] = IMM_B, [0xb8 ... 0xbf] = IMM_V,
    /* C0-C1 group 2 shifts by Ib, C2 RET Iw, C3 RET, C4 LES / C5 LDS (VEX
     * in 64-bit mode), C6-C7 group 11 MOV Eb,Ib / Ev,Iz, C8 ENTER Iw,Ib,
     * C9 LEAVE, CA RETF Iw, CB RETF, CC INT3, CD INT Ib, CE INTO, CF IRET. */
    [0xc0 ... 0xc1] = MIB, [0xc2] = IMM_W | A_D64, [0xc3] = A_D64,
    [0xc4 ... 0xc5] = M | A_MEM | A_I64, [0xc6] = MIB | A_GROUP, [0xc7] = MIZ | A_GROUP,
    [0xc8] = IMM_WB | A_D64, [0xc9] = A_D64, [0xca] = IMM_W, [0xcd] = IMM_B, [0xce] = A_I64,
    /* D0-D3 group 2 shifts by 1 and CL, D4 AAM Ib, D5 AAD Ib, D6 SALC
     * (undocumented), D7 XLAT, D8-DF x87 escapes (always ModRM). */
    [0xd0 ... 0xd3] = M, [0xd4 ... 0xd5] = IMM_B | A_I64, [0xd6] = A_I64,
    [0xd8 ... 0xdf] = M | A_GROUP,
    /* E0-E2 LOOPNE/LOOPE/LOOP, E3 JrCXZ, E4-E7 IN/OUT Ib, E8 CALL Jz,
     * E9 JMP Jz, EA JMP far Ap, EB JMP Jb, EC-EF IN/OUT DX. */
    [0xe0 ... 0xe3] = IMM_REL_B | A_D64, [0xe4 ... 0xe7] = IMM_B,
    [0xe8 ... 0xe9] = IMM_REL_Z | A_D64, [0xea] = IMM_FAR | A_I64, [0xeb] = IMM_REL_B | A_D64,
    /* F0 LOCK, F2 REPNE, F3 REP are prefixes.  F1 INT1, F4 HLT, F5 CMC,
     * F6-F7 group 3 (TEST takes an immediate, decode.c adds it), F8-FD
     * CLC STC CLI STI CLD STD, FE group 4 INC/DEC Eb, FF group 5. */
    [0xf6 ... 0xf7] = M | A_GROUP, [0xfe ... 0xff] = M | A_GROUP,
};

/* SDM Table A-3: the two-byte map (0F xx). */
const uint16_t decode_twobyte_attr[256] = {
    /* 00 group 6 (SLDT STR LLDT LTR VERR VERW), 01 group 7 (SGDT ... INVLPG
     * and the register-form system instructions), 02 LAR, 03 LSL, 05 SYSCALL,
     * 06 CLTS, 07 SYSRET, 08 INVD, 09 WBINVD, 0B UD2, 0D group P (AMD
     * PREFETCH/PREFETCHW), 0E FEMMS and 0F 3DNow! (not supported). */
    [0x00 ... 0x01] = M | A_GROUP, [0x02 ... 0x03] = M, [0x04] = A_BAD,
    [0x0a] = A_BAD, [0x0c] = A_BAD, [0x0d] = M | A_GROUP | A_MEM,
    [0x0e ... 0x0f] = A_UNSUP,
    /* 10-17 SSE moves, 18 group 16 PREFETCHh, 19-1F hint NOPs Ev. */
    [0x10 ... 0x12] = M, [0x13] = M | A_MEM, [0x14 ... 0x16] = M, [0x17] = M | A_MEM,
    [0x18] = M | A_GROUP, [0x19 ... 0x1f] = M,
    /* 20-23 MOV to/from CRn and DRn: the r/m field always names a GPR
     * whatever mod says (SDM "MOV—Move to/from Control Registers").
     * 24-27 were MOV TRn on the 386.  28-2F SSE. */
    [0x20 ... 0x23] = M, [0x24 ... 0x27] = A_BAD,
    [0x28 ... 0x2a] = M, [0x2b] = M | A_MEM, [0x2c ... 0x2f] = M,
    /* 30 WRMSR, 31 RDTSC, 32 RDMSR, 33 RDPMC, 34 SYSENTER, 35 SYSEXIT,
     * 37 GETSEC, 38 and 3A escape to the three-byte maps. */
    [0x36] = A_BAD, [0x39] = A_BAD, [0x3b ... 0x3f] = A_BAD,
    /* 40-4F CMOVcc.  50-6F SSE/MMX. */
    [0x40 ... 0x4f] = M, [0x50] = M | A_REG, [0x51 ... 0x6f] = M,
    /* 70 PSHUF* Ib, 71-73 groups 12-14 (shift by Ib, register form only),
     * 74-76 PCMPEQ, 77 EMMS, 78 VMREAD / EXTRQ, 79 VMWRITE, 7C-7F SSE. */
    [0x70] = MIB, [0x71 ... 0x73] = MIB | A_REG | A_GROUP, [0x74 ... 0x76] = M,
    [0x78 ... 0x79] = M | A_GROUP, [0x7a ... 0x7b] = A_BAD, [0x7c ... 0x7f] = M,
    /* 80-8F Jcc Jz, 90-9F SETcc Eb. */
    [0x80 ... 0x8f] = IMM_REL_Z | A_D64, [0x90 ... 0x9f] = M,
    /* A0 PUSH FS, A1 POP FS, A2 CPUID, A3 BT, A4 SHLD Ib, A5 SHLD CL,
     * A8 PUSH GS, A9 POP GS, AA RSM, AB BTS, AC SHRD Ib, AD SHRD CL,
     * AE group 15 (FXSAVE ... CLFLUSH, and the fences), AF IMUL. */
    [0xa0 ... 0xa1] = A_D64, [0xa3] = M, [0xa4] = MIB, [0xa5] = M,
    [0xa6 ... 0xa7] = A_UNSUP, /* VIA PadLock */
    [0xa8 ... 0xa9] = A_D64, [0xab] = M, [0xac] = MIB, [0xad] = M, [0xae] = M | A_GROUP,
    [0xaf] = M,
    /* B0-B1 CMPXCHG, B2 LSS, B3 BTR, B4 LFS, B5 LGS, B6-B7 MOVZX, B8 POPCNT
     * (F3 only), B9 UD1, BA group 8 BT* Ev,Ib, BB BTC, BC BSF/TZCNT,
     * BD BSR/LZCNT, BE-BF MOVSX. */
    [0xb0 ... 0xb1] = M, [0xb2] = M | A_MEM, [0xb3] = M, [0xb4 ... 0xb5] = M | A_MEM,
    [0xb6 ... 0xb8] = M, [0xb9] = A_BAD, [0xba] = MIB | A_GROUP, [0xbb ... 0xbf] = M,
    /* C0-C1 XADD, C2 CMPPS Ib, C3 MOVNTI, C4 PINSRW Ib, C5 PEXTRW Ib,
     * C6 SHUFPS Ib, C7 group 9 (CMPXCHG8B/16B, VMPTRLD ..., RDRAND),
     * C8-CF BSWAP. */
    [0xc0 ... 0xc1] = M, [0xc2] = MIB, [0xc3] = M | A_MEM, [0xc4] = MIB,
    [0xc5] = MIB | A_REG, [0xc6] = MIB, [0xc7] = M | A_GROUP,
    /* D0-FE SSE/MMX arithmetic.  FF is UD0. */
    [0xd0 ... 0xd5] = M, [0xd6] = M | A_GROUP, [0xd7] = M | A_REG, [0xd8 ... 0xe6] = M, [0xe7] = M | A_MEM,
    [0xe8 ... 0xef] = M, [0xf0] = M | A_MEM, [0xf1 ... 0xf6] = M, [0xf7] = M | A_REG,
    [0xf8 ... 0xfe] = M, [0xff] = A_BAD,
};

#define NP_66 (P_NP | P_66)
#define ALL_BUT_NP (P_66 | P_F3 | P_F2)

/*
 * Which mandatory prefixes each two-byte SSE row accepts.  0 means "not an
 * SSE row": every prefix combination is accepted.  When both F2 and F3 are
 * present the last one selects the column; 66 selects its column only
 * without F2/F3 (SDM Vol. 2 §2.1.2 and Table A-1 note on mandatory prefixes).
 */
const uint8_t decode_twobyte_prefixes[256] = {
    [0x10 ... 0x12] = P_ANY, [0x13 ... 0x15] = NP_66, [0x16] = P_NP | P_66 | P_F3,
    [0x17] = NP_66,
    [0x28 ... 0x29] = NP_66, [0x2a] = P_ANY, [0x2b] = NP_66, [0x2c ... 0x2d] = P_ANY,
    [0x2e ... 0x2f] = NP_66,
    [0x50] = NP_66, [0x51] = P_ANY, [0x52 ... 0x53] = P_NP | P_F3, [0x54 ... 0x57] = NP_66,
    [0x58 ... 0x5a] = P_ANY, [0x5b] = P_NP | P_66 | P_F3, [0x5c ... 0x5f] = P_ANY,
    [0x60 ... 0x6b] = NP_66, [0x6c ... 0x6d] = P_66, [0x6e] = NP_66,
    [0x6f] = P_NP | P_66 | P_F3,
    [0x70] = P_ANY, [0x71 ... 0x76] = NP_66, [0x77] = P_NP,
    [0x78 ... 0x79] = P_NP | P_66 | P_F2, [0x7c ... 0x7d] = P_66 | P_F2,
    [0x7e ... 0x7f] = P_NP | P_66 | P_F3,
    [0xb8] = P_F3,
    [0xc2] = P_ANY, [0xc3] = P_NP, [0xc4 ... 0xc6] = NP_66,
    [0xd0] = P_66 | P_F2, [0xd1 ... 0xd5] = NP_66, [0xd6] = ALL_BUT_NP, [0xd7 ... 0xdf] = NP_66,
    [0xe0 ... 0xe5] = NP_66, [0xe6] = ALL_BUT_NP, [0xe7 ... 0xef] = NP_66,
    [0xf0] = P_F2, [0xf1 ... 0xfe] = NP_66,
};

/*
 * SDM Table A-4: the 0F 38 map.  Every entry takes a ModRM byte and no
 * immediate; 0 marks an opcode this decoder reports as unsupported (either
 * unassigned, VEX-only, or too recent to matter here).
 */
const uint8_t decode_0f38_prefixes[256] = {
    [0x00 ... 0x0b] = NP_66,                     /* SSSE3: PSHUFB ... PMULHRSW */
    [0x10] = P_66, [0x14 ... 0x15] = P_66, [0x17] = P_66, /* SSE4.1 blends, PTEST */
    [0x1c ... 0x1e] = NP_66,                     /* PABSB/W/D */
    [0x20 ... 0x25] = P_66, [0x28 ... 0x2b] = P_66, /* PMOVSX, PMULDQ ... PACKUSDW */
    [0x30 ... 0x35] = P_66, [0x37 ... 0x41] = P_66, /* PMOVZX, PCMPGTQ ... PHMINPOSUW */
    [0x80 ... 0x82] = P_66,                      /* INVEPT, INVVPID, INVPCID */
    [0xc8 ... 0xcd] = P_NP,                      /* SHA */
    [0xdb ... 0xdf] = P_66,                      /* AES */
    [0xf0 ... 0xf1] = P_NP | P_66 | P_F2,        /* MOVBE (NP/66), CRC32 (F2) */
    [0xf6] = P_66 | P_F3,                        /* ADCX, ADOX */
};

/* SDM Table A-5: the 0F 3A map.  Every entry takes ModRM and an Ib. */
const uint8_t decode_0f3a_prefixes[256] = {
    [0x08 ... 0x0e] = P_66,                      /* ROUNDPS ... PBLENDW */
    [0x0f] = NP_66,                              /* PALIGNR */
    [0x14 ... 0x17] = P_66, [0x20 ... 0x22] = P_66, /* PEXTR*, PINSR*, EXTRACTPS */
    [0x40 ... 0x42] = P_66, [0x44] = P_66,       /* DPPS, DPPD, MPSADBW, PCLMULQDQ */
    [0x60 ... 0x63] = P_66,                      /* PCMPESTRM ... PCMPISTRI */
    [0xcc] = P_NP,                               /* SHA1RNDS4 */
    [0xdf] = P_66,                               /* AESKEYGENASSIST */
};
