"""BPF programs written in C: load a clang-built BPF ELF object (PROG_LOAD_ELF).

API::

    load_object(data, maps: MapTable, *, name=None) -> BpfObject
    parse_object(data, name=None) -> ParsedObject        # validate only, no side effects

`BpfObject` has ``name``, ``programs`` (`ElfProgram`: name, section, attach_type,
program, verifier result), ``maps`` ({name: map id}), ``map_info`` and
``pin_paths(prog_ids)`` (the ``<obj>/<map>``, ``<obj>/prog/<fn>`` name-table entries
userspace finds ids by). Errors: `BpfError` with EINVAL/E2BIG for bad objects,
`ElfVerifierError` (a `VerifierError`) when a program is rejected; a failed load
creates no maps. The object format (section names, map definitions, global data,
calls) is described in ``kernel/bpf/ELF_NOTES.md`` and ``userspace/bpf/axiom_bpf.h``.

Modules: `reader` (ELF validation -> `model.ParsedObject`), `maps` (bpf_map_def and
global data), `btf` (the ``.BTF`` reader), `btf_maps` (libbpf's BTF-defined maps in
``.maps``), `btf_ext` (``.BTF.ext`` func/line info), `lineinfo` (source lines in
verifier logs), `sections` (section name -> attach type), `link` (relocations and
BPF-to-BPF calls), `loader` (ordering: verify before creating maps), `inspect`
(the ``bpf-inspect`` host command), `skeleton` (``bpf-gen skeleton``).
"""

from kernel.bpf.elf.loader import BpfObject, ElfMap, ElfProgram, ElfVerifierError, load_object
from kernel.bpf.elf.reader import parse_object
from kernel.bpf.elf.sections import ATTACH_SECTIONS, attach_type_for

__all__ = [
    "ATTACH_SECTIONS",
    "BpfObject",
    "ElfMap",
    "ElfProgram",
    "ElfVerifierError",
    "attach_type_for",
    "load_object",
    "parse_object",
]
