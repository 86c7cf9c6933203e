/**
 * @file decode.h
 * @brief The x86 instruction decoder shared by trap-and-emulate, shadow paging
 *        and MMIO emulation.
 *
 * insn_decode() turns the bytes at a guest's RIP into a struct insn: its length,
 * its prefixes, its ModRM/SIB memory reference, its immediate and, for the
 * instructions a hypervisor emulates, a class (INSN_MOV, INSN_OUT,
 * INSN_MOV_TO_CR, ...) with explicit operands in Intel order (destination first).
 *
 * Every instruction of the one-byte, 0F, 0F38 and 0F3A opcode maps is decoded
 * for its length; instructions no lab emulates get the class INSN_OTHER.  What
 * the decoder does not know (VEX, EVEX, XOP, 3DNow! and a few recent
 * extensions) is reported as DECODE_UNSUPPORTED, never guessed.  The decoder is
 * tested against Capstone; see docs/decoder.md.
 *
 * References: Intel SDM Vol. 2, §2.1 (instruction format), §2.2 (REX),
 * Tables 2-1/2-2 (ModRM), Appendix A (opcode maps); AMD APM Vol. 3, §1.
 */
#ifndef HYPATIA_DECODE_H
#define HYPATIA_DECODE_H

#include "types.h"

/** The longest legal x86 instruction, in bytes (SDM Vol. 2 §2.1). */
#define INSN_MAX_LENGTH 15

/** Processor mode the bytes are decoded in: the default operand and address size. */
enum decode_mode {
    DECODE_MODE_16 = 16, /**< real mode or a 16-bit code segment (CS.D = 0) */
    DECODE_MODE_32 = 32, /**< 32-bit protected mode or compatibility mode (CS.D = 1) */
    DECODE_MODE_64 = 64, /**< 64-bit mode (EFER.LMA = 1 and CS.L = 1) */
};

/** What insn_decode() concluded. */
enum decode_status {
    DECODE_OK = 0,          /**< decoded; every field of struct insn is valid */
    DECODE_TRUNCATED = 1,   /**< the instruction continues past the bytes given */
    DECODE_UNSUPPORTED = 2, /**< a valid encoding this decoder does not know (VEX, ...) */
    DECODE_INVALID = 3,     /**< the processor would raise \#UD (or the length exceeds 15) */
};

/** Segment registers, numbered as the Sreg field of MOV Sreg encodes them (SDM Table 3-6). */
enum segment_reg {
    SEG_ES = 0, /**< ES: the destination of string instructions */
    SEG_CS = 1, /**< CS */
    SEG_SS = 2, /**< SS: default for RSP/RBP-based addresses */
    SEG_DS = 3, /**< DS: default for everything else */
    SEG_FS = 4, /**< FS: one of the two segments with a base in 64-bit mode */
    SEG_GS = 5, /**< GS: the other */
};

/** @name General-purpose register numbers, as ModRM/REX encode them (SDM Table 2-2, §2.2.1)
 *  @{ */
#define GPR_RAX 0 /**< RAX / EAX / AX / AL */
#define GPR_RCX 1 /**< RCX: count for REP and shifts */
#define GPR_RDX 2 /**< RDX: the I/O port of IN/OUT DX */
#define GPR_RBX 3 /**< RBX */
#define GPR_RSP 4 /**< RSP: in a SIB byte, "no index" */
#define GPR_RBP 5 /**< RBP: with mod = 00, "no base, disp32" or RIP-relative */
#define GPR_RSI 6 /**< RSI: string source */
#define GPR_RDI 7 /**< RDI: string destination */
/** @} */

/** memory base: no base register (absolute or index-only address) */
#define MEM_BASE_NONE (-1)
/** memory base: RIP (or EIP) of the next instruction */
#define MEM_BASE_RIP 16
/** memory index: no index register */
#define MEM_INDEX_NONE (-1)

/** A memory reference: segment:[base + index * scale + disp]. */
struct insn_mem {
    int8_t base;             /**< GPR 0-15, MEM_BASE_RIP, or MEM_BASE_NONE */
    int8_t index;            /**< GPR 0-15 or MEM_INDEX_NONE */
    uint8_t scale;           /**< 1, 2, 4 or 8 */
    uint8_t segment;         /**< enum segment_reg: the override, else the default */
    bool segment_overridden; /**< a segment-override prefix chose @ref segment */
    uint8_t address_size;    /**< 2, 4 or 8: width of the address computation */
    int64_t disp;            /**< displacement, sign-extended (moffs: zero-extended) */
};

/** Kinds of operand. */
enum operand_kind {
    OPERAND_NONE = 0,      /**< the slot is empty */
    OPERAND_GPR = 1,       /**< a general-purpose register, see insn_operand::reg */
    OPERAND_SEGMENT = 2,   /**< a segment register (enum segment_reg) */
    OPERAND_CONTROL = 3,   /**< a control register CRn */
    OPERAND_DEBUG = 4,     /**< a debug register DRn */
    OPERAND_MEMORY = 5,    /**< memory, see insn_operand::mem */
    OPERAND_IMMEDIATE = 6, /**< a constant, see insn_operand::imm */
};

/** @name Operand access bits (insn_operand::access)
 *  @{ */
#define OPERAND_READ 1u  /**< the instruction reads the operand */
#define OPERAND_WRITE 2u /**< the instruction writes the operand */
/** @} */

/** One explicit or implicit operand of a classified instruction. */
struct insn_operand {
    enum operand_kind kind; /**< what the operand is */
    uint8_t size;           /**< bytes read or written: 1, 2, 4, 8, 6 or 10 (descriptor tables) */
    uint8_t reg;            /**< register number (GPR 0-15, Sreg, CRn, DRn) */
    bool high_byte;         /**< AH/CH/DH/BH: bits 15:8 of GPR @ref reg (0-3) */
    uint8_t access;         /**< OPERAND_READ | OPERAND_WRITE */
    struct insn_mem mem;    /**< for OPERAND_MEMORY */
    int64_t imm;            /**< for OPERAND_IMMEDIATE: sign-extended to @ref size */
};

/** What an instruction is, for the code that emulates it. */
enum insn_class {
    INSN_OTHER = 0, /**< decoded for length only: nothing in the kit emulates it */
    /* Data movement (MMIO emulation, shadow paging). */
    INSN_MOV,        /**< MOV r/m,r; r,r/m; r/m,imm; r,imm; A0-A3 moffs */
    INSN_MOVZX,      /**< MOVZX r, r/m8 or r/m16 */
    INSN_MOVSX,      /**< MOVSX r, r/m8 or r/m16 */
    INSN_MOVSXD,     /**< MOVSXD r64, r/m32 (64-bit mode) */
    INSN_MOV_FROM_SEG, /**< MOV r/m, Sreg */
    INSN_MOV_TO_SEG, /**< MOV Sreg, r/m */
    INSN_MOVNTI,     /**< MOVNTI m, r (non-temporal store) */
    INSN_XCHG,       /**< XCHG (always locked with a memory operand) */
    INSN_CMPXCHG,    /**< CMPXCHG r/m, r */
    INSN_CMPXCHG8B,  /**< CMPXCHG8B m64 */
    INSN_CMPXCHG16B, /**< CMPXCHG16B m128 (REX.W) */
    INSN_XADD,       /**< XADD r/m, r */
    INSN_ADD,        /**< ADD */
    INSN_OR,         /**< OR */
    INSN_ADC,        /**< ADC */
    INSN_SBB,        /**< SBB */
    INSN_AND,        /**< AND */
    INSN_SUB,        /**< SUB */
    INSN_XOR,        /**< XOR */
    INSN_CMP,        /**< CMP (reads only) */
    INSN_TEST,       /**< TEST (reads only) */
    INSN_NOT,        /**< NOT r/m */
    INSN_NEG,        /**< NEG r/m */
    INSN_INC,        /**< INC r/m */
    INSN_DEC,        /**< DEC r/m */
    INSN_BT,         /**< BT r/m, r or imm8 (reads only) */
    INSN_BTS,        /**< BTS: set the bit */
    INSN_BTR,        /**< BTR: clear the bit (e.g. the accessed bit of a PTE) */
    INSN_BTC,        /**< BTC: complement the bit */
    INSN_MOVS,       /**< MOVS: [rDI] <- [rSI] */
    INSN_STOS,       /**< STOS: [rDI] <- rAX */
    INSN_LODS,       /**< LODS: rAX <- [rSI] */
    INSN_CMPS,       /**< CMPS: compare [rSI] with [rDI] */
    INSN_SCAS,       /**< SCAS: compare rAX with [rDI] */
    /* Port I/O. */
    INSN_IN,   /**< IN AL/AX/EAX, imm8 or DX */
    INSN_OUT,  /**< OUT imm8 or DX, AL/AX/EAX */
    INSN_INS,  /**< INS [rDI], DX */
    INSN_OUTS, /**< OUTS DX, [rSI] */
    /* Privileged and sensitive instructions (trap-and-emulate). */
    INSN_CLI,          /**< CLI */
    INSN_STI,          /**< STI */
    INSN_HLT,          /**< HLT */
    INSN_PUSHF,        /**< PUSHF/PUSHFQ: reveals the real IF and IOPL */
    INSN_POPF,         /**< POPF/POPFQ: silently ignores IF at CPL 3 */
    INSN_IRET,         /**< IRET/IRETD/IRETQ */
    INSN_INT,          /**< INT imm8 */
    INSN_INT3,         /**< INT3 (CC) */
    INSN_INTO,         /**< INTO (32-bit mode only) */
    INSN_INT1,         /**< INT1 / ICEBP (F1) */
    INSN_MOV_FROM_CR,  /**< MOV r64, CRn (0F 20) */
    INSN_MOV_TO_CR,    /**< MOV CRn, r64 (0F 22) */
    INSN_MOV_FROM_DR,  /**< MOV r64, DRn (0F 21) */
    INSN_MOV_TO_DR,    /**< MOV DRn, r64 (0F 23) */
    INSN_CLTS,         /**< CLTS */
    INSN_LMSW,         /**< LMSW r/m16 */
    INSN_SMSW,         /**< SMSW r/m */
    INSN_LGDT,         /**< LGDT m */
    INSN_LIDT,         /**< LIDT m */
    INSN_SGDT,         /**< SGDT m (not privileged: the classic Popek-Goldberg leak) */
    INSN_SIDT,         /**< SIDT m (ditto) */
    INSN_LLDT,         /**< LLDT r/m16 */
    INSN_LTR,          /**< LTR r/m16 */
    INSN_SLDT,         /**< SLDT r/m */
    INSN_STR,          /**< STR r/m */
    INSN_VERR,         /**< VERR r/m16 */
    INSN_VERW,         /**< VERW r/m16 */
    INSN_INVLPG,       /**< INVLPG m */
    INSN_INVPCID,      /**< INVPCID r, m128 */
    INSN_WBINVD,       /**< WBINVD */
    INSN_INVD,         /**< INVD */
    INSN_RDMSR,        /**< RDMSR */
    INSN_WRMSR,        /**< WRMSR */
    INSN_RDTSC,        /**< RDTSC */
    INSN_RDTSCP,       /**< RDTSCP (0F 01 F9) */
    INSN_RDPMC,        /**< RDPMC */
    INSN_CPUID,        /**< CPUID */
    INSN_XGETBV,       /**< XGETBV (0F 01 D0) */
    INSN_XSETBV,       /**< XSETBV (0F 01 D1) */
    INSN_MONITOR,      /**< MONITOR (0F 01 C8) */
    INSN_MWAIT,        /**< MWAIT (0F 01 C9) */
    INSN_SWAPGS,       /**< SWAPGS (0F 01 F8, 64-bit mode only) */
    INSN_SYSCALL,      /**< SYSCALL */
    INSN_SYSRET,       /**< SYSRET */
    INSN_SYSENTER,     /**< SYSENTER */
    INSN_SYSEXIT,      /**< SYSEXIT */
    INSN_UD2,          /**< UD2: defined to raise \#UD, decoded so its length is known */
    /* AMD SVM (APM Vol. 3 §4) and Intel VMX (SDM Vol. 3C §31) instructions. */
    INSN_VMRUN,    /**< VMRUN (0F 01 D8) */
    INSN_VMMCALL,  /**< VMMCALL (0F 01 D9): the AMD hypercall */
    INSN_VMLOAD,   /**< VMLOAD (0F 01 DA) */
    INSN_VMSAVE,   /**< VMSAVE (0F 01 DB) */
    INSN_STGI,     /**< STGI (0F 01 DC) */
    INSN_CLGI,     /**< CLGI (0F 01 DD) */
    INSN_SKINIT,   /**< SKINIT (0F 01 DE) */
    INSN_INVLPGA,  /**< INVLPGA (0F 01 DF) */
    INSN_VMCALL,   /**< VMCALL (0F 01 C1): the Intel hypercall */
    INSN_VMLAUNCH, /**< VMLAUNCH (0F 01 C2) */
    INSN_VMRESUME, /**< VMRESUME (0F 01 C3) */
    INSN_VMXOFF,   /**< VMXOFF (0F 01 C4) */
    INSN_VMXON,    /**< VMXON m64 (F3 0F C7 /6) */
    INSN_VMCLEAR,  /**< VMCLEAR m64 (66 0F C7 /6) */
    INSN_VMPTRLD,  /**< VMPTRLD m64 (0F C7 /6) */
    INSN_VMPTRST,  /**< VMPTRST m64 (0F C7 /7) */
    INSN_VMREAD,   /**< VMREAD r/m, r (0F 78) */
    INSN_VMWRITE,  /**< VMWRITE r, r/m (0F 79) */
    INSN_INVEPT,   /**< INVEPT r, m128 (66 0F 38 80) */
    INSN_INVVPID,  /**< INVVPID r, m128 (66 0F 38 81) */
    INSN_CLASS_COUNT /**< number of classes (not a class) */
};

/** Maximum number of operands insn_decode() fills in. */
#define INSN_MAX_OPERANDS 3

/** A decoded instruction. */
struct insn {
    uint8_t length;            /**< total bytes, prefixes included */
    uint8_t mode;              /**< enum decode_mode it was decoded in */
    /* Prefixes (SDM §2.1.1, §2.2.1). */
    uint8_t prefix_count;      /**< legacy and REX prefix bytes before the opcode */
    bool lock;                 /**< F0 */
    bool rep;                  /**< F3 (REP/REPE, or a mandatory SSE prefix) */
    bool repne;                /**< F2 (REPNE, or a mandatory SSE prefix) */
    bool opsize_override;      /**< 66 */
    bool addrsize_override;    /**< 67 */
    int8_t segment_override;   /**< enum segment_reg of the last 26/2E/36/3E/64/65, or -1 */
    uint8_t rex;               /**< the REX byte (0x40-0x4F) or 0 when absent */
    uint8_t mandatory_prefix;  /**< 66, F3 or F2 when it selected an SSE opcode, else 0 */
    /* Opcode. */
    uint8_t opcode_map;        /**< 1 = one-byte, 2 = 0F, 3 = 0F 38, 4 = 0F 3A */
    uint8_t opcode;            /**< the last opcode byte */
    /* ModRM and SIB (SDM §2.1.5). */
    bool has_modrm;            /**< a ModRM byte follows the opcode */
    uint8_t modrm;             /**< the ModRM byte */
    uint8_t modrm_mod;         /**< ModRM bits 7:6 (3 = register operand) */
    uint8_t modrm_reg;         /**< ModRM bits 5:3, without REX.R (a register or a /digit) */
    uint8_t modrm_rm;          /**< ModRM bits 2:0, without REX.B */
    bool has_sib;              /**< a SIB byte follows ModRM */
    uint8_t sib;               /**< the SIB byte */
    uint8_t disp_size;         /**< bytes of displacement (0, 1, 2, 4, or 8 for moffs) */
    /* Immediates. */
    uint8_t imm_size;          /**< bytes of the first immediate (0 if none) */
    uint8_t imm2_size;         /**< bytes of a second immediate (ENTER, far pointer, EXTRQ) */
    int64_t imm;               /**< first immediate, sign-extended (branch: the displacement) */
    int64_t imm2;              /**< second immediate (far pointer: the selector) */
    bool relative;             /**< @ref imm is a branch displacement from the next RIP */
    /* Sizes. */
    uint8_t operand_size;      /**< effective operand size in bytes (1, 2, 4, 8) */
    uint8_t address_size;      /**< effective address size in bytes (2, 4, 8) */
    /* The memory reference named by ModRM or a moffs, if any. */
    bool has_mem;              /**< @ref mem describes a memory operand */
    struct insn_mem mem;       /**< that memory operand */
    /* What it is. */
    enum insn_class cls;       /**< the class; INSN_OTHER when no emulator needs it */
    uint8_t operand_count;     /**< filled slots of @ref operands (classified instructions only) */
    struct insn_operand operands[INSN_MAX_OPERANDS]; /**< operands, destination first */
};

/**
 * Decode one instruction.
 *
 * @param bytes  the instruction bytes (at most INSN_MAX_LENGTH are read)
 * @param avail  how many bytes may be read from @p bytes
 * @param mode   DECODE_MODE_64, DECODE_MODE_32 or DECODE_MODE_16
 * @param out    filled in; on any status other than DECODE_OK only
 *               insn::length (bytes examined) is meaningful
 * @return DECODE_OK, or why the bytes could not be decoded
 */
enum decode_status insn_decode(const uint8_t *bytes, size_t avail, enum decode_mode mode,
                               struct insn *out);

/**
 * Compute the linear offset of a memory operand (without the segment base).
 *
 * @param mem       a memory operand of a decoded instruction
 * @param gpr       the 16 general-purpose registers, RAX..R15
 * @param rip_next  address of the next instruction (RIP + insn::length), for
 *                  RIP-relative operands
 * @return base + index * scale + disp, wrapped to the address size; the caller
 *         adds the segment base (FS/GS in 64-bit mode, any in 32-bit mode)
 */
uint64_t insn_effective_address(const struct insn_mem *mem, const uint64_t gpr[16],
                                uint64_t rip_next);

/**
 * The operand of @p insn that lives in memory (for MOVS: the destination), or
 * NULL when it has none or was not classified.
 *
 * @param insn  a successfully decoded instruction
 * @return a pointer into insn->operands, or NULL
 */
const struct insn_operand *insn_memory_operand(const struct insn *insn);

/**
 * Does @p insn write memory?  Shadow paging uses it to tell a guest page-table
 * write from a read.
 *
 * @param insn  a successfully decoded instruction
 * @return true when one of its classified operands is a memory operand it writes
 */
bool insn_writes_memory(const struct insn *insn);

/**
 * Lower-case name of a class ("mov_to_cr", "out", ...), for logs and tests.
 *
 * @param cls  any value
 * @return a static string; "?" for a value out of range
 */
const char *insn_class_name(enum insn_class cls);

/**
 * Name of a decode status ("ok", "truncated", "unsupported", "invalid").
 *
 * @param status  any value
 * @return a static string
 */
const char *decode_status_name(enum decode_status status);

#endif
