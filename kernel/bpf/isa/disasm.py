"""Human-readable disassembly in the Linux verifier-log style.

``r0 += 5``, ``w1 s>>= 3``, ``r0 = *(u32 *)(r1 +8)``, ``if r1 > 0x10 goto +3``,
``call map_lookup_elem#5``, ``r1 = map[3] ll``. 32-bit operations name registers
``wN``. Helpers are named from `kernel.abi.Helper`. An encoding we cannot name is
shown as the assembler's raw escape (``.insn 0xff, 1, 2, 0, 0``).
"""

from __future__ import annotations

from collections.abc import Sequence

from kernel.abi import Helper
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, ld_imm64_value

_ALU_SYM = {
    op.ADD: "+=",
    op.SUB: "-=",
    op.MUL: "*=",
    op.DIV: "/=",
    op.OR: "|=",
    op.AND: "&=",
    op.LSH: "<<=",
    op.RSH: ">>=",
    op.MOD: "%=",
    op.XOR: "^=",
    op.MOV: "=",
    op.ARSH: "s>>=",
}
_JMP_SYM = {
    op.JEQ: "==",
    op.JNE: "!=",
    op.JGT: ">",
    op.JGE: ">=",
    op.JLT: "<",
    op.JLE: "<=",
    op.JSET: "&",
    op.JSGT: "s>",
    op.JSGE: "s>=",
    op.JSLT: "s<",
    op.JSLE: "s<=",
}
_ATOMIC_SYM = {op.ATOMIC_ADD: "+=", op.ATOMIC_OR: "|=", op.ATOMIC_AND: "&=", op.ATOMIC_XOR: "^="}
_SIZE_TYPE = {op.B: "8", op.H: "16", op.W: "32", op.DW: "64"}


def disassemble(insns: Sequence[Insn]) -> list[str]:
    """One ``"<index>: <text>"`` line per instruction (ld_imm64 is one line)."""
    out = []
    pc = 0
    while pc < len(insns):
        nxt = insns[pc + 1] if pc + 1 < len(insns) else None
        out.append(f"{pc}: {format_insn(insns[pc], nxt)}")
        pc += 2 if insns[pc].is_ld_imm64 and nxt is not None else 1
    return out


def format_insn(insn: Insn, next_insn: Insn | None = None) -> str:
    """Text of one instruction; ``next_insn`` is needed for ld_imm64's high half."""
    cls = insn.cls
    try:
        if cls in (op.ALU, op.ALU64):
            text = _alu(insn)
        elif cls in (op.JMP, op.JMP32):
            text = _jmp(insn)
        elif cls == op.LDX:
            text = _ldx(insn)
        elif cls in (op.ST, op.STX):
            text = _store(insn)
        else:
            text = _ld(insn, next_insn)
    except KeyError:
        text = None
    return text if text is not None else _raw(insn)


def _raw(insn: Insn) -> str:
    return f".insn {insn.opcode:#04x}, {insn.dst}, {insn.src}, {insn.off}, {insn.imm}"


def _num(v: int) -> str:
    return str(v) if -16 < v < 16 else (f"-{-v:#x}" if v < 0 else f"{v:#x}")


def _rel(v: int) -> str:
    return f"{v:+d}"


def _alu(i: Insn) -> str | None:
    w = "r" if i.cls == op.ALU64 else "w"
    d = f"{w}{i.dst}"
    src = f"{w}{i.src}" if i.uses_reg_src else _num(i.imm)
    code = i.alu_op
    if code == op.END:  # byte swaps act on the whole 64-bit register
        r = f"r{i.dst}"
        if i.cls == op.ALU64:
            return f"{r} = bswap{i.imm} {r}"
        return f"{r} = {'be' if i.uses_reg_src else 'le'}{i.imm} {r}"
    if code == op.NEG:
        return f"{d} = -{d}"
    if code == op.MOV and i.off:
        return f"{d} = (s{i.off}){w}{i.src}"
    sym = _ALU_SYM[code]
    if i.off == 1 and code in (op.DIV, op.MOD):
        sym = "s" + sym
    elif i.off:
        return None
    return f"{d} {sym} {src}"


def _jmp(i: Insn) -> str | None:
    code = i.alu_op
    if i.opcode == op.EXIT_OP:
        return "exit"
    if i.opcode == op.CALL_OP:
        if i.src == op.BPF_PSEUDO_CALL:
            return f"call {_rel(i.imm)}"
        try:
            return f"call {Helper(i.imm).name.lower()}#{i.imm}"
        except ValueError:
            return f"call unknown#{i.imm}"
    if i.opcode == op.JA_OP:
        return f"goto {_rel(i.off)}"
    if i.opcode == op.JA32_OP:
        return f"gotol {_rel(i.imm)}"
    if code not in _JMP_SYM:
        return None
    w = "r" if i.cls == op.JMP else "w"
    src = f"{w}{i.src}" if i.uses_reg_src else _num(i.imm)
    return f"if {w}{i.dst} {_JMP_SYM[code]} {src} goto {_rel(i.off)}"


def _mem(i: Insn, base: int) -> str:
    return f"(r{base} {_rel(i.off)})"


def _ldx(i: Insn) -> str | None:
    if i.mode == op.MEM:
        return f"r{i.dst} = *(u{_SIZE_TYPE[i.size]} *){_mem(i, i.src)}"
    if i.mode == op.MEMSX and i.size != op.DW:
        return f"r{i.dst} = *(s{_SIZE_TYPE[i.size]} *){_mem(i, i.src)}"
    return None


def _store(i: Insn) -> str | None:
    ptr = f"(u{_SIZE_TYPE[i.size]} *){_mem(i, i.dst)}"
    if i.mode == op.MEM:
        value = f"r{i.src}" if i.cls == op.STX else _num(i.imm)
        return f"*{ptr} = {value}"
    if i.mode != op.ATOMIC or i.cls != op.STX or i.size not in (op.W, op.DW):
        return None
    w = "r" if i.size == op.DW else "w"
    s = f"{w}{i.src}"
    if i.imm == op.XCHG:
        return f"{s} = xchg({ptr}, {s})"
    if i.imm == op.CMPXCHG:
        return f"{w}0 = cmpxchg({ptr}, {w}0, {s})"
    base = i.imm & ~op.FETCH
    if base not in _ATOMIC_SYM:
        return None
    if i.imm & op.FETCH:
        return f"{s} = atomic_fetch_{op.ATOMIC_OP_NAMES[base]}({ptr}, {s})"
    return f"lock *{ptr} {_ATOMIC_SYM[base]} {s}"


def _ld(i: Insn, nxt: Insn | None) -> str | None:
    size = _SIZE_TYPE[i.size]
    if i.mode == op.ABS:
        return f"r0 = *(u{size} *)skb[{_num(i.imm)}]"
    if i.mode == op.IND:
        return f"r0 = *(u{size} *)skb[r{i.src} {_rel(i.imm)}]"
    if not i.is_ld_imm64 or nxt is None:
        return None
    if i.src == op.BPF_PSEUDO_MAP_FD:
        return f"r{i.dst} = map[{i.imm & 0xFFFF_FFFF}] ll"
    if i.src == op.BPF_PSEUDO_MAP_VALUE:
        return f"r{i.dst} = map[{i.imm & 0xFFFF_FFFF}][0]+{nxt.imm & 0xFFFF_FFFF} ll"
    if i.src:
        return None
    return f"r{i.dst} = {ld_imm64_value(i, nxt):#x} ll"
