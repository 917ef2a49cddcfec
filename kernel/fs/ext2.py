"""Read-only ext2 reader: the root file system the modelled kernel mounts.

`Ext2Volume(device)` validates the superblock and group descriptors up front, then
serves path lookups, inodes, file reads and directory listings. Block reads, decoded
indirect blocks, inodes and directory listings are cached (the kernel reads every
program ELF through here). Anything wrong with the image -- bad magic, truncation,
out-of-range block or inode numbers, malformed directory entries, features this reader
cannot honour -- raises an `Ext2Error` with a one-line message, never a bare
IndexError or struct.error. Symlinks are reported, not followed, by `lookup`.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kernel.fs import ext2_format as fmt
from kernel.fs.blockdev import BlockDevice

# Incompatible features a read-only block-map reader can honour: the file type byte in
# directory entries, and flex_bg (which only moves metadata the descriptors point at).
SUPPORTED_INCOMPAT = fmt.INCOMPAT_FILETYPE | fmt.INCOMPAT_FLEX_BG
EXTENTS_FL = 0x00080000
INLINE_DATA_FL = 0x10000000


class Ext2Error(Exception):
    """Any failure reading the file system; the message is one line."""


class NotFound(Ext2Error, FileNotFoundError):
    """A path component does not exist (ENOENT)."""


class NotADirectory(Ext2Error, NotADirectoryError):
    """A path component, or the inode given to listdir, is not a directory (ENOTDIR)."""


class CorruptImage(Ext2Error):
    """The image is not a consistent ext2 file system (EIO)."""


class Unsupported(Ext2Error):
    """A valid file system using a feature this reader does not implement."""


@dataclass(frozen=True)
class Inode:
    """The fields of an on-disk inode the kernel needs (stat, permission checks)."""

    ino: int
    mode: int
    uid: int
    gid: int
    size: int
    atime: int
    mtime: int
    ctime: int
    links_count: int
    blocks: int  # 512-byte units, like st_blocks
    flags: int
    file_acl: int
    block: tuple[int, ...]  # the 15 i_block slots

    @property
    def file_type(self) -> int:
        return self.mode & fmt.S_IFMT

    @property
    def is_dir(self) -> bool:
        return self.file_type == fmt.S_IFDIR

    @property
    def is_file(self) -> bool:
        return self.file_type == fmt.S_IFREG

    @property
    def is_symlink(self) -> bool:
        return self.file_type == fmt.S_IFLNK


DirEntry = tuple[str, int, int]  # (name, inode number, FT_* file type)

K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small least-recently-used cache: `get(key, load)` loads on a miss."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._capacity = max(1, capacity)

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def get(self, key: K, load: Callable[[K], V]) -> V:
        try:
            self._items.move_to_end(key)
            return self._items[key]
        except KeyError:
            value = load(key)
            self.put(key, value)
            return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)


class Ext2Volume:
    """A mounted (read-only) ext2 file system on `device`."""

    root_ino = fmt.ROOT_INO

    def __init__(self, device: BlockDevice, *, cache_blocks: int = 4096) -> None:
        self._dev = device
        sb = fmt.SUPERBLOCK.unpack(self._read(fmt.SUPERBLOCK_OFFSET, fmt.SUPERBLOCK_SIZE))
        self._check_superblock(sb)
        self.superblock = sb
        self.block_size = 1024 << sb.log_block_size
        self.blocks_count = sb.blocks_count
        self.inodes_count = sb.inodes_count
        self._ipg = sb.inodes_per_group
        if sb.rev_level == fmt.REV_GOOD_OLD:
            self._inode_size = fmt.GOOD_OLD_INODE_SIZE
        else:
            self._inode_size = sb.inode_size
        self._filetype = bool(sb.feature_incompat & fmt.INCOMPAT_FILETYPE)
        self._large_files = sb.rev_level >= fmt.REV_DYNAMIC
        self._ptrs = self.block_size // 4
        self._ptr_struct = struct.Struct(f"<{self._ptrs}I")
        self._zero = bytes(self.block_size)
        self._blocks: _LRU[int, bytes] = _LRU(cache_blocks)
        self._tables: _LRU[int, tuple[int, ...]] = _LRU(cache_blocks // 4)
        self._inodes: _LRU[int, Inode] = _LRU(1024)
        self._dirs: _LRU[int, dict[bytes, tuple[int, int]]] = _LRU(256)
        self._groups = self._load_group_descriptors(sb)
        last = self.blocks_count * self.block_size - 1
        if len(self._dev_read(last, 1)) != 1:
            raise CorruptImage(
                f"image truncated: the file system has {self.blocks_count} blocks"
                f" ({last + 1} bytes) but the device is shorter"
            )

    # -- public API --------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.superblock.volume_name.rstrip(b"\0").decode(errors="replace")

    def lookup(self, path: str) -> int:
        """Inode number of `path`, resolved from the root (a leading '/' is optional).

        '.' and '..' are resolved through the on-disk entries; repeated slashes are
        ignored. Symlinks are returned, not followed.
        """
        ino = self.root_ino
        walked = ""
        for part in path.split("/"):
            if not part:
                continue
            entries = self._dir_index(ino, walked or "/")
            hit = entries.get(part.encode(errors="surrogateescape"))
            walked += "/" + part
            if hit is None:
                where = "" if walked == path.rstrip("/") else f" ({walked} missing)"
                raise NotFound(f"{path}: no such file or directory{where}")
            ino = hit[0]
        if path.endswith("/") and not self.inode(ino).is_dir:
            raise NotADirectory(f"{path}: not a directory")
        return ino

    def inode(self, ino: int) -> Inode:
        """Decoded inode `ino` (1-based, like on disk)."""
        if not 1 <= ino <= self.inodes_count:
            raise CorruptImage(f"inode {ino} out of range (1..{self.inodes_count})")
        return self._inodes.get(ino, self._load_inode)

    def read(self, ino: int, offset: int, size: int) -> bytes:
        """Up to `size` bytes of inode `ino` from `offset`: short at EOF, b"" past it.

        Holes (block pointer 0) read as zeros.
        """
        if offset < 0 or size < 0:
            raise Ext2Error(f"bad read of inode {ino}: offset={offset} size={size}")
        inode = self.inode(ino)
        if self._is_fast_symlink(inode):
            return self._inline_data(inode)[offset : offset + size]
        end = min(inode.size, offset + size)
        if offset >= end:
            return b""
        if inode.size > self.max_file_size:
            raise CorruptImage(f"inode {ino}: size {inode.size} > the block map's limit")
        bs = self.block_size
        first, last = offset // bs, (end - 1) // bs
        data = self._gather([self._map(inode, n) for n in range(first, last + 1)])
        return data[offset - first * bs : end - first * bs]

    @property
    def max_file_size(self) -> int:
        """Largest size direct + single/double/triple indirect blocks can address."""
        p = self._ptrs
        return (fmt.N_DIRECT + p + p * p + p * p * p) * self.block_size

    def read_all(self, ino: int) -> bytes:
        """The whole contents of inode `ino`."""
        return self.read(ino, 0, self.inode(ino).size)

    def readlink(self, ino: int) -> str:
        """Target of symlink `ino`."""
        inode = self.inode(ino)
        if not inode.is_symlink:
            raise Ext2Error(f"inode {ino} is not a symlink")
        return self.read_all(ino).decode(errors="surrogateescape")

    def listdir(self, ino: int) -> list[DirEntry]:
        """Entries of directory `ino` in on-disk order, without '.' and '..'."""
        return [
            (name.decode(errors="surrogateescape"), child, ftype)
            for name, (child, ftype) in self._dir_index(ino, f"inode {ino}").items()
            if name not in (b".", b"..")
        ]

    # -- mounting ----------------------------------------------------------------------

    @staticmethod
    def _check_superblock(sb: Any) -> None:
        if sb.magic != fmt.MAGIC:
            raise Ext2Error(
                f"not an ext2 file system: bad magic 0x{sb.magic:04x} (expected 0x{fmt.MAGIC:04x})"
            )
        if sb.rev_level > fmt.REV_DYNAMIC:
            raise Unsupported(f"unsupported ext2 revision {sb.rev_level}")
        if sb.log_block_size > fmt.MAX_LOG_BLOCK_SIZE:
            raise CorruptImage(f"corrupt superblock: log_block_size {sb.log_block_size}")
        bs = 1024 << sb.log_block_size
        if sb.rev_level >= fmt.REV_DYNAMIC:
            isz = sb.inode_size
            if isz < fmt.GOOD_OLD_INODE_SIZE or isz > bs or isz & (isz - 1):
                raise CorruptImage(f"corrupt superblock: inode size {isz}")
        if not 0 < sb.blocks_per_group <= 8 * bs or not 0 < sb.inodes_per_group <= 8 * bs:
            raise CorruptImage(
                f"corrupt superblock: {sb.blocks_per_group} blocks and"
                f" {sb.inodes_per_group} inodes per group"
            )
        if sb.first_data_block > 1 or sb.blocks_count <= sb.first_data_block:
            raise CorruptImage(
                f"corrupt superblock: {sb.blocks_count} blocks, first data block"
                f" {sb.first_data_block}"
            )
        groups = -(-(sb.blocks_count - sb.first_data_block) // sb.blocks_per_group)
        if not fmt.ROOT_INO <= sb.inodes_count <= groups * sb.inodes_per_group:
            raise CorruptImage(f"corrupt superblock: inode count {sb.inodes_count}")
        unsupported = sb.feature_incompat & ~SUPPORTED_INCOMPAT if sb.rev_level else 0
        if unsupported:
            names = [n for bit, n in fmt.INCOMPAT_NAMES.items() if unsupported & bit]
            extra = unsupported & ~sum(fmt.INCOMPAT_NAMES)
            names += [f"0x{extra:x}"] if extra else []
            raise Unsupported(f"unsupported ext2 incompatible features: {', '.join(names)}")

    def _load_group_descriptors(self, sb: Any) -> list[Any]:
        bs = self.block_size
        n_groups = -(-(sb.blocks_count - sb.first_data_block) // sb.blocks_per_group)
        raw = self._read((sb.first_data_block + 1) * bs, n_groups * fmt.GROUP_DESC.size)
        table_blocks = -(-sb.inodes_per_group * self._inode_size // bs)
        groups = []
        for i in range(n_groups):
            desc = fmt.GROUP_DESC.unpack(raw, i * fmt.GROUP_DESC.size)
            if not 0 < desc.inode_table <= sb.blocks_count - table_blocks:
                raise CorruptImage(
                    f"corrupt group descriptor {i}: inode table at block {desc.inode_table}"
                    f" outside the file system ({sb.blocks_count} blocks)"
                )
            groups.append(desc)
        return groups

    # -- blocks and inodes -------------------------------------------------------------

    def _dev_read(self, offset: int, size: int) -> bytes:
        try:
            return bytes(self._dev.read(offset, size))
        except (OSError, ValueError, IndexError, EOFError) as e:
            raise CorruptImage(f"device read of {size} bytes at offset {offset} failed: {e}") from e

    def _read(self, offset: int, size: int) -> bytes:
        data = self._dev_read(offset, size)
        if len(data) != size:
            raise CorruptImage(
                f"image truncated: wanted {size} bytes at offset {offset}, got {len(data)}"
            )
        return data

    def _block(self, n: int) -> bytes:
        self._block_range_check(n)
        return self._blocks.get(n, self._load_block)

    def _gather(self, blocks: list[int]) -> bytes:
        """Contents of `blocks` (0 = hole) in order, reading each run of consecutive
        uncached blocks with one device request (a file is usually one run)."""
        bs = self.block_size
        out = bytearray()
        i = 0
        while i < len(blocks):
            n = blocks[i]
            j = i + 1
            if n == 0:
                out += self._zero
            elif n in self._blocks:
                out += self._block(n)
            else:
                while (
                    j < len(blocks) and blocks[j] == n + (j - i) and blocks[j] not in self._blocks
                ):
                    j += 1
                self._block_range_check(blocks[j - 1])
                run = self._read(n * bs, (j - i) * bs)
                for k in range(j - i):
                    self._blocks.put(n + k, run[k * bs : (k + 1) * bs])
                out += run
            i = j
        return bytes(out)

    def _block_range_check(self, n: int) -> None:
        if not 0 <= n < self.blocks_count:
            raise CorruptImage(f"block {n} out of range (file system has {self.blocks_count})")

    def _load_block(self, n: int) -> bytes:
        return self._read(n * self.block_size, self.block_size)

    def _load_inode(self, ino: int) -> Inode:
        group, index = divmod(ino - 1, self._ipg)
        offset = index * self._inode_size
        block = self._groups[group].inode_table + offset // self.block_size
        raw = fmt.INODE.unpack(self._block(block), offset % self.block_size)
        size = raw.size
        if self._large_files and raw.mode & fmt.S_IFMT == fmt.S_IFREG:
            size |= raw.size_high << 32
        return Inode(
            ino=ino,
            mode=raw.mode,
            uid=raw.uid | raw.uid_high << 16,
            gid=raw.gid | raw.gid_high << 16,
            size=size,
            atime=raw.atime,
            mtime=raw.mtime,
            ctime=raw.ctime,
            links_count=raw.links_count,
            blocks=raw.blocks,
            flags=raw.flags,
            file_acl=raw.file_acl,
            block=raw.block,
        )

    def _is_fast_symlink(self, inode: Inode) -> bool:
        ea_blocks = self.block_size // 512 if inode.file_acl else 0
        return inode.is_symlink and inode.blocks - ea_blocks == 0

    def _inline_data(self, inode: Inode) -> bytes:
        if inode.size > fmt.FAST_SYMLINK_MAX:
            raise CorruptImage(f"inode {inode.ino}: fast symlink of {inode.size} bytes")
        return struct.pack("<15I", *inode.block)[: inode.size]

    def _map(self, inode: Inode, logical: int) -> int:
        """Physical block of `logical` in `inode` (0 for a hole), walking indirect blocks."""
        if inode.flags & (EXTENTS_FL | INLINE_DATA_FL):
            raise Unsupported(f"inode {inode.ino} uses extents or inline data")
        p, n = self._ptrs, logical
        if n < fmt.N_DIRECT:
            return self._checked(inode.block[n], inode.ino)
        n -= fmt.N_DIRECT
        if n < p:
            return self._slot(inode.block[fmt.IND_BLOCK], n, inode.ino)
        n -= p
        if n < p * p:
            table = self._slot(inode.block[fmt.DIND_BLOCK], n // p, inode.ino)
            return self._slot(table, n % p, inode.ino)
        n -= p * p
        if n < p * p * p:
            table = self._slot(inode.block[fmt.TIND_BLOCK], n // (p * p), inode.ino)
            table = self._slot(table, n // p % p, inode.ino)
            return self._slot(table, n % p, inode.ino)
        raise CorruptImage(f"inode {inode.ino}: size needs block {logical}, beyond triple indirect")

    def _slot(self, table: int, index: int, ino: int) -> int:
        if not table:
            return 0
        self._checked(table, ino)
        pointers = self._tables.get(table, lambda b: self._ptr_struct.unpack(self._block(b)))
        return self._checked(pointers[index], ino)

    def _checked(self, block: int, ino: int) -> int:
        if block and not self.superblock.first_data_block <= block < self.blocks_count:
            raise CorruptImage(
                f"inode {ino}: block pointer {block} past the end of the file system"
                f" ({self.blocks_count} blocks)"
            )
        return block

    # -- directories -------------------------------------------------------------------

    def _dir_index(self, ino: int, where: str) -> dict[bytes, tuple[int, int]]:
        if not self.inode(ino).is_dir:
            raise NotADirectory(f"{where}: not a directory")
        return self._dirs.get(ino, self._load_dir)

    def _load_dir(self, ino: int) -> dict[bytes, tuple[int, int]]:
        inode = self.inode(ino)
        bs = self.block_size
        if inode.size > self.blocks_count * bs:
            raise CorruptImage(f"directory inode {ino}: size {inode.size} exceeds the file system")
        entries: dict[bytes, tuple[int, int]] = {}
        for logical in range(-(-inode.size // bs)):
            phys = self._map(inode, logical)
            if phys:
                self._parse_dir_block(ino, logical, self._block(phys), entries)
        return entries

    def _parse_dir_block(
        self, ino: int, logical: int, data: bytes, entries: dict[bytes, tuple[int, int]]
    ) -> None:
        bs = len(data)
        off = 0
        while off < bs:
            if off + fmt.DIRENT.size > bs:
                raise CorruptImage(f"directory inode {ino} block {logical}: entry header at {off}")
            child, rec_len, name_len, ftype = fmt.DIRENT.unpack(data, off)
            if not self._filetype:
                name_len, ftype = name_len | ftype << 8, fmt.FT_UNKNOWN
            if (
                rec_len < fmt.DIRENT.size
                or rec_len % fmt.DIRENT_ALIGN
                or off + rec_len > bs
                or fmt.DIRENT.size + name_len > rec_len
            ):
                raise CorruptImage(
                    f"directory inode {ino} block {logical}: bad entry at offset {off}"
                    f" (rec_len={rec_len}, name_len={name_len})"
                )
            if child:
                if child > self.inodes_count:
                    raise CorruptImage(
                        f"directory inode {ino}: entry names inode {child} out of range"
                    )
                name = data[off + fmt.DIRENT.size : off + fmt.DIRENT.size + name_len]
                if ftype == fmt.FT_UNKNOWN:
                    ftype = fmt.file_type_of_mode(self.inode(child).mode)
                entries.setdefault(name, (child, ftype))
            off += rec_len
