"""Helper prototypes: what each helper expects in R1-R5 and returns in R0.

The verifier checks every ``call`` against these, the way Linux checks
``bpf_func_proto``. Ids and names come from `kernel.abi.Helper`; only the helpers
the emulator's kernel dispatches have a prototype: the spec's table (section 6) plus
3, 4, 10, 11, 12 and 14, which the original named but never dispatched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kernel.abi import Helper, MapType


class Arg(enum.Enum):
    """Argument kinds (a subset of Linux's ``bpf_arg_type``)."""

    ANYTHING = "anything"  # any initialised scalar (pointers would leak addresses)
    ANYTHING_OR_PTR = "anything_or_ptr"  # any initialised value, pointers included
    CONST_MAP = "map_ptr"  # a map: known-constant map id, or ld_imm64 map reference
    PTR_TO_MAP_KEY = "map_key"  # key_size readable, initialised bytes
    PTR_TO_MAP_VALUE = "map_value"  # value_size readable, initialised bytes
    PTR_TO_MEM = "mem"  # readable, initialised memory; size in the next argument
    CONST_SIZE = "const_size"  # size of the preceding PTR_TO_MEM, > 0, bounded
    CONST_SIZE_OR_ZERO = "const_size_or_zero"  # same, 0 allowed
    PTR_TO_CTX = "ctx"  # the program's context pointer, unmodified
    PTR_TO_UNINIT_MEM = "uninit_mem"  # writable memory the helper fills; size next


class Ret(enum.Enum):
    """Return kinds."""

    INTEGER = "integer"
    MAP_VALUE_OR_NULL = "map_value_or_null"


@dataclass(frozen=True)
class HelperProto:
    """One helper's signature; ``map_types`` restricts the CONST_MAP argument.

    ``format_arg``: R1 is a printf format; the verifier checks it when it is a
    constant (`kernel.bpf.verifier.printk_fmt`). R3-R5 beyond ``args`` are then
    passed unchecked, as Linux's bpf_trace_printk proto does.
    """

    helper: Helper
    args: tuple[Arg, ...]
    ret: Ret = Ret.INTEGER
    map_types: frozenset[MapType] = frozenset()
    format_arg: bool = False

    @property
    def name(self) -> str:
        return self.helper.name.lower()


_KV_MAPS = frozenset({MapType.HASH, MapType.ARRAY})
_UPDATABLE = frozenset({MapType.HASH, MapType.ARRAY, MapType.TIMESERIES})

HELPER_PROTOS: dict[int, HelperProto] = {
    p.helper: p
    for p in (
        HelperProto(Helper.KTIME_GET_NS, ()),
        HelperProto(Helper.TRACE_PRINTK, (Arg.PTR_TO_MEM, Arg.CONST_SIZE), format_arg=True),
        HelperProto(
            Helper.MAP_LOOKUP_ELEM,
            (Arg.CONST_MAP, Arg.PTR_TO_MAP_KEY),
            Ret.MAP_VALUE_OR_NULL,
            _KV_MAPS,
        ),
        HelperProto(
            Helper.MAP_UPDATE_ELEM,
            (Arg.CONST_MAP, Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE, Arg.ANYTHING),
            map_types=_UPDATABLE,
        ),
        HelperProto(
            Helper.MAP_DELETE_ELEM,
            (Arg.CONST_MAP, Arg.PTR_TO_MAP_KEY),
            map_types=_KV_MAPS,
        ),
        HelperProto(
            Helper.RINGBUF_OUTPUT,
            (Arg.CONST_MAP, Arg.PTR_TO_MEM, Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING),
            map_types=frozenset({MapType.RINGBUF}),
        ),
        HelperProto(
            Helper.TIMESERIES_PUSH,
            (Arg.CONST_MAP, Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE),
            map_types=frozenset({MapType.TIMESERIES}),
        ),
        HelperProto(Helper.GET_PRANDOM_U32, ()),
        HelperProto(Helper.GET_SMP_PROCESSOR_ID, ()),
        HelperProto(Helper.GET_CURRENT_PID_TGID, ()),
        HelperProto(Helper.GET_CURRENT_UID_GID, ()),
        HelperProto(Helper.GET_CURRENT_COMM, (Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE)),
        # probe_read(dst, size, src): src is any address; the helper itself refuses
        # memory the program could not read and returns a negative error.
        HelperProto(
            Helper.PROBE_READ, (Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE, Arg.ANYTHING_OR_PTR)
        ),
        # 13 and 15-17 take no argument: the original's interpreter hands them the
        # running program's own context whatever R1 holds (spec section 6).
        HelperProto(Helper.GET_INTERRUPT_LATENCY_NS, ()),
        HelperProto(Helper.GET_BOOT_TIME_MS, ()),
        HelperProto(Helper.GET_KERNEL_HEAP_KB, ()),
        HelperProto(Helper.GET_KERNEL_IMAGE_MB, ()),
        HelperProto(Helper.MOTOR_EMERGENCY_STOP, (Arg.ANYTHING,)),
        HelperProto(Helper.GPIO_WRITE, (Arg.ANYTHING, Arg.ANYTHING)),
        HelperProto(Helper.GPIO_READ, (Arg.ANYTHING,)),
        HelperProto(Helper.PWM_WRITE, (Arg.ANYTHING, Arg.ANYTHING, Arg.ANYTHING)),
    )
}

# Named in the ABI enum but never dispatched by the kernel's interpreter.
UNDISPATCHED: frozenset[Helper] = frozenset(Helper) - frozenset(HELPER_PROTOS)


def helper_name(helper_id: int) -> str:
    """``map_lookup_elem`` for known ids, ``unknown`` otherwise (Linux log style)."""
    try:
        return Helper(helper_id).name.lower()
    except ValueError:
        return "unknown"
