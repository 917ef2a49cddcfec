"""The map interface every map type implements (ABI section 5).

Values are handed out as *live* memoryviews of the map's storage: the VM maps them
as regions, so a program's in-place increment is what the next syscall lookup sees.
A value normally keeps one view object (hash: for its lifetime; array: while it is in
the map's bounded view cache), which lets the VM reuse one address per value within
a run; a new view of the same value is still the same bytes.
"""

from __future__ import annotations

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError


class BpfMap:
    """Base class: identity, geometry and the default "not supported" operations."""

    map_type: MapType

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        self.id = map_id
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.name = ""  # the ELF name of an object's map, for logs
        # what the VM calls a value of this map in fault messages (made once: a
        # lookup helper maps a value on every call)
        self.value_region = f"map {map_id} value"
        # Frozen (libbpf's bpf_map_freeze, done for .rodata): userspace can no
        # longer update or delete (EPERM) and the verifier refuses program writes.
        self.frozen = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(id={self.id}, key_size={self.key_size}, "
            f"value_size={self.value_size}, max_entries={self.max_entries})"
        )

    @classmethod
    def storage_bytes(cls, key_size: int, value_size: int, max_entries: int) -> int:
        """Host bytes a map of this geometry may hold at most: what it is charged."""
        return max_entries * (key_size + value_size)

    # ------------------------------------------------------------ operations

    def lookup(self, key: bytes) -> memoryview | None:
        """Live view of the value for ``key``, or None if there is none."""
        raise BpfError(Errno.EINVAL, f"{self.kind} map does not support lookup")

    def update(self, key: bytes, value: bytes, flags: int = MapUpdateFlag.ANY) -> None:
        raise BpfError(Errno.EINVAL, f"{self.kind} map does not support update")

    def delete(self, key: bytes) -> None:
        raise BpfError(Errno.EINVAL, f"{self.kind} map does not support delete")

    def get_next_key(self, key: bytes | None) -> bytes:
        raise BpfError(Errno.EINVAL, f"{self.kind} map does not support get_next_key")

    # ------------------------------------------------------------ shared checks

    @property
    def kind(self) -> str:
        return self.map_type.name.lower()

    def _check_key(self, key: bytes) -> bytes:
        if len(key) != self.key_size:
            raise BpfError(
                Errno.EINVAL, f"key is {len(key)} bytes, map {self.id} wants {self.key_size}"
            )
        return bytes(key)

    def _check_value(self, value: bytes) -> bytes:
        if len(value) != self.value_size:
            raise BpfError(
                Errno.EINVAL,
                f"value is {len(value)} bytes, map {self.id} wants {self.value_size}",
            )
        return bytes(value)

    @staticmethod
    def _check_flags(flags: int) -> int:
        if flags not in (MapUpdateFlag.ANY, MapUpdateFlag.NOEXIST, MapUpdateFlag.EXIST):
            raise BpfError(Errno.EINVAL, f"unknown update flags {flags:#x}")
        return flags
