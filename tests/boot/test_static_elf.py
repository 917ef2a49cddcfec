"""spawn / execve of static ELF executables shaped like the original's Rust binaries
(PT_TLS, PT_GNU_STACK, .bss beyond the file, several PT_LOADs), on both machines: the
program reads its TLS block through FS base / TPIDR_EL0, .data and .bss, and exits 42."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.testing import boot
from images.build import build_image

from ..kernel.static_elf import EXIT_STATUS, static_elf
from .conftest import BUILD


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One image per architecture with the executable added as /bin/static."""
    out = {}
    for arch in ("x86_64", "aarch64"):
        tmp = tmp_path_factory.mktemp(arch)
        elf = tmp / "static"
        elf.write_bytes(static_elf(arch))
        out[arch] = build_image(
            arch, tmp / "disk.img", add=[(elf, "/bin/static")], build_dir=BUILD, report=None
        )
    return out


def test_spawned_static_elf_runs(arch: str, images: dict[str, Path]) -> None:
    vm = boot(arch, image=images[arch], append="init=/bin/static")
    assert vm.run_to_end() == EXIT_STATUS
    assert "init exited with status 42" in vm.console


def test_execve_of_a_static_elf(arch: str, images: dict[str, Path]) -> None:
    vm = boot(arch, image=images[arch], append="init=/bin/t_exec /bin/static")
    status = vm.run_to_end()
    assert "killed" not in vm.console, vm.console[-1500:]
    assert status == EXIT_STATUS, vm.console[-1500:]
