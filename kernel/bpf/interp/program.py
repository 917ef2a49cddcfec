"""`Program`: instructions decoded and pre-compiled once, at load.

Compilation turns each slot into a closure ``op(r, m) -> next_pc`` (see `codegen`)
so the reference run loop is just ``pc = ops[pc](r, m)``; `Program.compiled` is
the whole program as one function (`compiler`), which is what runs in the product.
Bad encodings do NOT fail the load:
the slot compiles to an op that raises `BpfRuntimeError` when reached, so the VM
stays total (the verifier is the component that rejects programs up front).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.codegen import M64, Op
from kernel.bpf.interp.compiler import CompiledFn, compile_program
from kernel.bpf.interp.ops_alu import compile_alu
from kernel.bpf.interp.ops_call import (
    compile_exit,
    compile_helper_call,
    compile_helper_callx,
    compile_local_call,
)
from kernel.bpf.interp.ops_jmp import compile_cond, compile_ja
from kernel.bpf.interp.ops_mem import compile_const, compile_ldx, compile_map_value, compile_store
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, decode, ld_imm64_value


def _raiser(pc: int, message: str) -> Op:
    def op_(r: list[int], m: object) -> int:
        raise BpfRuntimeError(pc, message)

    op_.raises = True  # type: ignore[attr-defined]  # the compiler runs it as is
    return op_


class Program:
    """A loaded program: its slots, the maps and helpers it names, and its ops."""

    __slots__ = ("insns", "name", "map_ids", "helper_ids", "ops", "pure", "_compiled")

    def __init__(self, insns: Sequence[Insn] | bytes | bytearray, name: str = "") -> None:
        if isinstance(insns, bytes | bytearray | memoryview):
            insns = decode(insns)
        self.insns: tuple[Insn, ...] = tuple(insns)
        self.name = name
        map_ids: set[int] = set()
        helper_ids: set[int] = set()
        for insn in self.insns:
            if insn.is_ld_imm64 and insn.src in (op.BPF_PSEUDO_MAP_FD, op.BPF_PSEUDO_MAP_VALUE):
                map_ids.add(insn.imm & 0xFFFF_FFFF)
            elif insn.is_helper_call:
                helper_ids.add(insn.imm)
        self.map_ids = frozenset(map_ids)
        self.helper_ids = frozenset(helper_ids)
        self.ops: list[Op] = compile_ops(self.insns)
        # No load, store, atomic, call or map-value load: the run can observe no
        # memory (context, payload, stack, maps), so the VM need not set any up.
        self.pure = all(_is_pure(insn) for insn in self.insns)
        self._compiled: CompiledFn | None = None

    @property
    def compiled(self) -> CompiledFn:
        """The whole program as one Python function (`compiler`), built on first use."""
        fn = self._compiled
        if fn is None:
            fn = self._compiled = compile_program(self.insns, self.ops)
        return fn

    def __len__(self) -> int:
        return len(self.insns)

    def __repr__(self) -> str:
        return f"Program({self.name!r}, {len(self.insns)} insns)"


def _is_pure(insn: Insn) -> bool:
    cls = insn.opcode & op.CLASS_MASK
    if cls in (op.ALU, op.ALU64):
        return True
    if cls in (op.JMP, op.JMP32):
        return insn.opcode & op.OP_MASK != op.CALL
    # LD: ld_imm64 of a constant or map id, and its second slot (opcode 0)
    return cls == op.LD and (insn.opcode == 0 or (insn.is_ld_imm64 and insn.src in (0, 1)))


def compile_ops(insns: Sequence[Insn]) -> list[Op]:
    """One op per slot, plus a trailing op for falling off the end."""
    n = len(insns)
    ops: list[Op] = []
    skip_next = False
    for pc, insn in enumerate(insns):
        if skip_next:
            skip_next = False
            ops.append(_raiser(pc, f"jump into the middle of ld_imm64 at {pc - 1}"))
            continue
        if insn.is_ld_imm64 and pc + 1 < n:
            skip_next = True
        ops.append(_compile_one(insns, pc, n))
    ops.append(_raiser(n, "fell off the end of the program (no exit)"))
    return ops


def _compile_one(insns: Sequence[Insn], pc: int, n: int) -> Op:
    insn = insns[pc]
    invalid = _raiser(pc, f"invalid instruction {_show(insn)}")
    if insn.dst > op.FP or insn.src > op.FP:
        return _raiser(pc, f"invalid register in {_show(insn)}")
    cls = insn.opcode & op.CLASS_MASK
    writes_dst = cls in (op.ALU, op.ALU64, op.LDX) or insn.is_ld_imm64
    if writes_dst and insn.dst == op.FP:
        return _raiser(pc, f"r10 is read-only: {_show(insn)}")
    if cls in (op.ALU, op.ALU64):
        return compile_alu(insn, pc, invalid)
    if cls == op.LDX:
        return compile_ldx(insn, pc, invalid)
    if cls in (op.ST, op.STX):
        return compile_store(insn, pc, invalid)
    if cls == op.LD:
        return _compile_ld(insns, pc, n, invalid)
    return _compile_jmp(insn, pc, n, invalid)


def _compile_ld(insns: Sequence[Insn], pc: int, n: int, invalid: Op) -> Op:
    insn = insns[pc]
    mode = insn.opcode & op.MODE_MASK
    if mode in (op.ABS, op.IND):
        return _raiser(pc, "legacy packet access (LD_ABS/LD_IND) is not supported")
    if insn.opcode != op.LD_IMM64:
        return invalid
    if pc + 1 >= n:
        return _raiser(pc, "ld_imm64 is missing its second slot")
    hi = insns[pc + 1]
    if hi.opcode or hi.dst or hi.src or hi.off or insn.off:
        return _raiser(pc, f"malformed ld_imm64 (second slot {_show(hi)})")
    if insn.src == 0:
        return compile_const(insn.dst, ld_imm64_value(insn, hi), pc, pc + 2)
    if insn.src == op.BPF_PSEUDO_MAP_FD:
        # A map reference is the map id itself: helpers take plain ids too (ABI 6).
        return compile_const(insn.dst, insn.imm & 0xFFFF_FFFF, pc, pc + 2)
    if insn.src == op.BPF_PSEUDO_MAP_VALUE:
        # Global data: a pointer into value 0 of an array map (ELF .data/.rodata/.bss).
        return compile_map_value(insn.dst, insn.imm & 0xFFFF_FFFF, hi.imm & 0xFFFF_FFFF, pc, pc + 2)
    return _raiser(pc, f"unsupported ld_imm64 source {insn.src}")


def _compile_jmp(insn: Insn, pc: int, n: int, invalid: Op) -> Op:
    code = insn.opcode & op.OP_MASK
    is_jmp32 = insn.opcode & op.CLASS_MASK == op.JMP32
    if insn.opcode == op.EXIT_OP:
        return compile_exit(pc)
    if insn.opcode == op.CALL_OP:
        if insn.src == 0:
            return compile_helper_call(pc, insn.imm)
        if insn.src == op.BPF_PSEUDO_CALL:
            return _checked_target(pc, pc + 1 + insn.imm, n, compile_local_call, "call")
        return _raiser(pc, f"unsupported call source {insn.src} (only helpers and local calls)")
    if insn.opcode == op.CALLX_OP:
        if insn.src or insn.off or insn.imm:
            return invalid
        return compile_helper_callx(pc, insn.dst)
    if code == op.JA and not insn.opcode & op.SRC_MASK:
        rel = insn.imm if is_jmp32 else insn.off
        return _checked_target(pc, pc + 1 + rel, n, compile_ja, "jump")
    if code in op.COND_JMP_OPS:
        return _checked_target(
            pc, pc + 1 + insn.off, n, lambda p, t: compile_cond(insn, p, t, invalid), "jump"
        )
    return invalid


def _checked_target(pc: int, target: int, n: int, build: Callable[[int, int], Op], what: str) -> Op:
    if not 0 <= target < n:
        return _raiser(pc, f"{what} target {target} is outside the program (0..{n - 1})")
    return build(pc, target)


def _show(insn: Insn) -> str:
    return (
        f"op={insn.opcode:#04x} dst=r{insn.dst} src=r{insn.src} "
        f"off={insn.off} imm={insn.imm & M64:#x}"
    )
