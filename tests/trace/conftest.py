"""Boot tests: make sure guest programs and images are current, then boot them."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.config import ARCHES
from emulator.testing import axiom_vm  # noqa: F401  (the fixture users get too)
from images.build import build_image

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"


@pytest.fixture(scope="session", autouse=True)
def built_images() -> dict[str, Path]:
    """Build (or confirm up to date) both architectures' default images."""
    return {
        arch: build_image(arch, BUILD / arch / "disk.img", build_dir=BUILD, report=None)
        for arch in ARCHES
    }


@pytest.fixture(params=ARCHES)
def arch(request: pytest.FixtureRequest) -> str:
    return request.param
