"""Reading this process's own memory at an address that may not be mapped.

The calibrations (`icount`, `regfile`) look for Unicorn's fields by scanning its
structures (from `engine_address`) and the objects they point to; a plain ctypes
read past the end of a mapping would crash the emulator. These go through the
kernel instead (a read of an unmapped address is a short read, never a fault).
"""

from __future__ import annotations

import ctypes
import os

from unicorn import Uc

_CHUNK = 0x1000  # host pages are at least this big


def engine_address(uc: Uc) -> int:
    """Address of the engine's native `uc_struct`, where the scans start."""
    address = uc._uch.value
    if address is None:
        raise ValueError("the Unicorn engine is closed")
    return address


def read_exact(address: int, size: int) -> bytes | None:
    """`size` bytes of this process's memory at `address`, or None if any is unmapped."""
    data = read_prefix(address, size)
    return data if len(data) == size else None


def read_prefix(address: int, size: int) -> bytes:
    """As much of [address, address+size) as is readable from its start, page by page.
    Through /proc/self/mem where there is one, else through a pipe (write(2) from a
    bad address is EFAULT); never by dereferencing in-process."""
    out = bytearray()
    try:
        fd = os.open("/proc/self/mem", os.O_RDONLY)
    except OSError:
        fd = -1
    if fd >= 0:
        try:  # usually all of it is mapped: one read
            whole = os.pread(fd, size, address)
            if len(whole) == size:
                os.close(fd)
                return whole
        except (OSError, OverflowError, ValueError):
            pass
    r, w = os.pipe() if fd < 0 else (-1, -1)
    try:
        while len(out) < size:
            at = address + len(out)
            n = min(_CHUNK - at % _CHUNK, size - len(out))  # never across a page
            try:
                if fd >= 0:
                    piece = os.pread(fd, n, at)
                else:
                    if os.write(w, (ctypes.c_char * n).from_address(at)) != n:
                        break
                    piece = os.read(r, n)
            except (OSError, OverflowError, ValueError):
                break
            if len(piece) != n:
                break
            out += piece
    finally:
        for handle in (fd, r, w):
            if handle >= 0:
                os.close(handle)
    return bytes(out)
