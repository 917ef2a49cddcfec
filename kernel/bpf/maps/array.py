"""Array map (type 2): ``max_entries`` zero-filled values indexed by a u32 key."""

from __future__ import annotations

import struct

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError
from kernel.bpf.maps.base import BpfMap

_U32 = struct.Struct("<I")


class ArrayMap(BpfMap):
    """One contiguous storage; each element has a stable live view into it.

    ``update`` with an index >= max_entries -> E2BIG (as Linux), with NOEXIST ->
    EEXIST (every element always exists); ``lookup`` out of range -> None;
    ``delete`` -> EINVAL.
    """

    map_type = MapType.ARRAY

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(map_id, 4, value_size, max_entries)
        self.storage = bytearray(value_size * max_entries)
        whole = memoryview(self.storage)
        self._views = [whole[i * value_size : (i + 1) * value_size] for i in range(max_entries)]

    def _index(self, key: bytes) -> int:
        return _U32.unpack(self._check_key(key))[0]

    def lookup(self, key: bytes) -> memoryview | None:
        i = self._index(key)
        return self._views[i] if i < self.max_entries else None

    def update(self, key: bytes, value: bytes, flags: int = MapUpdateFlag.ANY) -> None:
        i = self._index(key)
        value = self._check_value(value)
        flags = self._check_flags(flags)
        if i >= self.max_entries:
            raise BpfError(Errno.E2BIG, f"index {i} >= max_entries {self.max_entries}")
        if flags == MapUpdateFlag.NOEXIST:
            raise BpfError(Errno.EEXIST, "array elements always exist")
        self._views[i][:] = value

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
