"""devfs at /dev: serial, null, stdin (null), stdout, stderr, and an empty fd/."""

from __future__ import annotations

from collections.abc import Callable

from kernel.abi import S_IFCHR, S_IFDIR, Errno, SyscallError
from kernel.fs.file import DictDir, Node, OpenFile, Stat

DEVFS_DEV = 3


class ConsoleFile(OpenFile):
    """The serial console: writes go to the UART; reads see end of input."""

    def __init__(self, node: CharDevice, readable: bool, writable: bool) -> None:
        super().__init__(readable, writable)
        self.node = node

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise SyscallError(Errno.EBADF)
        return b""

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise SyscallError(Errno.EBADF)
        return self.node.sink(data)

    def stat(self) -> Stat:
        return self.node.stat()

    def seekable(self) -> bool:
        return False


class CharDevice(Node):
    """A character device node; `sink` consumes written bytes."""

    def __init__(self, ino: int, rdev: int, sink: Callable[[bytes], int]) -> None:
        self.ino = ino
        self.rdev = rdev
        self.sink = sink

    def stat(self) -> Stat:
        return Stat(dev=DEVFS_DEV, ino=self.ino, mode=S_IFCHR | 0o666, size=0, rdev=self.rdev)

    def open(self, readable: bool, writable: bool, append: bool, truncate: bool) -> OpenFile:
        return ConsoleFile(self, readable, writable)


class DevDir(DictDir):
    """A devfs directory: a fixed table of children."""

    def __init__(self, ino: int, children: dict[str, Node]) -> None:
        super().__init__()
        self.ino = ino
        self.children = children

    def stat(self) -> Stat:
        return Stat(dev=DEVFS_DEV, ino=self.ino, mode=S_IFDIR | 0o755, size=0, nlink=2)


def make_devfs(console: Callable[[bytes], int]) -> DevDir:
    """The /dev tree; `console` writes bytes to the serial console."""
    null = CharDevice(3, (1 << 8) | 3, lambda data: len(data))
    serial = CharDevice(4, (4 << 8) | 64, console)
    return DevDir(
        1,
        {
            "fd": DevDir(2, {}),
            "null": null,
            "serial": serial,
            "stdin": CharDevice(5, (1 << 8) | 3, lambda data: len(data)),
            "stdout": CharDevice(6, (4 << 8) | 64, console),
            "stderr": CharDevice(7, (4 << 8) | 64, console),
        },
    )
