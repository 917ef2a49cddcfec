"""`vFile:` host I/O: gdb reads the guest's executables from the disk image.

With gdb's default sysroot (`target:`) gdb fetches the running program through the
stub, so `target remote` alone gives function names (the image keeps `.symtab`).
Reads go through a private ext2 reader over the image file, never the kernel's: the
kernel's block cache and modelled disk time stay exactly as without gdb. Read-only,
root file system only (tmpfs files are not visible); at most `MAX_FILE` bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path

from emulator.devices.blockdev import BlockDevice
from kernel.fs.ext2 import Ext2Error, Ext2Volume
from kernel.fs.rootfs import SectorReader

# gdb's File-I/O errno values (protocol constants, not the host's)
ENOENT, EBADF, EACCES, EISDIR, EINVAL, EMFILE, EFBIG, EROFS = 2, 9, 13, 21, 22, 24, 27, 30
MAX_FILE = 64 << 20
MAX_OPEN = 16
_O_ACCMODE = 3
# gdb's struct stat: 32-bit dev..rdev, 64-bit size/blksize/blocks, 32-bit times, BE
_STAT = struct.Struct(">IIIIIIIQQQIII")


class HostIoError(Exception):
    """A failed request, carrying gdb's errno for the `F-1,errno` reply."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


class GuestFiles:
    """Open files of one gdb session (gdb's fds are small integers of our choosing)."""

    def __init__(self, image: Path) -> None:
        self._image = image
        self._volume: Ext2Volume | None = None
        self._open: dict[int, tuple[bytes, int]] = {}  # fd -> (contents, inode mode)

    def _fs(self) -> Ext2Volume:
        if self._volume is None:
            self._volume = Ext2Volume(SectorReader(BlockDevice(self._image), lambda _ns: None))
        return self._volume

    def open(self, path: str, flags: int) -> int:
        if flags & _O_ACCMODE:
            raise HostIoError(EROFS)
        if len(self._open) >= MAX_OPEN:
            raise HostIoError(EMFILE)
        try:
            volume = self._fs()
            ino = volume.lookup(path)
            for _ in range(8):  # follow symlinks (absolute targets), as open(2)
                inode = volume.inode(ino)
                if not inode.is_symlink:
                    break
                ino = volume.lookup(volume.readlink(ino))
            if inode.is_dir:
                raise HostIoError(EISDIR)
            if inode.size > MAX_FILE:
                raise HostIoError(EFBIG)
            data = volume.read_all(ino)
        except (Ext2Error, OSError):
            raise HostIoError(ENOENT) from None
        fd = next(i for i in range(MAX_OPEN + 1) if i not in self._open)
        self._open[fd] = (data, inode.mode)
        return fd

    def _file(self, fd: int) -> tuple[bytes, int]:
        try:
            return self._open[fd]
        except KeyError:
            raise HostIoError(EBADF) from None

    def pread(self, fd: int, count: int, offset: int) -> bytes:
        data, _ = self._file(fd)
        if count < 0 or offset < 0:
            raise HostIoError(EINVAL)
        return data[offset : offset + count]

    def fstat(self, fd: int) -> bytes:
        data, mode = self._file(fd)
        blocks = -(-len(data) // 512)
        return _STAT.pack(1, fd + 1, mode, 1, 0, 0, 0, len(data), 1024, blocks, 0, 0, 0)

    def close(self, fd: int) -> None:
        self._file(fd)
        del self._open[fd]

    def close_all(self) -> None:
        self._open.clear()
