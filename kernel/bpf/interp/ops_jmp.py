"""JMP / JMP32 instruction closures (RFC 9669 section 4.3), except call and exit.

JMP compares all 64 bits (immediates sign-extended), JMP32 the low 32 bits. Signed
comparisons flip the sign bit and compare unsigned, which avoids converting both
operands to Python negative ints on every branch.
"""

from __future__ import annotations

from kernel.bpf.interp.codegen import M32, M64, SIGN32, SIGN64, Factory, Op, make_factory
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

# op -> (condition over a, b, signed?); the compiler uses the same table
JUMP_CONDITIONS: dict[int, tuple[str, bool]] = {
    op.JEQ: ("{a} == {b}", False),
    op.JNE: ("{a} != {b}", False),
    op.JGT: ("{a} > {b}", False),
    op.JGE: ("{a} >= {b}", False),
    op.JLT: ("{a} < {b}", False),
    op.JLE: ("{a} <= {b}", False),
    op.JSET: ("{a} & {b}", False),
    op.JSGT: ("{a} > {b}", True),
    op.JSGE: ("{a} >= {b}", True),
    op.JSLT: ("{a} < {b}", True),
    op.JSLE: ("{a} <= {b}", True),
}


def _operands(is64: bool, reg: bool, signed: bool) -> tuple[str, str]:
    flip = (" ^ SIGN64" if is64 else " ^ SIGN32") if signed else ""
    if is64:
        a = f"(r[d]{flip})"
        b = f"(r[s]{flip})" if reg else "k"
    else:
        a = f"((r[d] & M32){flip})"
        b = f"((r[s] & M32){flip})" if reg else "k"
    return a, b


def _build() -> dict[tuple[int, bool, bool], Factory]:
    out = {}
    for code, (cond, signed) in JUMP_CONDITIONS.items():
        for is64 in (True, False):
            for reg in (True, False):
                a, b = _operands(is64, reg, signed)
                expr = cond.format(a=a, b=b)
                out[(code, is64, reg)] = make_factory(f"if {expr}:\n    return tgt\nreturn nxt")
    return out


_FACTORIES = _build()
_JA = make_factory("return tgt")


def compile_ja(pc: int, target: int) -> Op:
    return _JA(0, 0, 0, pc, pc + 1, target)


def compile_cond(insn: Insn, pc: int, target: int, invalid: Op) -> Op:
    """Closure for a conditional jump whose (already validated) target is ``target``."""
    code = insn.opcode & op.OP_MASK
    cond = JUMP_CONDITIONS.get(code)
    if cond is None:
        return invalid
    is64 = insn.opcode & op.CLASS_MASK == op.JMP
    reg = bool(insn.opcode & op.SRC_MASK)
    k = 0
    if not reg:
        k = insn.imm & (M64 if is64 else M32)
        if cond[1]:
            k ^= SIGN64 if is64 else SIGN32
    return _FACTORIES[(code, is64, reg)](insn.dst, insn.src, k, pc, pc + 1, target)
