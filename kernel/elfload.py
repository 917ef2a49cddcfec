"""Loading a static ELF executable into a fresh address space (pyelftools).

Segments go at their link addresses with their protections; the stack is 1 MiB
with a guard page below it, and gets argv/envp/auxv in the System V layout with SP
16-byte aligned, pointing at argc.
"""

from __future__ import annotations

import dataclasses
import io
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from kernel.abi import PAGE_SIZE, USER_STACK_SIZE, Errno, SyscallError
from kernel.mm import PROT_R, PROT_W, PROT_X, USER_TOP, AddressSpace, page_down, page_up

STACK_TOP = USER_TOP - 0x10000
AT_NULL, AT_PAGESZ, AT_ENTRY = 0, 6, 9
MAX_ARG_BYTES = 128 * 1024
_ELF_MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}


@dataclasses.dataclass(frozen=True)
class ElfImage:
    """A parsed, validated executable: entry point and loadable segments."""

    entry: int
    segments: tuple[tuple[int, int, int, bytes], ...]  # vaddr, memsz, prot, file bytes


def parse_executable(data: bytes, arch: str, name: str) -> ElfImage:
    """Validate and parse; ENOEXEC with a reason for anything we cannot run."""
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
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            flags = seg["p_flags"]
            prot = (
                (PROT_R if flags & 4 else 0)
                | (PROT_W if flags & 2 else 0)
                | (PROT_X if flags & 1 else 0)
            )
            body = seg.data()
            if len(body) != seg["p_filesz"] or seg["p_filesz"] > seg["p_memsz"]:
                raise SyscallError(Errno.ENOEXEC, f"{name}: truncated segment")
            segments.append((seg["p_vaddr"], seg["p_memsz"], prot, body))
        if not segments:
            raise SyscallError(Errno.ENOEXEC, f"{name}: no loadable segments")
        return ElfImage(elf["e_entry"], tuple(segments))
    except (ELFError, struct.error, ValueError, KeyError) as err:
        raise SyscallError(Errno.ENOEXEC, f"{name}: not a valid ELF executable ({err})") from None


def load_into(image: ElfImage, mm: AddressSpace) -> None:
    """Map every segment (pages shared by two segments get both protections)."""
    page_prot: dict[int, int] = {}
    for vaddr, memsz, prot, _body in image.segments:
        for page in range(page_down(vaddr), page_up(vaddr + memsz), PAGE_SIZE):
            page_prot[page] = page_prot.get(page, 0) | prot
    run_start = run_prot = None
    previous = None
    for page in sorted(page_prot):
        prot = page_prot[page]
        if run_start is not None and (page != previous + PAGE_SIZE or prot != run_prot):
            mm.map_fixed(run_start, previous + PAGE_SIZE - run_start, run_prot, "elf")
            run_start = None
        if run_start is None:
            run_start, run_prot = page, prot
        previous = page
    if run_start is not None:
        mm.map_fixed(run_start, previous + PAGE_SIZE - run_start, run_prot, "elf")
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
