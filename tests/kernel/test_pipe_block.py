"""A read of an empty pipe waits: `read` raises WouldBlock (a new one each time, so
no traceback piles up on a shared object), `read_or_wait` returns the pipe's one
WouldBlock for the trap to block on; both name the queue a writer wakes."""

from __future__ import annotations

from kernel.fs.pipe import make_pipe
from kernel.waitq import WouldBlock


def test_empty_pipe_read_waits_on_the_readable_queue() -> None:
    reader, writer = make_pipe(7)
    first = second = None
    try:
        reader.read(1)
    except WouldBlock as wait:
        first = wait
    try:
        reader.read(1)
    except WouldBlock as wait:
        second = wait
    assert first is not None and second is not None and first is not second
    assert first.queue is second.queue is reader.pipe.readable_q
    returned = reader.read_or_wait(1)
    assert type(returned) is WouldBlock and returned.queue is reader.pipe.readable_q
    assert reader.read_or_wait(1) is returned
    assert returned.__traceback__ is None  # returned, never raised


def test_write_wakes_the_waiter_and_the_read_gets_the_bytes() -> None:
    reader, writer = make_pipe(8)
    woken: list[str] = []
    wait = reader.read_or_wait(4)
    assert type(wait) is WouldBlock
    wait.queue.waiters.append(lambda: woken.append("reader"))
    assert writer.write(b"ab") == 2
    assert woken == ["reader"] and wait.queue.waiters == []
    assert reader.read_or_wait(4) == b"ab"
    assert reader.read(0) == b""  # empty again, but a zero-byte read never waits
    writer.release()
    assert reader.read_or_wait(1) == b""  # no writer left: end of file
