"""Precision tracking: which scalar values did a safety decision depend on?

Linux's insight: most scalars (counters, accumulators, return values) never
influence a safety check, so when comparing a new state with a finished one their
exact values do not matter -- only scalars that fed a *sink* (pointer arithmetic,
a map id or size argument, a branch whose outcome was decided by the value) must
be compared by range. When a sink is hit, the demand is walked backwards along the
current path's instruction history, through moves, ALU operations, spills and
fills, call and return boundaries, and recorded in every checkpoint passed
(`Checkpoint.precise`). A finished checkpoint therefore knows exactly which of its
registers must be compared precisely.

Keys: ``frame * 16 + regno`` for registers, ``SLOT_BASE + frame * 64 + slot`` for
8-byte stack slots (used only to route demands to the register that was spilled),
and ``WILD`` when a value was loaded through a pointer that may point into any
stack: then every later-spilled register counts. A stored state compares a
spilled scalar by range when its slot key (or WILD) is in its precise set, or
the spilled value carries the ``prec`` flag (`state.Reg.prec`).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

if TYPE_CHECKING:
    from kernel.bpf.verifier.state import Checkpoint

SLOT_BASE = 1 << 12
WILD = 1 << 20

# Path history. Every processed instruction appends a node of four ints to one flat
# sequence shared by all paths of a run (`History`): its index, the previous node on
# its path, its frame index, and the number of the checkpoint stored there. A node is
# named by its position; NONE ends a path and marks "no checkpoint". Forked paths
# share their common prefix. The walk appends to a short list (the cheapest append),
# moved now and then into an int64 array, which the garbage collector never scans: a
# persistent chain of tuples (one per insn, 1 M on a long walk) stays GC-tracked on
# CPython 3.11, and every full collection walked all of it (a list of 4 M ints too).
NONE = -1
NODE = 4  # ints per node
RECENT_MAX = 1 << 14  # ints kept in the list before they move to the array


class History:
    """The node sequence of one verifier run, and its checkpoints by number."""

    __slots__ = ("_nodes", "recent", "checkpoints")

    def __init__(self) -> None:
        self._nodes = array("q")
        self.recent: list[int] = []  # the newest nodes (the walk appends here)
        self.checkpoints: list[Checkpoint] = []

    def __len__(self) -> int:
        return len(self._nodes) + len(self.recent)

    def flush(self) -> None:
        """Move the recent nodes into the array (the list keeps its identity)."""
        if self.recent:
            self._nodes.fromlist(self.recent)
            self.recent.clear()

    @property
    def nodes(self) -> array:
        """Every node so far, flat (index a node's name + 0..3)."""
        self.flush()
        return self._nodes


def reg_key(frame: int, regno: int) -> int:
    return frame * 16 + regno


def slot_key(frame: int, stack_off: int) -> int:
    """Key of the 8-byte slot holding stack offset ``stack_off`` (negative)."""
    return SLOT_BASE + frame * 64 + (stack_off // 8 + 64)


def backtrack(insns: Sequence[Insn], hist: History, node: int, keys: set[int]) -> None:
    """Record ``keys`` (demanded before ``node``'s insn) in every checkpoint up the path."""
    if node != NONE:
        nodes = hist.nodes
        _walk_back(insns, hist, nodes[node + 1], nodes[node + 2], nodes[node + 3], set(keys))


def backtrack_above(
    insns: Sequence[Insn], hist: History, prev: int, frame: int, keys: set[int]
) -> None:
    """Like `backtrack` from a node without checkpoint, in ``frame``, after ``prev``."""
    _walk_back(insns, hist, prev, frame, NONE, set(keys))


def _walk_back(
    insns: Sequence[Insn], hist: History, prev: int, frame: int, cpno: int, demand: set[int]
) -> None:
    nodes, checkpoints = hist.nodes, hist.checkpoints
    while demand:
        if cpno != NONE:
            cp = checkpoints[cpno]
            if demand <= cp.precise:
                return  # everything above was marked when cp got these
            cp.precise |= demand
        if prev == NONE:
            return
        demand = _transfer(insns[nodes[prev]], nodes[prev + 2], frame, demand)
        frame, cpno, prev = nodes[prev + 2], nodes[prev + 3], nodes[prev + 1]


def _transfer(insn: Insn, fi: int, fi_next: int, after: set[int]) -> set[int]:
    """Demand before ``insn`` (run in frame ``fi``) given the demand after it."""
    code = insn.opcode
    if code == op.CALL_OP and insn.src == op.BPF_PSEUDO_CALL and fi_next == fi + 1:
        out = set()
        for k in after:
            if k >= SLOT_BASE:
                if k >= WILD or (k - SLOT_BASE) // 64 <= fi:
                    out.add(k)
                continue
            kf, r = divmod(k, 16)
            if kf == fi + 1:
                if 1 <= r <= 5:
                    out.add(fi * 16 + r)
            else:
                out.add(k)
        return out
    if code == op.EXIT_OP and fi_next == fi - 1:
        out = set()
        for k in after:
            if k >= SLOT_BASE:
                out.add(k)
                continue
            kf, r = divmod(k, 16)
            if kf == fi - 1:
                if r == 0:
                    out.add(fi * 16)
                elif 6 <= r <= 9:
                    out.add(k)
            else:
                out.add(k)
        return out

    s = set(after)
    cls = code & op.CLASS_MASK
    d = fi * 16 + insn.dst
    src = fi * 16 + insn.src
    if cls in (op.ALU, op.ALU64):
        aop = code & op.OP_MASK
        x = code & op.SRC_MASK
        if aop == op.MOV:
            if d in s:
                s.discard(d)
                if x:
                    s.add(src)
        elif aop not in (op.NEG, op.END) and x and d in s:
            s.add(src)
    elif cls == op.LDX:
        if d in s:
            s.discard(d)
            if insn.src == op.FP:
                for b in range(insn.off, insn.off + insn.size_bytes):
                    s.add(slot_key(fi, b))
            else:
                s.add(WILD)
    elif cls == op.ST:
        if insn.dst == op.FP and insn.size_bytes == 8 and insn.off % 8 == 0:
            s.discard(slot_key(fi, insn.off))
    elif cls == op.STX:
        if code & op.MODE_MASK == op.ATOMIC:
            if insn.imm == op.CMPXCHG:
                s.discard(fi * 16)
            elif insn.imm & op.FETCH:
                s.discard(src)
        elif insn.dst == op.FP:
            k = slot_key(fi, insn.off)
            if k in s or WILD in s:
                if insn.size_bytes == 8 and insn.off % 8 == 0:
                    s.discard(k)
                s.add(src)
        elif WILD in s or any(SLOT_BASE <= k < WILD for k in s):
            s.add(src)
    elif cls == op.LD:
        s.discard(d)
    elif code == op.CALL_OP:
        for r in range(6):
            s.discard(fi * 16 + r)
    elif (
        cls in (op.JMP, op.JMP32) and code & op.SRC_MASK and (code & op.OP_MASK) in op.COND_JMP_OPS
    ):
        lo, hi = fi * 16, fi * 16 + 16
        if any(lo <= k < hi for k in s):
            s.add(d)
            s.add(src)
    return s
