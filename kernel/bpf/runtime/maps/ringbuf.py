"""Ring buffer map (type 27): variable-length records in a power-of-two byte ring.

A record is an 8-byte header ``{u32 length, u32 flags}`` followed by the payload,
the total rounded up to a multiple of 8 (ABI section 5), stored in a real byte ring
so the space accounting matches the original: a 4096-byte ring holds 256 records of
8 payload bytes. Producers never overwrite: a record that does not fit is dropped,
counted in `dropped`, and `output` raises BpfError(ENOSPC) (helper 8 returns
-ENOSPC). Records are written whole, so the BUSY/DISCARD header bits are never set.
"""

from __future__ import annotations

import mmap
import struct

from kernel.abi import RINGBUF_HDR_SIZE, Errno, MapType
from kernel.bpf.errors import BpfError
from kernel.bpf.runtime.maps.base import BpfMap

_HDR = struct.Struct("<II")
_REC8 = struct.Struct("<IIQ")  # a header and an 8-byte payload
_U64 = struct.Struct("<Q")
assert _HDR.size == RINGBUF_HDR_SIZE
_WAKEUP_FLAGS = (0, 1, 2)  # BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2: accepted, no-ops


def record_size(payload_len: int) -> int:
    """Bytes a record of ``payload_len`` occupies in the ring."""
    return RINGBUF_HDR_SIZE + (payload_len + 7) // 8 * 8


class RingBufMap(BpfMap):
    """``max_entries`` is the ring size in bytes (a power of two, >= 16)."""

    map_type = MapType.RINGBUF

    def __init__(self, map_id: int, key_size: int, value_size: int, max_entries: int) -> None:
        super().__init__(map_id, 0, 0, max_entries)
        self._ring = mmap.mmap(-1, max_entries)  # untouched pages cost the host nothing
        self._view = memoryview(self._ring)
        # The ring as u64s (native order): records start 8-aligned, so the compiled
        # code writes a u64 record's header and value as two items (compiler.NATIVE_VIEWS).
        self.ring_q = self._view.cast("Q")
        self._mask = max_entries - 1
        self._producer = 0  # free-running byte positions
        self._consumer = 0
        self.dropped = 0
        self.records = 0  # records currently queued

    @classmethod
    def storage_bytes(cls, key_size: int, value_size: int, max_entries: int) -> int:
        return max_entries

    @property
    def used(self) -> int:
        """Bytes occupied by queued records (headers and padding included)."""
        return self._producer - self._consumer

    def output(self, data: bytes | bytearray | memoryview, flags: int = 0) -> None:
        """Append one record, or drop it (ENOSPC) if it does not fit."""
        if flags not in _WAKEUP_FLAGS:
            raise BpfError(Errno.EINVAL, f"unknown ringbuf output flags {flags:#x}")
        n = len(data)
        total = record_size(n)
        producer = self._producer
        if producer - self._consumer + total > self.max_entries:
            self.dropped += 1
            raise BpfError(
                Errno.ENOSPC,
                f"ringbuf {self.id} full: {total}-byte record, {self.max_entries - self.used} free",
            )
        start = producer & self._mask
        if start + RINGBUF_HDR_SIZE + n <= self.max_entries:  # no wrap: copy in place
            _HDR.pack_into(self._ring, start, n, 0)
            self._ring[start + RINGBUF_HDR_SIZE : start + RINGBUF_HDR_SIZE + n] = data
        else:
            self._put(producer, _HDR.pack(n, 0) + bytes(data))  # header + payload
        self._producer = producer + total
        self.records += 1

    def output_from(self, buf: bytearray | memoryview, off: int, n: int, flags: int = 0) -> None:
        """`output` of ``buf[off:off + n]`` (bounds checked by the caller), copied
        straight from the program's region into the ring when it does not wrap."""
        if flags not in _WAKEUP_FLAGS:
            raise BpfError(Errno.EINVAL, f"unknown ringbuf output flags {flags:#x}")
        producer = self._producer
        start = producer & self._mask
        if start + RINGBUF_HDR_SIZE + n > self.max_entries:  # wraps (or drops): general path
            self.output(bytes(buf[off : off + n]), flags)
            return
        total = RINGBUF_HDR_SIZE + (n + 7) // 8 * 8  # record_size(n)
        if producer - self._consumer + total > self.max_entries:
            self.output(bytes(buf[off : off + n]), flags)  # full: dropped and counted there
            return
        if n == 8:  # a u64 event, the usual record: header and payload in one pack
            _REC8.pack_into(self._ring, start, 8, 0, _U64.unpack_from(buf, off)[0])
        else:
            _HDR.pack_into(self._ring, start, n, 0)
            self._view[start + RINGBUF_HDR_SIZE : start + RINGBUF_HDR_SIZE + n] = buf[off : off + n]
        self._producer = producer + total
        self.records += 1

    def poll(self, capacity: int) -> bytes | None:
        """Pop the oldest record's payload; None if empty.

        A payload longer than ``capacity`` raises BpfError(ENOSPC) and stays queued.
        """
        if self._producer == self._consumer:
            return None
        length, _flags = _HDR.unpack(self._get(self._consumer, RINGBUF_HDR_SIZE))
        if length > capacity:
            raise BpfError(
                Errno.ENOSPC, f"record of {length} bytes does not fit a {capacity}-byte buffer"
            )
        payload = self._get(self._consumer + RINGBUF_HDR_SIZE, length)
        self._consumer += record_size(length)
        self.records -= 1
        return payload

    def peek_length(self) -> int | None:
        """Payload length of the oldest record, without consuming it."""
        if self._producer == self._consumer:
            return None
        return _HDR.unpack(self._get(self._consumer, RINGBUF_HDR_SIZE))[0]

    def peek_all(self, limit: int | None = None) -> list[bytes]:
        """Payloads of the queued records, oldest first, without consuming any
        (what a host-side inspector shows; the guest's next poll is unaffected)."""
        out: list[bytes] = []
        pos = self._consumer
        while pos != self._producer and (limit is None or len(out) < limit):
            length, _flags = _HDR.unpack(self._get(pos, RINGBUF_HDR_SIZE))
            out.append(self._get(pos + RINGBUF_HDR_SIZE, length))
            pos += record_size(length)
        return out

    # ------------------------------------------------------------ wrapping copies

    def _put(self, pos: int, data: bytes) -> None:
        start = pos & self._mask
        n = len(data)
        if start + n <= self.max_entries:  # the common case: no wrap
            self._ring[start : start + n] = data
            return
        first = self.max_entries - start
        self._ring[start : start + first] = data[:first]
        self._ring[: n - first] = data[first:]

    def _get(self, pos: int, n: int) -> bytes:
        start = pos & self._mask
        first = min(n, self.max_entries - start)
        return bytes(self._ring[start : start + first]) + bytes(self._ring[: n - first])
