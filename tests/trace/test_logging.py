"""-d/-D text logging, --stats, --color and the QEMU single-dash spellings, as a
user meets them (the real command in a subprocess), both architectures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.chardev import SgrStripper, StdioBackend, color_enabled
from emulator.testing import boot
from emulator.trace.items import LOG_ITEMS, register

LINE = re.compile(r"^\[ {0,3}\d+\.\d{9}\] (?P<item>\w+): (?P<text>.*)$")


def run_virt(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, timeout=120, env=env
    )


def test_d_help_lists_every_registered_item() -> None:
    result = run_virt("-d", "help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for name in LOG_ITEMS:
        assert re.search(rf"^{name}\s+\S", out, re.M), name


def test_unknown_d_item_is_one_clear_error() -> None:
    result = run_virt("-d", "syscall,bogus")
    assert result.returncode == 2
    assert b"unknown log item bogus" in result.stderr and b"Traceback" not in result.stderr


def test_items_are_a_registry() -> None:
    item = register("test_item", "a test-only item")
    try:
        assert LOG_ITEMS["test_item"] is item
    finally:
        del LOG_ITEMS["test_item"]


def test_syscall_log_lines_have_results(arch: str, tmp_path: Path) -> None:
    log = tmp_path / "d.log"
    vm = boot(arch, append="/bin/t_errors", log_items=("syscall", "guest_errors"), log_file=log)
    assert vm.run_to_end(30) == 0
    lines = log.read_text().splitlines()
    assert all(LINE.match(line) for line in lines), lines[:5]
    texts = [LINE.match(line)["text"] for line in lines]
    assert "pid 2 (t_errors) write(fd=1, buf=16, count=5) = -1 EFAULT (-20)" in texts
    assert (
        "pid 2 (t_errors) syscall_99(a1=0, a2=0, a3=0, a4=0, a5=0, a6=0) = -1 ENOSYS (-51)" in texts
    )
    guest = [LINE.match(x)["text"] for x in lines if LINE.match(x)["item"] == "guest_errors"]
    assert guest == [
        "pid 2 (t_errors) syscall_99(a1=0, a2=0, a3=0, a4=0, a5=0, a6=0) -> ENOSYS",
        "pid 2 (t_errors) write(fd=1, buf=16, count=5) -> EFAULT",
        "pid 2 (t_errors) open(path_ptr=16, path_len=5, flags=0x10000, mode=0) -> EFAULT",
        "pid 2 (t_errors) read(fd=3, buf=16, count=5) -> EFAULT",
        "pid 2 (t_errors) clock_gettime(clock_id=0, ts_ptr=16) -> EFAULT",
    ]
    syscall_lines = [x for x in lines if "] syscall: " in x]
    resumed = [x for x in syscall_lines if ") resumed " in x]
    blocked = [x for x in syscall_lines if x.endswith("= ? (blocked)")]
    assert len(resumed) == len(blocked)  # a call that blocked: one line when it blocks,
    # one when it resumes; the restart is not a new syscall
    assert len(syscall_lines) - len(resumed) == vm.machine.kernel.syscall_count


def test_guest_errors_logs_cpu_faults(arch: str, tmp_path: Path) -> None:
    log = tmp_path / "d.log"
    vm = boot(arch, append="/bin/t_segv", log_items=("guest_errors",), log_file=log)
    vm.run_to_end(30)
    (line,) = log.read_text().splitlines()
    assert re.match(
        r"^\[ {3}0\.\d{9}\] guest_errors: process 2 \(t_segv\) killed: page fault reading "
        r"unmapped address 0x8 at pc 0x[0-9a-f]+ \(.+\)$",
        line,
    ), line


def test_in_asm_prints_each_new_block_once(arch: str, tmp_path: Path) -> None:
    log = tmp_path / "d.log"
    vm = boot(arch, append="init=/bin/t_hello", log_items=("in_asm",), log_file=log)
    assert vm.machine.board.context_observers  # future contexts get the hook too
    assert vm.run_to_end(30) == 0
    blocks = log.read_text().split("----------------\n")[1:]
    assert blocks
    starts = []
    for block in blocks:
        head, *insns = block.strip().splitlines()
        assert head == "IN: pid 1 (t_hello)"
        assert insns and all(re.match(r"^0x[0-9a-f]{16}:  [0-9a-f]+ +\S", i) for i in insns)
        starts.append(insns[0].split(":")[0])
    assert len(starts) == len(set(starts))  # a block is printed when first translated only


def test_in_asm_off_installs_no_block_hook(arch: str) -> None:
    vm = boot(arch, append="init=/bin/t_hello", log_items=("syscall",))
    assert vm.machine.obs.in_asm is None and not vm.machine.board.context_observers
    vm.machine.obs.set_log_items(["in_asm"])  # the monitor's `log in_asm`
    assert vm.machine.obs.in_asm is not None and vm.machine.board.context_observers
    vm.machine.obs.set_log_items([])
    assert vm.machine.obs.in_asm is None and not vm.machine.board.context_observers
    assert type(vm.machine.kernel.tracer).__name__ == "KernelTracer"  # back to the null tracer


def test_no_options_keep_the_null_tracer(arch: str) -> None:
    vm = boot(arch, append="init=/bin/t_hello")
    assert type(vm.machine.kernel.tracer).__name__ == "KernelTracer"
    assert vm.machine.cpu_tracer is None and vm.machine.between_slices is None


# ------------------------------------------------------------------ CLI end to end


def test_cli_trace_stats_and_qemu_spellings(tmp_path: Path) -> None:
    trace, serial = tmp_path / "t.json", tmp_path / "serial.log"
    result = run_virt(
        "--arch", "x86_64", "-append", "/bin/bpf_loader", "-serial", f"file:{serial}",
        "--trace", str(trace), "--stats",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(trace.read_text())
    assert doc["otherData"]["arch"] == "x86_64"
    err = result.stderr.decode()
    assert re.search(r"^\s+2 bpf_loader\s+exited\s+0\s+\d+\s+\d+$", err, re.M), err
    final = int(re.search(rb"Final map counter: (\d+)", serial.read_bytes())[1])
    assert re.search(rf"^\s+0 timer_counter\s+timer\s+-\s+{final} ", err, re.M), err


def test_single_dash_monitor_is_recognised(tmp_path: Path) -> None:
    sock = tmp_path / "m.sock"
    result = run_virt("--append", "init=/bin/t_hello", "-monitor", f"unix:{sock}", "--serial",
                      "none")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not sock.exists()  # removed at exit
    bad = run_virt("-monitor", "bogus")
    assert bad.returncode == 126
    assert bad.stderr.decode().strip() == (
        "run-virt: error: bad --monitor 'bogus': use stdio, unix:PATH or tcp:HOST:PORT"
    )


# ------------------------------------------------------------------ colour


@pytest.mark.parametrize(
    ("mode", "tty", "env", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_color_modes(mode: str, tty: bool, env: dict, expected: bool) -> None:
    class Stream:
        def isatty(self) -> bool:
            return tty

    assert color_enabled(mode, Stream(), env) is expected


def test_stripper_handles_split_sequences_and_keeps_other_escapes() -> None:
    data = b"\x1b[1;94mINFO \x1b[0m boot [kernel] x\x1b[2Jy\x1b(B\n"
    for cut in range(len(data) + 1):
        s = SgrStripper()
        assert s.feed(data[:cut]) + s.feed(data[cut:]) == b"INFO  boot [kernel] x\x1b[2Jy\x1b(B\n"


def test_no_color_strips_the_terminal_but_not_the_serial_file(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    env = {**os.environ, "NO_COLOR": "1"}
    args = ("--arch", "aarch64", "--append", "init=/bin/t_hello", "--serial", f"file:{log}",
            "--serial", "stdio")  # fmt: skip
    result = run_virt(*args, env=env)
    assert result.returncode == 0
    assert b"\x1b[" not in result.stdout
    assert b"\x1b[1;94mINFO \x1b[0m" in log.read_bytes()
    assert result.stdout == SgrStripper().feed(log.read_bytes())
    forced = run_virt(*args, "--color", "always", env=env)
    assert forced.stdout == log.read_bytes()


def test_stdio_backend_strips_only_when_told() -> None:
    import io

    raw = io.BytesIO()
    StdioBackend(raw, color=False).write(b"\x1b[1;31mERROR\x1b[0m x")
    assert raw.getvalue() == b"ERROR x"


def test_wait_for_matches_text_without_colour_codes(arch: str) -> None:
    vm = boot(arch, append="init=/bin/t_hello")
    match = vm.wait_for(re.compile(r"^INFO  \S.* \[kernel\] kernel initialized$", re.M))
    assert "\x1b" not in match.group(0)


def test_a_device_item_is_one_register_call(tmp_path: Path) -> None:
    """How a board adds `-d gpio`: register the item, emit through board.events."""
    register("test_gpio", "GPIO output changes (test)")
    try:
        log = tmp_path / "d.log"
        vm = boot("aarch64", append="init=/bin/t_hello", log_items=("test_gpio",), log_file=log)
        events = vm.machine.board.events
        assert events.wants("test_gpio") and not events.wants("syscall")
        now = vm.machine.clock.now_ns()  # the boot's guest time (under a second)
        events.emit("test_gpio", "pin 17 -> 1")
        events.emit("syscall", "not logged")
        vm.machine.close()
        assert log.read_text() == f"[   0.{now:09d}] test_gpio: pin 17 -> 1\n"
    finally:
        del LOG_ITEMS["test_gpio"]
