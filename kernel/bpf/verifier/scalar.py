"""Value-range arithmetic for scalars: a tnum plus signed and unsigned ranges.

A scalar abstract value is the tuple ``S = (tv, tm, smin, smax, umin, umax)``:
the tnum ``(tv, tm)`` and two ranges that all hold at once (Linux's
``bpf_reg_state`` var_off / smin_value / ... fields). Every operation is written
for a bit width of 64 or 32, so ALU32 and JMP32 reuse the same code on a 32-bit
*view* of a register (see `view32` / `from32`).

Why the three representations: ranges bound memory accesses, tnums keep bit
facts (alignment, masks) that ranges lose, and `sync` lets each tighten the
others -- exactly the reg_bounds_sync dance of the Linux verifier. Functions
return None for an empty set, which the caller reads as "this branch is dead".
"""

from __future__ import annotations

from kernel.bpf.verifier import tnum

S = tuple[int, int, int, int, int, int]

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


def unknown(bits: int = 64) -> S:
    m = umask(bits)
    return (0, m, smin_of(bits), smax_of(bits), 0, m)


UNKNOWN64: S = unknown(64)


def const(v: int, bits: int = 64) -> S:
    if bits == 64:
        u = v & U64
        s = u - (1 << 64) if u >> 63 else u
    else:
        u = v & ((1 << bits) - 1)
        s = u - (1 << bits) if u >> (bits - 1) else u
    return (u, 0, s, s, u, u)


def urange(lo: int, hi: int, bits: int = 64) -> S | None:
    """Unsigned range ``[lo, hi]``; the other fields derived by `sync`."""
    return sync((0, umask(bits), smin_of(bits), smax_of(bits), lo, hi), bits)


def is_const(s: S) -> bool:
    return s[1] == 0


def sync(s: S, bits: int = 64) -> S | None:
    """Tighten the tnum and both ranges against each other; None if empty."""
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
    return (tv, tm, smin, smax, umin, umax)


# ---------------------------------------------------------------- ALU


def _from_parts(t: tnum.Tnum, smin: int, smax: int, umin: int, umax: int, bits: int) -> S:
    r = sync((t[0], t[1], smin, smax, umin, umax), bits)
    # An ALU result over non-empty inputs is never empty; fall back to the tnum alone.
    if r is None:
        r = sync((t[0], t[1], smin_of(bits), smax_of(bits), 0, umask(bits)), bits)
        assert r is not None
    return r


def alu(op: str, a: S, b: S, bits: int = 64) -> S:
    """Abstract ``a <op> b`` at ``bits`` width (wrapping like the hardware)."""
    m = umask(bits)
    lo_s, hi_s = smin_of(bits), smax_of(bits)
    ta, tb = (a[0], a[1]), (b[0], b[1])
    if a[1] == 0 and b[1] == 0:
        return const(_concrete(op, a[0], b[0], bits), bits)
    if op == "add":
        t = tnum.cast(tnum.add(ta, tb), bits // 8)
        smin, smax = a[2] + b[2], a[3] + b[3]
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        umin, umax = a[4] + b[4], a[5] + b[5]
        if umax > m:
            if umin > m:
                umin, umax = umin - m - 1, umax - m - 1
            else:
                umin, umax = 0, m
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "sub":
        t = tnum.cast(tnum.sub(ta, tb), bits // 8)
        smin, smax = a[2] - b[3], a[3] - b[2]
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        umin, umax = a[4] - b[5], a[5] - b[4]
        if umin < 0:
            if umax < 0:
                umin, umax = umin + m + 1, umax + m + 1
            else:
                umin, umax = 0, m
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "mul":
        t = tnum.cast(tnum.mul(ta, tb), bits // 8)
        umin, umax = 0, m
        if a[5] * b[5] <= m:
            umin, umax = a[4] * b[4], a[5] * b[5]
        corners = (a[2] * b[2], a[2] * b[3], a[3] * b[2], a[3] * b[3])
        smin, smax = min(corners), max(corners)
        if smin < lo_s or smax > hi_s:
            smin, smax = lo_s, hi_s
        return _from_parts(t, smin, smax, umin, umax, bits)
    if op == "and":
        t = tnum.and_(ta, tb)
        return _from_parts(t, lo_s, hi_s, t[0], min(a[5], b[5]), bits)
    if op == "or":
        t = tnum.or_(ta, tb)
        return _from_parts(t, lo_s, hi_s, max(a[4], b[4]), t[0] | t[1], bits)
    if op == "xor":
        t = tnum.xor(ta, tb)
        return _from_parts(t, lo_s, hi_s, 0, m, bits)
    if op == "div":
        if b[4] > 0:
            return _from_parts((0, m), lo_s, hi_s, a[4] // b[5], a[5] // b[4], bits)
        return _from_parts((0, m), lo_s, hi_s, 0, a[5], bits)
    if op == "mod":
        if b[4] > 0:
            return _from_parts((0, m), lo_s, hi_s, 0, min(a[5], b[5] - 1), bits)
        return _from_parts((0, m), lo_s, hi_s, 0, a[5], bits)
    if op in ("lsh", "rsh", "arsh"):
        if b[1] != 0:
            if op == "rsh" and b[5] < bits:  # no masking of the shift amount
                return _from_parts((0, m), lo_s, hi_s, 0, a[5] >> b[4], bits)
            return unknown(bits)
        k = b[0] & (bits - 1)
        if op == "lsh":
            t = tnum.cast(tnum.lshift(ta, k), bits // 8)
            umin, umax = 0, m
            if a[5] << k <= m:
                umin, umax = a[4] << k, a[5] << k
            return _from_parts(t, lo_s, hi_s, umin, umax, bits)
        if op == "rsh":
            t = tnum.rshift(ta, k)
            return _from_parts(t, lo_s, hi_s, a[4] >> k, a[5] >> k, bits)
        t = tnum.arshift(ta, k, bits)
        return _from_parts(t, a[2] >> k, a[3] >> k, 0, m, bits)
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


def neg(a: S, bits: int = 64) -> S:
    return alu("sub", const(0, bits), a, bits)


def truncate(a: S, size: int) -> S:
    """Zero-extended low ``size`` bytes of a 64-bit value."""
    bits = size * 8
    if bits >= 64:
        return a
    if a[5] <= umask(bits):
        return a
    r = sync(view(a, bits), bits)
    assert r is not None
    return zext(r, bits)


def sign_extend(a: S, from_bits: int, bits: int = 64) -> S:
    """Sign-extend the low ``from_bits`` bits of ``a`` to ``bits``."""
    if a[1] == 0:
        return const(to_signed(a[0] & umask(from_bits), from_bits), bits)
    if a[5] <= smax_of(from_bits):
        return a if bits == 64 else (sync(a, bits) or unknown(bits))
    r = sync((0, umask(bits), smin_of(from_bits), smax_of(from_bits), 0, umask(bits)), bits)
    assert r is not None
    return r


def bswap_unknown(size: int) -> S:
    """A byte-swapped unknown value of ``size`` bytes: only the width is known."""
    r = urange(0, umask(size * 8))
    assert r is not None
    return r


def bswap(a: S, size: int) -> S:
    """Byte swap of the low ``size`` bytes (zero-extended): known bits move with
    their bytes (a tnum is swapped value and mask alike, as Linux's tnum_bswap)."""
    m = umask(size * 8)

    def sw(x: int) -> int:
        return int.from_bytes((x & m).to_bytes(size, "little"), "big")

    r = sync((sw(a[0]), sw(a[1]), S64_MIN, S64_MAX, 0, m))
    return r if r is not None else bswap_unknown(size)


# ---------------------------------------------------------------- 32-bit views


def view(a: S, bits: int) -> S:
    """The low ``bits`` bits of a 64-bit value, as a ``bits``-wide scalar."""
    if bits == 64:
        return a
    m = umask(bits)
    t = (a[0] & m, a[1] & m)
    if (a[4] >> bits) == (a[5] >> bits):
        umin, umax = a[4] & m, a[5] & m
    else:
        umin, umax = 0, m
    r = sync((t[0], t[1], smin_of(bits), smax_of(bits), umin, umax), bits)
    if r is None:  # cannot happen for a consistent input; stay safe
        return unknown(bits)
    return r


def zext(a: S, bits: int) -> S:
    """A ``bits``-wide result written to a 64-bit register (upper bits zero)."""
    if bits == 64:
        return a
    r = sync((a[0], a[1], a[4], a[5], a[4], a[5]), 64)
    assert r is not None
    return r


def merge_view(full: S, refined: S, bits: int) -> S | None:
    """Put a refined low-``bits`` view back into the 64-bit value it came from."""
    if bits == 64:
        return refined
    m = umask(bits)
    hv, hm = full[0] & ~m, full[1] & ~m
    t = tnum.intersect((full[0], full[1]), (hv | refined[0], hm | refined[1]))
    if t is None:
        return None
    umin, umax = full[4], full[5]
    if hm == 0:
        umin, umax = max(umin, hv | refined[4]), min(umax, hv | refined[5])
    smin, smax = full[2], full[3]
    if smin >= smin_of(32) and smax <= smax_of(32):
        # the upper half is the sign extension of the lower (clang's `int` index
        # after `lsh 32; arsh 32` or movsx): the signed 32-bit bounds are the 64-bit ones
        smin, smax = max(smin, refined[2]), min(smax, refined[3])
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


def assume(op: str, a: S, b: S, bits: int = 64) -> tuple[S, S] | None:
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


def _exclude(a: S, v: int, bits: int) -> S | None:
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


def contains(outer: S, inner: S) -> bool:
    """True if every value of ``inner`` is a value of ``outer``."""
    return (
        outer[2] <= inner[2]
        and inner[3] <= outer[3]
        and outer[4] <= inner[4]
        and inner[5] <= outer[5]
        and tnum.contains((outer[0], outer[1]), (inner[0], inner[1]))
    )


def fmt(s: S) -> str:
    """Linux-style bounds text for the log."""
    if s[1] == 0:
        return str(to_signed(s[0]))
    parts = []
    if s[2] != S64_MIN:
        parts.append(f"smin={s[2]}")
    if s[3] != S64_MAX:
        parts.append(f"smax={s[3]}")
    if s[4] != 0:
        parts.append(f"umin={s[4]}")
    if s[5] != U64:
        parts.append(f"umax={s[5]}")
    if s[1] != U64:
        parts.append(f"var_off={tnum.fmt((s[0], s[1]))}")
    return ",".join(parts)
