"""The libbpf-style example: syscount.bpf.c (BTF maps, sys_enter + timer programs,
bpf_printk with values) loaded by a skeleton-based loader, on both architectures."""

from __future__ import annotations

from emulator.testing import boot

EXPECTED = """\
[syscount] loaded: maps counts=0 summary=1 ctl=2, programs count_enter=0 report=1
[syscount] attached: count_enter -> sys_enter, report -> timer
[syscount] workload: 3 clock_gettime, 2 getcwd, open/read/close /var/hello.txt
[syscount] workload: read 19 bytes
[syscount] summary: top=54 (clock_gettime) n=3, 7 syscalls, 12 calls
NR  SYSCALL        COUNT
54  clock_gettime      3
35  getcwd             2
36  read               2
37  write              2
3   open               1
40  close              1
50  bpf                1
[syscount] detached
"""


def test_syscount_exact_output(arch: str) -> None:
    vm = boot(arch, append="/bin/syscount")
    assert vm.run_to_end(timeout=20) == 0
    out = vm.user_output
    marker = "Spawned syscount with PID: 2\n"
    assert out[out.index(marker) + len(marker) :] == EXPECTED
    # the timer program's bpf_printk("top=%d n=%llu", ...), once, as a kernel INFO line
    printk = [line for line in vm.console.splitlines() if "[BPF]" in line]
    assert len(printk) == 1 and printk[0].endswith("[kernel::bpf::helpers] [BPF] top=54 n=3")
    pins = vm.machine.kernel.bpf.pins
    assert {k: v for k, v in pins.items() if k.startswith("syscount/")} == {
        "syscount/counts": 0,
        "syscount/summary": 1,
        "syscount/ctl": 2,
        "syscount/.rodata": 3,
        "syscount/prog/count_enter": 0,
        "syscount/prog/report": 1,
    }
    counts = vm.machine.kernel.bpf.maps.get(0)
    assert (counts.map_type, counts.key_size, counts.value_size, counts.max_entries) == (
        1,
        4,
        8,
        64,
    )
