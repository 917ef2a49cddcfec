"""Block-group geometry of an ext2 image: where every group's metadata lives.

Kept apart from the writer so the sizing rules (group count, inodes per group, when a
runt last group is dropped) can be read and tested on their own. The rules follow
mke2fs for small file systems: one block bitmap block per group, one inode per 4 KiB,
sparse superblock backups, and no reserved GDT blocks (no online resize).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kernel.fs.ext2_format import GOOD_OLD_INODE_SIZE, GROUP_DESC, has_superblock_backup

BLOCK_SIZES = (1024, 2048, 4096)
INODE_RATIO = 4096  # bytes of disk per inode, mke2fs's "small" file system type
INODE_SIZE = GOOD_OLD_INODE_SIZE
MIN_LAST_GROUP_SLACK = 50  # mke2fs drops a last group with fewer spare blocks than this


class GeometryError(ValueError):
    """The requested size cannot hold an ext2 file system with these contents."""


@dataclass(frozen=True)
class Group:
    """One block group: [start, end) blocks, metadata first, then data blocks."""

    index: int
    start: int
    end: int
    has_super: bool
    block_bitmap: int
    inode_bitmap: int
    inode_table: int
    data_start: int  # first block after the inode table

    @property
    def data_blocks(self) -> int:
        return self.end - self.data_start

    @property
    def metadata_blocks(self) -> int:
        return self.data_start - self.start


@dataclass(frozen=True)
class Geometry:
    block_size: int
    blocks_count: int
    first_data_block: int
    blocks_per_group: int
    inodes_per_group: int
    inode_table_blocks: int
    gdt_blocks: int
    groups: tuple[Group, ...]

    @property
    def inodes_count(self) -> int:
        return self.inodes_per_group * len(self.groups)

    @property
    def data_capacity(self) -> int:
        """Blocks left for file, directory and indirect blocks."""
        return sum(g.data_blocks for g in self.groups)

    def data_block_numbers(self) -> Iterator[int]:
        """Every data block in allocation order (group by group)."""
        for g in self.groups:
            yield from range(g.data_start, g.end)


def plan(blocks_count: int, block_size: int, inodes_needed: int) -> Geometry:
    """Lay out `blocks_count` blocks of `block_size` with at least `inodes_needed` inodes."""
    if block_size not in BLOCK_SIZES:
        raise GeometryError(f"block size {block_size} not supported (use one of {BLOCK_SIZES})")
    first_data_block = 1 if block_size == 1024 else 0
    per_group = 8 * block_size
    geometry = _layout(blocks_count, block_size, first_data_block, per_group, inodes_needed)
    last = geometry.groups[-1]
    slack = last.end - last.start - last.metadata_blocks
    if len(geometry.groups) > 1 and slack < MIN_LAST_GROUP_SLACK:
        # A runt last group would be almost all metadata: give its blocks up, like mke2fs.
        geometry = _layout(last.start, block_size, first_data_block, per_group, inodes_needed)
    if any(g.data_start > g.end for g in geometry.groups):
        raise GeometryError(f"{blocks_count} blocks is too small for the ext2 metadata")
    return geometry


def _layout(
    blocks_count: int, block_size: int, first_data_block: int, per_group: int, inodes_needed: int
) -> Geometry:
    n_groups = -(-(blocks_count - first_data_block) // per_group)
    if n_groups < 1:
        raise GeometryError(f"{blocks_count} blocks is too small for an ext2 file system")
    per_block = block_size // INODE_SIZE
    wanted = max(blocks_count * block_size // INODE_RATIO, inodes_needed)
    ipg = _round_up(-(-wanted // n_groups), max(per_block, 8))
    if ipg > 8 * block_size:
        if -(-inodes_needed // n_groups) > 8 * block_size:
            raise GeometryError(f"{inodes_needed} inodes do not fit in {n_groups} block groups")
        ipg = 8 * block_size
    itb = ipg // per_block
    gdt_blocks = -(-n_groups * GROUP_DESC.size // block_size)
    groups = []
    for i in range(n_groups):
        start = first_data_block + i * per_group
        end = min(start + per_group, blocks_count)
        has_super = has_superblock_backup(i, sparse_super=True)
        bitmap = start + (1 + gdt_blocks if has_super else 0)
        groups.append(
            Group(i, start, end, has_super, bitmap, bitmap + 1, bitmap + 2, bitmap + 2 + itb)
        )
    return Geometry(
        block_size=block_size,
        blocks_count=blocks_count,
        first_data_block=first_data_block,
        blocks_per_group=per_group,
        inodes_per_group=ipg,
        inode_table_blocks=itb,
        gdt_blocks=gdt_blocks,
        groups=tuple(groups),
    )


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple
