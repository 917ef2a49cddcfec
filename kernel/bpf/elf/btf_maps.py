"""libbpf-style map definitions: a struct in ``SEC(".maps")`` described by BTF.

The SDK's macros encode each attribute in a member's *type*, so the struct's
bytes are all zero and only BTF says what the map is::

    struct {
        __uint(type, BPF_MAP_TYPE_HASH);   // int (*type)[1]      -> pointer to array[1]
        __uint(max_entries, 64);           // int (*max_entries)[64]
        __type(key, __u32);                // __u32 *key          -> sizeof(__u32)
        __type(value, struct stats);       // struct stats *value
    } counts SEC(".maps");

Recognised members (libbpf's names): ``type``, ``max_entries``, ``map_flags``
(must be 0: axiomOS maps take no flags), ``key``/``value`` (a pointer to the type)
or ``key_size``/``value_size`` (``__uint``), both forms agreeing when both are
given. Anything else (``pinning``, ``values`` of map-in-map, ``numa_node``) is
refused naming the map and the member; so is a map type axiomOS does not have.
The resulting `MapSpec`s are the same as for ``struct bpf_map_def`` maps.
"""

from __future__ import annotations

from collections.abc import Sequence

from kernel.abi import Errno, MapType
from kernel.bpf.elf.btf import Btf, BtfType, Kind
from kernel.bpf.elf.model import MapSpec, Symbol
from kernel.bpf.errors import BpfError

SUPPORTED = ", ".join(f"{t.name.lower()} {int(t)}" for t in MapType)
_UINT_FIELDS = ("type", "max_entries", "map_flags", "key_size", "value_size")
_TYPE_FIELDS = ("key", "value")
_UNSUPPORTED = {
    "values": "map-in-map and program-array values (__array) need map types axiomOS lacks",
    "pinning": "pinning by path is not supported (the loader pins every map by name)",
    "numa_node": "NUMA placement is not supported",
    "map_extra": "map_extra is not supported",
}


def _einval(message: str) -> BpfError:
    return BpfError(Errno.EINVAL, message)


def parse_btf_maps(
    btf: Btf, section: int, section_name: str, symbols: Sequence[Symbol]
) -> list[MapSpec]:
    """One `MapSpec` per variable of the ``.maps`` DATASEC, located by its symbol."""
    datasec = btf.find(Kind.DATASEC, section_name)
    if datasec is None:
        if symbols:
            raise _einval(
                f"section '{section_name}' has maps but BTF has no DATASEC '{section_name}'"
            )
        return []
    by_name = {s.name: s for s in symbols}
    specs: list[MapSpec] = []
    for entry in datasec.members:
        var = btf[entry.type]
        if var.kind != Kind.VAR:
            raise _einval(f"BTF: {datasec.describe()}: entry {var.describe()} is not a variable")
        sym = by_name.get(var.name)
        if sym is None:
            raise _einval(f"map '{var.name}': no symbol in section '{section_name}'")
        specs.append(_map_spec(btf, var, sym, section))
    known = {s.name for s in specs}
    for sym in symbols:
        if sym.name not in known:
            raise _einval(f"map '{sym.name}' in section '{section_name}' has no BTF description")
    return sorted(specs, key=lambda s: s.offset)


def _map_spec(btf: Btf, var: BtfType, sym: Symbol, section: int) -> MapSpec:
    name = var.name
    where = f"map '{name}'"
    struct_t = btf.skip_modifiers(var.type)
    if struct_t is None or struct_t.kind != Kind.STRUCT:
        shown = "void" if struct_t is None else struct_t.describe()
        raise _einval(f"{where}: definition must be a struct, BTF says {shown}")
    uints: dict[str, int] = {}
    types: dict[str, int] = {}
    for m in struct_t.members:
        if m.name in _UNSUPPORTED:
            raise _einval(f"{where}: member '{m.name}': {_UNSUPPORTED[m.name]}")
        if m.name in _UINT_FIELDS:
            uints[m.name] = _uint_value(btf, m.type, f"{where}: member '{m.name}'")
        elif m.name in _TYPE_FIELDS:
            types[m.name] = _pointee_size(btf, m.type, f"{where}: member '{m.name}'")
        else:
            raise _einval(
                f"{where}: unknown member '{m.name}' (known: "
                f"{', '.join(_UINT_FIELDS + _TYPE_FIELDS)})"
            )
    if "type" not in uints:
        raise _einval(f"{where}: no map type (add __uint(type, BPF_MAP_TYPE_...))")
    raw_type = uints["type"]
    if raw_type not in tuple(MapType):
        raise _einval(f"{where}: unsupported map type {raw_type} (supported: {SUPPORTED})")
    if uints.get("map_flags", 0):
        raise _einval(f"{where}: map_flags {uints['map_flags']:#x}: axiomOS maps take no flags")
    key_size = _size(where, "key", types, uints)
    value_size = _size(where, "value", types, uints)
    return MapSpec(
        name,
        section,
        sym.value,
        MapType(raw_type),
        key_size,
        value_size,
        uints.get("max_entries", 0),
    )


def _size(where: str, what: str, types: dict[str, int], uints: dict[str, int]) -> int:
    by_type, by_uint = types.get(what), uints.get(f"{what}_size")
    if by_type is not None and by_uint is not None and by_type != by_uint:
        raise _einval(f"{where}: {what} type is {by_type} bytes but {what}_size says {by_uint}")
    return by_type if by_type is not None else (by_uint or 0)


def _uint_value(btf: Btf, type_id: int, where: str) -> int:
    """``__uint(name, N)`` is ``int (*name)[N]``: N is the array's element count."""
    ptr = btf.skip_modifiers(type_id)
    if ptr is None or ptr.kind != Kind.PTR:
        raise _einval(f"{where}: expected __uint(...) (a pointer to an array), got {_shown(ptr)}")
    arr = btf.skip_modifiers(ptr.type)
    if arr is None or arr.kind != Kind.ARRAY:
        raise _einval(f"{where}: expected __uint(...) (a pointer to an array), got {_shown(arr)}")
    return arr.nelems


def _pointee_size(btf: Btf, type_id: int, where: str) -> int:
    """``__type(name, T)`` is ``T *name``: the size is sizeof(T)."""
    ptr = btf.skip_modifiers(type_id)
    if ptr is None or ptr.kind != Kind.PTR:
        raise _einval(f"{where}: expected __type(...) (a pointer), got {_shown(ptr)}")
    if btf.skip_modifiers(ptr.type) is None:
        raise _einval(f"{where}: __type(...) of void has no size")
    return btf.resolve_size(ptr.type)


def _shown(t: BtfType | None) -> str:
    return "void" if t is None else t.describe()
