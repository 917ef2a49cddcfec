"""ALU instructions: scalar value tracking and pointer arithmetic rules.

Scalars go through `scalar.alu` (ALU32 on the low-32-bit view, zero-extended).
Pointers follow Linux's rules: only ``ptr += scalar``, ``ptr -= scalar`` and
``scalar + ptr`` in 64-bit ALU keep a pointer (the fixed part of the offset moves
``off``, a variable part goes into the bounded ``s`` and, for packet pointers,
starts a new id with no proven range); ``ptr - ptr`` of the same region gives an
unknown scalar; everything else on a pointer is rejected, because it would let
the program forge an address or leak one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn
from kernel.bpf.verifier import scalar
from kernel.bpf.verifier.mem import MAX_VAR_OFF
from kernel.bpf.verifier.state import (
    CONST_MAP,
    PTR_TO_CTX,
    PTR_TO_MAP_VALUE,
    PTR_TO_MAP_VALUE_OR_NULL,
    PTR_TO_MEM,
    PTR_TO_PACKET,
    PTR_TO_PACKET_END,
    PTR_TO_STACK,
    SCALAR,
    TYPE_NAMES,
    Reg,
    VerifierState,
    scalar_reg,
)

if TYPE_CHECKING:
    from kernel.bpf.verifier.core import Verifier

# Binary ALU ops tracked on scalars; MOV, NEG and END are handled separately.
_OPS = {k: v for k, v in op.ALU_OP_NAMES.items() if k not in (op.MOV, op.NEG, op.END)}
_BITWISE = {op.AND: "&=", op.OR: "|=", op.XOR: "^="}
_PKT_LIKE = (PTR_TO_PACKET, PTR_TO_PACKET_END)
_FAST = {op.ADD: "add", op.SUB: "sub", op.AND: "and", op.OR: "or", op.XOR: "xor", op.LSH: "lsh"}
_FAST.update({op.RSH: "rsh", op.MUL: "mul"})


def do_alu(v: Verifier, st: VerifierState, insn: Insn) -> None:
    regs = st.cur.regs
    code = insn.opcode
    is64 = code & op.CLASS_MASK == op.ALU64
    bits = 64 if is64 else 32
    aop = code & op.OP_MASK
    x = code & op.SRC_MASK
    dst = insn.dst

    if aop == op.MOV:
        if not x:
            regs[dst] = scalar_reg(scalar.const(insn.imm if is64 else insn.imm & scalar.U32))
            return
        src = v.read_reg(st, insn.src)
        if insn.off:  # MOVSX
            if src.is_ptr:
                v.fail(f"R{insn.src} sign-extension of pointer prohibited")
            r = scalar.sign_extend(src.s, insn.off, bits)
            regs[dst] = scalar_reg(r if is64 else scalar.zext(r, 32), prec=src.prec)
            return
        if is64:
            if src.type == SCALAR and src.s.mask != 0:
                if src.id == 0:
                    src = src.replace(id=v.new_id())
                    regs[insn.src] = src
            regs[dst] = src
            return
        if src.is_ptr:
            v.fail(f"R{insn.src} partial copy of pointer")
        if src.s.umax <= scalar.U32:
            if src.s.mask != 0 and src.id == 0:
                src = src.replace(id=v.new_id())
                regs[insn.src] = src
            regs[dst] = src
        else:
            regs[dst] = scalar_reg(scalar.zext(scalar.view(src.s, 32), 32), prec=src.prec)
        return

    d = v.read_reg(st, dst)
    if aop in (op.NEG, op.END):
        if d.is_ptr:
            v.fail(f"R{dst} pointer arithmetic prohibited")
        regs[dst] = scalar_reg(_unary(aop, code, insn.imm, d.s, bits), prec=d.prec)
        return

    if x:
        s = v.read_reg(st, insn.src)
        if s.type == SCALAR and d.type == SCALAR and not (d.s.mask | s.s.mask) and aop in _FAST:
            m = scalar.U64 if is64 else scalar.U32
            c = scalar._concrete(_FAST[aop], d.s.value & m, s.s.value & m, bits)
            regs[dst] = Reg(SCALAR, scalar.const(c), prec=d.prec and s.prec)
            return
    else:
        if d.type == SCALAR and d.s.mask == 0 and aop in _FAST:
            # known value, immediate operand: the common loop-counter case
            m = scalar.U64 if is64 else scalar.U32
            c = scalar._concrete(_FAST[aop], d.s.value & m, insn.imm & m, bits)
            regs[dst] = Reg(SCALAR, scalar.const(c), prec=d.prec)
            return
        s = scalar_reg(scalar.const(insn.imm if is64 else insn.imm & scalar.U32))
    if d.is_ptr or s.is_ptr:
        regs[dst] = _ptr_alu(v, st, insn, aop, is64, d, s)
        return
    name = _OPS[aop]
    if insn.off == 1:
        name = "sdiv" if aop == op.DIV else "smod"
    # the result is flagged precise only if every input is (see state.Reg.prec)
    prec = d.prec and (not x or s.prec)
    if is64:
        regs[dst] = scalar_reg(scalar.alu(name, d.s, s.s, 64), prec=prec)
    else:
        r = scalar.alu(name, scalar.view(d.s, 32), scalar.view(s.s, 32), 32)
        regs[dst] = scalar_reg(scalar.zext(r, 32), prec=prec)


def _unary(aop: int, code: int, imm: int, a: scalar.Scalar, bits: int) -> scalar.Scalar:
    if aop == op.NEG:
        if bits == 64:
            return scalar.neg(a, 64)
        return scalar.zext(scalar.neg(scalar.view(a, 32), 32), 32)
    # END: ALU class = to_le/to_be (host is little-endian), ALU64 class = bswap
    swap = code & op.CLASS_MASK == op.ALU64 or code & op.SRC_MASK == op.TO_BE
    size = imm // 8
    if not swap:
        return scalar.truncate(a, size)
    if a.mask == 0:
        v = a.value & scalar.umask(imm)
        return scalar.const(int.from_bytes(v.to_bytes(size, "little"), "big"))
    return scalar.bswap(a, size)


def _ptr_alu(
    v: Verifier, st: VerifierState, insn: Insn, aop: int, is64: bool, d: Reg, s: Reg
) -> Reg:
    dst = insn.dst
    opname = _OPS.get(aop, "?")
    if not is64:
        v.fail(f"R{dst} 32-bit pointer arithmetic prohibited")
    if d.is_ptr and s.is_ptr:
        if aop == op.SUB and _same_region(d, s):
            return Reg(SCALAR)
        v.fail(f"R{dst} pointer {opname} pointer prohibited")
    if s.is_ptr:  # scalar <op> pointer
        if aop != op.ADD:
            v.fail(f"R{dst} tried to {opname} pointer from scalar")
        ptr, sc = s, d
        v.mark_precise(st, dst)
    else:
        ptr, sc = d, s
        if insn.opcode & op.SRC_MASK:
            v.mark_precise(st, insn.src)
    if aop in _BITWISE:
        v.fail(f"R{dst} bitwise operator {_BITWISE[aop]} on pointer prohibited")
    if aop not in (op.ADD, op.SUB):
        v.fail(f"R{dst} pointer arithmetic with {opname} operator prohibited")
    t = ptr.type
    if t == PTR_TO_MAP_VALUE_OR_NULL:
        v.fail(f"R{dst} pointer arithmetic on map_value_or_null prohibited, null-check it first")
    if t in (PTR_TO_PACKET_END, CONST_MAP):
        v.fail(f"R{dst} pointer arithmetic on {TYPE_NAMES[t]} prohibited")
    name = TYPE_NAMES[t]
    if sc.s.mask == 0:
        c = scalar.to_signed(sc.s.value)
        off = ptr.off + c if aop == op.ADD else ptr.off - c
        if not -MAX_VAR_OFF < off < MAX_VAR_OFF:
            v.fail(f"value {c} makes {name} pointer be out of bounds")
        return ptr.replace(off=off)
    if t == PTR_TO_CTX:
        v.fail(f"R{dst} variable offset on ctx pointer prohibited")
    if sc.s.smin == scalar.S64_MIN:
        v.fail(
            f"R{dst} math between {name} pointer and register with unbounded "
            "min value is not allowed"
        )
    if sc.s.smin <= -MAX_VAR_OFF or sc.s.smax >= MAX_VAR_OFF:
        v.fail(f"R{dst} math between {name} pointer and register with unbounded value")
    var = scalar.alu("add" if aop == op.ADD else "sub", ptr.s, sc.s, 64)
    if var.smin <= -MAX_VAR_OFF or var.smax >= MAX_VAR_OFF:
        v.fail(f"R{dst} variable offset makes {name} pointer be out of bounds")
    if t == PTR_TO_PACKET:
        # A new group: its base moved by the scalar. Linux resets the range to 0;
        # keeping what is still proven for the largest move is as sound and lets
        # "check once, index with a bounded variable" programs through.
        rng = 0
        if aop == op.ADD and sc.s.smin >= 0:
            rng = max(0, ptr.rng - sc.s.umax)
        return ptr.replace(s=var, id=v.new_id(), rng=rng)
    return ptr.replace(s=var)


def _same_region(a: Reg, b: Reg) -> bool:
    if a.type in _PKT_LIKE and b.type in _PKT_LIKE:
        return True
    if a.type != b.type:
        return False
    if a.type == PTR_TO_STACK:
        return a.frame == b.frame
    if a.type == PTR_TO_MAP_VALUE:
        return a.map == b.map
    return a.type in (PTR_TO_MEM, PTR_TO_CTX)
