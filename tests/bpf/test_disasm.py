"""Disassembler text, cross-checked against capstone's BPF mode for the mnemonics."""

import pytest

from kernel.bpf.isa.asm import assemble, assemble_bytes
from kernel.bpf.isa.disasm import disassemble, format_insn
from kernel.bpf.isa.insn import Insn
from kernel.bpf.samples import TIMER_COUNTER


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mov r0, r1", "r0 = r1"),
        ("add r0, 5", "r0 += 5"),
        ("add32 w1, -1", "w1 += -1"),
        ("sub r1, 0x100", "r1 -= 0x100"),
        ("sdiv r1, r2", "r1 s/= r2"),
        ("smod32 r1, 3", "w1 s%= 3"),
        ("arsh32 r1, 3", "w1 s>>= 3"),
        ("lsh r1, r2", "r1 <<= r2"),
        ("neg r3", "r3 = -r3"),
        ("movsx8 r0, r1", "r0 = (s8)r1"),
        ("movsx16_32 w0, w1", "w0 = (s16)w1"),
        ("le16 r1", "r1 = le16 r1"),
        ("be64 r1", "r1 = be64 r1"),
        ("bswap32 r1", "r1 = bswap32 r1"),
        ("ldxw r0, [r1+8]", "r0 = *(u32 *)(r1 +8)"),
        ("ldxsh r0, [r10-2]", "r0 = *(s16 *)(r10 -2)"),
        ("stw [r10-4], 7", "*(u32 *)(r10 -4) = 7"),
        ("stxdw [r10-8], r1", "*(u64 *)(r10 -8) = r1"),
        ("atomic_add64 [r1+0], r2", "lock *(u64 *)(r1 +0) += r2"),
        ("atomic_fetch_xor32 [r1], r2", "w2 = atomic_fetch_xor((u32 *)(r1 +0), w2)"),
        ("xchg64 [r1], r2", "r2 = xchg((u64 *)(r1 +0), r2)"),
        ("cmpxchg32 [r1+4], r2", "w0 = cmpxchg((u32 *)(r1 +4), w0, w2)"),
        ("jgt r1, 16, +3", "if r1 > 0x10 goto +3"),
        ("jsle32 r1, r2, -5", "if w1 s<= w2 goto -5"),
        ("jset r1, 1, +0", "if r1 & 1 goto +0"),
        ("ja -1", "goto -1"),
        ("ja32 +70000", "gotol +70000"),
        ("call 5", "call map_lookup_elem#5"),
        ("call 1003", "call gpio_write#1003"),
        ("call 999", "call unknown#999"),
        ("exit", "exit"),
        ("ldabsw 12", "r0 = *(u32 *)skb[12]"),
        ("ldindh r2, 4", "r0 = *(u16 *)skb[r2 +4]"),
        (".insn 0xff, 1, 2, 0, 0", ".insn 0xff, 1, 2, 0, 0"),
        (".insn 0x07, 1, 0, 3, 0", ".insn 0x07, 1, 0, 3, 0"),
    ],
)
def test_format(text, expected):
    (insn,) = assemble(text)
    assert format_insn(insn) == expected


def test_ld_imm64_local_call_and_indices():
    text = "lddw r1, 0x1122334455667788\nlddw r2, map:3\ncall f\nexit\nf: exit"
    assert disassemble(assemble(text)) == [
        "0: r1 = 0x1122334455667788 ll",
        "2: r2 = map[3] ll",
        "4: call +1",
        "5: exit",
        "6: exit",
    ]


def test_truncated_ld_imm64_is_raw():
    assert disassemble([Insn(0x18, 1, 0, 0, 5)]) == ["0: .insn 0x18, 1, 0, 0, 5"]


def test_mnemonics_agree_with_capstone():
    capstone = pytest.importorskip("capstone")
    md = capstone.Cs(capstone.CS_ARCH_BPF, capstone.CS_MODE_BPF_EXTENDED)
    raw = assemble_bytes(TIMER_COUNTER.format(counter=0, ringbuf=1))
    ours = disassemble(assemble(TIMER_COUNTER.format(counter=0, ringbuf=1)))
    theirs = [(i.address // 8, i.mnemonic) for i in md.disasm(raw, 0)]
    assert len(theirs) == len(ours) == 27
    kinds = {"call": "call", "exit": "exit", "jeq": "if ", "ldxdw": "= *(u64", "stxdw": "*(u64"}
    for (idx, mnem), line in zip(theirs, ours, strict=True):
        assert line.startswith(f"{idx}: ")
        if mnem in kinds:
            assert kinds[mnem] in line, (mnem, line)
