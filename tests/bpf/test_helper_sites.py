"""Specialised helper call sites (`runtime.helpers.bind`) behave as the helpers.

The compiler folds block-local constants (``mov r1, 3``, ``r2 = r10 - 4`` in a program
without local calls) and, where a call's constant arguments allow it, calls a bound
site function instead of the helper -- but only while the run's helper table still
holds the library's helper. Each case below runs through the compiled function and the
reference interpreter (`test_compiler_diff.assert_same`: r0 or the error and its pc,
steps, caller memory, every map, the helper log, at every budget), so each fast path
and each of its fall-backs to the general helper must agree exactly.
Maps (`verifier_cases.MAPS`): 0 array 4/8/16, 1 ringbuf 4096, 2 array 4/128/1, 3 hash.
"""

from __future__ import annotations

import pytest

from kernel.abi import Errno, Helper, MapType
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import ExecState, Vm, make_context
from kernel.bpf.isa.asm import assemble
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.helpers import HELPERS, HelperFn
from kernel.bpf.runtime.maps import MapTable, RingBufMap
from kernel.bpf.samples import TIMER_COUNTER
from tests.bpf.test_compiler_diff import assert_same

M64 = (1 << 64) - 1


def _lookup(map_id: int, index: int, key_off: int = -4) -> str:
    return (
        f"mov r1, {index}\nstxw [r10-4], r1\nmov r1, {map_id}\nmov r2, r10\n"
        f"add r2, {key_off}\ncall map_lookup_elem\n"
    )


def _output(map_id: int, size: int = 8, flags: int = 0) -> str:
    return (
        f"stdw [r10-16], 77\nmov r1, {map_id}\nmov r2, r10\nadd r2, -16\n"
        f"mov r3, {size}\nmov r4, {flags}\ncall ringbuf_output\n"
    )


SITES = {
    "timer_counter": TIMER_COUNTER.format(counter=0, ringbuf=1),
    "lookup_hit_and_write": _lookup(0, 3) + "jeq r0, 0, +2\nstdw [r0+0], 9\nldxdw r0, [r0]\nexit",
    "lookup_index_past_end": _lookup(0, 16) + "exit",
    "lookup_big_value": _lookup(2, 0) + "jeq r0, 0, +1\nldxdw r0, [r0+120]\nexit",
    "lookup_hash_map_general_path": _lookup(3, 1) + "exit",
    "lookup_missing_map": _lookup(9, 0) + "exit",
    "lookup_ringbuf_is_not_an_array": _lookup(1, 0) + "exit",
    "lookup_key_past_stack_end": _lookup(0, 0, key_off=-2) + "exit",
    "lookup_twice_same_address": _lookup(0, 5)
    + "mov r6, r0\n"
    + _lookup(0, 5)
    + "sub r0, r6\nexit",
    "lookup_key_through_r1_from_r10": (
        "stw [r10-8], 2\nmov r2, r10\nadd r2, -8\nmov r1, 0\ncall map_lookup_elem\n"
        "jeq r0, 0, +1\nldxdw r0, [r0]\nexit"
    ),
    "output": _output(1) + "exit",
    "output_to_an_array": _output(0) + "exit",
    "output_to_missing_map": _output(11) + "exit",
    "output_past_the_stack": _output(1, size=24) + "exit",
    "output_negative_size": _output(1, size=-1) + "exit",
    "output_bad_flags": _output(1, flags=7) + "exit",
    "output_until_full": "mov r6, 0\nloop:\n"
    + _output(1, 16)
    + "add r6, 1\njlt r6, 200, loop\nexit",
    "printk_plain_twice": (
        "stw [r10-8], 0x6b636954\nsth [r10-4], 0x21\nmov r1, r10\nadd r1, -8\nmov r2, 6\n"
        "call trace_printk\ncall trace_printk\nexit"
    ),
    "printk_format": (
        "stw [r10-8], 0x7525\nmov r1, r10\nadd r1, -8\nmov r2, 3\nmov r3, 41\n"
        "call trace_printk\nexit"
    ),
    "printk_bad_format": (
        "stw [r10-8], 0x7125\nmov r1, r10\nadd r1, -8\nmov r2, 3\ncall trace_printk\nexit"
    ),
    "printk_no_nul_to_stack_end": (
        "stdw [r10-8], 0x41424344\nstw [r10-4], 0x45464748\nmov r1, r10\nadd r1, -8\n"
        "mov r2, 8\ncall trace_printk\nexit"
    ),
    # one site, its text changing run to run: "", "A", "", ... and "A", "AB", "A", ...
    "printk_changing_text_at_one_site": (
        "mov r6, 0\nloop:\nmov r7, r6\nand r7, 1\nmul r7, 65\nstxb [r10-8], r7\n"
        "stb [r10-7], 0\nmov r1, r10\nadd r1, -8\nmov r2, 2\ncall trace_printk\n"
        "add r6, 1\njlt r6, 5, loop\nexit"
    ),
    "printk_prefix_of_the_last_text": (
        "mov r6, 0\nstb [r10-8], 65\nstb [r10-6], 0\nloop:\nmov r7, r6\nand r7, 1\n"
        "mul r7, 66\nstxb [r10-7], r7\nmov r1, r10\nadd r1, -8\nmov r2, 3\n"
        "call trace_printk\nadd r6, 1\njlt r6, 5, loop\nexit"
    ),
    "printk_from_context": "lddw r1, 0x100000018\nmov r2, 4\ncall trace_printk\nexit",
    "printk_unmapped": "lddw r1, 0x500000000\nmov r2, 4\ncall trace_printk\nexit",
    "printk_past_the_stack": "mov r1, r10\nmov r2, 1\ncall trace_printk\nexit",
    "printk_from_map_value": (
        _lookup(2, 0) + "jeq r0, 0, +4\nstw [r0], 0x216948\nmov r1, r0\nmov r2, 4\n"
        "call trace_printk\nexit"
    ),
}


@pytest.mark.parametrize("src", SITES.values(), ids=SITES.keys())
def test_bound_sites_agree_with_the_reference(src: str) -> None:
    assert_same(Program(assemble(src)))


def test_the_timer_program_uses_bound_sites() -> None:
    source = Program(assemble(SITES["timer_counter"])).compiled.source
    for helper in (Helper.MAP_LOOKUP_ELEM, Helper.RINGBUF_OUTPUT, Helper.TRACE_PRINTK):
        assert f"fn = m.helpers.get({int(helper)})\n" in source  # another table's path
    assert source.count("fn = SITE_") == 3
    assert "lib = m.helpers is LIBRARY_HELPERS" in source  # the library's: no lookups
    assert "r2 = 68719477244" in source  # r10 - 4 folded (main frame, no local calls)


def _timer_vm(
    helpers: dict[int, HelperFn] | None = None,
) -> tuple[Vm, Program, RingBufMap, TestHelperEnv]:
    maps = MapTable()
    counter = maps.create(MapType.ARRAY, 4, 8, 1)
    ring = maps.create(MapType.RINGBUF, 0, 0, 64)
    assert isinstance(ring, RingBufMap)
    env = TestHelperEnv()
    program = Program(assemble(TIMER_COUNTER.format(counter=counter.id, ringbuf=ring.id)))
    return Vm(maps, env, helpers), program, ring, env


def test_a_swapped_helper_table_takes_the_general_path() -> None:
    calls: list[int] = []

    def recording(helper_id: int) -> HelperFn:
        fn = HELPERS[helper_id]

        def rec(st: ExecState, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
            calls.append(helper_id)
            return fn(st, r1, r2, r3, r4, r5)

        return rec

    table = {k: recording(k) for k in HELPERS}
    vm, program, ring, env = _timer_vm(table)
    assert vm.run(program, make_context()) == 0
    assert calls == [Helper.MAP_LOOKUP_ELEM, Helper.RINGBUF_OUTPUT, Helper.TRACE_PRINTK]
    assert ring.poll(8) == (1).to_bytes(8, "little")
    assert env.messages == ["[BPF] Tick!"]
    # the same compiled function with the library's table: bound sites, same effects
    plain, _, ring2, env2 = _timer_vm()
    plain.maps = vm.maps
    plain.run(program, make_context())
    assert ring.poll(8) == (2).to_bytes(8, "little") and ring2.poll(8) is None
    assert calls == [Helper.MAP_LOOKUP_ELEM, Helper.RINGBUF_OUTPUT, Helper.TRACE_PRINTK]
    assert env2.messages == ["[BPF] Tick!"]


def test_ring_records_across_runs_wrap_drop_and_count_as_the_reference() -> None:
    # 64-byte ring, 16-byte records: 4 fit; consuming 3 of every 5 makes the writes
    # wrap around the end and some drop (ENOSPC), counted in `dropped`.
    outcomes = []
    for reference in (True, False):
        vm, program, ring, env = _timer_vm()
        vm.reference = reference
        seen = []
        for tick in range(40):
            vm.run(program, make_context(boot_time_ms=tick))
            if tick % 5 < 3:
                seen.append(ring.poll(8))
        outcomes.append((seen, ring.peek_all(), ring.dropped, ring.used, env.logs))
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][2] > 0  # some records were dropped


def test_ringbuf_site_errors_are_the_helpers() -> None:
    for src, want in (
        (_output(0) + "exit", -Errno.EINVAL),
        (_output(11) + "exit", -Errno.ENOENT),
        (_output(1, size=24) + "exit", -Errno.EFAULT),
        (_output(1, flags=7) + "exit", -Errno.EINVAL),
    ):
        maps = MapTable()
        maps.create(MapType.ARRAY, 4, 8, 16)
        maps.create(MapType.RINGBUF, 0, 0, 4096)
        program = Program(assemble(src))
        assert "SITE_" in program.compiled.source
        assert Vm(maps, TestHelperEnv()).run(program) == want & M64
