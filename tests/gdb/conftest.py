"""gdb tests: images current; sessions against run-virt in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.config import ARCHES
from images.build import build_image

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"


@pytest.fixture(scope="session", autouse=True)
def built_images() -> dict[str, Path]:
    return {
        arch: build_image(arch, BUILD / arch / "disk.img", build_dir=BUILD, report=None)
        for arch in ARCHES
    }
