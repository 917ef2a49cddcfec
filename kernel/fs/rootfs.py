"""The read-only ext2 root, seen through the VFS node interface.

The block-device model is sector addressed; `SectorReader` gives the ext2 reader the
byte-addressed view it wants, and charges modelled device time for every request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.abi import Errno, SyscallError
from kernel.fs.ext2 import Ext2Error, Ext2Volume, NotFound
from kernel.fs.file import DirFile, Node, OpenFile, Stat

EXT2_DEV = 1
SECTOR = 512


class SectorReader:
    """Byte reads over a sector device (`read_sectors(lba, count)`)."""

    def __init__(self, device: Any, charge_ns: Callable[[int], None]) -> None:
        self._device = device
        self._charge_ns = charge_ns

    def read(self, offset: int, size: int) -> bytes:
        if size <= 0:
            return b""
        first = offset // SECTOR
        last = min((offset + size + SECTOR - 1) // SECTOR, self._device.sectors)
        if first >= last:
            return b""
        before = self._device.busy_ns
        data = self._device.read_sectors(first, last - first)
        self._charge_ns(self._device.busy_ns - before)
        start = offset - first * SECTOR
        return data[start : start + size]


class Ext2Node(Node):
    """An inode of the root file system."""

    def __init__(self, volume: Ext2Volume, ino: int) -> None:
        self.volume = volume
        self.ino = ino
        self.is_dir = volume.inode(ino).is_dir

    def stat(self) -> Stat:
        inode = self.volume.inode(self.ino)
        return Stat(
            dev=EXT2_DEV,
            ino=self.ino,
            mode=inode.mode,
            size=inode.size,
            nlink=inode.links_count,
            uid=inode.uid,
            gid=inode.gid,
            blocks=inode.blocks,
            atime=inode.atime,
            mtime=inode.mtime,
            ctime=inode.ctime,
        )

    def open(self, readable: bool, writable: bool, append: bool, truncate: bool) -> OpenFile:
        if self.is_dir:
            if writable:
                raise SyscallError(Errno.EISDIR)
            return DirFile(self)
        if writable or truncate:
            raise SyscallError(Errno.EROFS)
        return Ext2File(self)

    def lookup(self, name: str) -> Node:
        if not self.is_dir:
            raise SyscallError(Errno.ENOTDIR)
        try:
            for entry_name, ino, _ftype in self.volume.listdir(self.ino):
                if entry_name == name:
                    return Ext2Node(self.volume, ino)
        except NotFound:
            pass
        except Ext2Error as err:
            raise SyscallError(Errno.EIO, str(err)) from None
        raise SyscallError(Errno.ENOENT, name)

    def read(self, offset: int, size: int) -> bytes:
        try:
            return self.volume.read(self.ino, offset, size)
        except Ext2Error as err:
            raise SyscallError(Errno.EIO, str(err)) from None


class Ext2File(OpenFile):
    """A regular file of the root, opened read-only."""

    def __init__(self, node: Ext2Node) -> None:
        super().__init__(readable=True, writable=False)
        self.node = node

    def read(self, size: int) -> bytes:
        data = self.node.read(self.offset, size)
        self.offset += len(data)
        return data

    def write(self, data: bytes) -> int:
        raise SyscallError(Errno.EBADF)

    def stat(self) -> Stat:
        return self.node.stat()


def mount_ext2(device: Any, charge_ns: Callable[[int], None]) -> Ext2Node:
    """Mount the root; raises Ext2Error with a clear message if the image is bad."""
    volume = Ext2Volume(SectorReader(device, charge_ns))
    return Ext2Node(volume, volume.root_ino)
