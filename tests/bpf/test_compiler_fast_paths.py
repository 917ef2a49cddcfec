"""Differential tests for the compiler's fast paths and their fall-backs.

Each fast path (the library's helper table recognised once per run, per-block store
forwarding through the stack frame, compile-time printk lines, typed stack views,
loop-free block order) is compared with the reference interpreter, and so is the
path taken without it: a Vm with its own copy of the library's helpers runs the
general helper calls; stores the forwarding cannot see through (a helper writing
the stack, a store through a pointer, an atomic) must end it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.env import TaskInfo, TestHelperEnv
from kernel.bpf.runtime.helpers import HELPERS, LIBRARY_HELPERS
from kernel.bpf.runtime.maps import MapTable
from tests.bpf.test_compiler_diff import SETTINGS, _snapshot, assert_same
from tests.bpf.test_verifier import ACCEPT
from tests.bpf.verifier_cases import MAPS


def _outcome(mode: str, program: Program, budget: int = 10_000) -> tuple:
    """mode: "reference", "library" (the shared table) or "copy" (a Vm's own table)."""
    maps = MapTable()
    for spec in MAPS.values():
        maps.create(spec.map_type, spec.key_size, spec.value_size, spec.max_entries)
    env = TestHelperEnv(task=TaskInfo(7, 7, 0, 0, b"diff"), tick_ns=3)
    vm = Vm(maps, env, HELPERS if mode == "copy" else None, reference=mode == "reference")
    assert (vm.helpers is LIBRARY_HELPERS) == (mode != "copy")
    results: list[object] = []
    for _ in range(2):  # the second run also sees the bound sites' caches filled
        try:
            results.append(vm.run(program, bytes(range(56)), bytes(64), budget=budget))
        except BpfRuntimeError as e:
            results.append(("error", e.pc, e.message))
        results.append(vm.last_steps)
    return results, _snapshot(maps), env.logs


def assert_three_agree(program: Program, budgets: tuple[int, ...] = (10_000,)) -> None:
    for budget in budgets:
        ref = _outcome("reference", program, budget)
        assert _outcome("library", program, budget) == ref, program.compiled.source
        assert _outcome("copy", program, budget) == ref, program.compiled.source


@pytest.mark.parametrize("src", [c[1] for c in ACCEPT], ids=[c[0] for c in ACCEPT])
def test_library_and_own_helper_tables_agree_with_the_reference(src: str) -> None:
    assert_three_agree(Program(assemble(src)))


def test_the_library_table_is_read_only() -> None:
    with pytest.raises(TypeError, match="read-only"):
        LIBRARY_HELPERS[1] = HELPERS[1]
    with pytest.raises(TypeError, match="read-only"):
        LIBRARY_HELPERS.update({})
    vm = Vm(helpers=LIBRARY_HELPERS)  # a given table is always copied
    vm.helpers[1] = HELPERS[2]
    assert LIBRARY_HELPERS[1] is HELPERS[1]


STACK_CASES = [
    # forwarded constants and registers, overlapping and partial overwrites
    "lddw r1, 0x1122334455667788\nstxdw [r10-8], r1\nldxw r0, [r10-8]\nldxdw r2, [r10-8]\n"
    "add r0, r2\nstb [r10-6], 0x7f\nldxdw r3, [r10-8]\nxor r0, r3\nldxh r4, [r10-7]\n"
    "add r0, r4\nexit",
    "stdw [r10-16], -1\nldxdw r0, [r10-16]\nldxb r1, [r10-9]\nadd r0, r1\nexit",
    # a register stored, then redefined: the load must see the old value
    "mov r1, 5\nstxdw [r10-8], r1\nmov r1, 9\nldxdw r0, [r10-8]\nadd r0, r1\nexit",
    "mov r6, r1\nldxdw r1, [r6+24]\nstxw [r10-4], r1\nadd r1, 1\nldxw r0, [r10-4]\nexit",
    # a store through a pointer to the stack ends the forwarding
    "stdw [r10-8], 1\nmov r2, r10\nadd r2, -8\nstdw [r2+0], 2\nldxdw r0, [r10-8]\nexit",
    # an atomic on the stack
    "stdw [r10-8], 3\nmov r1, 4\natomic_add64 [r10-8], r1\nldxdw r0, [r10-8]\nexit",
    "stdw [r10-8], 3\nmov r1, 4\natomic_fetch_add64 [r10-8], r1\nldxdw r0, [r10-8]\n"
    "add r0, r1\nexit",
    # a helper that writes the stack (probe_read into it) ends the forwarding
    "stdw [r10-8], 7\nmov r1, r10\nadd r1, -8\nmov r2, 8\nmov r3, 0\ncall probe_read\n"
    "ldxdw r0, [r10-8]\nexit",
    "stdw [r10-16], 7\nmov r1, r10\nadd r1, -16\nmov r2, 16\ncall get_current_comm\n"
    "ldxdw r0, [r10-16]\nexit",
    # signed loads and unaligned accesses (no typed view)
    "stdw [r10-8], -2\nldxsw r0, [r10-8]\nldxsh r1, [r10-7]\nadd r0, r1\nldxsb r1, [r10-1]\n"
    "add r0, r1\nexit",
    "mov r1, 0xabcdef\nstxw [r10-7], r1\nldxw r0, [r10-7]\nldxh r1, [r10-6]\nadd r0, r1\nexit",
    # printk: a whole string known, one with a conversion, one cut by a helper call
    "mov r1, 0x216948\nstxw [r10-8], r1\nmov r1, r10\nadd r1, -8\nmov r2, 4\n"
    "call trace_printk\nexit",
    "mov r1, 0x642520\nstxw [r10-8], r1\nmov r1, r10\nadd r1, -8\nmov r2, 4\nmov r3, 42\n"
    "call trace_printk\nexit",
    "mov r1, 0x6968\nstxw [r10-8], r1\ncall get_prandom_u32\nmov r1, r10\nadd r1, -8\n"
    "mov r2, 4\ncall trace_printk\nexit",
    "stw [r10-8], 0x41414141\nmov r1, r10\nadd r1, -8\nmov r2, 4\ncall trace_printk\nexit",
    "stb [r10-8], 0xff\nstb [r10-7], 0\nmov r1, r10\nadd r1, -8\nmov r2, 2\n"
    "call trace_printk\nexit",  # not UTF-8: replaced as the helper does
    # lookup keys through the stack: constant, register, unknown
    "stw [r10-4], 0\nmov r1, 0\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\nexit",
    "mov r6, 3\nstxw [r10-4], r6\nmov r1, 0\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\n"
    "jeq r0, 0, out\nldxdw r0, [r0+0]\nout:\nexit",
    "ldxdw r6, [r1+24]\nstxw [r10-4], r6\nmov r1, 0\nmov r2, r10\nadd r2, -4\n"
    "call map_lookup_elem\nexit",
]


@pytest.mark.parametrize("src", STACK_CASES)
def test_stack_forwarding_cases(src: str) -> None:
    program = Program(assemble(src))
    assert_three_agree(program, budgets=(10_000, 3, 6))
    assert_same(program)


def _stack_insn() -> st.SearchStrategy[list[Insn]]:
    offs = st.sampled_from([-8, -16, -12, -6, -5, -1, -24, -4])
    sizes = st.sampled_from([op.B, op.H, op.W, op.DW])
    regs = st.integers(0, 5)
    imm = st.integers(-(2**31), 2**31 - 1)
    store_imm = st.builds(lambda s, o, k: [Insn(op.ST | op.MEM | s, 10, 0, o, k)], sizes, offs, imm)
    store_reg = st.builds(
        lambda s, r, o: [Insn(op.STX | op.MEM | s, 10, r, o, 0)], sizes, regs, offs
    )
    load = st.builds(lambda s, r, o: [Insn(op.LDX | op.MEM | s, r, 10, o, 0)], sizes, regs, offs)
    alu = st.builds(lambda r, k: [Insn(op.ALU64 | op.ADD | op.K, r, 0, 0, k)], regs, imm)
    mov = st.builds(lambda d, s: [Insn(op.ALU64 | op.MOV | op.X, d, s, 0, 0)], regs, regs)
    helper = st.sampled_from(
        [  # probe_read(r10-16, 8, r10-8) copies stack bytes within the frame
            assemble("mov r1, r10\nadd r1, -16\nmov r2, 8\nmov r3, r10\nadd r3, -8\n"
                     "call probe_read"),
            assemble("call get_prandom_u32"),
        ]
    )  # fmt: skip
    jump = st.builds(lambda r: [Insn(op.JMP | op.JEQ | op.K, r, 0, 1, 0)], regs)
    return st.one_of(store_imm, store_reg, load, alu, mov, helper, jump)


_EPILOGUE = assemble(
    "ldxdw r6, [r10-8]\nldxdw r7, [r10-16]\nldxdw r8, [r10-24]\nxor r0, r6\nxor r0, r7\n"
    "xor r0, r8\nexit"
)


@SETTINGS
@given(st.lists(_stack_insn(), min_size=1, max_size=25))
def test_random_stack_programs(parts: list[list[Insn]]) -> None:
    insns = [i for part in parts for i in part]
    program = Program(insns + _EPILOGUE)
    assert_three_agree(program, budgets=(10_000, 7))
    assert_same(program, budgets=[0, 5, 13])


REGION_CASES = [
    # a map value's read-modify-write: the second access reuses the region found
    "stw [r10-4], 1\nmov r1, 0\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\n"
    "jeq r0, 0, out\nldxdw r1, [r0+0]\nadd r1, 5\nstxdw [r0+0], r1\nldxdw r0, [r0+0]\nout:\nexit",
    # the second access is wider and runs past the region / writes a read-only one
    "ldxw r0, [r1+52]\nldxdw r2, [r1+52]\nexit",
    "ldxdw r0, [r1+24]\nstxdw [r1+24], r0\nexit",
    "ldxdw r2, [r1+0]\nldxb r0, [r2+0]\nstb [r2+0], 1\nexit",
    # the base changes between the accesses (same register and offset)
    "mov r6, r1\nldxdw r0, [r6+24]\nmov r6, r10\nadd r6, -32\nldxdw r2, [r6+24]\nadd r0, r2\nexit",
    "ldxdw r0, [r1+24]\nadd r1, 8\nldxdw r2, [r1+24]\nadd r0, r2\nexit",
    # a helper between the accesses (it may map or unmap regions)
    "stw [r10-4], 0\nmov r1, 0\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\n"
    "jeq r0, 0, out\nmov r6, r0\nldxdw r7, [r6+0]\ncall get_prandom_u32\nldxdw r0, [r6+0]\n"
    "add r0, r7\nout:\nexit",
    # in a loop: the region is found again on every pass
    "mov r6, r1\nmov r7, 4\nmov r0, 0\nl: ldxb r2, [r6+40]\nadd r0, r2\nldxb r2, [r6+40]\n"
    "add r0, r2\nadd r6, 1\nsub r7, 1\njne r7, 0, l\nexit",
]


@pytest.mark.parametrize("src", REGION_CASES)
def test_region_reuse_cases(src: str) -> None:
    program = Program(assemble(src))
    assert_three_agree(program, budgets=(10_000, 4, 9))
    assert_same(program)
