"""The list of things that go into one image: manifest entries, built programs, --add.

Everything is resolved to `Entry` values (guest path, kind, mode, bytes) before the
image is written, so the rebuild stamp can hash exactly what the image will contain.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from images.manifest import Manifest
from userspace.strip import StripError, strip_debug

_ET_EXEC = 2


class ContentsError(ValueError):
    """A bad --add, a program rule that matches nothing, or an unreadable input."""


@dataclass(frozen=True)
class Entry:
    kind: str  # "dir", "file" or "symlink"
    path: str  # absolute guest path
    mode: int = 0
    data: bytes = b""  # file contents, or the symlink target


def parse_add(spec: str) -> tuple[Path, str]:
    """Split a HOST:GUEST command-line argument (split at the last ':')."""
    host, sep, guest = spec.rpartition(":")
    if not sep or not host or not guest:
        raise ContentsError(f"bad --add {spec!r}: expected HOST:GUEST, e.g. ./prog:/bin/prog")
    return Path(host), guest


def collect(
    manifest: Manifest,
    programs: dict[str, Path],
    add: Iterable[tuple[Path, str]],
    build_root: Path,
) -> list[Entry]:
    """Every entry of the image in a fixed order: manifest dirs, files, programs, adds."""
    entries = [Entry("dir", d.path, d.mode) for d in manifest.dirs]
    entries += [Entry("file", f.path, f.mode, f.content) for f in manifest.files]
    entries += _programs(manifest, programs, build_root)
    for host, guest in add:
        entries += _host_entries(Path(host), guest)
    return entries


def _programs(manifest: Manifest, programs: dict[str, Path], build_root: Path) -> list[Entry]:
    """Apply each [[programs]] rule to the built programs (keyed by their build path)."""
    by_rel = {}
    for name, path in programs.items():
        try:
            rel = path.resolve().relative_to(build_root.resolve()).as_posix()
        except ValueError:
            rel = f"bin/{name}"  # an explicit programs dict outside the build tree
        by_rel[rel] = Path(path)
    entries = []
    for rule in manifest.programs:
        matched = sorted(rel for rel in by_rel if fnmatch.fnmatchcase(rel, rule.pattern))
        if not matched and not rule.optional:
            raise ContentsError(f"manifest rule from={rule.pattern!r} matched no built programs")
        if not rule.to.endswith("/") and len(matched) > 1:
            raise ContentsError(f"manifest rule to={rule.to!r} names one file but got {matched}")
        for rel in matched:
            dest = rule.to + PurePosixPath(rel).name if rule.to.endswith("/") else rule.to
            entries.append(Entry("file", dest, rule.mode, _image_copy(_read(by_rel[rel]))))
    return entries


def _host_entries(host: Path, guest: str) -> list[Entry]:
    """A host file, or a host directory tree (symlinks inside it kept as symlinks)."""
    spec = f"{host}:{guest}"
    if not guest.startswith("/"):
        raise ContentsError(f"--add {spec}: guest path {guest!r} must be absolute (start with /)")
    if not host.exists():
        raise ContentsError(f"--add {spec}: host path {host} does not exist")
    if host.is_file():
        dest = guest + host.name if guest.endswith("/") else guest
        return [Entry("file", dest, _host_mode(host), _read(host))]
    if not host.is_dir():
        raise ContentsError(f"--add {spec}: {host} is neither a file nor a directory")
    root = guest.rstrip("/") or "/"
    entries = [Entry("dir", root, 0o755)]
    for dirpath, dirnames, filenames in os.walk(host):
        dirnames.sort()
        here = Path(dirpath)
        base = PurePosixPath(root, here.relative_to(host).as_posix())
        for name in sorted(dirnames + filenames):
            path = here / name
            dest = str(base / name)
            if path.is_symlink():
                entries.append(Entry("symlink", dest, 0o777, os.readlink(path).encode()))
            elif path.is_dir():
                entries.append(Entry("dir", dest, 0o755))
            elif path.is_file():
                entries.append(Entry("file", dest, _host_mode(path), _read(path)))
            else:
                raise ContentsError(f"--add {spec}: {path} is not a regular file")
    return entries


def _host_mode(path: Path) -> int:
    """Executables keep 0755, everything else becomes 0644 (host umask doesn't leak)."""
    return 0o755 if path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) else 0o644


def _image_copy(data: bytes) -> bytes:
    """A built executable without its DWARF: gdb reads build/<arch>/bin, the guest
    loads the same code without the debug sections (identical to a -g0 build)."""
    if data[:4] == b"\x7fELF" and int.from_bytes(data[16:18], "little") == _ET_EXEC:
        try:
            return strip_debug(data)
        except StripError:
            return data
    return data


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ContentsError(f"cannot read {path}: {e.strerror}") from e
