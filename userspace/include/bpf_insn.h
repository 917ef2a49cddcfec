/* bpf_insn.h: eBPF instruction-building macros for guest programs (Linux
 * include/linux/filter.h style), so a BPF program reads as an array:
 *
 *     static struct bpf_insn prog[] = {
 *         BPF_MOV64_IMM(BPF_REG_0, 0),
 *         BPF_EXIT_INSN(),
 *     };
 *
 * Encoding (ABI section 8): 8 bytes, u8 opcode, u8 regs (dst = low nibble,
 * src = high nibble), i16 off, i32 imm. BPF_LD_IMM64 expands to TWO slots.
 * Jump offsets count slots from the instruction after the jump (RFC 9669):
 * `if r0 == 0 goto +3` at slot 7 lands on slot 11.
 *
 * Header-only; every macro is a constant initializer (usable in static arrays). */
#ifndef BPF_INSN_H
#define BPF_INSN_H

#include <stdint.h>

struct bpf_insn {
    uint8_t code;
    uint8_t regs; /* dst = low nibble, src = high nibble */
    int16_t off;
    int32_t imm;
};
_Static_assert(sizeof(struct bpf_insn) == 8, "bpf_insn is 8 bytes");

/* Registers: R0 result, R1-R5 arguments (R1 = ctx at entry), R6-R9 callee-saved,
 * R10 read-only frame pointer (512-byte stack below it). */
enum {
    BPF_REG_0 = 0, BPF_REG_1, BPF_REG_2, BPF_REG_3, BPF_REG_4, BPF_REG_5,
    BPF_REG_6, BPF_REG_7, BPF_REG_8, BPF_REG_9, BPF_REG_10,
};

/* Instruction classes (low 3 bits). */
#define BPF_LD 0x00
#define BPF_LDX 0x01
#define BPF_ST 0x02
#define BPF_STX 0x03
#define BPF_ALU 0x04
#define BPF_JMP 0x05
#define BPF_JMP32 0x06
#define BPF_ALU64 0x07

/* Load/store size and mode. */
#define BPF_W 0x00
#define BPF_H 0x08
#define BPF_B 0x10
#define BPF_DW 0x18
#define BPF_IMM 0x00
#define BPF_MEM 0x60
#define BPF_MEMSX 0x80 /* sign-extending load */
#define BPF_ATOMIC 0xc0

/* Source operand. */
#define BPF_K 0x00
#define BPF_X 0x08

/* ALU operations. */
#define BPF_ADD 0x00
#define BPF_SUB 0x10
#define BPF_MUL 0x20
#define BPF_DIV 0x30
#define BPF_OR 0x40
#define BPF_AND 0x50
#define BPF_LSH 0x60
#define BPF_RSH 0x70
#define BPF_NEG 0x80
#define BPF_MOD 0x90
#define BPF_XOR 0xa0
#define BPF_MOV 0xb0
#define BPF_ARSH 0xc0

/* Jump operations. */
#define BPF_JA 0x00
#define BPF_JEQ 0x10
#define BPF_JGT 0x20
#define BPF_JGE 0x30
#define BPF_JSET 0x40
#define BPF_JNE 0x50
#define BPF_JSGT 0x60
#define BPF_JSGE 0x70
#define BPF_CALL 0x80
#define BPF_EXIT 0x90
#define BPF_JLT 0xa0
#define BPF_JLE 0xb0
#define BPF_JSLT 0xc0
#define BPF_JSLE 0xd0

/* Atomic operations (imm of a BPF_STX | BPF_ATOMIC instruction). */
#define BPF_FETCH 0x01

/* Any instruction, raw. */
#define BPF_RAW_INSN(CODE, DST, SRC, OFF, IMM)                                                    \
    ((struct bpf_insn){.code = (CODE),                                                          \
                       .regs = (uint8_t)(((DST) & 0xf) | ((SRC) & 0xf) << 4),                   \
                       .off = (int16_t)(OFF),                                                   \
                       .imm = (int32_t)(IMM)})

/* ALU: dst op= imm / dst op= src (64-bit and 32-bit; 32-bit ops zero-extend). */
#define BPF_ALU64_IMM(OP, DST, IMM) BPF_RAW_INSN(BPF_ALU64 | (OP) | BPF_K, DST, 0, 0, IMM)
#define BPF_ALU64_REG(OP, DST, SRC) BPF_RAW_INSN(BPF_ALU64 | (OP) | BPF_X, DST, SRC, 0, 0)
#define BPF_ALU32_IMM(OP, DST, IMM) BPF_RAW_INSN(BPF_ALU | (OP) | BPF_K, DST, 0, 0, IMM)
#define BPF_ALU32_REG(OP, DST, SRC) BPF_RAW_INSN(BPF_ALU | (OP) | BPF_X, DST, SRC, 0, 0)
#define BPF_MOV64_IMM(DST, IMM) BPF_ALU64_IMM(BPF_MOV, DST, IMM)
#define BPF_MOV64_REG(DST, SRC) BPF_ALU64_REG(BPF_MOV, DST, SRC)
#define BPF_MOV32_IMM(DST, IMM) BPF_ALU32_IMM(BPF_MOV, DST, IMM)
#define BPF_MOV32_REG(DST, SRC) BPF_ALU32_REG(BPF_MOV, DST, SRC)

/* dst = imm64 (two slots). BPF_LD_MAP_ID marks the constant as a map reference. */
#define BPF_LD_IMM64_RAW(DST, SRC, IMM)                                                          \
    BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, DST, SRC, 0, (uint32_t)((uint64_t)(IMM))),          \
        BPF_RAW_INSN(0, 0, 0, 0, (uint32_t)((uint64_t)(IMM) >> 32))
#define BPF_LD_IMM64(DST, IMM) BPF_LD_IMM64_RAW(DST, 0, IMM)
#define BPF_PSEUDO_MAP_FD 1
#define BPF_LD_MAP_ID(DST, MAP_ID) BPF_LD_IMM64_RAW(DST, BPF_PSEUDO_MAP_FD, MAP_ID)

/* Memory: dst = *(size *)(src + off); *(size *)(dst + off) = src / imm. */
#define BPF_LDX_MEM(SIZE, DST, SRC, OFF) BPF_RAW_INSN(BPF_LDX | (SIZE) | BPF_MEM, DST, SRC, OFF, 0)
#define BPF_LDX_MEMSX(SIZE, DST, SRC, OFF)                                                        \
    BPF_RAW_INSN(BPF_LDX | (SIZE) | BPF_MEMSX, DST, SRC, OFF, 0)
#define BPF_STX_MEM(SIZE, DST, SRC, OFF) BPF_RAW_INSN(BPF_STX | (SIZE) | BPF_MEM, DST, SRC, OFF, 0)
#define BPF_ST_MEM(SIZE, DST, OFF, IMM) BPF_RAW_INSN(BPF_ST | (SIZE) | BPF_MEM, DST, 0, OFF, IMM)
/* *(size *)(dst + off) += src, atomically (SIZE BPF_W or BPF_DW). */
#define BPF_ATOMIC_ADD(SIZE, DST, SRC, OFF)                                                       \
    BPF_RAW_INSN(BPF_STX | (SIZE) | BPF_ATOMIC, DST, SRC, OFF, BPF_ADD)

/* Jumps: if (dst op imm/src) goto pc + 1 + off. */
#define BPF_JMP_IMM(OP, DST, IMM, OFF) BPF_RAW_INSN(BPF_JMP | (OP) | BPF_K, DST, 0, OFF, IMM)
#define BPF_JMP_REG(OP, DST, SRC, OFF) BPF_RAW_INSN(BPF_JMP | (OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_JMP32_IMM(OP, DST, IMM, OFF) BPF_RAW_INSN(BPF_JMP32 | (OP) | BPF_K, DST, 0, OFF, IMM)
#define BPF_JMP32_REG(OP, DST, SRC, OFF) BPF_RAW_INSN(BPF_JMP32 | (OP) | BPF_X, DST, SRC, OFF, 0)
#define BPF_JMP_A(OFF) BPF_RAW_INSN(BPF_JMP | BPF_JA, 0, 0, OFF, 0)

/* Helper call by id (BPF_FUNC_* from axiom_abi.h); R0 = result, R1-R5 clobbered. */
#define BPF_CALL_HELPER(ID) BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0, ID)
#define BPF_EXIT_INSN() BPF_RAW_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A 4-byte little-endian chunk of a string, for BPF_ST_MEM(BPF_W, ...) when
 * building text on the BPF stack: BPF_STR4('B','P','F',' '). */
#define BPF_STR4(a, b, c, d)                                                                      \
    ((int32_t)((uint32_t)(uint8_t)(a) | (uint32_t)(uint8_t)(b) << 8 |                          \
               (uint32_t)(uint8_t)(c) << 16 | (uint32_t)(uint8_t)(d) << 24))

#define BPF_INSN_COUNT(prog) ((int)(sizeof(prog) / sizeof((prog)[0])))

#endif /* BPF_INSN_H */
