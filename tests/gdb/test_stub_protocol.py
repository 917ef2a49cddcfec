"""The gdb server over its socket with a hand-written client (no gdb needed):
handshake, target.xml, error replies, binary writes, Ctrl-C, kill, and clients that
vanish at awkward moments without hurting the machine."""

from __future__ import annotations

import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from emulator.config import ARCHES
from emulator.gdbstub import packets
from emulator.gdbstub.registers import REGISTER_FILES
from emulator.gdbstub.stub import GdbKilled
from emulator.testing import BootedMachine, boot
from tests.gdb.harness import reference_run


class Client:
    """A minimal remote-protocol client in ack mode."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        self.buf = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_byte(self) -> bytes:
        while not self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
        byte, self.buf = self.buf[:1], self.buf[1:]
        return byte

    def reply(self) -> bytes:
        while self.read_byte() != b"$":
            pass
        body = b""
        while (byte := self.read_byte()) != b"#":
            body += byte
        check = self.read_byte() + self.read_byte()
        assert int(check, 16) == packets.checksum(body)
        self.send_raw(b"+")
        return body

    def ask(self, payload: bytes) -> bytes:
        self.send_raw(packets.frame(payload))
        assert self.read_byte() == b"+"
        return self.reply()

    def close(self) -> None:
        self.sock.close()


class Running:
    """A booted machine with its gdb server, run to the end in a thread."""

    def __init__(self, arch: str, program: str, wait: bool) -> None:
        self.vm: BootedMachine = boot(
            arch, append=f"init=/bin/{program}", gdb="tcp:127.0.0.1:0", gdb_wait=wait
        )
        stub = self.vm.machine.debugger
        assert stub is not None and stub.listener is not None
        self.address = stub.listener.address.replace("localhost", "127.0.0.1")
        self.error: BaseException | None = None
        self.status: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.status = self.vm.run_to_end(timeout=60)
        except BaseException as err:  # noqa: BLE001 - reported to the test
            self.error = err

    def join(self) -> None:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the machine wedged"


@pytest.fixture(params=ARCHES)
def held(request: pytest.FixtureRequest) -> Iterator[tuple[Running, Client]]:
    """t_gdb held by -S with a connected client."""
    running = Running(request.param, "t_gdb", wait=True)
    client = Client(running.address)
    yield running, client
    client.close()
    running.join()


def test_handshake_and_stop_reason(held: tuple[Running, Client]) -> None:
    _, client = held
    features = client.ask(b"qSupported:multiprocess+;swbreak+;xmlRegisters=i386").split(b";")
    assert b"qXfer:features:read+" in features and b"PacketSize=4000" in features
    assert client.ask(b"?") == b"T05thread:1;"
    assert client.ask(b"qC") == b"QC1"
    assert client.ask(b"qfThreadInfo") == b"m1"
    assert client.ask(b"qsThreadInfo") == b"l"
    assert bytes.fromhex(client.ask(b"qThreadExtraInfo,1").decode()) == b"pid 1 t_gdb (runnable)"
    assert client.ask(b"qAttached") == b"1"
    client.ask(b"D")


def test_target_xml_in_chunks_describes_every_register(held: tuple[Running, Client]) -> None:
    running, client = held
    arch = running.vm.config.arch
    document, offset = b"", 0
    while True:
        reply = client.ask(f"qXfer:features:read:target.xml:{offset:x},200".encode())
        assert reply[:1] in (b"m", b"l") and len(packets.unescape(reply[1:])) <= 0x200
        document += packets.unescape(reply[1:])
        offset = len(document)
        if reply[:1] == b"l":
            break
    root = ET.fromstring(document)
    expected = {"x86_64": "i386:x86-64", "aarch64": "aarch64"}[arch]
    assert root.findtext("architecture") == expected
    regs = REGISTER_FILES[arch].regs
    names = [r.get("name") for r in root.iter("reg")]
    assert names == [r.name for r in regs]
    assert len(client.ask(b"g")) == 2 * sum(r.bits // 8 for r in regs)
    client.ask(b"D")


def test_bad_packets_get_error_codes_and_the_session_goes_on(held: tuple[Running, Client]) -> None:
    _, client = held
    client.send_raw(b"$g#00")
    assert client.read_byte() == b"-"  # bad checksum: retransmit
    assert client.ask(b"qNoSuchQuery") == b""
    assert client.ask(b"mzz,4") == b"E01"
    assert client.ask(b"m0,4") == b"E0e"  # unmapped
    assert client.ask(b"p9999") == b"E00"
    assert client.ask(b"Hg63") == b"E03"  # no pid 99
    assert client.ask(b"Z2,1000,0") == b"E16"
    assert client.ask(b"Z7,1000,1") == b""
    assert client.ask(b"X0,2:ab") == b"E0e"
    assert client.ask(b"M0,2:zz") == b"E01"
    assert client.ask(b"vCont;q") == b"E16"
    assert client.ask(b"?") == b"T05thread:1;"
    client.ask(b"D")


def test_binary_write_with_escapes_reads_back(held: tuple[Running, Client]) -> None:
    running, client = held
    regs = REGISTER_FILES[running.vm.config.arch]
    sp_num = regs.index("rsp" if running.vm.config.arch == "x86_64" else "sp")
    sp = int.from_bytes(bytes.fromhex(client.ask(f"p{sp_num:x}".encode()).decode()), "little")
    address = sp - 0x100  # below the stack pointer: nothing of the guest's lives there
    data = b"#$}*\x00\xff"
    assert client.ask(f"X{address:x},{len(data):x}:".encode() + packets.escape(data)) == b"OK"
    assert client.ask(f"m{address:x},{len(data):x}".encode()) == data.hex().encode()
    assert client.ask(f"x{address:x},{len(data):x}".encode()) == b"b" + packets.escape(data)
    assert client.ask(f"X{address:x},{len(data):x}:".encode() + bytes(len(data))) == b"OK"
    registers = client.ask(b"g")
    assert client.ask(b"G" + registers) == b"OK" and client.ask(b"g") == registers
    assert client.ask(b"G00") == b"E01"
    client.ask(b"D")


@pytest.mark.parametrize("arch", ARCHES)
def test_client_vanishing_mid_packet_lets_the_machine_finish(arch: str) -> None:
    running = Running(arch, "t_gdb", wait=True)
    client = Client(running.address)
    client.ask(b"qSupported")
    client.send_raw(b"$m1000,")
    client.close()
    running.join()
    assert running.error is None
    assert (running.vm.raw, running.status) == reference_run(arch, "t_gdb")


@pytest.mark.parametrize("arch", ARCHES)
def test_connect_and_disconnect_while_running_changes_nothing(arch: str) -> None:
    running = Running(arch, "t_cpuhog", wait=False)
    for _ in range(3):
        try:
            Client(running.address).close()
        except OSError:
            break  # the machine already finished and closed its server
    running.join()
    assert running.error is None
    assert (running.vm.raw, running.status) == reference_run(arch, "t_cpuhog")


@pytest.mark.parametrize("arch", ARCHES)
def test_ctrl_c_interrupts_and_kill_ends_the_machine(arch: str) -> None:
    running = Running(arch, "t_cpuhog", wait=True)
    client = Client(running.address)
    client.ask(b"qSupported")
    client.send_raw(packets.frame(b"vCont;c"))
    assert client.read_byte() == b"+"
    client.send_raw(b"\x03")
    stop = client.reply()
    assert stop.startswith(b"T02thread:"), stop
    client.send_raw(packets.frame(b"vKill;1"))
    assert client.read_byte() == b"+"
    assert client.reply() == b"OK"
    client.close()
    running.join()
    assert isinstance(running.error, GdbKilled)


@pytest.mark.parametrize("arch", ARCHES)
def test_a_fault_stops_first_and_a_discarded_signal_faults_again(arch: str) -> None:
    running = Running(arch, "t_segv", wait=True)
    client = Client(running.address)
    client.ask(b"qSupported")
    client.send_raw(packets.frame(b"vCont;c"))
    assert client.read_byte() == b"+"
    assert client.reply() == b"T0bthread:1;"
    client.send_raw(packets.frame(b"vCont;c"))  # no signal: the instruction runs again
    assert client.read_byte() == b"+"
    assert client.reply() == b"T0bthread:1;"
    client.send_raw(packets.frame(b"vCont;C0b:1"))  # deliver it: the kernel kills init
    assert client.read_byte() == b"+"
    assert client.reply() == b"W8b"
    client.close()
    running.join()
    assert (running.vm.raw, running.status) == reference_run(arch, "t_segv")


def test_host_io_reads_guest_files_from_the_image(held: tuple[Running, Client]) -> None:
    running, client = held
    arch = running.vm.config.arch
    path = b"/bin/t_gdb".hex().encode()
    assert client.ask(b"vFile:setfs:0") == b"F0"
    assert client.ask(b"vFile:open:" + path + b",0,0") == b"F0"
    reply = client.ask(b"vFile:pread:0,10,0")
    assert reply.startswith(b"F10;") and packets.unescape(reply[4:])[:4] == b"\x7fELF"
    stat = client.ask(b"vFile:fstat:0")
    assert stat.startswith(b"F40;")
    size = int.from_bytes(packets.unescape(stat[4:])[28:36], "big")
    from images.contents import _image_copy
    from tests.gdb.harness import BUILD

    assert size == len(_image_copy((BUILD / arch / "bin" / "t_gdb").read_bytes()))
    assert client.ask(f"vFile:pread:0,10,{size:x}".encode()) == b"F0;"
    assert client.ask(b"vFile:close:0") == b"F0"
    assert client.ask(b"vFile:close:0") == b"F-1,9"  # EBADF
    assert client.ask(b"vFile:open:" + b"/nope".hex().encode() + b",0,0") == b"F-1,2"
    assert client.ask(b"vFile:open:" + b"/bin".hex().encode() + b",0,0") == b"F-1,15"  # EISDIR
    assert client.ask(b"vFile:open:" + path + b",1,0") == b"F-1,1e"  # EROFS
    assert client.ask(b"vFile:pread:zz") == b"F-1,16"  # EINVAL
    client.ask(b"D")
