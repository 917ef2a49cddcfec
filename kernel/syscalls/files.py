"""File syscalls: open, read, write, writev, lseek, close, fstat, dup, dup2, pipe,
getcwd, chdir, mkdir, rmdir."""

from __future__ import annotations

import codecs

from kernel.abi import (
    IOVEC_STRUCT,
    WRITEV_MAX_IOV,
    Errno,
    OpenFlag,
    SyscallError,
)
from kernel.fs.devfs import ConsoleFile
from kernel.fs.pipe import make_pipe
from kernel.mm import PROT_R, PROT_W
from kernel.proc import Process
from kernel.syscalls.view import KernelView
from kernel.waitq import WouldBlock

MAX_IO = 1 << 20  # bytes moved by one read/write call at most
MAX_PATH = 4096


def user_path(proc: Process, ptr: int, length: int) -> str:
    """A path given as pointer + length (not NUL-terminated)."""
    if length <= 0:
        raise SyscallError(Errno.ENOENT, "empty path")
    if length > MAX_PATH:
        raise SyscallError(Errno.ENAMETOOLONG)
    raw = proc.mm.read(ptr, length)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise SyscallError(Errno.EINVAL, "path is not UTF-8") from None


def _console_check(file: object, data: bytes) -> None:
    """axiomOS's console accepts UTF-8 text only."""
    if isinstance(file, ConsoleFile):
        try:
            data.decode()
        except UnicodeDecodeError:
            raise SyscallError(Errno.EINVAL, "console output is not UTF-8") from None


def sys_open(
    k: KernelView, proc: Process, path_ptr: int, path_len: int, flags: int, _mode: int, *_: int
) -> int:
    path = user_path(proc, path_ptr, path_len)
    flags = OpenFlag(flags & 0xFFFF_FFFF)
    writable = bool(flags & (OpenFlag.O_WRONLY | OpenFlag.O_RDWR))
    readable = not flags & OpenFlag.O_WRONLY
    try:
        node = k.vfs.resolve(path, proc.cwd)
    except SyscallError as err:
        if err.errno != Errno.ENOENT or not flags & OpenFlag.O_CREAT:
            raise
        parent, name = k.vfs.resolve_parent(path, proc.cwd)
        node = parent.create(name)
    file = node.open(
        readable, writable, bool(flags & OpenFlag.O_APPEND), bool(flags & OpenFlag.O_TRUNC)
    )
    fd = proc.fds.install(file)
    if flags & OpenFlag.O_CLOEXEC:
        proc.fds.cloexec.add(fd)
    return fd


def sys_read(k: KernelView, proc: Process, fd: int, buf: int, count: int, *_: int) -> int:
    file = proc.fds.files.get(fd)  # `FdTable.get`, inlined: the hottest syscalls
    if file is None:
        file = proc.fds.get(fd)  # raises EBADF
    if not file.readable:
        raise SyscallError(Errno.EBADF, "not open for reading")
    if count > MAX_IO:  # (not min(): this runs on every read)
        count = MAX_IO
    mm = proc.mm
    mm.check(buf, count, PROT_W)  # before reading: a fault must not lose data
    data = file.read_or_wait(count)
    if isinstance(data, WouldBlock):
        return data  # type: ignore[return-value]  # (the trap blocks: see view.py)
    if data:  # `mm.write`, without checking the range checked above again
        mm.cpu.write(buf, data)
    return len(data)


def sys_write(k: KernelView, proc: Process, fd: int, buf: int, count: int, *_: int) -> int:
    file = proc.fds.files.get(fd)  # `FdTable.get`, inlined: the hottest syscalls
    if file is None:
        file = proc.fds.get(fd)  # raises EBADF
    if not file.writable:
        raise SyscallError(Errno.EBADF, "not open for writing")
    data = proc.mm.read(buf, count if count <= MAX_IO else MAX_IO)
    if isinstance(file, ConsoleFile):  # tested here too: skips a call on pipe writes
        _console_check(file, data)
    return file.write(data)


def sys_writev(k: KernelView, proc: Process, fd: int, iov: int, iovcnt: int, *_: int) -> int:
    """Like write: at most MAX_IO bytes in total. Every buffer is checked (and console
    text validated) first, then the pieces are written one by one, never joined."""
    file = proc.fds.get(fd)
    if not file.writable:
        raise SyscallError(Errno.EBADF, "not open for writing")
    if iovcnt > WRITEV_MAX_IOV:
        raise SyscallError(Errno.EINVAL, "too many iovecs")
    table = proc.mm.read(iov, iovcnt * IOVEC_STRUCT.size)
    pieces: list[tuple[int, int]] = []
    left = MAX_IO
    for base, length in IOVEC_STRUCT.iter_unpack(table):
        if length >= 1 << 63:
            raise SyscallError(Errno.EINVAL, "iov_len does not fit ssize_t")
        take = min(length, left)
        proc.mm.check(base, take, PROT_R)
        if take:
            pieces.append((base, take))
        left -= take
    if isinstance(file, ConsoleFile):
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for base, take in pieces:
                decoder.decode(proc.mm.read(base, take))
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SyscallError(Errno.EINVAL, "console output is not UTF-8") from None
    written = 0
    for base, take in pieces:
        try:
            n = file.write(proc.mm.read(base, take))
        except (SyscallError, WouldBlock):
            if written:
                return written  # a partial writev, as Linux reports it
            raise
        written += n
        if n < take:
            break
    return written


def sys_lseek(k: KernelView, proc: Process, fd: int, offset: int, whence: int, *_: int) -> int:
    offset = offset - (1 << 64) if offset >= 1 << 63 else offset
    return proc.fds.get(fd).lseek(offset, whence)


def sys_close(k: KernelView, proc: Process, fd: int, *_: int) -> int:
    proc.fds.close(fd)
    return 0


def sys_fstat(k: KernelView, proc: Process, fd: int, statbuf: int, *_: int) -> int:
    proc.mm.write(statbuf, proc.fds.get(fd).stat().pack())
    return 0


def sys_dup(k: KernelView, proc: Process, fd: int, *_: int) -> int:
    file = proc.fds.get(fd)
    new = proc.fds.install(file)
    file.refs += 1
    return new


def sys_dup2(k: KernelView, proc: Process, old: int, new: int, *_: int) -> int:
    return proc.fds.dup2(old, new)


def sys_pipe(k: KernelView, proc: Process, fds_ptr: int, *_: int) -> int:
    proc.mm.check(fds_ptr, 8, PROT_W)
    reader, writer = make_pipe(k.next_pipe_ino())
    rfd = proc.fds.install(reader)
    try:
        wfd = proc.fds.install(writer)
    except SyscallError:
        proc.fds.close(rfd)
        writer.release()
        raise
    proc.mm.write(fds_ptr, rfd.to_bytes(4, "little") + wfd.to_bytes(4, "little"))
    return 0


def sys_getcwd(k: KernelView, proc: Process, buf: int, size: int, *_: int) -> int:
    data = proc.cwd.encode() + b"\0"
    if size < len(data):
        raise SyscallError(Errno.ERANGE)
    proc.mm.write(buf, data)
    return buf


def sys_chdir(k: KernelView, proc: Process, path_ptr: int, path_len: int, *_: int) -> int:
    path = _path_arg(proc, path_ptr, path_len)
    node = k.vfs.resolve(path, proc.cwd)
    if not node.is_dir:
        raise SyscallError(Errno.ENOTDIR, path)
    proc.cwd = k.vfs.absolute(path, proc.cwd)
    return 0


def sys_mkdir(k: KernelView, proc: Process, path_ptr: int, path_len: int, *_: int) -> int:
    parent, name = k.vfs.resolve_parent(_path_arg(proc, path_ptr, path_len), proc.cwd)
    try:
        parent.lookup(name)
    except SyscallError:
        parent.mkdir(name)
        return 0
    raise SyscallError(Errno.EEXIST, name)


def sys_rmdir(k: KernelView, proc: Process, path_ptr: int, path_len: int, *_: int) -> int:
    parent, name = k.vfs.resolve_parent(_path_arg(proc, path_ptr, path_len), proc.cwd)
    parent.lookup(name)
    parent.rmdir(name)
    return 0


def _path_arg(proc: Process, ptr: int, length: int) -> str:
    """chdir/mkdir/rmdir: pointer + length like open; length 0 means NUL-terminated."""
    if length == 0:
        raw = proc.mm.read_cstring(ptr, MAX_PATH)
        if not raw:
            raise SyscallError(Errno.ENOENT, "empty path")
        return raw.decode(errors="replace")
    return user_path(proc, ptr, length)
