"""CPU adapters over Unicorn, one per guest architecture."""

from emulator.cpu.aarch64 import Aarch64Cpu
from emulator.cpu.base import Fault, FaultKind, GuestCpu, SliceResult, StopReason
from emulator.cpu.x86_64 import X86_64Cpu

CPU_CLASSES: dict[str, type[GuestCpu]] = {"x86_64": X86_64Cpu, "aarch64": Aarch64Cpu}

__all__ = [
    "Aarch64Cpu",
    "CPU_CLASSES",
    "Fault",
    "FaultKind",
    "GuestCpu",
    "SliceResult",
    "StopReason",
    "X86_64Cpu",
]
