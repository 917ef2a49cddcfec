"""The real gdb-multiarch against `run-virt -S --gdb`, on both architectures.

One batch gdb session per scenario; each test asserts what gdb printed and that the
console is byte-identical to a run without gdb (gdb never changes what the guest
sees). Skipped when gdb-multiarch is absent (.ci/run installs it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator.config import ARCHES
from tests.gdb.harness import GDB, GdbSession, reference_run, run_gdb, source_line

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed")

T_GDB = "testprogs/t_gdb.c"
PC = {"x86_64": "rip", "aarch64": "pc"}


@pytest.fixture(scope="module", params=ARCHES)
def tour(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> GdbSession:
    """break main, registers, next, print, a watchpoint, a fork, bt in minilib, detach."""
    arch = request.param
    session = run_gdb(
        arch,
        "t_gdb",
        [
            "break main",
            "continue",
            f"info registers {PC[arch]}",
            "echo <next>\\n",
            "next",
            "next",
            "echo </next>\\n",
            "print steps",
            "watch counter",
            "continue",
            "delete",
            "break waitpid",
            "continue",
            "bt",
            "info threads",
            "detach",
        ],
        tmp_path_factory.mktemp("tour"),
    )
    session.arch = arch  # type: ignore[attr-defined]
    return session


def test_break_main_stops_there_with_pc_at_the_breakpoint(tour: GdbSession) -> None:
    out = tour.output
    bp = re.search(r"Breakpoint 1 at (0x[0-9a-f]+): file \S+/t_gdb\.c, line (\d+)\.", out)
    assert bp, out
    address, line = bp.group(1), bp.group(2)
    assert re.search(rf"\nBreakpoint 1, main \(\) at \S+/t_gdb\.c:{line}\n", out), out
    reg = PC[tour.arch]  # type: ignore[attr-defined]
    assert re.search(rf"\n{reg}\s+{address}\s+{address} <main\+\d+>\n", out), out


def test_next_steps_lines_of_main_and_print_shows_the_local(tour: GdbSession) -> None:
    steps = tour.output.split("<next>\n")[1].split("</next>")[0].splitlines()
    main_lines = range(source_line(T_GDB, "local"), source_line(T_GDB, "forked") + 3)
    numbers = [int(s.split("\t")[0]) for s in steps]
    assert len(numbers) == 2 and all(n in main_lines for n in numbers), steps
    assert "\n$1 = 3\n" in tour.output


def test_bt_from_minilib_reaches_main(tour: GdbSession) -> None:
    out = tour.output
    # (the argument list differs: AArch64's DWARF adds entry values)
    waitpid = r"waitpid \(pid=2, status=[^\n]*\) at \S+/minilib/syscall\.c:\d+"
    assert re.search(rf"\nThread 1 \"t_gdb\" hit Breakpoint 3, {waitpid}\n", out), out
    forked = source_line(T_GDB, "forked")
    assert re.search(
        rf"\n#0  {waitpid}\n#1  0x[0-9a-f]+ in main \(\) at \S+/t_gdb\.c:{forked}\n", out
    ), out


def test_watchpoint_on_a_global_fires_at_the_writing_line(tour: GdbSession) -> None:
    out = tour.output
    watch = source_line(T_GDB, "watch")
    assert "\nHardware watchpoint 2: counter\n" in out, out
    assert re.search(
        rf"\nHardware watchpoint 2: counter\n\nOld value = 0\nNew value = 1\n"
        rf"(0x[0-9a-f]+ in )?bump \(by=by@entry=1\) at \S+/t_gdb\.c:{watch}\n{watch}\t",
        out,
    ), out


def test_info_threads_lists_init_and_its_forked_child(tour: GdbSession) -> None:
    out = tour.output
    assert "[New Thread 2]" in out
    assert re.search(
        r'\n\* 1    Thread 1 "t_gdb" \(pid 1 t_gdb \(runnable\)\) waitpid \(pid=2, .*\n'
        r'  2    Thread 2 "t_gdb" \(pid 2 t_gdb \(runnable\)\) fork \(\) at '
        r"\S+/minilib/syscall\.c:\d+\n",
        out,
    ), out


def test_detach_runs_on_to_the_same_console_as_without_gdb(tour: GdbSession) -> None:
    assert "[Inferior 1 (Remote target) detached]" in tour.output
    console, status = reference_run(tour.arch, "t_gdb")  # type: ignore[attr-defined]
    assert tour.status == status == 0
    assert tour.console == console
    assert b"t_gdb: total 6, child status 7\n" in console.replace(b"\r\n", b"\n")


@pytest.mark.parametrize("arch", ARCHES)
def test_segfault_stops_gdb_with_sigsegv_at_the_faulting_line(arch: str, tmp_path: Path) -> None:
    session = run_gdb(arch, "t_segv", ["continue", "bt", "continue"], tmp_path)
    out = session.output
    assert re.search(
        r"\nProgram received signal SIGSEGV, Segmentation fault\.\n"
        r"main \(\) at \S+/t_segv\.c:12\n12\t    long v = \*\(volatile long \*\)0x8;\n",
        out,
    ), out
    # continuing delivers the signal: the kernel kills init, exactly as without gdb
    assert "[Inferior 1 (Remote target) exited with code 0213]" in out
    console, status = reference_run(arch, "t_segv")
    assert session.status == status == 139
    assert session.console == console


@pytest.mark.parametrize("arch", ARCHES)
def test_exec_is_reported_and_gdb_loads_the_new_program(arch: str, tmp_path: Path) -> None:
    session = run_gdb(
        arch,
        "t_exec",
        [f"set sysroot build/{arch}", "catch exec", "continue", "break main", "continue", "bt"],
        tmp_path,
    )
    out = session.output
    assert "executing new program: /bin/t_args" in out, out
    assert re.search(r"\nCatchpoint 1 \(exec'd /bin/t_args\), 0x[0-9a-f]+ in _start \(\)\n", out)
    assert re.search(
        r"\nBreakpoint 2, main \(argc=3, argv=0x[0-9a-f]+, envp=0x[0-9a-f]+\) at ", out
    )
    console, status = reference_run(arch, "t_exec")
    assert session.status == status == 3
    assert session.console == console


@pytest.mark.parametrize("arch", ARCHES)
def test_switching_thread_switches_address_space(arch: str, tmp_path: Path) -> None:
    """A breakpoint set with the child selected goes into the child's address space;
    the child's write to a global is seen in thread 2 and not in thread 1."""
    child = source_line(T_GDB, "child")
    session = run_gdb(
        arch,
        "t_gdb",
        [
            "break waitpid",
            "continue",
            "thread 2",
            f"break t_gdb.c:{child}",
            "continue",
            "print counter",
            "next",
            "print counter",
            "thread 1",
            "print counter",
            "detach",
        ],
        tmp_path,
    )
    out = session.output
    assert re.search(
        rf'\nThread 2 "t_gdb" hit Breakpoint 2, main \(\) at \S+/t_gdb\.c:{child}\n', out
    )
    assert "\n$1 = 6\n" in out and "\n$2 = 100\n" in out and "\n$3 = 6\n" in out, out
    assert "[Switching to thread 1 (Thread 1)]" in out
    console, status = reference_run(arch, "t_gdb")
    assert (session.console, session.status) == (console, status)


@pytest.mark.parametrize("arch", ARCHES)
def test_gdb_finds_the_program_from_the_stub_with_a_sysroot(arch: str, tmp_path: Path) -> None:
    """No file on gdb's command line: qXfer:exec-file names /bin/t_gdb, the sysroot maps
    it to build/<arch>/bin/t_gdb with its DWARF."""
    session = run_gdb(
        arch,
        "t_gdb",
        ["break main", "continue", "detach"],
        tmp_path,
        symbols=False,
        setup=(f"set sysroot build/{arch}",),
    )
    out = session.output
    assert f"Reading symbols from build/{arch}/bin/t_gdb..." in out, out
    assert re.search(r"\nBreakpoint 1, main \(\) at \S+/t_gdb\.c:\d+\n", out), out
    assert session.status == 0


@pytest.mark.parametrize("arch", ARCHES)
def test_gdb_quitting_at_a_breakpoint_leaves_the_machine_running(arch: str, tmp_path: Path) -> None:
    """gdb exits while it holds the machine at a breakpoint (batch mode detaches on
    the way out): the stub drops the client, and the run ends as without gdb."""
    session = run_gdb(arch, "t_gdb", ["break bump", "continue"], tmp_path)
    assert re.search(
        r"\nBreakpoint 1, bump \(by=(?:by@entry=)?1\) at \S+/t_gdb\.c:\d+\n", session.output
    ), session.output
    console, status = reference_run(arch, "t_gdb")
    assert (session.console, session.status) == (console, status)


@pytest.mark.parametrize("arch", ARCHES)
def test_without_file_or_sysroot_gdb_reads_the_program_from_the_image(
    arch: str, tmp_path: Path
) -> None:
    """Default sysroot `target:`: gdb fetches /bin/t_gdb over vFile (the image's stripped
    copy keeps its symbol table, so breakpoints on functions work)."""
    session = run_gdb(
        arch, "t_gdb", ["break main", "continue", "bt", "detach"], tmp_path, symbols=False
    )
    out = session.output
    assert "Reading symbols from target:/bin/t_gdb...\n" in out, out
    assert "(No debugging symbols found in target:/bin/t_gdb)" in out
    assert re.search(
        r"\nBreakpoint 1, 0x[0-9a-f]+ in main \(\)\n#0  0x[0-9a-f]+ in main \(\)\n", out
    )
    console, status = reference_run(arch, "t_gdb")
    assert (session.console, session.status) == (console, status)
