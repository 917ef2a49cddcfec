"""The programs of the verifier benchmarks (issue 9), shared with the tests.

Each is what a developer writes or clang emits, with the figure the Linux 6.18
verifier gives for the same program (helper ids and maps translated), so the
bench table can quote it next to ours. `running_max_object` compiles the C one
with the guest SDK (zig's clang, the SDK flags), cached under ``build/``.
"""

from __future__ import annotations

from pathlib import Path

from kernel.abi import MapType
from kernel.bpf.runtime.maps import MapTable

ROOT = Path(__file__).resolve().parent.parent
RUNNING_MAX_SRC = ROOT / "bench" / "bpf" / "running_max.bpf.c"

# Linux 6.18's "processed N insns" (where quoted by the issue) and wall time.
LINUX = {
    "running_max": "2860 insns, < 0.1 s",
    "if_chain": "an 82-insn chain in 0.2 ms",
    "branchy": "1.5 ms",
    "counted_loop": None,  # not measured
    "jset_chain": "refused or accepted in ms (a 45-slot variant)",
    "too_large": "refused in 20-360 ms",
}

IF_CHAIN_BLOCK = """
    call get_prandom_u32
    and r0, {bit}
    jeq r0, 0, skip{i}
    add r7, {i}
skip{i}:
"""


def if_chain(n: int = 200) -> str:
    """``n`` independent ``if (bpf_get_prandom_u32() & bit) acc += i;``."""
    body = "".join(IF_CHAIN_BLOCK.format(i=i, bit=1 << (i % 31)) for i in range(n))
    return "mov r7, 0\n" + body + "mov r0, r7\nexit\n"


COUNTED_LOOP = """
    mov r6, 0
    mov r7, 0
loop:
    stxw [r10-4], r6
    mov r1, 0
    mov r2, r10
    add r2, -4
    call map_lookup_elem
    jeq r0, 0, next
    ldxdw r1, [r0+0]
    add r7, r1
next:
    add r6, 1
    jlt r6, {n}, loop
    mov r0, r7
    exit
"""


def counted_loop(n: int = 1000) -> str:
    """A loop of ``n`` map lookups keyed by the counter (every key is in range)."""
    return COUNTED_LOOP.format(n=n)


# Never ends within the budget: a 3-instruction loop the verifier must unroll
# until it has processed Linux's 1 000 000 instructions.
TOO_LARGE = """
    mov r6, 0
    mov r7, 0
loop:
    add r6, 1
    add r7, r6
    jlt r6, 0x7fffffff, loop
    mov r0, r7
    exit
"""


def jset_chain(n: int = 20) -> str:
    """A state explosion: ``n`` ``jset`` branches refine one value (a bit known set or
    clear per branch), which is then used as an offset, so it is precise and no two
    of the 2**n paths merge. Linux walks into its 1 M-insn budget; here the stored
    state limit refuses it first."""
    body = "".join(f"jset r6, {1 << i}, s{i}\nadd r7, 1\ns{i}:\n" for i in range(n))
    return (
        "call get_prandom_u32\nmov r6, r0\nmov r7, 0\n"
        + body
        + "stw [r10-4], 0\nmov r1, 2\nmov r2, r10\nadd r2, -4\ncall map_lookup_elem\n"
        "jeq r0, 0, out\nand r6, 0xff\nadd r0, r6\nldxb r0, [r0+0]\nout:\nexit\n"
    )


def bench_maps() -> MapTable:
    """Map 0: array of 16 u64 (key 4 bytes); map 1: 4 KiB ringbuf; map 2: one 256-byte value."""
    table = MapTable()
    table.create(MapType.ARRAY, 4, 8, 16)
    table.create(MapType.RINGBUF, 0, 0, 4096)
    table.create(MapType.ARRAY, 4, 256, 1)
    return table


def running_max_object() -> bytes:
    """The running-maximum C program compiled with the SDK (cached by content)."""
    from kernel.abi_header import write_header
    from userspace.bpf_build import build_object

    out_dir = ROOT / "build" / "bench-bpf"
    include = out_dir / "include"
    write_header(include / "axiom_abi.h")
    out = out_dir / "running_max.o"
    build_object(RUNNING_MAX_SRC, out, include)
    return out.read_bytes()
