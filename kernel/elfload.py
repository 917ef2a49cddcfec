"""Loading a static ELF executable into a fresh address space (pyelftools).

Segments go at their link addresses with their protections; the stack is 1 MiB
with a guard page below it, and gets argv/envp/auxv in the System V layout with SP
16-byte aligned, pointing at argc.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from kernel.abi import PAGE_SIZE, USER_STACK_SIZE, Errno, SyscallError
from kernel.mm import PROT_R, PROT_W, PROT_X, USER_TOP, AddressSpace, page_down, page_up

STACK_TOP = USER_TOP - 0x10000
AT_NULL, AT_PAGESZ, AT_ENTRY = 0, 6, 9
MAX_ARG_BYTES = 128 * 1024
MAX_PHNUM = 256  # program headers an executable may have
_ELF_MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}


@dataclasses.dataclass(frozen=True)
class ElfImage:
    """A parsed, validated executable: entry point and loadable segments."""

    entry: int
    segments: tuple[tuple[int, int, int, bytes], ...]  # vaddr, memsz, prot, file bytes


def parse_executable(data: bytes, arch: str, name: str) -> ElfImage:
    """Validate and parse; ENOEXEC with a reason for anything we cannot run.

    Every header field that points into the file or sizes memory is range-checked
    before pyelftools seeks or reads with it, so a hostile file costs work
    proportional to its length, never to the sizes it claims."""
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if elf.elfclass != 64:
            raise SyscallError(Errno.ENOEXEC, f"{name}: not a 64-bit ELF")
        if machine != _ELF_MACHINES[arch]:
            raise SyscallError(
                Errno.ENOEXEC, f"{name}: ELF is for {machine}, this machine is {arch}"
            )
        if elf["e_type"] != "ET_EXEC":
            raise SyscallError(Errno.ENOEXEC, f"{name}: not a static executable ({elf['e_type']})")
        _check_header_tables(elf, len(data), name)
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            segments.append(_load_segment(seg, data, name))
        if not segments:
            raise SyscallError(Errno.ENOEXEC, f"{name}: no loadable segments")
        return ElfImage(elf["e_entry"], tuple(segments))
    except (ELFError, struct.error, ValueError, KeyError, OverflowError) as err:
        raise SyscallError(Errno.ENOEXEC, f"{name}: not a valid ELF executable ({err})") from None


def _check_header_tables(elf: ELFFile, file_size: int, name: str) -> None:
    """The program header table lies inside the file (section headers are unused)."""
    phoff, phnum, phentsize = elf["e_phoff"], elf["e_phnum"], elf["e_phentsize"]
    if phnum and (phentsize < 56 or phoff + phnum * phentsize > file_size):
        raise SyscallError(Errno.ENOEXEC, f"{name}: program headers lie outside the file")
    if phnum > MAX_PHNUM:
        raise SyscallError(Errno.ENOEXEC, f"{name}: {phnum} program headers > {MAX_PHNUM}")


def _load_segment(seg: object, data: bytes, name: str) -> tuple[int, int, int, bytes]:
    """(vaddr, memsz, prot, file bytes) of one PT_LOAD, its ranges checked first."""
    offset, filesz = seg["p_offset"], seg["p_filesz"]  # type: ignore[index]
    vaddr, memsz, flags = seg["p_vaddr"], seg["p_memsz"], seg["p_flags"]  # type: ignore[index]
    if filesz > memsz or offset + filesz > len(data):
        raise SyscallError(Errno.ENOEXEC, f"{name}: truncated segment")
    if vaddr + memsz > USER_TOP or vaddr < PAGE_SIZE:
        raise SyscallError(Errno.ENOEXEC, f"{name}: segment outside the user address range")
    prot = (
        (PROT_R if flags & 4 else 0) | (PROT_W if flags & 2 else 0) | (PROT_X if flags & 1 else 0)
    )
    return vaddr, memsz, prot, data[offset : offset + filesz]


def load_into(image: ElfImage, mm: AddressSpace) -> None:
    """Map every segment (pages shared by two segments get both protections).

    Works on page *ranges*, not pages, and checks the whole image against the memory
    budget first: a 1 TiB p_memsz is -ENOMEM at once, with no work proportional to it."""
    spans = sorted(
        (page_down(vaddr), page_up(vaddr + memsz), prot)
        for vaddr, memsz, prot, _body in image.segments
    )
    mm.account.check(sum(end - start for start, end, _prot in spans))
    cuts = sorted({edge for start, end, _prot in spans for edge in (start, end)})
    runs: list[list[int]] = []  # [start, end, prot], merged when contiguous and equal
    for lo, hi in itertools.pairwise(cuts):
        prot = 0
        covered = False
        for start, end, seg_prot in spans:
            if start <= lo and hi <= end:
                prot |= seg_prot
                covered = True
        if not covered:
            continue
        if runs and runs[-1][1] == lo and runs[-1][2] == prot:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi, prot])
    for start, end, prot in runs:
        mm.map_fixed(start, end - start, prot, "elf")
    for vaddr, _memsz, _prot, body in image.segments:
        if body:
            mm.cpu.write(vaddr, body)


def setup_stack(mm: AddressSpace, argv: list[bytes], envp: list[bytes], entry: int) -> int:
    """Map the stack and guard page, lay out argc/argv/envp/auxv; returns the SP."""
    if sum(len(a) + 1 for a in argv + envp) > MAX_ARG_BYTES:
        raise SyscallError(Errno.E2BIG, "argument list too long")
    bottom = STACK_TOP - USER_STACK_SIZE
    mm.map_fixed(bottom - PAGE_SIZE, PAGE_SIZE, 0, "guard")
    mm.map_fixed(bottom, USER_STACK_SIZE, PROT_R | PROT_W, "stack")
    cursor = STACK_TOP
    blob = bytearray()
    pointers: list[int] = []
    strings = argv + envp
    total = sum(len(s) + 1 for s in strings)
    cursor -= total
    strings_base = cursor
    for s in strings:
        pointers.append(strings_base + len(blob))
        blob += s + b"\0"
    mm.cpu.write(strings_base, bytes(blob))
    argv_ptrs, env_ptrs = pointers[: len(argv)], pointers[len(argv) :]
    words = [
        len(argv),
        *argv_ptrs,
        0,
        *env_ptrs,
        0,
        AT_PAGESZ,
        PAGE_SIZE,
        AT_ENTRY,
        entry,
        AT_NULL,
        0,
    ]
    sp = (strings_base - 8 * len(words)) & ~0xF
    mm.cpu.write(sp, struct.pack(f"<{len(words)}Q", *words))
    return sp
