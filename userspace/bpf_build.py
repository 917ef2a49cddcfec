"""Build the C BPF programs: ``userspace/bpf/*.bpf.c`` -> ``build/<arch>/bpf/<name>.o``.

BPF objects are architecture-independent (``bpfel``), but each image takes its
files from ``build/<arch>/``, so the same object is written under both arches.
Stamp-based like `userspace.build`: a stamp per object holds the hash of the
command, the zig version, the source and every header it can include (the SDK
``axiom_bpf.h`` and the generated ``axiom_abi.h``); a current stamp skips the build.

CLI: ``python -m userspace.bpf_build [--arch x86_64|aarch64|all] [--build-dir build]``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from kernel import abi
from kernel.abi_header import write_header

USERSPACE = Path(__file__).resolve().parent
BPF_SRC = USERSPACE / "bpf"
SHARED_INCLUDE = USERSPACE / "include"  # headers a BPF program shares with its loader
ARCHES = (abi.Arch.X86_64.value, abi.Arch.AARCH64.value)
SUFFIX = ".bpf.c"

# -g: BTF (BTF-defined maps) and BTF.ext line info (source lines in verifier logs);
# no unwind tables / addrsig sections.
BPF_CFLAGS = [
    "-target",
    "bpfel-freestanding-none",
    "-O2",
    "-g",
    "-std=gnu17",
    "-ffreestanding",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fno-addrsig",
    "-Wall",
    "-Werror",
]


class BpfBuildError(RuntimeError):
    """A BPF program failed to compile; the message carries the compiler's stderr."""


def find_sources(src_dir: Path = BPF_SRC) -> dict[str, Path]:
    """``{name: source}`` for every ``<name>.bpf.c``, sorted by name."""
    return {p.name[: -len(SUFFIX)]: p for p in sorted(src_dir.glob(f"*{SUFFIX}"))}


def compile_command(src: Path, out: Path, include: Path, src_dir: Path = BPF_SRC) -> list[str]:
    """The ``zig cc`` command line compiling one BPF program to an object."""
    return [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        *BPF_CFLAGS,
        f"-I{include}",
        f"-I{src_dir}",
        f"-I{SHARED_INCLUDE}",
        "-c",
        str(src),
        "-o",
        str(out),
    ]


def _digest(cmd: list[str], src: Path, include: Path, src_dir: Path) -> str:
    h = hashlib.sha256(importlib.metadata.version("ziglang").encode())
    h.update("\0".join(cmd[1:]).encode())
    headers = [*src_dir.glob("*.h"), *include.glob("*.h"), *SHARED_INCLUDE.glob("*.h")]
    # Skeletons are generated from the objects: they are outputs, not inputs.
    for path in [src, *sorted(h for h in headers if not h.name.endswith(".skel.h"))]:
        h.update(str(path).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def build_object(src: Path, out: Path, include: Path, src_dir: Path = BPF_SRC) -> bool:
    """Compile ``src`` to ``out`` unless its stamp is current; True if it was rebuilt."""
    stamp = out.with_name(out.name + ".stamp")
    digest = _digest(compile_command(src, out, include, src_dir), src, include, src_dir)
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    result = subprocess.run(
        compile_command(src, tmp, include, src_dir), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BpfBuildError(f"compiling {src.name} failed:\n{result.stderr.strip()}")
    os.replace(tmp, out)
    stamp.write_text(digest)
    return True


def build_bpf_objects(
    arch: str, *, build_dir: Path = Path("build"), src_dir: Path = BPF_SRC
) -> dict[str, Path]:
    """Build every ``*.bpf.c`` into ``build_dir/<arch>/bpf/<name>.o``; ``{name: path}``.

    Generates ``build_dir/include/axiom_abi.h`` first (the SDK includes it).
    Stamps live next to the objects as ``<name>.o.stamp``; an image rule should
    therefore glob ``bpf/*.o``.
    """
    if arch not in ARCHES:
        raise ValueError(f"unknown arch {arch!r}; expected one of {ARCHES}")
    include = build_dir / "include"
    write_header(include / "axiom_abi.h")
    out_dir = build_dir / arch / "bpf"
    outputs = {}
    for name, src in find_sources(src_dir).items():
        out = out_dir / f"{name}.o"
        build_object(src, out, include, src_dir)
        outputs[name] = out
    return outputs


def write_skeletons(objects: dict[str, Path], include: Path) -> dict[str, Path]:
    """``include/<name>.skel.h`` for every object (`bpf-gen skeleton`); ``{name: header}``.

    A header is rewritten only when its text changes, so guest programs that include
    it are rebuilt only then. Skeletons of removed objects are deleted.
    """
    from kernel.bpf.elf.skeleton import generate
    from kernel.bpf.errors import BpfError

    out: dict[str, Path] = {}
    for name, obj in objects.items():
        header = include / f"{name}.skel.h"
        try:
            text = generate(obj.read_bytes(), source=f"{name}.bpf.o")
        except BpfError as e:
            raise BpfBuildError(f"skeleton for {name}.bpf.o: {e.message}") from None
        if not header.exists() or header.read_text() != text:
            header.write_text(text)
        out[name] = header
    for stale in include.glob("*.skel.h"):
        if stale.name[: -len(".skel.h")] not in objects:
            stale.unlink()
    return out


def build_skeletons(arch: str, *, build_dir: Path = Path("build")) -> dict[str, Path]:
    """Build the BPF objects for ``arch`` and their skeleton headers in build/include."""
    objects = build_bpf_objects(arch, build_dir=build_dir)
    return write_skeletons(objects, build_dir / "include")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the C BPF programs (userspace/bpf).")
    parser.add_argument("--arch", choices=[*ARCHES, "all"], default="all")
    parser.add_argument("--build-dir", type=Path, default=Path("build"))
    parser.add_argument("--source", type=Path, help="compile your own BPF C file (with --out)")
    parser.add_argument("--out", type=Path, help="object file to write for --source")
    args = parser.parse_args(argv)
    if (args.source is None) != (args.out is None):
        parser.error("--source and --out go together")
    try:
        if args.source is not None:
            if not args.source.is_file():
                raise BpfBuildError(f"no such file: {args.source}")
            include = args.build_dir / "include"
            write_header(include / "axiom_abi.h")
            build_object(args.source.resolve(), args.out.resolve(), include.resolve())
            print(f"built {args.out}")
            return 0
        for arch in ARCHES if args.arch == "all" else (args.arch,):
            outputs = build_bpf_objects(arch, build_dir=args.build_dir)
            print(f"{arch}: {len(outputs)} BPF objects in {args.build_dir / arch / 'bpf'}")
    except BpfBuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
