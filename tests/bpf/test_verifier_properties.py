"""Property tests: the verifier never crashes, and what it accepts is safe.

1. Random instruction streams (mostly valid opcodes, random fields) never make
   the verifier raise anything but VerifierError.
2. Random but plausible programs from a small grammar (stack stores and loads
   at random offsets, map lookups with and without null checks, accesses at
   random offsets, ALU on scalars, forward jumps, bounded and unbounded loops,
   packet checks, helper calls, atomics): every accepted one runs in the VM
   with a real map table without a BpfRuntimeError -- no bounds error, no
   budget exhaustion.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kernel.abi import AttachType
from kernel.bpf.errors import VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import ENTRY_SPECS, EntrySpec, verify
from tests.bpf.verifier_cases import MAPS

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUDGET = 20_000  # verifier budget: keeps rejected "too complex" cases cheap
RAW = EntrySpec.raw_memory(64)

_VALID_OPCODES = sorted(
    {cls | o | s for cls in (op.ALU, op.ALU64) for o in range(0, 0xE0, 0x10) for s in (0, 8)}
    | {cls | o | s for cls in (op.JMP, op.JMP32) for o in range(0, 0xE0, 0x10) for s in (0, 8)}
    | {op.LDX | m | sz for m in (op.MEM, op.MEMSX) for sz in (0, 8, 0x10, 0x18)}
    | {op.ST | op.MEM | sz for sz in (0, 8, 0x10, 0x18)}
    | {op.STX | m | sz for m in (op.MEM, op.ATOMIC) for sz in (0, 8, 0x10, 0x18)}
    | {op.LD_IMM64, op.CALL_OP, op.EXIT_OP}
)


def _map_table() -> MapTable:
    table = MapTable()
    for map_id in sorted(MAPS):
        m = MAPS[map_id]
        table.create(m.map_type, m.key_size, m.value_size, m.max_entries)
    return table


def _run(insns: list[Insn], hook: EntrySpec, rnd: random.Random, required: int = 0) -> None:
    """Run an accepted program; any BpfRuntimeError propagates and fails the test.

    The payload is at least what the program reads unchecked (``required``, what
    PROG_ATTACH guarantees) and at most the hook's bound."""
    vm = Vm(_map_table())
    prog = Program(insns)
    if hook.raw_mem_size is not None:
        vm.run_with_memory(prog, bytearray(rnd.randbytes(hook.raw_mem_size)))
        return
    n = rnd.randint(required, hook.payload_size) if hook.payload_size else None
    payload = None if n is None else rnd.randbytes(min(n, 200))
    vm.run(prog, payload=payload)


# ---------------------------------------------------------------- 1. random streams


@st.composite
def insn_streams(draw):
    n = draw(st.integers(1, 24))
    out = []
    for _ in range(n):
        opcode = draw(st.one_of(st.sampled_from(_VALID_OPCODES), st.integers(0, 255)))
        dst = draw(st.one_of(st.integers(0, 10), st.integers(0, 15)))
        src = draw(st.one_of(st.integers(0, 10), st.integers(0, 15)))
        off = draw(
            st.one_of(
                st.integers(-8, 8),
                st.sampled_from([-512, -8, -4, 0, 8, 16, 32]),
                st.integers(-(1 << 15), (1 << 15) - 1),
            )
        )
        imm = draw(
            st.one_of(
                st.integers(-4, 70),
                st.sampled_from([0, 1, 5, 8, 1000, 1 << 31]),
                st.integers(-(1 << 31), (1 << 31) - 1),
            )
        )
        if imm >= 1 << 31:
            imm -= 1 << 32
        out.append(Insn(opcode, dst, src, off, imm))
    if draw(st.booleans()):
        out.append(Insn(op.EXIT_OP))
    return out


@st.composite
def legal_streams(draw):
    """Well-formed instructions (reserved fields zero) over initialised registers."""
    from kernel.bpf.runtime.helper_protos import HELPER_PROTOS

    out = [
        Insn(op.ALU64 | op.MOV, r, 0, 0, draw(st.integers(-2, 40)))
        for r in range(10)
        if r != 1 and draw(st.booleans())
    ]
    n = draw(st.integers(1, 20))
    for _ in range(n):
        kind = draw(st.sampled_from(["alu", "alu", "jmp", "ldx", "st", "stx", "call", "exit"]))
        dst = draw(st.integers(0, 9))
        if kind == "alu":
            cls = draw(st.sampled_from([op.ALU, op.ALU64]))
            o = draw(
                st.sampled_from(
                    [
                        op.ADD,
                        op.SUB,
                        op.MUL,
                        op.DIV,
                        op.OR,
                        op.AND,
                        op.LSH,
                        op.RSH,
                        op.MOD,
                        op.XOR,
                        op.MOV,
                        op.ARSH,
                    ]
                )
            )
            if draw(st.booleans()):
                width = 64 if cls == op.ALU64 else 32
                imm = (
                    draw(st.integers(0, width - 1))
                    if o in (op.LSH, op.RSH, op.ARSH)
                    else draw(st.integers(-100, 100))
                )
                out.append(Insn(cls | o, dst, 0, 0, imm))
            else:
                out.append(Insn(cls | o | op.X, dst, draw(st.integers(0, 10)), 0, 0))
        elif kind == "jmp":
            cls = draw(st.sampled_from([op.JMP, op.JMP32]))
            o = draw(st.sampled_from(sorted(op.COND_JMP_OPS)))
            off = draw(st.integers(-3, 4))
            out.append(Insn(cls | o, dst, 0, off, draw(st.integers(-5, 50))))
        elif kind == "ldx":
            base = draw(st.sampled_from([0, 1, 10, 2]))
            out.append(
                Insn(
                    op.LDX | op.MEM | draw(st.sampled_from([0, 8, 0x10, 0x18])),
                    dst,
                    base,
                    draw(st.integers(-24, 64)),
                    0,
                )
            )
        elif kind == "st":
            out.append(
                Insn(
                    op.ST | op.MEM | draw(st.sampled_from([0, 8, 0x10, 0x18])),
                    10,
                    0,
                    draw(st.integers(-40, -1)),
                    draw(st.integers(-3, 3)),
                )
            )
        elif kind == "stx":
            out.append(
                Insn(
                    op.STX | op.MEM | draw(st.sampled_from([0, 8, 0x10, 0x18])),
                    draw(st.sampled_from([10, 0, 1])),
                    draw(st.integers(0, 10)),
                    draw(st.integers(-40, 16)),
                    0,
                )
            )
        elif kind == "call":
            out.append(Insn(op.CALL_OP, 0, 0, 0, draw(st.sampled_from(sorted(HELPER_PROTOS)))))
        else:
            out.append(Insn(op.EXIT_OP))
    out.append(Insn(op.EXIT_OP))
    return out


@SETTINGS
@given(
    st.one_of(insn_streams(), legal_streams()),
    st.sampled_from(["ctx", "raw"]),
    st.randoms(use_true_random=False),
)
def test_random_streams_only_raise_verifier_error(insns, env, rnd) -> None:
    hook = RAW if env == "raw" else ENTRY_SPECS[AttachType.SYS_ENTER]
    try:
        result = verify(insns, MAPS, hook, max_insns=BUDGET)
    except VerifierError as e:
        assert e.reason and isinstance(e.insn_idx, int)
        event("rejected")
        return
    event("accepted")
    _run(insns, hook, rnd, result.payload_required)


# ---------------------------------------------------------------- 2. grammar programs

SCALARS = ["r7", "r8", "r9"]
ALU = ["add", "sub", "mul", "div", "mod", "and", "or", "xor", "lsh", "rsh", "arsh"]
CONDS = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"]
SIZES = {"b": 1, "h": 2, "w": 4, "dw": 8}


def mem(base: str, off: int) -> str:
    return f"[{base}{off:+d}]"


class Gen:
    """Draws one block of assembler text at a time."""

    def __init__(self, draw, n_blocks: int) -> None:
        self.draw = draw
        self.n = n_blocks

    def i(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, xs):
        return self.draw(st.sampled_from(xs))

    def block(self, k: int) -> list[str]:
        kind = self.pick(
            [
                "alu",
                "alu",
                "store",
                "load",
                "lookup",
                "lookup",
                "varmap",
                "jump",
                "jump",
                "loop",
                "pkt",
                "ringbuf",
                "helper",
                "atomic",
                "call_ctx",
            ]
        )
        return getattr(self, f"b_{kind}")(k)

    def nxt(self, k: int) -> str:
        return f"b{k + 1}"

    def b_alu(self, k):
        o = self.pick(ALU)
        w = self.pick(["", "", "32"])
        r = self.pick(SCALARS)
        if self.draw(st.booleans()):
            imm = self.i(0, 63) if o in ("lsh", "rsh", "arsh") else self.i(-300, 300)
            return [f"{o}{w} {r}, {imm}"]
        return [f"{o}{w} {r}, {self.pick(SCALARS)}"]

    def b_store(self, k):
        sz = self.pick(list(SIZES))
        off = self.pick([self.i(1, 64), self.i(1, 520)])
        if self.draw(st.booleans()):
            return [f"st{sz} [r10-{off}], {self.i(-5, 5)}"]
        return [f"stx{sz} [r10-{off}], {self.pick(SCALARS + ['r6', 'r10'])}"]

    def b_load(self, k):
        sz = self.pick(list(SIZES))
        return [f"ldx{sz} {self.pick(SCALARS)}, [r10-{self.pick([self.i(1, 64), self.i(1, 520)])}]"]

    def _lookup(self, map_id: int, checked: bool, k: int) -> list[str]:
        lines = [
            f"stw [r10-4], {self.i(0, 20)}",
            f"mov r1, {map_id}",
            "mov r2, r10",
            "add r2, -4",
            "call map_lookup_elem",
        ]
        if checked:
            lines.append(f"jeq r0, 0, {self.nxt(k)}")
        return lines

    def b_lookup(self, k):
        map_id = self.pick([0, 0, 2, 3, 5, 1, 9])
        lines = self._lookup(map_id, self.draw(st.integers(0, 9)) > 0, k)
        sz = self.pick(list(SIZES))
        off = self.i(-2, 130)
        if self.draw(st.booleans()):
            lines.append(f"ldx{sz} {self.pick(SCALARS)}, {mem('r0', off)}")
        else:
            lines.append(f"st{sz} {mem('r0', off)}, {self.i(0, 9)}")
        return lines

    def b_varmap(self, k):
        lines = self._lookup(2, True, k)
        r = self.pick(SCALARS)
        mask = self.pick([1, 7, 15, 63, 127, 255])
        lines += [f"mov r1, {r}", f"and r1, {mask}"]
        if self.draw(st.booleans()):
            lines.append(f"jgt r1, {self.i(0, 130)}, {self.nxt(k)}")
        lines += ["add r0, r1", f"ldx{self.pick(list(SIZES))} {r}, [r0+{self.i(0, 8)}]"]
        return lines

    def b_jump(self, k):
        target = self.i(k + 1, self.n)
        c = self.pick(CONDS)
        w = self.pick(["", "32"])
        rhs = self.pick([str(self.i(-10, 300)), self.pick(SCALARS)])
        return [f"{c}{w} {self.pick(SCALARS)}, {rhs}, b{target}"]

    def b_loop(self, k):
        bound = self.pick([str(self.i(0, 20)), self.pick(SCALARS)])
        r = self.pick(SCALARS)
        return [
            "mov r1, 0",
            f"l{k}: add {r}, r1",
            "add r1, 1",
            f"jlt r1, {bound}, l{k}",
        ]

    def b_pkt(self, k):
        n = self.i(0, 70)
        sz = self.pick(list(SIZES))
        return [
            "ldxdw r2, [r6+0]",
            "ldxdw r3, [r6+8]",
            "mov r4, r2",
            f"add r4, {n}",
            f"jgt r4, r3, {self.nxt(k)}",
            f"ldx{sz} {self.pick(SCALARS)}, [r2+{self.i(0, 70)}]",
        ]

    def b_ringbuf(self, k):
        return [
            f"stxdw [r10-16], {self.pick(SCALARS)}",
            "mov r1, 1",
            "mov r2, r10",
            f"add r2, -{self.pick([8, 16, 24])}",
            f"mov r3, {self.i(0, 24)}",
            "mov r4, 0",
            "call ringbuf_output",
        ]

    def b_helper(self, k):
        return ["call ktime_get_ns", f"mov {self.pick(SCALARS)}, r0"]

    def b_call_ctx(self, k):
        return ["mov r1, r6", "call get_boot_time_ms", f"mov {self.pick(SCALARS)}, r0"]

    def b_atomic(self, k):
        opn = self.pick(["add64", "fetch_add64", "or32", "xchg64", "and64"])
        if self.draw(st.booleans()):
            off = self.pick([8, 16, 12, 6])
            return [f"stdw [r10-{off}], 0", f"atomic_{opn} [r10-{off}], {self.pick(SCALARS)}"]
        lines = self._lookup(0, True, k)
        return lines + [f"atomic_{opn} [r0+{self.pick([0, 4, 2, 8])}], {self.pick(SCALARS)}"]


@st.composite
def grammar_programs(draw):
    n = draw(st.integers(1, 8))
    g = Gen(draw, n)
    lines = ["mov r6, r1"]
    for r in SCALARS:
        lines.append(f"mov {r}, {draw(st.integers(-3, 200))}")
    for k in range(n):
        lines.append(f"b{k}:")
        lines += g.block(k)
    lines += [f"b{n}:", f"mov r0, {g.pick(SCALARS)}", "exit"]
    return "\n".join(lines)


@SETTINGS
@given(
    grammar_programs(),
    st.sampled_from(["sys_enter", "timer", "generic"]),
    st.randoms(use_true_random=False),
)
def test_accepted_grammar_programs_run_safely(src: str, hook_name: str, rnd) -> None:
    hook = {
        "sys_enter": ENTRY_SPECS[AttachType.SYS_ENTER],
        "timer": ENTRY_SPECS[AttachType.TIMER],
        "generic": EntrySpec(payload_size=80, name="test"),
    }[hook_name]
    insns = assemble(src)
    try:
        result = verify(insns, MAPS, hook, max_insns=BUDGET)
    except VerifierError as e:
        event(f"rejected: {e.reason.split(',')[0][:40]}")
        return
    event("accepted")
    assert result.payload_required <= hook.payload_size
    _run(insns, hook, rnd, result.payload_required)
