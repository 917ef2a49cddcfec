"""C BPF programs compiled to ELF objects, loaded by guests through PROG_LOAD_ELF (36).

Each ELF demo must print what its hand-assembled twin prints; only the instruction
count differs (clang's code is not the hand-written code).
"""

from __future__ import annotations

import re

import pytest

from emulator.testing import boot

TWINS = {
    # ELF demo: (hand-assembled twin, ELF insn count, hand-assembled insn count)
    "bpf_loader_elf": ("bpf_loader", 29, 27),
    "ringbuf_elf_demo": ("ringbuf_demo", 11, 10),
}


def program_lines(arch: str, program: str) -> tuple[list[str], str]:
    vm = boot(arch, append=f"/bin/{program}")
    assert vm.run_to_end(timeout=10) == 0
    out = vm.user_output.split("\n")
    start = out.index(f"Spawned {program} with PID: 2")
    return out[start + 1 :], vm.console


@pytest.mark.parametrize("elf_demo", sorted(TWINS))
def test_elf_demo_matches_its_twin(arch: str, elf_demo: str) -> None:
    twin, elf_count, twin_count = TWINS[elf_demo]
    elf_out, console = program_lines(arch, elf_demo)
    twin_out, _ = program_lines(arch, twin)
    assert len(elf_out) == len(twin_out) > 10
    counts = re.compile(r"\((?:id=\d+, )?(\d+) (?:insns|instructions)\)")
    for elf_line, twin_line in zip(elf_out, twin_out, strict=True):
        elf_match, twin_match = counts.search(elf_line), counts.search(twin_line)
        if elf_match and twin_match:
            assert (int(elf_match[1]), int(twin_match[1])) == (elf_count, twin_count)
            elf_line = counts.sub("(N)", elf_line)
            twin_line = counts.sub("(N)", twin_line)
        assert elf_line == twin_line
    assert "sys_bpf: PROG_LOAD_ELF" in console
    assert re.search(r"sys_bpf: program loaded with id 0 \(\w+\)", console)


def test_elf_loader_pins_maps_and_programs_by_name(arch: str) -> None:
    vm = boot(arch, append="/bin/bpf_loader_elf")
    assert vm.run_to_end(timeout=10) == 0
    pins = vm.machine.kernel.bpf.pins
    assert pins["bpf_loader/prog/tick"] == 0
    assert {pins["bpf_loader/counter"], pins["bpf_loader/events"]} == {0, 1}
    maps = vm.machine.kernel.bpf.maps
    counter = maps.get(pins["bpf_loader/counter"])
    assert (counter.map_type, counter.key_size, counter.value_size) == (2, 4, 8)
    assert maps.get(pins["bpf_loader/events"]).max_entries == 4096
