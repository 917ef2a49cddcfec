"""What R1 points at when a program runs: one `EntrySpec` per attach type.

Every axiomOS hook passes the 56-byte read-only `BpfContext`; ``ctx->data`` and
``ctx->data_end`` delimit the hook's payload (ABI section 7). ``payload_size`` is
the most the payload can ever be, so a comparison proving ``data + n <= data_end``
with ``n`` larger than that is known false (a dead branch). The conformance
plugin's *raw memory* variant instead passes a plain buffer: R1 = pointer to
``raw_mem_size`` writable bytes, R2 = that size.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.abi import (
    BPF_CONTEXT_SIZE,
    GPIO_PAYLOAD,
    IIO_PAYLOAD,
    PWM_PAYLOAD,
    SCHED_SWITCH_PAYLOAD,
    SYS_ENTER_PAYLOAD,
    SYS_EXIT_PAYLOAD,
    AttachType,
)

# Linux's MAX_PACKET_OFF: the payload bound assumed when the attach point is unknown.
MAX_PACKET_OFF = 0xFFFF


@dataclass(frozen=True)
class EntrySpec:
    """The program's entry environment.

    ``ctx_size``: bytes of the read-only context behind R1 (``data`` at 0 and
    ``data_end`` at 8 load as packet pointers). ``payload_size``: upper bound of
    ``data_end - data``; 0 means the attach point has no payload. ``payload_writable``:
    whether stores through packet pointers are allowed (axiomOS hooks observe
    only, so not by default). ``raw_mem_size``: when not None, the raw-memory
    variant -- R1 = writable memory of that many bytes, R2 = its size, no context.
    """

    ctx_size: int = BPF_CONTEXT_SIZE
    payload_size: int = 0
    payload_writable: bool = False
    raw_mem_size: int | None = None
    name: str = "generic"

    @classmethod
    def raw_memory(cls, size: int) -> EntrySpec:
        """The conformance-plugin environment: r1 = mem of ``size`` bytes, r2 = size."""
        return cls(ctx_size=0, payload_size=0, raw_mem_size=size, name=f"raw[{size}]")


ENTRY_SPECS: dict[AttachType, EntrySpec] = {
    AttachType.TIMER: EntrySpec(payload_size=0, name="timer"),
    AttachType.GPIO: EntrySpec(payload_size=GPIO_PAYLOAD.size, name="gpio"),
    AttachType.PWM: EntrySpec(payload_size=PWM_PAYLOAD.size, name="pwm"),
    AttachType.IIO: EntrySpec(payload_size=IIO_PAYLOAD.size, name="iio"),
    AttachType.SYS_ENTER: EntrySpec(payload_size=SYS_ENTER_PAYLOAD.size, name="sys_enter"),
    AttachType.SYS_EXIT: EntrySpec(payload_size=SYS_EXIT_PAYLOAD.size, name="sys_exit"),
    AttachType.SCHED_SWITCH: EntrySpec(payload_size=SCHED_SWITCH_PAYLOAD.size, name="sched_switch"),
}

# entry=None: the program type is not known at load time (PROG_LOAD's prog_type is
# informational), so accept any payload up to Linux's packet bound; every access
# is still guarded by a data_end comparison, which the VM enforces dynamically.
GENERIC_ENTRY = EntrySpec(payload_size=MAX_PACKET_OFF, name="generic")
