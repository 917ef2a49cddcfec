"""The monitor over a unix socket (both architectures): every command answers, `stop`
freezes guest time, `log` changes -d at run time, `quit` ends the run; and
axiom-bpftool against a live bpf_loader sees what the guest sees."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from emulator.machine import RunState
from emulator.monitor.server import PROMPT, Monitor
from emulator.testing import BootedMachine, boot
from kernel.abi import AttachType, Sys
from kernel.kernel import Kernel
from kernel.tracer import KernelTracer

T = TypeVar("T")
TICK_LINE = re.compile(r"Tick #3 received via ringbuf \(counter=(\d+)\), map counter: (\d+)")


class Client:
    """A line-oriented monitor client, as a user with socat would be."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(str(path))
        self.buffer = b""
        self.banner = self._until(PROMPT.encode())

    def _until(self, end: bytes) -> str:
        while end not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "monitor closed the connection"
            self.buffer += chunk
        text, _, self.buffer = self.buffer.partition(end)
        return text.decode()

    def cmd(self, line: str) -> str:
        self.sock.sendall(line.encode() + b"\n")
        return self._until(PROMPT.encode())

    def json(self, execute: str, **arguments: object) -> dict:
        self.sock.sendall(json.dumps({"execute": execute, "arguments": arguments}).encode() + b"\n")
        return json.loads(self._until(b"\n"))


def serve_while(monitor: Monitor, work: Callable[[], T]) -> T:
    """Run `work` in a thread while this thread answers the monitor (machine paused)."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    while thread.is_alive():
        monitor.serve(0.02)
    assert result, "the client thread failed"
    return result[0]


def test_monitor_answers_every_command(arch: str, tmp_path: Path) -> None:
    vm = boot(arch, append="/bin/bpf_loader", log_file=tmp_path / "d.log")
    path = tmp_path / "mon.sock"
    monitor = Monitor(vm.machine, f"unix:{path}")
    vm.wait_for(TICK_LINE)
    k = vm.machine.kernel
    pc = vm.machine.kernel.procs[2].cpu.pc

    def session() -> dict[str, Any]:
        c = Client(path)
        out: dict[str, Any] = {"banner": c.banner}
        for line in (
            "help",
            "info registers",
            "info procs",
            "info bpf",
            f"x/4xw {pc:#x} 2",
            "x/2xg 0x10 2",
            "log syscall,irq",
            "log",
            "log bogus",
            "nonsense",
        ):
            out[line] = c.cmd(line)
        out["status"] = c.json("query-status")
        return out

    out = serve_while(monitor, session)
    assert "type 'help'" in out["banner"]
    assert "info procs" in out["help"] and "x/N" in out["help"]
    regs = out["info registers"]
    pc_name = "RIP" if arch == "x86_64" else "PC"
    assert re.search(rf"\b{pc_name}={pc:016x}", regs), regs
    assert regs.startswith("pid 2 (bpf_loader)")
    procs = out["info procs"].splitlines()
    assert procs[0].split() == ["PID", "PPID", "NAME", "STATE", "MEMORY", "SYSCALLS", "CPU_NS"]
    row = procs[2].split()
    p2 = k.procs[2]
    assert row == [
        "2",
        "1",
        "bpf_loader",
        "blocked",
        str(p2.mm.mapped_bytes),
        str(p2.syscalls),
        str(p2.cpu_ns),
    ]
    assert "0: timer  name timer_counter  attached timer  insns 27" in out["info bpf"]
    assert "1: ringbuf  name -  key 0B  value 0B  max_entries 4096" in out["info bpf"]
    word = int.from_bytes(p2.mm.read(pc, 4), "little")
    assert out[f"x/4xw {pc:#x} 2"].startswith(f"{pc:016x}: 0x{word:08x} ")
    assert out["x/2xg 0x10 2"].startswith("error: cannot read 16 bytes at 0x10")
    assert out["log syscall,irq"] == "log items: syscall,irq\n"
    assert out["log"] == "log items: irq,syscall\n"
    assert out["log bogus"].startswith("error: unknown log item bogus")
    assert out["nonsense"].startswith("unknown command")
    assert out["status"]["return"]["ticks"] == k.ticks
    # `log` took effect: the text log now has syscall and irq lines
    vm.run_for(0.2)
    vm.machine.close()
    text = (tmp_path / "d.log").read_text()
    assert re.search(r"\] syscall: pid 2 \(bpf_loader\) nanosleep\(", text)
    assert re.search(r"\] irq: irq \d+ timer tick #\d+", text)
    monitor.close()
    assert not path.exists()


def test_stop_freezes_guest_time_and_quit_ends_the_run(arch: str, tmp_path: Path) -> None:
    vm = boot(arch, append="init=/bin/b_spin 4000000000")  # spins far longer than the test
    path = tmp_path / "mon.sock"
    monitor = Monitor(vm.machine, f"unix:{path}")
    console_at_stop: list[bytes] = []

    def session() -> tuple[int, int, int]:
        c = Client(path)
        c.cmd("stop")
        first = c.json("query-status")["return"]
        console_at_stop.append(vm.raw)
        time.sleep(0.3)
        second = c.json("query-status")["return"]
        assert not second["running"]
        c.cmd("cont")
        time.sleep(0.2)
        c.cmd("quit")
        return first["guest_ns"], second["guest_ns"], len(console_at_stop[0])

    result: list[tuple[int, int, int]] = []
    thread = threading.Thread(target=lambda: result.append(session()))
    thread.start()
    state = vm.machine.run(until_ns=60 * 10**9)  # the monitor is served between slices
    thread.join()
    monitor.close()
    assert state is RunState.QUIT
    first, second, _ = result[0]
    assert first == second  # no guest time passed while stopped
    assert vm.machine.clock.now_ns() >= second


def test_monitor_never_changes_the_console(arch: str, tmp_path: Path) -> None:
    plain = boot(arch, append="/bin/bpf_loader")
    assert plain.run_to_end(60) == 0
    vm = boot(arch, append="/bin/bpf_loader")
    monitor = Monitor(vm.machine, f"unix:{tmp_path / 'm.sock'}")
    vm.wait_for(TICK_LINE)
    serve_while(monitor, lambda: Client(tmp_path / "m.sock").cmd("info bpf"))
    assert vm.run_to_end(60) == 0
    monitor.close()
    assert vm.raw == plain.raw


def bpftool(sock: Path, *words: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "emulator.bpftool", "--sock", str(sock), *words]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


class AttachTicks(KernelTracer):
    """Notes the kernel's tick count when bpf(PROG_ATTACH) returns: later ticks are
    the ones the timer program sees."""

    syscalls = True

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.at: int | None = None

    def syscall_exit(self, proc: object, nr: int, result: int | None) -> None:
        if nr == Sys.BPF and self.at is None and self.kernel.bpf.attached[AttachType.TIMER]:
            self.at = self.kernel.ticks


def live_bpf_loader(arch: str, tmp_path: Path) -> tuple[BootedMachine, Monitor, Path, int, int]:
    """bpf_loader stopped right after it printed Tick #3; the tick count at attach."""
    vm = boot(arch, append="/bin/bpf_loader")
    path = tmp_path / "mon.sock"
    monitor = Monitor(vm.machine, f"unix:{path}")
    recorder = AttachTicks(vm.machine.kernel)
    vm.machine.kernel.tracer = recorder
    printed = int(vm.wait_for(TICK_LINE)[2])
    assert recorder.at is not None
    return vm, monitor, path, recorder.at, printed


def test_bpftool_prog_list_and_map_dump_on_a_live_machine(arch: str, tmp_path: Path) -> None:
    vm, monitor, sock, ticks_at_attach, printed = live_bpf_loader(arch, tmp_path)
    ticks_seen = vm.machine.kernel.ticks - ticks_at_attach

    def queries() -> dict[str, subprocess.CompletedProcess[str]]:
        return {
            "list": bpftool(sock, "prog", "list"),
            "json": bpftool(sock, "--json", "prog", "show", "id", "0"),
            "dump": bpftool(sock, "map", "dump", "id", "0"),
            "dump_json": bpftool(sock, "-j", "map", "dump", "id", "0"),
            "xlated": bpftool(sock, "prog", "dump", "xlated", "id", "0"),
            "maps": bpftool(sock, "map", "list"),
            "peek": bpftool(sock, "map", "peek", "id", "1"),
            "lookup": bpftool(sock, "map", "lookup", "id", "0", "key", "0", "0", "0", "0"),
            "bad": bpftool(sock, "map", "dump", "id", "7"),
        }

    out = serve_while(monitor, queries)
    assert all(r.returncode == 0 for k, r in out.items() if k != "bad"), out
    first = out["list"].stdout.splitlines()[0]
    assert re.fullmatch(
        rf"0: timer  name timer_counter  tag [0-9a-f]{{16}}  "
        rf"run_time_ns {ticks_seen * 27 * vm.machine.clock.ns_per_insn} run_cnt {ticks_seen}",
        first,
    ), first
    assert "\txlated 216B  not jited  insns 27" in out["list"].stdout
    info = json.loads(out["json"].stdout)
    assert info["run_cnt"] == ticks_seen == printed
    assert info["attached"] == ["timer"] and info["bytes_xlated"] == 216
    value = printed.to_bytes(8, "little").hex(" ")
    assert out["dump"].stdout == (
        f"key: 00 00 00 00  value: {value}\n\tkey=0 value={printed}\nFound 1 element\n"
    )
    assert json.loads(out["dump_json"].stdout) == [
        {
            "key": "00000000",
            "value": printed.to_bytes(8, "little").hex(),
            "formatted": {"key": 0, "value": printed},
        }
    ]
    xlated = out["xlated"].stdout.splitlines()
    assert xlated[0] == "   0: (bf) r6 = r1" and xlated[6] == "   6: (85) call map_lookup_elem#5"
    assert len(xlated) == 27
    assert "1: ringbuf  flags 0x0\n\tkey 0B  value 0B  max_entries 4096" in out["maps"].stdout
    # the guest has read 3 records (counters 1..3); the rest are queued, 4..printed
    peeked = re.findall(r"^record \d+: .*\n\tvalue=(\d+)$", out["peek"].stdout, re.M)
    assert [int(v) for v in peeked] == list(range(4, printed + 1))
    assert out["lookup"].stdout.startswith(f"key: 00 00 00 00  value: {value}")
    assert out["bad"].returncode == 1 and "no map with id 7" in out["bad"].stderr
    monitor.close()


def test_bpftool_update_delete_and_peek_do_not_disturb_the_guest(tmp_path: Path) -> None:
    vm, monitor, sock, _, printed = live_bpf_loader("x86_64", tmp_path)
    ring = vm.machine.kernel.bpf.maps.get(1)
    queued = ring.records

    def queries() -> list[subprocess.CompletedProcess[str]]:
        return [
            bpftool(sock, "map", "peek", "id", "1"),
            bpftool(
                sock,
                "map",
                "update",
                "id",
                "0",
                "key",
                "hex",
                "00",
                "00",
                "00",
                "00",
                "value",
                "100",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
                "0",
            ),
            bpftool(sock, "map", "lookup", "id", "0", "key", "0", "0", "0", "0"),
            bpftool(sock, "map", "delete", "id", "0", "key", "0", "0", "0", "0"),
            bpftool(sock, "map", "lookup", "id", "0", "key", "0", "0", "0"),
        ]

    peek, update, lookup, delete, short = serve_while(monitor, queries)
    assert peek.stdout.startswith("record 0: 04 00 00 00 00 00 00 00\n\tvalue=4\n")
    assert ring.records == queued  # peek did not consume
    assert update.returncode == 0 and update.stdout == ""
    assert lookup.stdout == "key: 00 00 00 00  value: 64 00 00 00 00 00 00 00\n\tkey=0 value=100\n"
    assert (
        delete.returncode == 1 and "EINVAL: array map elements cannot be deleted" in delete.stderr
    )
    assert short.returncode == 1 and "key is 3 bytes" in short.stderr
    after = vm.wait_for(
        re.compile(r"Tick #4 received via ringbuf \(counter=(\d+)\), map counter: (\d+)")
    )
    assert int(after[1]) == 4  # the record peeked at is still the guest's next one
    assert int(after[2]) > 100  # the program kept counting from the value bpftool wrote
    monitor.close()


def test_bad_requests_get_errors_never_a_crash(arch: str) -> None:
    from emulator.monitor.commands import Control, human, json_request

    vm = boot(arch, append="init=/bin/t_hello")
    assert vm.run_to_end(30) == 0  # init (the last process to run) has exited
    ctl = Control(vm.machine)
    assert human(ctl, "info registers").startswith("error: pid 1 (t_hello) has exited")
    assert human(ctl, "x/4xw 0x1000 9").startswith("error: no live process with pid 9")
    assert human(ctl, "x/0xw 0x1000") == "error: count must be 1..4096\n"
    assert human(ctl, "x /0xw 0x1000") == "error: count must be 1..4096\n"  # QEMU's spacing
    assert human(ctl, "x/4q 0x1000").startswith("usage: x/N")
    assert human(ctl, 'info "unterminated').startswith("error: No closing quotation")
    replies = [
        json.loads(json_request(ctl, line))
        for line in (
            "{nope",
            "[1]",
            '{"execute": "what"}',
            '{"execute": "map-dump"}',
            '{"execute": "map-dump", "arguments": {"id": 3}}',
            '{"execute": "map-lookup", "arguments": {"id": 0, "key": "zz"}}',
        )
    ]
    assert [r["error"]["desc"] for r in replies] == [
        "bad JSON: Expecting property name enclosed in double quotes",
        'a request is {"execute": NAME, "arguments": {...}}',
        "unknown request 'what'",
        "argument 'id' must be an integer",
        "no map with id 3",
        "argument 'key' is not a hex string",
    ]


def test_bpftool_without_a_machine_is_one_line(tmp_path: Path) -> None:
    result = bpftool(tmp_path / "none.sock", "prog", "list")
    assert result.returncode == 1
    assert result.stderr.startswith(f"axiom-bpftool: error: cannot connect to monitor {tmp_path}")
    assert "Traceback" not in result.stderr
    usage = bpftool(tmp_path / "none.sock", "prog")
    assert usage.returncode == 1 and "usage: prog" in usage.stderr


def test_xlated_dump_names_maps_and_registers_use_architectural_names(arch: str) -> None:
    from emulator.monitor.commands import Control, human, json_request

    vm = boot(arch, append="/bin/bpf_loader_elf")
    vm.wait_for("Tick #1 received")
    ctl = Control(vm.machine)
    reply = json.loads(json_request(ctl, '{"execute":"prog-dump-xlated","arguments":{"id":0}}'))
    texts = [i["text"] for i in reply["return"]]
    assert "r1 = map[id:0 counter] ll" in texts and "r1 = map[id:1 events] ll" in texts
    regs = human(ctl, "info registers")
    names = re.findall(r"(\w+)=[0-9a-f]{16}", regs)
    if arch == "aarch64":
        assert names[:3] == ["X0", "X1", "X2"] and {"X16", "X17", "FP", "LR", "SP", "PC"} <= set(
            names
        )
    else:
        assert names[:3] == ["RAX", "RBX", "RCX"] and {"RIP", "RSP", "EFLAGS"} <= set(names)


def test_monitor_drives_the_rpi5_button_and_shows_the_led(tmp_path: Path) -> None:
    vm = boot("rpi5", append="/bin/gpio_demo")
    path = tmp_path / "mon.sock"
    monitor = Monitor(vm.machine, f"unix:{path}")
    vm.wait_for("Running indefinitely")
    vm.run_for(0.05)

    def press() -> dict[str, str]:
        c = Client(path)
        return {
            "before": c.cmd("info gpio"),
            "press": c.cmd("gpio 17 1"),
            "bad": c.cmd("gpio 17 2"),
            "pwm": c.cmd("info pwm"),
        }

    out = serve_while(monitor, press)
    assert "17=0 18=0" in out["before"].replace("\n", " ")
    assert out["press"] == ""
    assert out["bad"] == "error: usage: gpio PIN LEVEL (LEVEL 0 or 1)\n"
    assert out["pwm"] == "pwm0: ch1=0% ch2=0%\npwm1: ch1=0% ch2=0%\n"
    vm.run_for(0.05)  # the guest sees the edge: its GPIO program lights the LED
    assert vm.gpio_level(18) == 1
    assert vm.device_messages("gpio") == ["gpio: pin 18 -> 1"]
    after = serve_while(monitor, lambda: Client(path).cmd("info gpio"))
    assert "18=1" in after
    monitor.close()


def test_monitor_gpio_commands_need_the_rpi5(arch: str, tmp_path: Path) -> None:
    vm = boot(arch, append="init=/bin/t_hello")
    path = tmp_path / "mon.sock"
    monitor = Monitor(vm.machine, f"unix:{path}")
    out = serve_while(monitor, lambda: Client(path).cmd("gpio 17 1"))
    assert out == "error: this machine has no GPIO (only rpi5 has)\n"
    monitor.close()


def test_info_mtree_and_info_mem_show_the_board_and_the_process_mappings(arch: str) -> None:
    from emulator.monitor.commands import Control, human, json_request

    vm = boot(arch, append="/bin/bpf_loader_elf")
    vm.wait_for("Tick #1 received")
    ctl = Control(vm.machine)
    mtree = human(ctl, "info mtree").splitlines()
    if arch == "aarch64":
        assert mtree[:5] == [
            "address-space: memory",
            "  0000000008000000-0000000008000fff (i/o): gicd [gicv2-dist]",
            "  0000000008010000-0000000008011fff (i/o): gicc [gicv2-cpu]",
            "  0000000009000000-0000000009000fff (i/o): pl011 [pl011]",
            "  00000000090c0000-00000000090c00ff (i/o): iio [iio-accel]",
        ]
        assert mtree[-2:] == ["system registers", "  (sysreg) timer [arm-generic-timer] irq 30"]
    else:
        assert mtree[0] == "address-space: memory"
        assert "  00000000fee00000-00000000fee00fff (i/o): lapic [lapic]" in mtree
        assert mtree[-2:] == [
            "address-space: I/O",
            "  00000000000003f8-00000000000003ff (i/o): com1 [16550a]",
        ]
    proc = vm.machine.kernel.sched.current or vm.machine.kernel.sched.last
    mem = human(ctl, f"info mem {proc.pid}").splitlines()
    assert mem[0] == f"pid {proc.pid} (bpf_loader_elf)"
    vmas = proc.mm.vmas
    assert len(mem) == 1 + len(vmas)
    stack = next(v for v in vmas if v.kind == "stack")
    assert f"{stack.start:016x}-{stack.end:016x} 0000000000100000 rw- stack" in mem
    assert any(line.endswith(" --- guard") for line in mem)
    assert sum(line.endswith(" r-x elf") for line in mem) == 1
    reply = json.loads(json_request(ctl, '{"execute": "query-mtree"}'))["return"]
    assert [w["name"] for w in reply][:1] == [mtree[1].split(": ")[1].split(" ")[0]]
    reply = json.loads(json_request(ctl, '{"execute": "query-mem", "arguments": {"pid": 99}}'))
    assert reply["error"]["desc"] == "no live process with pid 99"
