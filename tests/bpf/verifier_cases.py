"""Shared fixtures for the verifier tests: a fake map table and program snippets."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.abi import MapType


@dataclass(frozen=True)
class FakeMap:
    map_type: int
    key_size: int
    value_size: int
    max_entries: int


# The map table every assembler test program sees (ids are what `mov r1, N` names).
MAPS = {
    0: FakeMap(MapType.ARRAY, 4, 8, 16),
    1: FakeMap(MapType.RINGBUF, 0, 0, 4096),
    2: FakeMap(MapType.ARRAY, 4, 128, 1),
    3: FakeMap(MapType.HASH, 4, 8, 64),
    4: FakeMap(MapType.TIMESERIES, 8, 8, 16),
    5: FakeMap(MapType.HASH, 8, 16, 8),
}


def lookup(map_id: int, key: int = 0) -> str:
    """Store a u32 key at fp-4 and call map_lookup_elem(map_id, fp-4): R0 = value or NULL."""
    return f"""
    stw [r10-4], {key}
    mov r1, {map_id}
    mov r2, r10
    add r2, -4
    call map_lookup_elem
"""


def pkt(check: int) -> str:
    """r2 = data, r3 = data_end; continue at `ok` only if data + check <= data_end."""
    return f"""
    ldxdw r2, [r1+0]
    ldxdw r3, [r1+8]
    mov r4, r2
    add r4, {check}
    jgt r4, r3, out
"""
