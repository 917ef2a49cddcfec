"""Static ELF executables as the original's Rust toolchain emits them, written by hand
for the loader tests: several PT_LOADs (R, R+X, R+W), .bss beyond the file (memsz >
filesz over extra pages), PT_TLS and PT_GNU_STACK. The code reads its TLS block through
the thread pointer, adds a .data word and a .bss word, stores into .bss, pushes and pops
on the stack, and exits with the sum: 37 (.tdata) + 5 (.data) + 0 (.bss) = 42."""

from __future__ import annotations

import struct

PT_LOAD, PT_TLS, PT_GNU_STACK = 1, 7, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
EXIT_STATUS = 42

_X86_CODE = bytes.fromhex(
    "648b042500000000"  # mov eax, fs:[0]           ; TLS block word (.tdata = 37)
    "03042500202000"  # add eax, [0x202000]         ; .data word (5)
    "8b0c25f84f2000"  # mov ecx, [0x204ff8]         ; .bss, two pages past the file
    "01c8"  # add eax, ecx
    "c70425f84f200001000000"  # mov dword [0x204ff8], 1  ; .bss is writable
    "5058"  # push rax; pop rax                   ; the stack works
    "89c7"  # mov edi, eax
    "b801000000"  # mov eax, 1 (SYS_EXIT)
    "cd80"  # int 0x80
)
_A64_CODE = struct.pack(
    "<15I",
    0xD53BD041,  # mrs x1, tpidr_el0
    0xB9400020,  # ldr w0, [x1]                  ; TLS block word
    0xD2C00022,  # mov x2, #0x1_0000_0000
    0xF2840002,  # movk x2, #0x2000
    0xB9400043,  # ldr w3, [x2]                  ; .data word
    0x0B030000,  # add w0, w0, w3
    0xF289FF02,  # movk x2, #0x4ff8
    0xB9400043,  # ldr w3, [x2]                  ; .bss word
    0x0B030000,  # add w0, w0, w3
    0x52800024,  # mov w4, #1
    0xB9000044,  # str w4, [x2]
    0xF81F0FE0,  # str x0, [sp, #-16]!
    0xF84107E0,  # ldr x0, [sp], #16
    0xD2800028,  # mov x8, #1 (SYS_EXIT)
    0xD4000001,  # svc #0
)
BASE = {"x86_64": 0x200000, "aarch64": 0x1_0000_0000}
MACHINE = {"x86_64": 62, "aarch64": 183}


def static_elf(
    arch: str, *, tls: bool = True, tls_align: int = 4, extra_tls: bool = False
) -> bytes:
    """The test executable for `arch` (file layout: headers, code page, data page)."""
    base = BASE[arch]
    code = _X86_CODE if arch == "x86_64" else _A64_CODE
    data = struct.pack("<II", 5, 37)  # .data word, then .tdata
    phdrs = [
        (PT_LOAD, PF_R, 0, base, 0x200, 0x200, 0x1000),  # headers (read-only)
        (PT_LOAD, PF_R | PF_X, 0x1000, base + 0x1000, len(code), len(code), 0x1000),
        (PT_LOAD, PF_R | PF_W, 0x2000, base + 0x2000, len(data), 0x3000, 0x1000),  # + .bss
        (PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16),
    ]
    if tls:
        phdrs.append((PT_TLS, PF_R, 0x2004, base + 0x2004, 4, 16, tls_align))
    if extra_tls:
        phdrs.append((PT_TLS, PF_R, 0x2004, base + 0x2004, 4, 16, 4))
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack(
        "<HHIQQQIHHHHHH",
        2,  # ET_EXEC
        MACHINE[arch],
        1,
        base + 0x1000,  # entry
        64,  # phoff
        0,  # shoff
        0,
        64,
        56,
        len(phdrs),
        64,
        0,
        0,
    )
    table = b"".join(
        struct.pack("<IIQQQQQQ", t, f, off, va, va, fs, ms, al)
        for t, f, off, va, fs, ms, al in phdrs
    )
    image = bytearray(0x2000 + len(data))
    image[: len(header) + len(table)] = header + table
    image[0x1000 : 0x1000 + len(code)] = code
    image[0x2000:] = data
    return bytes(image)
