"""The CPU's IRQ line is driven by the interrupt controller when it changes; the run
loop samples it between slices. So the controller's state is scanned on changes only
(not once per CPU slice), and IRQ entry runs exactly when something is pending."""

from __future__ import annotations

import pytest

from emulator.boards import VirtBoard
from emulator.devices.gicv2 import GicV2
from emulator.testing import boot


@pytest.fixture
def gic_scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    scans = [0]
    scan = GicV2.irq_asserted

    def counted(self: GicV2) -> bool:
        scans[0] += 1
        return scan(self)

    monkeypatch.setattr(GicV2, "irq_asserted", counted)
    return scans


def test_slices_without_device_changes_do_not_scan_the_gic(gic_scans: list[int]) -> None:
    vm = boot("aarch64", append="init=/bin/b_pingpong 200")
    vm.run_to_end(timeout=10)
    assert vm.exit_status == 0
    assert vm.machine.kernel.sched.switches == 401  # each switch ends a CPU slice
    assert vm.machine.kernel.ticks == 0
    assert gic_scans[0] <= 8  # boot's GIC and timer programming only


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_irq_entry_runs_once_per_tick_and_never_spuriously(arch: str, gic_scans: list[int]) -> None:
    vm = boot(arch, append="init=/bin/t_idle 300")
    kernel = vm.machine.kernel
    entries = [0]
    interrupt = kernel.interrupt

    def counted() -> None:
        entries[0] += 1
        interrupt()

    kernel.interrupt = counted  # type: ignore[method-assign]
    vm.run_for(0.2)
    assert kernel.ticks == {"x86_64": 40, "aarch64": 20}[arch]  # 200 / 100 Hz for 0.2 s
    assert entries[0] == kernel.ticks  # no IRQ entry without an interrupt pending
    board = vm.machine.board
    assert isinstance(board, VirtBoard) == (arch == "aarch64")
    if isinstance(board, VirtBoard):
        assert board.gic.spurious == 0 and board.gic.acknowledged == kernel.ticks
        assert gic_scans[0] <= 8 + 4 * kernel.ticks  # IAR, CVAL, EOI, the timer firing
    assert board.cpu_irq.level is False  # every tick was taken and retired
