"""kernel.bpf.elf.load_object on clang-built objects: maps, global data, calls, programs.

Every object comes from ``tests/bpf/c_elf/*.c`` compiled with the guest SDK's flags
(cached under build/). Loaded programs are run in the VM against the same map table
the loader created their maps in, as the kernel would.
"""

from __future__ import annotations

import struct

import pytest

from kernel.abi import AttachType, MapType, MapUpdateFlag
from kernel.bpf.elf import ElfVerifierError, load_object, parse_object
from kernel.bpf.errors import VerifierError
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa import opcodes as op
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.maps import MapTable, RingBufMap, TimeseriesMap
from tests.bpf.c_elf import compile_object, compile_source
from userspace.bpf_build import BPF_SRC

KEY0 = bytes(4)
U64 = struct.Struct("<Q")


def _load(name: str, table: MapTable | None = None):
    table = table if table is not None else MapTable()
    return load_object(compile_object(name), table), table


def test_maps_of_every_type_are_created_and_used() -> None:
    table = MapTable()
    table.create(MapType.ARRAY, 4, 4, 1)  # an existing map: object ids continue after it
    obj, _ = _load("maps_all", table)
    assert obj.name == "maps_all"
    assert obj.maps == {"counts": 1, "slots": 2, "events": 3, "series": 4}
    geometry = {
        n: (m.map_type, m.key_size, m.value_size, m.max_entries) for n, m in obj.map_info.items()
    }
    assert geometry == {
        "counts": (MapType.HASH, 4, 8, 16),
        "slots": (MapType.ARRAY, 4, 8, 4),
        "events": (MapType.RINGBUF, 0, 0, 4096),
        "series": (MapType.TIMESERIES, 8, 8, 8),
    }
    prog = obj.program("use_all")
    assert prog.attach_type is AttachType.TIMER and prog.section == "timer"
    # every map reference became ld_imm64 src=1 with the real id
    refs = {i.imm for i in prog.insns if i.is_ld_imm64 and i.src == op.BPF_PSEUDO_MAP_FD}
    assert refs == {1, 2, 3, 4}
    assert prog.program.map_ids == frozenset(refs)
    vm = Vm(table, TestHelperEnv())
    assert vm.run(prog.program) == 0
    assert vm.run(prog.program) == 0
    assert U64.unpack(table.get(1).lookup(struct.pack("<I", 7)))[0] == 2
    assert U64.unpack(table.get(2).lookup(struct.pack("<I", 2)))[0] == 20
    ring, series = table.get(3), table.get(4)
    assert isinstance(ring, RingBufMap) and isinstance(series, TimeseriesMap)
    assert [U64.unpack(ring.poll(64))[0] for _ in range(2)] == [10, 20]
    assert [U64.unpack(v)[0] for _, v in series.entries()] == [10, 20]


def test_ringbuf_records_from_c() -> None:
    obj, table = _load("maps_all")
    vm = Vm(table, TestHelperEnv())
    vm.run(obj.program("use_all").program)
    ring = table.get(obj.maps["events"])
    assert U64.unpack(ring.poll(64))[0] == 10


def test_global_data_read_and_written_by_bpf() -> None:
    obj, table = _load("globals")
    assert obj.maps == {".data": 0, ".rodata": 1, ".bss": 2, ".rodata.str1.1": 3}
    info = obj.map_info[".bss"]
    assert info.global_data and (info.map_type, info.key_size, info.max_entries) == (2, 4, 1)
    assert info.value_size == 16  # last_seen (8) + pad_and_flag (8)
    data = table.get(obj.maps[".data"])
    assert U64.unpack(data.lookup(KEY0))[0] == 100  # initialised from the object
    assert U64.unpack(table.get(obj.maps[".rodata"]).lookup(KEY0))[0] == 5
    prog = obj.program("bump").program
    assert any(i.src == op.BPF_PSEUDO_MAP_VALUE for i in prog.insns if i.is_ld_imm64)
    env = TestHelperEnv()
    vm = Vm(table, env)
    assert vm.run(prog) == 105
    assert vm.run(prog) == 110
    assert U64.unpack(data.lookup(KEY0))[0] == 110
    last_seen, pad, flag = struct.unpack("<QII", table.get(obj.maps[".bss"]).lookup(KEY0))
    assert (last_seen, pad, flag) == (110, 0, 0xABCD)
    assert [m for _, _, m in env.logs] == ["[BPF] bumped", "[BPF] bumped"]


def test_global_data_written_from_userspace_is_seen_by_bpf() -> None:
    obj, table = _load("globals")
    data = table.get(obj.maps[".data"])
    data.update(KEY0, U64.pack(1000), MapUpdateFlag.ANY)  # what MAP_UPDATE_ELEM does
    rodata = table.get(obj.maps[".rodata"])
    rodata.update(KEY0, U64.pack(1), MapUpdateFlag.ANY)
    vm = Vm(table, TestHelperEnv())
    assert vm.run(obj.program("bump").program) == 1001
    assert U64.unpack(table.get(obj.maps[".bss"]).lookup(KEY0)[:8])[0] == 1001


def test_local_functions_are_linked_per_program() -> None:
    obj, table = _load("calls")
    assert [(p.name, p.section) for p in obj.programs] == [
        ("calls_twice", "timer"),
        ("calls_once", "timer/other"),
    ]
    vm = Vm(table)
    assert vm.run(obj.program("calls_twice").program) == 25
    assert vm.run(obj.program("calls_once").program) == 81
    for prog in obj.programs:
        calls = [i for i in prog.insns if i.is_local_call]
        assert calls and all(
            0 <= k + 1 + i.imm < len(prog.insns)
            for k, i in enumerate(prog.insns)
            if i.is_local_call
        )
        # the unused global .text function is never linked in (it adds 12345)
        assert all(i.imm != 12345 for i in prog.insns)
    # calls_once only needs square(); calls_twice needs sum_squares() and square()
    assert len(obj.program("calls_once").insns) < len(obj.program("calls_twice").insns)


def test_several_programs_and_every_attach_type() -> None:
    obj, table = _load("multi")
    attach = {p.name: (p.section, p.attach_type) for p in obj.programs}
    assert attach == {
        "t_first": ("timer", AttachType.TIMER),
        "t_second": ("timer", AttachType.TIMER),
        "on_enter": ("sys_enter/write", AttachType.SYS_ENTER),
        "on_exit": ("sys_exit", AttachType.SYS_EXIT),
        "on_switch": ("sched_switch", AttachType.SCHED_SWITCH),
        "on_sample": ("iio", AttachType.IIO),
        "on_edge": ("gpio", AttachType.GPIO),
        "on_pwm": ("pwm", AttachType.PWM),
    }
    assert obj.programs[0].name == "t_first"  # PROG_LOAD_ELF returns this one's id
    vm = Vm(table)
    run = lambda name, payload=None: vm.run(obj.program(name).program, payload=payload)  # noqa: E731
    assert run("t_first") == 1 and run("t_second") == 2
    assert run("on_enter", struct.pack("<7Q", 37, 1, 2, 99, 4, 5, 6)) == 99
    assert run("on_enter", struct.pack("<7Q", 36, 1, 2, 99, 4, 5, 6)) == 0
    assert run("on_exit", struct.pack("<Qq", 37, 12)) == 12
    assert run("on_switch", struct.pack("<5Q", 0, 1, 1, 42, 42)) == 42
    assert run("on_sample", struct.pack("<QIIiIi4x", 0, 0, 0, 500, 1_000_000, 0)) == 500
    assert run("on_edge", struct.pack("<QIIII", 0, 0, 17, 1, 1)) == 17
    assert run("on_pwm", struct.pack("<QIIIIII", 0, 0, 1, 1000, 250, 0, 1)) == 250
    assert run("on_enter") == 0  # no payload: the bounds check fails, no fault


def test_verifier_rejection_names_the_program_and_creates_no_maps() -> None:
    table = MapTable()
    table.create(MapType.ARRAY, 4, 8, 1)
    with pytest.raises(ElfVerifierError) as exc:
        _load("rejected", table)
    err = exc.value
    assert isinstance(err, VerifierError)
    assert (err.program, err.section) == ("no_null_check", "timer")
    assert err.reason == "R0 invalid mem access 'map_value_or_null'"
    assert err.log.startswith("program 'no_null_check' (section 'timer'), at rejected.c:12:\n")
    assert len(table) == 1  # nothing created
    obj, _ = _load("maps_all", table)
    assert min(obj.maps.values()) == 1  # no id was burnt by the failed load


def test_pin_paths_and_object_name() -> None:
    obj, _ = _load("calls")
    assert obj.pin_paths([7, 8]) == {"calls/prog/calls_twice": 7, "calls/prog/calls_once": 8}
    obj, _ = _load("globals")
    assert obj.pin_paths([3]) == {
        "globals/.data": 0,
        "globals/.rodata": 1,
        "globals/.bss": 2,
        "globals/.rodata.str1.1": 3,
        "globals/prog/bump": 3,
    }
    named = load_object(compile_object("calls"), MapTable(), name="demo")
    assert named.name == "demo" and "demo/prog/calls_once" in named.pin_paths([0, 1])
    with pytest.raises(ValueError):
        obj.pin_paths([])


def test_parse_object_has_no_side_effects() -> None:
    parsed = parse_object(compile_object("maps_all"))
    assert [m.name for m in parsed.maps] == ["counts", "slots", "events", "series"]
    assert [p.name for p in parsed.programs] == ["use_all"]


def test_unreferenced_data_section_gets_no_map() -> None:
    """A stack string's initialiser stays in .rodata.str1.1 but nothing refers to it."""
    obj = load_object(compile_source(BPF_SRC / "bpf_loader.bpf.c"), MapTable())
    assert obj.maps == {"counter": 0, "events": 1}
