"""The original's demos, ported to C, with their exact console output."""

from __future__ import annotations

import pytest

from emulator.testing import boot

DEMOS = {
    "syscall_demo": (
        "=== Syscall Demo ===\n"
        "malloc: OK\n"
        "writev: three iovecs in one call\n"
        "writev: OK\n"
        "free: OK\n"
        "pipe: OK\n"
        "dup: OK\n"
        "dup2: OK\n"
        "clock_gettime: OK\n"
        "getcwd: OK (/)\n"
        "All tests passed. Exiting successfully.\n"
    ),
    "file_io_demo": (
        "=== File I/O Demo ===\n"
        "fstat: OK (size=19)\n"
        "read: OK (Hello, axiom-ebpf!)\n"
        "lseek: OK\n"
        "create+write: OK\n"
        "read back: OK\n"
        "append: OK\n"
        "read-only root: OK (-69)\n"
        "mkdir: OK\n"
        "chdir+getcwd: OK (/var/tmp/demo_dir)\n"
        "rmdir: OK\n"
        "file_io_demo: all checks passed\n"
    ),
    "fork_test": (
        "=== Fork Test ===\n"
        "[child] fork returned 0\n"
        "[child] inherited value 1, writing 2\n"
        "[parent] forked child pid=3\n"
        "[parent] child exited with status 42\n"
        "[parent] address space isolated: OK\n"
        "fork_test: PASSED\n"
    ),
}


def program_output(console: str, name: str) -> str:
    """What the program printed: between init's `Spawned` line and power-off."""
    after = console.split(f"Spawned {name} with PID: 2\n", 1)[1]
    return after.rsplit("\x1b[1;94mINFO", 1)[0]


@pytest.mark.parametrize("demo", sorted(DEMOS))
def test_demo_output_is_exact(arch: str, demo: str) -> None:
    vm = boot(arch, append=f"/bin/{demo}")
    assert vm.run_to_end() == 0
    assert vm.program_output(demo) == DEMOS[demo]
