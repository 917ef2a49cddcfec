"""Running programs: `Program` (decoded and compiled once), the `Vm`, its memory.

`program` (per-slot closures, `ops_*` built from `codegen` templates), `compiler`
(one Python function per program, what the product runs), `memory` (the region
table at synthetic addresses) and `vm` (`Vm`, `ExecState`: one run's regions,
frames and budget). The helpers a program calls and the maps they touch are
`kernel.bpf.runtime`; `vm` wires the default helper table in.
"""
