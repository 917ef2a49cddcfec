"""Shared runs of the guest BPF demos for the boot tests (one boot per program and
architecture per test module), and helpers to split program output from kernel log.

Kernel log records are written straight to the console, so one can land in the
middle of a program's line (`[1/5] Creating array map (counter)... <INFO record>`).
`parse_log` then sees one plain line, so the helpers here cut the records out of
the console text by their colour prefix instead of filtering `vm.log` line by line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from emulator.logview import LogLine, parse_log
from emulator.testing import BootedMachine, boot
from kernel.proc import Process

TICK_HZ = {"x86_64": 200, "aarch64": 100}
PROGRAM_PID = 2  # init is pid 1; the program it spawns is pid 2 on a fresh boot
KERNEL_RECORD = re.compile(r"\x1b\[[0-9;]*m(?:ERROR|WARN |INFO |DEBUG)\x1b\[0m [^\n]*\n")
SYS_BPF = "kernel::syscall::bpf"


def tick_period_ns(arch: str) -> int:
    return 1_000_000_000 // TICK_HZ[arch]


def ticks_in_ms(arch: str, ms: int) -> int:
    return TICK_HZ[arch] * ms // 1000


def strip_kernel_records(text: str) -> str:
    """The program's own bytes: `text` with every kernel log record cut out."""
    return KERNEL_RECORD.sub("", text)


def kernel_records(text: str) -> list[LogLine]:
    """Every kernel log record in `text`, parsed, including ones that began mid-line."""
    return parse_log("".join(KERNEL_RECORD.findall(text)))


def transcript(text: str) -> str:
    """`text` with each kernel record reduced to `{LEVEL module: message}` (no colour,
    no cpu/pid), so interleaving can be compared exactly on both architectures."""

    def short(match: re.Match[str]) -> str:
        (line,) = parse_log(match.group(0))
        return f"{{{line.level} {line.module}: {line.message}}}\n"

    return KERNEL_RECORD.sub(short, text)


@dataclasses.dataclass(frozen=True)
class Switch:
    """One context switch the scheduler made, as the kernel itself saw it."""

    prev_pid: int
    next_pid: int
    hook_active: bool  # a SCHED_SWITCH program was attached at that moment
    console_at: int  # console length (bytes) when it happened


@dataclasses.dataclass
class DemoRun:
    arch: str
    program: str
    vm: BootedMachine
    status: int
    window: str  # program_output(): after init's Spawned line up to power-off
    ticks_at: dict[str, int]  # kernel tick count when each `marks` pattern appeared
    switches: list[Switch]

    @property
    def out(self) -> str:
        """The program's own output, kernel log records removed."""
        return strip_kernel_records(self.window)

    @property
    def klog(self) -> list[LogLine]:
        """Kernel log records logged while the program ran."""
        return kernel_records(self.window)

    def messages(self, module: str | None = None) -> list[str]:
        return [r.message or "" for r in self.klog if module is None or r.module == module]

    @property
    def kernel(self):  # noqa: ANN201 - the emulator's Kernel object
        return self.vm.machine.kernel


# Console text at which to note the kernel's tick count (in order of appearance).
MARKS: dict[str, tuple[str, ...]] = {
    "bpf_loader": tuple(f"Tick #{k} received" for k in range(1, 11)),
    "tick_demo": ("SUCCESS: BPF program attached to timer!", "Detached after"),
    "ringbuf_demo": ("SUCCESS: BPF program attached to timer!", "Detached;"),
}


def run_demo(arch: str, program: str) -> DemoRun:
    """Boot `/bin/<program>`, recording the kernel's tick count when each of the
    program's MARKS shows up on the console and every context switch, then run to
    power-off."""
    marks = MARKS.get(program, ())
    vm = boot(arch, append=f"/bin/{program}")
    kernel = vm.machine.kernel
    assert kernel.platform.tick_hz == TICK_HZ[arch]

    switches: list[Switch] = []
    sched = kernel.sched
    original = sched.on_switch

    def record(prev: Process | None, nxt: Process) -> None:
        prev_pid = prev.pid if prev is not None else 0
        active = kernel.hooks.sched_switch_active
        switches.append(Switch(prev_pid, nxt.pid, active, len(vm.backend)))
        original(prev, nxt)

    sched.on_switch = record
    ticks_at = {}
    for mark in marks:
        vm.wait_for(mark, timeout=30)
        ticks_at[mark] = kernel.ticks
    status = vm.run_to_end(timeout=30)
    return DemoRun(arch, program, vm, status, vm.program_output(program), ticks_at, switches)


def demo_cache() -> Callable[..., DemoRun]:
    """A memo of run_demo for a module-scoped fixture."""
    runs: dict[tuple[str, str], DemoRun] = {}

    def get(arch: str, program: str) -> DemoRun:
        key = (arch, program)
        if key not in runs:
            runs[key] = run_demo(arch, program)
        return runs[key]

    return get
