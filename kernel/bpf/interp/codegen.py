"""Build specialised instruction closures from small source templates.

The interpreter runs one closure per instruction, ``op(r, m) -> next_pc``, where
``r`` is the register list and ``m`` the execution state (`vm.ExecState`, a region
table). Writing ~150 near-identical closures by hand would be error-prone, and a
generic closure that calls an operator function costs an extra Python call per
instruction. So each operation is a one-line template; `make_factory` compiles it
once at import into a factory whose closure has the operands baked in as cell
constants.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

Op = Callable[[list[int], Any], int]
Factory = Callable[..., Op]

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
SIGN64 = 1 << 63
SIGN32 = 1 << 31


def sdiv(a: int, b: int) -> int:
    """Signed division truncating toward zero (RFC 9669 SDIV); b != 0."""
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def smod(a: int, b: int) -> int:
    """Signed remainder with the dividend's sign (RFC 9669 SMOD); b != 0."""
    m = abs(a) % abs(b)
    return -m if a < 0 else m


def s64(v: int) -> int:
    return v - (1 << 64) if v & SIGN64 else v


def s32(v: int) -> int:
    v &= M32
    return v - (1 << 32) if v & SIGN32 else v


BASE_NAMESPACE: dict[str, Any] = {
    "M64": M64,
    "M32": M32,
    "SIGN64": SIGN64,
    "SIGN32": SIGN32,
    "sdiv": sdiv,
    "smod": smod,
    "s64": s64,
    "s32": s32,
}


def make_factory(body: str, namespace: dict[str, Any] | None = None) -> Factory:
    """Compile ``body`` (statements ending in a ``return``) into a closure factory.

    The factory signature is ``(d, s, k, pc, nxt, tgt, v=0) -> op``; the body sees
    those names plus ``r`` (registers), ``m`` (execution state) and the namespace.
    """
    src = (
        "def factory(d, s, k, pc, nxt, tgt, v=0):\n"
        "    def op(r, m):\n"
        + textwrap.indent(textwrap.dedent(body).strip(), " " * 8)
        + "\n    return op\n"
    )
    ns = dict(BASE_NAMESPACE)
    if namespace:
        ns.update(namespace)
    exec(compile(src, "<bpf-op>", "exec"), ns)  # noqa: S102 - trusted, static templates
    return ns["factory"]
