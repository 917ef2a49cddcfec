"""A user's own program, compiled outside the tree and added to an image, runs as init."""

from __future__ import annotations

from pathlib import Path

from emulator.testing import boot
from images.build import build_image
from tests.boot.conftest import BUILD
from userspace.build import build_one_program

SOURCE = r"""
#include "minilib.h"

int main(int argc, char **argv)
{
    printf("user program: argc=%d last=%s\n", argc, argv[argc - 1]);
    return 7;
}
"""


def test_user_added_program_runs_via_init(arch: str, tmp_path: Path) -> None:
    src = tmp_path / "mine.c"
    src.write_text(SOURCE)
    exe = build_one_program(arch, [src], tmp_path / "mine", build_dir=BUILD)
    note = tmp_path / "note.txt"
    note.write_text("added by the user\n")
    image = build_image(
        arch,
        tmp_path / "disk.img",
        add=[(exe, "/usr/bin/mine"), (note, "/etc/note.txt")],
        build_dir=BUILD,
        report=None,
    )
    vm = boot(arch, image=image, append="init=/usr/bin/mine hello")
    assert vm.run_to_end() == 7
    assert "user program: argc=2 last=hello\n" in vm.console
    # the rest of the default image is still there
    vm = boot(arch, image=image, append="/bin/t_hello")
    assert vm.run_to_end() == 0
