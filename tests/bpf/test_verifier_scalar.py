"""Soundness of the value tracking: abstract results must contain concrete ones.

Hypothesis draws an abstract value (a range narrowed by a mask, so tnum and
ranges disagree in interesting ways), concrete members of it, and checks every
ALU operation and every branch refinement against the concrete semantics the VM
implements (RFC 9669: wrapping, division by zero = 0, modulo by zero = dst).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.bpf.verifier import scalar, tnum
from kernel.bpf.verifier.scalar import _concrete

SETTINGS = settings(max_examples=300, deadline=None)
OPS = ["add", "sub", "mul", "div", "mod", "and", "or", "xor", "lsh", "rsh", "arsh", "sdiv", "smod"]
CONDS = ["jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset", "!jset"]


def member_bits(s: scalar.Scalar, v: int, bits: int) -> bool:
    return s[4] <= v <= s[5] and s[2] <= scalar.to_signed(v, bits) <= s[3] and (v & ~s[1]) == s[0]


@st.composite
def abstract(draw, bits: int = 64):
    """An abstract value and three concrete members of it."""
    m = scalar.umask(bits)
    special = [0, 1, 7, 8, 63, 255, 1 << 31, m, m - 1, 1 << (bits - 1)]
    pick = st.one_of(st.sampled_from(special), st.integers(0, m))
    a, b = draw(pick), draw(pick)
    lo, hi = min(a, b), max(a, b)
    if draw(st.booleans()):
        hi = lo + draw(st.integers(0, 300))
        hi = min(hi, m)
    s = scalar.urange(lo, hi, bits)
    mask = draw(st.sampled_from([m, m, 0xFF, 0xFFF8, ~7 & m, 0xF0F0]))
    s2 = scalar.alu("and", s, scalar.const(mask, bits), bits) if mask != m else s
    vals = [draw(st.integers(lo, hi)) & mask for _ in range(3)]
    for v in vals:
        assert member_bits(s2, v, bits), (s2, v)
    return s2, vals


@SETTINGS
@given(st.sampled_from(OPS), abstract(), abstract(), st.sampled_from([64, 32]))
def test_alu_sound(op: str, a, b, bits: int) -> None:
    (sa, va), (sb, vb) = a, b
    if bits == 32:
        sa, sb = scalar.view(sa, 32), scalar.view(sb, 32)
        va = [v & scalar.U32 for v in va]
        vb = [v & scalar.U32 for v in vb]
    r = scalar.alu(op, sa, sb, bits)
    for x in va:
        for y in vb:
            z = _concrete(op, x, y, bits)
            assert member_bits(r, z, bits), (op, sa, sb, x, y, z, r)


@SETTINGS
@given(st.sampled_from(CONDS), abstract(), abstract(), st.sampled_from([64, 32]))
def test_assume_sound(cond: str, a, b, bits: int) -> None:
    (sa, va), (sb, vb) = a, b
    if bits == 32:
        sa, sb = scalar.view(sa, 32), scalar.view(sb, 32)
        va = [v & scalar.U32 for v in va]
        vb = [v & scalar.U32 for v in vb]
    refined = scalar.assume(cond, sa, sb, bits)
    for x in va:
        for y in vb:
            if _holds(cond, x, y, bits):
                assert refined is not None, (cond, sa, sb, x, y)
                assert member_bits(refined[0], x, bits), (cond, sa, sb, x, y, refined)
                assert member_bits(refined[1], y, bits), (cond, sa, sb, x, y, refined)


def _holds(cond: str, x: int, y: int, bits: int) -> bool:
    sx, sy = scalar.to_signed(x, bits), scalar.to_signed(y, bits)
    return {
        "jeq": x == y,
        "jne": x != y,
        "jgt": x > y,
        "jge": x >= y,
        "jlt": x < y,
        "jle": x <= y,
        "jsgt": sx > sy,
        "jsge": sx >= sy,
        "jslt": sx < sy,
        "jsle": sx <= sy,
        "jset": bool(x & y),
        "!jset": not x & y,
    }[cond]


@SETTINGS
@given(abstract(), st.integers(1, 3))
def test_view_and_merge_sound(a, _unused: int) -> None:
    s, vals = a
    v32 = scalar.view(s, 32)
    for x in vals:
        assert member_bits(v32, x & scalar.U32, 32)
        merged = scalar.merge_view(s, v32, 32)
        assert merged is not None and member_bits(merged, x, 64)


@SETTINGS
@given(abstract(), st.sampled_from([1, 2, 4]))
def test_truncate_and_sign_extend_sound(a, size: int) -> None:
    s, vals = a
    t = scalar.truncate(s, size)
    sx = scalar.sign_extend(s, size * 8)
    for x in vals:
        low = x & scalar.umask(size * 8)
        assert member_bits(t, low, 64)
        assert member_bits(sx, scalar.to_signed(low, size * 8) & scalar.U64, 64)


def test_tnum_basics() -> None:
    assert tnum.trange(0, 7) == (0, 7)
    assert tnum.trange(8, 15) == (8, 7)
    assert tnum.intersect((0, 0xF), (0x10, 0)) is None
    assert tnum.contains((0, 0xFF), (0x12, 0x1))
    assert not tnum.contains((0x10, 0xF), (0, 0xFF))
    assert tnum.mul((3, 0), (5, 0)) == (15, 0)
    assert tnum.arshift((1 << 63, 0), 4) == (0xF8 << 56, 0)


def test_sync_detects_empty() -> None:
    assert scalar.sync((0, scalar.U64, 5, 4, 0, scalar.U64)) is None
    assert scalar.assume("jgt", scalar.const(3), scalar.const(3)) is None
    assert scalar.assume("jle", scalar.const(3), scalar.const(3)) is not None


def test_signed_unsigned_cross_deduction() -> None:
    s = scalar.sync((0, scalar.U64, 0, 100, 0, scalar.U64))
    assert s is not None and s[4] == 0 and s[5] == 100
    neg = scalar.sync((0, scalar.U64, -10, -1, 0, scalar.U64))
    assert neg is not None and neg[4] == scalar.U64 - 9 and neg[5] == scalar.U64
