"""Machine benchmarks: syscall round trip vs a bare Unicorn hook, boot time, guest
instruction rate vs bare Unicorn, context-switch cost, idle-heavy guest time rate.

Every ratio compares two measurements taken in the same run, because these machines
are noisy; absolute numbers are for orientation only.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from unicorn import UC_HOOK_INTR, Uc

from emulator.chardev import NullBackend
from emulator.config import MachineConfig
from emulator.cpu import CPU_CLASSES, GuestCpu
from emulator.machine import Machine
from kernel.abi import Sys

ROOT = Path(__file__).resolve().parent.parent
ARCHES = ("x86_64", "aarch64")


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


def bare_syscall_us(arch: str, n: int) -> float:
    """A guest loop of `n` traps into a minimal Python hook (read one register, write one)."""
    uc, cpu_cls = _plain_uc(arch)
    if arch == "x86_64":  # mov ecx, n; loop: mov eax, 39; int 0x80; dec ecx; jnz loop; hlt
        code = b"\xb9" + n.to_bytes(4, "little") + b"\xb8\x27\x00\x00\x00\xcd\x80\xff\xc9\x75\xf5"
        end_offset = len(code)
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
        end_offset = len(code)
    base = 0x400000
    uc.mem_map(base, 0x1000)
    uc.mem_write(base, code)
    nr_reg, ret_reg = cpu_cls.SYSCALL_REGS[0], cpu_cls.RET_REG

    def hook(uc: Uc, _intno: int, _data: object) -> None:
        uc.reg_write(ret_reg, uc.reg_read(nr_reg))

    uc.hook_add(UC_HOOK_INTR, hook)
    start = time.perf_counter()
    uc.emu_start(base, base + end_offset)
    return (time.perf_counter() - start) / n * 1e6


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


def syscall_rows(arch: str) -> list[dict]:
    n = 40_000
    # Emulator and bare hook alternately, best of three each: the ratio compares the
    # two under the same conditions, not one quiet moment against a busy one.
    ours = bare = float("inf")
    for _ in range(3):
        base, _ = _run(arch, "init=/bin/b_syscalls 0")
        full, _ = _run(arch, f"init=/bin/b_syscalls {n}")
        ours = min(ours, (full - base) / n * 1e6)
        bare = min(bare, bare_syscall_us(arch, n))
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.json"
        traced_base, _ = _run(arch, "init=/bin/b_syscalls 0", trace=trace)
        traced_full, _ = _run(arch, f"init=/bin/b_syscalls {n}", trace=trace)
    traced = (traced_full - traced_base) / n * 1e6
    return [
        row("syscall round trip (emulator)", ours, "us", arch),
        row("syscall round trip with --trace (all categories)", traced, "us", arch),
        row("syscall cost ratio --trace/untraced", traced / ours, "x", arch),
        row("syscall round trip (bare Unicorn hook)", bare, "us", arch),
        row("syscall cost ratio emulator/bare (target <= 2)", ours / bare, "x", arch),
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
    """Two ping-pong runs of different lengths, best of two each: the difference is
    what the extra switches cost, without boot, fork and power-off (about 15-20 ms,
    which the whole-run figure spreads over every switch)."""

    def best(n: int) -> tuple[float, int]:
        runs = [_run(arch, f"init=/bin/b_pingpong {n}") for _ in range(2)]
        return min(wall for wall, _ in runs), runs[0][1].kernel.sched.switches

    short_wall, short_switches = best(500)
    wall, switches = best(2500)
    marginal = (wall - short_wall) / (switches - short_switches)
    return [
        row("context switches (pipe ping-pong)", switches, "count", arch),
        row("wall time per context switch (incl. 2 syscalls)", marginal * 1e6, "us", arch),
        row(
            "whole run per context switch (boot and fork included)",
            wall / switches * 1e6,
            "us",
            arch,
        ),
    ]


def _per_call_us(fn: object, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


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
    kernel = machine.kernel
    proc = SimpleNamespace(syscalls=0)
    args = (1, 0x1000, 60, 0, 0, 0)

    def entry() -> None:
        kernel.trap.syscall_entry(proc, Sys.WRITE, args)

    n = 20_000
    bare = _per_call_us(entry, n)
    loaded = kernel.bpf.load(assemble_bytes("mov r0, 0\nexit"), "empty", AttachType.SYS_ENTER)
    kernel.bpf.attach(AttachType.SYS_ENTER, loaded.id)
    hooked = _per_call_us(entry, n)
    kernel.bpf.detach(AttachType.SYS_ENTER, loaded.id)
    loaded = kernel.bpf.load(assemble_bytes(_READS_NR), "reads_nr", AttachType.SYS_ENTER)
    kernel.bpf.attach(AttachType.SYS_ENTER, loaded.id)
    reading = _per_call_us(entry, n)
    kernel.bpf.detach(AttachType.SYS_ENTER, loaded.id)
    line = b"[INFO] kernel::bench: a console line of exactly sixty bytes\n"
    assert len(line) == 60
    before = len(backend)
    console = _per_call_us(lambda: kernel.platform.console_write(line), 5000)
    assert len(backend) > before
    return [
        row("empty SYS_ENTER program: overhead per syscall", hooked - bare, "us", arch),
        row("SYS_ENTER program reading nr: overhead per syscall", reading - bare, "us", arch),
        row("console line, 60 bytes, driver to memory backend", console, "us", arch),
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
