"""Map definitions in an object: legacy ``struct bpf_map_def`` and global data.

A BTF-less object declares maps the way libbpf's legacy API did::

    struct bpf_map_def { __u32 type, key_size, value_size, max_entries, map_flags; };
    struct bpf_map_def SEC("maps") counter = { .type = 2, .key_size = 4, ... };

one ``STT_OBJECT`` symbol per map in section ``maps`` (``.maps`` is read the same
way when the object has no BTF; with BTF, `btf_maps` reads it). The first four
words are required; ``map_flags`` and any further words must be zero (axiomOS maps
have no flags). An all-zero definition is what a BTF-style ``__uint(type, ...)``
map looks like without BTF, so type 0 gets a hint to build with -g.

Global data sections (``.data``, ``.rodata``, ``.bss`` and ``.suffix`` variants) are
single-entry array maps whose value is the section's bytes, as libbpf creates them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from kernel.abi import Errno, MapType
from kernel.bpf.elf.model import MapSpec, Symbol
from kernel.bpf.errors import BpfError

MAP_DEF = struct.Struct("<4I")  # type, key_size, value_size, max_entries
MAP_DEF_MIN_SIZE = MAP_DEF.size
MAP_DEF_MAX_SIZE = 64
SUPPORTED_MAP_TYPES = tuple(MapType)


def _einval(message: str) -> BpfError:
    return BpfError(Errno.EINVAL, message)


def parse_map_section(
    section: int,
    section_name: str,
    content: bytes,
    symbols: Sequence[Symbol],
) -> list[MapSpec]:
    """One `MapSpec` per object symbol of a maps section, in offset order."""
    specs: list[MapSpec] = []
    for sym in sorted(symbols, key=lambda s: s.value):
        size = sym.size
        where = f"map '{sym.name}' in section '{section_name}'"
        if size < MAP_DEF_MIN_SIZE or size > MAP_DEF_MAX_SIZE or size % 4:
            raise _einval(
                f"{where}: definition is {size} bytes, expected a struct bpf_map_def "
                f"({MAP_DEF_MIN_SIZE}..{MAP_DEF_MAX_SIZE} bytes of u32 fields)"
            )
        raw = content[sym.value : sym.value + size]
        if len(raw) != size:
            raise _einval(f"{where}: definition lies outside the section")
        map_type, key_size, value_size, max_entries = MAP_DEF.unpack_from(raw)
        if any(raw[MAP_DEF.size :]):
            raise _einval(f"{where}: map_flags and later bpf_map_def fields must be 0")
        specs.append(
            MapSpec(
                sym.name,
                section,
                sym.value,
                _map_type(where, map_type),
                key_size,
                value_size,
                max_entries,
            )
        )
    if not specs and any(content):
        raise _einval(f"section '{section_name}' has map data but no map symbols")
    return specs


def _map_type(where: str, value: int) -> MapType:
    if value in SUPPORTED_MAP_TYPES:
        return MapType(value)
    supported = ", ".join(f"{t.name.lower()} {int(t)}" for t in SUPPORTED_MAP_TYPES)
    hint = (
        " (an all-zero definition: a BTF-style __uint/__type map in an object without BTF; "
        "build with -g)"
        if value == 0
        else ""
    )
    raise _einval(f"{where}: unsupported map type {value} (supported: {supported}){hint}")


def data_section_map(section: int, section_name: str, content: bytes) -> MapSpec:
    """The single-entry array map backing a global data section."""
    return MapSpec(
        section_name,
        section,
        0,
        MapType.ARRAY,
        4,
        len(content),
        1,
        initial=bytes(content),
    )
