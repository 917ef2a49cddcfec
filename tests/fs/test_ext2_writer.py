"""The pure-Python ext2 writer: valid (e2fsck-clean), sized, deterministic images."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from images.ext2_writer import Ext2Builder, Ext2BuildError
from kernel.fs import ext2_format as fmt
from kernel.fs.blockdev import BytesDevice
from kernel.fs.ext2 import Ext2Volume

from .e2fs_tools import debugfs_cat, e2fsck_clean

MIB = 1024 * 1024


def _rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def rich_builder() -> Ext2Builder:
    """Every shape the writer has to handle, in one tree."""
    b = Ext2Builder(label="test")
    for d in ("/bin", "/dev/fd", "/var", "/var/tmp"):
        b.mkdir(d)
    b.add_file("/var/hello.txt", b"Hello, axiom-ebpf!\n")
    b.add_file("/bin/thirteen", _rand(13 * 1024, 1), 0o755)  # first single-indirect block
    b.add_file("/bin/double", _rand(300 * 1024, 2), 0o755)  # past 12 + 256 blocks
    b.add_file("/sparse", b"head" + bytes(40 * 1024) + b"tail")
    b.add_file("/empty", b"")
    b.mkdir("/secret", 0o700)
    b.add_file("/a/b/c/d/e/f/deep.txt", b"deep\n", 0o600)
    for i in range(200):
        b.add_file(f"/many/entry_number_{i:03d}", f"{i}\n".encode())
    b.symlink("/bin/sh", "thirteen")
    b.symlink("/long-link", "t" * 100)
    return b


@pytest.fixture(scope="module")
def rich_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "rich.img"
    path.write_bytes(rich_builder().build())
    return path


def test_rich_image_is_e2fsck_clean(rich_image: Path) -> None:
    e2fsck_clean(rich_image)


def test_debugfs_reads_hello(rich_image: Path) -> None:
    assert debugfs_cat(rich_image, "/var/hello.txt") == b"Hello, axiom-ebpf!\n"
    assert debugfs_cat(rich_image, "/bin/double") == _rand(300 * 1024, 2)


def test_default_size_is_10_mib_with_5_percent_reserved(rich_image: Path) -> None:
    data = rich_image.read_bytes()
    assert len(data) == 10 * MIB
    sb = fmt.SUPERBLOCK.unpack(data, fmt.SUPERBLOCK_OFFSET)
    assert sb.magic == fmt.MAGIC and sb.rev_level == fmt.REV_DYNAMIC
    assert sb.blocks_count == 10 * 1024 and sb.log_block_size == 0
    assert sb.r_blocks_count == sb.blocks_count * 5 // 100
    assert sb.inode_size == 128 and sb.first_ino == 11
    assert sb.feature_incompat == fmt.INCOMPAT_FILETYPE
    assert sb.volume_name.rstrip(b"\0") == b"test"


def test_free_counts_match_bitmaps(rich_image: Path) -> None:
    data = rich_image.read_bytes()
    sb = fmt.SUPERBLOCK.unpack(data, fmt.SUPERBLOCK_OFFSET)
    groups = -(-(sb.blocks_count - sb.first_data_block) // sb.blocks_per_group)
    assert groups == 2  # 10 MiB of 1 KiB blocks spans two groups
    free_blocks = free_inodes = 0
    for g in range(groups):
        desc = fmt.GROUP_DESC.unpack(data, 2048 + g * 32)
        in_group = min(sb.blocks_per_group, sb.blocks_count - 1 - g * sb.blocks_per_group)
        bitmap = data[desc.block_bitmap * 1024 :][: in_group // 8 + 1]
        used = sum(bitmap[i // 8] >> (i % 8) & 1 for i in range(in_group))
        assert in_group - used == desc.free_blocks_count
        ibitmap = data[desc.inode_bitmap * 1024 :][: sb.inodes_per_group // 8]
        used_inodes = sum(bin(b).count("1") for b in ibitmap)
        assert sb.inodes_per_group - used_inodes == desc.free_inodes_count
        free_blocks += desc.free_blocks_count
        free_inodes += desc.free_inodes_count
    assert (free_blocks, free_inodes) == (sb.free_blocks_count, sb.free_inodes_count)


def test_reserved_inodes_root_and_lost_found(rich_image: Path) -> None:
    vol = Ext2Volume(BytesDevice(rich_image.read_bytes()))
    assert vol.lookup("/lost+found") == fmt.LOST_FOUND_INO
    lf = vol.inode(fmt.LOST_FOUND_INO)
    assert lf.mode == fmt.S_IFDIR | 0o700 and lf.size == 12 * 1024
    root = vol.inode(fmt.ROOT_INO)
    subdirs = [e for e in vol.listdir(2) if e[2] == fmt.FT_DIR]
    assert root.links_count == 2 + len(subdirs)


def test_i_blocks_count_indirect_blocks_not_holes(rich_image: Path) -> None:
    vol = Ext2Volume(BytesDevice(rich_image.read_bytes()))
    assert vol.inode(vol.lookup("/bin/thirteen")).blocks == (13 + 1) * 2
    assert vol.inode(vol.lookup("/bin/double")).blocks == (300 + 1 + 2) * 2
    assert vol.inode(vol.lookup("/sparse")).blocks == (2 + 1) * 2  # head, tail, indirect
    assert vol.inode(vol.lookup("/empty")).blocks == 0


def test_directory_with_200_entries_spans_blocks(rich_image: Path) -> None:
    vol = Ext2Volume(BytesDevice(rich_image.read_bytes()))
    many = vol.inode(vol.lookup("/many"))
    assert many.size == 5 * 1024  # 202 entries of 24 bytes
    assert [n for n, _, _ in vol.listdir(vol.lookup("/many"))] == [
        f"entry_number_{i:03d}" for i in range(200)
    ]


def test_same_input_same_bytes() -> None:
    assert rich_builder().build() == rich_builder().build()


def test_uuid_follows_content() -> None:
    def uuid(content: bytes) -> bytes:
        b = Ext2Builder()
        b.add_file("/f", content)
        return fmt.SUPERBLOCK.unpack(b.build(), fmt.SUPERBLOCK_OFFSET).uuid

    assert uuid(b"a") == uuid(b"a") != uuid(b"b")


def test_big_contents_grow_the_image_over_several_groups(tmp_path: Path) -> None:
    b = Ext2Builder()
    b.add_file("/big", _rand(12 * MIB, 3))
    image = b.build()
    assert len(image) >= 18 * MIB  # ~50% headroom over 12 MiB
    sb = fmt.SUPERBLOCK.unpack(image, fmt.SUPERBLOCK_OFFSET)
    assert sb.blocks_count // sb.blocks_per_group >= 2
    assert sb.free_blocks_count >= 5 * 1024
    path = tmp_path / "big.img"
    path.write_bytes(image)
    e2fsck_clean(path)


def test_triple_indirect_sparse_file(tmp_path: Path) -> None:
    size = 70 * MIB  # 1 KiB blocks: past 12 + 256 + 65536 blocks
    b = Ext2Builder()
    content = bytearray(size)
    content[0:1] = b"A"
    content[-1:] = b"Z"
    b.add_file("/huge", bytes(content))
    path = tmp_path / "tind.img"
    path.write_bytes(b.build())
    e2fsck_clean(path)
    vol = Ext2Volume(BytesDevice(path.read_bytes()))
    ino = vol.lookup("/huge")
    assert vol.inode(ino).block[fmt.TIND_BLOCK] != 0
    assert vol.read(ino, size - 3, 10) == b"\0\0Z"
    assert vol.read(ino, 0, 2) == b"A\0"


@pytest.mark.parametrize("block_size", [2048, 4096])
def test_other_block_sizes(tmp_path: Path, block_size: int) -> None:
    path = tmp_path / "bs.img"
    path.write_bytes(rich_builder().build(block_size=block_size))
    e2fsck_clean(path)
    vol = Ext2Volume(BytesDevice(path.read_bytes()))
    assert vol.block_size == block_size
    assert vol.read_all(vol.lookup("/bin/double")) == _rand(300 * 1024, 2)


@pytest.mark.parametrize("size", [4 * MIB, 8 * MIB + 30 * 1024])  # the second has a runt group
def test_explicit_size(tmp_path: Path, size: int) -> None:
    image = rich_builder().build(size)
    assert len(image) == size
    path = tmp_path / "4m.img"
    path.write_bytes(image)
    e2fsck_clean(path)


def test_too_small_size_is_a_clear_error() -> None:
    b = Ext2Builder()
    b.add_file("/big", _rand(2 * MIB, 4))
    with pytest.raises(Ext2BuildError, match="contents need .* data blocks"):
        b.build(1 * MIB)


def test_modes_are_kept() -> None:
    vol = Ext2Volume(BytesDevice(rich_builder().build()))
    assert vol.inode(vol.lookup("/secret")).mode == fmt.S_IFDIR | 0o700
    assert vol.inode(vol.lookup("/bin/double")).mode == fmt.S_IFREG | 0o755
    assert vol.inode(vol.lookup("/var/hello.txt")).mode == fmt.S_IFREG | 0o644
    assert vol.inode(vol.lookup("/a/b/c/d/e/f/deep.txt")).mode == fmt.S_IFREG | 0o600
    assert vol.inode(vol.lookup("/bin/sh")).mode == fmt.S_IFLNK | 0o777


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda b: b.add_file("/var", b"x"), "a directory is already there"),
        (lambda b: b.mkdir("/var/hello.txt"), "a file is already there"),
        (lambda b: b.add_file("/var/hello.txt/x", b"x"), "is a file, not a directory"),
        (lambda b: b.add_file("/var/../x", b"x"), "'.' and '..' are not allowed"),
        (lambda b: b.add_file("/" + "n" * 256, b"x"), "bad name"),
        (lambda b: b.add_file("/", b"x"), "root directory"),
    ],
)
def test_bad_paths(action: Callable[[Ext2Builder], None], message: str) -> None:
    b = Ext2Builder()
    b.add_file("/var/hello.txt", b"hi")
    with pytest.raises(Ext2BuildError, match=message):
        action(b)


def test_replacing_a_file_keeps_the_last_version() -> None:
    b = Ext2Builder()
    b.add_file("/bin/init", b"old")
    b.add_file("/bin/init", b"new", 0o755)
    vol = Ext2Volume(BytesDevice(b.build()))
    assert vol.read_all(vol.lookup("/bin/init")) == b"new"
