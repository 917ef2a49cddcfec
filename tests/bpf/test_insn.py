"""The instruction codec: exact wire layout, round trips and error messages."""

import pytest

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, decode, encode, ld_imm64, ld_imm64_value


def test_wire_layout_is_opcode_regs_off_imm_little_endian():
    raw = encode([Insn(0xB7, dst=1, src=2, off=-2, imm=-3)])
    assert raw == bytes([0xB7, 0x21, 0xFE, 0xFF, 0xFD, 0xFF, 0xFF, 0xFF])


def test_decode_one_insn_per_slot_with_signed_fields():
    raw = bytes([0x07, 0xA3, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x7F]) + bytes(8)
    insns = decode(raw)
    assert insns == [Insn(0x07, 3, 10, -0x8000, 0x7FFFFFFF), Insn(0, 0, 0, 0, 0)]
    assert encode(insns) == raw


def test_decode_accepts_bytearray_and_memoryview():
    raw = encode([Insn(op.EXIT_OP)])
    assert decode(bytearray(raw)) == decode(memoryview(raw)) == [Insn(0x95)]


@pytest.mark.parametrize("n", [1, 7, 9, 15])
def test_decode_rejects_partial_slots(n):
    with pytest.raises(ValueError, match=rf"length {n} is not a multiple of 8"):
        decode(bytes(n))


def test_decode_empty_is_empty():
    assert decode(b"") == []


@pytest.mark.parametrize(
    "bad",
    [Insn(0x100), Insn(0, dst=16), Insn(0, src=-1), Insn(0, off=0x8000), Insn(0, imm=1 << 31)],
)
def test_encode_rejects_out_of_range_fields(bad):
    with pytest.raises(ValueError, match="out of range"):
        encode([bad])


def test_ld_imm64_roundtrip_and_value():
    lo, hi = ld_imm64(3, 0x1122334455667788)
    assert lo == Insn(0x18, 3, 0, 0, 0x55667788)
    assert hi == Insn(0, 0, 0, 0, 0x11223344)
    assert ld_imm64_value(lo, hi) == 0x1122334455667788
    lo, hi = ld_imm64(0, -1)
    assert (lo.imm, hi.imm) == (-1, -1)
    assert ld_imm64_value(lo, hi) == 0xFFFF_FFFF_FFFF_FFFF
    lo, _ = ld_imm64(1, 7, src=op.BPF_PSEUDO_MAP_FD)
    assert lo.src == 1 and lo.is_ld_imm64


def test_properties():
    add = Insn(op.ALU64 | op.ADD | op.X, 1, 2)
    assert add.cls == op.ALU64 and add.is_alu and add.uses_reg_src and add.alu_op == op.ADD
    ldx = Insn(op.LDX | op.MEM | op.H, 0, 1, 4)
    assert ldx.cls == op.LDX and ldx.mode == op.MEM and ldx.size == op.H and ldx.size_bytes == 2
    assert Insn(op.CALL_OP, imm=5).is_helper_call
    assert Insn(op.CALL_OP, src=1, imm=-3).is_local_call
    assert Insn(op.EXIT_OP).is_exit and Insn(op.EXIT_OP).is_jmp
    assert Insn(op.JA_OP, off=4).jump_target(10) == 15
    assert Insn(op.JA32_OP, imm=-11).jump_target(10) == 0
    assert Insn(op.CALL_OP, src=1, imm=2).jump_target(0) == 3


def test_opcode_constants_match_rfc9669_examples():
    assert op.ALU64 | op.MOV | op.K == 0xB7
    assert op.ALU | op.END | op.TO_BE == 0xDC
    assert op.ALU64 | op.END == 0xD7
    assert op.LDX | op.MEM | op.DW == 0x79
    assert op.LDX | op.MEMSX | op.B == 0x91
    assert op.STX | op.ATOMIC | op.DW == 0xDB
    assert op.STX | op.ATOMIC | op.W == 0xC3
    assert op.LD_IMM64 == 0x18 and op.CALL_OP == 0x85 and op.EXIT_OP == 0x95
    assert op.JMP32 | op.JSLE | op.X == 0xDE
    assert (op.XCHG, op.CMPXCHG) == (0xE1, 0xF1)
    assert op.LD | op.ABS | op.W == 0x20 and op.LD | op.IND | op.B == 0x50
