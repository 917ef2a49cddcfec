"""The axiomOS BPF subsystem as a library: plain bytes in, results out.

No emulator and no kernel-model dependency (only the ABI numbers of `kernel.abi`);
the kernel drives it from sys_bpf and its hooks (`kernel.bpf_attach`). This package
imports nothing eagerly (so the verifier can import `isa` without pulling in the
VM); import the modules you use. Layers, each importing only those above it
(`interp.vm` also wires in `runtime`'s default helper table):

`isa/` -- the instruction set as data
    `opcodes`   RFC 9669 constants (classes, sizes, modes, ALU/JMP/atomic ops, pseudo srcs)
    `insn`      ``Insn(opcode, dst, src, off, imm)``; ``decode(bytes) -> list[Insn]`` (one
                per 8-byte slot, ValueError on a partial slot); ``encode(insns) -> bytes``;
                ``ld_imm64_value(lo, hi)``; ``ld_imm64(dst, value, src=0)``
    `asm`       ``assemble(text) -> list[Insn]``, ``assemble_bytes(text)``; syntax in its docstring
    `disasm`    ``disassemble(insns) -> list[str]`` ("<idx>: <text>"), ``format_insn(insn, next)``

`interp/` -- running programs
    `program`   ``Program(insns | bytes, name="")``: decoded and compiled once at load;
                ``.insns``, ``.map_ids`` (ld_imm64 map references), ``.helper_ids``
    `compiler`  one Python function per program (``Program.compiled``)
    `codegen`, `ops_alu`, `ops_jmp`, `ops_mem`, `ops_call`: the reference interpreter's
                per-instruction closures
    `vm`        ``Vm(maps=None, env=None, helpers=None, *, seed=...)``;
                ``Vm.run(program, ctx=None, payload=None, *, budget=1_000_000, env=None) -> r0``;
                ``Vm.run_with_memory(program, memory=None, *, budget, env) -> r0``;
                ``make_context(interrupt_latency_ns, boot_time_ms, kernel_heap_kb,
                kernel_image_mb) -> bytes``; ``ExecState``: one run's state
    `memory`    the region table (synthetic addresses ``slot << 32 | offset``)

`runtime/` -- what a running program calls
    `helpers`   ``HELPERS: dict[int, fn]``, ``IMPLEMENTED_HELPERS: dict[int, name]``
    `helper_protos`  ``HELPER_PROTOS``: argument and return kinds, for the verifier
    `env`       ``HelperEnv`` / ``BpfDevices`` protocols, ``TaskInfo``, ``NullHelperEnv``,
                ``TestHelperEnv``, ``TestDevices``
    `maps`      ``MapTable``, ``HashMap``, ``ArrayMap``, ``RingBufMap``, ``TimeseriesMap``
    `printk`    trace_printk's format rules; `old_helper_ids`: the old-numbering log hint

`verifier/` (``verify``), `elf/` (``load_object``), and at the top
    `errors`    ``BpfError(errno, message)``, ``BpfRuntimeError(pc, message)``,
                ``VerifierError(insn_idx, reason, log)``: shared by every layer
    `samples`   reference programs (the bpf_loader timer demo)
    `conformance`  the bpf_conformance plugin (console script ``bpf-conformance``)

Register values are plain u64 ints. A map is named by its id: ``mov r1, <id>`` or an
``ld_imm64`` with src=1 (which loads the same id). Pointers are synthetic addresses
into regions: the context (read-only, 56 bytes), the payload (read-only), stack
frames (512 bytes each), map values handed out by map_lookup_elem (live views of
map storage) and caller memory. Every access is checked against exactly one region.
"""
