"""A hostile guest cannot hurt the host: each line is one former panic, hang or
unbounded host allocation, now an errno the README's "Limits" section documents."""

from __future__ import annotations

import re

from emulator.testing import boot
from kernel.abi import Errno


def _e(name: str) -> int:
    return -int(Errno[name])


MiB = 1 << 20

T_HOSTILE = (
    "sys_exit attached: 1\n"
    "tmpfs open: 0\n"
    # lseek past the tmpfs file size limit (1 GiB) is refused, as Linux past s_maxbytes
    f"tmpfs lseek 2^40: {_e('EINVAL')}\n"
    f"tmpfs lseek 2^32: {_e('EINVAL')}\n"
    "tmpfs lseek 1G: 1073741824\n"
    f"tmpfs write past 1G: {_e('EFBIG')}\n"
    # 200 MiB of file (its highest byte) does not fit the 128 MiB budget
    f"tmpfs write at 200M: {_e('ENOMEM')}\n"
    "tmpfs write at 1M: 1\n"
    f"tmpfs size: {MiB + 1}\n"
    "malloc after refused writes: ok\n"
    "lseek 2^63-1: 1\n"
    f"lseek +1 past 2^63-1: {_e('EINVAL')}\n"
    f"debug set 2^63: {_e('EINVAL')}\n"
    f"debug set 2^32: {_e('EINVAL')}\n"
    "debug set 7: 0\n"
    "debug get: 7\n"
    f"elf p_offset 2^64-1: {_e('ENOEXEC')}\n"
    f"elf p_memsz 2^40: {_e('ENOMEM')}\n"
    f"elf e_phoff 2^64-1: {_e('ENOEXEC')}\n"
    f"elf p_filesz 2^62: {_e('ENOEXEC')}\n"
    f"elf vaddr+memsz wraps: {_e('ENOEXEC')}\n"
    f"mmap fixed 200M over malloc: {_e('ENOMEM')}\n"
    "old memory intact: 1\n"
    "free old block: 0\n"
    f"malloc 16 bytes until refused: {_e('ENOMEM')} after more than 1000: 1\n"
    "malloc after freeing: ok\n"
    f"writev 1024 x 1M: {MiB}\n"
    f"writev bad second pointer: {_e('EFAULT')}\n"
    "pin prog: 0\n"
    "get prog pin: id=0 kind=2\n"
    "prog info: 24 id=0 kind=2 attach_type=6 insn_cnt=2 attached=0x40 ran=1\n"
    f"pin bad kind: {_e('EINVAL')}\n"
    "array 2^26 x 1: created\n"
    "array last element: 1\n"
    "map info: 24 kind=1 type=2 key=4 value=1 max=67108864\n"
    "pin map: 0\n"
    "get map pin: same=1 kind=1\n"
    f"second 64M array: {_e('ENOMEM')}\n"
    f"64M ringbuf: {_e('ENOMEM')}\n"
    f"1M x 1M hash: {_e('ENOMEM')}\n"
    "t_hostile: done\n"
)


def test_hostile_guest_gets_errnos_not_panics(arch: str) -> None:
    vm = boot(arch, append="/bin/t_hostile")
    assert vm.run_to_end(timeout=20) == 0
    out = re.sub(r"^\S*(INFO|WARN) .*\n", "", vm.program_output("t_hostile"), flags=re.M)
    assert out == T_HOSTILE
    kernel = vm.machine.kernel
    assert not kernel.panicked
    # everything the guest made the kernel keep is charged: the 64 MiB map, at least
    assert kernel.account.used >= 64 * MiB
    assert kernel.bpf.pins["hostile/exit"].kind == 2
    assert kernel.bpf.pins["hostile/big"].kind == 1


def test_a_restarted_syscall_fires_sys_enter_and_the_trace_once(arch: str) -> None:
    vm = boot(arch, append="/bin/t_hostile restart", trace_syscalls=True)
    assert vm.run_to_end(timeout=20) == 0
    assert "restart: enter-exit grew by 0 over 3 blocking sleeps\n" in vm.console
    assert len(re.findall(r"syscall: SYS_NANOSLEEP \(55\)", vm.console)) == 3
    # the counter agrees with the trace: one per syscall, restarts not counted
    assert vm.machine.kernel.syscall_count == len(re.findall(r"\] syscall: SYS_", vm.console))


def test_jump_to_address_zero_faults_with_the_host_clock(arch: str) -> None:
    vm = boot(arch, append="/bin/t_hostile jump0", clock="host")
    assert vm.run_to_end(timeout=5) == 139
    assert re.search(
        r"process 2 \(t_hostile\) killed: page fault executing unmapped address 0x0 at pc 0x0",
        vm.console,
    )
    assert "survived" not in vm.console


def test_init_passes_its_extra_words_on(arch: str) -> None:
    vm = boot(arch, append="/bin/t_args a 'b c'")
    assert vm.run_to_end() == 3
    assert "argc=3\nargv[0]=/bin/t_args\nargv[1]=a\nargv[2]=b c\n" in vm.program_output("t_args")


def test_init_reports_a_failed_exec_of_a_program_with_arguments(arch: str) -> None:
    vm = boot(arch, append="/bin/missing x")
    assert vm.run_to_end() == 1
    assert f"Failed to spawn missing, errno={int(Errno.ENOENT)}\n" in vm.console
