"""ext2 on-disk layout: the one description shared by the image writer and the reader.

Both `images.ext2_writer` (which builds disk images) and `kernel.fs.ext2` (which the
modelled kernel mounts) import their records and constants from here, so the two can
never disagree about an offset. Field names follow Linux's `ext2_fs.h` minus the
`s_`/`bg_`/`i_` prefixes. Everything is little-endian.
"""

from __future__ import annotations

import struct
from collections import namedtuple
from typing import Any

SUPERBLOCK_OFFSET = 1024  # byte offset of the primary superblock, whatever the block size
SUPERBLOCK_SIZE = 1024
MAGIC = 0xEF53
REV_GOOD_OLD = 0  # fixed 128-byte inodes, first usable inode 11
REV_DYNAMIC = 1  # inode size and first inode come from the superblock
GOOD_OLD_INODE_SIZE = 128
GOOD_OLD_FIRST_INO = 11
MIN_LOG_BLOCK_SIZE = 0  # 1024 << 0
MAX_LOG_BLOCK_SIZE = 6  # 1024 << 6 = 64 KiB

STATE_CLEAN = 1
ERRORS_CONTINUE = 1
OS_LINUX = 0

# Reserved inode numbers.
BAD_BLOCKS_INO = 1
ROOT_INO = 2
LOST_FOUND_INO = 11  # what mke2fs gives lost+found (the first non-reserved inode)

# Block pointers in an inode: 12 direct, then single, double and triple indirect.
N_DIRECT = 12
IND_BLOCK = 12
DIND_BLOCK = 13
TIND_BLOCK = 14
N_BLOCK_PTRS = 15
FAST_SYMLINK_MAX = N_BLOCK_PTRS * 4  # a symlink target shorter than this lives in i_block

# Feature flags (only the ones this project writes or has to recognise).
COMPAT_DIR_PREALLOC = 0x0001
COMPAT_EXT_ATTR = 0x0008
COMPAT_RESIZE_INODE = 0x0010
COMPAT_DIR_INDEX = 0x0020
INCOMPAT_COMPRESSION = 0x0001
INCOMPAT_FILETYPE = 0x0002
INCOMPAT_RECOVER = 0x0004
INCOMPAT_JOURNAL_DEV = 0x0008
INCOMPAT_META_BG = 0x0010
INCOMPAT_EXTENTS = 0x0040
INCOMPAT_64BIT = 0x0080
INCOMPAT_FLEX_BG = 0x0200
INCOMPAT_INLINE_DATA = 0x8000
RO_COMPAT_SPARSE_SUPER = 0x0001
RO_COMPAT_LARGE_FILE = 0x0002

INCOMPAT_NAMES = {
    INCOMPAT_COMPRESSION: "compression",
    INCOMPAT_FILETYPE: "filetype",
    INCOMPAT_RECOVER: "needs_recovery",
    INCOMPAT_JOURNAL_DEV: "journal_dev",
    INCOMPAT_META_BG: "meta_bg",
    INCOMPAT_EXTENTS: "extent",
    INCOMPAT_64BIT: "64bit",
    INCOMPAT_FLEX_BG: "flex_bg",
    INCOMPAT_INLINE_DATA: "inline_data",
}

# Mode bits (i_mode): file type in the top nibble, permissions below.
S_IFMT = 0o170000
S_IFSOCK = 0o140000
S_IFLNK = 0o120000
S_IFREG = 0o100000
S_IFBLK = 0o060000
S_IFDIR = 0o040000
S_IFCHR = 0o020000
S_IFIFO = 0o010000
PERM_MASK = 0o7777

# Directory entry file type codes (INCOMPAT_FILETYPE).
FT_UNKNOWN = 0
FT_REG_FILE = 1
FT_DIR = 2
FT_CHRDEV = 3
FT_BLKDEV = 4
FT_FIFO = 5
FT_SOCK = 6
FT_SYMLINK = 7

MODE_TO_FT = {
    S_IFREG: FT_REG_FILE,
    S_IFDIR: FT_DIR,
    S_IFCHR: FT_CHRDEV,
    S_IFBLK: FT_BLKDEV,
    S_IFIFO: FT_FIFO,
    S_IFSOCK: FT_SOCK,
    S_IFLNK: FT_SYMLINK,
}

NAME_MAX = 255


class Record:
    """A fixed-size little-endian record described once as (name, struct format) pairs.

    Array fields ("15I") unpack to a tuple; byte fields ("16s") to bytes. `size` pads
    the record with zero bytes so the superblock can describe only the fields in use.
    """

    def __init__(self, name: str, fields: list[tuple[str, str]], size: int | None = None):
        fmt = "<" + "".join(f for _, f in fields)
        natural = struct.calcsize(fmt)
        if size is not None:
            if size < natural:
                raise ValueError(f"{name}: fields take {natural} bytes, more than {size}")
            fmt += f"{size - natural}x"
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.type: Any = namedtuple(name, [n for n, _ in fields])  # type: ignore[misc]
        # How many raw struct values each field spans (arrays of numbers span several).
        self._spans = [_span(f) for _, f in fields]
        self._zeros = [
            b"" if f.endswith("s") else (0,) * s if s else 0
            for (_, f), s in zip(fields, self._spans, strict=True)
        ]

    def unpack(self, buf: bytes | bytearray | memoryview, offset: int = 0) -> Any:
        raw = self.struct.unpack_from(buf, offset)
        values: list[Any] = []
        pos = 0
        for span in self._spans:
            values.append(raw[pos] if span == 0 else tuple(raw[pos : pos + span]))
            pos += max(span, 1)
        return self.type(*values)

    def make(self, **fields: Any) -> Any:
        """A record with every field zero (or b"", or a tuple of zeros) except `fields`."""
        return self.type(*self._zeros)._replace(**fields)

    def pack(self, record: Any) -> bytes:
        flat: list[Any] = []
        for value, span in zip(record, self._spans, strict=True):
            if span:
                flat.extend(value)
            else:
                flat.append(value)
        return self.struct.pack(*flat)

    def pack_into(self, buf: bytearray, offset: int, record: Any) -> None:
        buf[offset : offset + self.size] = self.pack(record)


def _span(fmt: str) -> int:
    """0 for a scalar or a byte string, N for an array of N numbers ("15I")."""
    count = fmt[:-1]
    if fmt.endswith("s") or not count:
        return 0
    return int(count)


SUPERBLOCK = Record(
    "Superblock",
    [
        ("inodes_count", "I"),
        ("blocks_count", "I"),
        ("r_blocks_count", "I"),
        ("free_blocks_count", "I"),
        ("free_inodes_count", "I"),
        ("first_data_block", "I"),
        ("log_block_size", "I"),
        ("log_frag_size", "I"),
        ("blocks_per_group", "I"),
        ("frags_per_group", "I"),
        ("inodes_per_group", "I"),
        ("mtime", "I"),
        ("wtime", "I"),
        ("mnt_count", "H"),
        ("max_mnt_count", "h"),
        ("magic", "H"),
        ("state", "H"),
        ("errors", "H"),
        ("minor_rev_level", "H"),
        ("lastcheck", "I"),
        ("checkinterval", "I"),
        ("creator_os", "I"),
        ("rev_level", "I"),
        ("def_resuid", "H"),
        ("def_resgid", "H"),
        # Revision 1 (dynamic) fields.
        ("first_ino", "I"),
        ("inode_size", "H"),
        ("block_group_nr", "H"),
        ("feature_compat", "I"),
        ("feature_incompat", "I"),
        ("feature_ro_compat", "I"),
        ("uuid", "16s"),
        ("volume_name", "16s"),
        ("last_mounted", "64s"),
        ("algorithm_usage_bitmap", "I"),
        ("prealloc_blocks", "B"),
        ("prealloc_dir_blocks", "B"),
        ("reserved_gdt_blocks", "H"),
        ("journal_uuid", "16s"),
        ("journal_inum", "I"),
        ("journal_dev", "I"),
        ("last_orphan", "I"),
        ("hash_seed", "4I"),
        ("def_hash_version", "B"),
        ("jnl_backup_type", "B"),
        ("desc_size", "H"),
        ("default_mount_opts", "I"),
        ("first_meta_bg", "I"),
        ("mkfs_time", "I"),
    ],
    size=SUPERBLOCK_SIZE,
)

GROUP_DESC = Record(
    "GroupDesc",
    [
        ("block_bitmap", "I"),
        ("inode_bitmap", "I"),
        ("inode_table", "I"),
        ("free_blocks_count", "H"),
        ("free_inodes_count", "H"),
        ("used_dirs_count", "H"),
        ("pad", "H"),
        ("reserved", "12s"),
    ],
)

INODE = Record(
    "RawInode",
    [
        ("mode", "H"),
        ("uid", "H"),
        ("size", "I"),
        ("atime", "I"),
        ("ctime", "I"),
        ("mtime", "I"),
        ("dtime", "I"),
        ("gid", "H"),
        ("links_count", "H"),
        ("blocks", "I"),  # in 512-byte units, whatever the block size
        ("flags", "I"),
        ("osd1", "I"),
        ("block", "15I"),
        ("generation", "I"),
        ("file_acl", "I"),
        ("size_high", "I"),  # i_dir_acl in revision 0; high 32 bits of a file's size
        ("faddr", "I"),
        ("frag", "B"),
        ("fsize", "B"),
        ("pad1", "H"),
        ("uid_high", "H"),
        ("gid_high", "H"),
        ("reserved2", "I"),
    ],
)

# A directory entry header; the name (name_len bytes) follows, and rec_len covers both
# plus padding to a multiple of 4. The last entry of a block runs to the block's end.
DIRENT = Record(
    "DirentHeader",
    [("inode", "I"), ("rec_len", "H"), ("name_len", "B"), ("file_type", "B")],
)
DIRENT_ALIGN = 4

assert SUPERBLOCK.size == 1024 and GROUP_DESC.size == 32
assert INODE.size == GOOD_OLD_INODE_SIZE and DIRENT.size == 8


def dirent_size(name_len: int) -> int:
    """The smallest rec_len that holds a name of `name_len` bytes."""
    return (DIRENT.size + name_len + DIRENT_ALIGN - 1) & ~(DIRENT_ALIGN - 1)


def has_superblock_backup(group: int, sparse_super: bool) -> bool:
    """Whether block group `group` carries a superblock + descriptor copy.

    With sparse_super only groups 0, 1 and powers of 3, 5 and 7 do.
    """
    if group <= 1 or not sparse_super:
        return True
    for base in (3, 5, 7):
        n = base
        while n < group:
            n *= base
        if n == group:
            return True
    return False


def file_type_of_mode(mode: int) -> int:
    return MODE_TO_FT.get(mode & S_IFMT, FT_UNKNOWN)
