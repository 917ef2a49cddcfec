"""Abstract machine state: registers, stack slots, call frames.

`Reg` values are treated as immutable: every write builds a new one, so forking a
state at a branch copies lists of references, not registers. A `Frame` is one
BPF-to-BPF call level (its own R0-R10 and 512-byte stack), a `VerifierState` the whole
call chain at one instruction. `Checkpoint`s are states stored at prune points
with Linux's ``branches`` count: a checkpoint can prune a later path only once
every path below it finished safely (``branches == 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.bpf.verifier import scalar
from kernel.bpf.verifier.scalar import Scalar

# ---------------------------------------------------------------- register types
NOT_INIT = 0
SCALAR = 1
PTR_TO_CTX = 2
PTR_TO_STACK = 3
PTR_TO_PACKET = 4
PTR_TO_PACKET_END = 5
PTR_TO_MAP_VALUE = 6
PTR_TO_MAP_VALUE_OR_NULL = 7
CONST_MAP = 8
PTR_TO_MEM = 9

TYPE_NAMES = {
    NOT_INIT: "?",
    SCALAR: "scalar",
    PTR_TO_CTX: "ctx",
    PTR_TO_STACK: "fp",
    PTR_TO_PACKET: "pkt",
    PTR_TO_PACKET_END: "pkt_end",
    PTR_TO_MAP_VALUE: "map_value",
    PTR_TO_MAP_VALUE_OR_NULL: "map_value_or_null",
    CONST_MAP: "map_ptr",
    PTR_TO_MEM: "mem",
}


@dataclass(frozen=True, slots=True)
class MapInfo:
    """What the verifier needs to know about a map (a snapshot of the table entry)."""

    map_id: int
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    name: str = ""
    frozen: bool = False  # read-only for programs (.rodata, a frozen map)


def map_label(m: MapInfo) -> str:
    """How the log names a map: by its ELF name when it has one, else by id."""
    return m.name if m.name else str(m.map_id)


class Reg:
    """One abstract register value. Never mutated after construction.

    ``s`` is the scalar value (for SCALAR) or the variable part of a pointer's
    offset; ``off`` the pointer's fixed offset; ``id`` links copies (null checks,
    packet ranges, scalar bounds); ``rng`` is the packet range proven readable;
    ``frame`` the call frame a stack pointer points into. ``prec`` (scalars only)
    says a safety decision already depended on this value and the demand was
    recorded in every checkpoint of the path (Linux's ``precise`` flag): it is
    carried forward through copies, spills and arithmetic with constants, so a
    loop counter is backtracked once rather than on every iteration, and a
    checkpoint taken from a state compares such scalars by range.
    """

    # (core.Verifier._walk builds known scalars slot by slot: a new slot goes there too)
    # ``k``: a `KnownReg`'s value before its Scalar is built (never read otherwise)
    __slots__ = ("type", "s", "off", "id", "rng", "map", "frame", "prec", "k")

    def __init__(
        self,
        type: int,
        s: Scalar = scalar.UNKNOWN64,
        off: int = 0,
        id: int = 0,
        rng: int = 0,
        map: MapInfo | None = None,
        frame: int = 0,
        prec: bool = False,
    ) -> None:
        self.type = type
        self.s = s
        self.off = off
        self.id = id
        self.rng = rng
        self.map = map
        self.frame = frame
        self.prec = prec

    def replace(self, **kw: object) -> Reg:
        r = Reg(self.type, self.s, self.off, self.id, self.rng, self.map, self.frame, self.prec)
        for k, v in kw.items():
            setattr(r, k, v)
        return r

    @property
    def is_ptr(self) -> bool:
        return self.type > SCALAR

    @property
    def is_const(self) -> bool:
        return self.type == SCALAR and self.s.mask == 0

    def __repr__(self) -> str:
        return fmt_reg(self)


_set_s = Reg.__dict__["s"].__set__  # the slot itself, beneath KnownReg's property


class KnownReg(Reg):
    """A known scalar from the walk's fast path whose `Scalar` is not built yet.

    The fast path runs loop counters at a few hundred ns per instruction, and a
    `Scalar` (a tuple subclass, built through ``tuple.__new__``) would cost a fifth
    of that for values nothing may ever look at. So the value waits in ``k``; the
    first read of ``.s`` builds the Scalar, stores it and turns the object into a
    plain `Reg` (same layout), indistinguishable from
    ``Reg(SCALAR, scalar.const(k), prec=...)``. Only `core.Verifier._walk` makes
    these, and only it reads ``k``."""

    __slots__ = ()
    k: int  # the value (Reg's slot; only KnownReg objects have it set)

    @property
    def s(self) -> Scalar:  # type: ignore[override]  # a lazy read of Reg's slot
        u = self.k
        sv = u - (1 << 64) if u >> 63 else u
        s = _new_scalar(Scalar, (u, 0, sv, sv, u, u))
        _set_s(self, s)
        self.__class__ = Reg  # type: ignore[assignment]  # same slots: now a plain Reg
        return s


_new_scalar = tuple.__new__


REG_NOT_INIT = Reg(NOT_INIT)
REG_UNKNOWN = Reg(SCALAR)


def scalar_reg(s: Scalar, id: int = 0, prec: bool = False) -> Reg:
    return Reg(SCALAR, s, id=id, prec=prec)


def same_value(a: Reg, b: Reg) -> bool:
    """Exactly the same abstract value (ids compared as they are): the loop check."""
    return a is b or (
        a.type == b.type
        and a.s == b.s
        and a.off == b.off
        and a.id == b.id
        and a.rng == b.rng
        and a.map == b.map
        and a.frame == b.frame
    )


def const_reg(v: int) -> Reg:
    return Reg(SCALAR, scalar.const(v))


def fmt_reg(r: Reg) -> str:
    """Linux-like register text: ``scalar(umax=255)``, ``fp-8``, ``map_value(off=0,ks=4,vs=8)``."""
    t = r.type
    if t == NOT_INIT:
        return "?"
    if t == SCALAR:
        if r.s.mask == 0:
            return str(scalar.to_signed(r.s.value))
        body = scalar.fmt(r.s)
        prefix = f"id={r.id}," if r.id else ""
        return f"scalar({prefix}{body})"
    if t == PTR_TO_STACK and r.s.mask == 0 and r.s.value == 0:
        return f"fp{r.off}" if r.frame == 0 else f"fp[{r.frame}]{r.off}"
    parts = []
    if r.id:
        parts.append(f"id={r.id}")
    if r.off:
        parts.append(f"off={r.off}")
    if t == PTR_TO_PACKET:
        parts.append(f"r={r.rng}")
    if r.map is not None:
        parts.append(f"map={map_label(r.map)},ks={r.map.key_size},vs={r.map.value_size}")
    if r.s != scalar.const(0):
        parts.append(scalar.fmt(r.s) if r.s.mask else f"imm={scalar.to_signed(r.s.value)}")
    return f"{TYPE_NAMES[t]}({','.join(parts)})"


# ---------------------------------------------------------------- stack
INVALID = 0  # never written on this path
MISC = 1  # written with some data
ZERO = 2  # written with known zero
SPILL = 3  # part of an 8-byte register spill

SLOT_INVALID = (INVALID,) * 8
SLOT_MISC = (MISC,) * 8
SLOT_SPILL = (SPILL,) * 8


class Slot:
    """8 stack bytes: per-byte kinds, or a whole spilled register.

    ``narrow`` is a 1-, 2- or 4-byte spill of a scalar, ``(byte, size, value)``
    with ``value`` the zero-extended ``size``-byte scalar stored at ``byte``
    within the slot; its bytes' kinds stay MISC (ZERO for a zero), so every check
    on kinds is unchanged, and a fill of exactly those bytes gets the value back
    (clang spills ``int`` counters with 4-byte stores).
    """

    __slots__ = ("kinds", "spill", "narrow")

    def __init__(
        self,
        kinds: tuple[int, ...],
        spill: Reg | None = None,
        narrow: tuple[int, int, Reg] | None = None,
    ) -> None:
        self.kinds = kinds
        self.spill = spill
        self.narrow = narrow


class Frame:
    """One call level: registers, stack slots and where it returns to."""

    __slots__ = ("regs", "stack", "callsite", "subprog", "depth")

    def __init__(
        self,
        regs: list[Reg],
        stack: dict[int, Slot],
        callsite: int,
        subprog: int,
        depth: int = 0,
    ) -> None:
        self.regs = regs
        self.stack = stack  # slot index k (negative) covers bytes [8k, 8k+8) from fp
        self.callsite = callsite
        self.subprog = subprog
        self.depth = depth

    def copy(self) -> Frame:
        return Frame(list(self.regs), dict(self.stack), self.callsite, self.subprog, self.depth)


class Checkpoint:
    """A state stored at a prune point, with the count of unfinished paths below it."""

    __slots__ = ("state", "branches", "parent", "precise", "idx", "hits", "misses", "no")

    def __init__(self, state: VerifierState, parent: Checkpoint | None) -> None:
        self.state = state
        self.branches = 1
        self.parent = parent
        self.idx = state.idx
        self.hits = 0
        self.misses = 0
        self.no = -1  # index in `History.checkpoints` (path history nodes name it so)
        # precision demands from below: register keys frame*16+regno, plus stack
        # slot keys and WILD used only to route demands (see core.backtrack)
        self.precise: set[int] = set()


class VerifierState:
    """The verifier's view of the machine at instruction ``idx`` on one path."""

    __slots__ = ("frames", "idx", "parent", "hist", "last_back_edge")

    def __init__(self, frames: list[Frame], idx: int) -> None:
        self.frames = frames
        self.idx = idx
        self.parent: Checkpoint | None = None
        # the path's last history node (`precision.History`; -1: none yet), for
        # precision backtracking and the log
        self.hist: int = -1
        self.last_back_edge: tuple[int, int] | None = None

    @property
    def cur(self) -> Frame:
        return self.frames[-1]

    def copy(self) -> VerifierState:
        st = VerifierState([f.copy() for f in self.frames], self.idx)
        st.parent = self.parent
        st.hist = self.hist
        st.last_back_edge = self.last_back_edge
        return st

    def all_regs(self):
        """Yield ``(frame, where, reg)`` for every register and spilled register."""
        for f in self.frames:
            for i, r in enumerate(f.regs):
                yield f, i, r
            for k, slot in f.stack.items():
                if slot.spill is not None:
                    yield f, ("stack", k), slot.spill

    def set_reg_anywhere(self, f: Frame, where: int | tuple, r: Reg) -> None:
        if isinstance(where, int):
            f.regs[where] = r
        else:
            f.stack[where[1]] = Slot(SLOT_SPILL, r)

    def fmt_stack(self, f: Frame) -> list[str]:
        """Linux's stack notation: ``fp-8=ctx()``, ``fp-16=0000????`` (one char per
        byte, the byte next to the frame pointer first: ``?`` never written, ``m``
        data, ``0`` zero)."""
        parts = []
        for k in sorted(f.stack, reverse=True):
            slot = f.stack[k]
            if slot.spill is not None:
                parts.append(f"fp{k * 8}={fmt_reg(slot.spill)}")
            elif any(slot.kinds):
                parts.append(f"fp{k * 8}={''.join('?m0'[b] for b in reversed(slot.kinds))}")
        return parts

    def fmt_regs(self) -> str:
        """``R0=... R1=ctx() R10=fp0`` for the current frame, skipping NOT_INIT."""
        f = self.cur
        parts = [f"R{i}={fmt_reg(r)}" for i, r in enumerate(f.regs) if r.type != NOT_INIT]
        return " ".join(parts + self.fmt_stack(f))
