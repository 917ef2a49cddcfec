"""Build the root file system image for an architecture from images/manifest.toml.

    python -m images.build --arch x86_64|aarch64|all [--out PATH] [--add HOST:GUEST ...]

`--add HOST:GUEST` puts a host file (or a whole host directory) into the image at
GUEST without editing the project; executables keep mode 0755. The image is rebuilt
only when an input changed: a stamp next to it records a hash of the manifest, every
input file, the --add list and the builder's own code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from images import contents, ext2_geometry, ext2_writer
from images import manifest as manifest_mod
from images.contents import ContentsError, Entry
from images.ext2_writer import Ext2Builder, Ext2BuildError
from images.manifest import ARCHES, ManifestError, load_manifest
from kernel.fs import ext2_format

DEFAULT_MANIFEST = Path(__file__).with_name("manifest.toml")
DEFAULT_BUILD_DIR = Path("build")
MIB = 1024 * 1024
# A change to any of these modules changes the image, so it invalidates the stamp.
_BUILDER_MODULES = (contents, ext2_geometry, ext2_writer, manifest_mod, ext2_format)


class BuildError(Exception):
    """Any failure building an image; the message is one line for the user."""


def build_image(
    arch: str,
    out: Path,
    *,
    manifest: Path = DEFAULT_MANIFEST,
    add: Iterable[tuple[Path, str]] = (),
    programs: dict[str, Path] | None = None,
    build_dir: Path = DEFAULT_BUILD_DIR,
    report: Callable[[str], None] | None = print,
) -> Path:
    """Write the image for `arch` to `out` (if its inputs changed) and return `out`.

    `programs` maps program name -> built ELF; when None the guest programs are built
    with `userspace.build.build_programs`. `report` gets the one-line result.
    """
    if arch not in ARCHES:
        raise BuildError(f"unknown arch {arch!r} (choose from {', '.join(ARCHES)})")
    out = Path(out)
    try:
        spec = load_manifest(Path(manifest), arch)
        if programs is None:
            programs = _build_programs(arch, Path(build_dir))
        entries = contents.collect(spec, programs, list(add), Path(build_dir) / arch)
    except (ManifestError, ContentsError) as e:
        raise BuildError(str(e)) from e
    settings = spec.image
    inputs = _inputs_hash(spec.raw, settings, entries)
    stamp = out.with_name(out.name + ".stamp")
    if _up_to_date(out, stamp, inputs):
        if report:
            report(f"{out} is up to date")
        return out
    builder = Ext2Builder(label=settings.label, reserved_percent=settings.reserved_percent)
    try:
        for entry in entries:
            _apply(builder, entry)
        image = builder.build(block_size=settings.block_size, min_size=settings.min_size_mib * MIB)
    except Ext2BuildError as e:
        raise BuildError(f"cannot build {out}: {e}") from e
    _write_atomically(out, image)
    _write_atomically(stamp, json.dumps({"inputs": inputs, "output": _sha256(image)}).encode())
    if report:
        n_files = sum(e.kind == "file" for e in entries)
        report(f"built {out} ({len(image) / MIB:g} MiB, {n_files} files)")
    return out


def _build_programs(arch: str, build_dir: Path) -> dict[str, Path]:
    try:
        from userspace.build import build_programs
    except ImportError as e:
        raise BuildError(
            f"cannot build the guest programs: userspace.build is not available ({e})"
        ) from e
    try:
        from userspace.bpf_build import build_bpf_objects

        programs = dict(build_programs(arch, build_dir=build_dir))
        for name, path in build_bpf_objects(arch, build_dir=build_dir).items():
            programs[f"{name}.o"] = path
        return programs
    except Exception as e:  # any failure of the userspace build is reported, not a traceback
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise BuildError(f"building the {arch} guest programs failed: {first}") from e


def _apply(builder: Ext2Builder, entry: Entry) -> None:
    if entry.kind == "dir":
        builder.mkdir(entry.path, entry.mode)
    elif entry.kind == "file":
        builder.add_file(entry.path, entry.data, entry.mode)
    else:
        builder.symlink(entry.path, entry.data.decode(errors="surrogateescape"))


def _inputs_hash(manifest_raw: bytes, settings: object, entries: list[Entry]) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for module in _BUILDER_MODULES:
        h.update(Path(module.__file__ or "").read_bytes())
    h.update(manifest_raw)
    h.update(repr(settings).encode())
    for e in entries:
        h.update(f"{e.kind}\0{e.path}\0{e.mode:o}\0{_sha256(e.data)}\n".encode())
    return h.hexdigest()


def _up_to_date(out: Path, stamp: Path, inputs: str) -> bool:
    try:
        recorded = json.loads(stamp.read_text())
        return recorded == {"inputs": inputs, "output": _sha256(out.read_bytes())}
    except (OSError, ValueError):
        return False


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def programs_from_dir(directory: Path) -> dict[str, Path]:
    """Use every file in `directory` as an already-built guest program."""
    if not directory.is_dir():
        raise BuildError(f"--programs-dir {directory}: not a directory")
    return {p.name: p for p in sorted(directory.iterdir()) if p.is_file()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m images.build", description="Build the axiomOS ext2 root image."
    )
    parser.add_argument("--arch", required=True, choices=[*ARCHES, "all"])
    parser.add_argument("--out", type=Path, help="image path (default build/<arch>/disk.img)")
    parser.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="HOST:GUEST",
        help="put a host file or directory into the image at GUEST (repeatable)",
    )
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR)
    parser.add_argument(
        "--programs-dir",
        type=Path,
        help="take prebuilt guest programs from this directory instead of building them",
    )
    args = parser.parse_args(argv)
    arches = list(ARCHES) if args.arch == "all" else [args.arch]
    try:
        if args.out is not None and len(arches) > 1:
            raise BuildError("--out names one image; use it with a single --arch")
        add = [contents.parse_add(spec) for spec in args.add]
        programs = programs_from_dir(args.programs_dir) if args.programs_dir else None
        for arch in arches:
            out = args.out or args.build_dir / arch / "disk.img"
            build_image(
                arch,
                out,
                manifest=args.manifest,
                add=add,
                programs=programs,
                build_dir=args.build_dir,
            )
    except (BuildError, ContentsError) as e:
        print(f"images.build: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
