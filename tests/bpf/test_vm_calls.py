"""BPF-to-BPF calls, helper calls and invalid encodings."""

import pytest

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.vm import Vm

from ._vmutil import M64, prog, run, run_err


def test_local_call_restores_callee_saved_registers_and_frame():
    text = """
        mov r6, 6
        mov r7, 7
        mov r8, 8
        mov r9, 9
        mov r1, 100
        stdw [r10-8], 55
        call fn
        add r0, r6          ; r0 = 100 * 2 + 6 + 7 + 8 + 9 + 55
        add r0, r7
        add r0, r8
        add r0, r9
        ldxdw r1, [r10-8]   ; caller's frame is intact and r10 restored
        add r0, r1
        exit
    fn:
        ldxdw r0, [r10-8]   ; a fresh zeroed frame
        mov r6, 0
        mov r7, 0
        mov r8, 0
        mov r9, 0
        stdw [r10-8], 99
        add r0, r1
        add r0, r1
        exit
    """
    assert run(text) == 200 + 6 + 7 + 8 + 9 + 55


def test_callee_can_use_pointer_into_caller_frame_but_not_after_return():
    text = """
        stdw [r10-8], 20
        mov r1, r10
        add r1, -8
        call inc
        ldxdw r0, [r10-8]
        exit
    inc:
        ldxdw r2, [r1]
        add r2, 22
        stxdw [r1], r2
        exit
    """
    assert run(text) == 42
    dangling = """
        call leak
        ldxdw r0, [r0]
        exit
    leak:
        mov r0, r10
        add r0, -8
        exit
    """
    err = run_err(dangling)
    assert err.pc == 1
    assert err.message == "invalid read of 8 bytes at 0x11000001f8 (stack frame 1 is not live)"


def test_recursion_up_to_eight_frames():
    text = """
        mov r1, {depth}
        call rec
        exit
    rec:                    ; returns the number of frames it used
        mov r0, 1
        jeq r1, 1, done
        sub r1, 1
        call rec
        add r0, 1
    done:
        exit
    """
    assert run(text.format(depth=7)) == 7  # 1 main + 7 nested frames
    err = run_err(text.format(depth=8))
    assert err.message == "call depth exceeds 8 frames"
    assert err.pc == 6


def test_helper_call_args_and_result():
    seen = []

    def helper(st, a1, a2, a3, a4, a5):
        seen.append((a1, a2, a3, a4, a5))
        return -5

    vm = Vm(helpers={77: helper})
    text = "mov r1, 1\nmov r2, 2\nmov r3, 3\nmov r4, 4\nmov r5, -1\ncall 77\nexit"
    assert vm.run_with_memory(prog(text)) == (-5) & M64
    assert seen == [(1, 2, 3, 4, M64)]


def test_unknown_helper_aborts():
    err = run_err("mov r0, 0\ncall 999\nexit")
    assert (err.pc, err.message) == (1, "unknown helper 999")


def test_helper_bug_is_reported_as_runtime_error():
    def broken(st, *args):
        raise ZeroDivisionError("oops")

    with pytest.raises(BpfRuntimeError, match="pc 0: internal error: ZeroDivisionError: oops"):
        Vm(helpers={1: broken}).run_with_memory(prog("call 1\nexit"))


@pytest.mark.parametrize(
    "text, message",
    [
        (".insn 0xff, 0, 0, 0, 0", "invalid instruction op=0xff"),
        (".insn 0x07, 11, 0, 0, 0", "invalid register"),
        ("mov r10, 1", "r10 is read-only"),
        ("ldxdw r10, [r1]", "r10 is read-only"),
        (".insn 0x18, 0, 3, 0, 0\n.insn 0, 0, 0, 0, 0", "unsupported ld_imm64 source 3"),
        (".insn 0x18, 0, 0, 0, 0\n.insn 0x07, 0, 0, 0, 0", "malformed ld_imm64"),
        ("ldabsw 0", "legacy packet access"),
        ("ldindb r1, 0", "legacy packet access"),
        (".insn 0x85, 0, 2, 0, 1", "unsupported call source 2"),
        (".insn 0x3f, 0, 1, 2, 0", "invalid instruction"),  # div with off=2
        (".insn 0x07, 0, 0, 1, 0", "invalid instruction"),  # add with off=1
        (".insn 0xbc, 0, 1, 32, 0", "invalid instruction"),  # movsx32 in ALU32
        (".insn 0xb7, 0, 0, 8, 0", "invalid instruction"),  # movsx with imm
        (".insn 0xd4, 0, 0, 0, 24", "invalid instruction"),  # le24
        (".insn 0xdf, 0, 0, 0, 16", "invalid instruction"),  # ALU64|END|X
        (".insn 0x98, 0, 0, 0, 0", "invalid instruction"),  # LDX DW MEMSX
        (".insn 0xdb, 1, 2, 0, 0x02", "invalid instruction"),  # bad atomic op
        (".insn 0xd3, 1, 2, 0, 0", "invalid instruction"),  # atomic byte
        (".insn 0x8d, 0, 1, 0, 0", "invalid instruction"),  # callx
        (".insn 0x96, 0, 0, 0, 0", "invalid instruction"),  # JMP32 exit
    ],
)
def test_invalid_encodings_fail_when_reached(text, message):
    err = run_err(f"mov r1, r10\n{text}\nexit")
    assert err.pc == 1
    assert message in err.message


def test_truncated_ld_imm64():
    err = run_err("mov r0, 0\n.insn 0x18, 0, 0, 0, 0")
    assert (err.pc, err.message) == (1, "ld_imm64 is missing its second slot")


def test_program_lists_maps_and_helpers():
    p = prog("lddw r1, map:4\nlddw r2, map:9\ncall 5\ncall 2\nexit")
    assert p.map_ids == {4, 9}
    assert p.helper_ids == {5, 2}
    assert len(p) == 7
