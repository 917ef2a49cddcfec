"""Unknown syscalls, bad pointers and CPU faults: errno values and console lines."""

from __future__ import annotations

import re

from emulator.testing import boot

T_ERRORS = (
    "nosys: -51\n"
    "efault write: -20\n"
    "efault open: -20\n"
    "efault read: -20\n"
    "efault clock_gettime: -20\n"
    "eof: 0\n"
    "enoent open: -43\n"
    "ebadf close: -8\n"
    "einval malloc: -27\n"
    "enoent spawn: -43\n"
    "t_errors: done\n"
)


def test_unknown_syscall_and_bad_pointers(arch: str) -> None:
    vm = boot(arch, append="/bin/t_errors")
    assert vm.run_to_end() == 0
    out = vm.program_output("t_errors")
    warn = [line for line in vm.log if line.level == "WARN"]
    assert [w.message for w in warn] == [
        "unknown syscall 99 from pid 2 (t_errors): returning -ENOSYS"
    ]
    assert warn[0].module == "kernel::syscall"
    assert re.sub(r".*WARN.*\n", "", out) == T_ERRORS


FAULTS = {
    ("x86_64", "t_segv"): (
        139,
        r"process 2 \(t_segv\) killed: page fault reading unmapped address 0x8 "
        r"at pc 0x[0-9a-f]+ \(mov \w+, qword ptr \[8\]\)",
    ),
    ("aarch64", "t_segv"): (
        139,
        r"process 2 \(t_segv\) killed: page fault reading unmapped address 0x8 "
        r"at pc 0x[0-9a-f]+ \(ldr x\d+, \[x\d+\]\)",
    ),
    ("x86_64", "t_illegal"): (
        132,
        r"process 2 \(t_illegal\) killed: illegal instruction at pc 0x[0-9a-f]+ \(ud2\)",
    ),
    ("aarch64", "t_illegal"): (
        132,
        r"process 2 \(t_illegal\) killed: illegal instruction at pc 0x[0-9a-f]+ \(udf #0\)",
    ),
}


def test_faults_kill_only_the_process(arch: str) -> None:
    for program in ("t_segv", "t_illegal"):
        status, pattern = FAULTS[(arch, program)]
        vm = boot(arch, append=f"/bin/{program}")
        assert vm.run_to_end() == status  # init exits with the child's status
        errors = [line for line in vm.log if line.level == "ERROR"]
        assert len(errors) == 1 and errors[0].module == "kernel::trap"
        assert re.fullmatch(pattern, errors[0].message), errors[0].message
        assert "before " in vm.console


def test_fault_pc_points_into_the_program(arch: str) -> None:
    vm = boot(arch, append="/bin/t_segv")
    vm.run_to_end()
    pc = int(re.search(r"at pc (0x[0-9a-f]+)", vm.console)[1], 16)
    base = {"x86_64": 0x200000, "aarch64": 0x1_0000_0000}[arch]
    assert base <= pc < base + 0x100000
