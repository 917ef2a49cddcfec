"""BPF VM benchmarks: compiled-program speed (and the reference interpreter's, in the
same run) and the cost of a typical timer program.

Run standalone: ``python -m bench.bpf_bench``. `run()` returns rows
``{"name", "value", "unit"}`` for the project's bench table.
"""

from __future__ import annotations

from bench.sampling import timed
from kernel.abi import MapType
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm, make_context
from kernel.bpf.isa.asm import assemble
from kernel.bpf.runtime.env import NullHelperEnv
from kernel.bpf.runtime.maps import MapTable, RingBufMap
from kernel.bpf.samples import TIMER_COUNTER

COMPUTE_LOOP = """
    mov r0, 0
    mov r1, {n}
loop:
    mov r2, r1
    mul r2, 3
    xor r0, r2
    add r0, r1
    rsh r2, 1
    sub r1, 1
    jne r1, 0, loop
    exit
"""


# At least this many samples per figure, each a few milliseconds of work, taken for
# `bench.sampling.WINDOW_S` seconds (see bench/sampling.py)
SAMPLES = 30


def bench_compute(n: int = 20_000) -> list[dict]:
    vm = Vm()
    program = Program(assemble(COMPUTE_LOOP.format(n=n)))
    vm.run_with_memory(program)
    steps = vm.last_steps
    compiled = timed(lambda: vm.run_with_memory(program), SAMPLES, steps)
    ref = Vm(reference=True)
    reference = timed(lambda: ref.run_with_memory(program), 5, steps)
    assert ref.last_steps == steps
    return [
        {"name": "bpf_vm_compute_loop", "value": round(1 / compiled.best), "unit": "insn/s"},
        {
            "name": "bpf_vm_compute_loop, median",
            "value": round(1 / compiled.median),
            "unit": "insn/s",
        },
        {
            "name": "bpf_vm_compute_loop, reference interpreter",
            "value": round(1 / reference.best),
            "unit": "insn/s",
        },
        {
            "name": "compiled/reference speed ratio",
            "value": round(reference.best / compiled.best, 2),
            "unit": "x",
        },
    ]


def bench_timer_program(invocations: int = 250) -> list[dict]:
    maps = MapTable()
    counter = maps.create(MapType.ARRAY, 4, 8, 1)
    ring = maps.create(MapType.RINGBUF, 0, 0, 1 << 20)
    assert isinstance(ring, RingBufMap)
    vm = Vm(maps, NullHelperEnv())
    program = Program(assemble(TIMER_COUNTER.format(counter=counter.id, ringbuf=ring.id)))
    ctx = make_context()

    def batch() -> None:
        for _ in range(invocations):
            vm.run(program, ctx)

    def drain() -> None:  # the consumer's work, not the program's: outside the timing
        while ring.poll(8) is not None:
            pass

    runs = timed(batch, SAMPLES, invocations, drain)
    load = timed(lambda: Program(program.insns).compiled, 20)
    name = f"bpf_timer_program_invocation ({vm.last_steps} insns)"
    return [
        {"name": name, "value": round(runs.best * 1e6, 2), "unit": "us"},
        {
            "name": f"{name}, median",
            "value": round(runs.median * 1e6, 2),
            "unit": "us",
        },
        {
            "name": "bpf_program_load (27 slots, closures + compiled function)",
            "value": round(load.best * 1e6, 1),
            "unit": "us",
        },
    ]


def run() -> list[dict]:
    return [*bench_compute(), *bench_timer_program()]


def main() -> None:
    rows = run()
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['value']:>14,}  {r['unit']}")


if __name__ == "__main__":
    main()
