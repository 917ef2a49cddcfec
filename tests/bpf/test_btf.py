"""The .BTF reader (kernel/bpf/elf/btf.py) and BTF-defined maps (btf_maps.py).

Real objects come from clang (tests/bpf/c_elf/btf_kinds.c emits every kind);
malformed BTF is built byte by byte so each check can be hit on its own, and every
refusal must name the offending type id.
"""

from __future__ import annotations

import struct

import pytest

from kernel.abi import Errno, MapType
from kernel.bpf.elf import load_object, parse_object
from kernel.bpf.elf.btf import BTF_MAGIC, Kind, parse_btf
from kernel.bpf.errors import BpfError
from kernel.bpf.interp.vm import Vm
from kernel.bpf.runtime.env import TestHelperEnv
from kernel.bpf.runtime.maps import MapTable
from tests.bpf.c_elf import compile_object, compile_source

# ---------------------------------------------------------------- every kind clang emits


@pytest.fixture(scope="module")
def kinds_btf():
    return parse_object(compile_object("btf_kinds")).btf


def _named(btf, kind: Kind, name: str):
    t = btf.find(kind, name)
    assert t is not None, f"no {kind.name} {name!r}"
    return t


def test_every_kind_clang_emits_is_decoded(kinds_btf) -> None:
    assert {t.kind for t in kinds_btf.types[1:]} == set(Kind)


def test_int_float_and_array(kinds_btf) -> None:
    i = _named(kinds_btf, Kind.INT, "int")
    assert (i.size, i.int_bits, i.int_offset, i.int_encoding) == (4, 32, 0, 1)  # signed
    u64 = _named(kinds_btf, Kind.INT, "unsigned long")
    assert (u64.size, u64.int_bits, u64.int_encoding) == (8, 64, 0)
    assert _named(kinds_btf, Kind.FLOAT, "float").size == 4
    value = _named(kinds_btf, Kind.STRUCT, "value")
    name = next(m for m in value.members if m.name == "name")
    arr = kinds_btf[name.type]
    assert (arr.kind, arr.nelems, kinds_btf[arr.type].name) == (Kind.ARRAY, 6, "char")


def test_struct_union_and_bitfield(kinds_btf) -> None:
    value = _named(kinds_btf, Kind.STRUCT, "value")
    assert value.size == 64 and value.kind_flag  # kind_flag: bitfield member encoding
    offsets = {m.name: m.offset & 0xFFFFFF for m in value.members}
    assert offsets == {
        "count": 0,
        "name": 64,
        "u": 128,
        "s": 160,
        "w": 192,
        "p": 256,
        "o": 320,
        "tagged": 384,
        "bits": 448,
    }
    bits = next(m for m in value.members if m.name == "bits")
    assert bits.offset >> 24 == 3  # bitfield size
    union = kinds_btf[next(m for m in value.members if m.name == "u").type]
    assert union.kind == Kind.UNION and union.size == 4
    assert [m.name for m in union.members] == ["i", "f"]


def test_enums_signed_and_64bit(kinds_btf) -> None:
    small = _named(kinds_btf, Kind.ENUM, "small")
    assert small.kind_flag and [(m.name, m.offset) for m in small.members] == [
        ("SMALL_A", 1),
        ("SMALL_B", -2),
    ]
    wide = _named(kinds_btf, Kind.ENUM64, "wide")
    assert wide.size == 8 and [(m.name, m.offset) for m in wide.members] == [
        ("WIDE_BIG", 0x123456789)
    ]


def test_modifier_chain_fwd_and_type_tag(kinds_btf) -> None:
    cvr = _named(kinds_btf, Kind.TYPEDEF, "cvr_t")
    chain = []
    t = cvr
    while t.kind != Kind.TYPEDEF or t.name != "__u32":
        t = kinds_btf[t.type]
        chain.append(t.kind)
    assert chain == [Kind.RESTRICT, Kind.PTR, Kind.CONST, Kind.VOLATILE, Kind.TYPEDEF]
    assert kinds_btf.resolve_size(cvr.id) == 8
    assert _named(kinds_btf, Kind.FWD, "opaque").kind_flag is False  # a struct, not a union
    tag = _named(kinds_btf, Kind.TYPE_TAG, "user")
    assert kinds_btf[tag.type].name == "int"


def test_funcs_protos_vars_datasecs_and_decl_tags(kinds_btf) -> None:
    probe = _named(kinds_btf, Kind.FUNC, "probe")
    helper = _named(kinds_btf, Kind.FUNC, "helper")
    assert (probe.linkage, helper.linkage) == (1, 0)  # global, static
    proto = kinds_btf[probe.type]
    assert proto.kind == Kind.FUNC_PROTO and kinds_btf[proto.type].name == "int"
    assert [p.name for p in proto.members] == ["ctx"]
    knob = _named(kinds_btf, Kind.VAR, "knob")
    assert knob.linkage == 1 and kinds_btf.resolve_size(knob.id) == 8
    maps = _named(kinds_btf, Kind.DATASEC, ".maps")
    assert [kinds_btf[m.type].name for m in maps.members] == ["kinds"]
    assert maps.members[0].size == 32
    tags = [t for t in kinds_btf.types[1:] if t.kind == Kind.DECL_TAG]
    targets = {(kinds_btf[t.type].name, t.component_idx) for t in tags}
    assert targets == {("value", -1), ("helper", 0)}  # the struct; helper's parameter 0


# ---------------------------------------------------------------- malformed BTF


def _t(name_off: int, kind: int, vlen: int = 0, sot: int = 0, kflag: int = 0) -> bytes:
    return struct.pack("<III", name_off, kflag << 31 | kind << 24 | vlen, sot)


def _btf(types: bytes, strings: bytes = b"\0int\0s\0", *, magic: int = BTF_MAGIC) -> bytes:
    hdr = struct.pack("<HBBIIIII", magic, 1, 0, 24, 0, len(types), len(types), len(strings))
    return hdr + types + strings


INT32 = _t(1, Kind.INT, sot=4) + struct.pack("<I", 1 << 24 | 32)


def test_a_well_formed_handmade_btf_parses() -> None:
    btf = parse_btf(_btf(INT32 + _t(0, Kind.PTR, sot=1)))
    assert len(btf) == 2 and btf[1].name == "int" and btf[2].type == 1


@pytest.mark.parametrize(
    ("types", "message"),
    [
        (INT32 + _t(0, 25), "BTF: type [2]: unknown kind 25"),
        (INT32 + _t(0, Kind.PTR, sot=9), "BTF: type [2] PTR: referenced type id 9 does not exist"),
        (INT32 + _t(99, Kind.PTR, sot=1), "BTF: type [2]: name offset 99 is outside the string"),
        (
            _t(1, Kind.INT, sot=4) + struct.pack("<I", 40),
            "BTF: type [1] INT 'int': 40 bits at offset 0 exceed size 4",
        ),
        (
            INT32 + _t(5, Kind.STRUCT, vlen=1, sot=4) + struct.pack("<III", 0, 7, 0),
            "BTF: type [2] STRUCT 's': member '' type id 7 does not exist",
        ),
        (
            INT32 + _t(5, Kind.STRUCT, vlen=1, sot=4) + struct.pack("<III", 0, 1, 64),
            "BTF: type [2] STRUCT 's': member '' at bit 64 is past size 4",
        ),
        (
            INT32 + _t(5, Kind.TYPEDEF, sot=3) + _t(0, Kind.CONST, sot=2),
            "BTF: type [2] TYPEDEF 's': type chain too deep (a loop?)",
        ),
        (INT32 + _t(0, Kind.ARRAY) + b"\1\0\0\0", "BTF: type [2]: record runs past the end"),
        (
            INT32 + _t(5, Kind.FUNC, sot=1),
            "BTF: type [2] FUNC 's': type id 1 is INT, expected FUNC_PROTO",
        ),
        (INT32 + _t(0, Kind.TYPEDEF, sot=1), "BTF: type [2] TYPEDEF: must have a name"),
        (INT32 + _t(1, Kind.PTR, sot=1), "BTF: type [2] PTR 'int': must not have a name"),
    ],
)
def test_malformed_btf_names_the_type_id(types: bytes, message: str) -> None:
    with pytest.raises(BpfError) as exc:
        parse_btf(_btf(types))
    assert exc.value.errno == Errno.EINVAL
    assert exc.value.message.startswith(message)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x9f\xeb\x01", "BTF: section is 3 bytes, shorter than its header"),
        (_btf(INT32, magic=0x1234), "BTF: bad magic 0x1234 (expected 0xeb9f)"),
        (_btf(INT32, b"int\0"), "BTF: string section must start and end with a NUL"),
        (_btf(INT32)[:-3], "BTF: string section lies outside the data"),
        (
            struct.pack("<HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, 16, 0, 16) + INT32 + bytes(4),
            "BTF: type and string sections overlap",
        ),
    ],
)
def test_malformed_btf_header(data: bytes, message: str) -> None:
    with pytest.raises(BpfError) as exc:
        parse_btf(data)
    assert exc.value.message == message


def test_arrays_resolve_their_size() -> None:
    btf = parse_btf(_btf(INT32 + _t(0, Kind.ARRAY) + struct.pack("<III", 1, 1, 4)))
    assert btf.resolve_size(2) == 16
    with pytest.raises(BpfError) as exc:
        parse_btf(_btf(INT32 + _t(0, Kind.ARRAY) + struct.pack("<III", 2, 1, 4)))
    assert exc.value.message == "BTF: type [2] ARRAY: type chain too deep (a loop?)"
    with pytest.raises(BpfError) as exc:  # an array of a forward declaration
        parse_btf(_btf(INT32 + _t(5, Kind.FWD) + _t(0, Kind.ARRAY) + struct.pack("<III", 2, 1, 4)))
    assert exc.value.message == "BTF: type [2] FWD 's': has no size"


def test_malformed_btf_in_an_object_fails_the_load() -> None:
    obj = bytearray(compile_object("btf_kinds"))
    at = obj.index(struct.pack("<HBB", BTF_MAGIC, 1, 0))
    hdr_len, type_off = struct.unpack_from("<II", obj, at + 4)
    first = at + hdr_len + type_off  # type [1]: its info word gets kind 31
    obj[first + 7] = 31
    table = MapTable()
    with pytest.raises(BpfError) as exc:
        load_object(bytes(obj), table)
    assert exc.value.message == "BTF: type [1]: unknown kind 31"
    assert len(table) == 0


# ---------------------------------------------------------------- BTF-defined maps


def _maps_source(tmp_path, body: str, prog: str = "return 0;") -> bytes:
    src = tmp_path / "m.bpf.c"
    src.write_text(
        '#include "axiom_bpf.h"\n'
        f"{body}\n"
        'SEC("timer") int prog(struct bpf_context *ctx) { ' + prog + " }\n"
    )
    return compile_source(src)


def test_btf_maps_are_created_like_bpf_map_def_ones() -> None:
    table = MapTable()
    obj = load_object(compile_object("btf_kinds"), table)
    info = obj.map_info["kinds"]
    assert (info.map_type, info.key_size, info.value_size, info.max_entries) == (1, 4, 64, 16)
    assert table.get(info.map_id).map_type == MapType.HASH


def test_btf_map_program_runs_and_updates_the_map() -> None:
    table = MapTable()
    obj = load_object(compile_object("btf_maps"), table)
    prog = obj.program("prog")
    assert obj.map_info["btf_map"].value_size == 8
    result = Vm(table, TestHelperEnv()).run(prog.program)
    assert result == 1  # the array's element 0 exists


def test_key_size_value_size_and_ringbuf_forms(tmp_path) -> None:
    data = _maps_source(
        tmp_path,
        "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(key_size, 4);"
        ' __uint(value_size, 24); __uint(max_entries, 3); } sized SEC(".maps");\n'
        "struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 8192); }"
        ' rb SEC(".maps");\n'
        "struct { __uint(type, BPF_MAP_TYPE_TIMESERIES); __type(key, __u64);"
        ' __type(value, __u32); __uint(max_entries, 10); } ts SEC(".maps");',
        "__u32 k = 0; return bpf_map_lookup_elem(&sized, &k) != 0"
        " && bpf_ringbuf_output(&rb, &k, 4, 0) == 0;",
    )
    specs = {m.name: m for m in parse_object(data).maps}
    got = {n: (int(s.map_type), s.key_size, s.value_size, s.max_entries) for n, s in specs.items()}
    assert got == {"sized": (2, 4, 24, 3), "rb": (27, 0, 0, 8192), "ts": (100, 8, 4, 10)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "struct { __uint(type, 5); __uint(max_entries, 1); __type(key, int);"
            ' __type(value, int); } percpu SEC(".maps");',
            "map 'percpu': unsupported map type 5 "
            "(supported: hash 1, array 2, ringbuf 27, timeseries 100)",
        ),
        (
            "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1);"
            ' __type(key, int); __uint(key_size, 8); __type(value, int); } m SEC(".maps");',
            "map 'm': key type is 4 bytes but key_size says 8",
        ),
        (
            "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1);"
            ' __uint(map_flags, 1); __type(key, int); __type(value, int); } m SEC(".maps");',
            "map 'm': map_flags 0x1: axiomOS maps take no flags",
        ),
        (
            'struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(pinning, 1); } m SEC(".maps");',
            "map 'm': member 'pinning': pinning by path is not supported",
        ),
        (
            'struct { __uint(type, BPF_MAP_TYPE_HASH); int color; } m SEC(".maps");',
            "map 'm': unknown member 'color'",
        ),
        (
            'struct { __uint(max_entries, 4); } m SEC(".maps");',
            "map 'm': no map type (add __uint(type, BPF_MAP_TYPE_...))",
        ),
        (
            "struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, int); int value; }"
            ' m SEC(".maps");',
            "map 'm': member 'value': expected __type(...) (a pointer), got [2] INT 'int'",
        ),
    ],
)
def test_bad_btf_maps_are_refused_naming_the_map(tmp_path, body: str, message: str) -> None:
    data = _maps_source(tmp_path, body)
    table = MapTable()
    with pytest.raises(BpfError) as exc:
        load_object(data, table)
    assert exc.value.errno == Errno.EINVAL
    assert exc.value.message.startswith(message)
    assert len(table) == 0
