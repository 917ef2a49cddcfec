"""Processes, scheduling, pipes, waitpid, limits: through real guest programs."""

from __future__ import annotations

from typing import Any

from emulator.testing import boot


def run(arch: str, program: str, **options: Any) -> tuple[int, str]:
    vm = boot(arch, append=f"/bin/{program}", **options)
    status = vm.run_to_end()
    return status, vm.program_output(program)


def test_sleepers_interleave_in_guest_time_order(arch: str) -> None:
    # A prints every 10 ms, B every 15 ms, both starting at once: A's wake-ups at 0, 10,
    # 20, 30, 40 ms and B's at 0, 15, 30, 45, 60 ms; at the 30 ms tie A slept first.
    status, out = run(arch, "t_sleepers")
    assert status == 0
    assert out.split("\n") == [
        "A 0",
        "B 0",
        "A 1",
        "B 1",
        "A 2",
        "A 3",
        "B 2",
        "A 4",
        "B 3",
        "B 4",
        "sleepers done",
        "",
    ]


def test_cpu_hog_does_not_starve_a_sleeper(arch: str) -> None:
    vm = boot(arch, append="/bin/t_cpuhog")
    assert vm.run_to_end(timeout=5) == 0
    out = vm.program_output("t_cpuhog")
    assert out == "".join(f"sleeper {i}\n" for i in range(5)) + "sleeper finished\n"
    assert vm.machine.kernel.ticks >= 5 * 20 * vm.machine.kernel.platform.tick_hz // 1000


def test_pipe_between_parent_and_child_carries_data_intact(arch: str) -> None:
    status, out = run(arch, "t_pipe")
    assert status == 0
    # checksum of the 64 KiB pattern, computed independently:
    data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(65536))
    assert f"bytes={len(data)}" in out
    assert out.endswith("pipe: child exited 0\n")


def test_waitpid_statuses(arch: str) -> None:
    status, out = run(arch, "t_wait")
    assert status == 0
    assert out == (
        "exit(0): status=0x0000 code=0\n"
        "exit(7): status=0x0700 code=7\n"
        "exit(255): status=0xff00 code=255\n"
        "abort(): status=0x8600 code=134\n"
        "wnohang before exit: 0\n"
        "exit(3) after 50 ms: status=0x0300 code=3\n"
        "t_wait: done\n"
    )


def test_fork_bomb_gets_eagain_and_the_machine_keeps_running(arch: str) -> None:
    # 64 processes at most: init, the bomb's parent and 62 children.
    status, out = run(arch, "t_forkbomb")
    assert status == 0
    assert out == "fork failed: -6 after 62 children\nreaped 62\n"


def test_out_of_memory_gets_enomem_and_recovers(arch: str) -> None:
    status, out = run(arch, "t_oom", memory=64 << 20)
    assert status == 0
    failed, recovered = out.splitlines()
    assert failed.startswith("malloc failed: -47 after ")
    mib = int(failed.split("after ")[1].split()[0])
    assert 50 <= mib < 64  # the rest of the 64 MiB holds init, the program and stacks
    assert recovered == "recovered: OK"


def test_execve_passes_argv_and_envp(arch: str) -> None:
    status, out = run(arch, "t_exec")
    assert status == 3
    assert out == (
        "execve missing: -43\n"
        "execing /bin/t_args\n"
        "argc=3\nargv[0]=t_args\nargv[1]=one\nargv[2]=two\nenvp[0]=MODE=exec\n"
        "t_args: done\n"
    )


def test_init_passes_command_line_words_to_the_program(arch: str) -> None:
    vm = boot(arch, append="init=/bin/t_args alpha beta MODE=x")
    assert vm.run_to_end() == 3
    assert "argc=3\nargv[0]=/bin/t_args\nargv[1]=alpha\nargv[2]=beta\nenvp[0]=MODE=x\n" in (
        vm.console
    )


def test_devices_and_standard_descriptors(arch: str) -> None:
    status, out = run(arch, "t_dev")
    assert status == 0
    assert out == (
        "via /dev/serial\n/dev/null write: 5\n/dev/null read: 0\nstdin read: 0\n"
        "stderr: OK\nt_dev: done\n"
    )


def test_anonymous_mmap(arch: str) -> None:
    status, out = run(arch, "t_mmap")
    assert status == 0
    assert out == "mmap: OK\nmmap len 0: -27\nt_mmap: done\n"


def test_code_rewritten_after_it_ran_runs_as_rewritten(arch: str) -> None:
    # by the guest's own stores, then by the kernel (a pipe read into the code)
    status, out = run(arch, "t_smc")
    assert status == 0
    assert out == "call 1: 5\ncall 2: 6\ncall 3: 7\nt_smc: done\n"
