"""Plain data the reader extracts from an object and the linker consumes.

Nothing here touches a map table: a `ParsedObject` is the whole object validated
and decoded, so a loader can refuse a bad object before it creates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kernel.abi import AttachType, MapType
from kernel.bpf.isa.insn import Insn

if TYPE_CHECKING:
    from kernel.bpf.elf.btf import Btf
    from kernel.bpf.elf.btf_ext import BtfExt

R_BPF_64_64 = 1  # ld_imm64 against a map or global data symbol
R_BPF_64_ABS64 = 2  # data relocations (pointers in data, .eh_frame, debug info)
R_BPF_64_ABS32 = 3
R_BPF_64_32 = 10  # call to a function (pc-relative after linking)


@dataclass(frozen=True)
class Symbol:
    """A symbol-table entry: its section (None if undefined), value, size and kind."""

    name: str
    section: int | None
    value: int
    kind: str  # pyelftools' STT_* name
    size: int = 0


@dataclass(frozen=True)
class Reloc:
    """A relocation of one instruction slot of a code section."""

    slot: int
    rtype: int
    symbol: Symbol


@dataclass
class CodeSection:
    """An executable section: decoded slots and relocations by slot index."""

    index: int
    name: str
    insns: list[Insn]
    relocs: dict[int, Reloc] = field(default_factory=dict)


@dataclass(frozen=True)
class Function:
    """A function symbol: ``[start, end)`` slots of a code section."""

    name: str
    section: int
    start: int
    end: int


@dataclass(frozen=True)
class MapSpec:
    """A map the object declares: a ``bpf_map_def`` or a global data section.

    ``section``/``offset`` locate the definition (global data: offset 0 of the data
    section); ``initial`` is the value of element 0 for global data, else None.
    """

    name: str
    section: int
    offset: int
    map_type: MapType
    key_size: int
    value_size: int
    max_entries: int
    initial: bytes | None = None

    @property
    def is_global_data(self) -> bool:
        return self.initial is not None

    @property
    def read_only(self) -> bool:
        """``.rodata`` (and ``.rodata.*``): frozen after creation, as libbpf does."""
        return self.is_global_data and (self.name == ".rodata" or self.name.startswith(".rodata."))

    @property
    def readonly_value(self) -> bytes | None:
        """The contents of a ``.rodata`` map (constant while verifying), else None."""
        return self.initial if self.read_only else None


@dataclass(frozen=True)
class ProgramSpec:
    """An entry point: its function, section name and attach type."""

    function: Function
    section_name: str
    attach_type: AttachType

    @property
    def name(self) -> str:
        return self.function.name


@dataclass
class ParsedObject:
    """A validated object, ready to link once its maps have ids."""

    name: str
    code: dict[int, CodeSection]
    programs: list[ProgramSpec]
    subprograms: dict[tuple[int, int], Function]  # (section, start slot) -> .text function
    maps: list[MapSpec]
    map_sections: frozenset[int]  # indices of "maps"/".maps" sections
    data_sections: dict[int, MapSpec]  # global data section index -> its map
    btf: Btf | None = None  # the object's .BTF (clang -g), if any
    btf_ext: BtfExt | None = None  # its .BTF.ext (function and line info), if any

    def map_at(self, section: int, offset: int) -> MapSpec | None:
        """The ``bpf_map_def`` that starts at ``offset`` of a maps section."""
        for spec in self.maps:
            if spec.section == section and spec.offset == offset and not spec.is_global_data:
                return spec
        return None
