"""The ``.BTF.ext`` section: per-instruction function and source-line records.

clang ``-g`` writes, for each code section, ``func_info`` (instruction offset ->
FUNC type id) and ``line_info`` (instruction offset -> file name, source line
text, line and column, all as ``.BTF`` string offsets). The loader uses the line
records to put ``; <source line> @ file.c:NN`` into verifier logs, as Linux does.
Records are keyed by section name and byte offset within the section (in a
relocatable object the offsets are section-relative). Malformed records are
refused (EINVAL) like malformed ``.BTF``; CO-RE relocation records are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import PurePosixPath

from kernel.abi import Errno
from kernel.bpf.elf.btf import BTF_MAGIC, Btf, Kind
from kernel.bpf.errors import BpfError

EXT_HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, func/line off+len
FUNC_REC = struct.Struct("<II")  # insn_off, type_id
LINE_REC = struct.Struct("<IIII")  # insn_off, file_name_off, line_off, line_col
SEC_HDR = struct.Struct("<II")  # sec_name_off, num_info


@dataclass(frozen=True)
class LineInfo:
    """One source line: ``file`` (base name), ``line``/``col`` and the line's text."""

    file: str
    line: int
    col: int
    text: str

    def annotation(self) -> str:
        """``; v->n += cfg; @ prog.bpf.c:18`` -- Linux's verifier-log form."""
        return f"; {self.text.strip()} @ {self.file}:{self.line}"


@dataclass
class BtfExt:
    """Decoded ``.BTF.ext``: ``{section: {byte offset: ...}}`` for functions and lines."""

    funcs: dict[str, dict[int, str]]
    lines: dict[str, dict[int, LineInfo]]


def _bad(message: str) -> BpfError:
    return BpfError(Errno.EINVAL, f"BTF.ext: {message}")


def parse_btf_ext(data: bytes, btf: Btf) -> BtfExt:
    """Decode ``.BTF.ext`` against its ``.BTF`` (strings, FUNC types)."""
    data = bytes(data)
    if len(data) < EXT_HEADER.size:
        raise _bad(f"section is {len(data)} bytes, shorter than its header")
    magic, version, _flags, hdr_len, f_off, f_len, l_off, l_len = EXT_HEADER.unpack_from(data)
    if magic != BTF_MAGIC:
        raise _bad(f"bad magic {magic:#06x} (expected {BTF_MAGIC:#06x})")
    if version != 1:
        raise _bad(f"unsupported version {version}")
    if hdr_len < EXT_HEADER.size or hdr_len > len(data):
        raise _bad(f"bad header length {hdr_len}")
    body = data[hdr_len:]
    funcs: dict[str, dict[int, str]] = {}
    for sec, rec in _records(body, f_off, f_len, FUNC_REC, "func_info", btf):
        insn_off, type_id = rec
        if not 0 < type_id < len(btf.types) or btf[type_id].kind != Kind.FUNC:
            raise _bad(f"func_info in '{sec}' at {insn_off:#x}: type id {type_id} is not a FUNC")
        funcs.setdefault(sec, {})[insn_off] = btf[type_id].name
    lines: dict[str, dict[int, LineInfo]] = {}
    for sec, rec in _records(body, l_off, l_len, LINE_REC, "line_info", btf):
        insn_off, file_off, line_off, line_col = rec
        lines.setdefault(sec, {})[insn_off] = LineInfo(
            PurePosixPath(_string(btf, file_off, "file name")).name,
            line_col >> 10,
            line_col & 0x3FF,
            _string(btf, line_off, "line text"),
        )
    return BtfExt(funcs, lines)


def _string(btf: Btf, off: int, what: str) -> str:
    if off >= len(btf.strings):
        raise _bad(f"{what} offset {off} is outside the BTF string section")
    return btf.string(off)


def _records(body: bytes, off: int, length: int, rec: struct.Struct, what: str, btf: Btf):
    """Yield ``(section name, record tuple)`` for one info block."""
    if length == 0:
        return
    if off + length > len(body) or length < 4:
        raise _bad(f"{what} lies outside the section")
    block = body[off : off + length]
    rec_size = struct.unpack_from("<I", block)[0]
    if rec_size < rec.size or rec_size % 4:
        raise _bad(f"{what} record size {rec_size} (expected at least {rec.size})")
    pos = 4
    while pos < len(block):
        if pos + SEC_HDR.size > len(block):
            raise _bad(f"{what} section header runs past the end")
        name_off, count = SEC_HDR.unpack_from(block, pos)
        pos += SEC_HDR.size
        sec = _string(btf, name_off, f"{what} section name")
        if pos + count * rec_size > len(block):
            raise _bad(f"{what} for '{sec}': {count} records run past the end")
        for k in range(count):
            yield sec, rec.unpack_from(block, pos + k * rec_size)
        pos += count * rec_size
