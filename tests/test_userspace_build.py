"""userspace.build: static ELFs at the link base, stamps, rebuilds, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from kernel import abi
from userspace import build

MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Both arches built once into a private build dir."""
    build_dir = tmp_path_factory.mktemp("build")
    return {arch: build.build_programs(arch, build_dir=build_dir) for arch in build.ARCHES}


@pytest.mark.parametrize("arch", build.ARCHES)
def test_every_program_is_a_static_elf_at_the_link_base(
    built: dict[str, dict[str, Path]], arch: str
) -> None:
    outputs = built[arch]
    assert {p.name for p in build.find_programs()} == set(outputs)
    assert {"init", "syscall_demo", "file_io_demo", "fork_test", "t_hello"} <= set(outputs)
    base = abi.USER_LINK_BASE[abi.Arch(arch)]
    for name, path in outputs.items():
        assert path.name == name and path.parent.name == "bin"
        with path.open("rb") as f:
            elf = ELFFile(f)
            assert elf.header.e_type == "ET_EXEC", name
            assert elf.header.e_machine == MACHINES[arch], name
            segs = list(elf.iter_segments())
            assert not [s for s in segs if s["p_type"] in ("PT_INTERP", "PT_DYNAMIC")], name
            loads = [s for s in segs if s["p_type"] == "PT_LOAD"]
            assert min(s["p_vaddr"] for s in loads) == base, name
            entry = elf.header.e_entry
            assert any(
                s["p_vaddr"] <= entry < s["p_vaddr"] + s["p_memsz"] and s["p_flags"] & 1
                for s in loads
            ), name


def test_header_is_generated_into_the_build_dir(built: dict[str, dict[str, Path]]) -> None:
    include = next(iter(built["x86_64"].values())).parents[2] / "include"
    assert "#define SYS_WRITE 37" in (include / "axiom_abi.h").read_text()


@pytest.fixture
def one_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private program directory holding a copy of t_hello.c."""
    progs = tmp_path / "progs"
    progs.mkdir()
    shutil.copy(build.USERSPACE / "testprogs" / "t_hello.c", progs / "t_hello.c")
    monkeypatch.setattr(build, "PROGRAM_DIRS", (progs,))
    return progs


def test_unchanged_inputs_skip_the_rebuild_and_changes_trigger_it(
    one_program: Path, tmp_path: Path
) -> None:
    build_dir = tmp_path / "build"
    out = build.build_programs("x86_64", build_dir=build_dir)["t_hello"]
    first = out.stat().st_mtime_ns
    assert (
        build.build_programs("x86_64", build_dir=build_dir)["t_hello"].stat().st_mtime_ns == first
    )

    src = one_program / "t_hello.c"
    src.write_text(src.read_text().replace("hello from a user program", "changed text"))
    out = build.build_programs("x86_64", build_dir=build_dir)["t_hello"]
    assert out.stat().st_mtime_ns != first
    assert b"changed text" in out.read_bytes()


def test_a_compile_error_is_reported_with_the_compiler_output(
    one_program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (one_program / "broken.c").write_text("int main(void) { return undefined_name; }\n")
    with pytest.raises(build.BuildError, match="compiling broken for aarch64 failed"):
        build.build_programs("aarch64", build_dir=tmp_path / "build")
    assert build.main(["--arch", "aarch64", "--build-dir", str(tmp_path / "build")]) == 1
    assert "undefined_name" in capsys.readouterr().err


def test_a_program_may_be_a_directory(one_program: Path, tmp_path: Path) -> None:
    multi = one_program / "multi"
    multi.mkdir()
    (multi / "main.c").write_text(
        '#include "minilib.h"\nint helper(void);\nint main(void) { return helper(); }\n'
    )
    (multi / "helper.c").write_text("int helper(void) { return 5; }\n")
    outputs = build.build_programs("aarch64", build_dir=tmp_path / "build")
    assert set(outputs) == {"t_hello", "multi"}


def test_outputs_of_removed_programs_are_deleted(one_program: Path, tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    (one_program / "t_other.c").write_text("int main(void) { return 0; }\n")
    assert set(build.build_programs("x86_64", build_dir=build_dir)) == {"t_hello", "t_other"}
    (one_program / "t_other.c").unlink()
    build.build_programs("x86_64", build_dir=build_dir)
    assert sorted(p.name for p in (build_dir / "x86_64" / "bin").iterdir()) == ["t_hello"]
