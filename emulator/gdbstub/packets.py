"""GDB remote serial protocol framing: `$payload#checksum`, acks, escapes, Ctrl-C.

Pure functions and a byte-fed reader with no I/O, so the framing rules can be tested
without a socket or a gdb. Binary data (the `X` packet, `qXfer` replies) escapes `#`,
`$`, `}` and `*` as `}` followed by the byte XOR 0x20.
"""

from __future__ import annotations

import dataclasses

INTERRUPT = 0x03
MAX_PACKET = 0x4000  # what qSupported advertises as PacketSize (bytes of payload)
_ESCAPED = frozenset(b"#$}*")


def checksum(data: bytes) -> int:
    """Modulo-256 sum of the payload bytes, as the protocol defines it."""
    return sum(data) & 0xFF


def frame(payload: bytes) -> bytes:
    """A complete packet for `payload` (already escaped where binary)."""
    return b"$" + payload + b"#" + f"{checksum(payload):02x}".encode()


def escape(data: bytes) -> bytes:
    """Escape binary data for a packet."""
    out = bytearray()
    for byte in data:
        if byte in _ESCAPED:
            out += bytes((0x7D, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    """Undo `escape` (a trailing lone `}` is malformed and raises ValueError)."""
    out = bytearray()
    it = iter(data)
    for byte in it:
        if byte == 0x7D:
            try:
                out.append(next(it) ^ 0x20)
            except StopIteration:
                raise ValueError("escape character at end of data") from None
        else:
            out.append(byte)
    return bytes(out)


def decode_rle(data: bytes) -> bytes:
    """Expand run-length encoding (`X*n`: repeat X n-29 more times) in a reply."""
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == ord("*") and out and i + 1 < len(data):
            out += out[-1:] * (data[i + 1] - 29)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


@dataclasses.dataclass(frozen=True)
class Packet:
    """A packet whose checksum matched."""

    payload: bytes


@dataclasses.dataclass(frozen=True)
class BadPacket:
    """A packet whose checksum did not match (or was not hex): answer with `-`."""

    payload: bytes


@dataclasses.dataclass(frozen=True)
class Interrupt:
    """The client sent Ctrl-C (0x03) outside a packet."""


@dataclasses.dataclass(frozen=True)
class Ack:
    """`+` (ok) or `-` (retransmit) from the client."""

    ok: bool


Event = Packet | BadPacket | Interrupt | Ack


class PacketReader:
    """Turns a byte stream into protocol events; keeps partial packets between feeds."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_packet = False

    @property
    def mid_packet(self) -> bool:
        """True while a packet has started but not ended (a disconnect loses it)."""
        return self._in_packet

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for byte in data:
            if not self._in_packet:
                if byte == ord("$"):
                    self._in_packet = True
                    self._buf.clear()
                elif byte == INTERRUPT:
                    events.append(Interrupt())
                elif byte in (ord("+"), ord("-")):
                    events.append(Ack(byte == ord("+")))
                # anything else between packets is line noise: ignored
                continue
            if byte == ord("$") and (len(self._buf) < 1 or self._buf[-1] != ord("#")):
                self._buf.clear()  # a new packet started: the unfinished one is lost
                continue
            self._buf.append(byte)
            if len(self._buf) > MAX_PACKET + 3:
                events.append(BadPacket(bytes(self._buf[:64])))
                self._in_packet = False
                self._buf.clear()
                continue
            if len(self._buf) >= 3 and self._buf[-3] == ord("#"):
                payload, sum_text = bytes(self._buf[:-3]), bytes(self._buf[-2:])
                self._in_packet = False
                self._buf.clear()
                try:
                    ok = int(sum_text, 16) == checksum(payload)
                except ValueError:
                    ok = False
                events.append(Packet(payload) if ok else BadPacket(payload))
        return events
