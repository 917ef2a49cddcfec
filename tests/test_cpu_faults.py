"""Memory faults end the slice with the kind and the address of the access, on both
architectures (the console line a killed process gets is built from these)."""

from __future__ import annotations

import struct

import pytest

from emulator.cpu import CPU_CLASSES, FaultKind, StopReason
from kernel.mm import PROT_R, PROT_W, PROT_X

CODE, DATA, NONE, HOLE = 0x400000, 0x500000, 0x600000, 0x900000
PAGE = 0x1000
# (load from [ptr], store to [ptr], jump to ptr); ptr in rbx / x1
INSNS = {
    "x86_64": (b"\x48\x8b\x03", b"\x48\x89\x03", b"\xff\xe3"),
    "aarch64": tuple(struct.pack("<I", w) for w in (0xF9400020, 0xF9000020, 0xD61F0020)),
}
PTR = {"x86_64": "UC_X86_REG_RBX", "aarch64": "UC_ARM64_REG_X1"}
CASES = [
    (0, HOLE, FaultKind.READ_UNMAPPED),
    (1, HOLE, FaultKind.WRITE_UNMAPPED),
    (2, HOLE, FaultKind.FETCH_UNMAPPED),
    (0, NONE, FaultKind.READ_PROT),
    (1, CODE, FaultKind.WRITE_PROT),
    (2, DATA, FaultKind.FETCH_PROT),
]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
@pytest.mark.parametrize(("which", "target", "kind"), CASES)
def test_fault_kind_and_address(arch: str, which: int, target: int, kind: FaultKind) -> None:
    import unicorn

    cpu = CPU_CLASSES[arch](lambda *_: None)
    cpu.map(CODE, PAGE, PROT_R | PROT_X)
    cpu.map(DATA, PAGE, PROT_R | PROT_W)
    cpu.map(NONE, PAGE, 0)
    cpu.uc.mem_write(CODE, INSNS[arch][which])
    const = unicorn.x86_const if arch == "x86_64" else unicorn.arm64_const
    address = target + 0x28
    cpu.uc.reg_write(getattr(const, PTR[arch]), address)
    cpu.pc = CODE
    result = cpu.run(budget=4)
    assert result.reason is StopReason.FAULT and result.fault is not None
    assert result.fault.kind is kind
    assert result.fault.address == address
    fetch = kind in (FaultKind.FETCH_UNMAPPED, FaultKind.FETCH_PROT)
    assert result.fault.pc == (address if fetch else CODE)
