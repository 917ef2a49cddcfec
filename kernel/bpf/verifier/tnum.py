"""Tristate numbers ("tnums"): per-bit knowledge of a 64-bit value.

A tnum is a pair ``(value, mask)``: bits set in ``mask`` are unknown, the others
equal the matching bit of ``value`` (``value & mask == 0`` always). This is Linux's
``kernel/bpf/tnum.c``; bit-level knowledge complements the min/max ranges because
AND/OR/shift results are much tighter as bits than as ranges (alignment, masking).

Functions take and return plain ``(value, mask)`` tuples of non-negative ints
below 2**64: the verifier creates millions of them, so no class overhead.
"""

from __future__ import annotations

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1

Tnum = tuple[int, int]

UNKNOWN: Tnum = (0, U64)


def const(v: int) -> Tnum:
    """A fully known value."""
    return (v & U64, 0)


def trange(lo: int, hi: int) -> Tnum:
    """The tightest tnum containing every value in ``[lo, hi]`` (unsigned)."""
    chi = lo ^ hi
    if chi == 0:
        return (lo, 0)
    bits = chi.bit_length()
    if bits > 63:
        return UNKNOWN
    delta = (1 << bits) - 1
    return (lo & ~delta & U64, delta)


def add(a: Tnum, b: Tnum) -> Tnum:
    sm = (a[1] + b[1]) & U64
    sv = (a[0] + b[0]) & U64
    sigma = (sm + sv) & U64
    chi = sigma ^ sv
    mu = chi | a[1] | b[1]
    return (sv & ~mu & U64, mu)


def sub(a: Tnum, b: Tnum) -> Tnum:
    dv = (a[0] - b[0]) & U64
    alpha = (dv + a[1]) & U64
    beta = (dv - b[1]) & U64
    chi = alpha ^ beta
    mu = chi | a[1] | b[1]
    return (dv & ~mu & U64, mu)


def and_(a: Tnum, b: Tnum) -> Tnum:
    alpha = a[0] | a[1]
    beta = b[0] | b[1]
    v = a[0] & b[0]
    return (v, alpha & beta & ~v & U64)


def or_(a: Tnum, b: Tnum) -> Tnum:
    v = a[0] | b[0]
    mu = a[1] | b[1]
    return (v, mu & ~v & U64)


def xor(a: Tnum, b: Tnum) -> Tnum:
    v = a[0] ^ b[0]
    mu = a[1] | b[1]
    return (v & ~mu & U64, mu)


def mul(a: Tnum, b: Tnum) -> Tnum:
    """Long multiplication over known/unknown bits (Linux's tnum_mul)."""
    acc_v = (a[0] * b[0]) & U64
    acc_m: Tnum = (0, 0)
    av, am = a
    bv, bm = b
    while av or am:
        if av & 1:
            acc_m = add(acc_m, (0, bm))
        elif am & 1:
            acc_m = add(acc_m, (0, (bv | bm) & U64))
        av >>= 1
        am >>= 1
        bv = (bv << 1) & U64
        bm = (bm << 1) & U64
    return add((acc_v, 0), acc_m)


def lshift(a: Tnum, n: int) -> Tnum:
    return ((a[0] << n) & U64, (a[1] << n) & U64)


def rshift(a: Tnum, n: int) -> Tnum:
    return (a[0] >> n, a[1] >> n)


def arshift(a: Tnum, n: int, bits: int = 64) -> Tnum:
    """Arithmetic shift right within a ``bits``-wide value (32 or 64)."""
    m = (1 << bits) - 1
    v = _sext(a[0], bits) >> n
    mk = _sext(a[1], bits) >> n
    return (v & m, mk & m)


def _sext(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def intersect(a: Tnum, b: Tnum) -> Tnum | None:
    """Values in both; None when the two disagree on a known bit (empty set)."""
    v = a[0] | b[0]
    mu = a[1] & b[1]
    if (a[0] ^ b[0]) & ~a[1] & ~b[1] & U64:
        return None
    return (v & ~mu & U64, mu)


def cast(a: Tnum, size: int) -> Tnum:
    """Truncate to the low ``size`` bytes (zero-extending)."""
    m = (1 << (size * 8)) - 1
    return (a[0] & m, a[1] & m)


def contains(outer: Tnum, inner: Tnum) -> bool:
    """True if every value of ``inner`` is a value of ``outer``."""
    if inner[1] & ~outer[1]:
        return False
    return (inner[0] & ~outer[1]) == outer[0]


def umin(a: Tnum) -> int:
    return a[0]


def umax(a: Tnum) -> int:
    return a[0] | a[1]


def smin(a: Tnum) -> int:
    """Smallest signed value: set the sign bit if it is unknown."""
    v = a[0] | (a[1] & (1 << 63))
    return v - (1 << 64) if v >> 63 else v


def smax(a: Tnum) -> int:
    v = a[0] | (a[1] & ~(1 << 63))
    return v - (1 << 64) if v >> 63 else v


def fmt(a: Tnum) -> str:
    return f"(0x{a[0]:x}; 0x{a[1]:x})"
