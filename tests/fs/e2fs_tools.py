"""e2fsprogs helpers for the tests: the tools are optional, checks skip without them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def find_tool(name: str) -> str | None:
    """e2fsprogs live in sbin, which is often not on a normal user's PATH."""
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if Path(p).exists()), None
    )


def need_tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} (e2fsprogs) is not installed on this machine")
    return path


def e2fsck_clean(image: Path) -> None:
    """Assert `e2fsck -fn` finds nothing to fix (exit status 0)."""
    result = subprocess.run(
        [need_tool("e2fsck"), "-fn", str(image)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def debugfs_cat(image: Path, guest: str) -> bytes:
    result = subprocess.run(
        [need_tool("debugfs"), "-R", f"cat {guest}", str(image)], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
