"""Load-time check of a constant ``trace_printk`` format (helper 2).

Linux checks bpf_trace_printk's format only when the helper runs; axiomOS
programs usually keep it in ``.rodata`` (the SDK's ``bpf_printk`` puts it there),
where it is known when the program is loaded, so a bad format is refused with
the reason instead of silently printing nothing. A format elsewhere (the stack)
is checked by the helper, which returns -EINVAL. With a valid constant format,
the argument registers it consumes (R3..R5) must be initialised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kernel.bpf.runtime.printk import FormatError, count_args
from kernel.bpf.verifier.state import PTR_TO_MAP_VALUE, VerifierState

if TYPE_CHECKING:
    from kernel.bpf.verifier.core import Verifier


def check_const_format(v: Verifier, st: VerifierState, name: str) -> None:
    """Reject the call if R1 is a read-only map value holding an invalid format."""
    reg = st.cur.regs[1]
    if reg.type != PTR_TO_MAP_VALUE or reg.map is None or reg.s.mask != 0:
        return
    content = v.maps.readonly_value(reg.map.map_id)
    if content is None:
        return
    off = reg.off + reg.s.value
    if not 0 <= off < len(content):
        return
    fmt = content[off:].split(b"\0", 1)[0]
    if b"%" not in fmt:
        return
    try:
        n_args = count_args(fmt)
    except FormatError as e:
        v.fail(f"R1 invalid format string for {name}: {e}")
    for r in range(3, 3 + n_args):
        v.read_reg(st, r)
