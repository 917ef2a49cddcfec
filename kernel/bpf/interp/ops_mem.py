"""Memory instruction closures: LDX, ST, STX, atomics and ld_imm64.

Every access is ``m[addr >> 32]`` (the region of that slot, see `memory`) plus a
``struct`` pack/unpack at the offset; a missing slot, an offset past the region or a
store into a read-only view raises inside the ``try`` and becomes a
`BpfRuntimeError` naming the region. There is no alignment requirement.

The address ``r + off`` is not masked to 64 bits on the fast path: a 16-bit offset
can only wrap into the first or last 32 KiB of the address space, where no region
is ever mapped, and a negative or >= 2**64 sum finds no slot either way.
"""

from __future__ import annotations

import struct

from kernel.bpf.errors import BpfError, BpfRuntimeError
from kernel.bpf.interp.codegen import M64, Factory, Op, make_factory
from kernel.bpf.interp.memory import MemoryFault
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

_FAULTS = (KeyError, struct.error, TypeError, ValueError, IndexError)
_FMT = {op.B: "B", op.H: "H", op.W: "I", op.DW: "Q"}
_SFMT = {op.B: "b", op.H: "h", op.W: "i"}
_MASK = {op.B: 0xFF, op.H: 0xFFFF, op.W: 0xFFFF_FFFF, op.DW: M64}


def _ns(size: int, fmt: str) -> dict:
    st = struct.Struct("<" + fmt)
    return {
        "UNPACK": st.unpack_from,
        "PACK": st.pack_into,
        "FAULTS": _FAULTS,
        "SIZE": op.SIZE_BYTES[size],
        "MASK": _MASK[size],
    }


_LOAD = """
a = r[s] + k
try:
    r[d] = UNPACK(m[a >> 32], a & M32)[0]{sx}
except FAULTS:
    raise m.fault(pc, a & M64, SIZE, False) from None
return nxt
"""
_STORE = """
a = r[d] + k
try:
    PACK(m[a >> 32], a & M32, {value})
except FAULTS:
    raise m.fault(pc, a & M64, SIZE, True) from None
return nxt
"""
_ATOMIC = """
a = r[d] + k
try:
    buf = m[a >> 32]
    o = a & M32
    old = UNPACK(buf, o)[0]
    {update}
except FAULTS:
    raise m.fault(pc, a & M64, SIZE, True) from None
{result}
return nxt
"""
_ATOMIC_UPDATES = {
    op.ATOMIC_ADD: "PACK(buf, o, (old + r[s]) & MASK)",
    op.ATOMIC_OR: "PACK(buf, o, (old | r[s]) & MASK)",
    op.ATOMIC_AND: "PACK(buf, o, old & r[s])",
    op.ATOMIC_XOR: "PACK(buf, o, (old ^ r[s]) & MASK)",
    op.XCHG: "PACK(buf, o, r[s] & MASK)",
    # Always store (old on mismatch) so a read-only target faults either way.
    op.CMPXCHG: "PACK(buf, o, r[s] & MASK if old == r[0] & MASK else old)",
}


def _build():
    loads: dict[tuple[int, bool], Factory] = {}
    stores: dict[tuple[int, bool], Factory] = {}
    atomics: dict[tuple[int, int], Factory] = {}
    for size, fmt in _FMT.items():
        loads[(size, False)] = make_factory(_LOAD.format(sx=""), _ns(size, fmt))
        if size in _SFMT:
            loads[(size, True)] = make_factory(_LOAD.format(sx=" & M64"), _ns(size, _SFMT[size]))
        stores[(size, True)] = make_factory(_STORE.format(value="r[s] & MASK"), _ns(size, fmt))
        stores[(size, False)] = make_factory(_STORE.format(value="v"), _ns(size, fmt))
    for size in (op.W, op.DW):
        for code in op.ATOMIC_OPS:
            base = code & ~op.FETCH if code not in (op.XCHG, op.CMPXCHG) else code
            if code == op.CMPXCHG:
                result = "r[0] = old"
            elif code & op.FETCH:
                result = "r[s] = old"
            else:
                result = "pass"
            body = _ATOMIC.format(update=_ATOMIC_UPDATES[base], result=result)
            atomics[(size, code)] = make_factory(body, _ns(size, _FMT[size]))
    return loads, stores, atomics


_LOADS, _STORES, _ATOMICS = _build()
_CONST = make_factory("r[d] = k\nreturn nxt")


def compile_ldx(insn: Insn, pc: int, invalid: Op) -> Op:
    mode, size = insn.opcode & op.MODE_MASK, insn.opcode & op.SIZE_MASK
    if mode not in (op.MEM, op.MEMSX) or insn.imm:
        return invalid
    factory = _LOADS.get((size, mode == op.MEMSX))
    if factory is None:
        return invalid
    return factory(insn.dst, insn.src, insn.off, pc, pc + 1, 0)


def compile_store(insn: Insn, pc: int, invalid: Op) -> Op:
    """ST (immediate) and STX (register), including STX | ATOMIC."""
    mode, size = insn.opcode & op.MODE_MASK, insn.opcode & op.SIZE_MASK
    is_stx = insn.opcode & op.CLASS_MASK == op.STX
    if mode == op.ATOMIC and is_stx:
        factory = _ATOMICS.get((size, insn.imm))
        if factory is None:
            return invalid
        return factory(insn.dst, insn.src, insn.off, pc, pc + 1, 0)
    if mode != op.MEM:
        return invalid
    value = 0 if is_stx else insn.imm & _MASK[size]
    return _STORES[(size, is_stx)](insn.dst, insn.src, insn.off, pc, pc + 1, 0, value)


def compile_const(dst: int, value: int, pc: int, nxt: int) -> Op:
    """``ld_imm64`` (and anything else that sets a register to a constant)."""
    return _CONST(dst, 0, value & M64, pc, nxt, 0)


_KEY0 = bytes(4)


def compile_map_value(dst: int, map_id: int, off: int, pc: int, nxt: int) -> Op:
    """``ld_imm64`` src=2 (BPF_PSEUDO_MAP_VALUE): dst = &value[0] of ``map_id`` + ``off``.

    The value is mapped as a region of the run, exactly like a map_lookup_elem
    result (same live view, so the same address within a run): global variables
    (ELF ``.data``/``.bss``) are single-entry array maps. Resolved at run time
    because the region table is per run; a missing map is a runtime error.
    """

    def op_(r: list[int], m: object) -> int:
        try:
            view = m.maps.get(map_id).lookup(_KEY0)  # type: ignore[attr-defined]
            if view is not None:
                r[dst] = m.add_dynamic(view, f"map {map_id} value") + off  # type: ignore[attr-defined]
                return nxt
            why = "it has no element 0"
        except (BpfError, MemoryFault) as e:
            why = str(e)
        raise BpfRuntimeError(pc, f"no value for global data map {map_id}: {why}")

    return op_
