"""`--stats`: per-process and per-program tables printed when the run ends."""

from __future__ import annotations

from typing import Any

from emulator.monitor import inspect


def format_stats(kernel: Any) -> str:
    rows: list[tuple[Any, ...]] = [
        (pid, name, "exited" if code is not None else "killed", code, calls, cpu)
        for pid, name, code, calls, cpu in kernel.reaped
    ]
    for p in inspect.processes(kernel):
        proc = kernel.procs[p["pid"]]
        state = "exited" if p["state"] == "zombie" else p["state"]
        rows.append((p["pid"], p["name"], state, proc.exit_code, p["syscalls"], p["cpu_time_ns"]))
    rows.sort(key=lambda r: r[0])
    lines = [
        "",
        "processes:",
        f"{'PID':>5} {'NAME':<16} {'STATE':<9} {'EXIT':>5} {'SYSCALLS':>9} {'CPU_NS':>14}",
    ]
    for pid, name, state, code, calls, cpu in rows:
        exit_text = "-" if code is None else str(code)
        lines.append(f"{pid:>5} {name:<16} {state:<9} {exit_text:>5} {calls:>9} {cpu:>14}")
    lines += [
        "",
        "bpf programs:",
        f"{'ID':>4} {'NAME':<20} {'TYPE':<13} {'ATTACHED':<13} {'RUN_CNT':>8} "
        f"{'RUN_TIME_NS':>12} {'INSNS_RUN':>10} {'FAILED':>6}",
    ]
    progs = inspect.programs(kernel) if kernel.bpf is not None else []
    for p in progs:
        attached = ",".join(p["attached"]) or "-"  # type: ignore[arg-type]
        lines.append(
            f"{p['id']:>4} {p['name'] or '-'!s:<20} {p['type']!s:<13} {attached:<13} "
            f"{p['run_cnt']:>8} {p['run_time_ns']:>12} {p['insns_executed']:>10} "
            f"{p['run_failures']:>6}"
        )
    if not progs:
        lines.append("  (none loaded)")
    lines.append(
        f"\nguest time {kernel.clock.now_ns()} ns, {kernel.ticks} ticks, "
        f"{kernel.sched.switches} context switches, {kernel.syscall_count} syscalls"
    )
    return "\n".join(lines)
