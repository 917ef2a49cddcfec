"""Wait queues: how a blocked process learns that it may retry its syscall."""

from __future__ import annotations

from collections.abc import Callable


class WaitQueue:
    """Callbacks to run when the awaited condition may have changed."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        # Read-only outside this class: hot paths test `if queue.waiters:` to skip a
        # call to `wake_all` when nobody waits (most pipe reads and writes).
        self.waiters: list[Callable[[], None]] = []

    def add(self, wake: Callable[[], None]) -> None:
        self.waiters.append(wake)

    def wake_all(self) -> None:
        waiters, self.waiters = self.waiters, []
        for wake in waiters:
            wake()


class WouldBlock(Exception):
    """Raised by an operation that must wait; the syscall is restarted after a wake-up."""

    def __init__(self, queue: WaitQueue) -> None:
        # No super().__init__: every blocking read raises one, and `str()` is below.
        self.queue = queue

    def __str__(self) -> str:
        return "would block"
