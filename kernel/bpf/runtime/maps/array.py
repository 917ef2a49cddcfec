"""Array map (type 2): ``max_entries`` zero-filled values indexed by a u32 key."""

from __future__ import annotations

import mmap
import struct

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps.base import BpfMap

_U32 = struct.Struct("<I")
VIEW_CACHE = 4096  # element views kept alive at most (one per recently used index)


class ArrayMap(BpfMap):
    """One contiguous storage; element views are made on demand and cached.

    The storage is an anonymous mapping, so pages nobody touched cost the host
    nothing (`bpf-inspect` of a huge map allocates nothing), and there is no per-element
    object up front: a view is built at lookup and kept in a bounded cache, so the same
    element usually gets the same view (and the VM the same address) within a run.

    ``update`` with an index >= max_entries -> E2BIG (as Linux), with NOEXIST ->
    EEXIST (every element always exists); ``lookup`` out of range -> None;
    ``delete`` -> EINVAL.
    """

    map_type = MapType.ARRAY

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(map_id, 4, value_size, max_entries)
        self.storage = mmap.mmap(-1, value_size * max_entries)
        self._whole = memoryview(self.storage)
        self._views: dict[int, memoryview] = {}

    @classmethod
    def storage_bytes(cls, key_size: int, value_size: int, max_entries: int) -> int:
        return value_size * max_entries

    def _view(self, i: int) -> memoryview:
        view = self._views.get(i)
        if view is None:
            if len(self._views) >= VIEW_CACHE:
                self._views.clear()
            size = self.value_size
            view = self._views[i] = self._whole[i * size : (i + 1) * size]
        return view

    def _index(self, key: bytes) -> int:
        return _U32.unpack(self._check_key(key))[0]

    def lookup(self, key: bytes) -> memoryview | None:
        i = self._index(key)
        return self._view(i) if i < self.max_entries else None

    def lookup_index(self, i: int) -> memoryview | None:
        """`lookup` of the u32 key ``i`` already decoded (the helpers' fast path)."""
        return self._view(i) if i < self.max_entries else None

    def update(self, key: bytes, value: bytes, flags: int = MapUpdateFlag.ANY) -> None:
        i = self._index(key)
        value = self._check_value(value)
        flags = self._check_flags(flags)
        if i >= self.max_entries:
            raise BpfError(Errno.E2BIG, f"index {i} >= max_entries {self.max_entries}")
        if flags == MapUpdateFlag.NOEXIST:
            raise BpfError(Errno.EEXIST, "array elements always exist")
        size = self.value_size
        self._whole[i * size : (i + 1) * size] = value

    def delete(self, key: bytes) -> None:
        raise BpfError(Errno.EINVAL, "array map elements cannot be deleted")

    def get_next_key(self, key: bytes | None) -> bytes:
        """Index order; None or an out-of-range key restarts at index 0."""
        i = 0
        if key is not None:
            cur = self._index(key)
            if cur < self.max_entries:
                i = cur + 1
        if i >= self.max_entries:
            raise BpfError(Errno.ENOENT, "no next key")
        return _U32.pack(i)
