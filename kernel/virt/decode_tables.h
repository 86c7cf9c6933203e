/*
 * decode_tables.h — private to the decoder (decode.c, decode_tables.c,
 * decode_classify.c): the shape of the opcode attribute tables and the
 * helpers the classifier shares with the length decoder.
 */
#ifndef HYPATIA_DECODE_TABLES_H
#define HYPATIA_DECODE_TABLES_H

#include "decode.h"

/*
 * Each opcode gets 16 bits of attributes.  The low four bits say what
 * immediate follows the ModRM/SIB/displacement bytes; the rest are flags.
 * The names follow the operand notation of SDM Vol. 2 Appendix A.2:
 * "Ib" a byte, "Iw" a word, "Iz" a word or dword (never a qword), "Iv" a
 * word, dword or qword, "Jb"/"Jz" branch displacements, "Ap" a far pointer.
 */
enum imm_kind {
    IMM_NONE = 0,
    IMM_B,     /* Ib: 1 byte */
    IMM_W,     /* Iw: 2 bytes (RET imm16) */
    IMM_Z,     /* Iz: 2 bytes with 16-bit operand size, else 4 */
    IMM_V,     /* Iv: the operand size: 2, 4 or 8 (only MOV r, imm: B8-BF) */
    IMM_WB,    /* Iw, Ib: ENTER */
    IMM_MOFFS, /* Ob/Ov: an address-size offset (A0-A3) */
    IMM_FAR,   /* Ap: Iz offset then a 2-byte selector (9A, EA) */
    IMM_BB,    /* Ib, Ib: EXTRQ/INSERTQ (AMD SSE4a) */
    IMM_REL_B, /* Jb: 1-byte branch displacement */
    IMM_REL_Z, /* Jz: 2- or 4-byte branch displacement */
};

#define A_IMM_MASK 0x000fu
#define A_MODRM 0x0010u  /* a ModRM byte follows the opcode */
#define A_I64 0x0020u    /* invalid in 64-bit mode ("i64" in Appendix A) */
#define A_D64 0x0040u    /* 64-bit default operand size in 64-bit mode ("d64") */
#define A_GROUP 0x0080u  /* ModRM.reg extends the opcode: checked in decode.c */
#define A_MEM 0x0100u    /* the memory form only (mod = 3 is #UD) */
#define A_REG 0x0200u    /* the register form only (mod != 3 is #UD) */
#define A_UNSUP 0x0400u  /* valid, but this decoder does not know it */
#define A_BAD 0x0800u    /* #UD: not an instruction */
#define A_O64 0x1000u    /* valid only in 64-bit mode */

/* Mandatory-prefix columns of the SSE rows (SDM Table A-3 shows four):
 * which of "no prefix", 66, F3 and F2 give a valid instruction.  Rows that
 * are not SSE accept all four (the prefixes keep their usual meaning). */
#define P_NP 0x1u
#define P_66 0x2u
#define P_F3 0x4u
#define P_F2 0x8u
#define P_ANY 0xfu

extern const uint16_t decode_onebyte_attr[256];
extern const uint16_t decode_twobyte_attr[256];
extern const uint8_t decode_twobyte_prefixes[256];
extern const uint8_t decode_0f38_prefixes[256];
extern const uint8_t decode_0f3a_prefixes[256];

/* decode_classify.c: fill insn->cls and insn->operands; returns DECODE_OK or
 * DECODE_INVALID for forms the length decoder could not reject by table. */
enum decode_status decode_classify(struct insn *insn);

#endif
