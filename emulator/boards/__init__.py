"""Boards: `pc` (x86_64) and `virt` (AArch64)."""

from emulator.boards.base import Board, BusError
from emulator.boards.pc import PcBoard
from emulator.boards.virt import VirtBoard

BOARDS: dict[str, type[Board]] = {"x86_64": PcBoard, "aarch64": VirtBoard}

__all__ = ["BOARDS", "Board", "BusError", "PcBoard", "VirtBoard"]
