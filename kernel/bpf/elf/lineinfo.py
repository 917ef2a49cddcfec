"""Source lines in verifier logs, from ``.BTF.ext`` line info (clang ``-g``).

Linux prints ``; <source line> @ file.c:NN`` before the first instruction of each
line record in the verifier log; this does the same for a linked ELF program:
`program_lines` maps each linked instruction index back to its section offset
(the linker reports where every slot came from) and so to its line record, and
`annotate_log` inserts the comments before the instruction lines
(``N: (op) ...``) of a log. Kept outside the verifier: the log format is the
contract, so the verifier needs no knowledge of ELF or BTF.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence

from kernel.bpf.elf.btf_ext import BtfExt, LineInfo

_INSN_LINE = re.compile(r"^(\d+): \(")


def program_lines(ext: BtfExt | None, origins: Sequence[tuple[str, int]]) -> dict[int, LineInfo]:
    """``{linked insn index: line record starting there}``; ``origins[i]`` is the
    (section name, slot) instruction ``i`` was copied from."""
    if ext is None:
        return {}
    out: dict[int, LineInfo] = {}
    for idx, (section, slot) in enumerate(origins):
        rec = ext.lines.get(section, {}).get(slot * 8)
        if rec is not None:
            out[idx] = rec
    return out


def source_line(lines: Mapping[int, LineInfo], idx: int) -> LineInfo | None:
    """The line instruction ``idx`` belongs to: the last record at or before it."""
    if idx < 0 or not lines:
        return None
    keys = sorted(lines)
    pos = bisect.bisect_right(keys, idx)
    return lines[keys[pos - 1]] if pos else None


def annotate_log(log: str, lines: Mapping[int, LineInfo]) -> str:
    """``log`` with ``; src @ file:NN`` before each instruction that starts a new line."""
    if not lines:
        return log
    out: list[str] = []
    last: LineInfo | None = None
    for text in log.split("\n"):
        m = _INSN_LINE.match(text)
        if m:
            rec = lines.get(int(m[1]))
            if rec is not None and rec != last:
                out.append(rec.annotation())
                last = rec
        out.append(text)
    return "\n".join(out)
