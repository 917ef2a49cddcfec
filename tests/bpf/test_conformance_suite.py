"""The public bpf_conformance suite (github.com/Alan-Jowett/bpf_conformance), when a
checkout of its ``tests/`` directory is available: every ``.data`` file must pass,
callx group included, with the compiled programs and with the reference interpreter.

Not vendored (the suite is not part of this repository): set
``BPF_CONFORMANCE_TESTS=/path/to/bpf_conformance/tests`` to run it; skipped otherwise.
The suite's assembler dialect (``%rN``, ``lock ...``, ``call local f``, ``call %rN``,
``swapN``, ``movsxAB``, the first ``exit`` doubling as a label) is translated to
`kernel.bpf.isa.asm` syntax line by line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kernel.bpf.conformance import LoadError, run_conformance
from kernel.bpf.errors import BpfError, BpfRuntimeError
from kernel.bpf.interp.vm import Vm
from kernel.bpf.isa.asm import assemble_bytes

SUITE = os.environ.get("BPF_CONFORMANCE_TESTS")
FILES = sorted(Path(SUITE).glob("*.data")) if SUITE else []
pytestmark = pytest.mark.skipif(not FILES, reason="set BPF_CONFORMANCE_TESTS to the suite's tests/")

_LOCK = re.compile(r"lock\s+(fetch\s+)?(\w+?)(32)?\s+(\[.*\]),\s*(r\d+)$")


def translate(asm: str) -> str:
    out: list[str] = []
    seen_exit = False
    for raw in asm.splitlines():
        line = raw.split("#")[0].strip().replace("%r", "r")
        if not line:
            continue
        if m := _LOCK.match(line):
            fetch, name, w32, mem, reg = m.groups()
            bits = "32" if w32 else "64"
            if name in ("xchg", "cmpxchg"):
                line = f"{name}{bits} {mem}, {reg}"
            else:
                line = f"atomic_{'fetch_' if fetch else ''}{name}{bits} {mem}, {reg}"
        line = re.sub(r"^call\s+local\s+(\w+)$", r"call \1", line)
        line = re.sub(r"^call\s+r(\d+)$", r".insn 0x8d, \1, 0, 0, 0", line)  # callx
        line = re.sub(r"(,\s*|^ja\s+|^ja32\s+)exit$", r"\1L_exit", line)
        line = re.sub(
            r"^movsx(8|16|32)(32|64)\b",
            lambda m: f"movsx{m.group(1)}{'_32' if m.group(2) == '32' else ''}",
            line,
        )
        line = re.sub(r"^swap(16|32|64)\b", r"bswap\1", line)
        if line == "exit" and not seen_exit:  # the suite's first exit is also a label
            seen_exit = True
            out.append("L_exit:")
        out.append(line)
    return "\n".join(out)


def _sections(path: Path) -> dict[str, str]:
    current, out = None, {}
    for line in path.read_text().splitlines():
        if line.startswith("--"):
            current = line[2:].strip()
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def _outcome(program_hex: str, memory: str | None) -> tuple[str, object]:
    try:
        return "ok", run_conformance(program_hex, memory)
    except (LoadError, BpfError, BpfRuntimeError) as e:
        return "error", str(e)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@pytest.mark.parametrize("reference", [False, True], ids=["compiled", "reference"])
def test_suite_file(path: Path, reference: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if reference:
        init = Vm.__init__
        monkeypatch.setattr(
            Vm, "__init__", lambda self, *a, **k: init(self, *a, reference=True, **k)
        )
    data = _sections(path)
    if "raw" in data:
        words = [int(w, 16) for w in data["raw"].split()]
        program = b"".join(w.to_bytes(8, "little") for w in words)
    else:
        program = assemble_bytes(translate(data["asm"]))
    memory = "".join(data.get("mem", "").split()) or None
    got = _outcome(program.hex(), memory)
    if "error" in data:
        assert got[0] == "error", got
    else:
        assert got == ("ok", int(data["result"].split()[0], 16) & ((1 << 64) - 1))
