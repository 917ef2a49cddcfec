"""Timeseries map (type 100, axiomOS's own): a ring of (u64 timestamp, value) entries.

``update(key, value)`` pushes with timestamp = the 8 key bytes; when full the oldest
entry is overwritten (counted in `overwritten`). ``lookup`` ignores the key's value
and returns the newest entry as a read-only ``ts(8) + value`` snapshot (ABI section 5).
"""

from __future__ import annotations

import collections
import struct

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps.base import BpfMap

_U64 = struct.Struct("<Q")


class TimeseriesMap(BpfMap):
    map_type = MapType.TIMESERIES

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(map_id, 8, value_size, max_entries)
        self._entries: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=max_entries)
        self.overwritten = 0

    @classmethod
    def storage_bytes(cls, key_size: int, value_size: int, max_entries: int) -> int:
        return max_entries * (8 + value_size)

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, ts: int, value: bytes) -> None:
        """Append (ts, value), overwriting the oldest entry when full."""
        value = self._check_value(value)
        if len(self._entries) == self.max_entries:
            self.overwritten += 1
        self._entries.append((ts & 0xFFFF_FFFF_FFFF_FFFF, value))

    def entries(self) -> list[tuple[int, bytes]]:
        """All entries, oldest first."""
        return list(self._entries)

    def lookup(self, key: bytes) -> memoryview | None:
        self._check_key(key)
        if not self._entries:
            return None
        ts, value = self._entries[-1]
        return memoryview(_U64.pack(ts) + value).toreadonly()

    def update(self, key: bytes, value: bytes, flags: int = MapUpdateFlag.ANY) -> None:
        self._check_flags(flags)
        self.push(_U64.unpack(self._check_key(key))[0], value)

    def get_next_key(self, key: bytes | None) -> bytes:
        """Timestamps oldest to newest; None or an unknown timestamp restarts."""
        stamps = [ts for ts, _ in self._entries]
        i = 0
        if key is not None:
            ts = _U64.unpack(self._check_key(key))[0]
            if ts in stamps:
                i = stamps.index(ts) + 1
        if i >= len(stamps):
            raise BpfError(Errno.ENOENT, "no next key")
        return _U64.pack(stamps[i])
