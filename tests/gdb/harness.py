"""Drive run-virt under a real gdb-multiarch (batch mode) or a raw protocol client."""

from __future__ import annotations

import dataclasses
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from emulator.testing import boot

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SOURCES = ROOT / "userspace"
GDB = shutil.which("gdb-multiarch")
_LISTENING = re.compile(r"on (\S+):(\d+) \(target remote")


def source_line(relpath: str, marker: str) -> int:
    """Line number of the `/* gdb: <marker> */` comment in a guest source file."""
    lines = (SOURCES / relpath).read_text().splitlines()
    (number,) = [i + 1 for i, text in enumerate(lines) if f"/* gdb: {marker} */" in text]
    return number


class RunVirt:
    """run-virt in a subprocess, held by `-S`, its gdb server on a free TCP port."""

    def __init__(self, arch: str, program: str, log: Path, *extra: str) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator",
                "--arch",
                arch,
                "--append",
                f"init=/bin/{program}",
                "--serial",
                f"file:{log}",
                "--gdb",
                "tcp:127.0.0.1:0",
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        first = self.proc.stderr.readline()
        match = _LISTENING.search(first)
        if match is None:
            self.proc.kill()
            raise AssertionError(f"run-virt did not start its gdb server: {first!r}")
        self.host, self.port = match.group(1), int(match.group(2))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def wait(self, timeout: float = 60) -> tuple[int, str]:
        """Exit status and the rest of stderr."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert self.proc.stderr is not None
        return status, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=20)


@dataclasses.dataclass
class GdbSession:
    """What one batch gdb run printed, and what the machine did meanwhile."""

    output: str
    console: bytes
    status: int
    stderr: str


def run_gdb(
    arch: str,
    program: str,
    commands: list[str],
    tmp_path: Path,
    *,
    symbols: bool = True,
    setup: tuple[str, ...] = (),
) -> GdbSession:
    """Boot `program` as init under `-S`, run gdb's batch `commands`, wait for the end.

    `symbols=False` gives gdb no file: it has to learn the program from the stub."""
    assert GDB is not None
    vm = RunVirt(arch, program, tmp_path / f"{program}-{arch}.log", "-S")
    try:
        args = [GDB, "-q", "-nx", "-batch", "-ex", "set pagination off", "-ex", "set width 0"]
        for command in setup:  # before connecting
            args += ["-ex", command]
        args += ["-ex", f"target remote {vm.address}"]
        for command in commands:
            args += ["-ex", command]
        if symbols:
            args.append(str(BUILD / arch / "bin" / program))
        gdb = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
        status, stderr = vm.wait()
    finally:
        vm.kill()
    return GdbSession(gdb.stdout + gdb.stderr, vm.log.read_bytes(), status, stderr)


def reference_run(arch: str, program: str) -> tuple[bytes, int]:
    """The same boot without gdb: console bytes and exit status."""
    vm = boot(arch, append=f"init=/bin/{program}")
    status = vm.run_to_end()
    return vm.raw, status
