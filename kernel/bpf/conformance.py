"""Plugin for the public eBPF conformance suite (github.com/Alan-Jowett/bpf_conformance).

Protocol: the program arrives on stdin as hex bytes (whitespace allowed); the first
positional argument, if any, is the memory as a hex string. The program runs with
r1 = a pointer to that (writable) memory and r2 = its length (r1 = r2 = 0 without
memory). On success r0 is printed in lowercase hex without ``0x`` and the exit
status is 0; any load or runtime error prints the reason on stderr and exits 1.

Options: ``--verify`` also runs `kernel.bpf.verifier.verify` first (off by
default: conformance programs treat r1 as raw memory, which the kernel's verifier
rightly rejects as a context); ``--no-verify`` is the default; ``--budget=N`` sets
the instruction budget. Unknown ``--options`` from the runner
are ignored.

Console script: ``bpf-conformance``; also ``python -m kernel.bpf.conformance``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from kernel.bpf.errors import BpfError, BpfRuntimeError, VerifierError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import DEFAULT_BUDGET, Vm
from kernel.bpf.isa.insn import Insn, decode
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.verifier import verify

USAGE = "usage: bpf-conformance [--verify|--no-verify] [--budget=N] [MEMORY_HEX] < PROGRAM_HEX"


class LoadError(Exception):
    """The program could not be loaded (bad hex, partial slot, verifier rejection)."""


def parse_hex(text: str, what: str) -> bytes:
    digits = "".join(text.split())
    if digits.lower().startswith("0x"):
        digits = digits[2:]
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise LoadError(f"{what} is not valid hex") from None


def run_conformance(
    program_hex: str, memory_hex: str | None, *, verify: bool = False, budget: int = DEFAULT_BUDGET
) -> int:
    """Load and run one program; returns r0. Raises LoadError or BpfRuntimeError."""
    try:
        insns = decode(parse_hex(program_hex, "program"))
    except ValueError as e:
        raise LoadError(str(e)) from None
    if not insns:
        raise LoadError("empty program")
    maps = MapTable()
    if verify:
        _verify(insns, maps)
    memory = bytearray(parse_hex(memory_hex, "memory")) if memory_hex else None
    return Vm(maps).run_with_memory(Program(insns), memory, budget=budget)


def _verify(insns: list[Insn], maps: MapTable) -> None:
    try:
        verify(insns, maps)
    except VerifierError as e:
        raise LoadError(f"verifier rejected the program: {e}") from None


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    verify, budget, positional = False, DEFAULT_BUDGET, []
    for arg in args:
        if arg in ("-h", "--help"):
            print(USAGE, file=stdout)
            return 0
        if arg == "--verify":
            verify = True
        elif arg == "--no-verify":
            verify = False
        elif arg.startswith("--budget="):
            budget = int(arg.split("=", 1)[1])
        elif not arg.startswith("--"):
            positional.append(arg)
    try:
        r0 = run_conformance(
            stdin.read(), positional[0] if positional else None, verify=verify, budget=budget
        )
    except (LoadError, BpfError) as e:
        print(f"load error: {e}", file=sys.stderr)
        return 1
    except BpfRuntimeError as e:
        print(f"runtime error: {e}", file=sys.stderr)
        return 1
    print(f"{r0:x}", file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
