"""Boards: `pc` (x86_64), `virt` (AArch64) and `rpi5` (AArch64, Raspberry Pi 5)."""

from emulator.boards.base import Board, BusError
from emulator.boards.pc import PcBoard
from emulator.boards.rpi5 import Rpi5Board
from emulator.boards.virt import VirtBoard

BOARDS: dict[str, type[Board]] = {"x86_64": PcBoard, "aarch64": VirtBoard}  # per-arch default
MACHINES: dict[str, type[Board]] = {"pc": PcBoard, "virt": VirtBoard, "rpi5": Rpi5Board}

__all__ = ["BOARDS", "MACHINES", "Board", "BusError", "PcBoard", "Rpi5Board", "VirtBoard"]
