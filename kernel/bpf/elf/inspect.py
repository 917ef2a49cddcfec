"""``bpf-inspect OBJ.o``: what the kernel would make of a BPF ELF object, on the host.

Lists the maps (name, type, key/value size, max entries) and programs (section,
attach type, linked instruction count), prints each program's disassembly and runs
the verifier with the program's hook, printing its verdict (and its log on a
rejection, or always with ``--verbose``). Maps are created in a scratch table, so
ids in the disassembly (``map[0]``) are the ID column of the map list.

Exit status: 0 every program verifies, 1 at least one is rejected, 2 the file is
unreadable or not a valid object (one ``bpf-inspect: ...`` line on stderr, no
traceback). argparse, not click: nothing under ``kernel/`` depends on click.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from kernel.abi import MapType
from kernel.bpf.elf.lineinfo import program_lines
from kernel.bpf.elf.link import link_program
from kernel.bpf.elf.loader import check_map_geometry, link_and_verify
from kernel.bpf.elf.model import MapSpec, ParsedObject, ProgramSpec
from kernel.bpf.elf.reader import parse_object
from kernel.bpf.errors import BpfError, VerifierError
from kernel.bpf.isa.disasm import disassemble
from kernel.bpf.isa.insn import Insn
from kernel.bpf.runtime.maps import MapTable

EXIT_OK, EXIT_REJECTED, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bpf-inspect",
        description="List, disassemble and verify the programs of a BPF ELF object.",
    )
    p.add_argument("object", help="a BPF ELF object (clang -target bpf -c)")
    p.add_argument("--no-disasm", action="store_true", help="do not print disassembly")
    p.add_argument(
        "--verbose", "-v", action="store_true", help="print the verifier log of accepted programs"
    )
    p.add_argument(
        "--log-level",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: the verifier log with the register/stack state after every insn (implies -v)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with open(args.object, "rb") as fh:
            data = fh.read()
    except OSError as e:
        return _invalid(args.object, e.strerror or str(e))
    try:
        parsed = parse_object(data)
        check_map_geometry(parsed.maps)
        return inspect(
            parsed,
            args.object,
            sys.stdout,
            disasm=not args.no_disasm,
            verbose=args.verbose or args.log_level == 2,
            log_level=args.log_level,
        )
    except BpfError as e:
        return _invalid(args.object, f"{e.errno.name}: {e.message}")


def _invalid(path: str, why: str) -> int:
    print(f"bpf-inspect: {path}: {why}", file=sys.stderr)
    return EXIT_INVALID


def inspect(
    parsed: ParsedObject,
    path: str,
    out: TextIO,
    *,
    disasm: bool = True,
    verbose: bool = False,
    log_level: int = 1,
) -> int:
    """Print the report for ``parsed``; returns the exit status (BpfError if it cannot link).

    The verifier log is the one PROG_LOAD_ELF would hand back at ``log_level``."""
    table = MapTable()
    map_ids = {}
    for spec in parsed.maps:
        m = table.create(spec.map_type, spec.key_size, spec.value_size, spec.max_entries)
        m.name, m.frozen = spec.name, spec.read_only  # as load_object leaves them
        map_ids[spec] = m.id
    results = link_and_verify(parsed, table, map_ids, log_level=log_level)
    n_prog, n_map = len(parsed.programs), len(parsed.maps)
    out.write(
        f"{path}: object '{parsed.name}', {n_prog} program{'s' * (n_prog != 1)}, "
        f"{n_map} map{'s' * (n_map != 1)}\n"
    )
    _print_maps(out, parsed.maps, map_ids)
    out.write("\nPrograms:\n")
    rows = [("NAME", "SECTION", "ATTACH", "INSNS")]
    rows += [(p.name, p.section_name, p.attach_type.name, str(len(i))) for p, i, _ in results]
    _table(out, rows, right={3})
    status = EXIT_OK
    for prog, insns, verdict in results:
        out.write(
            f"\nProgram {prog.name} (section {prog.section_name}, "
            f"attach {prog.attach_type.name}, {len(insns)} insns)\n"
        )
        if disasm:
            _print_disasm(out, parsed, prog, map_ids, insns)
        if isinstance(verdict, VerifierError):
            status = EXIT_REJECTED
            where = f" at insn {verdict.insn_idx}" if verdict.insn_idx >= 0 else ""
            source = getattr(verdict, "source", None)
            if source is not None:
                where += f" ({source.file}:{source.line})"
            out.write(
                f"Verifier: REJECTED{where}: {verdict.reason} "
                f"({verdict.insns_processed} insns processed, {verdict.states_explored} states)\n"
            )
            _indented(out, getattr(verdict, "body", verdict.log))
        else:
            out.write(
                f"Verifier: accepted ({verdict.insns_processed} insns processed, "
                f"{verdict.states_explored} states, stack depth {verdict.stack_depth})\n"
            )
            if verbose:
                _indented(out, verdict.log)
    rejected = sum(isinstance(v, VerifierError) for _, _, v in results)
    out.write(f"\n{n_prog - rejected} of {n_prog} programs verified\n")
    return status


def _print_disasm(
    out: TextIO,
    parsed: ParsedObject,
    prog: ProgramSpec,
    map_ids: dict[MapSpec, int],
    insns: list[Insn],
) -> None:
    """The disassembly, with ``; <source> @ file:NN`` lines when the object has line info
    (like ``bpftool prog dump xlated`` with BTF)."""
    origins: list[tuple[str, int]] = []
    link_program(parsed, prog, map_ids, origins)
    lines = program_lines(parsed.btf_ext, origins)
    last = None
    for text in disassemble(insns):
        idx = int(text.split(":", 1)[0])
        rec = lines.get(idx)
        if rec is not None and rec != last:
            out.write(f"  {rec.annotation()}\n")
            last = rec
        out.write(f"  {text}\n")


def _print_maps(out: TextIO, specs: Sequence[MapSpec], ids: dict[MapSpec, int]) -> None:
    out.write("\nMaps:\n")
    if not specs:
        out.write("  (none)\n")
        return
    rows = [("ID", "NAME", "TYPE", "KEY", "VALUE", "MAX_ENTRIES")]
    for spec in specs:
        kind = MapType(spec.map_type).name.lower()
        if spec.is_global_data:
            kind += " (global data)"
        rows.append(
            (
                str(ids[spec]),
                spec.name,
                kind,
                str(spec.key_size),
                str(spec.value_size),
                str(spec.max_entries),
            )
        )
    _table(out, rows, right={0, 3, 4, 5})


def _table(out: TextIO, rows: Sequence[tuple[str, ...]], right: set[int]) -> None:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(w) if c in right else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  " + "  ".join(cells).rstrip() + "\n")


def _indented(out: TextIO, text: str) -> None:
    for line in text.rstrip("\n").splitlines():
        out.write(f"  | {line}\n")


if __name__ == "__main__":
    sys.exit(main())
