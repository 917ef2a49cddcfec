"""C sources for the ELF loader tests, compiled on demand with the SDK's flags.

`compile_object(name)` builds ``c_elf/<name>.c`` exactly as `userspace.bpf_build`
builds guest BPF programs (same flags, the SDK header and the generated
``axiom_abi.h``) and caches the object under ``build/bpf-elf-test-objs`` by a hash
of the command and every input, so repeated test runs do not invoke clang.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from kernel.abi_header import write_header
from userspace.bpf_build import BPF_SRC, compile_command

ROOT = Path(__file__).resolve().parents[3]
C_DIR = Path(__file__).resolve().parent
CACHE = ROOT / "build" / "bpf-elf-test-objs"
INCLUDE = CACHE / "include"
X86_CC = ["-target", "x86_64-freestanding-none", "-O2", "-g0", "-c"]


def _cached(key_parts: list[bytes], name: str, build: Callable[[Path], None]) -> bytes:
    h = hashlib.sha256()
    for part in key_parts:
        h.update(part + b"\0")
    out = CACHE / f"{name}-{h.hexdigest()[:16]}.o"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        build(tmp)
        tmp.replace(out)
    return out.read_bytes()


def _run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"{' '.join(cmd[3:])} failed:\n{result.stderr}")


def compile_source(src: Path, *, btf: bool = True) -> bytes:
    """Compile a BPF C file with the guest SDK flags; returns the object bytes.

    ``btf=False`` builds with -g0 instead of -g: no .BTF / .BTF.ext sections.
    """
    write_header(INCLUDE / "axiom_abi.h")
    headers = sorted(BPF_SRC.glob("*.h")) + sorted(INCLUDE.glob("*.h"))

    def command(out: Path) -> list[str]:
        cmd = compile_command(src, out, INCLUDE)
        return cmd if btf else ["-g0" if a == "-g" else a for a in cmd]

    cmd = command(Path("OUT"))
    key = ["\0".join(cmd[1:]).encode(), src.read_bytes()] + [p.read_bytes() for p in headers]
    return _cached(key, src.stem, lambda tmp: _run(command(tmp)))


def compile_object(name: str, *, btf: bool = True) -> bytes:
    """``c_elf/<name>.c`` as a BPF object (``btf=False``: built with -g0)."""
    return compile_source(C_DIR / f"{name}.c", btf=btf)


def compile_x86(name: str) -> bytes:
    """``c_elf/<name>.c`` as an x86-64 relocatable object (for the wrong-machine test)."""
    src = C_DIR / f"{name}.c"
    cmd = [sys.executable, "-m", "ziglang", "cc", *X86_CC]
    key = ["\0".join(cmd[1:]).encode(), src.read_bytes()]
    return _cached(key, f"{name}-x86", lambda tmp: _run([*cmd, str(src), "-o", str(tmp)]))
