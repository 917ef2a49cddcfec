"""``ld_imm64`` src=2 (BPF_PSEUDO_MAP_VALUE), added for ELF global data.

VM: the register is a live pointer to value 0 of the map plus the second slot's
offset. Verifier: a PTR_TO_MAP_VALUE with that fixed offset, only for single-entry
array maps and offsets inside the value. Disassembler: ``map[id][0]+off``.
"""

from __future__ import annotations

import struct

import pytest

from kernel.abi import AttachType, MapType
from kernel.bpf.errors import BpfRuntimeError, VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.asm import assemble
from kernel.bpf.isa.disasm import disassemble
from kernel.bpf.isa.insn import Insn, ld_imm64
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import ENTRY_SPECS, verify

TIMER = ENTRY_SPECS[AttachType.TIMER]
KEY0 = bytes(4)


def _prog(map_id: int, off: int, body: str) -> list[Insn]:
    """``r1 = &map[map_id][0] + off`` followed by ``body``."""
    return [*ld_imm64(1, map_id | off << 32, src=op.BPF_PSEUDO_MAP_VALUE), *assemble(body)]


@pytest.fixture
def table() -> MapTable:
    t = MapTable()
    t.create(MapType.ARRAY, 4, 16, 1)  # id 0: global data, 16 bytes
    t.create(MapType.HASH, 4, 8, 4)  # id 1
    t.create(MapType.ARRAY, 4, 8, 2)  # id 2: two entries
    return t


def test_vm_reads_and_writes_the_value(table: MapTable) -> None:
    table.get(0).update(KEY0, struct.pack("<QQ", 7, 100))
    insns = _prog(0, 8, "ldxdw r0, [r1+0]\nadd r0, 1\nstxdw [r1+0], r0\nexit")
    prog = Program(insns)
    assert prog.map_ids == frozenset({0})
    vm = Vm(table)
    assert vm.run(prog) == 101
    assert vm.run(prog) == 102
    assert struct.unpack("<QQ", table.get(0).lookup(KEY0)) == (7, 102)


def test_vm_same_address_as_map_lookup(table: MapTable) -> None:
    """Global data and map_lookup_elem hand out the same region within a run."""
    body = """
        mov r6, r1
        stw [r10-4], 0
        mov r1, 0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        sub r0, r6
        exit
    """
    assert Vm(table).run(Program(_prog(0, 0, body))) == 0


def test_vm_bounds_and_missing_map(table: MapTable) -> None:
    with pytest.raises(BpfRuntimeError, match="out-of-bounds read"):
        Vm(table).run(Program(_prog(0, 12, "ldxdw r0, [r1+0]\nexit")))
    with pytest.raises(BpfRuntimeError, match="no value for global data map 9"):
        Vm(table).run(Program(_prog(9, 0, "mov r0, 0\nexit")))


def test_disassembly() -> None:
    assert disassemble(_prog(3, 8, "exit"))[0] == "0: r1 = map[3][0]+8 ll"


def test_verifier_accepts_in_bounds_access(table: MapTable) -> None:
    verify(_prog(0, 8, "ldxdw r0, [r1+0]\nstxdw [r1+0], r0\nmov r0, 0\nexit"), table, TIMER)
    verify(_prog(0, 0, "ldxdw r0, [r1+8]\nmov r0, 0\nexit"), table, TIMER)


@pytest.mark.parametrize(
    ("map_id", "off", "body", "reason"),
    [
        (
            0,
            12,
            "ldxdw r0, [r1+0]\nexit",
            "invalid access to map value, value_size=16 off=12 size=8",
        ),
        (0, 16, "mov r0, 0\nexit", "invalid access to map value pointer, value_size=16 off=16"),
        (1, 0, "mov r0, 0\nexit", "direct value access on map type 1 not supported"),
        (2, 0, "mov r0, 0\nexit", "direct value access on map type 2 not supported"),
        (9, 0, "mov r0, 0\nexit", "map id 9 does not exist"),
        (0, 0, "mov r0, r1\nexit", "R0 leaks addr as return value (R0 type=map_value)"),
    ],
)
def test_verifier_rejections(
    table: MapTable, map_id: int, off: int, body: str, reason: str
) -> None:
    with pytest.raises(VerifierError) as exc:
        verify(_prog(map_id, off, body), table, TIMER)
    assert exc.value.reason == reason
    assert exc.value.insn_idx in (0, 2, 3)
