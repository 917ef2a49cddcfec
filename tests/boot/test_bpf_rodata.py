"""Frozen .rodata and the verifier log's kept tail, from a real guest (t_rodata).

PROG_LOAD_ELF creates an object's .rodata map frozen: MAP_UPDATE_ELEM and
MAP_DELETE_ELEM return -EPERM (63), MAP_LOOKUP_ELEM still reads the initial value.
A rejected PROG_LOAD with a 64-byte log_buf gets the END of the log (Linux >= 6.4),
NUL-terminated: the last 63 bytes of the summary line.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .bpf_runs import DemoRun, demo_cache

EPERM, EACCES = 63, 2
SUMMARY = "processed 1 insns (limit 1000000) max_states_per_insn 1 total_states 1 stack_depth 8\n"


@pytest.fixture(scope="module")
def demo() -> Callable[[str, str], DemoRun]:
    return demo_cache()


def test_rodata_is_frozen_and_the_log_keeps_its_end(
    arch: str, demo: Callable[..., DemoRun]
) -> None:
    run = demo(arch, "t_rodata")
    assert run.status == 0
    assert run.out == (
        "load: ok\n"
        f"update: -{EPERM}\n"
        f"delete: -{EPERM}\n"
        "lookup: 0 value 5\n"
        f"rejected: -{EACCES}\n"
        f"log tail: {SUMMARY[-63:]}"
    )
