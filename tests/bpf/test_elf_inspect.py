"""``bpf-inspect``: report layout, disassembly, verifier verdicts and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel.bpf.elf.inspect import main
from tests.bpf.c_elf import compile_object, compile_x86


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / f"{name}.o"
    path.write_bytes(data)
    return str(path)


def test_lists_maps_programs_disasm_and_verdicts(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "maps_all", compile_object("maps_all"))
    assert main([path]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"{path}: object 'maps_all', 1 program, 4 maps"
    assert lines[1:9] == [
        "",
        "Maps:",
        "  ID  NAME    TYPE        KEY  VALUE  MAX_ENTRIES",
        "   0  counts  hash          4      8           16",
        "   1  slots   array         4      8            4",
        "   2  events  ringbuf       0      0         4096",
        "   3  series  timeseries    8      8            8",
        "",
    ]
    assert "  NAME     SECTION  ATTACH  INSNS" in lines
    assert "  use_all  timer    TIMER      56" in lines
    assert "Program use_all (section timer, attach TIMER, 56 insns)" in lines
    assert "  6: r1 = map[0] ll" in lines  # disassembly with the listed map ids
    assert any(line.startswith("Verifier: accepted (") for line in lines)
    assert lines[-1] == "1 of 1 programs verified"
    assert "  | processed" not in out  # the log only with --verbose


def test_no_disasm_and_verbose(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "calls", compile_object("calls"))
    assert main([path, "--no-disasm", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "r0 = " not in out and "call " not in out
    assert "  | processed " in out
    assert "  (none)" in out  # no maps
    assert "  calls_once   timer/other  TIMER       6" in out


def test_rejected_program_exits_1_with_log(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "rejected", compile_object("rejected"))
    assert main([path, "--no-disasm"]) == 1
    out = capsys.readouterr().out
    assert (
        "Verifier: REJECTED at insn 7 (rejected.c:12): R0 invalid mem access 'map_value_or_null'"
        in out
    )
    assert "  | ; return (int)*v; @ rejected.c:12\n  | 7: (79) r0 = *(u64 *)(r0 +0)\n" in out
    assert "  | 7: R0 invalid mem access 'map_value_or_null'" in out
    assert out.splitlines()[-1] == "1 of 2 programs verified"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("text", b"hello", "EINVAL: not an ELF object"),
        ("x86", None, "EINVAL: ELF machine is EM_X86_64, expected EM_BPF"),
        ("bad_section", None, "EINVAL: section 'kprobe/do_sys_open' contains code"),
        ("big_geometry", None, "EINVAL: map 'odd_ring': ringbuf map: size 1000"),
    ],
)
def test_invalid_objects_exit_2_with_one_line(
    tmp_path: Path, capsys, name: str, data: bytes | None, message: str
) -> None:
    if data is None:
        data = compile_x86(name) if name == "x86" else compile_object(name)
    path = _write(tmp_path, name, data)
    assert main([path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"bpf-inspect: {path}: {message}")


def test_missing_file_exits_2(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "nope.o")]) == 2
    assert (
        capsys.readouterr().err
        == f"bpf-inspect: {tmp_path / 'nope.o'}: No such file or directory\n"
    )


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, "junk", b"\x7fELF" + bytes(10))
    result = subprocess.run(
        [sys.executable, "-m", "kernel.bpf.elf.inspect", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"bpf-inspect: {path}: EINVAL: not an ELF object\n"
    assert "Traceback" not in result.stderr


def test_disassembly_interleaves_source_lines(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "rejected", compile_object("rejected"))
    main([path])
    out = capsys.readouterr().out
    listing = out[out.index("Program no_null_check") :].splitlines()[1:5]
    assert listing == [
        '  ; SEC("timer") int no_null_check(struct bpf_context *ctx) @ rejected.c:8',
        "  0: w1 = 0",
        "  ; __u32 key = 0; @ rejected.c:10",
        "  1: *(u32 *)(r10 -4) = r1",
    ]
    plain = _write(tmp_path, "plain", compile_object("rejected", btf=False))
    main([plain])
    assert "  ; " not in capsys.readouterr().out
