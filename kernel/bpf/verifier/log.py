"""The verifier log: the text sys_bpf copies to userspace's log_buf.

Like Linux's, a rejection log shows the instructions of the path that led to the
error (most recent last), the register state at the failing instruction, the
reason prefixed with the instruction index, and the processed-instruction
summary. Acceptance logs hold only the summary lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

if TYPE_CHECKING:
    from kernel.bpf.verifier.core import Verifier

MAX_PATH_LINES = 200


def format_insn(insns: Sequence[Insn], idx: int, names: dict[int, str] | None = None) -> str:
    """``12: (61) r0 = *(u32 *)(r0 +0)``; degrades to raw fields without disasm.

    ``names`` (map id -> ELF name) shows ``r1 = map 'counts' ll`` rather than a
    map id the user never saw (an ELF object is verified before its maps exist).
    """
    if not 0 <= idx < len(insns):
        return f"{idx}: <out of range>"
    insn = insns[idx]
    nxt = insns[idx + 1] if idx + 1 < len(insns) else None
    try:
        from kernel.bpf.isa.disasm import format_insn as fmt

        text = fmt(insn, nxt)
    except Exception:  # noqa: BLE001 - the log must never break verification
        text = (
            f"code={insn.opcode:#04x} dst=r{insn.dst} src=r{insn.src} off={insn.off} imm={insn.imm}"
        )
    if (
        names
        and insn.opcode == op.LD_IMM64
        and insn.src in (op.BPF_PSEUDO_MAP_FD, op.BPF_PSEUDO_MAP_VALUE)
    ):
        name = names.get(insn.imm & 0xFFFF_FFFF)
        if name:
            text = text.replace(f"map[{insn.imm & 0xFFFF_FFFF}]", f"map '{name}'")
    return f"{idx}: ({insn.opcode:02x}) {text}"


def summary(v: Verifier) -> str:
    return (
        f"processed {v.processed} insns (limit {v.max_insns}) "
        f"max_states_per_insn {v.peak_states} total_states {v.total_states} "
        f"stack_depth {v.peak_stack}"
    )


def success_log(v: Verifier) -> str:
    if v.log_level >= 2:
        return "\n".join([*v.trace.lines, summary(v)]) + "\n"
    return summary(v) + "\n"


def error_log(v: Verifier, insns: Sequence[Insn], reason: str) -> str:
    lines: list[str] = []
    st = v.state
    if v.log_level >= 2:
        lines.extend(v.trace.lines)  # the whole walk already shows the path
    elif st is not None:
        path: list[int] = []
        nodes = v.history.nodes
        node = st.hist
        while node != -1 and len(path) < MAX_PATH_LINES:
            path.append(nodes[node])
            node = nodes[node + 1]
        earlier = 0
        while node != -1:
            earlier += 1
            node = nodes[node + 1]
        if earlier:
            lines.append(f"... ({earlier} earlier insns on this path not shown)")
        lines.extend(format_insn(insns, i, v.maps.names) for i in reversed(path))
        try:
            lines.append(st.fmt_regs())
        except Exception:  # noqa: BLE001
            pass
    if v.processed > v.max_insns:
        lines.append(f"BPF program is too large. Processed {v.processed} insn")  # Linux's words
    lines.append(f"{v.idx}: {reason}")
    lines.append(summary(v))
    return "\n".join(lines) + "\n"


def static_error_log(insns: Sequence[Insn], idx: int, reason: str) -> str:
    lines = []
    if 0 <= idx < len(insns):
        lines.append(format_insn(insns, idx))
    lines.append(f"{idx}: {reason}" if idx >= 0 else reason)
    return "\n".join(lines) + "\n"
