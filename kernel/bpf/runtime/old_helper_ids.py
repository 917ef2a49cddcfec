"""A hint for programs written against axiomOS's pre-HEAD helper numbering.

Before HEAD, axiomOS userspace called map_lookup_elem / map_update_elem /
map_delete_elem as helpers 3 / 4 / 5 and ringbuf_output as 6; today those ids are
get_prandom_u32, get_smp_processor_id, map_lookup_elem and map_update_elem (spec
section 6). Such a program fails verification with a message about what the
*current* helper returned or expected ("R6 invalid mem access 'scalar'"), which
points away from the real cause. When a rejected program calls 3, 4 or 6 the way
the old numbering did, the verifier log gets one extra line naming both numberings.
"""

from __future__ import annotations

from collections.abc import Sequence

from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn

# old id -> (old name, current id of that helper)
_OLD_IDS = {
    3: ("map_lookup_elem", 5),
    4: ("map_update_elem", 6),
    5: ("map_delete_elem", 7),
    6: ("ringbuf_output", 8),
}
_SUSPECT = (3, 4, 6)  # ids whose current meaning differs in argument shape
_LOOKBACK = 8  # instructions searched before a call for its argument set-up
_CALL = op.JMP | op.CALL
_STOPS = (op.JMP | op.JA, op.JMP | op.EXIT)
_LOADS_IMM = (op.ALU64 | op.MOV | op.K, op.ALU | op.MOV | op.K, 0x18)  # 0x18: ld_imm64


def _is_helper_call(insn: Insn) -> bool:
    return insn.opcode == _CALL and insn.src == 0


def _sets_map_arg(insns: Sequence[Insn], call_idx: int) -> bool:
    """Whether R1 is loaded with a map id (a constant or map ld_imm64) before the call."""
    for i in range(call_idx - 1, max(-1, call_idx - 1 - _LOOKBACK), -1):
        insn = insns[i]
        if insn.opcode in _STOPS or _is_helper_call(insn):
            return False
        if insn.dst == 1:
            return insn.opcode in _LOADS_IMM
    return False


def old_numbering_hint(insns: Sequence[Insn]) -> str | None:
    """The hint line for a rejected program, or None if it does not look old-style."""
    found = sorted(
        {
            insn.imm
            for idx, insn in enumerate(insns)
            if _is_helper_call(insn) and insn.imm in _SUSPECT and _sets_map_arg(insns, idx)
        }
    )
    if not found:
        return None
    calls = ", ".join(f"{i}" for i in found)
    old = ", ".join(f"{i} {name}" for i, (name, _) in _OLD_IDS.items())
    new = ", ".join(f"{name} {cur}" for name, cur in _OLD_IDS.values())
    return (
        f"hint: this program calls helper {calls} with a map id in R1, as axiomOS's "
        f"pre-HEAD numbering did ({old}); the current ids are {new} "
        "(3 is now get_prandom_u32, 4 get_smp_processor_id)"
    )
