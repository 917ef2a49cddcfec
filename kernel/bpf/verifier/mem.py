"""Memory access checks: every load, store, atomic and helper buffer argument.

Each pointer type names one region with a statically known size -- the context
(read-only), a stack frame (512 bytes below R10), a map value (value_size), the
hook payload (the range proven by a ``data_end`` comparison), the raw memory of
the conformance environment. An access is accepted only if it is inside that
region for *every* value of the pointer's offset range, which is what makes the
VM's own bounds checks unreachable for verified programs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.abi import CtxOff
from kernel.bpf.isa import opcodes as op
from kernel.bpf.verifier import scalar, tnum
from kernel.bpf.verifier.state import (
    INVALID,
    MISC,
    PTR_TO_CTX,
    PTR_TO_MAP_VALUE,
    PTR_TO_MEM,
    PTR_TO_PACKET,
    PTR_TO_PACKET_END,
    PTR_TO_STACK,
    SCALAR,
    SLOT_INVALID,
    SLOT_MISC,
    SLOT_SPILL,
    SPILL,
    TYPE_NAMES,
    ZERO,
    Frame,
    MapInfo,
    Reg,
    Slot,
    VerifierState,
    const_reg,
    scalar_reg,
)

if TYPE_CHECKING:
    from kernel.bpf.verifier.core import Verifier

MAX_VAR_OFF = 1 << 29  # Linux's BPF_MAX_VAR_OFF: bound on variable pointer offsets


def _map_of(ptr: Reg) -> MapInfo:
    """The map a PTR_TO_MAP_VALUE points into: every such pointer carries it."""
    assert ptr.map is not None
    return ptr.map


def sized_unknown(size: int, signed: bool = False) -> Reg:
    """The value of a ``size``-byte load whose content is not tracked."""
    if size >= 8:
        return Reg(SCALAR)
    bits = size * 8
    if signed:
        s = scalar.sync((0, scalar.U64, scalar.smin_of(bits), scalar.smax_of(bits), 0, scalar.U64))
    else:
        s = scalar.urange(0, scalar.umask(bits))
    assert s is not None
    return scalar_reg(s)


def _var_bounds(v: Verifier, regno: int, ptr: Reg) -> tuple[int, int]:
    """Signed min/max of a pointer's variable offset; rejects unbounded ones."""
    s = ptr.s
    if s.mask == 0:
        c = scalar.to_signed(s.value)
        return c, c
    if s.smin < 0:
        v.fail(
            f"R{regno} min value is negative, either use unsigned index or do a "
            "if (index >=0) check."
        )
    if s.umax >= MAX_VAR_OFF:
        v.fail(f"R{regno} unbounded memory access, make sure to bounds check any such access")
    return s.smin, s.smax


def _region(v: Verifier, regno: int, ptr: Reg, off: int, size: int, limit: int, what: str) -> None:
    lo, hi = _var_bounds(v, regno, ptr)
    lo += ptr.off + off
    hi += ptr.off + off
    if lo < 0 or hi + size > limit:
        where = str(lo) if lo == hi else f"[{lo},{hi}]"
        v.fail(f"invalid access to {what}, {_size_name(what)}={limit} off={where} size={size}")


def _forbidden(v: Verifier, ptr: Reg, off: int, size: int) -> None:
    """A write into a frozen (read-only) map, in Linux's words."""
    v.fail(
        f"write into map forbidden, value_size={_map_of(ptr).value_size} "
        f"off={ptr.off + off + scalar.to_signed(ptr.s.value)} size={size}"
    )


def _size_name(what: str) -> str:
    return "value_size" if what == "map value" else "mem_size"


def _check_aligned(v: Verifier, regno: int, ptr: Reg, off: int, size: int) -> None:
    """Atomics need natural alignment; region bases are 8-byte aligned."""
    t = tnum.add((ptr.s.value, ptr.s.mask), tnum.const(ptr.off + off))
    if (t[0] | t[1]) & (size - 1):
        v.fail(f"misaligned access off {tnum.fmt(t)}+0 size {size}")


def check_access(
    v: Verifier,
    st: VerifierState,
    regno: int,
    off: int,
    size: int,
    kind: str,
    value: Reg | None = None,
    value_regno: int = -1,
    signed: bool = False,
) -> Reg | None:
    """Check one load/store/atomic through register ``regno``.

    ``kind`` is "read", "write" or "atomic". Returns the loaded value for reads.
    ``value`` is the register being stored (None for unknown data).
    """
    ptr = v.read_reg(st, regno)
    t = ptr.type
    if kind != "read" and value is not None and value.is_ptr and t != PTR_TO_STACK:
        where = "map" if t == PTR_TO_MAP_VALUE else ("ctx" if t == PTR_TO_CTX else "mem")
        v.fail(f"R{value_regno} leaks addr into {where}")
    if t == PTR_TO_STACK:
        return _stack_access(v, st, regno, ptr, off, size, kind, value, value_regno, signed)
    if t == PTR_TO_MAP_VALUE:
        _region(v, regno, ptr, off, size, _map_of(ptr).value_size, "map value")
        if kind != "read" and _map_of(ptr).frozen:
            _forbidden(v, ptr, off, size)
        if kind == "atomic":
            _check_aligned(v, regno, ptr, off, size)
        return sized_unknown(size, signed) if kind == "read" else None
    if t == PTR_TO_MEM:
        _region(v, regno, ptr, off, size, v.mem_size, "memory")
        if kind == "atomic":
            _check_aligned(v, regno, ptr, off, size)
        return sized_unknown(size, signed) if kind == "read" else None
    if t == PTR_TO_CTX:
        return _ctx_access(v, regno, ptr, off, size, kind)
    if t == PTR_TO_PACKET:
        if kind == "atomic":
            v.fail(f"BPF_ATOMIC stores into R{regno} pkt is not allowed")
        if kind == "write" and not v.entry.payload_writable:
            v.fail(f"R{regno} cannot write into pkt")
        _packet_access(v, regno, ptr, off, size)
        return sized_unknown(size, signed) if kind == "read" else None
    v.fail(f"R{regno} invalid mem access '{TYPE_NAMES[t]}'")
    return None


def _ctx_access(v: Verifier, regno: int, ptr: Reg, off: int, size: int, kind: str) -> Reg:
    if ptr.s.mask != 0 or ptr.s.value != 0:
        v.fail(f"variable ctx access var_off={tnum.fmt((ptr.s.value, ptr.s.mask))} disallowed")
    o = ptr.off + off
    if kind != "read" or o < 0 or o + size > v.entry.ctx_size or o % size:
        v.fail(f"invalid bpf_context access off={o} size={size}")
    if o in (CtxOff.DATA, CtxOff.DATA_END):
        if size != 8:
            v.fail(f"invalid bpf_context access off={o} size={size}")
        if o == CtxOff.DATA:
            return Reg(PTR_TO_PACKET, scalar.const(0), id=v.PKT_BASE_ID)
        return Reg(PTR_TO_PACKET_END, scalar.const(0))
    return sized_unknown(size)


def _packet_access(v: Verifier, regno: int, ptr: Reg, off: int, size: int) -> None:
    s = ptr.s
    if s.smin < 0:
        v.fail(
            f"R{regno} min value is negative, either use unsigned index or do a "
            "if (index >=0) check."
        )
    o = ptr.off + off
    if o >= 0 and o + size <= ptr.rng and o + s.umax + size <= v.entry.payload_size:
        return
    if s.mask == 0 and 0 <= o + s.value and o + s.value + size <= v.entry.payload_size:
        # A constant offset not proven by a data_end comparison (the original's hook
        # programs read their payload this way). Every hook's payload has a fixed
        # size, so the access is safe iff the program runs where the payload is at
        # least this long: recorded here, checked at PROG_ATTACH (or now, when the
        # hook is already known, by payload_size above).
        require_payload(v, o + s.value + size)
        return
    v.fail(
        f"invalid access to packet, off={o} size={size}, "
        f"R{regno}(id={ptr.id},off={ptr.off},r={ptr.rng})"
    )


def require_payload(v: Verifier, end: int) -> None:
    """Record that the program reads payload bytes up to ``end`` unchecked."""
    if end > getattr(v, "payload_required", 0):
        v.payload_required = end  # type: ignore[attr-defined]


# ---------------------------------------------------------------- stack


def _frame_of(st: VerifierState, ptr: Reg) -> Frame:
    return st.frames[ptr.frame]


def _touch(v: Verifier, st: VerifierState, frame: Frame, lo: int) -> None:
    d = -lo
    if d > frame.depth:
        frame.depth = d
        v.note_stack(st)


def _stack_access(
    v: Verifier,
    st: VerifierState,
    regno: int,
    ptr: Reg,
    off: int,
    size: int,
    kind: str,
    value: Reg | None,
    value_regno: int,
    signed: bool,
) -> Reg | None:
    frame = _frame_of(st, ptr)
    verb = "read from" if kind == "read" else "write to"
    if ptr.s.mask == 0:
        o = ptr.off + off + scalar.to_signed(ptr.s.value)
        if o < -op.STACK_SIZE or o + size > 0:
            v.fail(f"invalid {verb} stack R{regno} off={o} size={size}")
        _touch(v, st, frame, o)
        if kind == "read":
            return stack_read(v, frame, o, size, signed)
        if kind == "atomic":
            _check_stack_init(v, frame, o, size, "atomic")
            if o % size:
                v.fail(f"misaligned stack access off {o} size {size}")
            stack_write(v, st, frame, ptr.frame, o, size, None, value_regno)
            return None
        stack_write(v, st, frame, ptr.frame, o, size, value, value_regno)
        return None
    if kind == "atomic":
        v.fail(f"R{regno} variable-offset atomic access to the stack is not allowed")
    s = ptr.s
    if s.smin == scalar.S64_MIN or s.smax == scalar.S64_MAX:
        v.fail(f"invalid unbounded variable-offset {verb} stack R{regno}")
    lo = ptr.off + off + s.smin
    hi = ptr.off + off + s.smax
    if lo < -op.STACK_SIZE or hi + size > 0:
        v.fail(
            f"invalid variable-offset {verb} stack R{regno} "
            f"var_off={tnum.fmt((s.value, s.mask))} off={ptr.off + off} size={size}"
        )
    _touch(v, st, frame, lo)
    if kind == "read":
        _check_stack_init(v, frame, lo, hi + size - lo, "read")
        return sized_unknown(size, signed)
    if value is not None and value.is_ptr:
        v.fail(f"R{value_regno} variable-offset stack write of a pointer is not allowed")
    for k in range(lo // 8, (hi + size - 1) // 8 + 1):
        slot = frame.stack.get(k)
        if slot is not None and slot.spill is not None and slot.spill.is_ptr:
            v.fail("attempt to corrupt spilled pointer on stack")
    for b in range(lo, hi + size):
        k, j = divmod(b, 8)
        slot = frame.stack.get(k)
        if slot is None:
            continue
        kinds = list(SLOT_MISC if slot.spill is not None else slot.kinds)
        if kinds[j] == ZERO:
            kinds[j] = MISC
        frame.stack[k] = Slot(tuple(kinds))
    return None


def _check_stack_init(v: Verifier, frame: Frame, lo: int, n: int, what: str) -> None:
    """Every byte of ``[lo, lo+n)`` written, and no spilled pointer read in part."""
    for b in range(lo, lo + n):
        k, j = divmod(b, 8)
        slot = frame.stack.get(k)
        kind = INVALID if slot is None else slot.kinds[j]
        if kind == INVALID:
            if what == "helper":
                v.fail(f"invalid indirect read from stack off {lo}+{b - lo} size {n}")
            v.fail(f"invalid {what} from stack off {lo}+{b - lo} size {n}")
        # SPILL bytes belong to a Slot holding a spilled register
        if kind == SPILL and slot.spill.is_ptr:  # type: ignore[union-attr]
            v.fail(f"invalid {what} of spilled pointer from stack off {b}")


def stack_read(v: Verifier, frame: Frame, o: int, size: int, signed: bool = False) -> Reg:
    """Load ``size`` bytes at ``o`` (fixed offset) from a frame's stack."""
    k, j = divmod(o, 8)
    slot = frame.stack.get(k)
    if slot is not None and slot.spill is not None and j == 0:
        sp = slot.spill
        if size == 8:
            return sp
        if sp.type == SCALAR and not signed and sp.s.umax <= scalar.umask(size * 8):
            return sp.replace(id=0)
    if slot is not None and slot.narrow is not None:
        nj, n, sp = slot.narrow
        if nj == j and n == size:
            if signed:
                return scalar_reg(scalar.sign_extend(sp.s, size * 8), prec=sp.prec)
            return sp
    value = 0
    known = True
    for idx, b in enumerate(range(o, o + size)):
        k, j = divmod(b, 8)
        slot = frame.stack.get(k)
        kind = INVALID if slot is None else slot.kinds[j]
        if kind == INVALID:
            v.fail(f"invalid read from stack off {o}+{idx} size {size}")
        if kind == SPILL:  # bytes of a Slot holding a spilled register
            sp = slot.spill  # type: ignore[union-attr, assignment]
            if sp.type != SCALAR:
                v.fail(
                    f"invalid size of register fill: {size} bytes of a spilled "
                    f"{TYPE_NAMES[sp.type]}"
                )
            if sp.s.mask == 0:
                value |= (sp.s.value >> (8 * j) & 0xFF) << (8 * idx)
            else:
                known = False
        elif kind == MISC:
            known = False
    if known:
        if signed:
            value = scalar.to_signed(value, size * 8)
        return const_reg(value)
    return sized_unknown(size, signed)


def stack_write(
    v: Verifier,
    st: VerifierState,
    frame: Frame,
    frameno: int,
    o: int,
    size: int,
    value: Reg | None,
    value_regno: int,
) -> None:
    """Store at fixed offset ``o``; ``value`` None means unknown data."""
    if value is not None and value.is_ptr:
        if size != 8:
            v.fail(f"invalid size of register spill: R{value_regno} is a pointer, size {size}")
        if o % 8:
            v.fail(f"misaligned stack spill of a pointer off {o}")
        if value.type == PTR_TO_STACK and value.frame > frameno:
            v.fail("cannot spill pointers to stack into stack frame of the caller")
    full = size == 8 and o % 8 == 0
    if not full:
        # Overwriting part of a spilled pointer would let the rest be read back
        # as a number: the pointer leaks (Linux refuses it for the same reason).
        for k in range(o // 8, (o + size - 1) // 8 + 1):
            slot = frame.stack.get(k)
            if slot is not None and slot.spill is not None and slot.spill.is_ptr:
                lo, hi = max(o, 8 * k), min(o + size, 8 * k + 8)
                if lo != 8 * k or hi != 8 * k + 8:
                    v.fail("attempt to corrupt spilled pointer on stack")
    if full and value is not None:
        frame.stack[o // 8] = Slot(SLOT_SPILL, value)
        return
    is_zero = value is not None and value.type == SCALAR and value.s == scalar.const(0)
    byte_kind = ZERO if is_zero else MISC
    narrow = None
    if value is not None and value.type == SCALAR and size < 8 and o % size == 0:
        # a 1/2/4-byte spill of a scalar: remember its value for the fill
        narrow = (o % 8, size, scalar_reg(scalar.truncate(value.s, size), prec=value.prec))
    for b in range(o, o + size):
        k, j = divmod(b, 8)
        slot = frame.stack.get(k)
        keep = None
        if slot is None:
            kinds = list(SLOT_INVALID)
        elif slot.spill is not None:
            kinds = list(SLOT_MISC)
        else:
            kinds = list(slot.kinds)
            old = slot.narrow
            if old is not None and (o >= 8 * k + old[0] + old[1] or o + size <= 8 * k + old[0]):
                keep = old  # the write does not touch the narrow spill
        kinds[j] = byte_kind
        frame.stack[k] = Slot(tuple(kinds), None, keep)
    if narrow is not None:
        k = o // 8
        frame.stack[k] = Slot(frame.stack[k].kinds, None, narrow)


# ---------------------------------------------------------------- helper arguments


def check_helper_mem(
    v: Verifier, st: VerifierState, regno: int, size_lo: int, size_hi: int, expected: str
) -> None:
    """A helper will read ``size_hi`` bytes (at most) through register ``regno``."""
    ptr = v.read_reg(st, regno)
    t = ptr.type
    if t == PTR_TO_STACK:
        frame = _frame_of(st, ptr)
        if ptr.s.mask == 0:
            lo = hi = ptr.off + scalar.to_signed(ptr.s.value)
        else:
            s = ptr.s
            if s.smin == scalar.S64_MIN or s.smax == scalar.S64_MAX:
                v.fail(f"R{regno} unbounded indirect variable-offset stack access")
            lo, hi = ptr.off + s.smin, ptr.off + s.smax
        if size_hi == 0:
            return
        if lo < -op.STACK_SIZE or hi + size_hi > 0:
            v.fail(f"invalid indirect access to stack R{regno} off={lo} size={size_hi}")
        _touch(v, st, frame, lo)
        _check_stack_init(v, frame, lo, hi - lo + size_hi, "helper")
        return
    if size_hi == 0:
        if t in (PTR_TO_MAP_VALUE, PTR_TO_MEM, PTR_TO_PACKET):
            return
    if t == PTR_TO_MAP_VALUE:
        _region(v, regno, ptr, 0, size_hi, _map_of(ptr).value_size, "map value")
        return
    if t == PTR_TO_MEM:
        _region(v, regno, ptr, 0, size_hi, v.mem_size, "memory")
        return
    if t == PTR_TO_PACKET:
        _packet_access(v, regno, ptr, 0, size_hi)
        return
    v.fail(f"R{regno} type={TYPE_NAMES[t]} expected={expected}")


def check_helper_mem_write(v: Verifier, st: VerifierState, regno: int, size: int) -> None:
    """A helper will write ``size`` bytes through ``regno`` (the bytes may be
    uninitialised before the call and are initialised after it, as Linux's
    ARG_PTR_TO_UNINIT_MEM)."""
    ptr = v.read_reg(st, regno)
    t = ptr.type
    if t == PTR_TO_STACK:
        if ptr.s.mask != 0:
            v.fail(f"R{regno} variable-offset stack buffer for a helper write")
        frame = _frame_of(st, ptr)
        lo = ptr.off + scalar.to_signed(ptr.s.value)
        if lo < -op.STACK_SIZE or lo + size > 0:
            v.fail(f"invalid indirect access to stack R{regno} off={lo} size={size}")
        _touch(v, st, frame, lo)
        stack_write(v, st, frame, ptr.frame, lo, size, None, regno)
        return
    if t == PTR_TO_MAP_VALUE:
        _region(v, regno, ptr, 0, size, _map_of(ptr).value_size, "map value")
        if _map_of(ptr).frozen:
            _forbidden(v, ptr, 0, size)
        return
    if t == PTR_TO_MEM:
        _region(v, regno, ptr, 0, size, v.mem_size, "memory")
        return
    v.fail(f"R{regno} type={TYPE_NAMES[t]} expected=fp, map_value, mem")
