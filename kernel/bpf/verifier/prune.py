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
    State,
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
    below ``old`` depended on (see `core.Verifier.mark_precise`): any scalar will do.
    """
    t = old.type
    if t == NOT_INIT:
        return True
    if cur.type != t:
        return False
    if t == SCALAR:
        if not precise and old.id == 0:
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


def _is_unknown_scalar(r: Reg) -> bool:
    return r.type == SCALAR and r.s == scalar.UNKNOWN64 and r.id == 0


def stacksafe(old: Frame, cur: Frame, ids: IdMap) -> bool:
    cstack = cur.stack
    for k, oslot in old.stack.items():
        cslot = cstack.get(k)
        if oslot.spill is not None:
            if cslot is not None and cslot.spill is not None:
                if not regsafe(oslot.spill, cslot.spill, ids):
                    return False
                continue
            if _is_unknown_scalar(oslot.spill) and cslot is not None:
                if all(b == MISC or b == ZERO for b in cslot.kinds):
                    continue
            return False
        okinds = oslot.kinds
        if cslot is None:
            if any(okinds):
                return False
            continue
        if cslot.spill is not None:
            sp = cslot.spill
            for b in okinds:
                if b == MISC and sp.type != SCALAR:
                    return False
                if b == ZERO and not (sp.type == SCALAR and sp.s == scalar.const(0)):
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


def states_equal(old: State, cur: State, live: list[int], precise: set[int] | None = None) -> bool:
    """``old`` subsumes ``cur`` at the same instruction (see module docstring).

    ``precise`` holds the keys (``frame * 16 + regno``) of registers whose exact
    value mattered below ``old``; None compares every scalar by range (used for
    the infinite-loop check, where ``old`` is not finished yet).
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
        if not stacksafe(fo, fc, ids):
            return False
    return True
