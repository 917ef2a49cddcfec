"""Wait queues: how a blocked process learns that it may retry its syscall."""

from __future__ import annotations

from collections.abc import Callable


class WaitQueue:
    """Callbacks to run when the awaited condition may have changed."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        # Hot paths read it directly: `if queue.waiters:` skips a call to `wake_all`
        # when nobody waits (most pipe reads and writes), and the trap path appends
        # to it as `add` does (every block). Nothing else touches it.
        self.waiters: list[Callable[[], None]] = []

    def add(self, wake: Callable[[], None]) -> None:
        self.waiters.append(wake)

    def wake_all(self) -> None:
        waiters, self.waiters = self.waiters, []
        for wake in waiters:
            wake()


class WouldBlock(Exception):
    """Raised by an operation that must wait; the syscall is restarted after a wake-up."""

    # No __init__ of its own: every blocking read raises one, and the base class's
    # (which keeps the queue in `args`) is C, not a Python frame.
    args: tuple[WaitQueue]

    @property
    def queue(self) -> WaitQueue:
        return self.args[0]

    def __str__(self) -> str:
        return "would block"
