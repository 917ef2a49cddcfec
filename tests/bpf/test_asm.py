"""The text assembler: every RFC 9669 form encodes to the exact slot."""

import pytest

from kernel.abi import Helper
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import AsmError, assemble, assemble_bytes
from kernel.bpf.isa.insn import Insn, decode


def one(text: str) -> Insn:
    (insn,) = assemble(text)
    return insn


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mov r0, 1", Insn(0xB7, 0, 0, 0, 1)),
        ("mov64 r0, r1", Insn(0xBF, 0, 1)),
        ("mov32 w0, -1", Insn(0xB4, 0, 0, 0, -1)),
        ("mov32 r0, 0xffffffff", Insn(0xB4, 0, 0, 0, -1)),
        ("add r1, r2", Insn(0x0F, 1, 2)),
        ("add32 r1, 5", Insn(0x04, 1, 0, 0, 5)),
        ("sub r1, 2", Insn(0x17, 1, 0, 0, 2)),
        ("mul32 r1, r9", Insn(0x2C, 1, 9)),
        ("div r1, 3", Insn(0x37, 1, 0, 0, 3)),
        ("sdiv r1, r2", Insn(0x3F, 1, 2, 1, 0)),
        ("sdiv32 r1, -2", Insn(0x34, 1, 0, 1, -2)),
        ("mod r1, r2", Insn(0x9F, 1, 2)),
        ("smod32 r1, r2", Insn(0x9C, 1, 2, 1, 0)),
        ("or r1, 1", Insn(0x47, 1, 0, 0, 1)),
        ("and r1, r2", Insn(0x5F, 1, 2)),
        ("xor32 r1, r2", Insn(0xAC, 1, 2)),
        ("lsh r1, 63", Insn(0x67, 1, 0, 0, 63)),
        ("rsh32 r1, r2", Insn(0x7C, 1, 2)),
        ("arsh r1, 1", Insn(0xC7, 1, 0, 0, 1)),
        ("neg r3", Insn(0x87, 3)),
        ("neg32 r3", Insn(0x84, 3)),
        ("movsx8 r0, r1", Insn(0xBF, 0, 1, 8)),
        ("movsx16 r0, r1", Insn(0xBF, 0, 1, 16)),
        ("movsx32 r0, r1", Insn(0xBF, 0, 1, 32)),
        ("movsx8_32 w0, w1", Insn(0xBC, 0, 1, 8)),
        ("movsx16_32 w0, w1", Insn(0xBC, 0, 1, 16)),
        ("le16 r1", Insn(0xD4, 1, 0, 0, 16)),
        ("le64 r1", Insn(0xD4, 1, 0, 0, 64)),
        ("be32 r1", Insn(0xDC, 1, 0, 0, 32)),
        ("bswap16 r2", Insn(0xD7, 2, 0, 0, 16)),
        ("bswap64 r2", Insn(0xD7, 2, 0, 0, 64)),
        ("ldxb r0, [r1]", Insn(0x71, 0, 1, 0)),
        ("ldxh r0, [r1+2]", Insn(0x69, 0, 1, 2)),
        ("ldxw r0, [r1 + 0x10]", Insn(0x61, 0, 1, 16)),
        ("ldxdw r0, [r10-8]", Insn(0x79, 0, 10, -8)),
        ("ldxsb r0, [r1]", Insn(0x91, 0, 1)),
        ("ldxsh r0, [r1+2]", Insn(0x89, 0, 1, 2)),
        ("ldxsw r0, [r1+4]", Insn(0x81, 0, 1, 4)),
        ("stb [r10-1], 0x41", Insn(0x72, 10, 0, -1, 0x41)),
        ("sth [r10-2], 1", Insn(0x6A, 10, 0, -2, 1)),
        ("stw [r10-4], -1", Insn(0x62, 10, 0, -4, -1)),
        ("stdw [r10-8], 7", Insn(0x7A, 10, 0, -8, 7)),
        ("stxb [r10-1], r1", Insn(0x73, 10, 1, -1)),
        ("stxh [r10-2], r1", Insn(0x6B, 10, 1, -2)),
        ("stxw [r10-4], r1", Insn(0x63, 10, 1, -4)),
        ("stxdw [r10-8], r1", Insn(0x7B, 10, 1, -8)),
        ("atomic_add64 [r1+0], r2", Insn(0xDB, 1, 2, 0, 0x00)),
        ("atomic_or32 [r1], r2", Insn(0xC3, 1, 2, 0, 0x40)),
        ("atomic_and64 [r1], r2", Insn(0xDB, 1, 2, 0, 0x50)),
        ("atomic_xor32 [r1], r2", Insn(0xC3, 1, 2, 0, 0xA0)),
        ("atomic_fetch_add32 [r1+4], r2", Insn(0xC3, 1, 2, 4, 0x01)),
        ("atomic_fetch_or64 [r1], r2", Insn(0xDB, 1, 2, 0, 0x41)),
        ("atomic_fetch_and64 [r1], r2", Insn(0xDB, 1, 2, 0, 0x51)),
        ("atomic_fetch_xor64 [r1], r2", Insn(0xDB, 1, 2, 0, 0xA1)),
        ("xchg64 [r1], r2", Insn(0xDB, 1, 2, 0, 0xE1)),
        ("atomic_xchg32 [r1], r2", Insn(0xC3, 1, 2, 0, 0xE1)),
        ("cmpxchg64 [r1-8], r2", Insn(0xDB, 1, 2, -8, 0xF1)),
        ("cmpxchg32 [r1], r2", Insn(0xC3, 1, 2, 0, 0xF1)),
        ("ja +3", Insn(0x05, 0, 0, 3, 0)),
        ("ja -1", Insn(0x05, 0, 0, -1, 0)),
        ("ja32 +70000", Insn(0x06, 0, 0, 0, 70000)),
        ("jeq r1, 0, +2", Insn(0x15, 1, 0, 2, 0)),
        ("jne r1, r2, +2", Insn(0x5D, 1, 2, 2, 0)),
        ("jgt32 r1, -1, +1", Insn(0x26, 1, 0, 1, -1)),
        ("jsle32 r1, r2, -5", Insn(0xDE, 1, 2, -5, 0)),
        ("jset r1, 8, 0", Insn(0x45, 1, 0, 0, 8)),
        ("call 5", Insn(0x85, 0, 0, 0, 5)),
        ("call map_lookup_elem", Insn(0x85, 0, 0, 0, int(Helper.MAP_LOOKUP_ELEM))),
        ("call GPIO_WRITE", Insn(0x85, 0, 0, 0, 1003)),
        ("exit", Insn(0x95)),
        ("ldabsw 12", Insn(0x20, 0, 0, 0, 12)),
        ("ldindh r2, 4", Insn(0x48, 0, 2, 0, 4)),
        (".insn 0xff, 15, r3, -1, 0x7fffffff", Insn(0xFF, 15, 3, -1, 0x7FFFFFFF)),
    ],
)
def test_single_instructions(text, expected):
    assert one(text) == expected


@pytest.mark.parametrize(
    "name, code",
    [
        ("jeq", 0x10),
        ("jgt", 0x20),
        ("jge", 0x30),
        ("jset", 0x40),
        ("jne", 0x50),
        ("jsgt", 0x60),
        ("jsge", 0x70),
        ("jlt", 0xA0),
        ("jle", 0xB0),
        ("jslt", 0xC0),
        ("jsle", 0xD0),
    ],
)
def test_every_conditional_jump_both_classes(name, code):
    assert one(f"{name} r1, 1, +0").opcode == op.JMP | code | op.K
    assert one(f"{name}64 r1, r2, +0").opcode == op.JMP | code | op.X
    assert one(f"{name}32 r1, r2, +0").opcode == op.JMP32 | code | op.X


def test_lddw_takes_two_slots_and_map_reference():
    assert assemble("lddw r1, 0x1122334455667788") == [
        Insn(0x18, 1, 0, 0, 0x55667788),
        Insn(0, 0, 0, 0, 0x11223344),
    ]
    assert assemble("lddw r1, map:3") == [Insn(0x18, 1, 1, 0, 3), Insn(0)]
    assert assemble("lddw r2, -1") == [Insn(0x18, 2, 0, 0, -1), Insn(0, 0, 0, 0, -1)]


def test_labels_comments_and_slot_counting():
    prog = assemble(
        """
        # count down from 3
        start:  mov r0, 0      ; comment
                lddw r1, 3     // lddw is two slots
        loop:   add r0, 1
                sub r1, 1
                jne r1, 0, loop
                ja end
                mov r0, 99
        end:    exit
        """
    )
    assert prog[5] == Insn(0x55, 1, 0, -3, 0)  # back to slot 3 ("loop")
    assert prog[6] == Insn(0x05, 0, 0, 1, 0)
    assert len(prog) == 9


def test_local_call_to_label_is_relative_with_src1():
    prog = assemble(
        """
            call fn
            exit
        fn: mov r0, 1
            exit
        """
    )
    assert prog[0] == Insn(0x85, 0, 1, 0, 1)
    back = assemble("fn: exit\n call fn")
    assert back[1] == Insn(0x85, 0, 1, 0, -2)


def test_ja32_label():
    prog = assemble("ja32 out\nmov r0, 1\nout: exit")
    assert prog[0] == Insn(0x06, 0, 0, 0, 1)


def test_assemble_bytes_roundtrips_through_decode():
    text = "mov r0, 2\nlddw r1, map:0\nexit"
    assert decode(assemble_bytes(text)) == assemble(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("frob r1", "line 1: unknown mnemonic 'frob'"),
        ("mov r11, 1", "bad register"),
        ("mov r1", "takes 2 operand"),
        ("ja nowhere", "unknown label 'nowhere'"),
        ("call nowhere", "unknown label or helper 'nowhere'"),
        ("mov r1, 0x100000000", "does not fit in 32 bits"),
        ("ldxdw r0, r1", "bad memory operand"),
        ("ldxdw r0, [r1+40000]", "out of 16-bit range"),
        ("ja +40000", "out of 16-bit range"),
        ("ldxsdw r0, [r1]", "MEMSX takes b, h or w"),
        ("movsx32_32 w0, w1", "ALU32 MOVSX takes 8 or 16"),
        ("a: exit\na: exit", "line 2: duplicate label 'a'"),
        ("exit\nmov r1, zz", "line 2: bad number 'zz'"),
        (".insn 256, 0, 0, 0, 0", "must fit 8 bits"),
    ],
)
def test_errors_name_the_line(text, message):
    with pytest.raises(AsmError, match=message):
        assemble(text)
