"""Value-range arithmetic for scalars: a tnum plus signed and unsigned ranges.

A scalar abstract value is a `Scalar`: the tnum ``(value, mask)`` and two ranges
``smin..smax``, ``umin..umax`` that all hold at once (Linux's ``bpf_reg_state``
var_off / smin_value / ... fields). Every operation is written
for a bit width of 64 or 32, so ALU32 and JMP32 reuse the same code on a 32-bit
*view* of a register (see `view32` / `from32`).

Why the three representations: ranges bound memory accesses, tnums keep bit
facts (alignment, masks) that ranges lose, and `sync` lets each tighten the
others -- exactly the reg_bounds_sync dance of the Linux verifier. Functions
return None for an empty set, which the caller reads as "this branch is dead".
"""

from __future__ import annotations

from typing import NamedTuple

from kernel.bpf.verifier import tnum


class Scalar(NamedTuple):
    """A set of 64-bit (or, on a 32-bit view, 32-bit) values: every member fits all
    three descriptions. A tuple so that states hash and compare by value cheaply;
    the functions below build it with `_new` (no Python-level ``__new__`` frame)."""

    value: int  # tnum value: the bits known to be 1
    mask: int  # tnum mask: the bits not known (value & mask == 0)
    smin: int  # signed range
    smax: int
    umin: int  # unsigned range
    umax: int


# ``_new(Scalar, (value, mask, smin, smax, umin, umax))``: NamedTuple's generated
# __new__ costs a Python call; this is the C constructor it ends in.
_new = tuple.__new__

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1
S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1


def umask(bits: int) -> int:
    return (1 << bits) - 1


def smin_of(bits: int) -> int:
    return -(1 << (bits - 1))


def smax_of(bits: int) -> int:
    return (1 << (bits - 1)) - 1


def to_signed(v: int, bits: int = 64) -> int:
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def unknown(bits: int = 64) -> Scalar:
    m = umask(bits)
    return _new(Scalar, (0, m, smin_of(bits), smax_of(bits), 0, m))


UNKNOWN64: Scalar = unknown(64)


def const(v: int, bits: int = 64) -> Scalar:
    if bits == 64:
        c = _CONST64.get(v)
        if c is not None:
            return c
        u = v & U64
        s = u - (1 << 64) if u >> 63 else u
        c = _new(Scalar, (u, 0, s, s, u, u))
        if len(_CONST64) < _CONST64_MAX:
            _CONST64[v] = c
        return c
    u = v & ((1 << bits) - 1)
    s = u - (1 << bits) if u >> (bits - 1) else u
    return _new(Scalar, (u, 0, s, s, u, u))


# 64-bit constants already built, by the value asked for: a program's immediates
# (every compare with one makes a constant) are few, and a Scalar costs several
# times a dict lookup. Values are immutable, so sharing them is invisible.
_CONST64: dict[int, Scalar] = {}
_CONST64_MAX = 4096


def urange(lo: int, hi: int, bits: int = 64) -> Scalar | None:
    """Unsigned range ``[lo, hi]``; the other fields derived by `sync`."""
    return sync((0, umask(bits), smin_of(bits), smax_of(bits), lo, hi), bits)


def is_const(s: Scalar) -> bool:
    return s.mask == 0


def sync(s: tuple[int, int, int, int, int, int], bits: int = 64) -> Scalar | None:
    """Tighten the tnum and both ranges against each other; None if empty.

    Takes the six fields in `Scalar`'s order as any tuple: this is how every
    operation below builds its result."""
    tv, tm, smin, smax, umin, umax = s
    m = umask(bits)
    half = 1 << (bits - 1)
    for _ in range(2):
        # ranges from the tnum
        if tv > umin:
            umin = tv
        if (tv | tm) < umax:
            umax = tv | tm
        sbit = half
        ts_min = to_signed(tv | (tm & sbit), bits)
        ts_max = to_signed(tv | (tm & (m ^ sbit)), bits)
        if ts_min > smin:
            smin = ts_min
        if ts_max < smax:
            smax = ts_max
        if umin > umax or smin > smax:
            return None
        # signed <-> unsigned when one of them does not cross the sign boundary
        if smin >= 0 or smax < 0:
            lo, hi = smin & m, smax & m
            if lo > umin:
                umin = lo
            if hi < umax:
                umax = hi
            if umin > umax:
                return None
            smin, smax = to_signed(umin, bits), to_signed(umax, bits)
        elif umax < half or umin >= half:
            lo, hi = to_signed(umin, bits), to_signed(umax, bits)
            if lo > smin:
                smin = lo
            if hi < smax:
                smax = hi
            if smin > smax:
                return None
            umin, umax = smin & m, smax & m
        # tnum from the unsigned range
        t = tnum.intersect((tv, tm), tnum.trange(umin, umax))
        if t is None:
            return None
        if t == (tv, tm):
            break
        tv, tm = t
    if umin > umax or smin > smax:
        return None
    return _new(Scalar, (tv, tm, smin, smax, umin, umax))


# ---------------------------------------------------------------- ALU


def _from_parts(t: tnum.Tnum, smin: int, smax: int, umin: int, umax: int, bits: int) -> Scalar:
    r = sync((t[0], t[1], smin, smax, umin, umax), bits)
    # An ALU result over non-empty inputs is never empty; fall back to the tnum alone.
    if r is None:
        r = sync((t[0], t[1], smin_of(bits), smax_of(bits), 0, umask(bits)), bits)
        assert r is not None
    return r


def alu(op: str, a: Scalar, b: Scalar, bits: int = 64) -> Scalar:
    """Abstract ``a <op> b`` at ``bits`` width (wrapping like the hardware)."""
    a_value, a_mask, a_smin, a_smax, a_umin, a_umax = a
    b_value, b_mask, b_smin, b_smax, b_umin, b_umax = b
    m = umask(bits)
    lo_s, hi_s = smin_of(bits), smax_of(bits)
    ta, tb = (a_value, a_mask), (b_value, b_mask)
    if a_mask == 0 and b_mask == 0:
        return const(_concrete(op, a_value, b_value, bits), bits)
    if op == "add":
        t = tnum.cast(tnum.add(ta, tb), bits // 8)
        smin, smax = a_smin + b_smin, a_smax + b_smax
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        umin, umax = a_umin + b_umin, a_umax + b_umax
        if umax > m:
            if umin > m:
                umin, umax = umin - m - 1, umax - m - 1
            else:
                umin, umax = 0, m
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "sub":
        t = tnum.cast(tnum.sub(ta, tb), bits // 8)
        smin, smax = a_smin - b_smax, a_smax - b_smin
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        umin, umax = a_umin - b_umax, a_umax - b_umin
        if umin < 0:
            if umax < 0:
                umin, umax = umin + m + 1, umax + m + 1
            else:
                umin, umax = 0, m
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "mul":
        t = tnum.cast(tnum.mul(ta, tb), bits // 8)
        umin, umax = 0, m
        if a_umax * b_umax <= m:
            umin, umax = a_umin * b_umin, a_umax * b_umax
        corners = (a_smin * b_smin, a_smin * b_smax, a_smax * b_smin, a_smax * b_smax)
        smin, smax = min(corners), max(corners)
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "and":
        t = tnum.and_(ta, tb)
        return _from_parts(t, lo_s, hi_s, t[0], min(a_umax, b_umax), bits)
    if op == "or":
        t = tnum.or_(ta, tb)
        return _from_parts(t, lo_s, hi_s, max(a_umin, b_umin), t[0] | t[1], bits)
    if op == "xor":
        t = tnum.xor(ta, tb)
        return _from_parts(t, lo_s, hi_s, 0, m, bits)
    if op == "div":
        if b_umin > 0:
            return _from_parts((0, m), lo_s, hi_s, a_umin // b_umax, a_umax // b_umin, bits)
        return _from_parts((0, m), lo_s, hi_s, 0, a_umax, bits)
    if op == "mod":
        if b_umin > 0:
            return _from_parts((0, m), lo_s, hi_s, 0, min(a_umax, b_umax - 1), bits)
        return _from_parts((0, m), lo_s, hi_s, 0, a_umax, bits)
    if op in ("lsh", "rsh", "arsh"):
        if b_mask != 0:
            if op == "rsh" and b_umax < bits:  # no masking of the shift amount
                return _from_parts((0, m), lo_s, hi_s, 0, a_umax >> b_umin, bits)
            return unknown(bits)
        k = b_value & (bits - 1)
        if op == "lsh":
            t = tnum.cast(tnum.lshift(ta, k), bits // 8)
            umin, umax = 0, m
            if a_umax << k <= m:
                umin, umax = a_umin << k, a_umax << k
            return _from_parts(t, lo_s, hi_s, umin, umax, bits)
        if op == "rsh":
            t = tnum.rshift(ta, k)
            return _from_parts(t, lo_s, hi_s, a_umin >> k, a_umax >> k, bits)
        t = tnum.arshift(ta, k, bits)
        return _from_parts(t, a_smin >> k, a_smax >> k, 0, m, bits)
    # sdiv / smod and anything exotic: unknown (the VM defines the concrete result)
    return unknown(bits)


def _concrete(op: str, x: int, y: int, bits: int) -> int:
    """Exact result on known operands, mirroring RFC 9669 runtime semantics."""
    m = umask(bits)
    if op == "add":
        return (x + y) & m
    if op == "sub":
        return (x - y) & m
    if op == "mul":
        return (x * y) & m
    if op == "div":
        return x // y if y else 0
    if op == "mod":
        return x % y if y else x
    if op == "and":
        return x & y
    if op == "or":
        return x | y
    if op == "xor":
        return x ^ y
    if op == "lsh":
        return (x << (y & (bits - 1))) & m
    if op == "rsh":
        return x >> (y & (bits - 1))
    if op == "arsh":
        return (to_signed(x, bits) >> (y & (bits - 1))) & m
    sx, sy = to_signed(x, bits), to_signed(y, bits)
    if op == "sdiv":
        if sy == 0:
            return 0
        q = abs(sx) // abs(sy)
        return (-q if (sx < 0) != (sy < 0) else q) & m
    if op == "smod":
        if sy == 0:
            return x
        r = abs(sx) % abs(sy)
        return (-r if sx < 0 else r) & m
    raise ValueError(op)


def neg(a: Scalar, bits: int = 64) -> Scalar:
    return alu("sub", const(0, bits), a, bits)


def truncate(a: Scalar, size: int) -> Scalar:
    """Zero-extended low ``size`` bytes of a 64-bit value."""
    bits = size * 8
    if bits >= 64:
        return a
    if a.umax <= umask(bits):
        return a
    r = sync(view(a, bits), bits)
    assert r is not None
    return zext(r, bits)


def sign_extend(a: Scalar, from_bits: int, bits: int = 64) -> Scalar:
    """Sign-extend the low ``from_bits`` bits of ``a`` to ``bits``."""
    if a.mask == 0:
        return const(to_signed(a.value & umask(from_bits), from_bits), bits)
    if a.umax <= smax_of(from_bits):
        return a if bits == 64 else (sync(a, bits) or unknown(bits))
    r = sync((0, umask(bits), smin_of(from_bits), smax_of(from_bits), 0, umask(bits)), bits)
    assert r is not None
    return r


def bswap_unknown(size: int) -> Scalar:
    """A byte-swapped unknown value of ``size`` bytes: only the width is known."""
    r = urange(0, umask(size * 8))
    assert r is not None
    return r


def bswap(a: Scalar, size: int) -> Scalar:
    """Byte swap of the low ``size`` bytes (zero-extended): known bits move with
    their bytes (a tnum is swapped value and mask alike, as Linux's tnum_bswap)."""
    m = umask(size * 8)

    def sw(x: int) -> int:
        return int.from_bytes((x & m).to_bytes(size, "little"), "big")

    r = sync((sw(a.value), sw(a.mask), S64_MIN, S64_MAX, 0, m))
    return r if r is not None else bswap_unknown(size)


# ---------------------------------------------------------------- 32-bit views


def view(a: Scalar, bits: int) -> Scalar:
    """The low ``bits`` bits of a 64-bit value, as a ``bits``-wide scalar."""
    if bits == 64:
        return a
    m = umask(bits)
    t = (a.value & m, a.mask & m)
    if (a.umin >> bits) == (a.umax >> bits):
        umin, umax = a.umin & m, a.umax & m
    else:
        umin, umax = 0, m
    r = sync((t[0], t[1], smin_of(bits), smax_of(bits), umin, umax), bits)
    if r is None:  # cannot happen for a consistent input; stay safe
        return unknown(bits)
    return r


def zext(a: Scalar, bits: int) -> Scalar:
    """A ``bits``-wide result written to a 64-bit register (upper bits zero)."""
    if bits == 64:
        return a
    r = sync((a.value, a.mask, a.umin, a.umax, a.umin, a.umax), 64)
    assert r is not None
    return r


def merge_view(full: Scalar, refined: Scalar, bits: int) -> Scalar | None:
    """Put a refined low-``bits`` view back into the 64-bit value it came from."""
    if bits == 64:
        return refined
    f_value, f_mask, f_smin, f_smax, f_umin, f_umax = full
    r_value, r_mask, r_smin, r_smax, r_umin, r_umax = refined
    m = umask(bits)
    hv, hm = f_value & ~m, f_mask & ~m
    t = tnum.intersect((f_value, f_mask), (hv | r_value, hm | r_mask))
    if t is None:
        return None
    umin, umax = f_umin, f_umax
    if hm == 0:
        umin, umax = max(umin, hv | r_umin), min(umax, hv | r_umax)
    smin, smax = f_smin, f_smax
    if smin >= smin_of(32) and smax <= smax_of(32):
        # the upper half is the sign extension of the lower (clang's `int` index
        # after `lsh 32; arsh 32` or movsx): the signed 32-bit bounds are the 64-bit ones
        smin, smax = max(smin, r_smin), min(smax, r_smax)
    return sync((t[0], t[1], smin, smax, umin, umax), 64)


# ---------------------------------------------------------------- comparisons

NEGATE = {
    "jeq": "jne",
    "jne": "jeq",
    "jgt": "jle",
    "jle": "jgt",
    "jge": "jlt",
    "jlt": "jge",
    "jsgt": "jsle",
    "jsle": "jsgt",
    "jsge": "jslt",
    "jslt": "jsge",
    "jset": "!jset",
    "!jset": "jset",
}
SWAP = {
    "jeq": "jeq",
    "jne": "jne",
    "jgt": "jlt",
    "jlt": "jgt",
    "jge": "jle",
    "jle": "jge",
    "jsgt": "jslt",
    "jslt": "jsgt",
    "jsge": "jsle",
    "jsle": "jsge",
    "jset": "jset",
    "!jset": "!jset",
}


def assume(op: str, a: Scalar, b: Scalar, bits: int = 64) -> tuple[Scalar, Scalar] | None:
    """Refine ``a`` and ``b`` assuming ``a <op> b`` holds; None if it cannot."""
    tv, tm, smin, smax, umin, umax = a
    bv, bm, bsmin, bsmax, bumin, bumax = b
    if op == "jeq":
        t = tnum.intersect((tv, tm), (bv, bm))
        if t is None:
            return None
        r = sync(
            (t[0], t[1], max(smin, bsmin), min(smax, bsmax), max(umin, bumin), min(umax, bumax)),
            bits,
        )
        return None if r is None else (r, r)
    if op == "jne":
        if tm == 0 and bm == 0:
            return None if tv == bv else (a, b)
        if bm == 0:
            a2 = _exclude(a, bv, bits)
            return None if a2 is None else (a2, b)
        if tm == 0:
            b2 = _exclude(b, tv, bits)
            return None if b2 is None else (a, b2)
        return (a, b)
    if op in ("jgt", "jge", "jlt", "jle"):
        if op in ("jlt", "jle"):
            swapped = assume(SWAP[op], b, a, bits)
            return None if swapped is None else (swapped[1], swapped[0])
        strict = 1 if op == "jgt" else 0
        a2 = sync((tv, tm, smin, smax, max(umin, bumin + strict), umax), bits)
        b2 = sync((bv, bm, bsmin, bsmax, bumin, min(bumax, umax - strict)), bits)
        if a2 is None or b2 is None or umax - strict < bumin:
            return None
        return (a2, b2)
    if op in ("jsgt", "jsge", "jslt", "jsle"):
        if op in ("jslt", "jsle"):
            swapped = assume(SWAP[op], b, a, bits)
            return None if swapped is None else (swapped[1], swapped[0])
        strict = 1 if op == "jsgt" else 0
        a2 = sync((tv, tm, max(smin, bsmin + strict), smax, umin, umax), bits)
        b2 = sync((bv, bm, bsmin, min(bsmax, smax - strict), bumin, bumax), bits)
        if a2 is None or b2 is None:
            return None
        return (a2, b2)
    if op == "jset":
        if tm == 0 and bm == 0:
            return (a, b) if tv & bv else None
        if ((tv | tm) & (bv | bm)) == 0:
            return None
        if bm == 0 and bv & (bv - 1) == 0:  # single bit: it must be set
            t = tnum.intersect((tv, tm), (bv, umask(bits) & ~bv))
            if t is None:
                return None
            r = sync((t[0], t[1], smin, smax, umin, umax), bits)
            return None if r is None else (r, b)
        return (a, b)
    if op == "!jset":
        if tm == 0 and bm == 0:
            return None if tv & bv else (a, b)
        if tv & bv:
            return None
        if bm == 0:
            t = tnum.intersect((tv, tm), (0, umask(bits) & ~bv))
            if t is None:
                return None
            r = sync((t[0], t[1], smin, smax, umin, umax), bits)
            return None if r is None else (r, b)
        return (a, b)
    raise ValueError(op)


def _exclude(a: Scalar, v: int, bits: int) -> Scalar | None:
    """``a`` without the single value ``v`` (only trims range ends, like Linux)."""
    tv, tm, smin, smax, umin, umax = a
    sv = to_signed(v, bits)
    if umin == v:
        umin += 1
    if umax == v:
        umax -= 1
    if smin == sv:
        smin += 1
    if smax == sv:
        smax -= 1
    return sync((tv, tm, smin, smax, umin, umax), bits)


def contains(outer: Scalar, inner: Scalar) -> bool:
    """True if every value of ``inner`` is a value of ``outer``."""
    o_value, o_mask, o_smin, o_smax, o_umin, o_umax = outer  # (the pruning's hot check)
    i_value, i_mask, i_smin, i_smax, i_umin, i_umax = inner
    return (
        o_smin <= i_smin
        and i_smax <= o_smax
        and o_umin <= i_umin
        and i_umax <= o_umax
        and tnum.contains((o_value, o_mask), (i_value, i_mask))
    )


def fmt(s: Scalar) -> str:
    """Linux-style bounds text for the log."""
    if s.mask == 0:
        return str(to_signed(s.value))
    parts = []
    if s.smin != S64_MIN:
        parts.append(f"smin={s.smin}")
    if s.smax != S64_MAX:
        parts.append(f"smax={s.smax}")
    if s.umin != 0:
        parts.append(f"umin={s.umin}")
    if s.umax != U64:
        parts.append(f"umax={s.umax}")
    if s.mask != U64:
        parts.append(f"var_off={tnum.fmt((s.value, s.mask))}")
    return ",".join(parts)
