"""`MapTable`: creates maps with validated geometry and global, never-reused ids."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kernel.abi import Errno, MapType
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps.array import ArrayMap
from kernel.bpf.runtime.maps.base import BpfMap
from kernel.bpf.runtime.maps.hash import HashMap
from kernel.bpf.runtime.maps.ringbuf import RingBufMap
from kernel.bpf.runtime.maps.timeseries import TimeseriesMap

MAX_KEY_SIZE = 512  # the BPF stack size, as Linux
MAX_VALUE_SIZE = 1 << 20
MAX_PREALLOC_BYTES = 64 << 20  # array / ringbuf / timeseries storage cap
MIN_RINGBUF_SIZE = 16
MAX_MAPS = 1024  # maps one kernel may hold (they are never freed)
MAP_OVERHEAD_BYTES = 1024  # charged per map on top of its storage

_CLASSES: dict[MapType, type[BpfMap]] = {
    MapType.HASH: HashMap,
    MapType.ARRAY: ArrayMap,
    MapType.RINGBUF: RingBufMap,
    MapType.TIMESERIES: TimeseriesMap,
}


class MapTable:
    """All maps of one kernel. Ids start at 0; a failed create consumes no id.

    Maps are never freed, so every map's largest possible storage is charged (through
    `charge`, the kernel's memory budget) before it is created, and refused with
    ENOMEM when it does not fit; at most MAX_MAPS maps exist (E2BIG past it).
    """

    def __init__(self, charge: Callable[[int], None] | None = None) -> None:
        self._maps: dict[int, BpfMap] = {}
        self._next_id = 0
        self.charge: Callable[[int], None] = charge or (lambda _nbytes: None)
        self.charged = 0  # bytes charged for all maps so far

    def create(self, map_type: int, key_size: int, value_size: int, max_entries: int) -> BpfMap:
        """Validate and create. Bad type or geometry -> EINVAL; over the size caps -> E2BIG."""
        try:
            mtype = MapType(map_type)
        except ValueError:
            raise BpfError(Errno.EINVAL, f"unknown map type {map_type}") from None
        _validate(mtype, key_size, value_size, max_entries)
        if len(self._maps) >= MAX_MAPS:
            raise BpfError(Errno.E2BIG, f"{MAX_MAPS} maps exist, the kernel's limit")
        cls = _CLASSES[mtype]
        cost = MAP_OVERHEAD_BYTES + cls.storage_bytes(key_size, value_size, max_entries)
        self.charge(cost)
        bpf_map = cls(self._next_id, key_size, value_size, max_entries)
        self.charged += cost
        self._maps[bpf_map.id] = bpf_map
        self._next_id += 1
        return bpf_map

    def get(self, map_id: int) -> BpfMap:
        try:
            return self._maps[map_id]
        except (KeyError, TypeError):
            raise BpfError(Errno.ENOENT, f"no map with id {map_id}") from None

    def __contains__(self, map_id: object) -> bool:
        return map_id in self._maps

    def __iter__(self) -> Iterator[BpfMap]:
        return iter(self._maps.values())

    def __len__(self) -> int:
        return len(self._maps)


def _validate(mtype: MapType, key_size: int, value_size: int, max_entries: int) -> None:
    def bad(why: str) -> BpfError:
        return BpfError(Errno.EINVAL, f"{mtype.name.lower()} map: {why}")

    if max_entries <= 0 or max_entries > 0xFFFF_FFFF:
        raise bad(f"max_entries {max_entries} must be 1..2**32-1")
    if mtype == MapType.RINGBUF:
        if max_entries & (max_entries - 1) or max_entries < MIN_RINGBUF_SIZE:
            raise bad(f"size {max_entries} must be a power of two >= {MIN_RINGBUF_SIZE}")
        if max_entries > MAX_PREALLOC_BYTES:
            raise BpfError(Errno.E2BIG, f"ringbuf of {max_entries} bytes is too large")
        return
    if mtype == MapType.HASH and not 0 < key_size <= MAX_KEY_SIZE:
        raise bad(f"key_size {key_size} must be 1..{MAX_KEY_SIZE}")
    if value_size <= 0:
        raise bad(f"value_size {value_size} must be > 0")
    if value_size > MAX_VALUE_SIZE:
        raise BpfError(Errno.E2BIG, f"value_size {value_size} > {MAX_VALUE_SIZE}")
    if mtype in (MapType.ARRAY, MapType.TIMESERIES):
        if value_size * max_entries > MAX_PREALLOC_BYTES:
            raise BpfError(Errno.E2BIG, f"{value_size} x {max_entries} bytes is too large")
