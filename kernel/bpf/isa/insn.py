"""The 8-byte eBPF instruction and its codec (ABI section 8, RFC 9669 section 3).

One `Insn` per 8-byte slot: an ``ld_imm64`` therefore decodes to two `Insn`s (the
second has opcode 0 and carries the high 32 bits in ``imm``), which keeps instruction
indices equal to slot indices -- the numbering jumps, verifier logs and tools use.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

from kernel.bpf.isa import opcodes as op

INSN_SIZE = 8
_INSN = struct.Struct("<BBhi")


@dataclass(frozen=True, slots=True)
class Insn:
    """One instruction slot. ``off`` is signed 16-bit, ``imm`` signed 32-bit."""

    opcode: int
    dst: int = 0
    src: int = 0
    off: int = 0
    imm: int = 0

    @property
    def cls(self) -> int:
        """The instruction class (`opcodes.LD` ... `opcodes.ALU64`)."""
        return self.opcode & op.CLASS_MASK

    @property
    def is_ld_imm64(self) -> bool:
        """True for the first slot of a two-slot 64-bit immediate load."""
        return self.opcode == op.LD_IMM64

    @property
    def is_alu(self) -> bool:
        return self.opcode & op.CLASS_MASK in (op.ALU, op.ALU64)

    @property
    def is_jmp(self) -> bool:
        """Any JMP/JMP32 class instruction, including call and exit."""
        return self.opcode & op.CLASS_MASK in (op.JMP, op.JMP32)

    @property
    def is_call(self) -> bool:
        return self.opcode == op.CALL_OP

    @property
    def is_helper_call(self) -> bool:
        return self.opcode == op.CALL_OP and self.src == 0

    @property
    def is_local_call(self) -> bool:
        return self.opcode == op.CALL_OP and self.src == op.BPF_PSEUDO_CALL

    @property
    def is_exit(self) -> bool:
        return self.opcode == op.EXIT_OP

    @property
    def alu_op(self) -> int:
        """High nibble: the ALU or jump operation."""
        return self.opcode & op.OP_MASK

    @property
    def uses_reg_src(self) -> bool:
        """ALU/JMP: the source operand is ``src`` (BPF_X) rather than ``imm``."""
        return bool(self.opcode & op.SRC_MASK)

    @property
    def mode(self) -> int:
        """LD/LDX/ST/STX: the addressing mode."""
        return self.opcode & op.MODE_MASK

    @property
    def size(self) -> int:
        """LD/LDX/ST/STX: the size field (`opcodes.W`/`H`/`B`/`DW`)."""
        return self.opcode & op.SIZE_MASK

    @property
    def size_bytes(self) -> int:
        """LD/LDX/ST/STX: access width in bytes."""
        return op.SIZE_BYTES[self.opcode & op.SIZE_MASK]

    def jump_target(self, pc: int) -> int:
        """Absolute target index of a jump or local call located at ``pc``.

        JMP32|JA (``ja32``) takes its offset from ``imm``; local calls too.
        """
        if self.opcode == op.JA32_OP or self.is_local_call:
            return pc + 1 + self.imm
        return pc + 1 + self.off

    def encode(self) -> bytes:
        return encode_one(self)


def encode_one(insn: Insn) -> bytes:
    """Pack one slot; raises ValueError on fields that do not fit."""
    if not (0 <= insn.opcode <= 0xFF and 0 <= insn.dst <= 0xF and 0 <= insn.src <= 0xF):
        raise ValueError(f"instruction field out of range: {insn}")
    if not (-0x8000 <= insn.off <= 0x7FFF and -0x8000_0000 <= insn.imm <= 0x7FFF_FFFF):
        raise ValueError(f"instruction off/imm out of range: {insn}")
    return _INSN.pack(insn.opcode, insn.dst | insn.src << 4, insn.off, insn.imm)


def encode(insns: Iterable[Insn]) -> bytes:
    """Pack instructions into the little-endian wire format."""
    return b"".join(encode_one(i) for i in insns)


def decode(data: bytes | bytearray | memoryview) -> list[Insn]:
    """Unpack wire bytes into one `Insn` per 8-byte slot.

    Raises ValueError if the length is not a multiple of 8. Content is not
    validated here -- that is the verifier's (and, at run time, the VM's) job.
    """
    n = len(data)
    if n % INSN_SIZE:
        raise ValueError(
            f"BPF program length {n} is not a multiple of {INSN_SIZE} bytes "
            f"({n // INSN_SIZE} whole instructions + {n % INSN_SIZE} stray bytes)"
        )
    return [
        Insn(opcode, regs & 0xF, regs >> 4, off, imm)
        for opcode, regs, off, imm in _INSN.iter_unpack(bytes(data))
    ]


def ld_imm64_value(lo: Insn, hi: Insn) -> int:
    """The unsigned 64-bit immediate of an ``ld_imm64`` pair."""
    return (lo.imm & 0xFFFF_FFFF) | (hi.imm & 0xFFFF_FFFF) << 32


def ld_imm64(dst: int, value: int, src: int = 0) -> tuple[Insn, Insn]:
    """Build the two slots of ``ld_imm64 dst, value`` (``src=1``: map reference)."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return (
        Insn(op.LD_IMM64, dst, src, 0, _s32(value & 0xFFFF_FFFF)),
        Insn(0, 0, 0, 0, _s32(value >> 32)),
    )


def _s32(v: int) -> int:
    v &= 0xFFFF_FFFF
    return v - (1 << 32) if v & 0x8000_0000 else v
