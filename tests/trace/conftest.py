"""Trace, logging and monitor tests boot machines too: the boot tests' fixtures (images
built once per session, the `arch` parameter) serve them unchanged."""

from __future__ import annotations

from tests.boot.conftest import arch, built_images  # noqa: F401  (pytest fixtures)
