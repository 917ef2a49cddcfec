"""Section names: which attach type a program section selects, which sections hold data.

The naming follows libbpf's ``SEC("...")`` convention, reduced to axiomOS's hooks
(ABI section 7): a program section is named after its attach type, optionally
followed by ``/anything`` (``timer``, ``timer/heartbeat``). ``.text`` holds local
functions (BPF-to-BPF call targets), never entry points. Global data sections are
``.data``, ``.rodata`` and ``.bss``, each with an optional ``.suffix`` (clang puts
string literals in ``.rodata.str1.1``); each becomes its own single-entry array map.
"""

from __future__ import annotations

from kernel.abi import AttachType

TEXT_SECTION = ".text"
# Map sections: "maps" holds legacy ``struct bpf_map_def``s; ".maps" holds libbpf's
# BTF-described ``__uint``/``__type`` structs (read as bpf_map_def when there is no BTF).
BTF_MAP_SECTION = ".maps"
MAP_SECTIONS = ("maps", BTF_MAP_SECTION)
DATA_PREFIXES = (".data", ".rodata", ".bss")

ATTACH_SECTIONS: dict[str, AttachType] = {
    "timer": AttachType.TIMER,
    "gpio": AttachType.GPIO,
    "pwm": AttachType.PWM,
    "iio": AttachType.IIO,
    "sys_enter": AttachType.SYS_ENTER,
    "sys_exit": AttachType.SYS_EXIT,
    "sched_switch": AttachType.SCHED_SWITCH,
}


def attach_type_for(section: str) -> AttachType | None:
    """The attach type a program section selects (``timer``, ``timer/x``), or None."""
    return ATTACH_SECTIONS.get(section.split("/", 1)[0])


def is_data_section(section: str) -> bool:
    """``.data``, ``.rodata``, ``.bss`` and their ``.suffix`` variants."""
    return any(section == p or section.startswith(p + ".") for p in DATA_PREFIXES)


def known_section_names() -> str:
    """For error messages: the program section names we accept."""
    return ", ".join(ATTACH_SECTIONS)
