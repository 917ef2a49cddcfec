"""Shared helpers for the VM tests: assemble, load, run."""

from __future__ import annotations

import pytest

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa.asm import assemble

M64 = (1 << 64) - 1


def prog(text: str) -> Program:
    return Program(assemble(text))


def run(text: str, memory: bytes | bytearray | None = None, vm: Vm | None = None, **kw) -> int:
    """Run with r1 = memory, r2 = its length; returns r0 (u64)."""
    return (vm or Vm()).run_with_memory(prog(text), memory, **kw)


def run_err(text: str, memory: bytes | bytearray | None = None, vm: Vm | None = None, **kw):
    with pytest.raises(BpfRuntimeError) as info:
        run(text, memory, vm, **kw)
    return info.value
