"""The conformance-suite plugin protocol: hex in, r0 as hex out, errors -> exit 1."""

import io
import subprocess
import sys
from pathlib import Path

from kernel.bpf.conformance import main
from kernel.bpf.isa.asm import assemble_bytes


def plugin(program: str, *argv: str) -> tuple[int, str]:
    hex_prog = " ".join(f"{b:02x}" for b in assemble_bytes(program))
    out = io.StringIO()
    code = main(list(argv), io.StringIO(hex_prog + "\n"), out)
    return code, out.getvalue()


def test_memory_in_r1_and_length_in_r2():
    assert plugin("ldxb r0, [r1+2]\nexit", "aabb11cc") == (0, "11\n")
    assert plugin("mov r0, r2\nexit", "aa bb 11 cc") == (0, "4\n")
    assert plugin("ldxdw r0, [r1]\nexit", "0011223344556677") == (0, "7766554433221100\n")


def test_r0_is_unsigned_lowercase_hex_without_prefix():
    assert plugin("mov r0, -1\nexit") == (0, "ffffffffffffffff\n")
    assert plugin("mov r0, 0\nexit") == (0, "0\n")
    assert plugin("mov r0, 0xAB\nexit", "--no-verify") == (0, "ab\n")


def test_memory_is_writable():
    assert plugin("stb [r1+1], 7\nldxh r0, [r1]\nexit", "0000") == (0, "700\n")


def test_errors_exit_nonzero_with_reason(capsys):
    assert plugin("ldxdw r0, [r1+8]\nexit", "00") == (1, "")
    assert "runtime error: pc 0: out-of-bounds read of 8 bytes" in capsys.readouterr().err
    assert main([], io.StringIO("b70000"), io.StringIO()) == 1
    assert "not a multiple of 8" in capsys.readouterr().err
    assert main([], io.StringIO("zz"), io.StringIO()) == 1
    assert "program is not valid hex" in capsys.readouterr().err
    assert main([], io.StringIO(""), io.StringIO()) == 1
    assert "empty program" in capsys.readouterr().err
    assert plugin("ja -1", "--budget=50") == (1, "")
    assert "budget of 50 exhausted" in capsys.readouterr().err


def test_verify_flag_runs_the_verifier(capsys):
    # Reading an uninitialised register is rejected by any verifier.
    code, _ = plugin("mov r0, r3\nexit", "--verify")
    assert code == 1
    assert "verifier rejected the program" in capsys.readouterr().err


def test_console_entry_point_as_module():
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "kernel.bpf.conformance", "0102"],
        input="b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n",
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "2a\n", "")
