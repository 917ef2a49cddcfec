"""Per-platform kernel code: console driver, tick source, IRQ entry, log prefix."""

from kernel.arch.aarch64 import Aarch64Platform
from kernel.arch.base import Platform
from kernel.arch.rpi5 import Rpi5Platform
from kernel.arch.x86_64 import X86_64Platform

# Keyed by the board description's `platform` (kernel.board.BoardDescription.platform).
PLATFORMS: dict[str, type[Platform]] = {
    "x86_64": X86_64Platform,
    "aarch64": Aarch64Platform,
    "rpi5": Rpi5Platform,
}

__all__ = ["PLATFORMS", "Platform"]
