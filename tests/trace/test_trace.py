"""--trace on the bpf_loader demo, both architectures: the file is a valid Chrome
trace, its slices agree with the kernel's own counts and the guest's output, and
two runs give the same bytes."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from emulator.testing import BootedMachine, boot
from kernel.abi import BpfCmd
from tests.trace.chrome_format import validate


@cache
def traced_run(arch: str, path: Path) -> tuple[BootedMachine, bytes]:
    vm = boot(arch, append="/bin/bpf_loader", trace=path)
    assert vm.run_to_end(60) == 0
    return vm, path.read_bytes()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = {}
    for arch in ("x86_64", "aarch64"):
        base = tmp_path_factory.mktemp(arch)
        out[arch] = traced_run(arch, base / "trace.json")
    return out


def events(run: tuple[BootedMachine, bytes]) -> list[dict]:
    return validate(json.loads(run[1]))


def test_trace_is_a_valid_chrome_trace_with_named_tracks(arch: str, runs: dict) -> None:
    evs = events(runs[arch])
    names = {(e["pid"], e.get("tid"), e["args"]["name"]) for e in evs if e["ph"] == "M"}
    assert (1, 1, "pid 1 (init)") in names
    assert (2, 2, "pid 2 (bpf_loader)") in names
    assert (0, 0, "cpu0") in names
    assert (0, 101, "bpf TIMER") in names


def test_timer_program_slices_match_ticks_and_the_guest_counter(arch: str, runs: dict) -> None:
    vm, _ = runs[arch]
    evs = events(runs[arch])
    bpf_calls = [e for e in evs if e["ph"] == "X" and e["name"] == "bpf" and e["pid"] == 2]
    attach = next(e for e in bpf_calls if e["args"]["cmd"] == BpfCmd.PROG_ATTACH)
    detach = next(e for e in bpf_calls if e["args"]["cmd"] == BpfCmd.PROG_DETACH)
    ticks = [
        e["ts"]
        for e in evs
        if e["name"] == "timer interrupt" and attach["ts"] + attach["dur"] < e["ts"] < detach["ts"]
    ]
    slices = [e for e in evs if e.get("cat") == "bpf" and e["ph"] == "X"]
    final = int(re.search(r"Final map counter: (\d+)", vm.text)[1])
    assert len(slices) == len(ticks) == final == vm.machine.kernel.bpf.programs[0].runs
    assert [s["ts"] for s in slices] == ticks  # each run sits on its tick
    s = slices[0]
    assert s["name"] == "timer_counter" and s["tid"] == 101
    assert s["args"] == {
        "prog_id": 0,
        "name": "timer_counter",
        "insns": 27,
        "helpers": ["map_lookup_elem", "ringbuf_output", "trace_printk"],
        "ret": 0,
    }
    assert s["dur"] * 1000 == 27 * vm.machine.clock.ns_per_insn  # modelled cost


def test_every_syscall_slice_has_its_result(arch: str, runs: dict) -> None:
    vm, _ = runs[arch]
    evs = events(runs[arch])
    calls = [e for e in evs if e.get("cat") == "syscall"]
    waits = [e for e in evs if e["ph"] == "X" and e["name"] in ("blocked", "sleeping")]
    assert calls and all("result" in e["args"] for e in calls)
    for e in calls:
        result = e["args"]["result"]
        assert isinstance(result, int) or result in ("exited", "exec"), e
        if isinstance(result, int) and result < 0:
            assert e["args"]["errno"].startswith("E"), e
    # one slice per syscall: a call that blocked and restarted is one syscall (one wait)
    assert len(calls) == vm.machine.kernel.syscall_count
    assert sum(p.syscalls for p in vm.machine.kernel.procs.values()) <= len(calls)
    sleeps = [e for e in calls if e["name"] == "nanosleep" and e["pid"] == 2]
    assert sleeps and all(e["args"]["result"] == 0 for e in sleeps)
    assert all(w["name"] == "sleeping" for w in waits if w["args"]["syscall"] == "nanosleep")
    writes = [e for e in calls if e["name"] == "write" and e["pid"] == 2]
    assert all(e["args"]["result"] == e["args"]["count"] for e in writes)


def test_context_switches_match_the_scheduler(arch: str, runs: dict) -> None:
    vm, _ = runs[arch]
    evs = events(runs[arch])
    switches = [e for e in evs if e["name"] == "sched_switch"]
    assert len(switches) == vm.machine.kernel.sched.switches > 0
    assert switches[0]["args"] == {"prev_pid": 0, "next_pid": 1}
    cpu = [e for e in evs if e["ph"] == "X" and e["pid"] == 0 and e["tid"] == 0]
    assert {e["name"] for e in cpu} == {"pid 1 (init)", "pid 2 (bpf_loader)", "idle"}


def test_counters_ringbuf_fill_and_memory(arch: str, runs: dict) -> None:
    evs = events(runs[arch])
    fill = [e["args"]["bytes"] for e in evs if e["ph"] == "C" and e["name"] == "ringbuf 1 fill"]
    assert fill[0] == 0 and max(fill) >= 16 and all(v % 16 == 0 for v in fill)
    memory = [e for e in evs if e["ph"] == "C" and e["name"] == "memory" and e["pid"] == 2]
    assert memory and memory[0]["args"]["bytes"] > 0


def test_two_runs_give_byte_identical_traces(arch: str, runs: dict, tmp_path: Path) -> None:
    vm = boot(arch, append="/bin/bpf_loader", trace=tmp_path / "again.json")
    assert vm.run_to_end(60) == 0
    assert (tmp_path / "again.json").read_bytes() == runs[arch][1]


def test_trace_events_selects_categories(tmp_path: Path) -> None:
    vm = boot("x86_64", append="/bin/bpf_loader", trace=tmp_path / "t.json", trace_events=("bpf",))
    assert vm.run_to_end(60) == 0
    evs = validate(json.loads((tmp_path / "t.json").read_text()))
    assert {e["cat"] for e in evs if e["ph"] != "M"} == {"bpf"}


def test_every_tick_and_iio_sample_is_an_instant(arch: str, runs: dict) -> None:
    vm, _ = runs[arch]
    evs = events(runs[arch])
    ticks = [e for e in evs if e["name"] == "timer interrupt"]
    samples = [e for e in evs if e["name"] == "iio sample"]
    kernel = vm.machine.kernel
    assert len(ticks) == kernel.ticks
    assert len(samples) == kernel.hooks.iio_samples > 0
    assert {e["args"]["device"] for e in samples} == {0}
    assert all(e["args"]["timestamp"] == int(e["ts"] * 1000) for e in samples)


def test_tracing_and_logging_change_nothing_the_guest_sees(arch: str, tmp_path: Path) -> None:
    plain = boot(arch, append="/bin/bpf_loader")
    assert plain.run_to_end(60) == 0
    traced = boot(
        arch,
        append="/bin/bpf_loader",
        trace=tmp_path / "t.json",
        log_items=("syscall", "sched", "irq", "bpf", "mem", "guest_errors", "in_asm"),
        log_file=tmp_path / "d.log",
    )
    assert traced.run_to_end(60) == 0
    assert traced.raw == plain.raw
    assert traced.machine.clock.now_ns() == plain.machine.clock.now_ns()
    assert traced.machine.clock.instructions == plain.machine.clock.instructions
