"""State subsumption: may a new path be cut because an explored one covers it?

``states_equal(old, cur)`` is true when every concrete machine state described by
``cur`` is also described by ``old`` -- for the registers live at that point
and for the whole stack. If ``old`` was fully explored without error, so would
``cur`` be, and the verifier stops exploring ``cur`` (Linux's is_state_visited).
The same test against an *unfinished* ancestor at the same instruction means the
path came back to a state it already had: a possibly infinite loop.

IDs (null-check groups, packet-range groups, linked scalars) must correspond
one-to-one between the two states, or a refinement that helped ``old`` would not
reach the same registers in ``cur``.
"""

from __future__ import annotations

from kernel.bpf.verifier import scalar
from kernel.bpf.verifier.precision import WILD, slot_key
from kernel.bpf.verifier.state import (
    CONST_MAP,
    MISC,
    NOT_INIT,
    PTR_TO_MAP_VALUE,
    PTR_TO_MAP_VALUE_OR_NULL,
    PTR_TO_PACKET,
    PTR_TO_PACKET_END,
    PTR_TO_STACK,
    SCALAR,
    ZERO,
    Frame,
    Reg,
    Slot,
    VerifierState,
    same_value,
)


class IdMap:
    """A growing bijection between ids of the old and the current state."""

    __slots__ = ("fwd", "rev")

    def __init__(self) -> None:
        self.fwd: dict[int, int] = {}
        self.rev: dict[int, int] = {}

    def check(self, old_id: int, cur_id: int) -> bool:
        if old_id == 0:
            return True
        if cur_id == 0:
            return False
        f = self.fwd.get(old_id)
        r = self.rev.get(cur_id)
        if f is None and r is None:
            self.fwd[old_id] = cur_id
            self.rev[cur_id] = old_id
            return True
        return f == cur_id and r == old_id


def regsafe(old: Reg, cur: Reg, ids: IdMap, precise: bool = True) -> bool:
    """True if ``cur`` is as safe as ``old`` for any continuation.

    An imprecise, unlinked scalar in ``old`` is one whose value no safety check
    below ``old`` depended on (see `core.Verifier.mark_precise`): any scalar will
    do. Linked scalars (an id shared with another live value) are compared by
    range: a branch on one refines the others, which precision does not follow.
    """
    t = old.type
    if t == NOT_INIT:
        return True
    if cur.type != t:
        return False
    if t == SCALAR:
        if not precise and not old.prec and old.id == 0:
            return True
        if old.s is not cur.s and not scalar.contains(old.s, cur.s):
            return False
        return ids.check(old.id, cur.id)
    if t == PTR_TO_PACKET_END:
        return True
    if old.off != cur.off or old.map != cur.map:
        return False
    if t == CONST_MAP:
        return True
    if old.s is not cur.s and not scalar.contains(old.s, cur.s):
        return False
    if t == PTR_TO_STACK:
        return old.frame == cur.frame
    if t == PTR_TO_PACKET:
        return cur.rng >= old.rng and ids.check(old.id, cur.id)
    if t == PTR_TO_MAP_VALUE_OR_NULL:
        return ids.check(old.id, cur.id)
    if t == PTR_TO_MAP_VALUE:
        return ids.check(old.id, cur.id)
    return True


def _data_only(slot: Slot | None) -> bool:
    """The slot holds initialised non-pointer data in every byte."""
    if slot is None:
        return False
    if slot.spill is not None:
        return slot.spill.type == SCALAR
    return all(b == MISC or b == ZERO for b in slot.kinds)


def stacksafe(old: Frame, cur: Frame, ids: IdMap, fi: int, precise: set[int] | None) -> bool:
    """Every stack slot of ``old`` is matched by ``cur`` (``precise``: see states_equal)."""
    cstack = cur.stack
    wild = precise is None or WILD in precise
    for k, oslot in old.stack.items():
        cslot = cstack.get(k)
        exact = wild or (precise is not None and slot_key(fi, k * 8) in precise)
        sp = oslot.spill
        if sp is not None:
            if cslot is not None and cslot.spill is not None:
                if not regsafe(sp, cslot.spill, ids, exact):
                    return False
                continue
            if sp.type == SCALAR and not exact and not sp.prec and sp.id == 0:
                if _data_only(cslot):
                    continue
            elif _is_unknown_scalar(sp) and cslot is not None:
                if all(b == MISC or b == ZERO for b in cslot.kinds):
                    continue
            return False
        okinds = oslot.kinds
        if cslot is None:
            if any(okinds):
                return False
            continue
        narrow = oslot.narrow
        if narrow is not None and (exact or narrow[2].prec):
            cn = cslot.narrow
            if cn is None or cn[0] != narrow[0] or cn[1] != narrow[1]:
                return False
            if not regsafe(narrow[2], cn[2], ids, True):
                return False
        if cslot.spill is not None:
            csp = cslot.spill
            for b in okinds:
                if b == MISC and csp.type != SCALAR:
                    return False
                if b == ZERO and not (csp.type == SCALAR and csp.s == _ZERO_SCALAR):
                    return False
            continue
        ckinds = cslot.kinds
        if okinds is ckinds:
            continue
        for ob, cb in zip(okinds, ckinds, strict=True):
            if ob == MISC and cb not in (MISC, ZERO):
                return False
            if ob == ZERO and cb != ZERO:
                return False
    return True


def _is_unknown_scalar(r: Reg) -> bool:
    return r.type == SCALAR and r.s == scalar.UNKNOWN64 and r.id == 0


def states_equal(
    old: VerifierState, cur: VerifierState, live: list[int], precise: set[int] | None = None
) -> bool:
    """``old`` subsumes ``cur`` at the same instruction (see module docstring).

    ``precise`` holds the precision keys (`precision` module) of the registers
    and stack slots whose value mattered below ``old``; None compares every
    scalar by range.
    """
    of, cf = old.frames, cur.frames
    if len(of) != len(cf):
        return False
    ids = IdMap()
    last = len(of) - 1
    for i in range(last, -1, -1):
        fo, fc = of[i], cf[i]
        if fo.callsite != fc.callsite:
            return False
        mask = live[cur.idx] if i == last else live[cf[i + 1].callsite + 1]
        oregs, cregs = fo.regs, fc.regs
        r = 0
        while mask:
            if mask & 1 and r < 10:
                o = oregs[r]
                c = cregs[r]
                if o is c and o.id == 0:
                    pass
                elif not regsafe(o, c, ids, precise is None or (i * 16 + r) in precise):
                    return False
            mask >>= 1
            r += 1
        if not stacksafe(fo, fc, ids, i, precise):
            return False
    return True


def _same_slot(a: Slot, b: Slot) -> bool:
    if a is b:
        return True
    if a.kinds != b.kinds:
        return False
    if (a.spill is None) != (b.spill is None) or (a.narrow is None) != (b.narrow is None):
        return False
    if a.spill is not None and b.spill is not None and not same_value(a.spill, b.spill):
        return False
    if a.narrow is not None and b.narrow is not None:
        if a.narrow[:2] != b.narrow[:2] or not same_value(a.narrow[2], b.narrow[2]):
            return False
    return True


def states_same(old: VerifierState, cur: VerifierState, live: list[int]) -> bool:
    """Exactly the same abstract state in everything live (the infinite-loop test,
    Linux's states_maybe_looping + EXACT comparison)."""
    of, cf = old.frames, cur.frames
    if len(of) != len(cf):
        return False
    last = len(of) - 1
    # cheap first: the current frame's live registers
    for i in range(last, -1, -1):
        fo, fc = of[i], cf[i]
        if fo.callsite != fc.callsite:
            return False
        mask = live[cur.idx] if i == last else live[cf[i + 1].callsite + 1]
        oregs, cregs = fo.regs, fc.regs
        r = 0
        while mask:
            if mask & 1 and r < 10 and not same_value(oregs[r], cregs[r]):
                return False
            mask >>= 1
            r += 1
    for i in range(last, -1, -1):
        ostack, cstack = of[i].stack, cf[i].stack
        if ostack.keys() != cstack.keys():
            return False
        for k, oslot in ostack.items():
            if not _same_slot(oslot, cstack[k]):
                return False
    return True


_ZERO_SCALAR = scalar.const(0)  # built once: a Scalar is not free
