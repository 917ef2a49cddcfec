"""The boot sequence and log format of spec section 10, byte for byte."""

from __future__ import annotations

from emulator.testing import boot

INFO = "\x1b[1;94mINFO \x1b[0m"

COMMON_MIDDLE = [
    "Initializing BPF subsystem...",
    "BPF subsystem initialized",
    "Initializing VFS...",
    "VFS initialized",
    "Initializing IIO...",
    "IIO initialized",
    "Initializing multicore/scheduler...",
    "Multicore/scheduler initialized",
]
DEVICES = [
    "Initializing simulated devices...",
    "Initialized simulated IIO accelerometer (id=0)",
    "Simulated devices initialized",
    "kernel initialized",
]
METRICS = "\nAXIOM KERNEL METRICS\nBoot to init: 0 ms\nKernel heap: 256 KB\nKernel image: 1 MB\n\n"
TAIL = ["mounting root filesystem", "starting init process...", "started process pid=1"]


def _lines(where: str, messages: list[str]) -> str:
    return "".join(f"{INFO} {where} [kernel] {m}\n" for m in messages)


def expected_x86_boot() -> str:
    return (
        _lines("boot", ["Logging initialized", *COMMON_MIDDLE])
        + _lines("cpu0 pid  0", DEVICES)
        + METRICS
        + _lines("cpu0 pid  0", TAIL)
    )


def expected_aarch64_boot() -> str:
    return (
        "A\n=== axiom-ebpf on QEMU virt ===\n"
        + _lines(
            "boot",
            [
                "Logging initialized",
                "Platform initialized",
                "Initializing architecture...",
                "ARM interrupts initialized (timer=30)",
                "Architecture initialized",
                *COMMON_MIDDLE,
                *DEVICES,
            ],
        )
        + METRICS
        + _lines("boot", TAIL)
    )


def test_x86_64_boot_log_is_exact() -> None:
    vm = boot("x86_64", append="init=/bin/t_hello")
    vm.run_to_end()
    assert vm.raw.decode().startswith(expected_x86_boot())


def test_aarch64_boot_log_is_exact_with_crlf() -> None:
    vm = boot("aarch64", append="init=/bin/t_hello")
    vm.run_to_end()
    assert vm.raw.decode().startswith(expected_aarch64_boot().replace("\n", "\r\n"))
    assert "\n" not in vm.raw.decode().replace("\r\n", "")  # every newline went out as CRLF


def test_init_banner_and_hello_file(arch: str) -> None:
    vm = boot(arch, append="/bin/t_hello")
    assert vm.run_to_end() == 0
    program_output = vm.console.split("started process pid=1\n", 1)[1]
    assert program_output.startswith(
        "=== Axiom eBPF Init ===\n"
        "Hello, axiom-ebpf!\n"
        "Spawning /bin/t_hello...\n"
        "Spawned t_hello with PID: 2\n"
        "hello from a user program\n"
    )
    assert vm.lines[-1].endswith("[kernel] init exited with status 0; powering off")


def test_init_reports_failed_spawn(arch: str) -> None:
    vm = boot(arch, append="/bin/no_such_program")
    assert vm.run_to_end() == 1
    assert "Spawning /bin/no_such_program...\nFailed to spawn no_such_program, errno=43\n" in (
        vm.console
    )
