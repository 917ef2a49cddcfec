"""Remote-protocol framing without a socket or gdb."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from emulator.gdbstub import packets
from emulator.gdbstub.packets import Ack, BadPacket, Interrupt, Packet, PacketReader


def test_checksum_and_frame_follow_the_protocol() -> None:
    assert packets.checksum(b"") == 0
    assert packets.checksum(b"OK") == 0x9A
    assert packets.frame(b"OK") == b"$OK#9a"
    assert packets.frame(b"qSupported") == b"$qSupported#37"


def test_escape_covers_exactly_the_four_special_bytes() -> None:
    assert packets.escape(b"a#b$c}d*e") == b"a}\x03b}\x04c}]d}\x0ae"
    assert packets.unescape(b"a}\x03b}\x04c}]d}\x0ae") == b"a#b$c}d*e"


@given(st.binary(max_size=300))
def test_escape_round_trips_and_leaves_no_special_byte(data: bytes) -> None:
    escaped = packets.escape(data)
    assert packets.unescape(escaped) == data
    assert not {ord("#"), ord("$"), ord("*")} & set(escaped)


def test_unescape_rejects_a_dangling_escape() -> None:
    try:
        packets.unescape(b"ab}")
    except ValueError as err:
        assert "escape character at end" in str(err)
    else:
        raise AssertionError("a trailing escape was accepted")


def test_run_length_decoding() -> None:
    assert packets.decode_rle(b"0* ") == b"0000"  # ' ' = 32: three more
    assert packets.decode_rle(b"ab") == b"ab"


def test_reader_splits_packets_acks_and_interrupts_across_feeds() -> None:
    reader = PacketReader()
    assert reader.feed(b"+$g#6") == [Ack(True)]
    assert reader.mid_packet
    assert reader.feed(b"7-\x03$m0,4#fd") == [
        Packet(b"g"),
        Ack(False),
        Interrupt(),
        Packet(b"m0,4"),
    ]
    assert not reader.mid_packet


def test_reader_reports_bad_checksums_and_non_hex_checksums() -> None:
    reader = PacketReader()
    assert reader.feed(b"$g#00") == [BadPacket(b"g")]
    assert reader.feed(b"$g#zz") == [BadPacket(b"g")]
    assert reader.feed(b"$g#67") == [Packet(b"g")]


def test_reader_keeps_binary_payloads_whole() -> None:
    payload = b"X10,3:" + packets.escape(b"#$}")
    assert PacketReader().feed(packets.frame(payload)) == [Packet(payload)]


def test_reader_drops_an_oversized_packet_and_recovers() -> None:
    reader = PacketReader()
    events = reader.feed(b"$" + b"A" * (packets.MAX_PACKET + 10))
    assert len(events) == 1 and isinstance(events[0], BadPacket)
    assert reader.feed(b"#00$g#67") == [Packet(b"g")]


def test_a_new_dollar_restarts_an_unfinished_packet() -> None:
    assert PacketReader().feed(b"$m10$g#67") == [Packet(b"g")]


def test_noise_between_packets_is_ignored() -> None:
    assert PacketReader().feed(b"xyz\r\n$g#67") == [Packet(b"g")]
