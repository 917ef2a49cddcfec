"""gdb tests: images current; sessions against run-virt in a subprocess."""

from __future__ import annotations

from tests.boot.conftest import built_images  # noqa: F401  (pytest fixture)
