"""The BPF verifier: proves a program safe before the kernel will run it.

Public API::

    verify(insns, maps, hook=None, *, max_states=..., max_insns=...) -> VerifierResult

raises `kernel.bpf.errors.VerifierError(insn_idx, reason, log)` on rejection.
``maps`` is anything with ``.get(map_id)`` returning an object with
``map_type``, ``key_size``, ``value_size`` and ``max_entries`` (None or an
exception for unknown ids) -- `kernel.bpf.runtime.maps.MapTable` or a plain dict.
``hook`` is the `EntrySpec` of the hook the program is for (`ENTRY_SPECS`): what R1
(and R2) hold when the program starts. None means the generic context: the 56-byte
BpfContext with a payload of up to 64 KiB.

Modules: `cfg` (static checks, liveness), `scalar`/`tnum` (value tracking),
`state` (registers, stack, frames), `alu`, `mem` (access checks), `prune`
(state subsumption), `core` (the path walk), `log` (text handed to userspace).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kernel.bpf.errors import VerifierError
from kernel.bpf.isa.insn import Insn
from kernel.bpf.verifier.cfg import StaticError, analyze
from kernel.bpf.verifier.core import Reject, TraceLog, Verifier
from kernel.bpf.verifier.entry import ENTRY_SPECS, GENERIC_ENTRY, MAX_PACKET_OFF, EntrySpec
from kernel.bpf.verifier.log import error_log, static_error_log, success_log

__all__ = [
    "GENERIC_ENTRY",
    "ENTRY_SPECS",
    "MAX_PACKET_OFF",
    "EntrySpec",
    "VerifierResult",
    "verify",
    "DEFAULT_MAX_INSNS",
    "DEFAULT_MAX_STATES",
    "NS_PER_INSN",
    "NS_PER_STATE",
    "cost_ns",
    "work",
]

DEFAULT_MAX_INSNS = 1_000_000  # Linux's BPF_COMPLEXITY_LIMIT_INSNS
DEFAULT_MAX_STATES = 32_768  # stored states: bounds a state explosion to seconds

# Modelled guest-time cost of verification (charged by sys_bpf to guest time, see
# `cost_ns`): Linux 6.18 processes about 5-10 M insns/s on a 2 GHz core, and a
# stored state costs about as much as a few instructions (copy + comparisons).
NS_PER_INSN = 150
NS_PER_STATE = 1_000


@dataclass
class Work:
    """Verification work done so far in this process (monotonic counters)."""

    insns: int = 0
    states: int = 0


work = Work()


def cost_ns(insns: int, states: int) -> int:
    """Deterministic guest time for verifying ``insns`` processed insns and ``states``
    stored states: the same program always costs the same, whatever the host."""
    return insns * NS_PER_INSN + states * NS_PER_STATE


@dataclass(frozen=True)
class VerifierResult:
    """What an accepted program cost to verify.

    ``insns_processed``: instructions walked over all paths (Linux's "processed
    N insns"); ``states_explored``: states stored at prune points;
    ``peak_states``: most states stored at one instruction; ``stack_depth``:
    deepest combined stack use over all call chains, in bytes;
    ``payload_required``: payload bytes the program reads at constant offsets
    without a ``data_end`` comparison (highest offset + size, 0 if none) -- the
    hook it attaches to must pass at least that many (checked at PROG_ATTACH).
    """

    log: str
    insns_processed: int
    states_explored: int
    peak_states: int
    stack_depth: int
    payload_required: int = 0


def verify(
    insns: Sequence[Insn],
    maps: object,
    hook: EntrySpec | None = None,
    *,
    max_states: int = DEFAULT_MAX_STATES,
    max_insns: int = DEFAULT_MAX_INSNS,
    log_level: int = 0,
    log_size: int = 0,
) -> VerifierResult:
    """Verify ``insns`` (one `Insn` per 8-byte slot); raise VerifierError if unsafe.

    ``log_level`` 2 adds Linux's per-instruction register and stack state and
    the prune points hit to the log (level 0/1: path and summary only);
    ``log_size`` (the caller's buffer, 0 = unbounded) lets it keep only the lines
    that can end up in a buffer that size.
    """
    insns = list(insns)
    spec = GENERIC_ENTRY if hook is None else hook
    try:
        info = analyze(insns)
    except StaticError as e:
        raise VerifierError(e.idx, e.reason, static_error_log(insns, e.idx, e.reason)) from None
    v = Verifier(insns, info, maps, spec, max_insns, max_states)
    v.log_level = log_level
    if log_level >= 2 and log_size > 0:
        v.trace = TraceLog(max_lines=log_size // 8 + 2)  # no log line is under 8 bytes
    try:
        v.run()
    except Reject as e:
        err = VerifierError(v.idx, e.reason, error_log(v, insns, e.reason))
        err.insns_processed = v.processed
        err.states_explored = v.total_states
        raise err from None
    finally:
        work.insns += v.processed
        work.states += v.total_states
    return VerifierResult(
        log=success_log(v),
        insns_processed=v.processed,
        states_explored=v.total_states,
        peak_states=v.peak_states,
        stack_depth=v.peak_stack,
        payload_required=getattr(v, "payload_required", 0),
    )
