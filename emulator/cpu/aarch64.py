"""AArch64 CPU adapter: `svc #0` traps, number in x8, arguments in x0..x5."""

from __future__ import annotations

import capstone
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM
from unicorn import arm64_const as a

from emulator.cpu.base import FaultKind, GuestCpu

_EXCP_UDEF = 1
_EXCP_SWI = 2
_CPACR_FPEN = 3 << 20  # let EL0/EL1 use FP/SIMD: compilers emit it for memcpy and friends


class Aarch64Cpu(GuestCpu):
    """A 64-bit user context."""

    UC_ARCH = UC_ARCH_ARM64
    UC_MODE = UC_MODE_ARM
    CS_ARCH = capstone.CS_ARCH_ARM64
    CS_MODE = capstone.CS_MODE_ARM
    PC_REG = a.UC_ARM64_REG_PC
    SP_REG = a.UC_ARM64_REG_SP
    THREAD_POINTER_REG = a.UC_ARM64_REG_TPIDR_EL0
    REG_BLOCK = tuple(getattr(a, f"UC_ARM64_REG_X{i}") for i in range(29))  # xregs[0..28]
    SYSCALL_REGS = (
        a.UC_ARM64_REG_X8,
        a.UC_ARM64_REG_X0,
        a.UC_ARM64_REG_X1,
        a.UC_ARM64_REG_X2,
        a.UC_ARM64_REG_X3,
        a.UC_ARM64_REG_X4,
        a.UC_ARM64_REG_X5,
    )
    RET_REG = a.UC_ARM64_REG_X0
    SYSCALL_INTNO = _EXCP_SWI
    CONTEXT_REGS = (
        *(getattr(a, f"UC_ARM64_REG_X{i}") for i in range(29)),
        a.UC_ARM64_REG_FP,
        a.UC_ARM64_REG_LR,
        a.UC_ARM64_REG_SP,
        a.UC_ARM64_REG_PC,
        a.UC_ARM64_REG_NZCV,
        a.UC_ARM64_REG_TPIDR_EL0,
        *(getattr(a, f"UC_ARM64_REG_Q{i}") for i in range(32)),
    )
    ARCH_NAME = "aarch64"
    WATCH_STOPS_AFTER_ACCESS = False
    ELF_MACHINE = "EM_AARCH64"

    def _arch_setup(self) -> None:
        self.uc.reg_write(a.UC_ARM64_REG_CPACR_EL1, _CPACR_FPEN)

    def _interrupt_fault(self, intno: int) -> FaultKind:
        return FaultKind.ILLEGAL_INSTRUCTION if intno == _EXCP_UDEF else FaultKind.CPU_ERROR
