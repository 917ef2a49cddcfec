"""The modelled axiomOS kernel: boot, trap and IRQ entry, process lifecycle.

The machine calls four entry points: `boot()`, `current_context()` (which CPU context
to run next), `after_slice()` (a slice stopped early: fault, exit, block, exec) and
`interrupt()` (the IRQ line is high). Everything else happens inside syscalls, which
arrive through `_trap` while the guest's slice is running.
"""

from __future__ import annotations

import itertools
import posixpath
from pathlib import Path
from typing import Any

from kernel.abi import USER_ALLOC_BASE, USER_EXEC_ALLOC_BASE, Arch, Errno, Sys, SyscallError
from kernel.arch import PLATFORMS
from kernel.bpf_attach.hooks import BpfHooks
from kernel.config import KernelConfig
from kernel.elfload import build_process, parse_executable
from kernel.fs.devfs import make_devfs
from kernel.fs.ext2 import Ext2Error
from kernel.fs.rootfs import mount_ext2
from kernel.fs.tmpfs import TmpFs
from kernel.fs.vfs import Vfs
from kernel.klog import LOGLEVEL_NAMES, KernelLog
from kernel.mm import AddressSpace, MemoryAccount
from kernel.proc import FdTable, Process, State
from kernel.sched import Scheduler
from kernel.syscalls import HANDLERS
from kernel.tracer import KernelTracer
from kernel.waitq import WaitQueue, WouldBlock

FAULT_EXIT = {"ILLEGAL_INSTRUCTION": 132, "DIVIDE_ERROR": 136, "BREAKPOINT": 133}
SEGV_EXIT = 139
PROCESS_KERNEL_BYTES = 16 * 1024  # PCB + kernel stack, for the heap figure
BASE_HEAP_BYTES = 256 * 1024  # allocator arenas, VFS, BPF tables at boot
INPUT_GRACE_NS = 100_000_000  # stay on this long after the last scheduled input
MAX_REAPED_RECORDS = 4096  # exited processes remembered for the end-of-run statistics
MAX_EXEC_BYTES = 64 << 20  # largest executable file spawn/execve will read


class BootError(Exception):
    """The machine cannot start: bad root image or no usable init."""


class KernelPanic(Exception):
    """An internal error the kernel cannot recover from."""


def _kernel_image_mb() -> int:
    """Size of the kernel model's code, the nearest thing it has to an image."""
    total = sum(p.stat().st_size for p in Path(__file__).parent.rglob("*.py"))
    return max(1, -(-total // (1 << 20)))


class Kernel:
    """One instance per machine; no global state."""

    def __init__(self, board: Any, config: KernelConfig) -> None:
        self.board = board
        self.config = config
        self.clock = board.clock
        self.arch = Arch(board.arch)
        self.platform = PLATFORMS[getattr(board, "platform", "") or board.arch](board)
        self.log = KernelLog(self.platform.console_write)
        self.log.where = self._where
        self.log.max_level = (
            self.platform.default_log_level
            if config.loglevel is None
            else LOGLEVEL_NAMES[config.loglevel]
        )
        self.percpu_ready = False
        self.account = MemoryAccount(config.memory)
        self.heap_bytes = BASE_HEAP_BYTES
        self.procs: dict[int, Process] = {}
        self._pids = itertools.count(1)
        self._pipe_inos = itertools.count(1)
        self.sched = Scheduler(self._on_switch)
        self.hooks = BpfHooks()
        self.bpf: Any = None  # BpfSubsystem, set at boot
        self.irq_latency_ns = 0
        self.image_mb = _kernel_image_mb()
        self.vfs: Vfs | None = None
        self.ticks = 0
        self.syscall_count = 0
        self.exported_ringbuf: int | None = None
        self.powered_off = False
        self.panicked = False
        self.panic_message: str | None = None
        self.exit_status: int | None = None
        self.boot_to_init_ms = 0
        # (boot ms, heap KB, image MB) as printed in AXIOM KERNEL METRICS: the
        # AArch64 TIMER context carries this snapshot, as the original's BOOT_METRICS
        self.boot_metrics = (0, 0, 0)
        self._in_trap: Process | None = None
        self._handlers = HANDLERS
        self.init: Process | None = None
        self.tracer = KernelTracer()  # the null tracer; the emulator may replace it
        self.reaped: list[tuple[int, str, int | None, int, int]] = []  # for --stats

    # ------------------------------------------------------------------ boot

    def boot(self) -> None:
        log, platform = self.log, self.platform
        mark = platform.mark
        platform.early_boot(log)
        log.info("kernel", "Logging initialized")
        if self.arch is Arch.AARCH64:
            if platform.announces_platform:
                log.info("kernel", "Platform initialized")
            mark("arch")
            log.info("kernel", "Initializing architecture...")
            platform.init_interrupts(log)
            mark("arch_done")
            log.info("kernel", "Architecture initialized")
        mark("bpf")
        log.info("kernel", "Initializing BPF subsystem...")
        self.hooks.init_bpf(self)
        mark("bpf_done")
        log.info("kernel", "BPF subsystem initialized")
        log.info("kernel", "Initializing VFS...")
        devfs = make_devfs(self._console_sink)
        mark("vfs_done")
        log.info("kernel", "VFS initialized")
        log.info("kernel", "Initializing IIO...")
        mark("iio_done")
        log.info("kernel", "IIO initialized")
        log.info("kernel", "Initializing multicore/scheduler...")
        if self.arch is Arch.X86_64:
            platform.init_interrupts(log)
        mark("sched_done")
        log.info("kernel", "Multicore/scheduler initialized")
        self.percpu_ready = True
        log.info("kernel", "Initializing simulated devices...")
        self.hooks.init_devices(self)
        if platform.iio_base is not None:
            log.info("kernel", "Initialized simulated IIO accelerometer (id=0)")
        mark("devices_done")
        log.info("kernel", "Simulated devices initialized")
        log.info("kernel", "kernel initialized")
        self.boot_to_init_ms = platform.clock_ns() // 1_000_000
        self.boot_metrics = (self.boot_to_init_ms, self.heap_bytes // 1024, self.image_mb)
        log.raw(
            "\nAXIOM KERNEL METRICS\n"
            f"Boot to init: {self.boot_metrics[0]} ms\n"
            f"Kernel heap: {self.boot_metrics[1]} KB\n"
            f"Kernel image: {self.boot_metrics[2]} MB\n\n"
        )
        mark("main")
        mark("mount")
        log.info("kernel", "mounting root filesystem")
        try:
            root = mount_ext2(self.board.block, self.clock.add_ns)
        except Ext2Error as err:
            raise BootError(f"cannot mount root file system: {err}") from None
        self.vfs = Vfs(root)
        self.vfs.mount("/dev", devfs)
        for path in ("/var/tmp", "/tmp"):
            self.vfs.mount(path, TmpFs(self._now_s, self._charge_heap, self.account).root)
        mark("mounted")
        log.info("kernel", "starting init process...")
        argv = [self.config.init_path.encode(), *(a.encode() for a in self.config.init_args)]
        env = [e.encode() for e in self.config.init_env]
        try:
            self.init = self.spawn(self.config.init_path, argv, env, parent=None)
        except SyscallError as err:
            reason = f"{err.errno.name} ({err.detail})" if err.detail else err.errno.name
            raise BootError(f"cannot start init {self.config.init_path}: {reason}") from None
        log.info("kernel", f"started process pid={self.init.pid}")
        mark("init_started")

    # ------------------------------------------------------------------ helpers

    def _where(self) -> str:
        current = self._in_trap or self.sched.current
        return self.platform.where(0, current.pid if current else 0, self.percpu_ready)

    def _console_sink(self, data: bytes) -> int:
        self.platform.console_write(data)
        return len(data)

    def _now_s(self) -> int:
        return self.platform.clock_ns() // 1_000_000_000

    def _charge_heap(self, delta: int) -> None:
        self.heap_bytes += delta

    def next_pipe_ino(self) -> int:
        self.heap_bytes += 4096
        return next(self._pipe_inos)

    # ------------------------------------------------------------------ processes

    def _load(self, path: str, cwd: str) -> tuple[Any, str]:
        assert self.vfs is not None
        node = self.vfs.resolve(path, cwd)
        if node.is_dir:
            raise SyscallError(Errno.EACCES, f"{path} is a directory")
        size = node.stat().size
        if size > MAX_EXEC_BYTES:  # checked before reading: i_size may be corrupt
            raise SyscallError(Errno.ENOEXEC, f"{path}: {size} bytes > {MAX_EXEC_BYTES}")
        file = node.open(True, False, False, False)
        try:
            data = file.read(size)
        finally:
            file.release()
        if not data:
            raise SyscallError(Errno.ENOEXEC, f"{path} is empty or not a regular file")
        name = posixpath.basename(path)
        return parse_executable(data, self.arch.value, name), name

    def _new_context(
        self, image: Any, argv: list[bytes], envp: list[bytes], *, spawned: bool
    ) -> tuple[Any, Any]:
        """A CPU context and address space laid out as the original's loader does:
        spawn keeps a copy of the ELF file in user memory, execve does not and
        starts a new allocator (elfload module doc, USER_EXEC_ALLOC_BASE)."""
        cpu = self.board.new_context(self._trap)
        base = (USER_ALLOC_BASE if spawned else USER_EXEC_ALLOC_BASE)[self.arch]
        mm = AddressSpace(cpu, self.account, base)
        try:
            start = build_process(image, mm, argv, envp, keep_file=spawned)
        except SyscallError:
            mm.release_all()
            raise
        cpu.pc = image.entry
        cpu.sp = start.sp
        if start.thread_pointer:
            cpu.set_thread_pointer(start.thread_pointer)
        return cpu, mm

    def _check_process_limit(self) -> None:
        if len(self.procs) >= self.config.max_processes:
            raise SyscallError(Errno.EAGAIN, "process limit reached")

    def spawn(
        self, path: str, argv: list[bytes], envp: list[bytes], parent: Process | None
    ) -> Process:
        self._check_process_limit()
        image, name = self._load(path, parent.cwd if parent else "/")
        cpu, mm = self._new_context(image, argv, envp, spawned=True)
        fds = FdTable()
        assert self.vfs is not None
        fds.install(self.vfs.resolve("/dev/null").open(True, True, False, False))
        serial = self.vfs.resolve("/dev/serial").open(True, True, False, False)
        fds.install(serial)
        fds.dup2(1, 2)
        cwd = parent.cwd if parent else "/"
        proc = self._register(name, cpu, mm, fds, parent, cwd)
        proc.exe_path = posixpath.normpath(posixpath.join(cwd, path))
        return proc

    def _register(
        self, name: str, cpu: Any, mm: AddressSpace, fds: FdTable, parent: Process | None, cwd: str
    ) -> Process:
        proc = Process(next(self._pids), parent, name, cpu, mm, fds, cwd)
        cpu.owner = proc
        self.procs[proc.pid] = proc
        if parent is not None:
            parent.children.append(proc)
        self.heap_bytes += PROCESS_KERNEL_BYTES
        self.sched.add(proc)
        return proc

    def fork(self, parent: Process) -> Process:
        self._check_process_limit()
        cpu = self.board.new_context(self._trap)
        mm = parent.mm.clone_into(cpu)
        cpu.restore_context(parent.cpu.save_context())
        cpu.set_return(0)
        child = self._register(parent.name, cpu, mm, parent.fds.clone(), parent, parent.cwd)
        child.heap_blocks = dict(parent.heap_blocks)
        child.exe_path = parent.exe_path
        return child

    def execve(self, proc: Process, path: str, argv: list[bytes], envp: list[bytes]) -> None:
        image, name = self._load(path, proc.cwd)
        cpu, mm = self._new_context(image, argv, envp, spawned=False)
        old_cpu = proc.cpu
        proc.mm.release_all()
        proc.retired_cpus.append(old_cpu)
        old_cpu.request_stop()
        cpu.owner = proc
        proc.cpu, proc.mm, proc.name = cpu, mm, name
        proc.exe_path = posixpath.normpath(posixpath.join(proc.cwd, path))
        proc.heap_blocks = {}
        proc.fds.close_on_exec()

    def terminate(self, proc: Process, code: int) -> None:
        """Exit (or kill) a process: release it, wake its parent, maybe power off."""
        if proc.state is State.ZOMBIE:
            return
        proc.exit_code = code
        proc.fds.close_all()
        proc.mm.release_all()
        self.sched.remove(proc)
        proc.state = State.ZOMBIE
        proc.retired_cpus.append(proc.cpu)
        if self._in_trap is proc:
            proc.cpu.request_stop()
        for child in proc.children:
            child.parent = self.init if self.init is not proc else None
            if child.parent is not None:
                self.init.children.append(child)  # type: ignore[union-attr]
        proc.children = []
        if proc is self.init:
            self._init_exited(code)
            return
        if proc.parent is not None:
            proc.parent.child_exited.wake_all()
        else:
            self.reap(proc)

    def _init_exited(self, code: int) -> None:
        """Power off (deviation 11) -- after any inputs scheduled from outside (GPIO
        events), so that programs left attached by init's children still see them."""
        self.exit_status = code
        until = getattr(self.board, "inputs_until_ns", None)
        if until is None or until < self.clock.now_ns():
            self._power_off(code)
            return
        timer = self.clock.timer(lambda _deadline: self._power_off(code))
        timer.arm(until + INPUT_GRACE_NS)

    def _power_off(self, code: int) -> None:
        self.log.info("kernel", f"init exited with status {code}; powering off")
        self.powered_off = True

    def reap(self, proc: Process) -> None:
        self.procs.pop(proc.pid, None)
        if len(self.reaped) < MAX_REAPED_RECORDS:
            self.reaped.append((proc.pid, proc.name, proc.exit_code, proc.syscalls, proc.cpu_ns))
        if proc.parent is not None and proc in proc.parent.children:
            proc.parent.children.remove(proc)
        self.heap_bytes -= PROCESS_KERNEL_BYTES
        self._free_contexts(proc)

    @staticmethod
    def _free_contexts(proc: Process) -> None:
        for cpu in proc.retired_cpus:
            cpu.close()
        proc.retired_cpus.clear()

    def sleep_until(self, proc: Process, deadline_ns: int) -> None:
        """Block `proc` until guest time `deadline_ns` (raises WouldBlock)."""
        queue = WaitQueue()
        timer = self.clock.timer(lambda _deadline: queue.wake_all())
        timer.arm(deadline_ns)
        raise WouldBlock(queue)

    # ------------------------------------------------------------------ trap entry

    def _trap(self, cpu: Any, nr: int, args: tuple[int, ...]) -> int | None:
        proc: Process = cpu.owner
        self._in_trap = proc
        hooks, tracer = self.hooks, self.tracer
        if tracer.syscalls:  # every trap, restarts included: the tracer tells them apart
            tracer.syscall_enter(proc, nr, args)
        if proc.resuming_syscall:  # re-executing a call that blocked: not a new syscall
            proc.resuming_syscall = False
        else:
            self._syscall_entry(proc, nr, args)
        handler = self._handlers.get(nr)
        try:
            if handler is None:
                self.log.warn(
                    "kernel::syscall",
                    f"unknown syscall {nr} from pid {proc.pid} ({proc.name}): returning -ENOSYS",
                )
                result: int | None = -Errno.ENOSYS
            else:
                result = handler(self, proc, *args)
        except SyscallError as err:
            result = -err.errno
        except WouldBlock as wait:
            self._block(proc, wait.queue)
            result = None
        except Exception as exc:  # a bug in the model: stop cleanly, never crash the host
            self.panic(f"internal error in syscall {nr}: {type(exc).__name__}: {exc}")
            cpu.request_stop()
            result = None
        if hooks.sys_exit_active and result is not None:
            hooks.sys_exit(nr, result)
        if tracer.syscalls:
            tracer.syscall_exit(proc, nr, result)
        self._in_trap = None
        return result

    def _syscall_entry(self, proc: Process, nr: int, args: tuple[int, ...]) -> None:
        """Once per syscall, at its top: the counters, the trace line, SYS_ENTER."""
        self.syscall_count += 1
        proc.syscalls += 1
        if self.config.trace_syscalls:
            self._trace(nr, args)
        if self.hooks.sys_enter_active:
            self.hooks.sys_enter(nr, args)

    def _trace(self, nr: int, args: tuple[int, ...]) -> None:
        try:
            name = f"SYS_{Sys(nr).name}"
        except ValueError:
            name = "SYS_UNKNOWN"
        text = " ".join(str(a & 0xFFFF_FFFF_FFFF_FFFF) for a in args)  # decimal, as the original
        self.log.info("kernel::syscall", f"syscall: {name} ({nr}) {text}")

    def _block(self, proc: Process, queue: WaitQueue) -> None:
        proc.restart_syscall = True
        self.sched.block(proc)
        if self.tracer.sched:
            self.tracer.sched_block(proc)
        queue.add(lambda: self._wake(proc))
        proc.cpu.request_stop()

    def _wake(self, proc: Process) -> None:
        if self.tracer.sched and proc.state is State.BLOCKED:
            self.tracer.sched_wake(proc)
        self.sched.wake(proc)

    # ------------------------------------------------------------------ machine entry points

    def current_context(self) -> Any:
        proc = self.sched.pick()
        return proc.cpu if proc is not None else None

    def after_slice(self, cpu: Any, result: Any) -> None:
        proc: Process | None = getattr(cpu, "owner", None)
        if proc is None:
            return
        if result.fault is not None and proc.state is not State.ZOMBIE and proc.cpu is cpu:
            code = FAULT_EXIT.get(result.fault.kind.name, SEGV_EXIT)
            message = f"process {proc.pid} ({proc.name}) killed: {result.fault.describe()}"
            self.log.error("kernel::trap", message)
            if self.tracer.faults:
                self.tracer.guest_fault(proc, message)
            self.terminate(proc, code)
        if proc.restart_syscall:
            proc.restart_syscall = False
            proc.resuming_syscall = True
            proc.restart_deferred = True  # see `take_deferred_restart`
        if proc.state is not State.ZOMBIE:
            self._free_contexts(proc)  # contexts execve replaced (zombies: freed at reap)

    # A process woken from a blocking syscall has to issue it again. Re-executing the
    # trap instruction costs a whole CPU entry and trap (most of a context switch);
    # its only effect is the trap itself, since the registers still hold the call.
    # So the machine, when nothing watches instructions, re-issues the call here
    # instead (`restart_syscall`, after charging that one instruction), or else
    # rewinds the PC onto the trap (`rewind_to_trap`). Guest-visible state and time
    # are the same either way.

    def take_deferred_restart(self, cpu: Any) -> bool:
        """True (once) if `cpu`'s process must re-issue the syscall it blocked in."""
        proc: Process | None = getattr(cpu, "owner", None)
        if proc is None or not proc.restart_deferred:
            return False
        proc.restart_deferred = False
        return True

    def rewind_to_trap(self, cpu: Any) -> None:
        """Put the PC back on the trap instruction: the CPU re-executes the call."""
        cpu.pc = cpu.pc - self.platform.trap_insn_len

    def restart_syscall(self, cpu: Any) -> bool:
        """Re-issue the blocked syscall as its trap would; True if the process runs on
        (False: it blocked again, exited or otherwise asked to stop)."""
        nr, args = cpu.syscall_args()
        cpu.clear_stop_request()
        result = self._trap(cpu, nr, args)
        if result is not None:
            cpu.set_return(result)
        return not cpu.stop_requested

    def interrupt(self) -> None:
        """IRQ entry: acknowledge, handle, EOI; the tick runs hooks and preempts."""
        irq = self.platform.take_irq()
        if irq is None:
            return
        if self.tracer.irq:
            self.tracer.interrupt(irq, self.platform.is_timer_irq(irq))
        if self.platform.is_timer_irq(irq):
            self.ticks += 1
            self.irq_latency_ns = self.platform.timer_irq_latency_ns()
            self.hooks.timer_tick(self)
            self.platform.end_irq(irq)
            self.sched.preempt()
        else:
            self.hooks.device_irq(self, irq)
            self.platform.end_irq(irq)

    def charge_cpu(self, cpu: Any, ns: int) -> None:
        """The machine ran `cpu` for `ns` of guest time: account it to its process."""
        proc: Process | None = getattr(cpu, "owner", None)
        if proc is not None:
            proc.cpu_ns += ns

    def _on_switch(self, prev: Process | None, nxt: Process) -> None:
        if self.tracer.sched:
            self.tracer.sched_switch(prev, nxt)
        if self.hooks.sched_switch_active:
            self.hooks.sched_switch(prev, nxt)

    def panic(self, message: str) -> None:
        if self.panicked:
            return
        self.log.log("ERROR", "kernel", f"KERNEL PANIC: {message}", force=True)
        self.panicked = True
        self.panic_message = message
