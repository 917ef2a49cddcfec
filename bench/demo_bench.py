"""The headline demo as a user meets it: wall time from starting `run-virt` to the
`Phase 1 BPF end-to-end: PROVEN` line, and timer ticks per wall second while the
bpf_loader program is attached (every tick runs the 27-instruction BPF program)."""

from __future__ import annotations

import subprocess
import sys
import time

from emulator.testing import boot

ARCHES = ("x86_64", "aarch64")
PROVEN = b"Phase 1 BPF end-to-end: PROVEN"


def row(name: str, value: float, unit: str, arch: str) -> dict:
    return {"name": name, "arch": arch, "value": round(value, 4), "unit": unit}


def seconds_to_proven(arch: str) -> float:
    """A fresh `python -m emulator` process (imports included) until PROVEN is printed."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--arch", arch], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    elapsed = None
    for line in proc.stdout:
        if PROVEN in line:
            elapsed = time.perf_counter() - start
    proc.wait(timeout=120)
    if elapsed is None:
        raise RuntimeError(f"{arch}: the default image never printed the PROVEN line")
    return elapsed


def ticks_per_wall_second(arch: str) -> tuple[float, int]:
    vm = boot(arch)
    vm.wait_for("[5/5] Entering event loop...")
    kernel = vm.machine.kernel
    ticks0, start = kernel.ticks, time.perf_counter()
    vm.wait_for("Phase 1 BPF end-to-end: PROVEN")
    ticks = kernel.ticks - ticks0
    return ticks / (time.perf_counter() - start), ticks


def run() -> list[dict]:
    rows = []
    for arch in ARCHES:
        rows.append(row("run-virt start to PROVEN line (wall)", seconds_to_proven(arch), "s", arch))
        rate, ticks = ticks_per_wall_second(arch)
        rows.append(
            row(
                f"timer ticks per wall second, bpf_loader attached ({ticks} ticks)",
                rate,
                "ticks/s",
                arch,
            )
        )
    return rows
