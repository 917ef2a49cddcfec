"""Link one program: apply relocations and append the ``.text`` functions it calls.

libbpf's scheme, which keeps every program self-contained: the entry function's
slots come first, then each ``.text`` function reached through a call (transitively,
each once, in discovery order); call immediates become pc-relative offsets to the
appended copies. Functions that are never called are not appended, so the verifier
never sees unreachable code.

Relocations:

* ``R_BPF_64_64`` against a ``maps`` symbol -> ``ld_imm64`` src=1 (BPF_PSEUDO_MAP_FD),
  imm = map id;
* ``R_BPF_64_64`` against global data (a ``.data``/``.rodata``/``.bss`` symbol or the
  section symbol plus the addend clang leaves in imm) -> src=2
  (BPF_PSEUDO_MAP_VALUE), imm = map id, second slot imm = offset in the section;
* ``R_BPF_64_32`` (a call) -> the callee is ``symbol value / 8 + imm + 1`` in its
  section, as libbpf computes it.

A local call without a relocation stays as is when it lands inside its own
function; otherwise its target must be the start of a ``.text`` function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from kernel.abi import BPF_PROG_MAX_INSNS, Errno
from kernel.bpf.elf.model import R_BPF_64_32, Function, MapSpec, ParsedObject, ProgramSpec, Reloc
from kernel.bpf.errors import BpfError
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn


def _einval(message: str) -> BpfError:
    return BpfError(Errno.EINVAL, message)


def link_program(
    obj: ParsedObject,
    prog: ProgramSpec,
    map_ids: Mapping[MapSpec, int],
    origins: list[tuple[str, int]] | None = None,
) -> list[Insn]:
    """The program's final slots, with ``map_ids`` giving each map's id.

    ``origins``, if given, receives ``(section name, slot)`` for every output slot:
    where it came from, for line info.
    """
    out: list[Insn] = []
    placed: dict[Function, int] = {prog.function: 0}
    queue: list[Function] = [prog.function]
    calls: list[tuple[int, Function]] = []
    while queue:
        fn = queue.pop(0)
        placed[fn] = len(out)
        if origins is not None:
            section = obj.code[fn.section].name
            origins.extend((section, slot) for slot in range(fn.start, fn.end))
        for insn, callee in _emit(obj, fn, map_ids):
            out.append(insn)
            if callee is not None:
                calls.append((len(out) - 1, callee))
                if callee not in placed:
                    placed[callee] = -1  # queued; its base is set when it is emitted
                    queue.append(callee)
    for idx, callee in calls:
        out[idx] = replace(out[idx], src=op.BPF_PSEUDO_CALL, imm=placed[callee] - idx - 1)
    if len(out) > BPF_PROG_MAX_INSNS:
        raise BpfError(
            Errno.E2BIG,
            f"program '{prog.name}' links to {len(out)} instructions (max {BPF_PROG_MAX_INSNS})",
        )
    return out


def _emit(
    obj: ParsedObject, fn: Function, map_ids: Mapping[MapSpec, int]
) -> Iterator[tuple[Insn, Function | None]]:
    """Yield ``(relocated insn, callee or None)`` for each slot of ``fn``."""
    code = obj.code[fn.section]
    hi: Insn | None = None  # second slot of a relocated ld_imm64, emitted next
    for slot in range(fn.start, fn.end):
        insn = code.insns[slot]
        reloc = code.relocs.get(slot)
        if hi is not None:
            yield hi, None
            hi = None
        elif reloc is not None and reloc.rtype != R_BPF_64_32:
            lo, hi = _relocate_ld(obj, insn, code.insns[slot + 1], reloc, map_ids)
            yield lo, None
        elif insn.opcode == op.CALL_OP and insn.src == op.BPF_PSEUDO_CALL:
            yield insn, _callee(obj, fn, slot, insn, reloc)
        else:
            yield insn, None


def _relocate_ld(
    obj: ParsedObject, lo: Insn, hi: Insn, reloc: Reloc, map_ids: Mapping[MapSpec, int]
) -> tuple[Insn, Insn]:
    """Both slots of a relocated ``ld_imm64`` (the reader validated the target)."""
    sym = reloc.symbol
    assert sym.section is not None
    offset = sym.value + lo.imm  # REL: clang leaves the addend in imm
    spec = obj.data_sections.get(sym.section)
    if spec is not None:
        return (
            replace(lo, src=op.BPF_PSEUDO_MAP_VALUE, imm=map_ids[spec]),
            replace(hi, imm=offset),
        )
    spec = obj.map_at(sym.section, offset)
    assert spec is not None
    return replace(lo, src=op.BPF_PSEUDO_MAP_FD, imm=map_ids[spec]), replace(hi, imm=0)


def _callee(
    obj: ParsedObject, fn: Function, slot: int, insn: Insn, reloc: Reloc | None
) -> Function | None:
    """The function a local call enters, or None when it stays inside ``fn``."""
    where = f"call in '{fn.name}' at offset {slot * 8:#x}"
    if reloc is not None:
        assert reloc.symbol.section is not None
        section = reloc.symbol.section
        target = reloc.symbol.value // 8 + insn.imm + 1
    else:
        section = fn.section
        target = slot + insn.imm + 1
        if fn.start <= target < fn.end:
            return None
    callee = obj.subprograms.get((section, target))
    if callee is None:
        raise _einval(f"{where}: target is not the start of a .text function")
    return callee
