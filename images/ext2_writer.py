"""A pure-Python ext2 image writer, so disk images build anywhere without mke2fs.

Usage: make an `Ext2Builder`, `mkdir` / `add_file` / `symlink` into it, then `build()`
returns the image bytes. The result is a revision 1 ext2 file system (128-byte inodes,
filetype + sparse_super) that `e2fsck -fn` passes and Linux mounts. Output depends only
on the contents: timestamps are a constant and the UUID is a hash of the image, so the
same inputs always give byte-identical images.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from images.ext2_geometry import INODE_SIZE, Geometry, GeometryError, plan
from kernel.fs import ext2_format as fmt

DEFAULT_MIN_SIZE = 10 * 1024 * 1024  # the original: mke2fs ... disk.img 10M
HEADROOM = 1.5  # default size leaves about half the contents again free
RESERVED_PERCENT = 5  # mke2fs -m 5
LOST_FOUND = "lost+found"
LOST_FOUND_BYTES = 12 * 1024  # mke2fs pre-sizes lost+found so e2fsck can use it


class Ext2BuildError(ValueError):
    """Bad input to the builder (a clashing path, a bad name, contents too big)."""


@dataclass
class _Dir:
    mode: int
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass
class _File:
    mode: int
    data: bytes


@dataclass
class _Symlink:
    target: bytes


_Node = _Dir | _File | _Symlink


@dataclass
class _InodePlan:
    """Everything needed to write one inode, with block numbers still virtual."""

    ino: int
    mode: int
    size: int
    links: int
    pointers: list[int | None]  # the 15 i_block slots (virtual numbers) for block-mapped data
    inline: bytes = b""  # fast symlink target stored in i_block instead
    blocks_used: int = 0


class Ext2Builder:
    """Collects a directory tree in memory and serialises it as an ext2 image."""

    def __init__(
        self,
        *,
        label: str = "",
        timestamp: int = 0,
        reserved_percent: int = RESERVED_PERCENT,
        sparse: bool = True,
    ) -> None:
        """`sparse` stores all-zero file blocks as holes (they still read back as zeros)."""
        self._root = _Dir(0o755)
        self._label = label.encode()[:16]
        self._timestamp = timestamp
        self._reserved_percent = reserved_percent
        self._sparse = sparse

    # -- building the tree -------------------------------------------------------------

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        """Create a directory (and missing parents); an existing directory gets `mode`."""
        parts = _split(path)
        parent = self._parent(parts) if parts else None
        if parent is None:
            self._root.mode = mode & fmt.PERM_MASK
            return
        node = parent.children.get(parts[-1])
        if node is None:
            parent.children[parts[-1]] = _Dir(mode & fmt.PERM_MASK)
        elif isinstance(node, _Dir):
            node.mode = mode & fmt.PERM_MASK
        else:
            raise Ext2BuildError(f"cannot mkdir {path!r}: a file is already there")

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Add (or replace) a regular file; missing parent directories are created."""
        self._put(path, _File(mode & fmt.PERM_MASK, bytes(data)))

    def symlink(self, path: str, target: str) -> None:
        """Add a symbolic link at `path` pointing to `target`."""
        raw = target.encode()
        if not raw or len(raw) >= 1024:
            raise Ext2BuildError(f"symlink target for {path!r} must be 1..1023 bytes")
        self._put(path, _Symlink(raw))

    def _put(self, path: str, node: _File | _Symlink) -> None:
        parts = _split(path)
        if not parts:
            raise Ext2BuildError(f"{path!r} is the root directory, not a file path")
        parent = self._parent(parts)
        if isinstance(parent.children.get(parts[-1]), _Dir):
            raise Ext2BuildError(f"cannot add {path!r}: a directory is already there")
        parent.children[parts[-1]] = node

    def _parent(self, parts: list[str]) -> _Dir:
        node = self._root
        for i, name in enumerate(parts[:-1]):
            child = node.children.setdefault(name, _Dir(0o755))
            if not isinstance(child, _Dir):
                raise Ext2BuildError(f"/{'/'.join(parts[: i + 1])} is a file, not a directory")
            node = child
        return node

    # -- serialising -------------------------------------------------------------------

    def build(
        self,
        size_bytes: int | None = None,
        *,
        block_size: int = 1024,
        min_size: int = DEFAULT_MIN_SIZE,
    ) -> bytes:
        """Serialise the tree. Without `size_bytes` the image is the contents plus ~50%
        headroom, rounded up to whole MiB and at least `min_size` bytes."""
        if LOST_FOUND in self._root.children:
            if not isinstance(self._root.children[LOST_FOUND], _Dir):
                raise Ext2BuildError("/lost+found must be a directory")
        else:
            self._root.children[LOST_FOUND] = _Dir(0o700)
        layout = _Layout(self._root, block_size, self._sparse)
        geometry = self._choose_geometry(layout, size_bytes, block_size, min_size)
        image = bytearray(max(size_bytes or 0, geometry.blocks_count * block_size))
        _Emitter(geometry, layout, image, self._timestamp).write()
        _write_superblocks(
            image,
            geometry,
            layout,
            label=self._label,
            timestamp=self._timestamp,
            reserved=geometry.blocks_count * self._reserved_percent // 100,
        )
        return bytes(image)

    def _choose_geometry(
        self, layout: _Layout, size_bytes: int | None, block_size: int, min_size: int
    ) -> Geometry:
        inodes = layout.last_ino
        try:
            if size_bytes is not None:
                geometry = plan(size_bytes // block_size, block_size, inodes)
                if geometry.data_capacity < layout.n_blocks:
                    raise Ext2BuildError(
                        f"contents need {layout.n_blocks} data blocks but a {size_bytes}-byte"
                        f" image has room for {geometry.data_capacity}"
                    )
                return geometry
            mib = 1024 * 1024
            want = math.ceil(layout.n_blocks * HEADROOM)
            size = max(min_size, -(-want * block_size // mib) * mib, mib)
            while True:
                geometry = plan(size // block_size, block_size, inodes)
                if geometry.data_capacity >= want:
                    return geometry
                size += max(mib, size // 8 // mib * mib)
        except GeometryError as e:
            raise Ext2BuildError(str(e)) from e


class _Layout:
    """Inode numbers, directory blocks and block maps, with virtual block numbers.

    Virtual block k becomes the k-th data block of the image once the geometry is
    known, so the contents can be sized before the image size is chosen.
    """

    def __init__(self, root: _Dir, block_size: int, sparse: bool) -> None:
        self.block_size = block_size
        self.sparse = sparse
        self.inodes: list[_InodePlan] = []
        self.blocks: list[bytes] = []  # virtual block k -> contents (b"" for indirect)
        self.indirect: dict[int, list[int | None]] = {}  # virtual block -> its pointer slots
        self.dir_inos: list[int] = []
        self.large_file = False
        self._ptrs = block_size // 4
        numbers = self._number(root)
        self.last_ino = max(numbers.values())
        self._emit_dir(root, numbers, parent_ino=fmt.ROOT_INO)
        self.inodes.sort(key=lambda p: p.ino)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def _number(self, root: _Dir) -> dict[int, int]:
        """Inode numbers by node id: root 2, lost+found 11, the rest depth-first by name."""
        numbers = {id(root): fmt.ROOT_INO, id(root.children[LOST_FOUND]): fmt.LOST_FOUND_INO}
        next_ino = fmt.LOST_FOUND_INO + 1

        def walk(d: _Dir) -> None:
            nonlocal next_ino
            for _, child in sorted(d.children.items()):
                if id(child) not in numbers:
                    numbers[id(child)] = next_ino
                    next_ino += 1
                if isinstance(child, _Dir):
                    walk(child)

        walk(root)
        return numbers

    def _emit_dir(self, d: _Dir, numbers: dict[int, int], parent_ino: int) -> None:
        ino = numbers[id(d)]
        entries = [(ino, b".", fmt.FT_DIR), (parent_ino, b"..", fmt.FT_DIR)]
        subdirs = 0
        for name, child in sorted(d.children.items()):
            entries.append((numbers[id(child)], name.encode(), _file_type(child)))
            if isinstance(child, _Dir):
                subdirs += 1
                self._emit_dir(child, numbers, ino)
            elif isinstance(child, _File):
                self._emit_file(numbers[id(child)], child)
            else:
                self._emit_symlink(numbers[id(child)], child)
        min_bytes = LOST_FOUND_BYTES if ino == fmt.LOST_FOUND_INO else 0
        blocks = _dir_blocks(entries, self.block_size, min_bytes)
        plan_ = self._map(ino, fmt.S_IFDIR | d.mode, len(blocks) * self.block_size, blocks)
        plan_.links = 2 + subdirs
        self.dir_inos.append(ino)

    def _emit_file(self, ino: int, f: _File) -> None:
        bs = self.block_size
        zero = bytes(bs)
        chunks: list[bytes | None] = []
        for off in range(0, len(f.data), bs):
            chunk = f.data[off : off + bs]
            chunks.append(None if self.sparse and chunk == zero[: len(chunk)] else chunk)
        if len(f.data) >= 1 << 31:
            self.large_file = True
        self._map(ino, fmt.S_IFREG | f.mode, len(f.data), chunks)

    def _emit_symlink(self, ino: int, link: _Symlink) -> None:
        mode = fmt.S_IFLNK | 0o777
        if len(link.target) < fmt.FAST_SYMLINK_MAX:
            self.inodes.append(_InodePlan(ino, mode, len(link.target), 1, [], link.target))
        else:
            self._map(ino, mode, len(link.target), [link.target])

    def _map(self, ino: int, mode: int, size: int, chunks: Sequence[bytes | None]) -> _InodePlan:
        """Allocate `chunks` (None = hole) plus the indirect blocks that reach them.

        Indirect blocks are allocated just before the first data block they map, the
        way mke2fs lays files out, so a file is one contiguous run.
        """
        pointers: list[int | None] = [None] * fmt.N_BLOCK_PTRS
        tables: dict[tuple[int, ...], list[int | None]] = {}  # indirect block -> its slots
        used = 0
        for logical, chunk in enumerate(chunks):
            if chunk is None:
                continue
            slots = self._slot_path(logical)
            owner: list[int | None] = pointers
            key: tuple[int, ...] = ()
            for index in slots[:-1]:
                key += (index,)
                if owner[index] is None:
                    owner[index] = self._alloc(b"")  # contents filled in below
                    tables[key] = [None] * self._ptrs
                    used += 1
                owner = tables[key]
            owner[slots[-1]] = self._alloc(chunk)
            used += 1
        for key, table in tables.items():
            self.indirect[_lookup(pointers, tables, key)] = table
        plan_ = _InodePlan(ino, mode, size, 1, pointers, blocks_used=used)
        self.inodes.append(plan_)
        return plan_

    def _slot_path(self, n: int) -> list[int]:
        """i_block slot, then the slot in each indirect level, for logical block n."""
        p = self._ptrs
        if n < fmt.N_DIRECT:
            return [n]
        n -= fmt.N_DIRECT
        if n < p:
            return [fmt.IND_BLOCK, n]
        n -= p
        if n < p * p:
            return [fmt.DIND_BLOCK, n // p, n % p]
        n -= p * p
        if n < p * p * p:
            return [fmt.TIND_BLOCK, n // (p * p), n // p % p, n % p]
        raise Ext2BuildError("file too large for triple indirect blocks")

    def _alloc(self, contents: bytes) -> int:
        self.blocks.append(contents)
        return len(self.blocks) - 1


def _lookup(
    pointers: list[int | None], tables: dict[tuple[int, ...], list[int | None]], key: tuple
) -> int:
    """Virtual block number of the indirect block at slot path `key`."""
    owner = pointers if len(key) == 1 else tables[key[:-1]]
    vblock = owner[key[-1]]
    assert vblock is not None
    return vblock


def _file_type(node: _Node) -> int:
    if isinstance(node, _Dir):
        return fmt.FT_DIR
    return fmt.FT_REG_FILE if isinstance(node, _File) else fmt.FT_SYMLINK


def _dir_blocks(entries: list[tuple[int, bytes, int]], bs: int, min_bytes: int) -> list[bytes]:
    """Pack entries into blocks; each block's last entry stretches to the block's end."""
    blocks: list[bytearray] = []
    block = bytearray()
    last = -1  # offset of the last entry header in `block`
    for ino, name, ftype in entries:
        size = fmt.dirent_size(len(name))
        if len(block) + size > bs:
            _stretch(block, last, bs)
            blocks.append(block)
            block, last = bytearray(), -1
        last = len(block)
        block += fmt.DIRENT.pack(fmt.DIRENT.type(ino, size, len(name), ftype))
        block += name + bytes(size - fmt.DIRENT.size - len(name))
    _stretch(block, last, bs)
    blocks.append(block)
    while len(blocks) * bs < min_bytes:
        blocks.append(bytearray(fmt.DIRENT.pack(fmt.DIRENT.type(0, bs, 0, 0))) + bytes(bs - 8))
    return [bytes(b) for b in blocks]


def _stretch(block: bytearray, last: int, bs: int) -> None:
    rec_len = bs - last
    struct.pack_into("<H", block, last + 4, rec_len)
    block.extend(bytes(bs - len(block)))


class _Emitter:
    """Writes inode tables, bitmaps, group descriptors and data into the image."""

    def __init__(self, geometry: Geometry, layout: _Layout, image: bytearray, ts: int) -> None:
        self.g = geometry
        self.layout = layout
        self.image = image
        self.ts = ts
        phys = geometry.data_block_numbers()
        self.phys = [next(phys) for _ in range(layout.n_blocks)]

    def write(self) -> None:
        self._write_data()
        self._write_inodes()
        self._write_bitmaps_and_descriptors()

    def _write_data(self) -> None:
        bs = self.g.block_size
        pointer_block = struct.Struct(f"<{bs // 4}I")
        for vblock, contents in enumerate(self.layout.blocks):
            slots = self.layout.indirect.get(vblock)
            if slots is not None:
                contents = pointer_block.pack(*[0 if v is None else self.phys[v] for v in slots])
            off = self.phys[vblock] * bs
            self.image[off : off + len(contents)] = contents

    def _write_inodes(self) -> None:
        sectors = self.g.block_size // 512
        for p in self.layout.inodes:
            if p.inline:
                block = struct.unpack("<15I", p.inline.ljust(fmt.FAST_SYMLINK_MAX, b"\0"))
            else:
                block = tuple(0 if v is None else self.phys[v] for v in p.pointers)
            raw = fmt.INODE.make(
                mode=p.mode,
                size=p.size & 0xFFFFFFFF,
                size_high=p.size >> 32 if p.mode & fmt.S_IFMT == fmt.S_IFREG else 0,
                atime=self.ts,
                ctime=self.ts,
                mtime=self.ts,
                links_count=p.links,
                blocks=p.blocks_used * sectors,
                block=block,
            )
            fmt.INODE.pack_into(self.image, self._inode_offset(p.ino), raw)

    def _inode_offset(self, ino: int) -> int:
        group, index = divmod(ino - 1, self.g.inodes_per_group)
        return self.g.groups[group].inode_table * self.g.block_size + index * INODE_SIZE

    def _write_bitmaps_and_descriptors(self) -> None:
        g, bs = self.g, self.g.block_size
        ipg = g.inodes_per_group
        dirs_by_group = [0] * len(g.groups)
        for ino in self.layout.dir_inos:
            dirs_by_group[(ino - 1) // ipg] += 1
        remaining = self.layout.n_blocks
        descs = bytearray()
        for grp in g.groups:
            used_data = min(remaining, grp.data_blocks)
            remaining -= used_data
            used_blocks = grp.metadata_blocks + used_data
            bitmap = _prefix_bitmap(used_blocks, bs)
            _set_bits(bitmap, grp.end - grp.start, 8 * bs)  # padding past the last block
            self.image[grp.block_bitmap * bs : (grp.block_bitmap + 1) * bs] = bitmap
            used_inodes = max(0, min(ipg, self.layout.last_ino - grp.index * ipg))
            ibitmap = _prefix_bitmap(used_inodes, bs)
            _set_bits(ibitmap, ipg, 8 * bs)
            self.image[grp.inode_bitmap * bs : (grp.inode_bitmap + 1) * bs] = ibitmap
            desc = fmt.GROUP_DESC.make(
                block_bitmap=grp.block_bitmap,
                inode_bitmap=grp.inode_bitmap,
                inode_table=grp.inode_table,
                free_blocks_count=grp.end - grp.start - used_blocks,
                free_inodes_count=ipg - used_inodes,
                used_dirs_count=dirs_by_group[grp.index],
            )
            descs += fmt.GROUP_DESC.pack(desc)
        for grp in g.groups:
            if grp.has_super:
                off = (grp.start + 1) * bs
                self.image[off : off + len(descs)] = descs


def _prefix_bitmap(n_set: int, bs: int) -> bytearray:
    bitmap = bytearray(bs)
    _set_bits(bitmap, 0, n_set)
    return bitmap


def _set_bits(bitmap: bytearray, start: int, end: int) -> None:
    """Set bits [start, end), whole bytes at a time where possible."""
    bit = start
    while bit < end and bit % 8:
        bitmap[bit // 8] |= 1 << (bit % 8)
        bit += 1
    full_end = bit + (end - bit) // 8 * 8
    bitmap[bit // 8 : full_end // 8] = b"\xff" * ((full_end - bit) // 8)
    for b in range(full_end, end):
        bitmap[b // 8] |= 1 << (b % 8)


def _write_superblocks(
    image: bytearray,
    g: Geometry,
    layout: _Layout,
    *,
    label: bytes,
    timestamp: int,
    reserved: int,
) -> None:
    """Write the primary superblock and its sparse backups, with a content-derived UUID."""
    digest = hashlib.sha256(image).digest()
    uuid = bytearray(digest[:16])
    uuid[6] = (uuid[6] & 0x0F) | 0x50  # name-based (version 5 style): derived, not random
    uuid[8] = (uuid[8] & 0x3F) | 0x80
    ro_compat = fmt.RO_COMPAT_SPARSE_SUPER | (fmt.RO_COMPAT_LARGE_FILE if layout.large_file else 0)
    sb = fmt.SUPERBLOCK.make(
        inodes_count=g.inodes_count,
        blocks_count=g.blocks_count,
        r_blocks_count=reserved,
        free_blocks_count=g.data_capacity - layout.n_blocks,
        free_inodes_count=g.inodes_count - layout.last_ino,
        first_data_block=g.first_data_block,
        log_block_size=g.block_size.bit_length() - 11,
        log_frag_size=g.block_size.bit_length() - 11,
        blocks_per_group=g.blocks_per_group,
        frags_per_group=g.blocks_per_group,
        inodes_per_group=g.inodes_per_group,
        wtime=timestamp,
        max_mnt_count=-1,
        magic=fmt.MAGIC,
        state=fmt.STATE_CLEAN,
        errors=fmt.ERRORS_CONTINUE,
        lastcheck=timestamp,
        creator_os=fmt.OS_LINUX,
        rev_level=fmt.REV_DYNAMIC,
        first_ino=fmt.LOST_FOUND_INO,
        inode_size=INODE_SIZE,
        feature_incompat=fmt.INCOMPAT_FILETYPE,
        feature_ro_compat=ro_compat,
        uuid=bytes(uuid),
        volume_name=label,
        hash_seed=struct.unpack("<4I", digest[16:32]),
        mkfs_time=timestamp,
    )
    bs = g.block_size
    for grp in g.groups:
        if grp.has_super:
            copy = sb._replace(block_group_nr=grp.index)
            off = fmt.SUPERBLOCK_OFFSET if grp.index == 0 else grp.start * bs
            fmt.SUPERBLOCK.pack_into(image, off, copy)


def _split(path: str) -> list[str]:
    """Path components, validated: no '.', '..', NUL, or names over 255 bytes."""
    parts = [p for p in path.split("/") if p]
    for p in parts:
        if p in (".", ".."):
            raise Ext2BuildError(f"path {path!r}: '.' and '..' are not allowed")
        if "\0" in p or len(p.encode()) > fmt.NAME_MAX:
            raise Ext2BuildError(f"path {path!r}: bad name {p[:40]!r}")
    return parts
