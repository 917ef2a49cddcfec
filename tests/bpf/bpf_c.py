"""Build the C test programs with clang's BPF target and load them like libbpf would.

`build_object` compiles one ``tests/bpf/c/*.c`` with ziglang's clang, caching the
object under ``build/bpf-test-objs`` by a hash of the source, the headers and
the command. `load_programs` splits the object into programs (one per function
symbol in a program section), appends ``.text`` subprograms for BPF-to-BPF calls
and patches relocations: an ``ld_imm64`` of a ``.maps`` symbol becomes
``src=1, imm=<map id>`` from the caller's name -> id table.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, decode

ROOT = Path(__file__).resolve().parents[2]
C_DIR = Path(__file__).resolve().parent / "c"
BUILD_DIR = ROOT / "build" / "bpf-test-objs"
CC = [sys.executable, "-m", "ziglang", "cc", "-target", "bpfel-freestanding-none", "-O2", "-c"]

R_BPF_64_64 = 1
R_BPF_64_32 = 10


def build_object(name: str) -> Path:
    """Compile ``c/<name>.c`` (cached); returns the object path."""
    src = C_DIR / f"{name}.c"
    h = hashlib.sha256(" ".join(CC).encode())
    for p in sorted(C_DIR.glob("*.h")) + [src]:
        h.update(p.read_bytes())
    out = BUILD_DIR / f"{name}-{h.hexdigest()[:16]}.o"
    if not out.exists():
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.o")
        subprocess.run([*CC, str(src), "-o", str(tmp)], check=True, capture_output=True)
        tmp.replace(out)
    return out


def load_programs(path: Path, map_ids: dict[str, int] | None = None) -> dict[str, list[Insn]]:
    """``{function name: instructions}`` for every program in the object."""
    map_ids = map_ids or {}
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        sections = {i: s for i, s in enumerate(elf.iter_sections())}
        text_idx = next((i for i, s in sections.items() if s.name == ".text"), None)
        text = decode(sections[text_idx].data()) if text_idx is not None else []
        relocs: dict[int, list[tuple[int, object, int]]] = {}
        for s in elf.iter_sections():
            if isinstance(s, RelocationSection):
                target = s["sh_info"]
                for rel in s.iter_relocations():
                    sym = symtab.get_symbol(rel["r_info_sym"])
                    relocs.setdefault(target, []).append(
                        (rel["r_offset"] // 8, sym, rel["r_info_type"])
                    )
        progs: dict[str, list[Insn]] = {}
        for sym in symtab.iter_symbols():
            if sym["st_info"]["type"] != "STT_FUNC":
                continue
            shndx = sym["st_shndx"]
            if not isinstance(shndx, int) or shndx == text_idx:
                continue
            sec = sections[shndx]
            start = sym["st_value"] // 8
            end = start + sym["st_size"] // 8
            body = decode(sec.data())[start:end]
            sec_rel = [(o - start, s, t) for o, s, t in relocs.get(shndx, []) if start <= o < end]
            progs[sym.name] = _link(
                body, sec_rel, text, relocs.get(text_idx, []), sections, map_ids
            )
        return progs


def _link(body, rels, text, text_rels, sections, map_ids) -> list[Insn]:
    insns = list(body)
    uses_text = any(t == R_BPF_64_32 for _, _, t in rels)
    base = len(insns)
    all_rels = [(o, s, t, 0) for o, s, t in rels]
    if uses_text:
        insns += text
        all_rels += [(o + base, s, t, base) for o, s, t in text_rels]
    for idx, sym, rtype, _sec_base in all_rels:
        insn = insns[idx]
        if rtype == R_BPF_64_64 and insn.opcode == op.LD_IMM64:
            sec = sections.get(sym["st_shndx"]) if isinstance(sym["st_shndx"], int) else None
            if sec is not None and sec.name == ".maps":
                insns[idx] = replace(insn, src=op.BPF_PSEUDO_MAP_FD, imm=map_ids[sym.name])
        elif rtype == R_BPF_64_32 and insn.opcode == op.CALL_OP:
            target = base + sym["st_value"] // 8 + insn.imm + 1
            insns[idx] = replace(insn, src=op.BPF_PSEUDO_CALL, imm=target - idx - 1)
    return insns
