"""What a conditional jump teaches each of its two paths.

`Verifier._cond_jmp` computes one outcome per direction: None if that direction
cannot be taken (a dead branch), otherwise what holds on it, which `_apply` then
writes into the path's state. One small immutable type per kind of lesson, so the
dispatch is by type and every field has a name. NamedTuples rather than frozen
dataclasses: two are built per conditional jump, and a frozen dataclass's
``__init__`` pays an ``object.__setattr__`` per field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from kernel.bpf.verifier.scalar import Scalar
    from kernel.bpf.verifier.state import Reg


class Nothing:
    """The direction is possible and refines nothing (e.g. a non-null pointer's test)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"


class ScalarRanges(NamedTuple):
    """Two scalars compared: both registers narrowed to what the comparison implies.

    ``dview``/``sview`` are the refined values on the comparison's ``bits``-wide view,
    merged back into the full registers (and every register sharing their id)."""

    dreg: int
    d: Reg
    dview: Scalar
    sreg: int  # -1: the immediate, nothing to write back
    s: Reg
    sview: Scalar
    bits: int


class NullCheck(NamedTuple):
    """A map_value_or_null tested against 0: every copy becomes NULL or a map value."""

    ptr_id: int
    is_null: bool


class PacketRange(NamedTuple):
    """``pkt`` compared with ``data_end``: packet pointers of its id readable up to
    ``new_range`` bytes (or the branch is dead if ``pkt`` lies past the payload)."""

    pkt: Reg
    new_range: int


NOTHING = Nothing()

# A direction's outcome; None means the direction is impossible.
Outcome = Nothing | ScalarRanges | NullCheck | PacketRange
