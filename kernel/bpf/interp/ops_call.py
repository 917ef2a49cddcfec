"""Call and exit closures: helper calls, BPF-to-BPF calls and returns.

A local call pushes ``(return pc, r6..r9, r10)`` and maps a fresh zeroed 512-byte
stack frame in the next stack slot; ``exit`` in a callee pops it (restoring the
callee-saved registers and the frame pointer) and unmaps the dead frame, so a
dangling pointer into it faults. ``exit`` in the main frame ends the run (-1).
"""

from __future__ import annotations

from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.codegen import M64, Op, make_factory
from kernel.bpf.interp.memory import SLOT_SHIFT, SLOT_STACK
from kernel.bpf.isa import opcodes as op

_NS = {
    "BpfRuntimeError": BpfRuntimeError,
    "MAX_NESTED": op.MAX_CALL_FRAMES - 1,
    "SLOT_STACK": SLOT_STACK,
    "SLOT_SHIFT": SLOT_SHIFT,
    "STACK_SIZE": op.STACK_SIZE,
    "M64": M64,
}

_HELPER = make_factory(
    """
fn = m.helpers.get(k)
if fn is None:
    raise BpfRuntimeError(pc, f"unknown helper {k}")
r[0] = fn(m, r[1], r[2], r[3], r[4], r[5]) & M64
return nxt
""",
    _NS,
)

# callx (RFC 9669 "callx" conformance group, as the bpf_conformance suite encodes
# it): the helper id is the value of the dst register, resolved at run time.
_HELPER_X = make_factory(
    """
k = r[d]
fn = m.helpers.get(k)
if fn is None:
    raise BpfRuntimeError(pc, f"unknown helper {k}")
r[0] = fn(m, r[1], r[2], r[3], r[4], r[5]) & M64
return nxt
""",
    _NS,
)

_LOCAL_CALL = make_factory(
    """
frames = m.frames
if len(frames) >= MAX_NESTED:
    raise BpfRuntimeError(pc, f"call depth exceeds {MAX_NESTED + 1} frames")
frames.append((nxt, r[6], r[7], r[8], r[9], r[10]))
slot = SLOT_STACK + len(frames)
m[slot] = bytearray(STACK_SIZE)
r[10] = (slot << SLOT_SHIFT) + STACK_SIZE
return tgt
""",
    _NS,
)

_EXIT = make_factory(
    """
frames = m.frames
if not frames:
    return -1
del m[SLOT_STACK + len(frames)]
nxt, r[6], r[7], r[8], r[9], r[10] = frames.pop()
return nxt
""",
    _NS,
)


def compile_helper_call(pc: int, helper_id: int) -> Op:
    return _HELPER(0, 0, helper_id, pc, pc + 1, 0)


def compile_helper_callx(pc: int, reg: int) -> Op:
    return _HELPER_X(reg, 0, 0, pc, pc + 1, 0)


def compile_local_call(pc: int, target: int) -> Op:
    return _LOCAL_CALL(0, 0, 0, pc, pc + 1, target)


def compile_exit(pc: int) -> Op:
    return _EXIT(0, 0, 0, pc, 0, 0)
