"""Property tests: arbitrary programs only ever fail with the VM's own errors.

A run may end with r0 or a BpfRuntimeError -- never another exception, and never an
"internal error" (the VM's wrapper for a Python exception escaping an op or helper).
"""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.abi import Helper, MapType
from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, decode, encode
from kernel.bpf.runtime.env import TaskInfo, TestHelperEnv
from kernel.bpf.runtime.maps import MapTable

SETTINGS = settings(
    max_examples=int(os.environ.get("BPF_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _vm() -> Vm:
    maps = MapTable()
    maps.create(MapType.ARRAY, 4, 8, 4)
    maps.create(MapType.HASH, 4, 8, 4)
    maps.create(MapType.RINGBUF, 0, 0, 64)
    maps.create(MapType.TIMESERIES, 8, 8, 2)
    env = TestHelperEnv(task=TaskInfo(1, 1, 0, 0, b"init"))
    return Vm(maps, env)


def _check(program: Program) -> None:
    vm = _vm()
    for memory in (bytearray(range(64)), None):
        try:
            result = vm.run_with_memory(program, memory, budget=3000)
        except BpfRuntimeError as e:
            assert "internal error" not in e.message, e.message
        else:
            assert 0 <= result < 1 << 64
    try:
        vm.run(program, bytes(56), b"payload!", budget=3000)
    except BpfRuntimeError as e:
        assert "internal error" not in e.message, e.message


@SETTINGS
@given(st.binary(max_size=256))
def test_random_bytes(data):
    try:
        insns = decode(data)
    except ValueError:
        assert len(data) % 8
        return
    assert encode(insns) == data
    _check(Program(insns))


def _valid_opcodes() -> list[int]:
    codes = []
    for cls in (op.ALU, op.ALU64):
        for code in op.ALU_OP_NAMES:
            codes += [cls | code | op.K, cls | code | op.X]
    for cls in (op.JMP, op.JMP32):
        for code in op.JMP_OP_NAMES:
            codes += [cls | code | op.K, cls | code | op.X]
    for size in op.SIZE_BYTES:
        codes += [op.LDX | op.MEM | size, op.ST | op.MEM | size, op.STX | op.MEM | size]
        codes += [op.LDX | op.MEMSX | size, op.LD | op.ABS | size]
    codes += [op.STX | op.ATOMIC | op.W, op.STX | op.ATOMIC | op.DW, op.LD_IMM64]
    return codes


_IMMS = st.one_of(
    st.integers(-(1 << 31), (1 << 31) - 1),
    st.sampled_from([0, 1, -1, 8, 16, 32, 63, 64, 0x7FFFFFFF, -(1 << 31)]),
    st.sampled_from(sorted(op.ATOMIC_OPS)),
    st.sampled_from([int(h) for h in Helper]),
    st.integers(0, 4),  # map ids
)
_INSNS = st.builds(
    Insn,
    opcode=st.sampled_from(_valid_opcodes()),
    dst=st.integers(0, 10),
    src=st.sampled_from([0, 0, 1, 1, 2, 3, 10]),
    off=st.one_of(st.integers(-8, 8), st.sampled_from([1, 8, 16, 32, -512, 511])),
    imm=_IMMS,
)


@SETTINGS
@given(st.lists(_INSNS, min_size=1, max_size=40))
def test_random_valid_opcode_programs(insns):
    program = Program(insns)
    _check(program)
    assert decode(encode(insns)) == insns


@SETTINGS
@given(st.lists(_INSNS, min_size=1, max_size=30), st.integers(0, 10))
def test_stack_setup_then_random_code(insns, reg):
    """Pointers into real regions in every register make memory ops likelier to hit."""
    prologue = [Insn(op.ALU64 | op.MOV | op.X, r, 10, 0, 0) for r in range(1, 10)]
    prologue += [Insn(op.ALU64 | op.ADD | op.K, r, 0, 0, -8 * r) for r in range(1, 10)]
    _check(Program(prologue + insns + [Insn(op.ALU64 | op.MOV | op.X, 0, reg), Insn(op.EXIT_OP)]))
