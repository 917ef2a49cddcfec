"""Read and validate a BPF ELF object into a `ParsedObject` (no side effects).

Everything an object can get wrong is found here, before any map exists: the ELF
header (ELF64, little-endian, EM_BPF, ET_REL), truncation, code sections with an
unknown name, map definitions, and every relocation of a code section (known
type, at an ``ld_imm64`` or a call, against a defined map / global data /
``.text`` symbol). Failures are ``BpfError(Errno.EINVAL, ...)`` with one clear
sentence; an object over 1 MiB is E2BIG.
"""

from __future__ import annotations

import io
import struct
from pathlib import PurePosixPath

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from kernel.abi import BPF_ELF_MAX_SIZE, Errno
from kernel.bpf.elf.btf import Btf, parse_btf
from kernel.bpf.elf.btf_ext import BtfExt, parse_btf_ext
from kernel.bpf.elf.btf_maps import parse_btf_maps
from kernel.bpf.elf.maps import data_section_map, parse_map_section
from kernel.bpf.elf.model import (
    R_BPF_64_32,
    R_BPF_64_64,
    CodeSection,
    Function,
    MapSpec,
    ParsedObject,
    ProgramSpec,
    Reloc,
    Symbol,
)
from kernel.bpf.elf.sections import (
    BTF_MAP_SECTION,
    MAP_SECTIONS,
    TEXT_SECTION,
    attach_type_for,
    is_data_section,
    known_section_names,
)
from kernel.bpf.errors import BpfError
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import decode

ELF_MAGIC = b"\x7fELF"
ELF64_HEADER_SIZE = 64
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4
# Non-code sections whose relocations we ignore (unwind tables, debug info, BTF).
_IGNORED_RELOC_TARGETS = (".eh_frame", ".debug", ".BTF", ".llvm")


def _einval(message: str) -> BpfError:
    return BpfError(Errno.EINVAL, message)


def parse_object(data: bytes, name: str | None = None) -> ParsedObject:
    """Validate ``data`` and extract programs, functions, maps and relocations.

    ``name`` overrides the object name (default: the source file name recorded in
    the symbol table, minus ``.bpf.c``/``.c``; "obj" if there is none).
    """
    data = bytes(data)
    if len(data) > BPF_ELF_MAX_SIZE:
        raise BpfError(Errno.E2BIG, f"ELF object is {len(data)} bytes (max {BPF_ELF_MAX_SIZE})")
    _check_ident(data)
    try:
        elf = ELFFile(io.BytesIO(data))
        _check_header(elf, len(data))
        return _Reader(elf, data).parse(name)
    except BpfError:
        raise
    except Exception as e:  # noqa: BLE001 - untrusted input: pyelftools may raise anything
        kind = "" if isinstance(e, ELFError | struct.error) else f"{type(e).__name__}: "
        raise _einval(f"not an ELF object: malformed ({kind}{e})") from None


def _check_ident(data: bytes) -> None:
    if len(data) < ELF64_HEADER_SIZE or data[:4] != ELF_MAGIC:
        raise _einval("not an ELF object")
    if data[4] != 2:
        raise _einval(
            f"ELF class is ELFCLASS{32 if data[4] == 1 else data[4]}, expected ELFCLASS64"
        )
    if data[5] != 1:
        raise _einval("ELF data encoding is big-endian, expected little-endian")


def _check_header(elf: ELFFile, size: int) -> None:
    machine = elf["e_machine"]
    if machine != "EM_BPF":
        shown = machine if isinstance(machine, str) else f"{machine}"
        raise _einval(f"ELF machine is {shown}, expected EM_BPF")
    if elf["e_type"] != "ET_REL":
        raise _einval(f"ELF type is {elf['e_type']}, expected ET_REL (a relocatable .o)")
    end = elf["e_shoff"] + elf["e_shnum"] * elf["e_shentsize"]
    if end > size:
        raise _einval("not an ELF object: truncated (section headers past the end)")
    for sec in elf.iter_sections():
        if sec["sh_type"] != "SHT_NOBITS" and sec["sh_offset"] + sec["sh_size"] > size:
            raise _einval(f"not an ELF object: truncated (section '{sec.name}' past the end)")


def _object_name(symbols: list[Symbol]) -> str:
    for sym in symbols:
        if sym.kind == "STT_FILE" and sym.name:
            base = PurePosixPath(sym.name).name
            for suffix in (".bpf.c", ".c"):
                if base.endswith(suffix):
                    return base[: -len(suffix)] or "obj"
            return base
    return "obj"


class _Reader:
    """One parse: the ELF file plus the tables built so far."""

    def __init__(self, elf: ELFFile, data: bytes) -> None:
        self.elf = elf
        self.data = data
        self.sections = list(elf.iter_sections())
        self.symbols: list[Symbol] = []
        self.code: dict[int, CodeSection] = {}
        self.btf: Btf | None = None
        self.btf_ext: BtfExt | None = None

    def parse(self, name: str | None) -> ParsedObject:
        self._read_symbols()
        self._read_btf()
        self._read_code_sections()
        maps, map_sections, data_sections = self._read_maps()
        functions = self._functions()
        programs: list[ProgramSpec] = []
        subprograms: dict[tuple[int, int], Function] = {}
        for fn in functions:
            sec = self.code[fn.section]
            attach = attach_type_for(sec.name)
            if sec.name == TEXT_SECTION:
                subprograms[(fn.section, fn.start)] = fn
            elif attach is not None:
                programs.append(ProgramSpec(fn, sec.name, attach))
        if not programs:
            raise _einval(
                f"no programs in the object (no code in a section named {known_section_names()})"
            )
        obj = ParsedObject(
            name or _object_name(self.symbols),
            self.code,
            programs,
            subprograms,
            maps,
            frozenset(map_sections),
            data_sections,
            btf=self.btf,
            btf_ext=self.btf_ext,
        )
        self._read_relocations(obj)
        _drop_unreferenced_data(obj)
        return obj

    # ------------------------------------------------------------ symbols and sections

    def _read_symbols(self) -> None:
        symtab = self.elf.get_section_by_name(".symtab")
        if symtab is None:
            return
        if not isinstance(symtab, SymbolTableSection):
            raise _einval(f"not an ELF object: malformed (.symtab of type {symtab['sh_type']})")
        for sym in symtab.iter_symbols():
            shndx = sym["st_shndx"]
            self.symbols.append(
                Symbol(
                    sym.name,
                    shndx if isinstance(shndx, int) else None,
                    sym["st_value"],
                    sym["st_info"]["type"],
                    sym["st_size"],
                )
            )

    def _read_btf(self) -> None:
        """Parse ``.BTF`` and ``.BTF.ext`` when present (clang -g); malformed ones fail."""
        sec = self.elf.get_section_by_name(".BTF")
        if sec is not None and sec["sh_type"] == "SHT_PROGBITS":
            self.btf = parse_btf(sec.data())
            ext = self.elf.get_section_by_name(".BTF.ext")
            if ext is not None and ext["sh_type"] == "SHT_PROGBITS":
                self.btf_ext = parse_btf_ext(ext.data(), self.btf)

    def _read_code_sections(self) -> None:
        for idx, sec in enumerate(self.sections):
            if not sec["sh_flags"] & SHF_EXECINSTR or sec["sh_size"] == 0:
                continue
            if sec.name != TEXT_SECTION and attach_type_for(sec.name) is None:
                raise _einval(
                    f"section '{sec.name}' contains code but is not a program section "
                    f"(known: {known_section_names()}, optionally with '/name'; or .text)"
                )
            if sec["sh_type"] != "SHT_PROGBITS" or sec["sh_size"] % 8:
                raise _einval(f"section '{sec.name}' is not a whole number of instructions")
            self.code[idx] = CodeSection(idx, sec.name, decode(sec.data()))

    def _read_maps(self) -> tuple[list[MapSpec], list[int], dict[int, MapSpec]]:
        maps: list[MapSpec] = []
        map_sections: list[int] = []
        data_sections: dict[int, MapSpec] = {}
        for idx, sec in enumerate(self.sections):
            if sec.name in MAP_SECTIONS:
                map_sections.append(idx)
                syms = [s for s in self.symbols if s.section == idx and s.kind == "STT_OBJECT"]
                content = bytes(sec["sh_size"]) if sec["sh_type"] == "SHT_NOBITS" else sec.data()
                if sec.name == BTF_MAP_SECTION and self.btf is not None:
                    maps.extend(parse_btf_maps(self.btf, idx, sec.name, syms))
                else:
                    maps.extend(parse_map_section(idx, sec.name, content, syms))
        for idx, sec in enumerate(self.sections):
            if is_data_section(sec.name) and sec["sh_flags"] & SHF_ALLOC and sec["sh_size"]:
                nobits = sec["sh_type"] == "SHT_NOBITS"
                content = bytes(sec["sh_size"]) if nobits else sec.data()
                spec = data_section_map(idx, sec.name, content)
                maps.append(spec)
                data_sections[idx] = spec
        return maps, map_sections, data_sections

    def _functions(self) -> list[Function]:
        """Function symbols per code section; a section without any is one function."""
        out: list[Function] = []
        by_section: dict[int, list[tuple[int, int, str]]] = {}
        for sym in self.symbols:
            if sym.kind != "STT_FUNC" or sym.section not in self.code:
                continue
            if sym.value % 8 or sym.size % 8:
                raise _einval(f"function '{sym.name}' is not 8-byte aligned")
            by_section.setdefault(sym.section, []).append((sym.value // 8, sym.size // 8, sym.name))
        for idx, sec in self.code.items():
            n = len(sec.insns)
            entries = sorted(by_section.get(idx, []))
            if not entries:
                if sec.name != TEXT_SECTION:
                    out.append(Function(sec.name, idx, 0, n))
                continue
            for k, (start, size, fname) in enumerate(entries):
                nxt = entries[k + 1][0] if k + 1 < len(entries) else n
                end = start + size if size else nxt
                if not 0 <= start < end <= n:
                    raise _einval(f"function '{fname}' lies outside section '{sec.name}'")
                out.append(Function(fname, idx, start, end))
        return out

    # ------------------------------------------------------------ relocations

    def _read_relocations(self, obj: ParsedObject) -> None:
        for sec in self.sections:
            if not isinstance(sec, RelocationSection):
                continue
            target = sec["sh_info"]
            tname = self.sections[target].name if 0 <= target < len(self.sections) else "?"
            if target not in self.code:
                if tname.startswith(_IGNORED_RELOC_TARGETS) or not (
                    self.sections[target]["sh_flags"] & SHF_ALLOC
                ):
                    continue
                raise _einval(
                    f"relocations in data section '{tname}' are not supported "
                    "(pointers in global data or map definitions)"
                )
            if sec.is_RELA():
                raise _einval(f"RELA relocations ('{sec.name}') are not supported")
            code = self.code[target]
            for rel in sec.iter_relocations():
                reloc = self._reloc(code, rel["r_offset"], rel["r_info_type"], rel["r_info_sym"])
                _check_target(obj, code, reloc, self.sections)
                code.relocs[reloc.slot] = reloc

    def _reloc(self, code: CodeSection, offset: int, rtype: int, sym_idx: int) -> Reloc:
        where = f"relocation in '{code.name}' at offset {offset:#x}"
        if offset % 8 or offset // 8 >= len(code.insns):
            raise _einval(f"{where}: offset is not an instruction of the section")
        if not 0 <= sym_idx < len(self.symbols):
            raise _einval(f"{where}: symbol index {sym_idx} out of range")
        slot = offset // 8
        insn = code.insns[slot]
        if rtype == R_BPF_64_64:
            if insn.opcode != op.LD_IMM64 or slot + 1 >= len(code.insns):
                raise _einval(f"{where}: R_BPF_64_64 is not at an ld_imm64 instruction")
        elif rtype == R_BPF_64_32:
            if insn.opcode != op.CALL_OP or insn.src != op.BPF_PSEUDO_CALL:
                raise _einval(f"{where}: R_BPF_64_32 is not at a local call instruction")
        else:
            raise _einval(f"{where}: unsupported relocation type {rtype}")
        return Reloc(slot, rtype, self.symbols[sym_idx])


def _drop_unreferenced_data(obj: ParsedObject) -> None:
    """No map for a global data section no instruction refers to.

    clang leaves e.g. the initialiser of a stack string (``char s[] = "Tick!"``) in
    ``.rodata.str1.1`` even when the code builds the string with immediates; a map
    for it would only burn an id.
    """
    used = {r.symbol.section for c in obj.code.values() for r in c.relocs.values()}
    for idx in [i for i in obj.data_sections if i not in used]:
        spec = obj.data_sections.pop(idx)
        obj.maps.remove(spec)


def _check_target(obj: ParsedObject, code: CodeSection, reloc: Reloc, sections: list) -> None:
    """The relocated symbol must be something the linker can resolve."""
    sym = reloc.symbol
    label = sym.name or (sections[sym.section].name if sym.section is not None else "?")
    where = f"relocation in '{code.name}' at offset {reloc.slot * 8:#x}"
    if sym.section is None or sym.section == 0 or sym.section >= len(sections):
        raise _einval(f"{where}: symbol '{label}' is undefined")
    addend = code.insns[reloc.slot].imm
    if reloc.rtype == R_BPF_64_32:
        if sym.section not in obj.code or obj.code[sym.section].name != TEXT_SECTION:
            raise _einval(f"{where}: call target '{label}' is not a .text function")
        return
    if sym.section in obj.map_sections:
        if obj.map_at(sym.section, sym.value + addend) is None:
            raise _einval(f"{where}: '{label}' is not the start of a map definition")
        return
    spec = obj.data_sections.get(sym.section)
    if spec is not None:
        if not 0 <= sym.value + addend < spec.value_size:
            raise _einval(f"{where}: offset {sym.value + addend} is outside '{spec.name}'")
        return
    raise _einval(
        f"{where}: symbol '{label}' in section '{sections[sym.section].name}' "
        "is neither a map nor global data"
    )
