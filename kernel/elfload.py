"""Loading a static ELF executable into a fresh address space (pyelftools).

Placement follows the original kernel (`trampoline` and `Process::execve` in its
`kernel/src/mcore/mtask/process/mod.rs`, spec sections 9 and 11): PT_LOAD segments
at their link addresses; then, first fit in the arch's "anywhere" range, (spawn only)
a copy of the whole ELF file, the PT_TLS master image and the task's TLS block (its
start is the thread pointer: FS base / TPIDR_EL0), and the 1 MiB user stack between
two guard pages, SP at its top. The original passes no arguments; here argc, argv,
envp and auxv (System V layout, SP pointing at argc) live in the page above the
stack top, which the original reserves as the upper guard page, so every address a
program sees is the original's.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import Segment

from kernel.abi import PAGE_SIZE, USER_STACK_SIZE, Errno, SyscallError
from kernel.mm import PROT_R, PROT_W, PROT_X, USER_TOP, AddressSpace, page_down, page_up

AT_NULL, AT_PAGESZ, AT_ENTRY = 0, 6, 9
MAX_ARG_BYTES = 128 * 1024
MAX_PHNUM = 256  # program headers an executable may have
_ELF_MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}


@dataclasses.dataclass(frozen=True)
class TlsTemplate:
    """PT_TLS: the initial image of every thread's TLS block (.tdata, then zeros)."""

    memsz: int
    align: int
    data: bytes  # p_filesz bytes


@dataclasses.dataclass(frozen=True)
class ElfImage:
    """A parsed, validated executable: entry point, loadable segments, TLS, the file."""

    entry: int
    segments: tuple[tuple[int, int, int, bytes], ...]  # vaddr, memsz, prot, file bytes
    tls: TlsTemplate | None = None
    file: bytes = b""  # the whole file (spawn keeps a copy in user memory)


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
        tls: TlsTemplate | None = None
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_TLS":
                tls = _tls_template(seg, tls, data, name)
                continue
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue  # PT_GNU_STACK, PT_NOTE, ...: nothing to map
            segments.append(_load_segment(seg, data, name))
        if not segments:
            raise SyscallError(Errno.ENOEXEC, f"{name}: no loadable segments")
        return ElfImage(elf["e_entry"], tuple(segments), tls, bytes(data))
    except (ELFError, struct.error, ValueError, KeyError, OverflowError) as err:
        raise SyscallError(Errno.ENOEXEC, f"{name}: not a valid ELF executable ({err})") from None


def _tls_template(
    seg: Segment, previous: TlsTemplate | None, data: bytes, name: str
) -> TlsTemplate:
    """Validate PT_TLS as the original's loader does (one header, align <= 4 KiB), its
    file range and size checked before anything is read."""
    if previous is not None:
        raise SyscallError(Errno.ENOEXEC, f"{name}: more than one TLS header")
    offset, memsz, filesz = seg["p_offset"], seg["p_memsz"], seg["p_filesz"]
    align = max(seg["p_align"], 1)
    if filesz > memsz or offset + filesz > len(data) or memsz > USER_TOP:
        raise SyscallError(Errno.ENOEXEC, f"{name}: invalid TLS segment")
    if align > PAGE_SIZE or align & (align - 1):
        raise SyscallError(Errno.ENOEXEC, f"{name}: invalid TLS segment")
    return TlsTemplate(memsz, align, data[offset : offset + filesz])


def _check_header_tables(elf: ELFFile, file_size: int, name: str) -> None:
    """The program header table lies inside the file (section headers are unused)."""
    phoff, phnum, phentsize = elf["e_phoff"], elf["e_phnum"], elf["e_phentsize"]
    if phnum and (phentsize < 56 or phoff + phnum * phentsize > file_size):
        raise SyscallError(Errno.ENOEXEC, f"{name}: program headers lie outside the file")
    if phnum > MAX_PHNUM:
        raise SyscallError(Errno.ENOEXEC, f"{name}: {phnum} program headers > {MAX_PHNUM}")


def _load_segment(seg: Segment, data: bytes, name: str) -> tuple[int, int, int, bytes]:
    """(vaddr, memsz, prot, file bytes) of one PT_LOAD, its ranges checked first."""
    offset, filesz = seg["p_offset"], seg["p_filesz"]
    vaddr, memsz, flags = seg["p_vaddr"], seg["p_memsz"], seg["p_flags"]
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


@dataclasses.dataclass(frozen=True)
class ProcessStart:
    """Where a new process starts: registers the kernel sets before entering it."""

    sp: int
    thread_pointer: int  # 0 without PT_TLS


def build_process(
    image: ElfImage, mm: AddressSpace, argv: list[bytes], envp: list[bytes], keep_file: bool
) -> ProcessStart:
    """Map everything a new program needs, in the original's order (module doc)."""
    if sum(len(a) + 1 for a in argv + envp) > MAX_ARG_BYTES:
        raise SyscallError(Errno.E2BIG, "argument list too long")
    load_into(image, mm)
    if keep_file and image.file:
        copy = mm.map_anywhere(len(image.file), PROT_R | PROT_X, "elf-file")
        mm.cpu.write(copy.start, image.file)
    thread_pointer = 0
    if image.tls is not None:
        tls = image.tls
        master = mm.map_anywhere(tls.memsz, PROT_R, "tls")
        block = mm.map_anywhere(tls.memsz, PROT_R | PROT_W, "tls")
        if tls.data:
            mm.cpu.write(master.start, tls.data)
            mm.cpu.write(block.start, tls.data)
        thread_pointer = block.start
    strings = b"".join(a + b"\0" for a in argv + envp)
    n_words = len(argv) + len(envp) + 9  # argc, argv[], NULL, envp[], NULL, 3 auxv pairs
    args_size = page_up(8 * n_words + len(strings))
    base = mm.find_free(PAGE_SIZE + USER_STACK_SIZE + args_size)
    top = base + PAGE_SIZE + USER_STACK_SIZE
    mm.map_fixed(base, PAGE_SIZE, 0, "guard")
    mm.map_fixed(base + PAGE_SIZE, USER_STACK_SIZE, PROT_R | PROT_W, "stack")
    mm.map_fixed(top, args_size, PROT_R | PROT_W, "args")
    words = _arg_vectors(argv, envp, top + 8 * n_words, image.entry)
    mm.cpu.write(top, struct.pack(f"<{n_words}Q", *words) + strings)
    return ProcessStart(top, thread_pointer)


def _arg_vectors(argv: list[bytes], envp: list[bytes], strings_at: int, entry: int) -> list[int]:
    """argc, argv[], NULL, envp[], NULL, auxv (AT_PAGESZ, AT_ENTRY, AT_NULL), System V
    order, for strings stored NUL-terminated from `strings_at` on."""
    pointers = []
    for s in argv + envp:
        pointers.append(strings_at)
        strings_at += len(s) + 1
    return [
        len(argv),
        *pointers[: len(argv)],
        0,
        *pointers[len(argv) :],
        0,
        AT_PAGESZ,
        PAGE_SIZE,
        AT_ENTRY,
        entry,
        AT_NULL,
        0,
    ]
