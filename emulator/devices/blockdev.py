"""A block device over a host disk image file, read in 512-byte sectors.

Reads are served from the file (opened read-only: the guest's root is read-only,
and the image on the host is never modified). Each request costs modelled device
time, so boot figures reflect the I/O the kernel did.
"""

from __future__ import annotations

from pathlib import Path

SECTOR_SIZE = 512
REQUEST_NS = 20_000  # modelled latency of one read request


class BlockDeviceError(Exception):
    """A request outside the device."""


class BlockDevice:
    """Sector-addressed read-only storage."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = path.read_bytes()
        self.sectors = len(self._data) // SECTOR_SIZE
        self.requests = 0
        self.busy_ns = 0

    def read_sectors(self, lba: int, count: int) -> bytes:
        if lba < 0 or count < 0 or lba + count > self.sectors:
            raise BlockDeviceError(f"read of sectors {lba}+{count} past the end ({self.sectors})")
        self.requests += 1
        self.busy_ns += REQUEST_NS
        return self._data[lba * SECTOR_SIZE : (lba + count) * SECTOR_SIZE]
