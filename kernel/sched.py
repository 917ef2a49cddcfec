"""Round-robin preemptive scheduler: the tick moves the running process to the back."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from kernel.proc import Process, State

# The members the hot path compares against, read as module globals: on Python 3.11
# every `Enum.MEMBER` read goes through `EnumType.__getattr__`'s slow attribute hook
# (several hundred host instructions; a context switch made about ten of them).
_BLOCKED, _RUNNABLE = State.BLOCKED, State.RUNNABLE


class Scheduler:
    """Runnable queue plus the current process."""

    def __init__(self, on_switch: Callable[[Process | None, Process], None]) -> None:
        self.queue: deque[Process] = deque()
        self.current: Process | None = None
        self.last: Process | None = None  # the process that ran most recently
        self.on_switch = on_switch
        self.switches = 0

    def add(self, proc: Process) -> None:
        proc.state = _RUNNABLE
        self.queue.append(proc)

    def wake(self, proc: Process) -> None:
        if proc.state is _BLOCKED:  # `add`, inlined: every pipe hand-off wakes
            proc.state = _RUNNABLE
            self.queue.append(proc)

    def block(self, proc: Process) -> None:
        proc.state = _BLOCKED
        if self.current is proc:  # the usual case (a running process blocks): no `_leave`
            self.current = None
        else:
            self._leave(proc)

    def remove(self, proc: Process) -> None:
        self._leave(proc)

    def _leave(self, proc: Process) -> None:
        if self.current is proc:
            self.current = None
        else:
            try:
                self.queue.remove(proc)
            except ValueError:
                pass

    def preempt(self) -> None:
        """Timer tick: the running process goes to the back of the queue."""
        if self.current is not None and self.queue:
            self.queue.append(self.current)
            self.current = None

    def pick(self) -> Process | None:
        if self.current is None and self.queue:
            nxt = self.queue.popleft()
            if nxt is not self.last:
                on_switch = self.on_switch  # (an attribute, not a method: load, then call)
                on_switch(self.last, nxt)
                self.switches += 1
            self.current = self.last = nxt
        return self.current
