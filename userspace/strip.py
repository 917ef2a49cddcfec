"""Remove DWARF from a guest executable: the image gets this copy, gdb the original.

`zig objcopy --strip-debug` is not implemented for these targets, so this does what
`strip --strip-debug` does for the simple static executables lld links here: drop the
non-allocated `.debug_*` sections and the symbols that point into them, rebuild the
section-name table, and keep every loaded byte at its offset. The result matches a
`-g0` build, so a debug build does not change what the guest loads (nor how long the
kernel takes to read it).
"""

from __future__ import annotations

import struct
from pathlib import Path

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_SHT_SYMTAB, _SHT_STRTAB, _SHT_NOBITS = 2, 3, 8
_SHF_ALLOC = 2
_SHN_LORESERVE = 0xFF00


class StripError(ValueError):
    """The input is not a little-endian ELF64 file this stripper understands."""


def _cstr(table: bytes, offset: int) -> str:
    end = table.index(b"\0", offset)
    return table[offset:end].decode()


def strip_debug(data: bytes) -> bytes:
    """`data` (an ELF64 LE executable) without its `.debug_*` sections."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise StripError("not a little-endian ELF64 file")
    eh = list(_EHDR.unpack_from(data))
    shoff, shentsize, shnum, shstrndx = eh[6], eh[11], eh[12], eh[13]
    if shoff == 0 or shnum == 0:
        return data
    if shentsize != _SHDR.size:
        raise StripError("unexpected section header size")
    shdrs = [list(_SHDR.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]
    names_hdr = shdrs[shstrndx]
    names = data[names_hdr[4] : names_hdr[4] + names_hdr[5]]
    section_names = [_cstr(names, h[0]) for h in shdrs]
    drop = {
        i
        for i, (h, name) in enumerate(zip(shdrs, section_names, strict=True))
        if name.startswith(".debug") and not h[2] & _SHF_ALLOC
    }
    if not drop:
        return data
    keep = [i for i in range(shnum) if i not in drop]
    remap = {old: new for new, old in enumerate(keep)}
    # Contents of the kept non-allocated sections are laid out again after the last
    # allocated byte; allocated sections keep their offsets (the segments need them).
    alloc_end = max(
        (h[4] + (0 if h[1] == _SHT_NOBITS else h[5]) for h in shdrs if h[2] & _SHF_ALLOC),
        default=_EHDR.size,
    )
    phoff, phnum, phentsize = eh[5], eh[10], eh[9]
    alloc_end = max(alloc_end, phoff + phnum * phentsize)
    out = bytearray(data[:alloc_end])
    new_names = bytearray(b"\0")
    name_offsets: dict[str, int] = {"": 0}
    contents: dict[int, bytes] = {}
    for i in keep:
        h = shdrs[i]
        body = data[h[4] : h[4] + h[5]] if h[1] != _SHT_NOBITS else b""
        if h[1] == _SHT_SYMTAB:
            strtab = shdrs[h[6]]
            names_of = data[strtab[4] : strtab[4] + strtab[5]]
            body, contents[h[6]] = _filter_symbols(body, names_of, drop, remap)
        if i not in contents:
            contents[i] = body
    for i in keep:
        name = section_names[i]
        if name not in name_offsets:
            name_offsets[name] = len(new_names)
            new_names += name.encode() + b"\0"
    contents[shstrndx] = bytes(new_names)
    new_headers = []
    for i in keep:
        h = list(shdrs[i])
        h[0] = name_offsets[section_names[i]]
        if not h[2] & _SHF_ALLOC and i:
            align = max(1, h[8])
            while len(out) % align:
                out.append(0)
            h[4] = len(out)
            h[5] = len(contents[i])
            out += contents[i]
        if h[1] == _SHT_SYMTAB:
            h[6] = remap[h[6]]
            h[7] = _first_global(contents[i])
        elif h[6] and h[6] in remap:
            h[6] = remap[h[6]]
        new_headers.append(h)
    while len(out) % 8:
        out.append(0)
    eh[6] = len(out)
    eh[12] = len(keep)
    eh[13] = remap[shstrndx]
    for h in new_headers:
        out += _SHDR.pack(*h)
    _EHDR.pack_into(out, 0, *eh)
    return bytes(out)


def _filter_symbols(
    body: bytes, names: bytes, drop: set[int], remap: dict[int, int]
) -> tuple[bytes, bytes]:
    """Symbols minus those defined in dropped sections (section indices renumbered),
    and their string table rebuilt the way lld writes it (one entry per symbol)."""
    out, strings = bytearray(), bytearray(b"\0")
    for off in range(0, len(body), _SYM.size):
        name, info, other, shndx, value, size = _SYM.unpack_from(body, off)
        if shndx in drop:
            continue
        if 0 < shndx < _SHN_LORESERVE:
            shndx = remap[shndx]
        if name:
            text = names[name : names.index(b"\0", name) + 1]
            name = len(strings)
            strings += text
        out += _SYM.pack(name, info, other, shndx, value, size)
    return bytes(out), bytes(strings)


def _first_global(symtab: bytes) -> int:
    """sh_info of a symbol table: index of the first non-local symbol."""
    count = len(symtab) // _SYM.size
    for i in range(count):
        if _SYM.unpack_from(symtab, i * _SYM.size)[1] >> 4 != 0:
            return i
    return count


def strip_file(source: Path, dest: Path) -> None:
    """Write the stripped copy of `source` to `dest` (atomically)."""
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(strip_debug(source.read_bytes()))
    tmp.replace(dest)
