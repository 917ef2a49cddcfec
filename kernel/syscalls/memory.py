"""Memory syscalls: malloc, free, mmap (anonymous, fixed, protections)."""

from __future__ import annotations

from kernel.abi import PAGE_SIZE, Errno, MapFlag, Prot, SyscallError
from kernel.proc import Process
from kernel.syscalls.view import KernelView

MAX_MAPPING = 1 << 32


def sys_malloc(k: KernelView, proc: Process, size: int, *_: int) -> int:
    if size == 0:
        raise SyscallError(Errno.EINVAL, "malloc(0)")
    if size > MAX_MAPPING:
        raise SyscallError(Errno.ENOMEM, "request too large")
    vma = proc.mm.map_anywhere(size, Prot.READ | Prot.WRITE, "heap")
    proc.heap_blocks[vma.start] = vma.size
    return vma.start


def sys_free(k: KernelView, proc: Process, ptr: int, *_: int) -> int:
    if ptr == 0:
        return 0
    size = proc.heap_blocks.pop(ptr, None)
    if size is None:
        raise SyscallError(Errno.EINVAL, f"0x{ptr:x} is not a malloc'd block")
    proc.mm.unmap(ptr, size)
    return 0


def sys_mmap(
    k: KernelView,
    proc: Process,
    addr: int,
    length: int,
    prot: int,
    flags: int,
    fd: int,
    offset: int,
) -> int:
    if length == 0 or length > MAX_MAPPING:
        raise SyscallError(Errno.EINVAL, "bad length")
    if prot & ~int(Prot.READ | Prot.WRITE | Prot.EXEC):
        raise SyscallError(Errno.EINVAL, "bad protection bits")
    if not flags & MapFlag.ANONYMOUS:
        raise SyscallError(Errno.ENODEV, "only anonymous mappings are supported")
    if not (flags & MapFlag.SHARED) ^ bool(flags & MapFlag.PRIVATE):
        raise SyscallError(Errno.EINVAL, "exactly one of MAP_SHARED / MAP_PRIVATE")
    if flags & MapFlag.FIXED:
        if addr % PAGE_SIZE:
            raise SyscallError(Errno.EINVAL, "MAP_FIXED address not page aligned")
        start = proc.mm.map_fixed(addr, length, prot, "mmap").start
        for block in [a for a in proc.heap_blocks if addr <= a < addr + length]:
            del proc.heap_blocks[block]  # only once the mapping replaced them
        return start
    return proc.mm.map_anywhere(length, prot, "mmap").start
