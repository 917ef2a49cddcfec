"""run-virt's gdb options: QEMU's spellings, combined short flags, one-line errors."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from emulator.cli import main as run_virt
from emulator.gdbstub.transport import GdbSpecError, parse_spec
from tests.gdb.harness import ROOT


def parse(*args: str) -> dict[str, object]:
    return run_virt.make_context("run-virt", list(args)).params


def test_short_flags_combine_with_the_other_options() -> None:
    params = parse("-sS", "-m", "64M", "--arch", "x86_64")
    assert params["gdb_default"] is True and params["gdb_wait"] is True
    assert params["memory"] == 64 << 20
    params = parse("-S", "--gdb", "unix:/tmp/x.sock", "-m", "32M")
    assert params["gdb"] == "unix:/tmp/x.sock" and params["gdb_default"] is False


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("tcp::1234", ("tcp", ":1234")),
        ("tcp:127.0.0.1:0", ("tcp", "127.0.0.1:0")),
        ("tcp:[::1]:5000", ("tcp", "::1:5000")),
        ("1234", ("tcp", ":1234")),
        ("unix:/tmp/gdb.sock", ("unix", "/tmp/gdb.sock")),
    ],
)
def test_gdb_specs(spec: str, parsed: tuple[str, str]) -> None:
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["tcp:host", "tcp::http", "tcp::70000", "serial", "unix:"])
def test_bad_gdb_specs_are_refused(spec: str) -> None:
    with pytest.raises(GdbSpecError, match="bad --gdb"):
        parse_spec(spec)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_minus_big_s_alone_is_a_usage_error() -> None:
    result = run_cli("-S", "--arch", "x86_64")
    assert result.returncode == 2
    assert "-S waits for gdb: give -s or --gdb too" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line_and_status_126() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run_cli("--arch", "x86_64", "--gdb", f"tcp:127.0.0.1:{port}")
    assert result.returncode == 126
    assert result.stderr == (
        f"run-virt: error: cannot listen for gdb on tcp:127.0.0.1:{port}: Address already in use\n"
    )


def test_bad_spec_is_one_line_and_status_126() -> None:
    result = run_cli("--arch", "x86_64", "--gdb", "serial")
    assert result.returncode == 126
    assert result.stderr.startswith("run-virt: error: bad --gdb 'serial'")
    assert result.stderr.count("\n") == 1


def test_without_a_client_the_gdb_server_changes_nothing(tmp_path) -> None:  # noqa: ANN001
    plain = run_cli("--arch", "aarch64", "--append", "init=/bin/t_gdb", "--serial", "stdio")
    served = run_cli(
        "--arch", "aarch64", "--append", "init=/bin/t_gdb", "--gdb", f"unix:{tmp_path}/g.sock"
    )
    assert served.returncode == plain.returncode == 0
    assert served.stdout == plain.stdout
    assert (
        served.stderr
        == f"run-virt: gdb server on {tmp_path}/g.sock (target remote {tmp_path}/g.sock)\n"
    )
    assert not (tmp_path / "g.sock").exists()  # removed at exit
