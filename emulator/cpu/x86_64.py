"""x86_64 CPU adapter: `int 0x80` traps, number in rax, 4th argument in rcx."""

from __future__ import annotations

import capstone
from unicorn import UC_ARCH_X86, UC_MODE_64
from unicorn import x86_const as x

from emulator.cpu.base import FaultKind, GuestCpu

_X86_FAULTS = {
    0: FaultKind.DIVIDE_ERROR,
    3: FaultKind.BREAKPOINT,
    6: FaultKind.ILLEGAL_INSTRUCTION,
    13: FaultKind.GENERAL_PROTECTION,
}


class X86_64Cpu(GuestCpu):
    """A 64-bit long-mode user context."""

    UC_ARCH = UC_ARCH_X86
    UC_MODE = UC_MODE_64
    CS_ARCH = capstone.CS_ARCH_X86
    CS_MODE = capstone.CS_MODE_64
    PC_REG = x.UC_X86_REG_RIP
    SP_REG = x.UC_X86_REG_RSP
    THREAD_POINTER_REG = x.UC_X86_REG_FS_BASE
    REG_BLOCK = (  # CPUX86State.regs[]: QEMU's R_EAX..R_EDI order, then r8..r15
        x.UC_X86_REG_RAX,
        x.UC_X86_REG_RCX,
        x.UC_X86_REG_RDX,
        x.UC_X86_REG_RBX,
        x.UC_X86_REG_RSP,
        x.UC_X86_REG_RBP,
        x.UC_X86_REG_RSI,
        x.UC_X86_REG_RDI,
        *(getattr(x, f"UC_X86_REG_R{i}") for i in range(8, 16)),
    )
    SYSCALL_REGS = (
        x.UC_X86_REG_RAX,
        x.UC_X86_REG_RDI,
        x.UC_X86_REG_RSI,
        x.UC_X86_REG_RDX,
        x.UC_X86_REG_RCX,
        x.UC_X86_REG_R8,
        x.UC_X86_REG_R9,
    )
    RET_REG = x.UC_X86_REG_RAX
    SYSCALL_INTNO = 0x80
    CONTEXT_REGS = (
        x.UC_X86_REG_RAX,
        x.UC_X86_REG_RBX,
        x.UC_X86_REG_RCX,
        x.UC_X86_REG_RDX,
        x.UC_X86_REG_RSI,
        x.UC_X86_REG_RDI,
        x.UC_X86_REG_RBP,
        x.UC_X86_REG_RSP,
        x.UC_X86_REG_R8,
        x.UC_X86_REG_R9,
        x.UC_X86_REG_R10,
        x.UC_X86_REG_R11,
        x.UC_X86_REG_R12,
        x.UC_X86_REG_R13,
        x.UC_X86_REG_R14,
        x.UC_X86_REG_R15,
        x.UC_X86_REG_RIP,
        x.UC_X86_REG_EFLAGS,
        x.UC_X86_REG_FS_BASE,
        x.UC_X86_REG_GS_BASE,
        *(getattr(x, f"UC_X86_REG_XMM{i}") for i in range(16)),
    )
    ARCH_NAME = "x86_64"
    WATCH_STOPS_AFTER_ACCESS = True
    ELF_MACHINE = "EM_X86_64"

    def _interrupt_fault(self, intno: int) -> FaultKind:
        return _X86_FAULTS.get(intno, FaultKind.CPU_ERROR)
