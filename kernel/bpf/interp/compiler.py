"""The program compiler: one Python function per loaded program.

The closure interpreter (`program.compile_ops` + `Vm` reference loop) pays one
Python call per BPF instruction. This module translates a whole program, once,
into the source of a single function and ``compile()``s it:

* registers are local variables ``r0``..``r10``;
* each basic block is straight-line code (no call per instruction); branches,
  loops, local calls and returns are a block dispatch: ``while True:`` around a
  binary tree of ``if b < N`` tests on the block number ``b``; a block that jumps to
  itself becomes an inner loop (the common counted loop), ``for left in
  range(left - L, -1, -L)``: the budget check and decrement of each pass in one step;
* register liveness (per block, backward fixpoint) drops ALU and ``ld_imm64`` slots
  whose result nothing reads, a ``mov rd, rs`` feeding the next ALU op on rd is
  fused into it, and 64-bit add/sub/mul/lsh wrap behind a compare rather than an
  ``&`` every time (values stay in 0..2**64-1, so the results are the same);
* helpers are called directly through the run's helper table, as the reference
  does (the table is per run: the kernel swaps in recording helpers for tracing);
* memory goes through the same region table (`memory.Memory`): ``m[a >> 32]`` then a
  ``struct`` bounds-checked pack/unpack, so every access lands in exactly one region
  or raises `BpfRuntimeError` with the pc and the reference's message. The one check
  removed is provably redundant without any verifier help: an access ``[r10 + K]``
  with ``-512 <= K`` and ``K + size <= 0`` hits the current frame's stack, which is
  always mapped and writable (r10 is read-only), so it goes straight to that frame's
  bytearray (kept in the local ``stk``);
* the instruction budget is exact: a block of L instructions first checks
  ``left < L``; if so, the run finishes in the reference interpreter from the
  block start (at most L more instructions), so the exhaustion pc, the side effects
  before it and the step count are the reference's by construction.

Slots the compiler has no fast form for (invalid encodings, which the reference
compiles to raisers, ``ld_imm64`` of a map value, a jump into an ``ld_imm64``,
falling off the end) run the reference op for that one slot. The result: a
``CompiledFn(m, r1, r2, budget) -> r0`` that leaves the remaining budget in
``m.left``.
"""

from __future__ import annotations

import collections
import re
import struct
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from kernel.abi import RINGBUF_HDR_SIZE, Helper
from kernel.bpf.errors import BpfError, BpfRuntimeError
from kernel.bpf.interp.codegen import M32, M64, SIGN32, SIGN64, Op, s32, s64, sdiv, smod
from kernel.bpf.interp.memory import SLOT_DYNAMIC, SLOT_SHIFT, SLOT_STACK, MemoryFault
from kernel.bpf.interp.ops_jmp import JUMP_CONDITIONS
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, ld_imm64_value
from kernel.bpf.runtime.env import HELPER_LOG_MODULE
from kernel.bpf.runtime.helpers import HELPERS, LIBRARY_HELPERS, bind
from kernel.bpf.runtime.maps.ringbuf import _WAKEUP_FLAGS as RINGBUF_WAKEUP_FLAGS


class CompiledFn(Protocol):
    """``fn(m, r1, r2, budget) -> r0``; ``source`` keeps the generated Python text."""

    source: str

    def __call__(self, m: Any, r1: int, r2: int, budget: int, /) -> int: ...


STACK_TOP = (SLOT_STACK << SLOT_SHIFT) + op.STACK_SIZE
TWO64 = 1 << 64
_FAULTS = (KeyError, struct.error, TypeError, ValueError, IndexError)
_FMT = {op.B: "B", op.H: "H", op.W: "I", op.DW: "Q"}
_SFMT = {op.B: "b", op.H: "h", op.W: "i"}
_MASK = {op.B: 0xFF, op.H: 0xFFFF, op.W: M32, op.DW: M64}

# name -> (ALU64, ALU32) statements over {d} (dst), {x} (dst's input: dst, or the
# source of a `mov` fused into this op) and {b} (operand expression). Where the wrap
# can only go one way, a compare guards it: cheaper than an `&` of a multi-digit int
# on every run, and the same value (operands are always in 0..2**64-1).
_WRAP64 = "\nif {d} > M64:\n    {d} &= M64"
_WRAP32 = "\nif {d} > M32:\n    {d} &= M32"
_ALU: dict[int, tuple[str, str]] = {
    op.ADD: ("{d} = {x} + {b}" + _WRAP64, "{d} = {x} + {b}" + _WRAP32),
    op.SUB: ("{d} = {x} - {b}\nif {d} < 0:\n    {d} += TWO64", "{d} = ({x} - {b}) & M32"),
    op.MUL: ("{d} = {x} * {b}" + _WRAP64, "{d} = {x} * {b}" + _WRAP32),
    op.DIV: (
        "t = {b}\n{d} = {d} // t if t else 0",
        "t = {b} & M32\n{d} = ({d} & M32) // t if t else 0",
    ),
    op.MOD: (
        "t = {b}\nif t:\n    {d} = {d} % t",
        "t = {b} & M32\n{d} = ({d} & M32) % t if t else {d} & M32",
    ),
    op.OR: ("{d} = {x} | {b}", "{d} = ({x} | {b}) & M32"),
    op.AND: ("{d} = {x} & {b}", "{d} = {x} & {b} & M32"),
    op.XOR: ("{d} = {x} ^ {b}", "{d} = ({x} ^ {b}) & M32"),
    op.LSH: ("{d} = {x} << ({b} & 63)" + _WRAP64, "{d} = {x} << ({b} & 31)" + _WRAP32),
    op.RSH: ("{d} = {x} >> ({b} & 63)", "{d} = ({x} & M32) >> ({b} & 31)"),
    op.ARSH: (
        "{d} = (s64({x}) >> ({b} & 63)) & M64",
        "{d} = (s32({x}) >> ({b} & 31)) & M32",
    ),
    op.MOV: ("{d} = {b}", "{d} = {b} & M32"),
}
_SIGNED_ALU: dict[int, tuple[str, str]] = {
    op.DIV: (
        "t = s64({b})\n{d} = sdiv(s64({d}), t) & M64 if t else 0",
        "t = s32({b})\n{d} = sdiv(s32({d}), t) & M32 if t else 0",
    ),
    op.MOD: (
        "t = s64({b})\nif t:\n    {d} = smod(s64({d}), t) & M64",
        "t = s32({b})\n{d} = smod(s32({d}), t) & M32 if t else {d} & M32",
    ),
}
_SWAP = {
    16: "{d} = (({d} & 0xFF) << 8) | (({d} >> 8) & 0xFF)",
    32: "{d} = int.from_bytes(({d} & M32).to_bytes(4, 'little'), 'big')",
    64: "{d} = int.from_bytes({d}.to_bytes(8, 'little'), 'big')",
}
_TRUNC = {16: "{d} = {d} & 0xFFFF", 32: "{d} = {d} & M32", 64: ""}
_ATOMIC = {
    op.ATOMIC_ADD: "(old + {s}) & MASK",
    op.ATOMIC_OR: "(old | {s}) & MASK",
    op.ATOMIC_AND: "old & {s}",
    op.ATOMIC_XOR: "(old ^ {s}) & MASK",
    op.XCHG: "{s} & MASK",
    op.CMPXCHG: "{s} & MASK if old == r0 & MASK else old",
}


def finish(ops: Sequence[Op], m: Any, pc: int, left: int, budget: int, regs: tuple) -> int:
    """The reference interpreter, one closure call per instruction, from ``pc`` with
    ``left`` instructions of ``budget`` to go (exact budget accounting): the whole of
    a reference run (`Vm`), or the rest of a compiled one."""
    r = list(regs)
    try:
        while pc >= 0:
            if not left:
                raise BpfRuntimeError(pc, f"instruction budget of {budget} exhausted")
            left -= 1
            pc = ops[pc](r, m)
    except BpfRuntimeError:
        raise
    except Exception as e:
        raise internal_error(pc, e) from e
    finally:
        m.left = left
    return r[0]


def internal_error(pc: int, e: Exception) -> BpfRuntimeError:
    """An exception a run raised that is not the VM's own (a compiler or helper bug),
    reported as a VM error at `pc` (-1 where it is not known), never a crash."""
    return BpfRuntimeError(pc, f"internal error: {type(e).__name__}: {e}")


def unknown_helper(pc: int, helper_id: int) -> BpfRuntimeError:
    return BpfRuntimeError(pc, f"unknown helper {helper_id}")


class _Emitter:
    """Generates the function source for one program."""

    def __init__(self, insns: Sequence[Insn], ops: Sequence[Op]) -> None:
        self.insns = insns
        self.n = len(insns)
        self.ops = ops
        # Slots that run through their reference op: raisers and map-value loads.
        self.slow = [
            getattr(ops[pc], "raises", False)
            or (insn.is_ld_imm64 and insn.src == op.BPF_PSEUDO_MAP_VALUE)
            for pc, insn in enumerate(insns)
        ]
        self.consts: dict[str, Any] = {}
        self.has_calls = any(
            i.opcode == op.CALL_OP and i.src == op.BPF_PSEUDO_CALL and not self.slow[pc]
            for pc, i in enumerate(insns)
        )
        # Registers whose value is a compile-time constant at the current point of the
        # block being emitted (reset at each block start: nothing flows across blocks).
        # Without local calls r10 is always the main frame's STACK_TOP.
        self.entry_known: dict[int, int] = {} if self.has_calls else {op.FP: STACK_TOP}
        self.known: dict[int, int] = {}
        # What the block being emitted wrote to the (only) stack frame at constant
        # offsets so far: bytes of known value, and ``offset -> (register, size)`` for
        # a store of a register not redefined since (see `_stack_forget`).
        self.stack_bytes: dict[int, int] = {}
        self.stack_regs: dict[int, tuple[int, int]] = {}
        # Aligned stack accesses at constant offsets go through typed views of the
        # frame (`ExecState.stack_Q` ...): an item access, not a struct call.
        self.views = not self.has_calls and NATIVE_VIEWS
        self.regions: dict[tuple[int, int], int] = {}  # see `_region_access`
        self.region_count = 0
        # The registers as the budget fall-back and the slow slots pass them: a register
        # no slot names (as dst, src, helper argument or result) keeps its initial
        # value all run long, so it is passed as that constant and never initialised.
        mentioned = {0, 1, 2}
        for insn in insns:
            mentioned |= {insn.dst, insn.src}
            if insn.opcode in (op.CALL_OP, op.CALLX_OP):
                mentioned |= {1, 2, 3, 4, 5}
        if self.has_calls:  # frames save r6-r10
            mentioned = set(range(11))
        initial = {10: str(STACK_TOP)}
        self.regs = ", ".join(f"r{i}" if i in mentioned else initial.get(i, "0") for i in range(11))
        self.reg_targets = ", ".join(f"r{i}" if i in mentioned else "_" for i in range(11))

    # ------------------------------------------------------------ structure

    def width(self, pc: int) -> int:
        """Slots the reference steps over at ``pc`` (an ld_imm64 takes two)."""
        return 2 if self.insns[pc].is_ld_imm64 and pc + 1 < self.n else 1

    def leaders(self) -> list[int]:
        n, insns = self.n, self.insns
        lead = {0, n}
        pc = 0
        wide = []
        while pc < n:
            insn = insns[pc]
            nxt = pc + self.width(pc)
            if nxt == pc + 2:
                wide.append(pc)
            if self.slow[pc]:
                lead.add(pc)
                lead.add(nxt)
            elif insn.is_jmp:
                kind, target = self._jump(pc)
                if kind in ("ja", "cond", "call"):
                    lead.add(target)
                if kind != "helper":
                    lead.add(nxt)
            pc = nxt
        for pc in wide:  # a jump into an ld_imm64's second slot: its block ends after
            if pc + 1 in lead:
                lead.add(pc + 2)
        return sorted(lead)

    def _jump(self, pc: int) -> tuple[str, int]:
        """Classify a (valid, non-slow) JMP/JMP32 slot: kind and static target."""
        insn = self.insns[pc]
        if insn.opcode == op.EXIT_OP:
            return "exit", -1
        if insn.opcode == op.CALL_OP:
            if insn.src == op.BPF_PSEUDO_CALL:
                return "call", pc + 1 + insn.imm
            return "helper", -1
        if insn.opcode == op.CALLX_OP:
            return "helper", -1
        code = insn.opcode & op.OP_MASK
        if code == op.JA:
            rel = insn.imm if insn.opcode & op.CLASS_MASK == op.JMP32 else insn.off
            return "ja", pc + 1 + rel
        return "cond", pc + 1 + insn.off

    # ------------------------------------------------------------ code

    def source(self) -> str:
        leaders = self.leaders()
        self.index = {pc: i for i, pc in enumerate(leaders)}
        self.succ: list[list[int]] | None = None
        self.live_out = self.liveness(leaders)
        guards = self.linear_guards(leaders)
        self.linear = guards is not None
        blocks = []
        for i, start in enumerate(leaders):
            end = leaders[i + 1] if i + 1 < len(leaders) else self.n + 1
            blocks.append(self.block(i, start, end))
        if guards is not None:
            code = "\n".join(self.sequence(blocks, guards, leaders))
        else:
            code = "\n".join(self.tree(blocks, 0, len(blocks)))
        # Only the registers and views the code names (an empty program's run is
        # mostly this prologue): one scan of the code for all of them.
        names = collections.Counter(_LOCAL_NAMES.findall(code))
        used = {int(n[1:]) for n in names if n[0] == "r"} - {1, 2}
        zeroed = " = ".join(f"r{i}" for i in sorted(used - {10}))
        prologue = ["def bpf_program(m, r1, r2, budget):"]
        if zeroed:
            prologue.append(f"    {zeroed} = 0")
        if 10 in used:
            prologue.append("    r10 = STACK_TOP")
        prologue.append("    left = budget")
        # Only what the body uses: an empty program's run is mostly this prologue.
        if "stk" in names:
            prologue.append("    stk = m.stack")
        for name in sorted(n for n in names if n.startswith("stk_")):
            view = name[4:]
            if names[name] == 1 and self.linear:
                code = re.sub(rf"\b{name}\b", f"m.stack_{view}", code)  # not worth a local
            else:
                prologue.append(f"    {name} = m.stack_{view}")
        if "frames" in code:
            prologue.append("    frames = m.frames")
        if "hget" in code:
            prologue.append("    hget = m.helpers.get")
        if "lib" in names:
            prologue.append("    lib = m.helpers is LIBRARY_HELPERS")
        if self.linear:  # blocks in order, each budget check returning FINISH itself
            body = code.split("\n")
            if not any(guards or ()):  # straight line: nothing reads `b`
                body = [line for line in body if not re.fullmatch(r" *b = .*", line)]
            out = [*prologue, *_indent(body, 4)]
            return "\n".join(out) + "\n"
        self.consts["STARTS"] = leaders  # block number -> its first slot
        out = [
            *prologue,
            "    b = 0",
            "    while True:",
            *_indent(code.split("\n"), 8),
            f"    return {self.finish('STARTS[b]')}",  # a budget check failed in block b
        ]
        if not {int(n) for n in re.findall(r"\br(\d+)\b", out[-1])} <= used | {1, 2}:
            raise AssertionError("the fall-back names a register the body does not")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------ loop-free programs

    def linear_guards(self, leaders: list[int]) -> list[bool] | None:
        """For a program whose every jump goes forward (no loop, no local call): per
        block, whether it needs an ``if b == i`` guard, else None (block dispatch).

        Such a program runs its blocks in program order, skipping some: emitted in
        that order, block i needs a guard only when an earlier block can jump past
        it (the block that ran last set ``b`` to its successor)."""
        if self.has_calls or self.succ is None:
            return None
        edges: list[list[int]] = []
        for i, start in enumerate(leaders):
            if start < self.n and self.slow[start]:  # through the reference op, then on
                nxt = self.index.get(start + self.width(start))
                edges.append([] if nxt is None else [nxt])
            else:
                edges.append(self.succ[i])
        if any(j <= i for i, out in enumerate(edges) for j in out):
            return None
        guards = []
        furthest = -1  # the furthest block an earlier block can jump to
        for i, out in enumerate(edges):
            guards.append(furthest > i)
            furthest = max([furthest, *out])
        return guards

    def sequence(
        self, blocks: list[list[str]], guards: list[bool], leaders: list[int]
    ) -> list[str]:
        """The blocks in order; a budget check failing in block i finishes the run in
        the reference interpreter from its first slot, as the dispatch loop does."""
        out: list[str] = []
        for i, lines in enumerate(blocks):
            fail = f"return {self.finish(leaders[i])}"
            code = []
            for line in lines:
                text = line.strip()
                if text == "continue":  # the next block is reached by falling through
                    continue
                code.append(line.replace("break", fail) if text == "break" else line)
            if guards[i]:
                out += [f"if b == {i}:", *_indent(code, 4)]
            else:
                out += code
        return [*out, "raise AssertionError('unreachable')"]

    # ------------------------------------------------------------ liveness

    def _uses_defs(self, pc: int) -> tuple[int, int, bool]:
        """Registers slot ``pc`` reads and writes (bit sets) and whether it is a pure
        ALU/ld_imm64 slot (no fault, no side effect), removable when its result is dead."""
        insn = self.insns[pc]
        cls = insn.opcode & op.CLASS_MASK
        d, s = 1 << insn.dst, 1 << insn.src
        reg = bool(insn.opcode & op.SRC_MASK)
        if cls in (op.ALU, op.ALU64):
            code = insn.opcode & op.OP_MASK
            if code == op.MOV:
                return (s if reg or insn.off else 0), d, True
            if code in (op.END, op.NEG):
                return d, d, True
            return d | (s if reg else 0), d, True
        if insn.is_ld_imm64:
            return 0, d, True
        if cls == op.LDX:
            return s, d, False
        if cls == op.ST:
            return d, 0, False
        if cls == op.STX:
            return d | s | 1, 0, False  # atomics may read r0 (cmpxchg); never kill
        if insn.opcode == op.EXIT_OP:
            return 1, 0, False
        if insn.opcode in (op.CALL_OP, op.CALLX_OP):  # helpers (local calls: no DCE)
            return 0b111110 | (d if insn.opcode == op.CALLX_OP else 0), 1, False
        if insn.opcode & op.OP_MASK == op.JA:
            return 0, 0, False
        return d | (s if reg else 0), 0, False  # conditional jump

    def liveness(self, leaders: list[int]) -> list[int]:
        """Registers live at the end of each block (bit sets), by the usual backward
        fixpoint. Registers are observable only through what reads them (memory
        addresses and values, helper arguments, branches, r0 at exit), so a pure slot
        whose result no path reads can go. Slots run by the reference (slow blocks,
        the budget fall-back) start at a block start and see that block's live-in.
        Programs with local calls keep everything (frames save r6-r9)."""
        nb = len(leaders)
        every = (1 << 11) - 1
        if self.has_calls:
            return [every] * nb
        gen: list[int] = []
        kill: list[int] = []
        succ: list[list[int]] = []
        for i, start in enumerate(leaders):
            if start >= self.n or self.slow[start]:
                gen.append(every)
                kill.append(0)
                succ.append([])
                continue
            end = leaders[i + 1] if i + 1 < nb else self.n
            g = k = 0
            pc = start
            nxt_blocks: list[int] = []
            while pc < end:
                u, dd, _ = self._uses_defs(pc)
                g |= u & ~k
                k |= dd
                insn = self.insns[pc]
                if insn.is_jmp:
                    kind, target = self._jump(pc)
                    if kind == "helper":
                        pc += 1
                        continue
                    if kind in ("ja", "cond"):
                        nxt_blocks.append(self.index[target])
                    if kind == "cond":
                        nxt_blocks.append(self.index[pc + 1])
                    pc = -1
                    break
                pc += self.width(pc)
            if pc >= 0 and pc in self.index:  # falls through
                nxt_blocks.append(self.index[pc])
            gen.append(g)
            kill.append(k)
            succ.append(nxt_blocks)
        self.succ = succ
        live_in = [0] * nb
        live_out = [0] * nb
        changed = True
        while changed:
            changed = False
            for i in range(nb - 1, -1, -1):
                out = 0
                for j in succ[i]:
                    out |= live_in[j]
                inn = gen[i] | (out & ~kill[i])
                if out != live_out[i] or inn != live_in[i]:
                    live_out[i], live_in[i] = out, inn
                    changed = True
        return live_out

    def dead_slots(self, idx: int, start: int, end: int) -> set[int]:
        """Pure slots of block ``idx`` whose result is never read."""
        pcs = []
        pc = start
        while pc < end:
            pcs.append(pc)
            if self.insns[pc].is_jmp and self._jump(pc)[0] != "helper":
                break
            pc += self.width(pc)
        live = self.live_out[idx]
        dead = set()
        for pc in reversed(pcs):
            u, d, pure = self._uses_defs(pc)
            if pure and not live & d:
                dead.add(pc)
                continue
            live = (live & ~d) | u
        return dead

    def tree(self, blocks: list[list[str]], lo: int, hi: int) -> list[str]:
        """Binary dispatch over block numbers lo..hi-1."""
        if hi - lo == 1:
            return blocks[lo]
        if hi - lo == 2:
            return [f"if b == {lo}:", *_indent(blocks[lo], 4), "else:", *_indent(blocks[lo + 1], 4)]
        mid = (lo + hi) // 2
        return [
            f"if b < {mid}:",
            *_indent(self.tree(blocks, lo, mid), 4),
            "else:",
            *_indent(self.tree(blocks, mid, hi), 4),
        ]

    def block(self, idx: int, start: int, end: int) -> list[str]:
        """Code of the block [start, end): budget check, body, terminator."""
        if start >= self.n or self.slow[start]:
            return self.slow_block(start)
        body: list[str] = []
        pc = start
        self.known = dict(self.entry_known)
        self.stack_bytes, self.stack_regs = {}, {}
        self.regions = {}  # (base, off) -> k of the locals g{k}, o{k}
        self.dead = self.dead_slots(idx, start, min(end, self.n))
        self.alias: dict[int, int] = {}
        term: list[str] | None = None
        self_loop = False
        while pc < end:
            insn = self.insns[pc]
            if insn.is_jmp:
                kind, target = self._jump(pc)
                if kind == "helper":
                    body += self.helper(pc, start, insn)
                    pc += 1
                    continue
                term, self_loop = self.terminator(pc, kind, target, idx)
                pc += 1
                break
            body += self.straight(pc, start, insn)
            pc += self.width(pc)
        count = self._count(start, pc)
        if term is None:  # falls through into the next block
            term = [f"b = {self.index[pc]}", "continue"] if pc in self.index else []
        body = [_FIXUP.sub(lambda m: _plus(count - int(m.group(1))), line) for line in body]
        body = _drop_overwritten_constants(body, term)
        if self_loop:  # inside its own loop: `break` would only leave that
            # `left` steps down by `count` per pass while at least `count` remain, as
            # `if left < count: finish; left -= count` would; the range running out is
            # that check failing (with `left` the value it had).
            return [
                f"for left in range(left - {count}, -1, -{count}):",
                *_indent([*body, *term] or ["pass"], 4),
                "else:",
                f"    return {self.finish(start)}",
            ]
        # `b` is this block's number: the code after the dispatch loop finishes the run
        return [f"if left < {count}:", "    break", f"left -= {count}", *body, *term]

    def finish(self, start: str | int) -> str:
        return f"FINISH(OPS, m, {start}, left, budget, ({self.regs}))"

    def _count(self, start: int, stop: int) -> int:
        """Instructions the reference executes from start to stop (ld_imm64 = 1)."""
        count, pc = 0, start
        while pc < stop:
            count += 1
            pc += self.width(pc)
        return count

    def slow_block(self, pc: int) -> list[str]:
        """One slot through its reference op (raisers, map values, ...)."""
        nxt = self.index.get(pc + self.width(pc)) if pc < self.n else None
        lines = [
            "if not left:",
            "    break",
            "left -= 1",
            "m.left = left",
            f"R = [{self.regs}]",
            f"OPS[{pc}](R, m)",
            f"{self.reg_targets} = R",
        ]
        if nxt is None:  # only reachable for raisers: the op above raised
            return [*lines, "raise AssertionError('unreachable')"]
        return [*lines, f"b = {nxt}", "continue"]

    def fixup(self, pc: int, start: int) -> str:
        """``m.left`` as the reference has it when slot ``pc`` raises."""
        done = self._count(start, pc + 1)
        return f"m.left = left@L-{done}@"  # resolved once the block's length is known

    def straight(self, pc: int, start: int, insn: Insn) -> list[str]:
        lines = self._straight(pc, start, insn)
        return [] if pc in self.dead else lines

    def _fusable(self, pc: int, insn: Insn) -> bool:
        """``mov rd, rs`` whose only reader is the next slot, an ALU op that sets rd
        unconditionally: that op reads rs in its place and the mov emits nothing."""
        nxt = pc + 1
        if (
            insn.opcode != op.ALU64 | op.MOV | op.X
            or insn.off
            or nxt >= self.n
            or nxt in self.index
            or nxt in self.dead
            or pc in self.dead
        ):
            return False
        n = self.insns[nxt]
        code = n.opcode & op.OP_MASK
        return (
            n.opcode & op.CLASS_MASK in (op.ALU, op.ALU64)
            and n.dst == insn.dst
            and not n.off
            and code in _FUSABLE
            and not (self.slow[nxt])
        )

    def _straight(self, pc: int, start: int, insn: Insn) -> list[str]:
        cls = insn.opcode & op.CLASS_MASK
        known = self.known
        if cls in (op.ALU, op.ALU64) or insn.is_ld_imm64:
            self._redefined(insn.dst)
        if cls in (op.ALU, op.ALU64):
            value = self.fold(insn)
            if value is not None:  # a constant: computed here, exactly as the code would
                known[insn.dst] = value
                self.alias.pop(insn.dst, None)
                return [f"r{insn.dst} = {value}"]
            known.pop(insn.dst, None)
            if self._fusable(pc, insn):
                self.alias[insn.dst] = insn.src
                return []
            x = self.alias.pop(insn.dst, insn.dst)
            return self.alu(insn, x)
        if cls == op.LDX:
            known.pop(insn.dst, None)
            lines = self.load(pc, start, insn)  # (may make dst known)
            self._redefined(insn.dst)
            return lines
        if cls in (op.ST, op.STX):
            lines = self.store(pc, start, insn)
            if insn.opcode & op.MODE_MASK == op.ATOMIC:  # fetch forms write src or r0
                known.pop(insn.src, None)
                known.pop(0, None)
                self._redefined(insn.src)
                self._redefined(0)
            return lines
        if insn.is_ld_imm64:
            hi = self.insns[pc + 1]
            if insn.src == 0:
                value = ld_imm64_value(insn, hi) & M64
            else:
                value = insn.imm & M32  # BPF_PSEUDO_MAP_FD: the map id
            known[insn.dst] = value
            return [f"r{insn.dst} = {value}"]
        raise AssertionError(f"no fast form for slot {pc}")

    def fold(self, insn: Insn) -> int | None:
        """The result of an ALU slot whose operands are all known, else None.

        Only the plain ops (mov, add, sub, and, or, xor, lsh, rsh; no sign extension)
        with the same formulas as `_ALU`'s statements."""
        code = insn.opcode & op.OP_MASK
        if insn.off or code not in _FOLDABLE:
            return None
        is64 = insn.opcode & op.CLASS_MASK == op.ALU64
        if insn.opcode & op.SRC_MASK:
            b = self.known.get(insn.src)
            if b is None:
                return None
        else:
            b = insn.imm & M64 if is64 else insn.imm & M32
        if code == op.MOV:
            return b if is64 else b & M32
        d = self.known.get(insn.dst)
        if d is None:
            return None
        if is64:
            return _FOLDABLE[code](d, b, 63) & M64
        if code == op.RSH:
            d &= M32
        return _FOLDABLE[code](d, b, 31) & M32

    def alu(self, insn: Insn, x: int) -> list[str]:
        """Statements for an ALU slot; ``x`` is the register holding dst's input (dst
        itself, or the source of a fused ``mov``)."""
        is64 = insn.opcode & op.CLASS_MASK == op.ALU64
        code = insn.opcode & op.OP_MASK
        reg = bool(insn.opcode & op.SRC_MASK)
        d = f"r{insn.dst}"
        if code == op.END:
            table = _SWAP if (reg or is64) else _TRUNC
            text = table[insn.imm].format(d=d)
            return [text] if text else []
        if code == op.NEG:
            return [f"{d} = -{d} & {'M64' if is64 else 'M32'}"]
        if code == op.MOV and insn.off:
            bits = insn.off
            mask = "M64" if is64 else "M32"
            return [
                f"t = r{insn.src} & {(1 << bits) - 1}",
                f"{d} = (t - ((t & {1 << (bits - 1)}) << 1)) & {mask}",
            ]
        src = x if reg and insn.src == insn.dst else insn.src
        imm = insn.imm & M64 if is64 else insn.imm & M32
        if is64 and not reg and code in (op.ADD, op.SUB) and imm >= SIGN64 and not insn.off:
            # x + (2**64 - k) is x - k modulo 2**64: small operands, the other guard
            code, imm = (op.SUB if code == op.ADD else op.ADD), TWO64 - imm
        b = f"r{src}" if reg else str(imm)
        alu = _SIGNED_ALU if insn.off else _ALU
        text = alu[code][0 if is64 else 1].format(d=d, b=b, x=f"r{x}")
        if not reg and code in (op.LSH, op.RSH, op.ARSH):
            width = 63 if is64 else 31
            text = text.replace(f"({b} & {width})", str(int(b) & width))
        return text.split("\n")

    def _stack_off(self, base: int, off: int, size: int) -> int | None:
        """Offset into the current frame for ``[r10 + off]``, if provably in bounds."""
        if base == op.FP and -op.STACK_SIZE <= off and off + size <= 0:
            return op.STACK_SIZE + off
        return None

    def _struct(self, fmt: str) -> str:
        name = f"S_{fmt}"
        if name not in self.consts:
            st = struct.Struct("<" + fmt)
            self.consts[name + "_U"] = st.unpack_from
            self.consts[name + "_P"] = st.pack_into
            self.consts[name] = st
        return name

    def load(self, pc: int, start: int, insn: Insn) -> list[str]:
        size = insn.opcode & op.SIZE_MASK
        signed = insn.opcode & op.MODE_MASK == op.MEMSX
        name = self._struct(_SFMT[size] if signed else _FMT[size])
        sx = " & M64" if signed else ""
        d = f"r{insn.dst}"
        nbytes = op.SIZE_BYTES[size]
        so = self._stack_off(insn.src, insn.off, nbytes)
        if so is not None:
            if not signed:  # what this block stored there, if it still holds
                value = self._stack_const(so, nbytes)
                if value is not None:
                    self.known[insn.dst] = value
                    return [f"{d} = {value}"]
                stored = self._stack_reg(so, nbytes)
                if stored is not None:
                    return [f"{d} = {stored}"]
            item = self._stack_item(_SFMT[size] if signed else _FMT[size], so, nbytes)
            if item is not None:
                return [f"{d} = {item}{sx}"]
            return [f"{d} = {name}_U(stk, {so})[0]{sx}"]
        return self._region_access(
            pc, start, insn.src, insn.off, f"{d} = {name}_U(BUF, OFF)[0]{sx}", nbytes, False
        )

    # ------------------------------------------------------------ the stack frame

    def _stack_item(self, fmt: str, so: int, nbytes: int) -> str | None:
        """The typed-view item for an aligned access of the frame at offset ``so``."""
        if not self.views or so % nbytes:
            return None
        if fmt == "B":
            return f"stk[{so}]"
        return f"stk_{_VIEW_NAMES[fmt]}[{so // nbytes}]"

    def _stack_forget(self, lo: int = 0, hi: int = op.STACK_SIZE) -> None:
        """Bytes [lo, hi) of the frame may have changed (all of it by default: a store
        through a pointer that may alias the stack, or a helper call)."""
        if lo == 0 and hi == op.STACK_SIZE:
            self.stack_bytes, self.stack_regs = {}, {}
            return
        for o in range(lo, hi):
            self.stack_bytes.pop(o, None)
        self.stack_regs = {o: rn for o, rn in self.stack_regs.items() if o + rn[1] <= lo or o >= hi}

    def _redefined(self, reg: int) -> None:
        """``reg`` gets a new value: a store of its old one is no longer ``r{reg}``, and
        a region found through it is no longer that of ``[r{reg} + off]``."""
        if any(b == reg for b, _ in self.regions):
            self.regions = {key: k for key, k in self.regions.items() if key[0] != reg}
        if any(r == reg for r, _ in self.stack_regs.values()):
            self.stack_regs = {o: rn for o, rn in self.stack_regs.items() if rn[0] != reg}

    def _stored(self, so: int, nbytes: int, const: int | None, reg: int | None) -> None:
        """A store at frame offset ``so`` of a known value or of register ``reg``."""
        self._stack_forget(so, so + nbytes)
        if const is not None:
            for i, byte in enumerate(const.to_bytes(nbytes, "little")):
                self.stack_bytes[so + i] = byte
        elif reg is not None:
            self.stack_regs[so] = (reg, nbytes)

    def _stack_const(self, so: int, nbytes: int) -> int | None:
        """The value of frame bytes [so, so + nbytes), if this block stored them all."""
        known = self.stack_bytes
        try:
            return int.from_bytes(bytes(known[o] for o in range(so, so + nbytes)), "little")
        except KeyError:
            return None

    def _stack_reg(self, so: int, nbytes: int) -> str | None:
        """An expression for frame bytes [so, so + nbytes) when they are (the low bytes
        of) one stored register's value, the register unchanged since."""
        rn = self.stack_regs.get(so)
        if rn is None or rn[1] < nbytes:
            return None
        return f"r{rn[0]}" if nbytes == 8 else f"(r{rn[0]} & {_MASK_OF_BYTES[nbytes]})"

    def _stack_value(self, so: int, nbytes: int) -> str:
        """An expression for the unsigned value of frame bytes [so, so + nbytes)."""
        value = self._stack_const(so, nbytes)
        if value is not None:
            return str(value)
        stored = self._stack_reg(so, nbytes)
        if stored is not None:
            return stored
        fmt = _FMT_OF_BYTES[nbytes]
        item = self._stack_item(fmt, so, nbytes)
        return item if item is not None else f"{self._struct(fmt)}_U(stk, {so})[0]"

    def store(self, pc: int, start: int, insn: Insn) -> list[str]:
        size = insn.opcode & op.SIZE_MASK
        mode = insn.opcode & op.MODE_MASK
        is_stx = insn.opcode & op.CLASS_MASK == op.STX
        name = self._struct(_FMT[size])
        nbytes = op.SIZE_BYTES[size]
        mask = _MASK[size]
        s = f"r{insn.src}"
        if mode == op.ATOMIC:
            return self.atomic(pc, start, insn, name, nbytes, mask)
        if not is_stx:
            value = str(insn.imm & mask)
        elif insn.src in self.known:
            value = str(self.known[insn.src] & mask)
        elif size == op.DW:  # registers always hold a u64: nothing to mask
            value = s
        else:
            value = f"{s} & {mask}"
        so = self._stack_off(insn.dst, insn.off, nbytes)
        if so is None:  # through a pointer, which may point into the stack
            self._stack_forget()
            return self._region_access(
                pc, start, insn.dst, insn.off, f"{name}_P(BUF, OFF, {value})", nbytes, True
            )
        const = int(value) if value.isdigit() else None
        self._stored(so, nbytes, const, insn.src if is_stx else None)
        item = self._stack_item(_FMT[size], so, nbytes)
        if item is not None:
            return [f"{item} = {value}"]
        return [f"{name}_P(stk, {so}, {value})"]

    def _region_access(
        self, pc: int, start: int, base: int, off: int, access: str, nbytes: int, write: bool
    ) -> list[str]:
        """A load or store at ``r{base} + off`` through the region table, ``access``
        naming the buffer BUF and the offset OFF in it.

        The region and offset found for one address are kept in locals for the rest
        of the block while the base register keeps its value and no helper runs (the
        only things in a block that change the table), so a second access at the same
        ``[rB + off]`` (a map value's read-modify-write) looks nothing up again; the
        struct call still checks its own bounds and writability."""
        key = (base, off)
        k = self.regions.get(key)
        if k is not None:
            addr = f"(r{base} + {off})" if off else f"r{base}"
            return [
                "try:",
                "    " + access.replace("BUF", f"g{k}").replace("OFF", f"o{k}"),
                "except FAULTS:",
                f"    {self.fixup(pc, start)}",
                f"    raise m.fault({pc}, {addr} & M64, {nbytes}, {write}) from None",
            ]
        k = self.region_count
        self.region_count += 1
        self.regions[key] = k
        lines = [f"g{k} = m[a >> 32]", f"o{k} = a & M32"]
        lines.append(access.replace("BUF", f"g{k}").replace("OFF", f"o{k}"))
        return self._checked(pc, start, f"r{base}", off, lines, nbytes, write)

    def _checked(
        self, pc: int, start: int, base: str, off: int, access: list[str], nbytes: int, write: bool
    ) -> list[str]:
        """`access` (lines) at address `a` = base + off, through the region table: a
        fault leaves the registers as the reference interpreter would and names the pc."""
        return [
            f"a = {base} + {off}" if off else f"a = {base}",
            "try:",
            *(f"    {line}" for line in access),
            "except FAULTS:",
            f"    {self.fixup(pc, start)}",
            f"    raise m.fault({pc}, a & M64, {nbytes}, {write}) from None",
        ]

    def atomic(
        self, pc: int, start: int, insn: Insn, name: str, nbytes: int, mask: int
    ) -> list[str]:
        code = insn.imm
        base = code if code in (op.XCHG, op.CMPXCHG) else code & ~op.FETCH
        s = f"r{insn.src}"
        new = _ATOMIC[base].format(s=s).replace("MASK", str(mask))
        if code == op.CMPXCHG:
            result = ["r0 = old"]
        elif code & op.FETCH:
            result = [f"{s} = old"]
        else:
            result = []
        so = self._stack_off(insn.dst, insn.off, nbytes)
        if so is None:
            self._stack_forget()
        else:
            self._stack_forget(so, so + nbytes)
        access = ["buf = m[a >> 32]", "o = a & M32", f"old = {name}_U(buf, o)[0]",
                  f"{name}_P(buf, o, {new})"]  # fmt: skip
        return [*self._checked(pc, start, f"r{insn.dst}", insn.off, access, nbytes, True), *result]

    def helper(self, pc: int, start: int, insn: Insn) -> list[str]:
        """``call imm`` (helper) or ``callx dst`` (helper id in a register).

        The helper comes from the run's table; when it is the library's own and the
        call site's constant arguments let `helpers.bind` specialise it, the bound
        site function runs instead (same behaviour, less work), or, for the sites
        `inline_site` knows, the site's own fast path inline (same handlers around
        it). ``m.left`` matters only if the call raises, so it is set in the
        handlers; calling a missing helper (None) is the TypeError that becomes
        "unknown helper"."""
        hid = f"r{insn.dst}" if insn.opcode == op.CALLX_OP else str(insn.imm)
        call = ["r0 = fn(m, r1, r2, r3, r4, r5) & M64"]
        lib: list[str] | None = None  # what runs when the run's table is the library's
        if insn.opcode == op.CALL_OP and insn.imm in HELPERS:
            self.consts[f"H_{pc}"] = HELPERS[insn.imm]
            lib = [f"r0 = H_{pc}(m, r1, r2, r3, r4, r5) & M64"]
            known = self.known
            args = tuple(known.get(r) for r in range(1, 6))
            bound = bind(insn.imm, args)  # type: ignore[arg-type]
            if bound is not None:
                self.consts[f"H_{pc}"], self.consts[f"SITE_{pc}"] = bound
                call = [f"if fn is H_{pc}:", f"    fn = SITE_{pc}", *call]
                lib = [f"r0 = SITE_{pc}(m, r1, r2, r3, r4, r5) & M64"]
                fast = self.inline_site(pc, insn.imm, bound[1], args)
                if fast is not None:
                    cond, body = fast
                    if not cond:  # always applies
                        lib = body
                    else:
                        lib = [f"if {cond}:", *_indent(body, 4), "else:", *_indent(lib, 4)]
        self.known.pop(0, None)
        self._redefined(0)
        self._stack_forget()  # a helper may write through any pointer it is given
        self.regions = {}  # and map values into the region table
        fix = self.fixup(pc, start)
        handlers = [
            "except BpfRuntimeError:",
            f"    {fix}",
            "    raise",
            "except Exception as e:",
            f"    {fix}",
        ]
        if lib is None:
            return [
                f"fn = hget({hid})",
                "try:",
                *_indent(call, 4),
                *handlers,
                "    if fn is None:",
                f"        raise UNKNOWN_HELPER({pc}, {hid}) from None",
                f"    raise HELPER_ERROR({pc}, e) from e",
            ]
        # `lib`: the run's table is the library's (one test per run), so this helper
        # is the library's: no lookup, and never missing (``fn`` is unset there).
        return [
            "try:",
            "    if lib:",
            *_indent(lib, 8),
            "    else:",
            f"        fn = m.helpers.get({hid})",
            *_indent(call, 8),
            *handlers,
            "    if not lib and fn is None:",
            f"        raise UNKNOWN_HELPER({pc}, {hid}) from None",
            f"    raise HELPER_ERROR({pc}, e) from e",
        ]

    def _stack_arg(self, addr: int | None, size: int) -> int | None:
        """Offset in the (only) stack frame of ``size`` bytes at constant ``addr``."""
        if self.has_calls or addr is None or addr >> SLOT_SHIFT != SLOT_STACK:
            return None
        off = addr & M32
        return off if 0 <= size and off + size <= op.STACK_SIZE else None

    def inline_site(
        self, pc: int, helper_id: int, site: Any, args: tuple[int | None, ...]
    ) -> tuple[str, list[str]] | None:
        """(condition, body setting r0): a bound site's fast path inline, when its
        constant pointers are in the (only) stack frame, which is always mapped and is
        ``stk``: exactly what the site does there once its cache holds this run's
        map. It runs only with the library's helper table (so the helper is the
        library's); an empty condition always holds. Otherwise (the first run with a
        table, another map type, a swapped helper table, a line not printed before)
        the site or helper runs as before."""
        cache = getattr(site, "cache", None)
        if helper_id == Helper.MAP_LOOKUP_ELEM and cache is not None:
            key_off = self._stack_arg(args[1], 4)
            if key_off is None:
                return None
            self.consts[f"C_{pc}"] = cache
            self.consts["MEMORY_FAULT"] = MemoryFault
            self.consts["SLOT_DYNAMIC"] = SLOT_DYNAMIC
            return f"m.maps is C_{pc}.typed", [
                f"am = C_{pc}.map",
                f"t = {self._stack_value(key_off, 4)}",
                "if t < am.max_entries:",
                "    view = am._views.get(t)",
                "    if view is None:",
                "        view = am._view(t)",
                "    if m._next_slot == SLOT_DYNAMIC:",  # the run's first map value
                f"        m._next_slot = {SLOT_DYNAMIC + 1}",
                f"        m[{SLOT_DYNAMIC}] = view",
                f"        m.names[{SLOT_DYNAMIC}] = am.value_region",
                f"        r0 = {SLOT_DYNAMIC << SLOT_SHIFT}",
                "    else:",
                "        try:",
                "            r0 = m.add_dynamic(view, am.value_region)",
                "        except MEMORY_FAULT:",
                "            r0 = 0",
                "else:",
                "    r0 = 0",
            ]
        if helper_id == Helper.RINGBUF_OUTPUT and cache is not None:
            size, flags = args[2], args[3]
            data_off = self._stack_arg(args[1], size if size is not None else -1)
            if data_off is None or flags is None:
                return None
            self.consts[f"C_{pc}"] = cache
            self.consts["BPF_ERROR"] = BpfError
            general = [
                "try:",
                f"    rb.output_from(m.stack, {data_off}, {size}, {flags})",
                "    r0 = 0",
                "except BPF_ERROR as e:",
                "    r0 = -int(e.errno) & M64",
            ]
            body = [f"rb = C_{pc}.map"]
            if size == 8 and flags in RINGBUF_WAKEUP_FLAGS:
                # `RingBufMap.output_from`'s u64 record that neither wraps nor drops
                total = RINGBUF_HDR_SIZE + 8
                value = self._stack_value(data_off, 8)
                if NATIVE_VIEWS:  # records start 8-aligned: header and value, one u64 each
                    write = [
                        "    q = rb.ring_q",
                        "    t >>= 3",
                        "    q[t] = 8",
                        f"    q[t + 1] = {value}",
                    ]
                else:
                    self.consts["S_REC8_P"] = _REC8.pack_into
                    write = [f"    S_REC8_P(rb._ring, t, 8, 0, {value})"]
                body += [
                    "p = rb._producer",
                    "t = p & rb._mask",
                    f"if t + {total} <= rb.max_entries and p - rb._consumer + {total}"
                    " <= rb.max_entries:",
                    *write,
                    f"    rb._producer = p + {total}",
                    "    rb.records += 1",
                    "    r0 = 0",
                    "else:",
                    *_indent(general, 4),
                ]
            else:
                body += general
            return f"m.maps is C_{pc}.typed", body
        line = getattr(site, "line", None)
        if helper_id == Helper.TRACE_PRINTK and line is not None:
            fmt_off = self._stack_arg(args[0], 0)
            if fmt_off is None or fmt_off >= op.STACK_SIZE:
                return None
            message = self._printk_message(fmt_off)
            if message is not None:  # the block stored the whole string: its line is known
                self.consts[f"MSG_{pc}"] = message
                self.consts["LOG_MODULE"] = HELPER_LOG_MODULE
                return "", [f"m.env.log('INFO', LOG_MODULE, MSG_{pc})", "r0 = 0"]
            self.consts[f"L_{pc}"] = line
            self.consts["LOG_MODULE"] = HELPER_LOG_MODULE
            return f"stk.startswith(L_{pc}.cstr, {fmt_off})", [
                f"m.env.log('INFO', LOG_MODULE, L_{pc}.message)",
                "r0 = 0",
            ]
        return None

    def _printk_message(self, fmt_off: int) -> str | None:
        """The line `helpers.trace_printk` logs for the C string at frame offset
        ``fmt_off`` when this block stored all of it (its NUL included) and it has no
        ``%`` conversion: the helper's own formula for a plain string."""
        raw = bytearray()
        for o in range(fmt_off, op.STACK_SIZE):
            byte = self.stack_bytes.get(o)
            if byte is None:
                return None
            if byte == 0:
                break
            raw.append(byte)
        else:
            return None  # no NUL in the frame: the helper's general path
        if b"%" in raw:
            return None
        return "[BPF] " + raw.decode("utf-8", errors="replace")

    def terminator(self, pc: int, kind: str, target: int, idx: int) -> tuple[list[str], bool]:
        """Lines ending a block, and whether the block jumps back to itself."""
        nxt = self.index.get(pc + 1)
        if kind == "exit":
            if not self.has_calls:  # no local call: exit always ends the run
                return ["m.left = left", "return r0"], False
            return [
                "if not frames:",
                "    m.left = left",
                "    return r0",
                "del m[SLOT_STACK + len(frames)]",
                "ret, r6, r7, r8, r9, r10 = frames.pop()",
                "stk = m[SLOT_STACK + len(frames)]",
                f"b = {self.ret_dispatch()}",
                "continue",
            ], False
        if kind == "call":
            return [
                f"if len(frames) >= {op.MAX_CALL_FRAMES - 1}:",
                "    m.left = left",
                f"    raise BpfRuntimeError({pc}, "
                f"'call depth exceeds {op.MAX_CALL_FRAMES} frames')",
                f"frames.append(({pc + 1}, r6, r7, r8, r9, r10))",
                "stk = bytearray(STACK_SIZE)",
                "m[SLOT_STACK + len(frames)] = stk",
                f"r10 = ((SLOT_STACK + len(frames)) << {SLOT_SHIFT}) + STACK_SIZE",
                f"b = {self.index[target]}",
                "continue",
            ], False
        tgt = self.index[target]
        if kind == "ja":
            if tgt == idx:
                return [], True
            return [f"b = {tgt}", "continue"], False
        cond = self.condition(self.insns[pc])
        if tgt == idx:  # counted loop: stay in the inner while
            return [f"if {cond}:", "    continue", f"b = {nxt}", "break"], True
        return [f"b = {tgt} if {cond} else {nxt}", "continue"], False

    def ret_dispatch(self) -> str:
        """Block number for a dynamic return pc (``ret``)."""
        self.consts["RET_BLOCK"] = self.index
        return "RET_BLOCK[ret]"

    def condition(self, insn: Insn) -> str:
        code = insn.opcode & op.OP_MASK
        cond, signed = JUMP_CONDITIONS[code]
        is64 = insn.opcode & op.CLASS_MASK == op.JMP
        reg = bool(insn.opcode & op.SRC_MASK)
        flip = (" ^ SIGN64" if is64 else " ^ SIGN32") if signed else ""
        d, s = f"r{insn.dst}", f"r{insn.src}"
        if is64:
            a = f"({d}{flip})" if flip else d
            b = (f"({s}{flip})" if flip else s) if reg else None
        else:
            a = f"(({d} & M32){flip})"
            b = f"(({s} & M32){flip})" if reg else None
        if b is None:
            k = insn.imm & (M64 if is64 else M32)
            if signed:
                k ^= SIGN64 if is64 else SIGN32
            b = str(k)
        return cond.format(a=a, b=b)


# ops whose `_ALU` template is one statement ``{d} = f({d}, {b})``
_FUSABLE = {op.ADD, op.SUB, op.MUL, op.OR, op.AND, op.XOR, op.LSH, op.RSH, op.ARSH}

_REC8 = struct.Struct("<IIQ")  # a ring record: header (length, flags) and a u64

# Typed views of a stack frame and ring (memoryview casts) are native-endian: used
# only where native is the BPF byte order and the sizes are the usual ones.
NATIVE_VIEWS = sys.byteorder == "little" and [struct.calcsize(f) for f in "HIQ"] == [2, 4, 8]
_VIEW_NAMES = {"H": "H", "I": "I", "Q": "Q", "b": "sb", "h": "sh", "i": "si"}
_FMT_OF_BYTES = {1: "B", 2: "H", 4: "I", 8: "Q"}
_MASK_OF_BYTES = {1: 0xFF, 2: 0xFFFF, 4: M32, 8: M64}

_FIXUP = re.compile(r"@L-(\d+)@")

# op -> f(d, b, shift mask) before the final width mask (see `_Emitter.fold`)
_FOLDABLE: dict[int, Any] = {
    op.MOV: None,
    op.ADD: lambda d, b, w: d + b,
    op.SUB: lambda d, b, w: d - b,
    op.AND: lambda d, b, w: d & b,
    op.OR: lambda d, b, w: d | b,
    op.XOR: lambda d, b, w: d ^ b,
    op.LSH: lambda d, b, w: d << (b & w),
    op.RSH: lambda d, b, w: d >> (b & w),
}


_CONST_SET = re.compile(r"(r\d+) = \d+$")
_REG_NAME = re.compile(r"\br\d+\b")
# the names `source` looks for to build the prologue (registers, stack views, `lib`)
_LOCAL_NAMES = re.compile(r"\b(?:r\d+|stk(?:_\w+)?|lib)\b")


def _drop_overwritten_constants(body: list[str], term: list[str]) -> list[str]:
    """Drop top-level ``rX = <constant>`` lines whose register the block assigns again
    (at top level) before anything names it: e.g. ``mov r2, r10`` before ``add r2, -4``
    when both fold to constants. Nothing can read the dropped value: the next
    mention of rX is the overwrite (fault handlers and helper fall-backs that read a
    register name it)."""
    text = [*body, *term]
    mentions = [set(_REG_NAME.findall(t)) for t in text]
    out = []
    for i, line in enumerate(body):
        hit = _CONST_SET.match(line)
        if hit:
            name = hit.group(1)
            j = next((j for j in range(i + 1, len(text)) if name in mentions[j]), None)
            if j is not None:
                nxt = text[j]
                if nxt.startswith(f"{name} = ") and name not in _REG_NAME.findall(
                    nxt[len(name) + 3 :]
                ):
                    continue
        out.append(line)
    return out


def _plus(k: int) -> str:
    return f" + {k}" if k else ""


def _indent(lines: list[str], n: int) -> list[str]:
    pad = " " * n
    return [pad + line if line else line for line in lines]


_LITERAL_VALUES = {
    "M64": hex(M64),
    "M32": hex(M32),
    "SIGN64": hex(SIGN64),
    "SIGN32": hex(SIGN32),
    "TWO64": hex(TWO64),
}
_LITERALS = re.compile(r"\b(?:M64|M32|SIGN64|SIGN32|TWO64)\b")


def compile_program(insns: Sequence[Insn], ops: Sequence[Op]) -> CompiledFn:
    """Translate ``insns`` into one function; ``ops`` are the reference ops (n + 1 of
    them, raisers marked ``raises``), used for slots with no fast form."""
    em = _Emitter(insns, ops)
    # The masks as literals: a constant load, not a global lookup, per use.
    src = _LITERALS.sub(lambda m: _LITERAL_VALUES[m.group(0)], em.source())
    ns: dict[str, Any] = {
        "M64": M64,
        "M32": M32,
        "SIGN64": SIGN64,
        "SIGN32": SIGN32,
        "s64": s64,
        "s32": s32,
        "sdiv": sdiv,
        "smod": smod,
        "STACK_TOP": STACK_TOP,
        "STACK_SIZE": op.STACK_SIZE,
        "SLOT_STACK": SLOT_STACK,
        "FAULTS": _FAULTS,
        "FINISH": finish,
        "OPS": ops,
        "BpfRuntimeError": BpfRuntimeError,
        "HELPER_ERROR": internal_error,
        "LIBRARY_HELPERS": LIBRARY_HELPERS,
        "UNKNOWN_HELPER": unknown_helper,
        **em.consts,
    }
    code = compile(src, "<bpf-compiled>", "exec")
    exec(code, ns)  # noqa: S102 - source generated from validated instructions
    fn = ns["bpf_program"]
    fn.source = src
    return fn
