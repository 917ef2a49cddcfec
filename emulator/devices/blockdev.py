"""A block device over a host disk image file, read in 512-byte sectors.

Reads are served from the file on demand with `os.pread` (opened read-only: the
guest's root is read-only, and the image on the host is never modified), so an
8 GiB sparse image costs only the sectors the kernel actually reads. Each request
costs modelled device time, so boot figures reflect the I/O the kernel did.
"""

from __future__ import annotations

import os
from pathlib import Path

SECTOR_SIZE = 512
REQUEST_NS = 20_000  # modelled latency of one read request


class BlockDeviceError(Exception):
    """A request outside the device."""


class BlockDevice:
    """Sector-addressed read-only storage."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        self.sectors = os.fstat(self._fd).st_size // SECTOR_SIZE
        self.requests = 0
        self.busy_ns = 0

    def read_sectors(self, lba: int, count: int) -> bytes:
        if lba < 0 or count < 0 or lba + count > self.sectors:
            raise BlockDeviceError(f"read of sectors {lba}+{count} past the end ({self.sectors})")
        self.requests += 1
        self.busy_ns += REQUEST_NS
        size = count * SECTOR_SIZE
        data = os.pread(self._fd, size, lba * SECTOR_SIZE)
        if len(data) != size:  # the file shrank under us: a medium error, not a crash
            raise BlockDeviceError(f"short read of sectors {lba}+{count} from {self.path}")
        return data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()
