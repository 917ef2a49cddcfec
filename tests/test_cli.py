"""run-virt and axiom-log as a user meets them: exit statuses, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulator.cli import main as run_virt
from emulator.logview import main as axiom_log
from emulator.logview import parse_log, select

ROOT = Path(__file__).resolve().parents[1]
IMAGE = {arch: ROOT / "build" / arch / "disk.img" for arch in ("x86_64", "aarch64")}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess: proves there is no traceback on stderr."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--image", "/nonexistent/disk.img"], "disk image not found: /nonexistent/disk.img"),
        (
            ["--arch", "aarch64", "--image", str(IMAGE["x86_64"])],
            "cannot start init /bin/init: ENOEXEC (init: ELF is for EM_X86_64, this machine is "
            "aarch64)",
        ),
        (
            ["--arch", "x86_64", "--image", str(IMAGE["aarch64"])],
            "cannot start init /bin/init: ENOEXEC (init: ELF is for EM_AARCH64, this machine is "
            "x86_64)",
        ),
        (
            ["--arch", "x86_64", "--append", "init=/bin/missing"],
            "cannot start init /bin/missing: ENOENT (missing)",
        ),
        (
            ["--arch", "x86_64", "--append", "init=/var/hello.txt"],
            "cannot start init /var/hello.txt: ENOEXEC",
        ),
        (["--serial", "tcp:1234"], "bad --serial 'tcp:1234': use stdio, none or file:PATH"),
    ],
)
def test_bad_input_is_one_line_and_status_126(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 126
    assert result.stderr.startswith(f"run-virt: error: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.img"
    junk.write_bytes(bytes(range(256)) * 4096)
    result = run_cli("--arch", "x86_64", "--image", str(junk))
    assert result.returncode == 126
    assert result.stderr == (
        "run-virt: error: cannot mount root file system: not an ext2 file system: "
        "bad magic 0x3938 (expected 0xef53)\n"
    )
    odd = tmp_path / "odd.img"
    odd.write_bytes(b"x" * 1000)
    result = run_cli("--image", str(odd))
    assert result.returncode == 126 and "not a whole number of sectors" in result.stderr


def test_init_exit_status_becomes_run_virt_status() -> None:
    result = run_cli("--arch", "x86_64", "--append", "init=/bin/t_exec", "--serial", "none")
    assert result.returncode == 3
    assert result.stdout == "" and result.stderr == "run-virt: init exited with status 3\n"


def test_timeout_status_124_and_message() -> None:
    result = CliRunner().invoke(
        run_virt,
        ["--arch", "aarch64", "--append", "/bin/t_idle", "--timeout", "0.25", "--serial", "none"],
    )
    assert result.exit_code == 124
    assert result.output == "run-virt: guest time limit of 0.25 s reached\n"


def test_serial_to_file_and_stdio_together(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "--arch",
            "aarch64",
            "--append",
            "init=/bin/t_hello",
            "--serial",
            f"file:{log}",
            "--serial",
            "stdio",
            "--color",
            "always",  # stdout is a pipe: auto would strip the colours there
        ],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert log.read_bytes() == result.stdout
    assert b"hello from a user program\r\n" in result.stdout


def _rodata_address(elf_path: Path, text: bytes) -> int:
    """Link address of `text` inside a loaded segment of a guest executable."""
    from elftools.elf.elffile import ELFFile

    with elf_path.open("rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and text in seg.data():
                return seg["p_vaddr"] + seg.data().index(text)
    raise AssertionError(f"{text!r} not in {elf_path}")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_trace_syscalls_and_log_inspection(tmp_path: Path, arch: str) -> None:
    log = tmp_path / "serial.log"
    result = run_cli(
        "--arch",
        arch,
        "--append",
        "init=/bin/t_hello",
        "--trace-syscalls",
        "--serial",
        f"file:{log}",
    )
    assert result.returncode == 0
    runner = CliRunner()
    out = runner.invoke(axiom_log, [str(log), "--module", "kernel::syscall"])
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert len(lines) == 2
    # the original's format: every argument in decimal (deviation 10)
    text = b"hello from a user program\n"
    buf = _rodata_address(ROOT / "build" / arch / "bin" / "t_hello", text)
    where = "cpu0 pid 1" if arch == "x86_64" else "boot"
    assert lines[0].endswith(
        f"INFO  {where} [kernel::syscall] syscall: SYS_WRITE (37) 1 {buf} {len(text)} 0 0 0"
    ), lines[0]
    assert lines[1].endswith("syscall: SYS_EXIT (1) 0 0 0 0 0 0"), lines[1]
    untraced = run_cli("--arch", arch, "--append", "init=/bin/t_hello")
    assert "syscall: SYS_" not in untraced.stdout  # off by default


def test_log_inspection_filters(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    result = run_cli("--arch", "aarch64", "--append", "/bin/t_errors", "--serial", f"file:{log}")
    assert result.returncode == 0
    runner = CliRunner()
    warn = runner.invoke(axiom_log, [str(log), "--level", "WARN"])
    assert warn.exit_code == 0
    assert warn.output.splitlines()[0].split(": ", 1)[1] == (
        "WARN  boot [kernel::syscall] unknown syscall 99 from pid 2 (t_errors): returning -ENOSYS"
    )
    assert len(warn.output.splitlines()) == 1
    count = runner.invoke(axiom_log, [str(log), "--only", "INFO", "--count"])
    assert int(count.output) >= 20
    none = runner.invoke(axiom_log, [str(log), "--level", "ERROR"])
    assert none.exit_code == 1 and none.output == ""
    grep = runner.invoke(axiom_log, [str(log), "--console", "--grep", "^efault"])
    assert [line.split(": ", 1)[1] for line in grep.output.splitlines()] == [
        "efault write: -20",
        "efault open: -20",
        "efault read: -20",
        "efault clock_gettime: -20",
    ]
    missing = runner.invoke(axiom_log, [str(tmp_path / "nope.log")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_a_record_in_the_middle_of_a_program_line_is_still_a_record() -> None:
    text = (
        "[1/5] Creating array map (counter)... \x1b[1;94mINFO \x1b[0m cpu0 pid  2 "
        "[kernel::syscall::bpf] sys_bpf: MAP_CREATE\r\nOK (id=0)\r\n"
    )
    lines = parse_log(text)
    assert [(entry.number, entry.level, entry.text) for entry in lines] == [
        (1, None, "[1/5] Creating array map (counter)... "),
        (1, "INFO", "INFO  cpu0 pid  2 [kernel::syscall::bpf] sys_bpf: MAP_CREATE"),
        (2, None, "OK (id=0)"),
    ]
    assert lines[1].message == "sys_bpf: MAP_CREATE" and lines[1].pid == 2


def test_parse_log_fields() -> None:
    text = (
        "\x1b[1;31mERROR\x1b[0m cpu0 pid  7 [kernel::trap] process 7 (x) killed\r\n"
        "plain output\r\n"
        "\x1b[1;94mINFO \x1b[0m boot [kernel::bpf::helpers] [BPF] hi\n"
    )
    lines = parse_log(text)
    assert [(entry.level, entry.cpu, entry.pid, entry.module) for entry in lines] == [
        ("ERROR", 0, 7, "kernel::trap"),
        (None, None, None, None),
        ("INFO", None, None, "kernel::bpf::helpers"),
    ]
    assert lines[2].message == "[BPF] hi"
    assert [entry.number for entry in select(lines, module="kernel::bpf")] == [3]
    assert [entry.number for entry in select(lines, module="kernel")] == [1, 3]
    assert [entry.number for entry in select(lines, pid=7)] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--machine", "rpi5", "--arch", "x86_64"], "machine rpi5 is aarch64, not x86_64"),
        (["--gpio", "22=1@1s"], "board virt has no GPIO pins (use --machine rpi5)"),
        (["-M", "rpi5", "--gpio", "22=high"], "bad GPIO event '22=high': use PIN=LEVEL@TIME"),
        (["-M", "rpi5", "--gpio-script", "/nonexistent.gpio"], "cannot read GPIO script"),
        (["-M", "rpi5", "--append", "loglevel=loud"], "bad kernel command line: loglevel=loud"),
        (
            ["-M", "rpi5", "--device-log", "/nonexistent/dir/dev.log"],
            "cannot open device log /nonexistent/dir/dev.log",
        ),
    ],
)
def test_rpi5_bad_input(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 126
    assert result.stderr.startswith(f"run-virt: error: {message}")
    assert result.stderr.count("\n") == 1


def test_rpi5_safety_demo_from_the_command_line(tmp_path: Path) -> None:
    result = run_cli(
        "--machine", "rpi5", "--append", "/bin/safety_demo loglevel=info", "--gpio", "22=1@2s"
    )
    assert result.returncode == 0
    assert "  Exiting userspace. BPF persists.\n" in result.stdout
    assert "EMERGENCY STOP TRIGGERED! Reason: 1\n" in result.stdout
    assert result.stderr == (
        "[    0.010001000] pwm0.1: duty 50%\n[    2.000026000] pwm0.1: duty 0%\n"
        "[    2.000598000] pwm0.1: duty 50%\n"  # the motor program's next tick
    )
    script = tmp_path / "switch.gpio"
    script.write_text("# limit switch closes at 1.5 s\n22=1@1.5s\n")
    log = tmp_path / "dev.log"
    result = run_cli(
        "-M", "rpi5", "--append", "/bin/safety_demo", "--gpio-script", str(script),
        "--device-log", str(log),
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == ""
    assert "EMERGENCY" not in result.stdout  # the kernel log is off on the Pi 5
    assert log.read_text() == (
        "[    0.010001000] pwm0.1: duty 50%\n[    1.500026000] pwm0.1: duty 0%\n"
        "[    1.500448000] pwm0.1: duty 50%\n"
    )
