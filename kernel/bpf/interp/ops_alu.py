"""ALU / ALU64 instruction closures (RFC 9669 section 4).

Semantics worth remembering: ALU (32-bit) ops use the low 32 bits of both operands
and zero-extend the result; ALU64 immediates are sign-extended to 64 bits; shift
amounts are masked to the width; division by zero gives 0, modulo by zero leaves
dst unchanged (ALU: truncated to 32 bits); SDIV/SMOD (off=1) truncate toward zero,
so INT_MIN / -1 == INT_MIN and INT_MIN % -1 == 0.
"""

from __future__ import annotations

from kernel.bpf.interp.codegen import M32, M64, Factory, Op, make_factory
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

_RET = "\nreturn nxt"

# name -> (ALU64 body, ALU32 body); "{b}" is the source operand expression.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "add": ("r[d] = (r[d] + {b}) & M64", "r[d] = (r[d] + {b}) & M32"),
    "sub": ("r[d] = (r[d] - {b}) & M64", "r[d] = (r[d] - {b}) & M32"),
    "mul": ("r[d] = (r[d] * {b}) & M64", "r[d] = (r[d] * {b}) & M32"),
    "div": (
        "b = {b}\nr[d] = r[d] // b if b else 0",
        "b = {b} & M32\nr[d] = (r[d] & M32) // b if b else 0",
    ),
    "sdiv": (
        "b = s64({b})\nr[d] = sdiv(s64(r[d]), b) & M64 if b else 0",
        "b = s32({b})\nr[d] = sdiv(s32(r[d]), b) & M32 if b else 0",
    ),
    "mod": (
        "b = {b}\nif b:\n    r[d] = r[d] % b",
        "b = {b} & M32\nr[d] = (r[d] & M32) % b if b else r[d] & M32",
    ),
    "smod": (
        "b = s64({b})\nif b:\n    r[d] = smod(s64(r[d]), b) & M64",
        "b = s32({b})\nr[d] = smod(s32(r[d]), b) & M32 if b else r[d] & M32",
    ),
    "or": ("r[d] = r[d] | {b}", "r[d] = (r[d] | {b}) & M32"),
    "and": ("r[d] = r[d] & {b}", "r[d] = r[d] & {b} & M32"),
    "xor": ("r[d] = r[d] ^ {b}", "r[d] = (r[d] ^ {b}) & M32"),
    "lsh": ("r[d] = (r[d] << ({b} & 63)) & M64", "r[d] = (r[d] << ({b} & 31)) & M32"),
    "rsh": ("r[d] = r[d] >> ({b} & 63)", "r[d] = (r[d] & M32) >> ({b} & 31)"),
    "arsh": (
        "r[d] = (s64(r[d]) >> ({b} & 63)) & M64",
        "r[d] = (s32(r[d]) >> ({b} & 31)) & M32",
    ),
    "mov": ("r[d] = {b}", "r[d] = {b} & M32"),
}
# Binary ALU ops; NEG and END are compiled separately.
_OPS = {k: v for k, v in op.ALU_OP_NAMES.items() if k not in (op.NEG, op.END)}
_SIGNED = {op.DIV: "sdiv", op.MOD: "smod"}


def _build() -> dict[tuple[str, bool, bool], Factory]:
    out = {}
    for name, (t64, t32) in _TEMPLATES.items():
        for is64, tmpl in ((True, t64), (False, t32)):
            for reg in (True, False):
                body = tmpl.format(b="r[s]" if reg else "k") + _RET
                out[(name, is64, reg)] = make_factory(body)
    return out


_FACTORIES = _build()
_NEG = {
    True: make_factory("r[d] = -r[d] & M64" + _RET),
    False: make_factory("r[d] = -r[d] & M32" + _RET),
}
# MOVSX: sign-extend the low `bits` of src; ALU32 then truncates to 32 bits.
_MOVSX = {
    (bits, is64): make_factory(
        f"v = r[s] & {(1 << bits) - 1}\n"
        f"r[d] = (v - ((v & {1 << (bits - 1)}) << 1)) & {'M64' if is64 else 'M32'}" + _RET
    )
    for bits in (8, 16, 32)
    for is64 in (True, False)
}
_SWAP = {
    16: "v = r[d]\nr[d] = ((v & 0xFF) << 8) | ((v >> 8) & 0xFF)",
    32: "r[d] = int.from_bytes((r[d] & M32).to_bytes(4, 'little'), 'big')",
    64: "r[d] = int.from_bytes(r[d].to_bytes(8, 'little'), 'big')",
}
_TRUNC = {16: "r[d] = r[d] & 0xFFFF", 32: "r[d] = r[d] & M32", 64: "pass"}
_BE = {bits: make_factory(body + _RET) for bits, body in _SWAP.items()}
_LE = {bits: make_factory(body + _RET) for bits, body in _TRUNC.items()}


def compile_alu(insn: Insn, pc: int, invalid: Op) -> Op:
    """Closure for an ALU/ALU64 slot, or ``invalid`` for a bad encoding."""
    is64 = insn.opcode & op.CLASS_MASK == op.ALU64
    code = insn.opcode & op.OP_MASK
    reg = bool(insn.opcode & op.SRC_MASK)
    d, s, off = insn.dst, insn.src, insn.off
    if code == op.END:
        if insn.imm not in (16, 32, 64) or off or (is64 and reg):
            return invalid
        table = _BE if (reg or is64) else _LE  # ALU64|END is bswap, ALU|END|TO_BE is be
        return table[insn.imm](d, s, 0, pc, pc + 1, 0)
    if code == op.NEG:
        return invalid if (reg or off) else _NEG[is64](d, s, 0, pc, pc + 1, 0)
    if code == op.MOV and off:
        if not reg or off not in ((8, 16, 32) if is64 else (8, 16)):
            return invalid
        return _MOVSX[(off, is64)](d, s, 0, pc, pc + 1, 0)
    name = _OPS.get(code)
    if name is None:
        return invalid
    if off:
        if off != 1 or code not in _SIGNED:
            return invalid
        name = _SIGNED[code]
    k = 0 if reg else (insn.imm & M64 if is64 else insn.imm & M32)
    return _FACTORIES[(name, is64, reg)](d, s, k, pc, pc + 1, 0)
