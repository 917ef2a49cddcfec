"""The ELF loader and process layout on hand-written static executables (PT_TLS,
PT_GNU_STACK, .bss beyond the file, several PT_LOADs): what gets mapped where, with
which protections and contents, and the thread pointer."""

from __future__ import annotations

import pytest

from emulator.cpu.aarch64 import Aarch64Cpu
from emulator.cpu.x86_64 import X86_64Cpu
from kernel.abi import USER_ALLOC_BASE, USER_EXEC_ALLOC_BASE, Arch, Errno, SyscallError
from kernel.elfload import ElfImage, ProcessStart, build_process, parse_executable
from kernel.mm import PROT_R, PROT_W, PROT_X, AddressSpace, MemoryAccount

from .static_elf import BASE, static_elf

CPUS = {"x86_64": X86_64Cpu, "aarch64": Aarch64Cpu}
MIB = 1 << 20


def _trap(*_: object) -> int:
    return 0


@pytest.fixture(params=["x86_64", "aarch64"])
def arch(request: pytest.FixtureRequest) -> str:
    return request.param


def layout(arch: str, data: bytes, spawned: bool) -> tuple[AddressSpace, ElfImage, ProcessStart]:
    cpu = CPUS[arch](_trap)
    base = (USER_ALLOC_BASE if spawned else USER_EXEC_ALLOC_BASE)[Arch(arch)]
    mm = AddressSpace(cpu, MemoryAccount(64 * MIB), base)
    image = parse_executable(data, arch, "static")
    return mm, image, build_process(image, mm, [b"/bin/static", b"x"], [b"A=1"], spawned)


def test_segments_tls_and_stack_are_where_the_original_puts_them(arch: str) -> None:
    data = static_elf(arch)
    mm, image, start = layout(arch, data, spawned=True)
    base, anywhere = BASE[arch], USER_ALLOC_BASE[Arch(arch)]
    got = [(v.start, v.end, v.prot, v.kind) for v in mm.vmas]
    file_end = anywhere + 0x3000  # the 0x2008-byte file rounded up to pages
    top = file_end + 0x2000 + 0x1000 + MIB  # TLS master, TLS block, guard, stack
    expected = [
        (base, base + 0x1000, PROT_R, "elf"),
        (base + 0x1000, base + 0x2000, PROT_R | PROT_X, "elf"),
        (base + 0x2000, base + 0x5000, PROT_R | PROT_W, "elf"),  # .bss: 2 pages past the file
        (anywhere, file_end, PROT_R | PROT_X, "elf-file"),
        (file_end, file_end + 0x1000, PROT_R, "tls"),
        (file_end + 0x1000, file_end + 0x2000, PROT_R | PROT_W, "tls"),
        (file_end + 0x2000, file_end + 0x3000, 0, "guard"),
        (top - MIB, top, PROT_R | PROT_W, "stack"),
        (top, top + 0x1000, PROT_R | PROT_W, "args"),
    ]
    assert got == sorted(expected)
    assert start.sp == top and start.thread_pointer == file_end + 0x1000
    cpu = mm.cpu
    assert cpu.read(anywhere, len(data)) == data  # the whole file, as the original
    assert cpu.read(file_end, 16) == (37).to_bytes(4, "little") + bytes(12)  # master
    assert cpu.read(start.thread_pointer, 16) == (37).to_bytes(4, "little") + bytes(12)
    assert cpu.read(base + 0x2000, 8) == bytes.fromhex("0500000025000000")
    assert cpu.read(base + 0x2008, 0x2FF8) == bytes(0x2FF8)  # .bss zeroed
    # argc, argv, NULL, envp, NULL, auxv at SP; the strings right after
    words = [int.from_bytes(cpu.read(top + 8 * i, 8), "little") for i in range(12)]
    assert words[0] == 2 and words[3] == 0 and words[5] == 0
    assert words[6:] == [6, 0x1000, 9, image.entry, 0, 0]  # AT_PAGESZ, AT_ENTRY, AT_NULL
    assert words[1] == top + 8 * 12  # strings follow the vectors
    assert cpu.read(words[1], 12) == b"/bin/static\0" and cpu.read(words[4], 4) == b"A=1\0"


def test_execve_keeps_no_file_copy_and_uses_its_own_base(arch: str) -> None:
    mm, _image, start = layout(arch, static_elf(arch), spawned=False)
    kinds = [v.kind for v in mm.vmas]
    assert "elf-file" not in kinds
    first_free = {"x86_64": 0xF000, "aarch64": BASE["aarch64"] + 0x5000}[arch]
    assert start.thread_pointer == first_free + 0x1000  # master, then block
    assert start.sp == first_free + 0x2000 + 0x1000 + MIB


def test_without_pt_tls_there_is_no_thread_pointer(arch: str) -> None:
    mm, _image, start = layout(arch, static_elf(arch, tls=False), spawned=True)
    assert start.thread_pointer == 0
    assert "tls" not in [v.kind for v in mm.vmas]


@pytest.mark.parametrize(
    ("options", "reason"),
    [({"extra_tls": True}, "more than one TLS header"), ({"tls_align": 8192}, "invalid TLS")],
)
def test_bad_tls_headers_are_enoexec(arch: str, options: dict, reason: str) -> None:
    with pytest.raises(SyscallError) as err:
        parse_executable(static_elf(arch, **options), arch, "bad")
    assert err.value.errno == Errno.ENOEXEC and reason in str(err.value.detail)


def test_large_argument_blocks_take_more_pages_above_the_stack(arch: str) -> None:
    cpu = CPUS[arch](_trap)
    mm = AddressSpace(cpu, MemoryAccount(64 * MIB), USER_ALLOC_BASE[Arch(arch)])
    image = parse_executable(static_elf(arch), arch, "static")
    argv = [bytes([65 + i]) * 1000 for i in range(10)]  # ~10 KB of strings
    start = build_process(image, mm, argv, [], True)
    args = mm.find(start.sp)
    assert args is not None and args.kind == "args" and args.size == 0x3000
    first = int.from_bytes(cpu.read(start.sp + 8, 8), "little")
    last = int.from_bytes(cpu.read(start.sp + 8 * 10, 8), "little")
    assert cpu.read(first, 1001) == b"A" * 1000 + b"\0"
    assert cpu.read(last, 1001) == b"J" * 1000 + b"\0"
    with pytest.raises(SyscallError) as err:
        build_process(image, mm, [b"x" * (200 * 1024)], [], True)
    assert err.value.errno == Errno.E2BIG


# One focused test per feature of the original toolchain's executables.


def test_several_pt_loads_keep_their_protections(arch: str) -> None:
    mm, _image, _start = layout(arch, static_elf(arch), spawned=True)
    base = BASE[arch]
    prots = [(v.start - base, v.prot) for v in mm.vmas if v.kind == "elf"]
    assert prots == [(0, PROT_R), (0x1000, PROT_R | PROT_X), (0x2000, PROT_R | PROT_W)]


def test_bss_beyond_the_file_is_zeroed_and_writable(arch: str) -> None:
    mm, _image, _start = layout(arch, static_elf(arch), spawned=True)
    bss = BASE[arch] + 0x4FF8  # two pages past the segment's 8 file bytes
    mm.check(bss, 8, PROT_R | PROT_W)
    assert mm.cpu.read(bss, 8) == bytes(8)


def test_pt_gnu_stack_maps_nothing(arch: str) -> None:
    mm, _image, _start = layout(arch, static_elf(arch), spawned=True)
    assert mm.find(0) is None and mm.find(0x1000) is None
    assert [v.kind for v in mm.vmas].count("stack") == 1


def test_pt_tls_block_is_the_thread_pointer(arch: str) -> None:
    mm, _image, start = layout(arch, static_elf(arch), spawned=True)
    block = mm.find(start.thread_pointer)
    assert block is not None and block.kind == "tls" and block.start == start.thread_pointer
    assert block.prot == PROT_R | PROT_W  # the task's copy; the master image is read-only
    master = mm.find(start.thread_pointer - 0x1000)
    assert master is not None and master.kind == "tls" and master.prot == PROT_R
