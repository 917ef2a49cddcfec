"""Open file descriptions and nodes: the interface every file system implements."""

from __future__ import annotations

import dataclasses

from kernel.abi import SEEK_CUR, SEEK_END, SEEK_SET, STAT_STRUCT, Errno, SyscallError
from kernel.waitq import WouldBlock

MAX_FILE_OFFSET = (1 << 63) - 1


@dataclasses.dataclass
class Stat:
    """What fstat reports (packed into Linux x86_64's 144-byte `struct stat`)."""

    dev: int
    ino: int
    mode: int
    size: int
    nlink: int = 1
    uid: int = 0
    gid: int = 0
    rdev: int = 0
    blksize: int = 4096
    blocks: int = 0
    atime: int = 0
    mtime: int = 0
    ctime: int = 0

    def pack(self) -> bytes:
        return STAT_STRUCT.pack(
            self.dev,
            self.ino,
            self.nlink,
            self.mode,
            self.uid,
            self.gid,
            self.rdev,
            self.size,
            self.blksize,
            self.blocks,
            self.atime,
            0,
            self.mtime,
            0,
            self.ctime,
            0,
            0,
            0,
            0,
        )


class Node:
    """A file system object: regular file, directory or device."""

    is_dir = False

    def stat(self) -> Stat:
        raise NotImplementedError

    def open(self, readable: bool, writable: bool, append: bool, truncate: bool) -> OpenFile:
        raise NotImplementedError

    # directories
    def lookup(self, name: str) -> Node:
        raise SyscallError(Errno.ENOTDIR)

    def create(self, name: str) -> Node:
        raise SyscallError(Errno.EROFS)

    def mkdir(self, name: str) -> Node:
        raise SyscallError(Errno.EROFS)

    def rmdir(self, name: str) -> None:
        raise SyscallError(Errno.EROFS)


class DictDir(Node):
    """A directory whose children live in a dict (devfs and tmpfs)."""

    is_dir = True

    def __init__(self) -> None:
        self.children: dict[str, Node] = {}

    def open(self, readable: bool, writable: bool, append: bool, truncate: bool) -> OpenFile:
        if writable:
            raise SyscallError(Errno.EISDIR)
        return DirFile(self)

    def lookup(self, name: str) -> Node:
        try:
            return self.children[name]
        except KeyError:
            raise SyscallError(Errno.ENOENT, name) from None


class OpenFile:
    """An open file description, shared by dup'ed and inherited descriptors."""

    def __init__(self, readable: bool = True, writable: bool = False) -> None:
        self.readable = readable
        self.writable = writable
        self.offset = 0
        self.refs = 1

    def read(self, size: int) -> bytes:
        raise SyscallError(Errno.EBADF)

    def read_or_wait(self, size: int) -> bytes | WouldBlock:
        """`read`, with a WouldBlock returned rather than raised, for `sys_read` to
        hand to the trap as its result. Files that block on a hot path (pipes)
        return theirs without raising it (a traceback per frame)."""
        try:
            return self.read(size)
        except WouldBlock as wait:
            return wait

    def write(self, data: bytes) -> int:
        raise SyscallError(Errno.EBADF)

    def stat(self) -> Stat:
        raise NotImplementedError

    def size(self) -> int:
        return self.stat().size

    def seekable(self) -> bool:
        return True

    def max_offset(self) -> int:
        """Largest offset lseek may set: the file system's file size limit. Offsets
        are returned in a signed 64-bit register, so nothing reaches 2**63."""
        return MAX_FILE_OFFSET

    def lseek(self, offset: int, whence: int) -> int:
        if not self.seekable():
            raise SyscallError(Errno.ESPIPE)
        if whence == SEEK_SET:
            new = offset
        elif whence == SEEK_CUR:
            new = self.offset + offset
        elif whence == SEEK_END:
            new = self.size() + offset
        else:
            raise SyscallError(Errno.EINVAL, f"whence {whence}")
        if new < 0:
            raise SyscallError(Errno.EINVAL, "negative offset")
        if new > self.max_offset():
            raise SyscallError(Errno.EINVAL, f"offset {new} > {self.max_offset()}")
        self.offset = new
        return new

    def release(self) -> None:
        """The last descriptor referring to this description was closed."""


class DirFile(OpenFile):
    """An open directory: fstat works, read is EISDIR."""

    def __init__(self, node: Node) -> None:
        super().__init__(True, False)
        self.node = node

    def read(self, size: int) -> bytes:
        raise SyscallError(Errno.EISDIR)

    def stat(self) -> Stat:
        return self.node.stat()
