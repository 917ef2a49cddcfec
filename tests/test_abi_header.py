"""The generated C header agrees with kernel.abi: the C compiler proves it.

The header carries `_Static_assert`s on every struct size and field offset, with
the values taken from kernel/abi.py; compiling it for each guest target (and for
BPF programs) checks the C layout against the Python one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel import abi
from kernel.abi_header import generate, write_header

TARGETS = ["x86_64-freestanding-none", "aarch64-freestanding-none", "bpfel-freestanding-none"]

PROBE = """\
#include "axiom_abi.h"
_Static_assert(SYS_WRITE == 37 && SYS_BPF == 50 && EINVAL == 27 && ENOSYS == 51, "nums");
_Static_assert(O_WRONLY == (1 << 19) && SEEK_END == 2 && WNOHANG == 1, "flags");
_Static_assert(BPF_FUNC_ringbuf_output == HELPER_RINGBUF_OUTPUT, "helpers");
_Static_assert(offsetof(struct bpf_attr, map_fd) == BPF_ATTR_OFF_MAP_FD, "attr");
_Static_assert(sizeof(struct bpf_attr_ext) == BPF_ATTR_EXT_SIZE, "attr ext");
_Static_assert(sizeof(struct stat) == 144 && sizeof(struct bpf_context) == 56, "sizes");
int probe(void) { return SYS_EXIT; }
"""


def compile_probe(header_dir: Path, target: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Compile the probe against the header in `header_dir` for `target`."""
    src = tmp_path / "probe.c"
    src.write_text(PROBE)
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", target, "-std=gnu17"]
    cmd += ["-ffreestanding", "-Wall", "-Werror", f"-I{header_dir}", "-c", str(src)]
    cmd += ["-o", str(tmp_path / "probe.o")]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("target", TARGETS)
def test_header_compiles_and_static_asserts_hold(tmp_path: Path, target: str) -> None:
    write_header(tmp_path / "axiom_abi.h")
    result = compile_probe(tmp_path, target, tmp_path)
    assert result.returncode == 0, result.stderr


def test_static_asserts_catch_a_wrong_offset(tmp_path: Path) -> None:
    """A layout that disagrees with Python must fail to compile."""
    text = generate().replace("st_size) == 48", "st_size) == 40")
    assert "st_size) == 40" in text
    (tmp_path / "axiom_abi.h").write_text(text)
    result = compile_probe(tmp_path, TARGETS[0], tmp_path)
    assert result.returncode != 0
    assert "stat.st_size offset" in result.stderr


def test_every_number_is_defined() -> None:
    text = generate()
    for nr in abi.Sys:
        assert f"#define SYS_{nr.name} {int(nr)}\n" in text
    for err in abi.Errno:
        assert f"#define {err.name} {int(err)}\n" in text
    for cmd in abi.BpfCmd:
        assert f"#define BPF_{cmd.name} {int(cmd)}\n" in text
    for helper in abi.Helper:
        assert f"#define BPF_FUNC_{helper.name.lower()} {int(helper)}\n" in text
    for att in abi.AttachType:
        assert f"#define BPF_ATTACH_{att.name} {int(att)}\n" in text
    for off in abi.BpfAttrOff:
        assert f"#define BPF_ATTR_OFF_{off.name} {int(off)}\n" in text
    assert "#define PROT_NONE 0\n" in text and "#define MAP_ANONYMOUS 0x20\n" in text


def test_write_header_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "inc" / "axiom_abi.h"
    assert write_header(out) is True
    assert write_header(out) is False
