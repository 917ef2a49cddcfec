"""Guests carry DWARF in build/<arch>/bin; the image gets copies without it that are
byte-identical to a -g0 build, so debug info cannot change what the guest sees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from emulator.config import ARCHES
from images.contents import _image_copy
from tests.gdb.harness import BUILD
from userspace import build
from userspace.strip import StripError, strip_debug


def sections(data: bytes) -> set[str]:
    import io

    return {s.name for s in ELFFile(io.BytesIO(data)).iter_sections()}


@pytest.mark.parametrize("arch", ARCHES)
def test_build_output_has_dwarf_and_the_image_copy_has_none(arch: str) -> None:
    debug = (BUILD / arch / "bin" / "fork_test").read_bytes()
    assert {".debug_info", ".debug_line", ".debug_abbrev", ".symtab"} <= sections(debug)
    image = _image_copy(debug)
    assert not {s for s in sections(image) if s.startswith(".debug")}
    assert ".symtab" in sections(image) and len(image) < len(debug) // 2


@pytest.mark.parametrize("arch", ARCHES)
def test_stripped_copy_is_byte_identical_to_a_g0_build(arch: str, tmp_path: Path) -> None:
    (prog,) = [p for p in build.find_programs() if p.name == "t_gdb"]
    include = (BUILD / "include").resolve()
    out = tmp_path / "t_gdb"
    cmd = ["-g0" if a == "-g" else a for a in build.compile_command(arch, prog, out, include)]
    subprocess.run(cmd, check=True, capture_output=True)
    assert strip_debug((BUILD / arch / "bin" / "t_gdb").read_bytes()) == out.read_bytes()


def test_strip_leaves_non_elf_and_debugless_files_alone() -> None:
    assert _image_copy(b"#!/bin/sh\n") == b"#!/bin/sh\n"
    plain = strip_debug((BUILD / "x86_64" / "bin" / "t_hello").read_bytes())
    assert strip_debug(plain) == plain
    with pytest.raises(StripError):
        strip_debug(b"\x7fELF\x01\x01" + bytes(60))
