"""`-d in_asm`: print each guest block the first time it is translated, disassembled
with capstone, like QEMU's in_asm. A UC_HOOK_BLOCK exists only while the item is on,
so with it off the CPU runs with no extra hook at all.

Unicorn translates per context; "newly translated" here means a block (address and
bytes) not printed before in this machine, so a forked child re-running its
parent's code prints nothing new, while an execve'd program's new code does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import capstone
from unicorn import UC_HOOK_BLOCK, UcError

from emulator.trace.describe import proc_label

SEPARATOR = "----------------"


class InAsmLogger:
    def __init__(self, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._hooks: dict[int, tuple[Any, int]] = {}  # id(cpu) -> (cpu, hook handle)
        self._seen: set[tuple[int, bytes]] = set()
        self._cs: dict[int, capstone.Cs] = {}

    def attach(self, cpu: Any) -> None:
        if id(cpu) in self._hooks or cpu.uc is None:
            return
        handle = cpu.uc.hook_add(UC_HOOK_BLOCK, self._on_block, cpu)
        self._hooks[id(cpu)] = (cpu, handle)

    def attach_all(self, cpus: Iterable[Any]) -> None:
        for cpu in cpus:
            self.attach(cpu)

    def detach_all(self) -> None:
        for cpu, handle in self._hooks.values():
            if cpu.uc is not None:
                cpu.uc.hook_del(handle)
        self._hooks.clear()

    def _on_block(self, uc: Any, address: int, size: int, cpu: Any) -> None:
        try:
            code = bytes(uc.mem_read(address, size))
        except UcError:
            return
        key = (address, code)
        if key in self._seen:
            return
        self._seen.add(key)
        md = self._cs.get(cpu.CS_ARCH)
        if md is None:
            md = self._cs[cpu.CS_ARCH] = capstone.Cs(cpu.CS_ARCH, cpu.CS_MODE)
        owner = cpu.owner
        who = proc_label(owner) if owner is not None else "?"
        lines = [SEPARATOR, f"IN: {who}"]
        end = address
        for insn in md.disasm(code, address):
            text = f"{insn.mnemonic} {insn.op_str}".strip()
            lines.append(f"0x{insn.address:016x}:  {insn.bytes.hex():<24} {text}")
            end = insn.address + insn.size
        if end < address + size:
            lines.append(f"0x{end:016x}:  {code[end - address :].hex():<24} (undecodable)")
        self._emit("\n".join(lines) + "\n\n")
