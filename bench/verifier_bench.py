"""Verifier benchmarks: time and work to verify realistic programs.

Run standalone: ``python -m bench.verifier_bench``. `run()` returns rows
``{"name", "value", "unit"}``. The headline program is ~1000 instructions of
what clang emits for event-processing code: per block a map lookup with a null
check, a value read, bounded arithmetic, a data-dependent branch and stack
traffic, plus a ringbuf report at the end.
"""

from __future__ import annotations

import time

from kernel.abi import MapType
from kernel.bpf.asm import assemble
from kernel.bpf.maps import MapTable
from kernel.bpf.verifier import verify

BLOCK = """
    stw [r10-4], {key}
    mov r1, 0
    mov r2, r10
    add r2, -4
    call map_lookup_elem
    jeq r0, 0, skip{i}
    ldxdw r1, [r0+0]
    mov r2, r1
    and r2, 0xff
    add r7, r2
    jgt r1, {limit}, big{i}
    add r8, 1
    ja join{i}
big{i}:
    add r9, r1
    stxdw [r0+0], r9
join{i}:
    mov r3, r7
    rsh r3, 3
    stxdw [r10-16], r3
    ldxdw r4, [r10-16]
    xor r8, r4
skip{i}:
    add r6, 1
"""

TAIL = """
    stxdw [r10-24], r7
    stxdw [r10-32], r8
    mov r1, 1
    mov r2, r10
    add r2, -32
    mov r3, 16
    mov r4, 0
    call ringbuf_output
    mov r0, r7
    exit
"""

SMALL = """
    stw [r10-4], 0
    mov r1, 0
    mov r2, r10
    add r2, -4
    call map_lookup_elem
    jeq r0, 0, out
    mov r1, 1
    atomic_add64 [r0+0], r1
    ldxdw r1, [r0+0]
    stxdw [r10-16], r1
    mov r1, 1
    mov r2, r10
    add r2, -16
    mov r3, 8
    mov r4, 0
    call ringbuf_output
out:
    mov r0, 0
    exit
"""

LOOP = """
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
    jlt r6, 16, loop
    mov r0, r7
    exit
"""


def big_program(target: int = 1000) -> str:
    """Assembler text of about ``target`` instructions."""
    head = "mov r6, 0\nmov r7, 0\nmov r8, 0\nmov r9, 0\n"
    blocks = []
    n = 0
    i = 0
    per_block = len(assemble(BLOCK.format(i=0, key=0, limit=0)))
    while n + per_block + 10 <= target - 4:
        blocks.append(BLOCK.format(i=i, key=i % 16, limit=100 + i))
        n += per_block
        i += 1
    return head + "".join(blocks) + TAIL


def _maps() -> MapTable:
    table = MapTable()
    table.create(MapType.ARRAY, 4, 8, 16)
    table.create(MapType.RINGBUF, 0, 0, 4096)
    return table


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run() -> list[dict]:
    maps = _maps()
    rows: list[dict] = []
    for name, src, repeat, precision in (
        ("1000-insn program", big_program(), 3, False),
        ("1000-insn program, precision tracking", big_program(), 5, True),
        ("20-insn counter+ringbuf", SMALL, 50, False),
        ("16-iteration lookup loop", LOOP, 20, False),
    ):
        insns = assemble(src)
        secs, res = _best(lambda insns=insns, p=precision: verify(insns, maps, precision=p), repeat)
        rows += [
            {
                "name": f"verify {name} ({len(insns)} slots)",
                "value": round(secs * 1e3, 2),
                "unit": "ms",
            },
            {
                "name": f"verify {name}: insns processed",
                "value": res.insns_processed,
                "unit": "insns",
            },
            {
                "name": f"verify {name}: states explored",
                "value": res.states_explored,
                "unit": "states",
            },
        ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:>10} {row['unit']}")
