"""The modelled axiomOS kernel: boot, and the wiring of its parts.

The machine calls four entry points: `boot()`, `current_context()` (which CPU context
to run next), `after_slice()` (a slice stopped early: fault, exit, block, exec) and
`interrupt()` (the IRQ line is high). Everything else happens inside syscalls, which
arrive through `Trap.syscall` (kernel/trap.py) while the guest's slice is running;
processes are created and ended by the process table (kernel/proc.py). The kernel is
also what syscall handlers get, seen through `KernelView` (kernel/syscalls/view.py).
"""

from __future__ import annotations

import itertools
from typing import Any

from kernel.abi import Arch, SyscallError
from kernel.arch import PLATFORMS
from kernel.board import BoardPort
from kernel.bpf_attach.hooks import BpfHooks
from kernel.config import KernelConfig
from kernel.fs.devfs import make_devfs
from kernel.fs.ext2 import Ext2Error
from kernel.fs.rootfs import mount_ext2
from kernel.fs.tmpfs import TmpFs
from kernel.fs.vfs import Vfs
from kernel.klog import LOGLEVEL_NAMES, KernelLog
from kernel.mm import MemoryAccount
from kernel.proc import Process, ProcessTable
from kernel.sched import Scheduler
from kernel.syscalls.table import SYSCALLS
from kernel.tracer import KernelTracer
from kernel.trap import Trap

BASE_HEAP_BYTES = 256 * 1024  # allocator arenas, VFS, BPF tables at boot


class BootError(Exception):
    """The machine cannot start: bad root image or no usable init."""


class KernelPanic(Exception):
    """An internal error the kernel cannot recover from."""


# The size the modelled kernel reports as its image (`Kernel image:` in the boot
# metrics, `get_kernel_image_mb`). The model has no linked image, so this is a fixed,
# documented figure, not derived from anything on the host: the original's release
# kernel is a little over 1 MiB, and like the original the metric is whole MiB,
# rounded down.
MODEL_IMAGE_BYTES = 1536 << 10


class Kernel:
    """One instance per machine; no global state."""

    def __init__(self, board: BoardPort, config: KernelConfig) -> None:
        self.board = board
        self.config = config
        self.clock = board.clock
        self.arch = Arch(board.description.arch)
        self.platform = PLATFORMS[board.description.platform](board)
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
        self._pipe_inos = itertools.count(1)
        self._tracer = KernelTracer()  # the null tracer; the emulator may replace it
        self.sched = Scheduler(self._on_switch)
        self.hooks = BpfHooks()
        self.bpf: Any = None  # BpfSubsystem, set at boot
        self.image_mb = MODEL_IMAGE_BYTES >> 20
        self._vfs: Vfs | None = None
        self._exported_ringbuf: int | None = None
        self.powered_off = False
        self.panicked = False
        self.panic_message: str | None = None
        self.boot_to_init_ms = 0
        # (boot ms, heap KB, image MB) as printed in AXIOM KERNEL METRICS: the
        # AArch64 TIMER context carries this snapshot, as the original's BOOT_METRICS
        self.boot_metrics = (0, 0, 0)
        self.procs = ProcessTable(
            self.arch,
            config,
            self.account,
            self.sched,
            self.clock,
            self.log,
            new_cpu=self._new_cpu,
            charge_heap=self.charge_heap,
            inputs_until_ns=lambda: getattr(board, "inputs_until_ns", None),
            power_off=self._power_off,
        )
        self.trap = Trap(self, SYSCALLS, self.hooks)

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
        vfs = self._vfs = self.procs.vfs = Vfs(root)
        vfs.mount("/dev", devfs)
        for path in ("/var/tmp", "/tmp"):
            vfs.mount(path, TmpFs(self._now_s, self.charge_heap, self.account).root)
        mark("mounted")
        log.info("kernel", "starting init process...")
        argv = [self.config.init_path.encode(), *(a.encode() for a in self.config.init_args)]
        env = [e.encode() for e in self.config.init_env]
        try:
            init = self.procs.start_init(self.config.init_path, argv, env)
        except SyscallError as err:
            reason = f"{err.errno.name} ({err.detail})" if err.detail else err.errno.name
            raise BootError(f"cannot start init {self.config.init_path}: {reason}") from None
        log.info("kernel", f"started process pid={init.pid}")
        mark("init_started")

    # ------------------------------------------------------------------ wiring

    @property
    def tracer(self) -> KernelTracer:
        return self._tracer

    @tracer.setter
    def tracer(self, tracer: KernelTracer) -> None:
        """The emulator installs its tracer here; the trap path and the BPF registry
        keep their own copies (read on every trap and hook run)."""
        self._tracer = self.trap.tracer = tracer
        if self.bpf is not None:
            self.bpf.tracer = tracer

    def _new_cpu(self) -> Any:
        """A fresh CPU context whose traps enter `Trap.syscall`."""
        return self.board.new_context(self.trap.syscall)

    def _power_off(self) -> None:
        self.powered_off = True

    def _where(self) -> str:
        current = self.trap.current or self.sched.current
        return self.platform.where(0, current.pid if current else 0, self.percpu_ready)

    # Read by the emulator (monitor, gdb stub, --stats, run loop) and the BPF hooks.

    @property
    def init(self) -> Process | None:
        return self.procs.init

    @property
    def reaped(self) -> list[tuple[int, str, int | None, int, int]]:
        return self.procs.reaped

    @property
    def exit_status(self) -> int | None:
        return self.procs.exit_status

    @property
    def syscall_count(self) -> int:
        return self.trap.syscall_count

    @property
    def ticks(self) -> int:
        return self.trap.ticks

    @property
    def irq_latency_ns(self) -> int:
        return self.trap.irq_latency_ns

    @property
    def _in_trap(self) -> Process | None:
        return self.trap.current

    # ------------------------------------------------------------------ KernelView

    @property
    def vfs(self) -> Vfs:
        if self._vfs is None:
            raise KernelPanic("no root file system mounted yet")
        return self._vfs

    @property
    def exported_ringbuf(self) -> int | None:
        return self._exported_ringbuf

    def export_ringbuf(self, map_id: int) -> None:
        self._exported_ringbuf = map_id

    def clock_ns(self) -> int:
        return self.platform.clock_ns()

    def charge_heap(self, nbytes: int) -> None:
        self.heap_bytes += nbytes

    def _console_sink(self, data: bytes) -> int:
        self.platform.console_write(data)
        return len(data)

    def _now_s(self) -> int:
        return self.platform.clock_ns() // 1_000_000_000

    def next_pipe_ino(self) -> int:
        self.heap_bytes += 4096
        return next(self._pipe_inos)

    # ------------------------------------------------------------------ machine entry points

    def current_context(self) -> Any:
        proc = self.sched.pick()
        return proc.cpu if proc is not None else None

    def after_slice(self, cpu: Any, result: Any) -> None:
        self.trap.after_slice(cpu, result)

    def take_deferred_restart(self, cpu: Any) -> bool:
        return self.trap.take_deferred_restart(cpu)

    def rewind_to_trap(self, cpu: Any) -> None:
        self.trap.rewind_to_trap(cpu)

    def restart_syscall(self, cpu: Any) -> bool:
        return self.trap.restart_syscall(cpu)

    def interrupt(self) -> None:
        """IRQ entry (`Trap.interrupt`)."""
        self.trap.interrupt()

    def charge_cpu(self, cpu: Any, ns: int) -> None:
        """The machine ran `cpu` for `ns` of guest time: account it to its process."""
        proc: Process | None = getattr(cpu, "owner", None)
        if proc is not None:
            proc.cpu_ns += ns

    def _on_switch(self, prev: Process | None, nxt: Process) -> None:
        if self._tracer.sched:
            self._tracer.sched_switch(prev, nxt)
        if self.hooks.sched_switch_active:
            self.hooks.sched_switch(prev, nxt)

    def panic(self, message: str) -> None:
        if self.panicked:
            return
        self.log.log("ERROR", "kernel", f"KERNEL PANIC: {message}", force=True)
        self.panicked = True
        self.panic_message = message
