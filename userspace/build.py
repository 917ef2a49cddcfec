"""Build the guest userspace: C programs + minilib -> static ELF executables.

Each `userspace/programs/<name>.c` and `userspace/testprogs/<name>.c` (or a
directory `<name>/` of .c files) becomes `build/<arch>/bin/<name>`, linked with
minilib at the ABI's user link base. `zig cc` from PyPI is the cross compiler, so
no system toolchain is needed. A stamp file next to each output holds a hash of
every input (sources, headers including the generated `axiom_abi.h`, flags, zig
version); an output whose stamp matches is not rebuilt.

CLI: `python -m userspace.build [--arch x86_64|aarch64|all]`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kernel import abi
from kernel.abi_header import write_header
from userspace.bpf_build import BpfBuildError, build_skeletons

USERSPACE = Path(__file__).resolve().parent
MINILIB = USERSPACE / "minilib"
PROGRAM_DIRS = (USERSPACE / "programs", USERSPACE / "testprogs")
ARCHES = (abi.Arch.X86_64.value, abi.Arch.AARCH64.value)
JOBS = 2

# -mcpu drops the FP/SIMD units: the guests are integer-only, so a context switch
# only has to save general registers and no FP enable bits are needed.
ARCH_FLAGS = {
    "x86_64": ["-target", "x86_64-freestanding-none", "-mcpu=x86_64-mmx-sse-sse2"],
    "aarch64": ["-target", "aarch64-freestanding-none", "-mcpu=generic-neon-fp_armv8"],
}
CFLAGS = [
    "-O2",
    "-g",  # DWARF for gdb in build/<arch>/bin; the image gets stripped copies
    "-std=gnu17",
    "-nostdlib",
    "-static",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-stack-protector",
    "-fno-pic",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wl,--gc-sections",
    "-fno-asynchronous-unwind-tables",
    "-Wl,--build-id=none",
]


class BuildError(RuntimeError):
    """A program failed to compile; the message carries the compiler's stderr."""


@dataclass(frozen=True)
class Program:
    """One guest program: its name, C sources and private headers."""

    name: str
    sources: tuple[Path, ...]
    headers: tuple[Path, ...] = ()


def find_programs() -> list[Program]:
    """Every program under programs/ and testprogs/, sorted by name."""
    found: dict[str, Program] = {}
    for directory in PROGRAM_DIRS:
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir()):
            if entry.suffix == ".c" and entry.is_file():
                prog = Program(entry.stem, (entry,))
            elif entry.is_dir() and any(entry.glob("*.c")):
                headers = tuple(sorted(entry.glob("*.h")))
                prog = Program(entry.name, tuple(sorted(entry.glob("*.c"))), headers)
            else:
                continue
            if prog.name in found:
                raise BuildError(f"two programs are named {prog.name!r}")
            found[prog.name] = prog
    return sorted(found.values(), key=lambda p: p.name)


def zig_version() -> str:
    """The ziglang package version (part of every stamp)."""
    return importlib.metadata.version("ziglang")


def compile_command(arch: str, prog: Program, out: Path, include: Path) -> list[str]:
    """The full `zig cc` command line for one program."""
    base = abi.USER_LINK_BASE[abi.Arch(arch)]
    return [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        *ARCH_FLAGS[arch],
        *CFLAGS,
        f"-Wl,--image-base={base:#x}",
        f"-I{include}",
        f"-I{MINILIB}",
        f"-I{USERSPACE / 'include'}",
        "-o",
        str(out),
        *(str(s) for s in prog.sources),
        *(str(s) for s in sorted(MINILIB.glob("*.c"))),
    ]


def input_hash(cmd: list[str], prog: Program, include: Path) -> str:
    """Hash of everything that determines an output: command, sources, headers."""
    h = hashlib.sha256()
    h.update(zig_version().encode())
    h.update("\0".join(cmd[1:]).encode())  # not sys.executable: venvs move
    files = [*prog.sources, *prog.headers, *sorted(MINILIB.glob("*.[ch]"))]
    files += sorted(include.glob("*.h")) + sorted((USERSPACE / "include").glob("*.h"))
    for path in files:
        h.update(str(path).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _build_one(arch_dir: Path, arch: str, prog: Program, include: Path) -> tuple[Path, bool]:
    """Compile one program unless its stamp is current; returns (output, rebuilt).

    Stamps and partial outputs live outside bin/, which the image copies whole.
    """
    out = arch_dir / "bin" / prog.name
    stamp = arch_dir / "stamps" / f"{prog.name}.stamp"
    tmp = arch_dir / "stamps" / f"{prog.name}.tmp"
    digest = input_hash(compile_command(arch, prog, out, include), prog, include)
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        return out, False
    result = subprocess.run(
        compile_command(arch, prog, tmp, include), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"compiling {prog.name} for {arch} failed:\n{result.stderr.strip()}")
    os.replace(tmp, out)
    stamp.write_text(digest)
    return out, True


def build_programs(arch: str, *, build_dir: Path = Path("build")) -> dict[str, Path]:
    """Build every program for `arch` into `build_dir/<arch>/bin`; name -> ELF path.

    Also (re)generates `build_dir/include/axiom_abi.h` from kernel.abi first, and
    builds the BPF objects and their skeletons (`build_dir/include/<name>.skel.h`).
    """
    if arch not in ARCH_FLAGS:
        raise ValueError(f"unknown arch {arch!r}; expected one of {ARCHES}")
    include = build_dir / "include"
    write_header(include / "axiom_abi.h")
    try:
        build_skeletons(arch, build_dir=build_dir)  # <name>.skel.h, which loaders include
    except BpfBuildError as e:
        raise BuildError(str(e)) from None
    arch_dir = build_dir / arch
    for sub in ("bin", "stamps"):
        (arch_dir / sub).mkdir(parents=True, exist_ok=True)
    programs = find_programs()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = {p.name: pool.submit(_build_one, arch_dir, arch, p, include) for p in programs}
        outputs = {name: fut.result()[0] for name, fut in futures.items()}
    _remove_stale(arch_dir, set(outputs))
    return outputs


def build_one_program(
    arch: str, sources: list[Path], out: Path, *, build_dir: Path = Path("build")
) -> Path:
    """Compile a user's own C files with minilib into a static guest executable."""
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise BuildError(f"no such file: {', '.join(missing)}")
    include = build_dir / "include"
    write_header(include / "axiom_abi.h")
    prog = Program(out.name, tuple(s.resolve() for s in sources))
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [a for a in compile_command(arch, prog, out, include.resolve()) if a != "-Werror"]
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"compiling {out.name} for {arch} failed:\n{result.stderr.strip()}")
    return out


def _remove_stale(arch_dir: Path, names: set[str]) -> None:
    """Delete outputs of programs that no longer exist: bin/ goes into the image whole."""
    for path in (arch_dir / "bin").iterdir():
        if path.name not in names:
            path.unlink()
            (arch_dir / "stamps" / f"{path.name}.stamp").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="Build the axiomOS guest programs.")
    parser.add_argument("--arch", choices=[*ARCHES, "all"], default="all")
    parser.add_argument("--build-dir", type=Path, default=Path("build"))
    parser.add_argument(
        "--source", type=Path, nargs="+", help="compile your own C program (with --out)"
    )
    parser.add_argument("--out", type=Path, help="executable to write for --source")
    args = parser.parse_args(argv)
    arches = ARCHES if args.arch == "all" else (args.arch,)
    if (args.source is None) != (args.out is None):
        parser.error("--source and --out go together")
    try:
        if args.source is not None:
            if len(arches) != 1:
                parser.error("--source needs one --arch")
            build_one_program(arches[0], args.source, args.out, build_dir=args.build_dir)
            print(f"built {args.out} ({arches[0]})")
            return 0
        for arch in arches:
            outputs = build_programs(arch, build_dir=args.build_dir)
            print(f"{arch}: {len(outputs)} programs in {args.build_dir / arch / 'bin'}")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
