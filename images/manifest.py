"""Reading `images/manifest.toml`: what goes into the root file system image.

The manifest is data, not code, so adding a directory, a file or a class of programs
to the image never means editing the builder. See the manifest itself for the format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARCHES = ("x86_64", "aarch64")


class ManifestError(ValueError):
    """The manifest is malformed; the message names the file and the bad entry."""


@dataclass(frozen=True)
class ImageSettings:
    label: str = "axiom-root"
    block_size: int = 1024
    min_size_mib: int = 10
    reserved_percent: int = 5


@dataclass(frozen=True)
class DirSpec:
    path: str
    mode: int = 0o755


@dataclass(frozen=True)
class FileSpec:
    path: str
    content: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class ProgramRule:
    """Build outputs matching `pattern` (relative to build/<arch>) go to `to`."""

    pattern: str
    to: str
    mode: int = 0o755
    optional: bool = False  # may match nothing (e.g. no BPF objects were built)


@dataclass(frozen=True)
class Manifest:
    image: ImageSettings
    dirs: tuple[DirSpec, ...]
    files: tuple[FileSpec, ...]
    programs: tuple[ProgramRule, ...]
    raw: bytes  # the file's bytes, for the rebuild stamp


def load_manifest(path: Path, arch: str) -> Manifest:
    """Parse `path`, keeping only the entries that apply to `arch`."""
    try:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode())
    except OSError as e:
        raise ManifestError(f"cannot read manifest {path}: {e.strerror}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: not valid TOML: {e}") from e
    _only(doc, {"image", "dirs", "files", "programs"}, f"{path}")
    image = _table(doc.get("image", {}), path, "[image]")
    _only(image, {"label", "block_size", "min_size_mib", "reserved_percent"}, f"{path} [image]")
    settings = ImageSettings(**image)
    if not isinstance(settings.label, str) or not all(
        isinstance(v, int) and v >= 0
        for v in (settings.block_size, settings.min_size_mib, settings.reserved_percent)
    ):
        raise ManifestError(f"{path} [image]: label is a string, the rest non-negative integers")
    dirs, files, programs = [], [], []
    for i, entry in enumerate(_entries(doc, "dirs", path, arch)):
        where = f"{path} dirs[{i}]"
        _only(entry, {"path", "mode", "arch"}, where)
        dirs.append(DirSpec(_guest(entry, "path", where), _mode(entry, 0o755, where)))
    for i, entry in enumerate(_entries(doc, "files", path, arch)):
        where = f"{path} files[{i}]"
        _only(entry, {"path", "content", "mode", "arch"}, where)
        content = entry.get("content")
        if not isinstance(content, str):
            raise ManifestError(f"{where}: 'content' must be a string")
        mode = _mode(entry, 0o644, where)
        files.append(FileSpec(_guest(entry, "path", where), content.encode(), mode))
    for i, entry in enumerate(_entries(doc, "programs", path, arch)):
        where = f"{path} programs[{i}]"
        _only(entry, {"from", "to", "mode", "arch", "optional"}, where)
        optional = entry.get("optional", False)
        if not isinstance(optional, bool):
            raise ManifestError(f"{where}: 'optional' must be true or false")
        pattern = entry.get("from")
        if not isinstance(pattern, str) or not pattern:
            raise ManifestError(f"{where}: 'from' must be a glob such as \"bin/*\"")
        to = _guest(entry, "to", where)
        programs.append(ProgramRule(pattern, to, _mode(entry, 0o755, where), optional))
    return Manifest(settings, tuple(dirs), tuple(files), tuple(programs), raw)


def _entries(doc: dict[str, Any], key: str, path: Path, arch: str) -> list[dict[str, Any]]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise ManifestError(f"{path}: '{key}' must be an array of tables ([[{key}]])")
    selected = []
    for i, item in enumerate(items):
        arches = item.get("arch", list(ARCHES))
        if not isinstance(arches, list) or not set(arches) <= set(ARCHES):
            raise ManifestError(f"{path} {key}[{i}]: 'arch' must be a list from {ARCHES}")
        if arch in arches:
            selected.append(item)
    return selected


def _table(value: Any, path: Path, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{path}: {name} must be a table")
    return value


def _only(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _guest(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.startswith("/"):
        raise ManifestError(f"{where}: '{key}' must be an absolute guest path, got {value!r}")
    return value


def _mode(entry: dict[str, Any], default: int, where: str) -> int:
    mode = entry.get("mode", default)
    if not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        raise ManifestError(f"{where}: 'mode' must be permission bits like 0o755")
    return mode
