"""Pipes: a bounded byte buffer with blocking reads and writes."""

from __future__ import annotations

from kernel.abi import S_IFIFO, Errno, SyscallError
from kernel.fs.file import OpenFile, Stat
from kernel.waitq import WaitQueue, WouldBlock

PIPE_CAPACITY = 65536
PIPE_DEV = 4


class Pipe:
    """The shared buffer and the counts of open read and write ends."""

    def __init__(self, ino: int) -> None:
        self.buffer = bytearray()
        self.readers = 0
        self.writers = 0
        self.readable_q = WaitQueue()  # data arrived or the last writer left
        self.writable_q = WaitQueue()  # space appeared or the last reader left
        self.ino = ino
        # What `read_or_wait` returns when empty: made once, since it is only ever
        # returned, never raised (a raised exception object collects a traceback).
        self.empty = WouldBlock(self.readable_q)

    def stat(self) -> Stat:
        return Stat(dev=PIPE_DEV, ino=self.ino, mode=S_IFIFO | 0o600, size=len(self.buffer))


class PipeReadEnd(OpenFile):
    def __init__(self, pipe: Pipe) -> None:
        super().__init__(readable=True, writable=False)
        self.pipe = pipe
        pipe.readers += 1

    def read(self, size: int) -> bytes:
        data = self.read_or_wait(size)
        if type(data) is WouldBlock:
            raise WouldBlock(self.pipe.readable_q)  # (a new one: see `Pipe.empty`)
        return data  # type: ignore[return-value]

    def read_or_wait(self, size: int) -> bytes | WouldBlock:
        """`read`, with the WouldBlock returned, never raised: every blocking read of
        a ping-pong comes here."""
        pipe = self.pipe
        if not pipe.buffer:
            if pipe.writers == 0 or size == 0:
                return b""
            return pipe.empty
        buffer = pipe.buffer
        if size >= len(buffer):  # all of it (every ping-pong read): one copy, no slice
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:size])
            del buffer[:size]
        if pipe.writable_q.waiters:
            pipe.writable_q.wake_all()
        return data

    def stat(self) -> Stat:
        return self.pipe.stat()

    def seekable(self) -> bool:
        return False

    def release(self) -> None:
        self.pipe.readers -= 1
        if self.pipe.readers == 0:
            self.pipe.writable_q.wake_all()


class PipeWriteEnd(OpenFile):
    def __init__(self, pipe: Pipe) -> None:
        super().__init__(readable=False, writable=True)
        self.pipe = pipe
        pipe.writers += 1

    def write(self, data: bytes) -> int:
        pipe = self.pipe
        if pipe.readers == 0:
            raise SyscallError(Errno.EPIPE)
        room = PIPE_CAPACITY - len(pipe.buffer)
        if room <= 0 and data:
            raise WouldBlock(pipe.writable_q)
        chunk = data[:room]
        pipe.buffer += chunk
        if pipe.readable_q.waiters:
            pipe.readable_q.wake_all()
        return len(chunk)

    def stat(self) -> Stat:
        return self.pipe.stat()

    def seekable(self) -> bool:
        return False

    def release(self) -> None:
        self.pipe.writers -= 1
        if self.pipe.writers == 0:
            self.pipe.readable_q.wake_all()


def make_pipe(ino: int) -> tuple[PipeReadEnd, PipeWriteEnd]:
    """A new pipe; `ino` comes from the kernel so runs stay deterministic."""
    pipe = Pipe(ino)
    return PipeReadEnd(pipe), PipeWriteEnd(pipe)
