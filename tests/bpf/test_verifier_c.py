"""Verifier vs. what ``clang -O2 -target bpf`` really emits.

The C programs under ``tests/bpf/c`` are compiled once per session (cached by
source hash in ``build/``), split into programs, linked (``.text`` subprograms,
``.maps`` relocations) and verified with the hook they are written for. Every
accepted program is then run in the VM with a real map table: a verified
program must never hit a VM bounds error.
"""

from __future__ import annotations

import pytest

from kernel.abi import AttachType
from kernel.bpf.errors import VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import ENTRY_SPECS, verify
from tests.bpf.bpf_c import build_object, load_programs
from tests.bpf.verifier_cases import MAPS

MAP_SYMBOLS = {"counters": 3, "events": 1}

# (object, program, attach type)
ACCEPTED = [
    ("counter_array", "count_ticks", AttachType.TIMER),
    ("counter_array", "count_plain", AttachType.TIMER),
    ("maps_sym", "hash_counter", AttachType.TIMER),
    ("maps_sym", "ringbuf_event", AttachType.TIMER),
    ("maps_sym", "delete_and_print", AttachType.TIMER),
    ("payload", "trace_write", AttachType.SYS_ENTER),
    ("payload", "iio_filter", AttachType.IIO),
    ("payload", "sys_exit_nr", AttachType.SYS_EXIT),
    ("payload", "sched_next", AttachType.SCHED_SWITCH),
    ("payload", "sys_enter_argn", AttachType.SYS_ENTER),
    ("payload", "metrics", AttachType.TIMER),
    ("loops", "sum_unrolled", AttachType.TIMER),
    ("loops", "sum_loop", AttachType.TIMER),
    ("loops", "fill_value", AttachType.TIMER),
    ("loops", "stack_buf", AttachType.TIMER),
    ("loops", "clamped_loop", AttachType.TIMER),
    ("calls", "local_calls", AttachType.TIMER),
]

# (object, program, attach type, reason substring)
REJECTED = [
    ("rejected", "no_null_check", AttachType.TIMER, "invalid mem access 'map_value_or_null'"),
    (
        "rejected",
        "no_bounds_check",
        AttachType.SYS_ENTER,
        "invalid access to packet, off=56 size=8",
    ),
    (
        "rejected",
        "short_bounds_check",
        AttachType.SYS_ENTER,
        "invalid access to packet, off=0 size=8",
    ),
    (
        "rejected",
        "unbounded_index",
        AttachType.TIMER,
        "math between map_value pointer and register",
    ),
    (
        "rejected",
        "off_by_one",
        AttachType.TIMER,
        "invalid access to map value, value_size=128 off=[0,128]",
    ),
    ("rejected", "leak_pointer", AttachType.TIMER, "leaks addr into map"),
]

PAYLOADS = {
    AttachType.TIMER: None,
    AttachType.SYS_ENTER: (37).to_bytes(8, "little") + bytes(range(48)),
    AttachType.SYS_EXIT: bytes(16),
    AttachType.SCHED_SWITCH: bytes(range(40)),
    AttachType.IIO: bytes(16) + (500).to_bytes(4, "little") + bytes(12),
}


@pytest.fixture(scope="session")
def objects() -> dict[str, dict]:
    names = {o for o, *_ in ACCEPTED + REJECTED}
    return {n: load_programs(build_object(n), MAP_SYMBOLS) for n in sorted(names)}


def _map_table() -> MapTable:
    table = MapTable()
    for map_id in sorted(MAPS):
        m = MAPS[map_id]
        created = table.create(m.map_type, m.key_size, m.value_size, m.max_entries)
        assert created.id == map_id
    return table


@pytest.mark.parametrize(
    ("obj", "name", "hook"), ACCEPTED, ids=[f"{o}.{n}" for o, n, _ in ACCEPTED]
)
def test_clang_program_accepted_and_runs(objects, obj: str, name: str, hook: AttachType) -> None:
    insns = objects[obj][name]
    result = verify(insns, MAPS, ENTRY_SPECS[hook])
    assert result.insns_processed >= len(insns) // 2
    table = _map_table()
    vm = Vm(table)
    for _ in range(3):  # run a few times so map state changes between runs
        vm.run(Program(insns), payload=PAYLOADS[hook])


@pytest.mark.parametrize(
    ("obj", "name", "hook", "reason"), REJECTED, ids=[f"{o}.{n}" for o, n, *_ in REJECTED]
)
def test_clang_program_rejected(
    objects, obj: str, name: str, hook: AttachType, reason: str
) -> None:
    with pytest.raises(VerifierError) as info:
        verify(objects[obj][name], MAPS, ENTRY_SPECS[hook])
    assert reason in info.value.reason, info.value.log
    assert info.value.insn_idx >= 0


def test_maps_symbols_patched_to_pseudo_map(objects) -> None:
    insns = objects["maps_sym"]["hash_counter"]
    refs = [i for i in insns if i.opcode == 0x18 and i.src == 1]
    assert refs and all(i.imm == MAP_SYMBOLS["counters"] for i in refs)


def test_generic_hook_accepts_every_clang_program(objects) -> None:
    for obj, name, _ in ACCEPTED:
        verify(objects[obj][name], MAPS)
