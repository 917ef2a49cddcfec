"""Every map operation and error, with the exact errno of ABI section 3."""

import struct

import pytest

from kernel.abi import Errno, MapType, MapUpdateFlag
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps import (
    ArrayMap,
    HashMap,
    MapTable,
    RingBufMap,
    TimeseriesMap,
    record_size,
)


def errno_of(fn, *args) -> Errno:
    with pytest.raises(BpfError) as info:
        fn(*args)
    return info.value.errno


def k32(i: int) -> bytes:
    return struct.pack("<I", i)


# ---------------------------------------------------------------- table


def test_ids_are_sequential_from_zero_and_failures_consume_none():
    t = MapTable()
    a = t.create(MapType.ARRAY, 4, 8, 1)
    assert errno_of(t.create, 99, 4, 8, 1) == Errno.EINVAL
    r = t.create(MapType.RINGBUF, 0, 0, 4096)
    assert (a.id, r.id) == (0, 1)
    assert t.get(1) is r and 1 in t and len(t) == 2 and list(t) == [a, r]
    assert errno_of(t.get, 2) == Errno.ENOENT
    assert errno_of(t.get, -1) == Errno.ENOENT


@pytest.mark.parametrize(
    "args, errno",
    [
        ((MapType.HASH, 0, 8, 1), Errno.EINVAL),
        ((MapType.HASH, 4, 0, 1), Errno.EINVAL),
        ((MapType.HASH, 4, 8, 0), Errno.EINVAL),
        ((MapType.HASH, 513, 8, 1), Errno.EINVAL),
        ((MapType.HASH, 4, (1 << 20) + 1, 1), Errno.E2BIG),
        ((MapType.ARRAY, 4, 0, 1), Errno.EINVAL),
        ((MapType.ARRAY, 4, 8, 0), Errno.EINVAL),
        ((MapType.ARRAY, 4, 1 << 20, 1 << 10), Errno.E2BIG),
        ((MapType.RINGBUF, 0, 0, 4095), Errno.EINVAL),
        ((MapType.RINGBUF, 0, 0, 8), Errno.EINVAL),
        ((MapType.RINGBUF, 0, 0, 0), Errno.EINVAL),
        ((MapType.RINGBUF, 0, 0, 1 << 27), Errno.E2BIG),
        ((MapType.TIMESERIES, 8, 0, 4), Errno.EINVAL),
        ((MapType.TIMESERIES, 8, 8, 0), Errno.EINVAL),
        ((0, 4, 8, 1), Errno.EINVAL),
    ],
)
def test_create_validation(args, errno):
    assert errno_of(MapTable().create, *args) == errno


def test_forced_key_sizes():
    t = MapTable()
    assert t.create(MapType.ARRAY, 7, 8, 1).key_size == 4
    ring = t.create(MapType.RINGBUF, 3, 5, 64)
    assert (ring.key_size, ring.value_size, ring.max_entries) == (0, 0, 64)
    assert t.create(MapType.TIMESERIES, 0, 16, 4).key_size == 8


# ---------------------------------------------------------------- hash


def test_hash_update_flags_and_capacity():
    h = HashMap(0, 4, 8, 2)
    h.update(k32(1), bytes(8))
    assert errno_of(h.update, k32(1), bytes(8), MapUpdateFlag.NOEXIST) == Errno.EEXIST
    assert errno_of(h.update, k32(2), bytes(8), MapUpdateFlag.EXIST) == Errno.ENOENT
    h.update(k32(1), b"A" * 8, MapUpdateFlag.EXIST)
    h.update(k32(2), b"B" * 8, MapUpdateFlag.NOEXIST)
    assert errno_of(h.update, k32(3), bytes(8)) == Errno.E2BIG
    h.update(k32(2), b"C" * 8)  # replacing in a full map is fine
    assert bytes(h.lookup(k32(1))) == b"A" * 8 and bytes(h.lookup(k32(2))) == b"C" * 8
    assert errno_of(h.update, k32(1), bytes(8), 4) == Errno.EINVAL
    assert len(h) == 2


def test_hash_lookup_is_live_and_stable():
    h = HashMap(0, 4, 8, 4)
    h.update(k32(1), bytes(8))
    view = h.lookup(k32(1))
    view[0] = 9
    assert h.lookup(k32(1)) is view and h.lookup(k32(1))[0] == 9
    h.update(k32(1), b"\x07" * 8)
    assert view[0] == 7  # update writes in place
    assert h.lookup(k32(2)) is None


def test_hash_delete_and_sizes():
    h = HashMap(0, 4, 8, 4)
    h.update(k32(1), bytes(8))
    h.delete(k32(1))
    assert h.lookup(k32(1)) is None
    assert errno_of(h.delete, k32(1)) == Errno.ENOENT
    assert errno_of(h.lookup, b"abc") == Errno.EINVAL
    assert errno_of(h.update, k32(1), bytes(7)) == Errno.EINVAL


def test_hash_get_next_key_insertion_order():
    h = HashMap(0, 4, 4, 8)
    assert errno_of(h.get_next_key, None) == Errno.ENOENT
    for i in (5, 1, 3):
        h.update(k32(i), bytes(4))
    assert h.get_next_key(None) == k32(5)
    assert h.get_next_key(k32(5)) == k32(1)
    assert h.get_next_key(k32(1)) == k32(3)
    assert errno_of(h.get_next_key, k32(3)) == Errno.ENOENT
    assert h.get_next_key(k32(42)) == k32(5)  # unknown key restarts


# ---------------------------------------------------------------- array


def test_array_zero_filled_live_and_aliased():
    a = ArrayMap(0, 4, 8, 3)
    assert bytes(a.lookup(k32(2))) == bytes(8)
    view = a.lookup(k32(1))
    view[:] = struct.pack("<Q", 41)
    assert a.storage[8:16] == struct.pack("<Q", 41)
    a.update(k32(1), struct.pack("<Q", 42), MapUpdateFlag.EXIST)
    assert struct.unpack("<Q", view)[0] == 42
    assert a.lookup(k32(1)) is view
    assert a.lookup(k32(3)) is None


def test_array_errors():
    a = ArrayMap(0, 4, 8, 3)
    assert errno_of(a.update, k32(3), bytes(8)) == Errno.E2BIG
    assert errno_of(a.update, k32(0), bytes(8), MapUpdateFlag.NOEXIST) == Errno.EEXIST
    assert errno_of(a.delete, k32(0)) == Errno.EINVAL
    assert errno_of(a.update, k32(0), bytes(4)) == Errno.EINVAL
    assert errno_of(a.lookup, bytes(8)) == Errno.EINVAL


def test_array_get_next_key():
    a = ArrayMap(0, 4, 8, 3)
    assert [a.get_next_key(None), a.get_next_key(k32(0)), a.get_next_key(k32(1))] == [
        k32(0),
        k32(1),
        k32(2),
    ]
    assert errno_of(a.get_next_key, k32(2)) == Errno.ENOENT
    assert a.get_next_key(k32(99)) == k32(0)


# ---------------------------------------------------------------- ringbuf


def test_ringbuf_spec_example_256_records_of_8_bytes():
    r = RingBufMap(0, 0, 0, 4096)
    for i in range(256):
        r.output(struct.pack("<Q", i))
    assert r.used == 4096 and r.records == 256
    assert errno_of(r.output, struct.pack("<Q", 256)) == Errno.ENOSPC
    assert r.dropped == 1
    assert [struct.unpack("<Q", r.poll(8))[0] for _ in range(256)] == list(range(256))
    assert r.poll(8) is None and r.used == 0 and r.dropped == 1


def test_ringbuf_overflow_keeps_records_intact_and_in_order_across_wraparound():
    r = RingBufMap(0, 0, 0, 64)
    accepted, dropped = [], 0
    for i in range(40):
        payload = bytes([i]) * (1 + i % 13)
        try:
            r.output(payload)
            accepted.append(payload)
        except BpfError as e:
            assert e.errno == Errno.ENOSPC
            dropped += 1
        if i % 3 == 2:  # drain a little so the ring wraps
            assert r.poll(64) == accepted.pop(0)
    while (got := r.poll(64)) is not None:
        assert got == accepted.pop(0)
    assert accepted == [] and r.dropped == dropped > 0


def test_ringbuf_small_buffer_does_not_consume():
    r = RingBufMap(0, 0, 0, 64)
    r.output(b"hello world")
    r.output(b"")
    assert r.peek_length() == 11
    assert errno_of(r.poll, 10) == Errno.ENOSPC
    assert r.records == 2
    assert r.poll(11) == b"hello world"
    assert r.poll(0) == b""  # an empty record is not "no record"
    assert r.poll(0) is None and r.peek_length() is None


def test_ringbuf_record_accounting_and_flags():
    assert [record_size(n) for n in (0, 1, 8, 9)] == [8, 16, 16, 24]
    r = RingBufMap(0, 0, 0, 32)
    assert errno_of(r.output, bytes(25)) == Errno.ENOSPC  # 8 + 32 > 32
    r.output(bytes(24), flags=1)
    assert errno_of(r.output, b"", 4) == Errno.EINVAL
    assert r.dropped == 1
    for fn, args in ((r.lookup, (b"",)), (r.update, (b"", b"")), (r.delete, (b"",))):
        assert errno_of(fn, *args) == Errno.EINVAL
    assert errno_of(r.get_next_key, None) == Errno.EINVAL


# ---------------------------------------------------------------- timeseries


def test_timeseries_overwrites_oldest_and_lookup_returns_newest():
    ts = TimeseriesMap(0, 8, 4, 3)
    assert ts.lookup(bytes(8)) is None
    for t in range(1, 6):
        ts.update(struct.pack("<Q", t * 100), struct.pack("<i", -t))
    assert ts.entries() == [(300, struct.pack("<i", -3)), (400, struct.pack("<i", -4)),
                            (500, struct.pack("<i", -5))]  # fmt: skip
    assert ts.overwritten == 2 and len(ts) == 3
    newest = ts.lookup(bytes(8))
    assert bytes(newest) == struct.pack("<Qi", 500, -5) and newest.readonly
    ts.push(600, b"abcd")
    assert bytes(ts.lookup(bytes(8))) == struct.pack("<Q", 600) + b"abcd"


def test_timeseries_errors_and_keys():
    ts = TimeseriesMap(0, 8, 4, 3)
    assert errno_of(ts.push, 1, b"abc") == Errno.EINVAL
    assert errno_of(ts.update, bytes(4), bytes(4)) == Errno.EINVAL
    assert errno_of(ts.delete, bytes(8)) == Errno.EINVAL
    assert errno_of(ts.get_next_key, None) == Errno.ENOENT
    ts.push(10, bytes(4))
    ts.push(20, bytes(4))
    assert ts.get_next_key(None) == struct.pack("<Q", 10)
    assert ts.get_next_key(struct.pack("<Q", 10)) == struct.pack("<Q", 20)
    assert errno_of(ts.get_next_key, struct.pack("<Q", 20)) == Errno.ENOENT


def test_hash_iteration_is_linear_and_survives_deletes():
    h = HashMap(0, 4, 1, 20_000)
    for i in range(20_000):
        h.update(k32(i), b"\x01")
    seen, key = [], None
    while True:
        try:
            key = h.get_next_key(key)
        except BpfError:
            break
        seen.append(key)
    assert seen == [
        k32(i) for i in range(20_000)
    ]  # O(n) calls in all: quadratic would take minutes
    for i in range(0, 20_000, 2):
        h.delete(k32(i))
    h.update(k32(0), b"\x02")  # re-inserted: now last
    assert h.get_next_key(None) == k32(1)
    assert h.get_next_key(k32(19_999)) == k32(0)
    drained = 0
    while len(h):  # drain from the front, as a cleanup loop does
        h.delete(h.get_next_key(None))
        drained += 1
    assert drained == 10_001 and errno_of(h.get_next_key, None) == Errno.ENOENT
