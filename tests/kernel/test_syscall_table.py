"""The syscall table is one explicit mapping over the spec's numbers, and the kernel
provides every member of the view its handlers are typed against."""

from __future__ import annotations

import pytest

from emulator.chardev import MemoryBackend
from emulator.config import MachineConfig
from emulator.machine import Machine
from kernel.abi import Sys
from kernel.syscalls.table import SYSCALLS
from kernel.syscalls.view import KernelView


def test_every_spec_syscall_maps_to_its_own_handler() -> None:
    assert sorted(SYSCALLS) == sorted(Sys)
    for nr, handler in SYSCALLS.items():
        assert handler.__name__ == f"sys_{Sys(nr).name.lower()}"


def test_the_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        SYSCALLS[999] = SYSCALLS[Sys.EXIT]  # type: ignore[index]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_a_booted_kernel_provides_the_handlers_view(arch: str) -> None:
    members = sorted(name for name in vars(KernelView) if not name.startswith("_"))
    assert members == [
        "bpf",
        "charge_heap",
        "clock",
        "clock_ns",
        "export_ringbuf",
        "exported_ringbuf",
        "hooks",
        "log",
        "next_pipe_ino",
        "procs",
        "vfs",
    ]
    machine = Machine(MachineConfig(arch=arch, cmdline="init=/bin/t_hello"), MemoryBackend())
    machine.boot()
    try:
        kernel = machine.kernel
        for name in members:
            assert hasattr(kernel, name), name
        assert kernel.vfs.resolve("/bin/t_hello", "/") is not None
        assert kernel.procs[1] is kernel.procs.init and kernel.bpf is not None
        assert kernel.exported_ringbuf is None
        kernel.export_ringbuf(7)
        assert kernel.exported_ringbuf == 7
        heap = kernel.heap_bytes
        kernel.charge_heap(4096)
        assert kernel.heap_bytes == heap + 4096
    finally:
        machine.close()
