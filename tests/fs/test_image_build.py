"""images.build: manifest -> disk image, --add, rebuild stamps and CLI errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from images import build as build_mod
from images.build import DEFAULT_MANIFEST, BuildError, build_image, main
from images.contents import ContentsError, parse_add
from images.manifest import DirSpec, FileSpec, ManifestError, ProgramRule, load_manifest
from kernel.fs import ext2_format as fmt
from kernel.fs.blockdev import BytesDevice
from kernel.fs.ext2 import Ext2Volume, NotFound

from .e2fs_tools import debugfs_cat, e2fsck_clean


@pytest.fixture
def programs(tmp_path: Path) -> dict[str, Path]:
    """Stand-ins for build/<arch>/bin/*: the image builder only copies bytes."""
    bin_dir = tmp_path / "fakebuild" / "bin"
    bin_dir.mkdir(parents=True)
    progs = {}
    for name in ("init", "bpf_loader", "syscall_demo"):
        path = bin_dir / name
        path.write_bytes(b"\x7fELF" + name.encode() * 500)
        progs[name] = path
    return progs


def _build(tmp_path: Path, programs: dict[str, Path], **kw: Any) -> tuple[Path, list[str]]:
    lines: list[str] = []
    out = tmp_path / "out" / "disk.img"
    build_image("x86_64", out, programs=programs, report=lines.append, **kw)
    return out, lines


def _volume(path: Path) -> Ext2Volume:
    return Ext2Volume(BytesDevice(path.read_bytes()))


def test_manifest_declares_the_spec_tree() -> None:
    m = load_manifest(DEFAULT_MANIFEST, "x86_64")
    assert m.dirs == tuple(DirSpec(p) for p in ("/bin", "/dev/fd", "/var", "/var/tmp"))
    assert m.files == (FileSpec("/var/hello.txt", b"Hello, axiom-ebpf!\n", 0o644),)
    assert m.programs == (
        ProgramRule("bin/*", "/bin/", 0o755),
        ProgramRule("bpf/*.o", "/lib/bpf/", 0o644, optional=True),
    )
    assert m.image.min_size_mib == 10 and m.image.reserved_percent == 5


def test_image_has_the_exact_manifest_content(tmp_path: Path, programs: dict[str, Path]) -> None:
    out, lines = _build(tmp_path, programs)
    assert lines == [f"built {out} (10 MiB, 4 files)"]
    assert out.stat().st_size == 10 * 1024 * 1024
    vol = _volume(out)
    assert vol.read_all(vol.lookup("/var/hello.txt")) == b"Hello, axiom-ebpf!\n"
    assert vol.listdir(vol.lookup("/dev/fd")) == []
    assert vol.listdir(vol.lookup("/var/tmp")) == []
    assert [n for n, _, _ in vol.listdir(vol.root_ino)] == ["bin", "dev", "lost+found", "var"]
    assert [n for n, _, _ in vol.listdir(vol.lookup("/bin"))] == sorted(programs)
    for name, path in programs.items():
        ino = vol.lookup(f"/bin/{name}")
        assert vol.read_all(ino) == path.read_bytes()
        assert vol.inode(ino).mode == fmt.S_IFREG | 0o755
    assert vol.label == "axiom-root"
    e2fsck_clean(out)
    assert debugfs_cat(out, "/var/hello.txt") == b"Hello, axiom-ebpf!\n"


def test_build_is_deterministic(tmp_path: Path, programs: dict[str, Path]) -> None:
    a = build_image("x86_64", tmp_path / "a.img", programs=programs, report=None)
    b = build_image("aarch64", tmp_path / "b.img", programs=programs, report=None)
    assert a.read_bytes() == b.read_bytes()


def test_rebuild_only_when_inputs_change(tmp_path: Path, programs: dict[str, Path]) -> None:
    out, _ = _build(tmp_path, programs)
    first = out.stat().st_mtime_ns
    _, lines = _build(tmp_path, programs)
    assert lines == [f"{out} is up to date"] and out.stat().st_mtime_ns == first
    programs["init"].write_bytes(b"\x7fELF changed")
    _, lines = _build(tmp_path, programs)
    assert lines[0].startswith("built")
    extra = tmp_path / "extra.txt"
    extra.write_text("x")
    _, lines = _build(tmp_path, programs, add=[(extra, "/extra.txt")])
    assert lines[0].startswith("built")
    out.write_bytes(b"clobbered")  # a damaged output is rebuilt too
    _, lines = _build(tmp_path, programs, add=[(extra, "/extra.txt")])
    assert lines[0].startswith("built") and out.stat().st_size == 10 * 1024 * 1024


def test_add_file_keeps_exec_mode(tmp_path: Path, programs: dict[str, Path]) -> None:
    tool = tmp_path / "mytool"
    tool.write_bytes(b"\x7fELF tool")
    tool.chmod(0o700)
    note = tmp_path / "note.txt"
    note.write_text("note\n")
    note.chmod(0o600)
    out, _ = _build(tmp_path, programs, add=[(tool, "/bin/"), (note, "/etc/motd")])
    vol = _volume(out)
    assert vol.inode(vol.lookup("/bin/mytool")).mode == fmt.S_IFREG | 0o755
    assert vol.read_all(vol.lookup("/bin/mytool")) == b"\x7fELF tool"
    assert vol.inode(vol.lookup("/etc/motd")).mode == fmt.S_IFREG | 0o644
    e2fsck_clean(out)


def test_add_directory_recursively(tmp_path: Path, programs: dict[str, Path]) -> None:
    src = tmp_path / "tree"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "sub" / "deeper" / "leaf").write_bytes(b"leaf")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    os.symlink("sub/deeper/leaf", src / "shortcut")
    out, _ = _build(tmp_path, programs, add=[(src, "/opt/tree")])
    vol = _volume(out)
    assert sorted(n for n, _, _ in vol.listdir(vol.lookup("/opt/tree"))) == [
        "run.sh",
        "shortcut",
        "sub",
        "top.txt",
    ]
    assert vol.read_all(vol.lookup("/opt/tree/sub/deeper/leaf")) == b"leaf"
    assert vol.inode(vol.lookup("/opt/tree/run.sh")).mode == fmt.S_IFREG | 0o755
    assert vol.readlink(vol.lookup("/opt/tree/shortcut")) == "sub/deeper/leaf"
    e2fsck_clean(out)


def test_add_replaces_a_manifest_file(tmp_path: Path, programs: dict[str, Path]) -> None:
    mine = tmp_path / "init"
    mine.write_bytes(b"my own init")
    out, _ = _build(tmp_path, programs, add=[(mine, "/bin/init")])
    vol = _volume(out)
    assert vol.read_all(vol.lookup("/bin/init")) == b"my own init"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nocolon", "bad --add 'nocolon': expected HOST:GUEST"),
        (":/bin/x", "expected HOST:GUEST"),
        ("file:", "expected HOST:GUEST"),
    ],
)
def test_parse_add_syntax(spec: str, message: str) -> None:
    with pytest.raises(ContentsError, match=message):
        parse_add(spec)


def test_parse_add_splits_at_last_colon() -> None:
    assert parse_add("a:b/c:/bin/x") == (Path("a:b/c"), "/bin/x")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli_args(tmp_path: Path, programs: dict[str, Path]) -> list[str]:
    bin_dir = next(iter(programs.values())).parent
    out = tmp_path / "cli.img"
    return ["--arch", "x86_64", "--out", str(out), "--programs-dir", str(bin_dir)]


def test_cli_builds_then_is_up_to_date(
    capsys: pytest.CaptureFixture[str], cli_args: list[str], tmp_path: Path
) -> None:
    host = tmp_path / "hello"
    host.write_text("hi")
    code, out, err = _cli(capsys, *cli_args, "--add", f"{host}:/var/tmp/hello")
    assert (code, err) == (0, "") and out.startswith("built ") and out.count("\n") == 1
    code, out, _ = _cli(capsys, *cli_args, "--add", f"{host}:/var/tmp/hello")
    assert code == 0 and out.endswith("is up to date\n")
    vol = _volume(tmp_path / "cli.img")
    assert vol.read_all(vol.lookup("/var/tmp/hello")) == b"hi"


@pytest.mark.parametrize(
    ("add", "message"),
    [
        ("{tmp}/missing:/bin/x", "host path {tmp}/missing does not exist"),
        ("no-colon-here", "expected HOST:GUEST"),
        ("{tmp}/present:bin/x", "guest path 'bin/x' must be absolute"),
    ],
)
def test_cli_add_errors(
    capsys: pytest.CaptureFixture[str], cli_args: list[str], tmp_path: Path, add: str, message: str
) -> None:
    (tmp_path / "present").write_text("x")
    code, out, err = _cli(capsys, *cli_args, "--add", add.format(tmp=tmp_path))
    assert code == 1 and out == ""
    assert err.startswith("images.build: error: ") and err.count("\n") == 1
    assert message.format(tmp=tmp_path) in err


def test_cli_out_with_all_arches_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _cli(capsys, "--arch", "all", "--out", str(tmp_path / "x.img"))
    assert code == 1 and "--out names one image" in err


def test_missing_userspace_build_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "userspace.build", None)  # makes the import fail
    with pytest.raises(BuildError, match="userspace.build is not available"):
        build_image("x86_64", tmp_path / "d.img", report=None)


def test_failing_userspace_build_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import types

    def broken(arch: str, *, build_dir: Path) -> dict[str, Path]:
        raise RuntimeError("zig cc: error: prog.c:3: expected ';'\nmore detail")

    monkeypatch.setitem(
        sys.modules, "userspace.build", types.SimpleNamespace(build_programs=broken)
    )
    with pytest.raises(BuildError, match="x86_64 guest programs failed: zig cc: error") as exc:
        build_image("x86_64", tmp_path / "d.img", report=None)
    assert "\n" not in str(exc.value)


def test_unknown_arch(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="unknown arch 'riscv'"):
        build_image("riscv", tmp_path / "x.img", programs={}, report=None)


def test_program_rule_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="from='bin/\\*' matched no built programs"):
        build_image("x86_64", tmp_path / "x.img", programs={}, report=None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[dirs]]\npath = "bin"\n', "'path' must be an absolute guest path"),
        ('[[files]]\npath = "/x"\ncontent = 3\n', "'content' must be a string"),
        ('[[dirs]]\npath = "/x"\ncolour = "red"\n', "unknown key"),
        ('[[dirs]]\npath = "/x"\nmode = 0o77777\n', "'mode' must be permission bits"),
        ("[[dirs]\n", "not valid TOML"),
    ],
)
def test_manifest_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message):
        load_manifest(path, "x86_64")


def test_arch_specific_entries(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[[dirs]]\npath = "/only-arm"\narch = ["aarch64"]\n')
    with_dir = build_image("aarch64", tmp_path / "a.img", manifest=path, programs={}, report=None)
    without = build_image("x86_64", tmp_path / "x.img", manifest=path, programs={}, report=None)
    assert _volume(with_dir).lookup("/only-arm")
    with pytest.raises(NotFound):
        _volume(without).lookup("/only-arm")


def test_programs_from_build_tree_use_their_relative_path(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    prog = build_dir / "x86_64" / "bin" / "init"
    prog.parent.mkdir(parents=True)
    prog.write_bytes(b"\x7fELF")
    out = build_mod.build_image(
        "x86_64", tmp_path / "d.img", programs={"init": prog}, build_dir=build_dir, report=None
    )
    vol = _volume(out)
    assert vol.read_all(vol.lookup("/bin/init")) == b"\x7fELF"
