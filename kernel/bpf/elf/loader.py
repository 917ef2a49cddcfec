"""`load_object`: an ELF object in, maps created and programs linked and verified.

Order matters for the "a failed load leaves nothing behind" property: the object
is parsed and validated, map geometries are checked, every program is linked
against *provisional* map ids and verified -- and only then are the maps created
in the caller's table (ids are never reused, so creating them early would burn
ids on a rejected object) and the programs relinked with the real ids. Linking
is deterministic, so the verified and the final programs differ only in those ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kernel.abi import AttachType
from kernel.bpf.elf.btf_ext import LineInfo
from kernel.bpf.elf.lineinfo import annotate_log, program_lines, source_line
from kernel.bpf.elf.link import link_program
from kernel.bpf.elf.model import MapSpec, ParsedObject, ProgramSpec
from kernel.bpf.elf.reader import parse_object
from kernel.bpf.errors import BpfError, VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.runtime.maps.table import _validate as validate_geometry  # MAP_CREATE's checks
from kernel.bpf.verifier import ENTRY_SPECS, VerifierResult, verify

# Provisional ids used while verifying, far above any id a real table hands out.
PROVISIONAL_BASE = 0xFFF0_0000
_KEY0 = bytes(4)


class ElfVerifierError(VerifierError):
    """A program of an object was rejected; says which one (log starts with it too).

    With line info (clang -g) the log has ``; <source> @ file.c:NN`` comments and
    ``source`` is the line of the rejected instruction, which the header names.
    ``body`` is the verifier's own log, without the header.
    """

    def __init__(
        self,
        err: VerifierError,
        program: str,
        section: str,
        lines: Mapping[int, LineInfo] | None = None,
    ) -> None:
        lines = lines or {}
        self.source = source_line(lines, err.insn_idx)
        self.body = annotate_log(err.log, lines)
        where = f", at {self.source.file}:{self.source.line}" if self.source else ""
        header = f"program '{program}' (section '{section}'){where}:\n"
        super().__init__(err.insn_idx, err.reason, header + self.body)
        self.insns_processed = err.insns_processed
        self.states_explored = err.states_explored
        self.program = program
        self.section = section


@dataclass(frozen=True)
class ElfMap:
    """A map the object created: its id and geometry (``global_data`` for .data & co)."""

    name: str
    map_id: int
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    global_data: bool


@dataclass(frozen=True)
class ElfProgram:
    """A loaded entry point: compiled, verified, ready to attach to ``attach_type``."""

    name: str
    section: str
    attach_type: AttachType
    program: Program
    verifier: VerifierResult

    @property
    def insns(self) -> tuple[Insn, ...]:
        return self.program.insns


@dataclass
class BpfObject:
    """What `load_object` returns.

    ``programs`` keep the object's order (section order, then offset); the first is
    what PROG_LOAD_ELF returns the id of. ``maps`` is ``{name: map id}``;
    ``map_info`` has the details. See `pin_paths` for how userspace finds the ids.
    """

    name: str
    programs: list[ElfProgram]
    maps: dict[str, int]
    map_info: dict[str, ElfMap] = field(default_factory=dict)

    def program(self, name: str) -> ElfProgram:
        for prog in self.programs:
            if prog.name == name:
                return prog
        raise KeyError(name)

    def pin_paths(self, prog_ids: Sequence[int]) -> dict[str, int]:
        """The name-table entries for this object (ELF_NOTES.md, "finding the ids").

        ``prog_ids[i]`` is the kernel's id for ``programs[i]``. Maps pin under
        ``<obj>/<map>`` (``<obj>/.data`` for global data), programs under
        ``<obj>/prog/<function>``.
        """
        if len(prog_ids) != len(self.programs):
            raise ValueError(f"{len(self.programs)} programs, {len(prog_ids)} ids")
        paths = {f"{self.name}/{name}": map_id for name, map_id in self.maps.items()}
        for prog, prog_id in zip(self.programs, prog_ids, strict=True):
            paths[f"{self.name}/prog/{prog.name}"] = prog_id
        return paths


class _ProvisionalMaps:
    """The verifier's map view before the maps exist: specs under provisional ids,
    anything else (a hand-written plain map id) from the real table."""

    def __init__(self, specs: Mapping[int, MapSpec], table: MapTable) -> None:
        self._specs = specs
        self._table = table

    def get(self, map_id: int) -> object:
        spec = self._specs.get(map_id)
        return spec if spec is not None else self._table.get(map_id)


def check_map_geometry(specs: Sequence[MapSpec]) -> None:
    """Reject a map MAP_CREATE would reject, with the same errno, naming the map.

    Uses MapTable's own validation without allocating anything (a scratch create
    would preallocate up to 64 MiB per map just to throw it away).
    """
    for spec in specs:
        try:
            validate_geometry(spec.map_type, spec.key_size, spec.value_size, spec.max_entries)
        except BpfError as e:
            raise BpfError(e.errno, f"map '{spec.name}': {e.message}") from None


def link_and_verify(
    parsed: ParsedObject,
    table: MapTable,
    map_ids: Mapping[MapSpec, int] | None = None,
    *,
    log_level: int = 0,
    log_size: int = 0,
) -> list[tuple[ProgramSpec, list[Insn], VerifierResult | VerifierError]]:
    """Link every program and verify it with its hook's spec; errors are returned.

    Without ``map_ids``, maps get provisional ids (nothing is created). Used by
    `load_object` and by ``bpf-inspect``, which reports every program's verdict.
    A rejection is an `ElfVerifierError`, its log annotated with source lines.
    """
    if map_ids is None:
        map_ids = {spec: PROVISIONAL_BASE + i for i, spec in enumerate(parsed.maps)}
    view = _ProvisionalMaps({i: s for s, i in map_ids.items()}, table)
    out: list[tuple[ProgramSpec, list[Insn], VerifierResult | VerifierError]] = []
    for prog in parsed.programs:
        origins: list[tuple[str, int]] = []
        insns = link_program(parsed, prog, map_ids, origins)
        try:
            verdict: VerifierResult | VerifierError = verify(
                insns, view, ENTRY_SPECS[prog.attach_type], log_level=log_level, log_size=log_size
            )
        except VerifierError as e:
            lines = program_lines(parsed.btf_ext, origins)
            verdict = ElfVerifierError(e, prog.name, prog.section_name, lines)
        out.append((prog, insns, verdict))
    return out


def load_object(
    data: bytes,
    maps: MapTable,
    *,
    name: str | None = None,
    log_level: int = 0,
    log_size: int = 0,
) -> BpfObject:
    """Load a BPF ELF object: validate, verify every program, then create its maps.

    Raises `BpfError` (EINVAL / E2BIG, see ELF_NOTES.md) for a bad object and
    `ElfVerifierError` (a VerifierError) if any program is rejected; in both cases
    no map has been created. ``name`` overrides the object name used for pins.
    """
    parsed = parse_object(data, name)
    check_map_geometry(parsed.maps)
    results: list[VerifierResult] = []
    for _prog, _insns, verdict in link_and_verify(
        parsed, maps, log_level=log_level, log_size=log_size
    ):
        if isinstance(verdict, VerifierError):
            raise verdict
        results.append(verdict)
    map_ids: dict[MapSpec, int] = {}
    info: dict[str, ElfMap] = {}
    for spec in parsed.maps:
        bpf_map = maps.create(spec.map_type, spec.key_size, spec.value_size, spec.max_entries)
        if spec.initial is not None:
            bpf_map.update(_KEY0, spec.initial)
        bpf_map.name = spec.name
        bpf_map.frozen = spec.read_only
        map_ids[spec] = bpf_map.id
        info[spec.name] = ElfMap(
            spec.name,
            bpf_map.id,
            int(spec.map_type),
            bpf_map.key_size,
            spec.value_size,
            spec.max_entries,
            spec.is_global_data,
        )
    programs: list[ElfProgram] = []
    for prog, result in zip(parsed.programs, results, strict=True):
        # Same link with the real ids: only the map immediates differ from what was verified.
        insns = link_program(parsed, prog, map_ids)
        programs.append(
            ElfProgram(
                prog.name, prog.section_name, prog.attach_type, Program(insns, prog.name), result
            )
        )
    return BpfObject(parsed.name, programs, {n: m.map_id for n, m in info.items()}, info)
