"""The one way into the kernel from a running guest, as xv6's usertrap(): a syscall
(the CPU adapter has decoded `nr, a1..a6` from the registers), a fault (the slice
ended on one), or an interrupt (the IRQ line is high).

Syscall entry, in this order: the tracer sees every trap (restarts included; it tells
them apart), then -- once per syscall, not again when a blocked call is re-issued --
the counters, the `trace_syscalls` line and SYS_ENTER programs; then the handler from
the one table; then SYS_EXIT programs (if there is a result) and the tracer.

A handler that must wait raises `WouldBlock`: the process blocks, and when it is
woken the same call is issued again (`resuming_syscall`), either by the machine
re-executing the trap instruction or by `restart_syscall` here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from kernel.abi import Errno, Sys, SyscallError
from kernel.proc import Process, State, free_contexts
from kernel.waitq import WaitQueue, WouldBlock

if TYPE_CHECKING:
    from kernel.kernel import Kernel
    from kernel.syscalls.view import Handler
    from kernel.tracer import KernelTracer

FAULT_EXIT = {"ILLEGAL_INSTRUCTION": 132, "DIVIDE_ERROR": 136, "BREAKPOINT": 133}
SEGV_EXIT = 139
# The members the hot path compares against, read as module globals: on Python 3.11
# every `Enum.MEMBER` read goes through `EnumType.__getattr__`'s slow attribute hook
# (several hundred host instructions; a context switch made about ten of them).
_BLOCKED, _RUNNABLE, _ZOMBIE = State.BLOCKED, State.RUNNABLE, State.ZOMBIE


class TrapHooks(Protocol):
    """The BPF attach points the trap path runs (the one seam to the attachments);
    the `*_active` flags keep an unused hook at one attribute test."""

    sys_enter_active: bool
    sys_exit_active: bool

    def sys_enter(self, nr: int, args: tuple[int, ...]) -> None: ...

    def sys_exit(self, nr: int, result: int) -> None: ...

    def timer_tick(self, kernel: Any) -> None: ...

    def device_irq(self, kernel: Any, irq: int) -> None: ...


class Trap:
    """Syscall, fault and IRQ entry for one kernel."""

    def __init__(self, kernel: Kernel, table: Mapping[int, Handler], hooks: TrapHooks) -> None:
        self.kernel = kernel  # what handlers get, seen through `KernelView`
        self.table = {int(nr): handler for nr, handler in table.items()}  # plain dict: hot
        self.hooks = hooks
        self.tracer: KernelTracer = kernel.tracer  # kept in step by `Kernel.tracer`
        self.log = kernel.log
        self.platform = kernel.platform
        self.sched = kernel.sched
        self.procs = kernel.procs
        self.config = kernel.config
        self.current: Process | None = None  # the process inside a syscall, if any
        self.syscall_count = 0
        self.ticks = 0
        self.irq_latency_ns = 0

    # ------------------------------------------------------------------ syscalls

    def syscall(self, cpu: Any, nr: int, args: tuple[int, ...]) -> int | None:
        """The CPU's trap handler: the value to write back, or None (blocked, exited,
        exec'd: nothing to write). Runs on every trap, so the once-per-syscall work
        is inlined and the hooks are looked up once."""
        proc: Process = cpu.owner
        self.current = proc
        hooks, tracer = self.hooks, self.tracer
        if tracer.syscalls:  # every trap, restarts included: the tracer tells them apart
            tracer.syscall_enter(proc, nr, args)
        if proc.resuming_syscall:  # re-executing a call that blocked: not a new syscall
            proc.resuming_syscall = False
        else:  # `syscall_entry`, inlined
            self.syscall_count += 1
            proc.syscalls += 1
            if self.config.trace_syscalls:
                self._trace_line(nr, args)
            if hooks.sys_enter_active:
                hooks.sys_enter(nr, args)
        handler = self.table.get(nr)
        try:
            if handler is None:
                self.log.warn(
                    "kernel::syscall",
                    f"unknown syscall {nr} from pid {proc.pid} ({proc.name}): returning -ENOSYS",
                )
                result: int | None = -Errno.ENOSYS
            else:
                # (positionally, not `*args`: no list and tuple built on every call)
                a1, a2, a3, a4, a5, a6 = args
                result = handler(self.kernel, proc, a1, a2, a3, a4, a5, a6)
        except SyscallError as err:
            result = -err.errno
        except WouldBlock as wait:
            self._block(proc, wait.args[0])  # `wait.queue`, without the property call
            result = None
        except Exception as exc:  # a bug in the model: stop cleanly, never crash the host
            self.kernel.panic(f"internal error in syscall {nr}: {type(exc).__name__}: {exc}")
            cpu.request_stop()
            result = None
        # (a handler may return its WouldBlock rather than raise it: as above; the
        # handlers' type says int, for the many that never wait)
        if type(result) is WouldBlock:  # type: ignore[comparison-overlap]
            self._block(proc, result.args[0])
            result = None
        if hooks.sys_exit_active and result is not None:
            hooks.sys_exit(nr, result)
        if tracer.syscalls:
            tracer.syscall_exit(proc, nr, result)
        self.current = None
        return result

    def syscall_entry(self, proc: Any, nr: int, args: tuple[int, ...]) -> None:
        """Once per syscall, at its top: the counters, the trace line, SYS_ENTER
        (`syscall` inlines this; keep the two in step)."""
        self.syscall_count += 1
        proc.syscalls += 1
        if self.config.trace_syscalls:
            self._trace_line(nr, args)
        if self.hooks.sys_enter_active:
            self.hooks.sys_enter(nr, args)

    def _trace_line(self, nr: int, args: tuple[int, ...]) -> None:
        try:
            name = f"SYS_{Sys(nr).name}"
        except ValueError:
            name = "SYS_UNKNOWN"
        text = " ".join(str(a & 0xFFFF_FFFF_FFFF_FFFF) for a in args)  # decimal, as the original
        self.log.info("kernel::syscall", f"syscall: {name} ({nr}) {text}")

    # ------------------------------------------------------------------ blocking and restart

    def _block(self, proc: Process, queue: WaitQueue) -> None:
        proc.restart_syscall = True
        self.sched.block(proc)
        if self.tracer.sched:
            self.tracer.sched_block(proc)
        waker = proc.waker
        if waker is None:  # a partial: no lambda frame at wake
            waker = proc.waker = functools.partial(self._wake, proc)
        queue.waiters.append(waker)  # `queue.add`, inlined
        proc.cpu.request_stop()

    def _wake(self, proc: Process) -> None:
        if proc.state is _BLOCKED:
            if self.tracer.sched:
                self.tracer.sched_wake(proc)
            # `Scheduler.wake`, inlined (the state was just tested): every hand-off
            proc.state = _RUNNABLE
            self.sched.queue.append(proc)

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
        (False: it blocked again, exited or otherwise asked to stop). The CPU delivers
        the trap to `syscall` again from the registers that still hold the call."""
        return bool(cpu.reissue_trap())

    # ------------------------------------------------------------------ end of a slice

    def after_slice(self, cpu: Any, result: Any) -> None:
        """A slice stopped early: kill the process on a fault, arm a blocked call's
        restart, free the contexts execve replaced."""
        proc: Process | None = cpu.owner
        if proc is None:
            return
        if result.fault is not None and proc.state is not _ZOMBIE and proc.cpu is cpu:
            self._fault(proc, result.fault)
        if proc.restart_syscall:
            proc.restart_syscall = False
            proc.resuming_syscall = True
            proc.restart_deferred = True  # see `take_deferred_restart`
        if proc.retired_cpus and proc.state is not _ZOMBIE:
            free_contexts(proc)  # contexts execve replaced (zombies: freed at reap)

    def _fault(self, proc: Process, fault: Any) -> None:
        """A guest fault kills the process with the signal's shell status."""
        code = FAULT_EXIT.get(fault.kind.name, SEGV_EXIT)
        message = f"process {proc.pid} ({proc.name}) killed: {fault.describe()}"
        self.log.error("kernel::trap", message)
        if self.tracer.faults:
            self.tracer.guest_fault(proc, message)
        self.procs.terminate(proc, code)

    # ------------------------------------------------------------------ interrupts

    def interrupt(self) -> None:
        """IRQ entry: acknowledge, handle, EOI; the tick runs hooks and preempts."""
        platform = self.platform
        irq = platform.take_irq()
        if irq is None:
            return
        if self.tracer.irq:
            self.tracer.interrupt(irq, platform.is_timer_irq(irq))
        if platform.is_timer_irq(irq):
            self.ticks += 1
            self.irq_latency_ns = platform.timer_irq_latency_ns()
            self.hooks.timer_tick(self.kernel)
            platform.end_irq(irq)
            self.sched.preempt()
        else:
            self.hooks.device_irq(self.kernel, irq)
            platform.end_irq(irq)
