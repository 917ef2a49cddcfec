"""Malformed and unsupported objects: each rejected with the exact errno and message.

Broken objects are made from good ones by patching bytes (ELF ident, header fields,
relocation entries), so every case differs from a loadable object in one place. A
failed load must never leave a map behind.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable

import pytest
from elftools.elf.elffile import ELFFile

from kernel.abi import BPF_ELF_MAX_SIZE, Errno, MapType
from kernel.bpf.elf import load_object
from kernel.bpf.errors import BpfError, VerifierError
from kernel.bpf.runtime.maps import MapTable
from tests.bpf.c_elf import compile_object, compile_x86

REL = struct.Struct("<QQ")  # r_offset, r_info (sym << 32 | type)


def _rejects(data: bytes, errno: Errno, message: str) -> None:
    table = MapTable()
    table.create(MapType.ARRAY, 4, 8, 1)
    with pytest.raises(BpfError) as exc:
        load_object(data, table)
    assert (exc.value.errno, exc.value.message) == (errno, message)
    assert len(table) == 1, "a failed load created maps"


def _patch_reloc(
    data: bytes, section: str, fn: Callable[[int, int, int], tuple[int, int, int]]
) -> bytes:
    """Rewrite the first entry of relocation section ``section``: fn(offset, sym, type)."""
    elf = ELFFile(io.BytesIO(data))
    sec = elf.get_section_by_name(section)
    at = sec["sh_offset"]
    r_offset, r_info = REL.unpack_from(data, at)
    off, sym, rtype = fn(r_offset, r_info >> 32, r_info & 0xFFFF_FFFF)
    out = bytearray(data)
    REL.pack_into(out, at, off, sym << 32 | rtype)
    return bytes(out)


@pytest.fixture(scope="module")
def good() -> bytes:
    return compile_object("maps_all")


def test_not_elf_and_truncated(good: bytes) -> None:
    _rejects(b"", Errno.EINVAL, "not an ELF object")
    _rejects(b"MZ\x90\x00" + bytes(100), Errno.EINVAL, "not an ELF object")
    _rejects(good[:40], Errno.EINVAL, "not an ELF object")
    _rejects(
        good[: len(good) // 2],
        Errno.EINVAL,
        "not an ELF object: truncated (section headers past the end)",
    )


def test_too_large_is_e2big(good: bytes) -> None:
    big = good + bytes(BPF_ELF_MAX_SIZE + 1 - len(good))
    _rejects(
        big, Errno.E2BIG, f"ELF object is {BPF_ELF_MAX_SIZE + 1} bytes (max {BPF_ELF_MAX_SIZE})"
    )


def test_wrong_class_endianness_type(good: bytes) -> None:
    _rejects(
        good[:4] + b"\x01" + good[5:], Errno.EINVAL, "ELF class is ELFCLASS32, expected ELFCLASS64"
    )
    _rejects(
        good[:5] + b"\x02" + good[6:],
        Errno.EINVAL,
        "ELF data encoding is big-endian, expected little-endian",
    )
    exe = good[:16] + struct.pack("<H", 2) + good[18:]  # e_type = ET_EXEC
    _rejects(exe, Errno.EINVAL, "ELF type is ET_EXEC, expected ET_REL (a relocatable .o)")


def test_wrong_machine_x86_object() -> None:
    _rejects(compile_x86("x86"), Errno.EINVAL, "ELF machine is EM_X86_64, expected EM_BPF")


def test_unknown_section_with_code() -> None:
    _rejects(
        compile_object("bad_section"),
        Errno.EINVAL,
        "section 'kprobe/do_sys_open' contains code but is not a program section "
        "(known: timer, gpio, pwm, iio, sys_enter, sys_exit, sched_switch, "
        "optionally with '/name'; or .text)",
    )


def test_unsupported_map_type() -> None:
    _rejects(
        compile_object("bad_maptype"),
        Errno.EINVAL,
        "map 'percpu' in section 'maps': unsupported map type 5 "
        "(supported: hash 1, array 2, ringbuf 27, timeseries 100)",
    )


def test_btf_style_map_without_btf_gets_a_hint() -> None:
    with pytest.raises(BpfError) as exc:
        load_object(compile_object("btf_maps", btf=False), MapTable())
    assert exc.value.errno == Errno.EINVAL
    assert exc.value.message == (
        "map 'btf_map' in section '.maps': unsupported map type 0 "
        "(supported: hash 1, array 2, ringbuf 27, timeseries 100) (an all-zero "
        "definition: a BTF-style __uint/__type map in an object without BTF; build with -g)"
    )


def test_bad_map_geometry_uses_map_create_errors() -> None:
    _rejects(
        compile_object("big_geometry"),
        Errno.EINVAL,
        "map 'odd_ring': ringbuf map: size 1000 must be a power of two >= 16",
    )


def test_relocation_not_at_ld_imm64(good: bytes) -> None:
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (off + 8, sym, t))
    offset = ELFFile(io.BytesIO(good)).get_section_by_name(".reltimer")
    first = REL.unpack_from(good, offset["sh_offset"])[0]
    _rejects(
        bad,
        Errno.EINVAL,
        f"relocation in 'timer' at offset {first + 8:#x}: "
        "R_BPF_64_64 is not at an ld_imm64 instruction",
    )


def test_relocation_offset_outside_section(good: bytes) -> None:
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (0x10000, sym, t))
    _rejects(
        bad,
        Errno.EINVAL,
        "relocation in 'timer' at offset 0x10000: offset is not an instruction of the section",
    )
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (off + 3, sym, t))
    with pytest.raises(BpfError, match="offset is not an instruction"):
        load_object(bad, MapTable())


def test_relocation_unknown_type_and_symbol(good: bytes) -> None:
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (off, sym, 7))
    with pytest.raises(BpfError) as exc:
        load_object(bad, MapTable())
    assert exc.value.errno == Errno.EINVAL
    assert exc.value.message.endswith("unsupported relocation type 7")
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (off, 10_000, t))
    with pytest.raises(BpfError, match="symbol index 10000 out of range"):
        load_object(bad, MapTable())
    bad = _patch_reloc(good, ".reltimer", lambda off, sym, t: (off, 0, t))  # the null symbol
    with pytest.raises(BpfError, match="symbol '' is undefined|symbol '.*' is undefined"):
        load_object(bad, MapTable())


def test_relocation_against_undefined_extern() -> None:
    _rejects(
        compile_object("extern_var"),
        Errno.EINVAL,
        "relocation in 'timer' at offset 0x0: symbol 'provided_elsewhere' is undefined",
    )


def test_relocations_in_global_data() -> None:
    _rejects(
        compile_object("data_pointer"),
        Errno.EINVAL,
        "relocations in data section '.data' are not supported "
        "(pointers in global data or map definitions)",
    )


def test_object_without_programs() -> None:
    _rejects(
        compile_object("only_maps"),
        Errno.EINVAL,
        "no programs in the object (no code in a section named "
        "timer, gpio, pwm, iio, sys_enter, sys_exit, sched_switch)",
    )


def test_corruption_never_escapes_as_another_exception(good: bytes) -> None:
    """Seeded random byte flips anywhere: the loader raises only BpfError/VerifierError."""
    rng = random.Random(1234)
    for _ in range(400):
        bad = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            bad[rng.randrange(16, len(bad))] = rng.randrange(256)
        try:
            load_object(bytes(bad), MapTable())
        except (BpfError, VerifierError):
            pass
