"""The verifier against what Linux 6.18 accepts and refuses (issue 9).

Precision tracking and pruning (the bench programs: accepted, with Linux-like
processed counts; the 1 M budget refused in Linux's words), precision that
clang output needs, the soundness rules (spilled pointers, frozen .rodata), the
log (map names, log_level 2 notation, the kept tail) and the guest time charged
for verification. Each program is also executed where acceptance is the claim.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import pytest

from bench.verifier_bench import big_program
from bench.verifier_programs import (
    TOO_LARGE,
    bench_maps,
    counted_loop,
    if_chain,
    jset_chain,
    running_max_object,
)
from kernel.abi import BpfAttrOff, Errno, MapType, SyscallError
from kernel.bpf.elf import load_object
from kernel.bpf.elf.loader import ElfVerifierError
from kernel.bpf.errors import VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm, make_context
from kernel.bpf.isa.asm import assemble
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import NS_PER_INSN, NS_PER_STATE, cost_ns, verify
from tests.bpf.c_elf import compile_object

if TYPE_CHECKING:
    from kernel.syscalls.bpf import Attr


def _maps(value_size: int = 8, entries: int = 4) -> MapTable:
    table = MapTable()
    table.create(MapType.ARRAY, 4, value_size, entries)  # map 0
    return table


def _reject(src: str, maps: MapTable | None = None, **kw) -> VerifierError:
    with pytest.raises(VerifierError) as e:
        verify(assemble(src), maps if maps is not None else _maps(), **kw)
    return e.value


def _run(src: str, maps: MapTable) -> int:
    prog = Program(assemble(src), "t")
    return Vm(maps, TestHelperEnv()).run(prog, make_context())


# ---------------------------------------------------------------- 1. pruning


def test_running_max_c_loop_accepted_within_linux_budget() -> None:
    obj = load_object(running_max_object(), MapTable())
    (prog,) = obj.programs
    assert prog.verifier.insns_processed <= 10_000  # Linux 6.18: 2860


def test_independent_ifs_are_pruned_not_multiplied() -> None:
    res = verify(assemble(if_chain(200)), bench_maps())
    # 200 two-way branches: 2**200 paths without pruning; ~5 insns per if with it
    assert res.insns_processed <= 5 * 5 * 200


def test_branchy_benchmark_and_counted_loop_accepted() -> None:
    maps = bench_maps()
    assert verify(assemble(big_program()), maps).insns_processed < 10_000
    loop = verify(assemble(counted_loop(1000)), maps)
    assert 1000 * 11 <= loop.insns_processed <= 1000 * 13  # one walk per iteration


def test_budget_refusal_uses_linux_words() -> None:
    err = _reject(TOO_LARGE, bench_maps(), max_insns=5000)
    lines = err.log.splitlines()
    assert "BPF program is too large. Processed 5001 insn" in lines
    assert lines[-1].startswith("processed 5001 insns (limit 5000) ")
    assert err.reason.startswith("back-edge from insn 4 to 2: program too complex")


def test_state_explosion_is_refused_by_the_state_limit() -> None:
    from kernel.bpf.verifier import DEFAULT_MAX_STATES

    assert DEFAULT_MAX_STATES == 32_768
    src = jset_chain(20)
    err = _reject(src, bench_maps(), max_states=500)
    assert err.reason == "program too complex: more than 500 states explored"
    assert "total_states 501 " in err.log


def test_precise_value_is_not_pruned_away() -> None:
    """Both paths reach the join; the second's r6 = 100 must still be checked."""
    src = (
        """
        call get_prandom_u32
        mov r7, r0
    """
        + _lookup()
        + """
        jeq r0, 0, out
        jgt r7, 10, big
        mov r6, 0
        ja join
    big:
        mov r6, 100
    join:
        add r0, r6
        ldxdw r0, [r0+0]
    out:
        mov r0, 0
        exit
    """
    )
    err = _reject(src)
    assert "invalid access to map value, value_size=8 off=100 size=8" in err.reason


def test_imprecise_values_do_not_block_pruning() -> None:
    """30 if/else diamonds updating an accumulator no decision depends on: the
    second path of each is cut at (or just after) its join, so the walk is linear."""
    diamond = """
        call get_prandom_u32
        jgt r0, 10, big{i}
        add r7, 1
        ja join{i}
    big{i}:
        add r7, 2
    join{i}:
        add r7, 3
    """
    src = "mov r7, 0\n" + "".join(diamond.format(i=i) for i in range(30)) + "mov r0, r7\nexit"
    res = verify(assemble(src), _maps())
    assert res.insns_processed <= 30 * 10  # 2**30 paths without pruning


def _lookup(key: int = 0, map_ref: str = "mov r1, 0") -> str:
    return f"""
        stw [r10-4], {key}
        {map_ref}
        mov r2, r10
        add r2, -4
        call map_lookup_elem
    """


# ---------------------------------------------------------------- 2. precision clang needs


def test_const_in_range_key_lookup_never_null_asm() -> None:
    maps = _maps()
    src = _lookup(3, "lddw r1, map:0") + "ldxdw r0, [r0+0]\nexit"
    verify(assemble(src), maps)
    maps.get(0).update(struct.pack("<I", 3), struct.pack("<Q", 42))
    assert _run(src, maps) == 42


def test_const_key_out_of_range_or_plain_map_id_keeps_null_check() -> None:
    err = _reject(_lookup(4, "lddw r1, map:0") + "ldxdw r0, [r0+0]\nexit")
    assert err.reason == "R0 invalid mem access 'map_value_or_null'"
    err = _reject(_lookup(3) + "ldxdw r0, [r0+0]\nexit")
    assert err.reason == "R0 invalid mem access 'map_value_or_null'"


def test_clang_const_key_and_int_index_accepted() -> None:
    obj = load_object(compile_object("precise"), MapTable())
    assert {p.name for p in obj.programs} == {"const_key", "int_index"}


@pytest.mark.parametrize("extend", ["lsh r6, 32\narsh r6, 32", "movsx32 r6, r6"])
def test_signed_32bit_checks_refine_sign_extended_index(extend: str) -> None:
    src = (
        "call ktime_get_ns\nmov r6, r0\n"
        + extend
        + _lookup(0, "lddw r1, map:0")
        + """
        mov r7, r0
        mov r0, 0
        jslt32 w6, 0, out
        jsgt32 w6, 11, out
        lsh r6, 2
        add r7, r6
        ldxw r0, [r7+0]
    out:
        exit
    """
    )
    verify(assemble(src), _maps(48, 1))
    err = _reject(src.replace("jsgt32 w6, 11", "jsgt32 w6, 12"), _maps(48, 1))
    assert "invalid access to map value, value_size=48" in err.reason


@pytest.mark.parametrize(("store", "load"), [("stb", "ldxb"), ("sth", "ldxh"), ("stw", "ldxw")])
def test_narrow_spill_of_a_constant_keeps_it(store: str, load: str) -> None:
    src = (
        _lookup(0)
        + f"""
        jeq r0, 0, out
        {store} [r10-16], 6
        {load} r1, [r10-16]
        add r0, r1
        ldxb r0, [r0+0]
    out:
        exit
    """
    )
    verify(assemble(src), _maps())
    maps = _maps()
    maps.get(0).update(bytes(4), bytes(range(8)))
    assert _run(src, maps) == 6


def test_narrow_register_spill_keeps_the_constant() -> None:
    src = (
        _lookup(0)
        + """
        jeq r0, 0, out
        mov r3, 5
        stxw [r10-12], r3
        ldxw r1, [r10-12]
        add r0, r1
        ldxb r0, [r0+0]
    out:
        exit
    """
    )
    verify(assemble(src), _maps())


@pytest.mark.parametrize(
    ("compute", "ok"),
    [
        ("and r1, 0xff00\nbe16 r1", True),  # known bits follow their byte
        ("and r1, 0xff00\nbswap16 r1", True),
        ("and r1, 7\nneg r1\nadd r1, 7", True),  # neg of [0,7] is [-7,0]
        ("and r1, 3\nmul r1, 2", True),
        ("and32 w1, 0x1f\nadd32 w1, 1", True),  # ALU32 keeps the range
        ("and r1, 0x1ff", False),  # 511 is past the value
    ],
)
def test_known_bits_and_ranges_reach_the_index(compute: str, ok: bool) -> None:
    src = (
        "call ktime_get_ns\nmov r1, r0\n"
        + compute
        + "\nmov r6, r1\n"
        + _lookup(0)
        + """
        jeq r0, 0, out
        add r0, r6
        ldxb r0, [r0+0]
    out:
        exit
    """
    )
    maps = _maps(256, 1)
    if ok:
        verify(assemble(src), maps)
    else:
        assert "invalid access to map value" in _reject(src, maps).reason


def test_helper_return_range_u32() -> None:
    src = (
        "call get_prandom_u32\nmov r6, r0\nrsh r6, 24\n"
        + _lookup(0)
        + "jeq r0, 0, out\nadd r0, r6\nldxb r0, [r0+0]\nout:\nexit"
    )
    verify(assemble(src), _maps(256, 1))
    err = _reject(src.replace("get_prandom_u32", "ktime_get_ns"), _maps(256, 1))
    assert err.reason == "R0 math between map_value pointer and register with unbounded value"


def test_uninitialised_stack_bytes_never_reach_a_helper() -> None:
    src = """
        stb [r10-4], 1
        mov r1, 0
        mov r2, r10
        add r2, -4
        call map_lookup_elem
        mov r0, 0
        exit
    """
    err = _reject(src)
    assert err.reason == "invalid indirect read from stack off -4+1 size 4"


# ---------------------------------------------------------------- 3. soundness


def test_partial_overwrite_of_spilled_pointer_refused() -> None:
    err = _reject("stxdw [r10-8], r10\nstw [r10-4], 0\nldxw r0, [r10-8]\nexit")
    assert (err.insn_idx, err.reason) == (1, "attempt to corrupt spilled pointer on stack")


def test_full_overwrite_of_spilled_pointer_is_fine() -> None:
    verify(assemble("stxdw [r10-8], r10\nstdw [r10-8], 0\nldxw r0, [r10-8]\nexit"), _maps())


def test_rodata_is_frozen() -> None:
    maps = MapTable()
    with pytest.raises(ElfVerifierError) as e:
        load_object(compile_object("rodata"), maps)
    assert e.value.program == "write_limit"
    assert e.value.reason == "write into map forbidden, value_size=8 off=0 size=8"
    assert len(maps) == 0  # nothing created for a rejected object


def test_rodata_reads_work_and_the_map_is_frozen() -> None:
    from kernel.bpf.elf import parse_object
    from kernel.bpf.elf.loader import link_and_verify

    parsed = parse_object(compile_object("rodata"))
    verdicts = {p.name: v for p, _i, v in link_and_verify(parsed, MapTable())}
    assert not isinstance(verdicts["read_limit"], VerifierError)
    assert isinstance(verdicts["write_limit"], VerifierError)


# ---------------------------------------------------------------- 4. the log


def test_maps_appear_by_name_in_the_log() -> None:
    from kernel.bpf.elf import parse_object
    from kernel.bpf.elf.loader import link_and_verify

    parsed = parse_object(compile_object("rejected"))
    (err,) = [v for _p, _i, v in link_and_verify(parsed, MapTable()) if isinstance(v, Exception)]
    assert "r1 = map 'values' ll" in err.log
    assert "map=values,ks=4,vs=8" in err.log
    assert "map[42" not in err.log and "map=42" not in err.log


def test_log_level_2_prints_linux_state_notation() -> None:
    src = "call get_prandom_u32\nand r0, 63\nmov r2, r0\nstxdw [r10-8], r10\nmov r0, 0\nexit"
    lines = verify(assemble(src), _maps(), log_level=2).log.splitlines()
    assert lines[0] == "0: R1=ctx() R10=fp0"
    assert lines[1].startswith("0: (85) call get_prandom_u32#3 ; R0=scalar(smin=0,smax=4294967295,")
    assert lines[2] == (
        "1: (57) r0 &= 0x3f ; R0=scalar(smin=0,smax=63,umax=63,var_off=(0x0; 0x3f)) R10=fp0"
    )
    assert "R2=scalar(id=2,smin=0,smax=63," in lines[3]
    assert lines[4].endswith(" R10=fp0 fp-8=fp0")
    assert lines[-1].startswith("processed 6 insns")


def test_log_level_2_shows_branches_and_prune_points() -> None:
    src = (
        "mov r7, 0\ncall get_prandom_u32\njgt r0, 10, b\nadd r7, 1\nja j\n"
        "b:\nadd r7, 2\nj:\nmov r0, r7\nexit"
    )
    lines = verify(assemble(src), _maps(), log_level=2).log.splitlines()
    assert (
        lines[6] == "from 4 to 6: R0=scalar(smin=0,smax=10,umax=10,var_off=(0x0; 0xf)) R7=1 R10=fp0"
    )
    assert lines[9].startswith("from 2 to 5: R0=scalar(smin=11,")
    assert lines[11] == "6: safe"


def test_log_level_0_and_1_keep_the_short_log() -> None:
    assert verify(assemble("mov r0, 0\nexit"), _maps()).log == (
        "processed 2 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 0\n"
    )


# ---------------------------------------------------------------- 5. guest time


def test_verification_cost_is_deterministic() -> None:
    assert cost_ns(1000, 10) == 1000 * NS_PER_INSN + 10 * NS_PER_STATE
    a = verify(assemble(big_program()), bench_maps())
    b = verify(assemble(big_program()), bench_maps())
    assert (a.insns_processed, a.states_explored) == (b.insns_processed, b.states_explored)


# ---------------------------------------------------------------- sys_bpf: the handlers


class _Mem:
    """A flat guest memory for calling sys_bpf's command handlers directly."""

    def __init__(self) -> None:
        self.data = bytearray(1 << 16)

    def read(self, addr: int, size: int) -> bytes:
        return bytes(self.data[addr : addr + size])

    def write(self, addr: int, data: bytes) -> None:
        self.data[addr : addr + len(data)] = data


class _Clock:
    def __init__(self) -> None:
        self.charged = 0

    def add_ns(self, ns: int) -> None:
        self.charged += ns


class _Log:
    def info(self, *_: object) -> None: ...

    def warn(self, *_: object) -> None: ...


class _Kernel:
    def __init__(self) -> None:
        from kernel.bpf.runtime.env import NullHelperEnv
        from kernel.bpf_attach.registry import BpfSubsystem

        self.bpf = BpfSubsystem(NullHelperEnv(), lambda *_: None)
        self.clock = _Clock()
        self.log = _Log()


class _Proc:
    """A stand-in process (the bpf() handlers touch only its `mm`): passed where a
    `Process` is declared, hence the `type: ignore[arg-type]`s."""

    def __init__(self) -> None:
        self.mm = _Mem()


LOG_BUF, CODE, KEY, VALUE = 0x1000, 0x8000, 0x100, 0x200


def _attr(**fields: int) -> Attr:
    from kernel.syscalls.bpf import Attr

    raw = bytearray(176)
    for name, value in fields.items():
        off = BpfAttrOff[name.upper()]
        fmt = "<Q" if off in (BpfAttrOff.INSNS, BpfAttrOff.LOG_BUF, BpfAttrOff.KEY) else "<I"
        if off == BpfAttrOff.VALUE:
            fmt = "<Q"
        struct.pack_into(fmt, raw, off, value)
    return Attr(bytes(raw))


def _prog_load(k: _Kernel, p: _Proc, src: str, log_size: int, log_level: int = 1) -> int:
    from kernel.syscalls.bpf import _prog_load

    code = _encode(src)
    p.mm.write(CODE, code)
    attr = _attr(
        insn_cnt=len(code) // 8, insns=CODE, log_level=log_level, log_size=log_size, log_buf=LOG_BUF
    )
    return _prog_load(k, p, attr)  # type: ignore[arg-type]


def _encode(src: str) -> bytes:
    from kernel.bpf.isa.insn import encode

    return encode(assemble(src))


def _log(p: _Proc, size: int) -> bytes:
    return p.mm.read(LOG_BUF, size)


def test_small_log_buf_keeps_the_end_nul_terminated() -> None:
    k, p = _Kernel(), _Proc()
    k.bpf.maps.create(MapType.ARRAY, 4, 8, 4)
    src = (
        _lookup(0)
        + "".join(f"mov r{2 + i % 4}, {i}\n" for i in range(60))
        + "ldxdw r0, [r0+0]\nexit"
    )
    with pytest.raises(SyscallError) as e:
        _prog_load(k, p, src, 128)
    assert e.value.errno == Errno.EACCES
    buf = _log(p, 128)
    assert buf[127] == 0
    text = buf[:127].decode()
    full = verify_log(src)
    assert len(full) > 127 and text == full[-127:]
    assert text.endswith(full.splitlines()[-1] + "\n")
    assert full.splitlines()[-1].startswith("processed ")
    assert "invalid mem access 'map_value_or_null'\nprocessed 66 insns" in text


def verify_log(src: str) -> str:
    try:
        verify(assemble(src), _maps())
    except VerifierError as e:
        return e.log
    raise AssertionError("accepted")


def test_prog_load_log_level_2_and_guest_time_charged() -> None:
    k, p = _Kernel(), _Proc()
    src = "call get_prandom_u32\nand r0, 63\nexit"
    _prog_load(k, p, src, 4096, log_level=2)
    text = _log(p, 4096).split(b"\0")[0].decode()
    assert text.splitlines()[2] == (
        "1: (57) r0 &= 0x3f ; R0=scalar(smin=0,smax=63,umax=63,var_off=(0x0; 0x3f)) R10=fp0"
    )
    # 3 insns processed, 1 state stored: the modelled cost, exactly
    assert k.clock.charged == cost_ns(3, 1)
    # a rejected load costs guest time too
    with pytest.raises(SyscallError):
        _prog_load(k, p, "mov r0, r5\nexit", 4096)
    assert k.clock.charged == cost_ns(3, 1) + cost_ns(1, 1)


def test_frozen_map_update_and_delete_are_eperm_lookup_works() -> None:
    from kernel.syscalls.bpf import _map_delete, _map_lookup, _map_update

    k, p = _Kernel(), _Proc()
    obj = k.bpf.load_elf(compile_object("rodata_reader"), None)
    assert obj
    rodata = next(m for m in k.bpf.maps if getattr(m, "name", "") == ".rodata")
    assert rodata.frozen
    p.mm.write(KEY, bytes(4))
    p.mm.write(VALUE, struct.pack("<Q", 7))
    for handler in (_map_update, _map_delete):
        with pytest.raises(SyscallError) as e:
            handler(k, p, _attr(map_fd=rodata.id, key=KEY, value=VALUE))  # type: ignore[arg-type]
        assert e.value.errno == Errno.EPERM
    assert _map_lookup(k, p, _attr(map_fd=rodata.id, key=KEY, value=VALUE)) == 0  # type: ignore[arg-type]
    assert p.mm.read(VALUE, 8) == struct.pack("<Q", 5)


def test_bpf_inspect_prints_the_log_with_counts(tmp_path, capsys) -> None:
    from kernel.bpf.elf.inspect import main

    path = tmp_path / "precise.o"
    path.write_bytes(compile_object("precise"))
    assert main([str(path), "--no-disasm", "--log-level", "2"]) == 0
    out = capsys.readouterr().out
    assert "Verifier: accepted (8 insns processed, 1 states, stack depth 8)" in out
    assert (
        "  | 4: (18) r1 = map 'counts' ll ; R1=map_ptr(map=counts,ks=4,vs=8) R2=fp-4 R10=fp0 "
        "fp-8=mmmm????\n"
    ) in out
    assert "Verifier: accepted (21 insns processed, 3 states, stack depth 8)" in out
    assert out.splitlines()[-1] == "2 of 2 programs verified"
