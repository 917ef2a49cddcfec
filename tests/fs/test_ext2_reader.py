"""The read-only ext2 reader: round trips, mke2fs images, and every corruption path."""

from __future__ import annotations

import os
import random
import struct
import subprocess
from pathlib import Path

import pytest

from images.ext2_writer import Ext2Builder
from kernel.fs import ext2_format as fmt
from kernel.fs.blockdev import BytesDevice
from kernel.fs.ext2 import (
    CorruptImage,
    Ext2Error,
    Ext2Volume,
    NotADirectory,
    NotFound,
    Unsupported,
)

from .e2fs_tools import need_tool

DOUBLE = random.Random(7).randbytes(400 * 1024)  # 12 + 256 blocks is 268 KiB at 1 KiB


def _image(size: int | None = None) -> bytes:
    b = Ext2Builder()
    b.mkdir("/dev/fd")
    b.mkdir("/var/tmp")
    b.add_file("/var/hello.txt", b"Hello, axiom-ebpf!\n")
    b.add_file("/bin/prog", DOUBLE, 0o755)
    b.add_file("/holes", b"x" + bytes(5000) + b"y")
    b.symlink("/link", "bin/prog")
    for i in range(200):
        b.add_file(f"/many/f{i:03d}", b"%d" % i)
    return b.build(size)


IMAGE = _image()


@pytest.fixture
def vol() -> Ext2Volume:
    return Ext2Volume(BytesDevice(IMAGE))


# -- round trips ----------------------------------------------------------------------


def test_read_whole_and_partial(vol: Ext2Volume) -> None:
    ino = vol.lookup("/bin/prog")
    assert vol.read_all(ino) == DOUBLE
    assert vol.read(ino, 1000, 5000) == DOUBLE[1000:6000]  # spans blocks
    assert vol.read(ino, 300 * 1024 - 7, 14) == DOUBLE[300 * 1024 - 7 : 300 * 1024 + 7]


def test_short_read_at_eof_and_empty_past_it(vol: Ext2Volume) -> None:
    ino = vol.lookup("/var/hello.txt")
    assert vol.read(ino, 7, 100) == b"axiom-ebpf!\n"
    assert vol.read(ino, 19, 10) == b""
    assert vol.read(ino, 10_000, 10) == b""
    assert vol.read(ino, 0, 0) == b""


def test_holes_read_as_zeros(vol: Ext2Volume) -> None:
    assert vol.read_all(vol.lookup("/holes")) == b"x" + bytes(5000) + b"y"
    assert vol.read(vol.lookup("/holes"), 2048, 16) == bytes(16)


def test_lookup_handles_dots_and_slashes(vol: Ext2Volume) -> None:
    hello = vol.lookup("/var/hello.txt")
    assert vol.lookup("//var///hello.txt") == hello
    assert vol.lookup("/var/./tmp/../hello.txt") == hello
    assert vol.lookup("var/hello.txt") == hello
    assert vol.lookup("/") == vol.lookup("") == vol.lookup("/..") == vol.root_ino
    assert vol.lookup("/var/tmp/") == vol.lookup("/var/tmp")


def test_lookup_errors(vol: Ext2Volume) -> None:
    with pytest.raises(NotFound, match="/var/nope: no such file or directory"):
        vol.lookup("/var/nope")
    with pytest.raises(FileNotFoundError):  # the kernel may catch the builtin
        vol.lookup("/nope/deeper")
    with pytest.raises(NotADirectory, match="not a directory"):
        vol.lookup("/var/hello.txt/x")
    with pytest.raises(NotADirectoryError):
        vol.lookup("/var/hello.txt/")
    with pytest.raises(NotADirectory):
        vol.listdir(vol.lookup("/var/hello.txt"))


def test_inode_fields(vol: Ext2Volume) -> None:
    prog = vol.inode(vol.lookup("/bin/prog"))
    assert prog.is_file and not prog.is_dir and not prog.is_symlink
    assert prog.mode == fmt.S_IFREG | 0o755 and prog.size == len(DOUBLE)
    assert (prog.uid, prog.gid, prog.links_count) == (0, 0, 1)
    assert prog.blocks == (400 + 1 + 2) * 2  # data + single + double-indirect tables
    var = vol.inode(vol.lookup("/var"))
    assert var.is_dir and var.links_count == 3  # ., its entry in /, tmp/..
    assert vol.inode(vol.lookup("/link")).is_symlink


def test_listdir(vol: Ext2Volume) -> None:
    assert vol.listdir(vol.lookup("/var")) == [
        ("hello.txt", vol.lookup("/var/hello.txt"), fmt.FT_REG_FILE),
        ("tmp", vol.lookup("/var/tmp"), fmt.FT_DIR),
    ]
    assert vol.listdir(vol.lookup("/dev/fd")) == []
    assert len(vol.listdir(vol.lookup("/many"))) == 200
    assert ("link", vol.lookup("/link"), fmt.FT_SYMLINK) in vol.listdir(vol.root_ino)


def test_readlink(vol: Ext2Volume) -> None:
    assert vol.readlink(vol.lookup("/link")) == "bin/prog"
    with pytest.raises(Ext2Error, match="not a symlink"):
        vol.readlink(vol.lookup("/bin/prog"))


class CountingDevice(BytesDevice):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.requests = 0

    def read(self, offset: int, size: int) -> bytes:
        self.requests += 1
        return super().read(offset, size)


def test_file_reads_are_batched_and_cached() -> None:
    dev = CountingDevice(IMAGE)
    vol = Ext2Volume(dev)
    ino = vol.lookup("/bin/prog")
    before = dev.requests
    assert vol.read_all(ino) == DOUBLE
    first = dev.requests - before
    assert first < 10  # 400 blocks in a handful of requests, not 400
    vol.read_all(ino)
    assert dev.requests - before == first  # second read entirely from the cache


# -- images made by mke2fs ------------------------------------------------------------


@pytest.fixture(scope="module")
def mke2fs_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    mke2fs = need_tool("mke2fs")
    root = tmp_path_factory.mktemp("mke2fs")
    src = root / "src"
    (src / "many").mkdir(parents=True)
    (src / "a" / "b").mkdir(parents=True)
    rng = random.Random(11)
    (src / "indirect").write_bytes(rng.randbytes(20_000))  # > 12 blocks
    (src / "double").write_bytes(rng.randbytes(400_000))  # > 268 blocks
    with open(src / "sparse", "wb") as f:
        f.truncate(300_000)
        f.seek(300_000)
        f.write(b"tail")
    for i in range(200):
        (src / "many" / f"entry_{i}").write_text(f"{i}\n")
    (src / "a" / "b" / "deep").write_text("deep\n")
    os.symlink("double", src / "link")
    image = root / "img"
    subprocess.run(
        [mke2fs, "-q", "-F", "-t", "ext2", "-d", str(src), str(image), "4M"],
        check=True,
        capture_output=True,
    )
    return src, image


def test_reads_mke2fs_image(mke2fs_image: tuple[Path, Path]) -> None:
    src, image = mke2fs_image
    vol = Ext2Volume(BytesDevice(image.read_bytes()))
    for name in ("indirect", "double", "sparse", "a/b/deep"):
        assert vol.read_all(vol.lookup(name)) == (src / name).read_bytes(), name
    many = vol.listdir(vol.lookup("/many"))
    assert sorted(n for n, _, _ in many) == sorted(f"entry_{i}" for i in range(200))
    assert all(ft == fmt.FT_REG_FILE for _, _, ft in many)
    assert vol.read_all(vol.lookup("/many/entry_199")) == b"199\n"
    assert vol.readlink(vol.lookup("/link")) == "double"
    assert vol.lookup("/lost+found") == fmt.LOST_FOUND_INO


# -- corrupt and unsupported images ---------------------------------------------------


def _patched(patches: dict[int, bytes], base: bytes = IMAGE) -> bytes:
    data = bytearray(base)
    for offset, raw in patches.items():
        data[offset : offset + len(raw)] = raw
    return bytes(data)


def _inode_offset(vol: Ext2Volume, ino: int) -> int:
    desc = fmt.GROUP_DESC.unpack(IMAGE, 2 * 1024)  # group 0; the test inodes live there
    return desc.inode_table * vol.block_size + (ino - 1) * 128


def _dir_block_offset(vol: Ext2Volume, path: str) -> int:
    return vol.inode(vol.lookup(path)).block[0] * vol.block_size


def _one_line_error(exc: pytest.ExceptionInfo[Ext2Error]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_bad_magic() -> None:
    with pytest.raises(Ext2Error, match="bad magic 0x0000") as exc:
        Ext2Volume(BytesDevice(_patched({1024 + 56: b"\0\0"})))
    _one_line_error(exc)


def test_not_an_image_at_all() -> None:
    with pytest.raises(Ext2Error, match="bad magic"):
        Ext2Volume(BytesDevice(bytes(4096)))


@pytest.mark.parametrize("length", [0, 1500, 4096, len(IMAGE) // 2, len(IMAGE) - 1])
def test_truncated_image(length: int) -> None:
    with pytest.raises(CorruptImage, match="truncated") as exc:
        Ext2Volume(BytesDevice(IMAGE[:length]))
    _one_line_error(exc)


def test_inode_out_of_range(vol: Ext2Volume) -> None:
    for ino in (0, -1, vol.inodes_count + 1):
        with pytest.raises(CorruptImage, match=rf"inode {ino} out of range \(1\.\.") as exc:
            vol.inode(ino)
        _one_line_error(exc)


def test_block_pointer_past_the_end(vol: Ext2Volume) -> None:
    ino = vol.lookup("/var/hello.txt")
    block0 = _inode_offset(vol, ino) + 40  # i_block[0]
    bad = Ext2Volume(BytesDevice(_patched({block0: struct.pack("<I", 10**7)})))
    with pytest.raises(CorruptImage, match="block pointer 10000000 past the end") as exc:
        bad.read(ino, 0, 10)
    _one_line_error(exc)


def test_indirect_pointer_past_the_end(vol: Ext2Volume) -> None:
    ino = vol.lookup("/bin/prog")
    ind = vol.inode(ino).block[fmt.IND_BLOCK] * vol.block_size
    bad = Ext2Volume(BytesDevice(_patched({ind + 8: struct.pack("<I", 2**31)})))
    assert bad.read(ino, 0, 1024) == DOUBLE[:1024]  # direct blocks are still fine
    with pytest.raises(CorruptImage, match=f"inode {ino}: block pointer 2147483648"):
        bad.read_all(ino)


def test_directory_entry_with_zero_rec_len(vol: Ext2Volume) -> None:
    """rec_len = 0 would make a naive reader loop forever."""
    entry = _dir_block_offset(vol, "/var") + 12  # the '..' entry's rec_len field...
    bad = Ext2Volume(BytesDevice(_patched({entry + 4: b"\0\0"})))
    with pytest.raises(CorruptImage, match=r"bad entry at offset 12 \(rec_len=0") as exc:
        bad.lookup("/var/hello.txt")
    _one_line_error(exc)


def test_directory_entry_running_past_its_block(vol: Ext2Volume) -> None:
    entry = _dir_block_offset(vol, "/var")
    bad = Ext2Volume(BytesDevice(_patched({entry + 4: struct.pack("<H", 2048)})))
    with pytest.raises(CorruptImage, match="rec_len=2048"):
        bad.listdir(vol.lookup("/var"))


def test_directory_entry_naming_a_bad_inode(vol: Ext2Volume) -> None:
    entry = _dir_block_offset(vol, "/var") + 24  # first real entry: hello.txt
    bad = Ext2Volume(BytesDevice(_patched({entry: struct.pack("<I", 10**8)})))
    with pytest.raises(CorruptImage, match="inode 100000000 out of range"):
        bad.lookup("/var/hello.txt")


def test_unsupported_incompat_feature() -> None:
    incompat = fmt.INCOMPAT_FILETYPE | fmt.INCOMPAT_EXTENTS | fmt.INCOMPAT_64BIT
    data = _patched({1024 + 96: struct.pack("<I", incompat)})
    with pytest.raises(Unsupported, match="unsupported ext2 incompatible features: extent, 64bit"):
        Ext2Volume(BytesDevice(data))


@pytest.mark.parametrize(
    ("offset", "raw", "message"),
    [
        (1024 + 24, struct.pack("<I", 9), "log_block_size 9"),
        (1024 + 32, struct.pack("<I", 0), "blocks and .* inodes per group"),
        (1024 + 88, struct.pack("<H", 100), "inode size 100"),
        (1024 + 0, struct.pack("<I", 10**9), "inode count"),
        (2048 + 8, struct.pack("<I", 10**8), "inode table at block 100000000"),
    ],
)
def test_corrupt_superblock_and_descriptors(offset: int, raw: bytes, message: str) -> None:
    with pytest.raises(CorruptImage, match=message) as exc:
        Ext2Volume(BytesDevice(_patched({offset: raw})))
    _one_line_error(exc)


def test_random_metadata_corruption_only_raises_ext2_error() -> None:
    """Flip bytes in the metadata area; any failure must be an Ext2Error."""
    rng = random.Random(1234)
    small = _image(1024 * 1024)
    metadata_end = 48 * 1024  # superblock, descriptors, bitmaps, inode table
    errors = 0
    for _ in range(200):
        data = bytearray(small)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(1024, metadata_end)] = rng.randrange(256)
        try:
            _walk(Ext2Volume(BytesDevice(bytes(data))))
        except Ext2Error as e:
            assert "\n" not in str(e)
            errors += 1
    assert errors > 20, errors  # the corruption was actually noticed, not just skipped


def _walk(vol: Ext2Volume) -> None:
    seen: set[int] = set()
    todo = [vol.root_ino]
    while todo:
        ino = todo.pop()
        if ino in seen:
            continue
        seen.add(ino)
        inode = vol.inode(ino)
        if inode.is_dir:
            todo.extend(child for _, child, _ in vol.listdir(ino))
        else:
            vol.read(ino, 0, 64 * 1024)
            vol.read(ino, max(0, inode.size - 1024), 1024)
