"""Static checks done before any abstract interpretation (Linux's check_cfg & co).

Each instruction is checked on its own (known opcode, valid registers, reserved
fields zero as RFC 9669 requires), then the program as a graph: subprogram
boundaries from local calls, jump targets inside their subprogram and never into
the second slot of an ``ld_imm64``, every instruction reachable, no fall-through
off a subprogram's end. It also computes what the main pass needs: prune points
(where states are stored and compared) and per-instruction register liveness,
which lets state comparison ignore dead registers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.helper_protos import HELPER_PROTOS, UNDISPATCHED, helper_name

ALL_ARGS = 0b111110  # R1-R5
CALLER_SAVED = 0b111111  # R0-R5


class StaticError(Exception):
    """A static check failed at ``idx``; the verifier turns it into VerifierError."""

    def __init__(self, idx: int, reason: str) -> None:
        super().__init__(reason)
        self.idx = idx
        self.reason = reason


@dataclass
class ProgInfo:
    """Facts about the program's shape used by the main pass."""

    n: int
    subprogs: list[int]  # sorted entry points; subprogs[0] == 0
    subprog_of: list[int]  # instruction -> entry of its subprogram
    prune: bytearray  # 1 at prune points
    live: list[int]  # live-in register bitmask per instruction
    back_edges: set[tuple[int, int]]
    second_slot: bytearray  # 1 at the high half of an ld_imm64


def analyze(insns: Sequence[Insn]) -> ProgInfo:
    """Run every static check; raise StaticError on the first failure."""
    n = len(insns)
    if n == 0:
        raise StaticError(-1, "program has no instructions")
    second = bytearray(n)
    i = 0
    while i < n:
        insn = insns[i]
        _check_insn(i, insn, insns)
        if insn.opcode == op.LD_IMM64:
            second[i + 1] = 1
            i += 2
        else:
            i += 1

    # subprograms
    starts = {0}
    for i, insn in enumerate(insns):
        if not second[i] and insn.opcode == op.CALL_OP and insn.src == op.BPF_PSEUDO_CALL:
            t = i + 1 + insn.imm
            if not 0 <= t < n or second[t]:
                raise StaticError(i, f"invalid call destination {t}")
            starts.add(t)
    subprogs = sorted(starts)
    subprog_of = [0] * n
    bounds = subprogs[1:] + [n]
    for s, e in zip(subprogs, bounds, strict=True):
        for i in range(s, e):
            subprog_of[i] = s
        last = insns[e - 1]
        if second[e - 1] or last.opcode not in (op.EXIT_OP, op.JA_OP, op.JA32_OP):
            raise StaticError(e - 1, "last insn is not an exit or jmp")

    # edges
    succs: list[tuple[int, ...]] = [()] * n
    prune = bytearray(n)
    back: set[tuple[int, int]] = set()
    for i, insn in enumerate(insns):
        if second[i]:
            continue
        cls = insn.opcode & op.CLASS_MASK
        code = insn.opcode & op.OP_MASK
        if insn.opcode == op.LD_IMM64:
            succs[i] = (i + 2,)
        elif cls in (op.JMP, op.JMP32):
            if insn.opcode == op.EXIT_OP:
                succs[i] = ()
            elif insn.opcode == op.CALL_OP:
                succs[i] = (i + 1,)
                if insn.src == op.BPF_PSEUDO_CALL:
                    prune[i + 1] = 1
            else:
                t = insn.jump_target(i)
                if not 0 <= t < n or subprog_of[t] != subprog_of[i]:
                    raise StaticError(i, f"jump out of range from insn {i} to {t}")
                if second[t]:
                    raise StaticError(i, f"jump into the middle of ldimm64 insn {t - 1}")
                if t <= i:
                    back.add((i, t))
                prune[t] = 1
                if code == op.JA:
                    succs[i] = (t,)
                else:
                    succs[i] = (i + 1, t)
                    prune[i + 1] = 1
        else:
            succs[i] = (i + 1,)
    for s in subprogs:
        prune[s] = 1

    # reachability from the entry, entering callees at their call sites
    seen = bytearray(n)
    todo = [0]
    seen[0] = 1
    while todo:
        i = todo.pop()
        nxt = list(succs[i])
        insn = insns[i]
        if insn.opcode == op.CALL_OP and insn.src == op.BPF_PSEUDO_CALL:
            nxt.append(i + 1 + insn.imm)
        for t in nxt:
            if t < n and not seen[t]:
                seen[t] = 1
                todo.append(t)
    for i in range(n):
        if not seen[i] and not second[i]:
            raise StaticError(i, f"unreachable insn {i}")

    live = _liveness(insns, succs, second)
    return ProgInfo(n, subprogs, subprog_of, prune, live, back, second)


def _uses_defs(insn: Insn) -> tuple[int, int]:
    """Registers read and written by one instruction, as bitmasks."""
    cls = insn.opcode & op.CLASS_MASK
    d, s = 1 << insn.dst, 1 << insn.src
    if cls in (op.ALU, op.ALU64):
        code = insn.opcode & op.OP_MASK
        x = insn.opcode & op.SRC_MASK
        if code == op.MOV:
            return (s if x else 0), d
        if code in (op.NEG, op.END):
            return d, d
        return d | (s if x else 0), d
    if cls == op.LDX:
        return s, d
    if cls == op.ST:
        return d, 0
    if cls == op.STX:
        if insn.opcode & op.MODE_MASK == op.ATOMIC:
            if insn.imm == op.CMPXCHG:
                return d | s | 1, 1
            return d | s, (s if insn.imm & op.FETCH else 0)
        return d | s, 0
    if cls == op.LD:
        return 0, d
    if insn.opcode == op.EXIT_OP:
        return 1, 0
    if insn.opcode == op.CALL_OP:
        if insn.src == 0:
            proto = HELPER_PROTOS.get(insn.imm)
            nargs = len(proto.args) if proto else 5
            return ((1 << (nargs + 1)) - 2), CALLER_SAVED
        return ALL_ARGS, CALLER_SAVED
    code = insn.opcode & op.OP_MASK
    if code == op.JA:
        return 0, 0
    return d | (s if insn.opcode & op.SRC_MASK else 0), 0


def _liveness(insns: Sequence[Insn], succs: list[tuple[int, ...]], second: bytearray) -> list[int]:
    """Backward may-live analysis per instruction (intraprocedural)."""
    n = len(insns)
    ud = [(0, 0) if second[i] else _uses_defs(insns[i]) for i in range(n)]
    live = [0] * n
    preds: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for t in succs[i]:
            if t < n:
                preds[t].append(i)
    work = [i for i in range(n) if not second[i]]
    on = bytearray(n)
    for i in work:
        on[i] = 1
    while work:
        i = work.pop()
        on[i] = 0
        out = 0
        for t in succs[i]:
            if t < n:
                out |= live[t]
        use, dfn = ud[i]
        new = use | (out & ~dfn)
        if new != live[i]:
            live[i] = new
            for p in preds[i]:
                if not on[p]:
                    on[p] = 1
                    work.append(p)
    return live


# ---------------------------------------------------------------- per-instruction checks


def _reg(i: int, r: int) -> None:
    if r > 10:
        raise StaticError(i, f"R{r} is invalid")


def _dst_writable(i: int, r: int) -> None:
    _reg(i, r)
    if r == op.FP:
        raise StaticError(i, "frame pointer is read only")


def _check_insn(i: int, insn: Insn, insns: Sequence[Insn]) -> None:
    code = insn.opcode
    cls = code & op.CLASS_MASK
    if cls in (op.ALU, op.ALU64):
        _check_alu(i, insn, cls)
    elif cls in (op.JMP, op.JMP32):
        _check_jmp(i, insn, cls)
    elif cls == op.LD:
        _check_ld(i, insn, insns)
    elif cls == op.LDX:
        mode = code & op.MODE_MASK
        if mode not in (op.MEM, op.MEMSX) or (mode == op.MEMSX and code & op.SIZE_MASK == op.DW):
            raise StaticError(i, f"unknown opcode {code:02x}")
        if insn.imm != 0:
            raise StaticError(i, "BPF_LDX uses reserved fields")
        _dst_writable(i, insn.dst)
        _reg(i, insn.src)
    elif cls == op.ST:
        if code & op.MODE_MASK != op.MEM:
            raise StaticError(i, f"unknown opcode {code:02x}")
        if insn.src != 0:
            raise StaticError(i, "BPF_ST uses reserved fields")
        _reg(i, insn.dst)
    else:  # STX
        mode = code & op.MODE_MASK
        if mode == op.MEM:
            if insn.imm != 0:
                raise StaticError(i, "BPF_STX uses reserved fields")
        elif mode == op.ATOMIC:
            if code & op.SIZE_MASK not in (op.W, op.DW):
                raise StaticError(i, "invalid atomic operand size")
            if insn.imm not in op.ATOMIC_OPS:
                raise StaticError(i, f"BPF_ATOMIC uses invalid atomic opcode {insn.imm & 0xFF:02x}")
        else:
            raise StaticError(i, f"unknown opcode {code:02x}")
        _reg(i, insn.dst)
        _reg(i, insn.src)


def _check_alu(i: int, insn: Insn, cls: int) -> None:
    code = insn.opcode
    aop = code & op.OP_MASK
    x = code & op.SRC_MASK
    if aop > op.END:
        raise StaticError(i, f"unknown opcode {code:02x}")
    if aop == op.END:
        if (cls == op.ALU64 and x) or insn.src or insn.off or insn.imm not in (16, 32, 64):
            raise StaticError(i, "BPF_END uses reserved fields")
    elif aop == op.NEG:
        if x or insn.src or insn.off or insn.imm:
            raise StaticError(i, "BPF_NEG uses reserved fields")
    elif aop == op.MOV:
        allowed = (0, 8, 16, 32) if cls == op.ALU64 else (0, 8, 16)
        if x:
            if insn.imm or insn.off not in allowed:
                raise StaticError(i, "BPF_MOV uses reserved fields")
            _reg(i, insn.src)
        elif insn.src or insn.off:
            raise StaticError(i, "BPF_MOV uses reserved fields")
    else:
        offs = (0, 1) if aop in (op.DIV, op.MOD) else (0,)
        if insn.off not in offs or (x and insn.imm) or (not x and insn.src):
            raise StaticError(i, "BPF_ALU uses reserved fields")
        if x:
            _reg(i, insn.src)
        elif aop in (op.LSH, op.RSH, op.ARSH):
            width = 64 if cls == op.ALU64 else 32
            if not 0 <= insn.imm < width:
                raise StaticError(i, f"invalid shift {insn.imm}")
    _dst_writable(i, insn.dst)


def _check_jmp(i: int, insn: Insn, cls: int) -> None:
    code = insn.opcode
    jop = code & op.OP_MASK
    x = code & op.SRC_MASK
    if jop > op.JSLE:
        raise StaticError(i, f"unknown opcode {code:02x}")
    if jop == op.JA:
        bad = x or insn.src or insn.dst or (insn.imm if cls == op.JMP else insn.off)
        if bad:
            raise StaticError(i, "BPF_JA uses reserved fields")
    elif jop == op.CALL:
        if cls == op.JMP32 or x:
            raise StaticError(i, f"unknown opcode {code:02x}")
        if insn.off or insn.dst:
            raise StaticError(i, "BPF_CALL uses reserved fields")
        if insn.src == op.BPF_PSEUDO_KFUNC_CALL:
            raise StaticError(i, "kernel function calls are not supported")
        if insn.src not in (0, op.BPF_PSEUDO_CALL):
            raise StaticError(i, "BPF_CALL uses reserved fields")
        if insn.src == 0 and insn.imm not in HELPER_PROTOS:
            if insn.imm in UNDISPATCHED:
                raise StaticError(
                    i,
                    f"helper {helper_name(insn.imm)}#{insn.imm} is not dispatched "
                    "by the axiomOS kernel",
                )
            raise StaticError(i, f"invalid func unknown#{insn.imm}")
    elif jop == op.EXIT:
        if cls == op.JMP32 or x:
            raise StaticError(i, f"unknown opcode {code:02x}")
        if insn.src or insn.dst or insn.off or insn.imm:
            raise StaticError(i, "BPF_EXIT uses reserved fields")
    else:
        if (x and insn.imm) or (not x and insn.src):
            raise StaticError(i, "BPF_JMP/JMP32 uses reserved fields")
        _reg(i, insn.dst)
        if x:
            _reg(i, insn.src)


def _check_ld(i: int, insn: Insn, insns: Sequence[Insn]) -> None:
    code = insn.opcode
    if code != op.LD_IMM64:
        if code & op.MODE_MASK in (op.ABS, op.IND):
            raise StaticError(i, "BPF_LD_[ABS|IND] instructions are not supported")
        raise StaticError(i, f"unknown opcode {code:02x}")
    if i + 1 >= len(insns):
        raise StaticError(i, "invalid BPF_LD_IMM insn")
    hi = insns[i + 1]
    if hi.opcode or hi.dst or hi.src or hi.off or insn.off:
        raise StaticError(i, "invalid BPF_LD_IMM insn")
    if insn.src not in (0, op.BPF_PSEUDO_MAP_FD, op.BPF_PSEUDO_MAP_VALUE):
        raise StaticError(i, f"unsupported ld_imm64 pseudo src {insn.src}")
    if insn.src == op.BPF_PSEUDO_MAP_FD and hi.imm:
        raise StaticError(i, "invalid BPF_LD_IMM insn")
    _dst_writable(i, insn.dst)
