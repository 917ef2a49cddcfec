"""tmpfs: in-memory, writable files and directories (/var/tmp and /tmp).

File contents live in host memory, so they are charged to the machine's memory
budget (`-m`) before they grow: a file costs as much as its highest written byte
(a write at a far `lseek` offset charges the whole gap, as a non-sparse tmpfs would),
and no file may exceed `TMPFS_MAX_FILE_SIZE` (-EFBIG). The charge is refused with
-ENOMEM before anything is allocated.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

from kernel.abi import S_IFDIR, S_IFREG, Errno, SyscallError
from kernel.fs.file import DictDir, Node, OpenFile, Stat

if TYPE_CHECKING:
    from kernel.mm import MemoryAccount as MemoryBudget

TMPFS_DEV = 2
TMPFS_MAX_FILE_SIZE = 1 << 30  # bytes; a write or truncate past it is -EFBIG


class TmpFs:
    """One tmpfs instance: inode numbers and the clock for timestamps."""

    def __init__(
        self,
        now_s: Callable[[], int],
        charge: Callable[[int], None],
        budget: MemoryBudget | None = None,
    ) -> None:
        self.now_s = now_s
        self.charge = charge  # kernel heap accounting (+/- bytes)
        self.budget = budget  # the machine's memory budget (ENOMEM when exhausted)
        self._ino = itertools.count(2)
        self.root = TmpDir(self, 1)

    def next_ino(self) -> int:
        return next(self._ino)


class TmpFile(Node):
    """A regular file whose bytes live in memory."""

    def __init__(self, fs: TmpFs, ino: int) -> None:
        self.fs = fs
        self.ino = ino
        self.data = bytearray()
        self.mtime = self.ctime = fs.now_s()

    def stat(self) -> Stat:
        size = len(self.data)
        return Stat(
            dev=TMPFS_DEV,
            ino=self.ino,
            mode=S_IFREG | 0o644,
            size=size,
            blocks=(size + 511) // 512,
            atime=self.mtime,
            mtime=self.mtime,
            ctime=self.ctime,
        )

    def open(self, readable: bool, writable: bool, append: bool, truncate: bool) -> OpenFile:
        if truncate and writable:
            self.resize(0)
        return TmpOpenFile(self, readable, writable, append)

    def resize(self, size: int) -> None:
        """Grow (zero-filled) or shrink; the budget is charged before any allocation."""
        if size > TMPFS_MAX_FILE_SIZE:
            raise SyscallError(Errno.EFBIG, f"{size} bytes > tmpfs limit {TMPFS_MAX_FILE_SIZE}")
        delta = size - len(self.data)
        budget = self.fs.budget
        if budget is not None:
            if delta > 0:
                budget.charge(delta)
            else:
                budget.release(-delta)
        self.fs.charge(delta)
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))


class TmpOpenFile(OpenFile):
    def __init__(self, node: TmpFile, readable: bool, writable: bool, append: bool) -> None:
        super().__init__(readable, writable)
        self.node = node
        self.append = append

    def read(self, size: int) -> bytes:
        if not self.readable:
            raise SyscallError(Errno.EBADF)
        data = bytes(self.node.data[self.offset : self.offset + size])
        self.offset += len(data)
        return data

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise SyscallError(Errno.EBADF)
        node = self.node
        if self.append:
            self.offset = len(node.data)
        end = self.offset + len(data)
        if end > len(node.data):
            node.resize(end)
        node.data[self.offset : end] = data
        self.offset = end
        node.mtime = node.fs.now_s()
        return len(data)

    def stat(self) -> Stat:
        return self.node.stat()

    def max_offset(self) -> int:
        return TMPFS_MAX_FILE_SIZE


class TmpDir(DictDir):
    """A directory of tmpfs nodes."""

    def __init__(self, fs: TmpFs, ino: int) -> None:
        super().__init__()
        self.fs = fs
        self.ino = ino
        self.mtime = fs.now_s()

    def stat(self) -> Stat:
        subdirs = sum(1 for c in self.children.values() if c.is_dir)
        return Stat(
            dev=TMPFS_DEV,
            ino=self.ino,
            mode=S_IFDIR | 0o755,
            size=0,
            nlink=2 + subdirs,
            atime=self.mtime,
            mtime=self.mtime,
            ctime=self.mtime,
        )

    def _add(self, name: str, node: Node) -> Node:
        if name in self.children:
            raise SyscallError(Errno.EEXIST, name)
        self.children[name] = node
        self.mtime = self.fs.now_s()
        return node

    def create(self, name: str) -> TmpFile:
        file = TmpFile(self.fs, self.fs.next_ino())
        self._add(name, file)
        return file

    def mkdir(self, name: str) -> Node:
        return self._add(name, TmpDir(self.fs, self.fs.next_ino()))

    def rmdir(self, name: str) -> None:
        node = self.lookup(name)
        if not isinstance(node, TmpDir):
            raise SyscallError(Errno.ENOTDIR, name)
        if node.children:
            raise SyscallError(Errno.ENOTEMPTY, name)
        del self.children[name]
