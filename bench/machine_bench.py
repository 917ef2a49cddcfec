"""Machine benchmarks: syscall round trip vs a bare Unicorn hook, boot time, guest
instruction rate vs bare Unicorn, context-switch cost, idle-heavy guest time rate.

Every ratio compares two measurements taken in the same run, because these machines
are noisy. The figures with targets (issue 16) are the best of many short samples, each
with its median next to it (bench/sampling.py says why); the others are single runs,
for orientation.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from unicorn import UC_HOOK_INTR, Uc

from bench.sampling import MachineChunks, Samples, Window, alternating, difference, repeated, timed
from emulator.chardev import NullBackend
from emulator.config import MachineConfig
from emulator.cpu import CPU_CLASSES, GuestCpu
from emulator.machine import Machine
from kernel.abi import Sys

ROOT = Path(__file__).resolve().parent.parent
ARCHES = ("x86_64", "aarch64")
# At least this many samples per figure, each a few milliseconds of work, taken for
# `bench.sampling.WINDOW_S` seconds (see bench/sampling.py)
SAMPLES = 30


def row(name: str, value: float, unit: str, arch: str = "") -> dict:
    return {"name": name, "arch": arch, "value": round(value, 4), "unit": unit}


def _machine(arch: str, append: str, **options: Any) -> Machine:
    machine = Machine(MachineConfig(arch=arch, cmdline=append, **options), NullBackend())
    machine.boot()
    return machine


def _run(arch: str, append: str, **options: Any) -> tuple[float, Machine]:
    """Wall seconds from power-on (boot included) to power-off."""
    start = time.perf_counter()
    machine = _machine(arch, append, **options)
    machine.run(until_ns=600 * 10**9)
    return time.perf_counter() - start, machine


# ----------------------------------------------------------------- bare Unicorn


def _plain_uc(arch: str) -> tuple[Uc, type[GuestCpu]]:
    """A Unicorn with no hooks of ours, set up like the adapter (FP/SIMD on)."""
    cls = CPU_CLASSES[arch]
    uc = Uc(cls.UC_ARCH, cls.UC_MODE)
    if arch == "aarch64":
        from unicorn.arm64_const import UC_ARM64_REG_CPACR_EL1

        uc.reg_write(UC_ARM64_REG_CPACR_EL1, 3 << 20)
    return uc, cls


def _bare_uc(arch: str, program: str) -> tuple[Uc, int, type[GuestCpu]]:
    """The program's ELF in a bare Unicorn (same CPU setup, no kernel)."""
    uc, cpu = _plain_uc(arch)
    path = ROOT / "build" / arch / "bin" / program
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD":
                continue
            start = seg["p_vaddr"] & ~0xFFF
            end = (seg["p_vaddr"] + seg["p_memsz"] + 0xFFF) & ~0xFFF
            uc.mem_map(start, end - start)
            uc.mem_write(seg["p_vaddr"], seg.data())
        entry = elf["e_entry"]
    stack = 0x7F00_0000_0000
    uc.mem_map(stack - 0x100000, 0x100000)
    uc.mem_write(stack - 64, bytes(64))  # argc = 0, empty argv/envp/auxv
    uc.reg_write(cpu.SP_REG, stack - 64)
    return uc, entry, cpu


def bare_syscall_loop(arch: str, n: int) -> Callable[[], None]:
    """A call that runs a guest loop of `n` traps into a minimal Python hook (read one
    register, write one) in a bare Unicorn: the cost of a syscall without a kernel."""
    uc, cpu_cls = _plain_uc(arch)
    if arch == "x86_64":  # mov ecx, n; loop: mov eax, 39; int 0x80; dec ecx; jnz loop; hlt
        code = b"\xb9" + n.to_bytes(4, "little") + b"\xb8\x27\x00\x00\x00\xcd\x80\xff\xc9\x75\xf5"
    else:  # movz w1, n&0xffff; movk w1, n>>16; loop: mov x8, 39; svc 0; subs w1, w1, 1; b.ne
        words = [
            0x52800001 | ((n & 0xFFFF) << 5),
            0x72A00001 | ((n >> 16) << 5),
            0xD28004E8,
            0xD4000001,
            0x71000421,
            0x54FFFFA1,
        ]
        code = b"".join(w.to_bytes(4, "little") for w in words)
    base = 0x400000
    uc.mem_map(base, 0x1000)
    uc.mem_write(base, code)
    nr_reg, ret_reg = cpu_cls.SYSCALL_REGS[0], cpu_cls.RET_REG

    def hook(uc: Uc, _intno: int, _data: object) -> None:
        uc.reg_write(ret_reg, uc.reg_read(nr_reg))

    uc.hook_add(UC_HOOK_INTR, hook)
    return lambda: uc.emu_start(base, base + len(code))


def bare_run_seconds(arch: str, program: str, argv_n: int) -> float:
    """Run `program` in bare Unicorn to its exit syscall; argv is faked via a register-free
    convention: the program reads argc=0 and uses its default, so pass the same default."""
    uc, entry, cpu = _bare_uc(arch, program)
    nr_reg = cpu.SYSCALL_REGS[0]

    def hook(uc: Uc, _intno: int, _data: object) -> None:
        if uc.reg_read(nr_reg) == Sys.EXIT:
            uc.emu_stop()
        else:  # pretend every call succeeds completely (write returns its count)
            uc.reg_write(cpu.RET_REG, uc.reg_read(cpu.SYSCALL_REGS[3]))

    uc.hook_add(UC_HOOK_INTR, hook)
    start = time.perf_counter()
    uc.emu_start(entry, 0)
    return time.perf_counter() - start


# ----------------------------------------------------------------- sections


def _running(arch: str, append: str, events: Callable[[Machine], int], **options: Any) -> Machine:
    """A machine booted and run until its guest has done some of its events (so the
    samples start in the steady state, past boot and fork)."""
    machine = _machine(arch, append, **options)
    machine.run(stop_when=lambda: events(machine) > 200)
    return machine


def _syscalls(machine: Machine) -> int:
    return machine.kernel.trap.syscall_count


def _switches(machine: Machine) -> int:
    return machine.kernel.sched.switches


def _best_and_median(name: str, samples: Samples, scale: float, unit: str, arch: str) -> list[dict]:
    return [
        row(name, samples.best * scale, unit, arch),
        row(f"{name}, median", samples.median * scale, unit, arch),
    ]


def syscall_rows(arch: str) -> list[dict]:
    # Emulator chunks and bare-hook batches in turn: the ratio compares the two under
    # the same conditions, not one quiet moment against a busy one.
    machine = _running(arch, "init=/bin/b_syscalls 1000000000", _syscalls)
    chunks = MachineChunks(machine, lambda: _syscalls(machine), 1000)
    bare_loop = bare_syscall_loop(arch, 1000)
    ours_values: list[float] = []
    bare_values: list[float] = []
    sampling = Window(SAMPLES)
    while sampling.more():
        ours_values.append(chunks.sample())
        bare_values.extend(timed(bare_loop, 1, 1000, window=0).values)
    ours, bare = Samples(tuple(ours_values)), Samples(tuple(bare_values))
    with tempfile.TemporaryDirectory() as tmp:
        traced_machine = _running(
            arch, "init=/bin/b_syscalls 1000000000", _syscalls, trace=Path(tmp) / "trace.json"
        )
        traced = MachineChunks(traced_machine, lambda: _syscalls(traced_machine), 500).samples(
            SAMPLES // 2
        )
    return [
        *_best_and_median("syscall round trip (emulator)", ours, 1e6, "us", arch),
        row("syscall round trip with --trace (all categories)", traced.best * 1e6, "us", arch),
        row("syscall cost ratio --trace/untraced", traced.best / ours.best, "x", arch),
        row("syscall round trip (bare Unicorn hook)", bare.best * 1e6, "us", arch),
        row("syscall cost ratio emulator/bare (target <= 1)", ours.best / bare.best, "x", arch),
        row(
            "syscall cost ratio emulator/bare, median of the rounds",
            statistics.median(o / b for o, b in zip(ours.values, bare.values, strict=True)),
            "x",
            arch,
        ),
    ]


def boot_rows(arch: str) -> list[dict]:
    start = time.perf_counter()
    machine = _machine(arch, "init=/bin/t_hello")
    booted = time.perf_counter() - start
    machine.run(until_ns=10**9)
    total = time.perf_counter() - start
    return [
        row("boot to init started (wall)", booted * 1000, "ms", arch),
        row("power-on to power-off, t_hello (wall)", total * 1000, "ms", arch),
    ]


def instruction_rate_rows(arch: str) -> list[dict]:
    n = 3_000_000 if arch == "x86_64" else 6_000_000
    wall, machine = _run(arch, f"init=/bin/b_spin {n}")
    insns = machine.clock.instructions
    host_wall, _ = _run(arch, f"init=/bin/b_spin {n}", clock="host")
    bare = bare_run_seconds(arch, "b_spin", 0)  # default 10M iterations without argv
    bare_insns_per_s = insns * (10_000_000 / n) / bare
    ours = insns / wall
    ours_host = insns / host_wall
    return [
        row("guest MIPS, timer running (icount clock)", ours / 1e6, "M/s", arch),
        row("guest MIPS, timer running (host clock)", ours_host / 1e6, "M/s", arch),
        row("guest MIPS, bare Unicorn", bare_insns_per_s / 1e6, "M/s", arch),
        row("instruction rate ratio icount/bare", ours / bare_insns_per_s, "x", arch),
        row("instruction rate ratio host/bare", ours_host / bare_insns_per_s, "x", arch),
        row("timer ticks during the icount run", machine.kernel.ticks, "ticks", arch),
    ]


def switch_rows(arch: str) -> list[dict]:
    """Wall time per switch in chunks of one long ping-pong (boot, fork and power-off
    are outside the samples), and a whole short run divided by its switches."""
    machine = _running(arch, "init=/bin/b_pingpong 100000000", _switches)
    chunks = MachineChunks(machine, lambda: _switches(machine), 300)
    samples = chunks.samples(SAMPLES)
    wall, whole = _run(arch, "init=/bin/b_pingpong 2500")
    switches = whole.kernel.sched.switches
    return [
        *_best_and_median(
            "wall time per context switch (incl. 2 syscalls)", samples, 1e6, "us", arch
        ),
        row(
            f"whole run per context switch ({switches} switches, boot and fork included)",
            wall / switches * 1e6,
            "us",
            arch,
        ),
    ]


# A SYS_ENTER program that reads the payload (bounds-checked), as a tracer does.
_READS_NR = """
    ldxdw r2, [r1+0]
    ldxdw r3, [r1+8]
    mov r4, r2
    add r4, 8
    mov r0, 0
    jgt r4, r3, out
    ldxdw r5, [r2+0]
out:
    exit
"""


def fast_path_rows(arch: str) -> list[dict]:
    """The costs the fast paths target, measured inside one booted machine: an empty
    SYS_ENTER program on top of a syscall's entry, and one console line end to end
    (kernel console driver -> bus -> UART model -> memory backend)."""
    from types import SimpleNamespace

    from emulator.chardev import MemoryBackend
    from kernel.abi import AttachType
    from kernel.bpf.isa.asm import assemble_bytes

    backend = MemoryBackend()
    machine = Machine(MachineConfig(arch=arch, cmdline="init=/bin/t_hello"), backend)
    machine.boot()
    kernel, bpf = machine.kernel, machine.kernel.bpf
    proc = SimpleNamespace(syscalls=0)
    args = (1, 0x1000, 60, 0, 0, 0)

    def entry() -> None:
        kernel.trap.syscall_entry(proc, Sys.WRITE, args)

    empty = bpf.load(assemble_bytes("mov r0, 0\nexit"), "empty", AttachType.SYS_ENTER).id
    reads = bpf.load(assemble_bytes(_READS_NR), "reads_nr", AttachType.SYS_ENTER).id

    def attached(prog_id: int | None) -> Callable[[], Callable[[], None]]:
        def setup() -> Callable[[], None]:
            for other in (empty, reads):
                if other in bpf.attached[AttachType.SYS_ENTER]:
                    bpf.detach(AttachType.SYS_ENTER, other)
            if prog_id is not None:
                bpf.attach(AttachType.SYS_ENTER, prog_id)
            return entry

        return setup

    bare, hooked, reading = alternating(
        [attached(None), attached(empty), attached(reads)], 2000, SAMPLES
    )
    attached(None)()
    line = b"[INFO] kernel::bench: a console line of exactly sixty bytes\n"
    assert len(line) == 60
    before = len(backend)
    console = repeated(lambda: kernel.platform.console_write(line), 500, SAMPLES)
    assert len(backend) > before
    empty_best, empty_median = difference(hooked, bare)
    reads_best, reads_median = difference(reading, bare)
    return [
        row("empty SYS_ENTER program: overhead per syscall", empty_best * 1e6, "us", arch),
        row(
            "empty SYS_ENTER program: overhead per syscall, median of the rounds",
            empty_median * 1e6,
            "us",
            arch,
        ),
        row("SYS_ENTER program reading nr: overhead per syscall", reads_best * 1e6, "us", arch),
        *_best_and_median(
            "console line, 60 bytes, driver to memory backend", console, 1e6, "us", arch
        ),
    ]


def idle_rows(arch: str) -> list[dict]:
    wall, machine = _run(arch, "init=/bin/t_idle 20000")
    guest = machine.clock.now_ns() / 1e9
    return [
        row("idle-heavy run: guest seconds", guest, "s", arch),
        row("idle-heavy run: guest seconds per wall second", guest / wall, "x", arch),
    ]


def run() -> list[dict]:
    rows: list[dict] = []
    for arch in ARCHES:
        sections = (
            boot_rows,
            syscall_rows,
            instruction_rate_rows,
            switch_rows,
            fast_path_rows,
            idle_rows,
        )
        for section in sections:
            rows.extend(section(arch))
    return rows
