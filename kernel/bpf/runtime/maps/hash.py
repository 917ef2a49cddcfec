"""Hash map (type 1): bounded dict of fixed-size keys and values, insertion ordered."""

from __future__ import annotations

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps.base import BpfMap

ENTRY_OVERHEAD_BYTES = 128  # host cost of one entry beyond its key and value bytes


class HashMap(BpfMap):
    """``update`` on a full map -> E2BIG (as Linux); NOEXIST on a present key ->
    EEXIST; EXIST on a missing key -> ENOENT; ``delete`` of a missing key -> ENOENT.
    Updating an existing key writes into the same storage (the live view stays valid).
    """

    map_type = MapType.HASH

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(map_id, key_size, value_size, max_entries)
        self._values: dict[bytes, memoryview] = {}
        # Insertion order with O(1) "next key": positions in a list, deleted keys left
        # as holes (compacted when they are the majority), so iterating a map of n keys
        # with GET_NEXT_KEY costs O(n), not O(n^2).
        self._order: list[bytes | None] = []
        self._pos: dict[bytes, int] = {}
        self._first = 0  # no live key below this index

    @classmethod
    def storage_bytes(cls, key_size: int, value_size: int, max_entries: int) -> int:
        """Entries are host objects (a bytes key, a bytearray and its view)."""
        return max_entries * (key_size + value_size + ENTRY_OVERHEAD_BYTES)

    def __len__(self) -> int:
        return len(self._values)

    def lookup(self, key: bytes) -> memoryview | None:
        return self._values.get(self._check_key(key))

    def update(self, key: bytes, value: bytes, flags: int = MapUpdateFlag.ANY) -> None:
        key = self._check_key(key)
        value = self._check_value(value)
        flags = self._check_flags(flags)
        view = self._values.get(key)
        if view is not None:
            if flags == MapUpdateFlag.NOEXIST:
                raise BpfError(Errno.EEXIST, f"key {key.hex()} already in map {self.id}")
            view[:] = value
            return
        if flags == MapUpdateFlag.EXIST:
            raise BpfError(Errno.ENOENT, f"key {key.hex()} not in map {self.id}")
        if len(self._values) >= self.max_entries:
            raise BpfError(Errno.E2BIG, f"hash map {self.id} is full ({self.max_entries})")
        self._values[key] = memoryview(bytearray(value))
        self._pos[key] = len(self._order)
        self._order.append(key)

    def delete(self, key: bytes) -> None:
        key = self._check_key(key)
        if self._values.pop(key, None) is None:
            raise BpfError(Errno.ENOENT, f"key {key.hex()} not in map {self.id}")
        self._order[self._pos.pop(key)] = None
        if len(self._order) > 64 and len(self._pos) * 2 < len(self._order):
            self._order = [k for k in self._order if k is not None]
            self._pos = {k: i for i, k in enumerate(self._order)}  # type: ignore[misc]
            self._first = 0

    def _live_from(self, i: int) -> bytes | None:
        order = self._order
        while i < len(order) and order[i] is None:
            i += 1
        return order[i] if i < len(order) else None

    def get_next_key(self, key: bytes | None) -> bytes:
        """Insertion order; an unknown or None key restarts at the first key."""
        if key is not None:
            key = self._check_key(key)
            pos = self._pos.get(key)
            if pos is not None:
                after = self._live_from(pos + 1)
                if after is None:
                    raise BpfError(Errno.ENOENT, "no next key")
                return after
        first = self._live_from(self._first)
        if first is None:
            raise BpfError(Errno.ENOENT, "map is empty")
        self._first = self._pos[first]
        return first
