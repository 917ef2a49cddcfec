"""Reading saved serial logs in the kernel's log format, and the `axiom-log` command.

A kernel line is `<colour><LEVEL>ESC[0m <where> [<module>] <message>`; anything
else on the console (program output, banners) is kept as a plain line. Colours and
`\\r` are stripped.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import click

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOG_LINE = re.compile(
    r"^(?P<level>ERROR|WARN|INFO|DEBUG)\s+(?P<where>boot|cpu(?P<cpu>\d+) pid\s*(?P<pid>\d+))"
    r" \[(?P<module>[^\]]+)\] (?P<message>.*)$"
)
SEVERITY = {"ERROR": 0, "WARN": 1, "INFO": 2, "DEBUG": 3}


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One console line; `level` is None for output that is not a kernel log line."""

    number: int
    text: str
    level: str | None = None
    cpu: int | None = None
    pid: int | None = None
    module: str | None = None
    message: str | None = None


# A kernel record can start in the middle of a console line, right after program output
# that had no newline yet (`[1/5] Creating array map (counter)... INFO ...`).
RECORD_START = re.compile(r"(?=\x1b\[[0-9;]*m(?:ERROR|WARN |INFO |DEBUG)\x1b\[0m )")


def parse_log(text: str) -> list[LogLine]:
    """Console text -> lines; a kernel record inside a line becomes its own entry."""
    out = []
    for number, line in enumerate(text.replace("\r", "").split("\n"), start=1):
        for raw in RECORD_START.split(line) if "\x1b[" in line else (line,):
            if raw or line == "":
                out.append(_parse_one(number, raw))
    if out and out[-1].text == "":
        out.pop()
    return out


def _parse_one(number: int, raw: str) -> LogLine:
    clean = ANSI.sub("", raw)
    match = LOG_LINE.match(clean)
    if match is None:
        return LogLine(number, clean)
    return LogLine(
        number,
        clean,
        match["level"],
        int(match["cpu"]) if match["cpu"] else None,
        int(match["pid"]) if match["pid"] else None,
        match["module"],
        match["message"],
    )


def select(
    lines: list[LogLine],
    *,
    level: str | None = None,
    only: str | None = None,
    module: str | None = None,
    pattern: str | None = None,
    pid: int | None = None,
    console: bool = False,
) -> list[LogLine]:
    """Filter: `level` = that severity or worse; `module` matches a path prefix."""
    regex = re.compile(pattern) if pattern else None
    picked = []
    for line in lines:
        if line.level is None:
            if not console or level or only or module or pid is not None:
                continue
        else:
            if level and SEVERITY[line.level] > SEVERITY[level]:
                continue
            if only and line.level != only:
                continue
            mod = line.module or ""  # a kernel line (level set) always has one
            if module and not (mod == module or mod.startswith(module + "::")):
                continue
            if pid is not None and line.pid != pid:
                continue
        if regex and not regex.search(line.message if line.message is not None else line.text):
            continue
        picked.append(line)
    return picked


LEVELS = click.Choice(list(SEVERITY))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("logfile", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--level", type=LEVELS, help="This level and more severe (e.g. WARN: WARN+ERROR).")
@click.option("--only", type=LEVELS, help="Exactly this level.")
@click.option("--module", help="Module path or prefix, e.g. kernel::bpf.")
@click.option("--grep", "pattern", help="Regular expression the message must match.")
@click.option("--pid", type=int, help="Lines logged in this process's context (x86_64).")
@click.option("--console", is_flag=True, help="Include program output lines too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--count", is_flag=True, help="Print only the number of matching lines.")
def main(
    logfile: Path,
    level: str | None,
    only: str | None,
    module: str | None,
    pattern: str | None,
    pid: int | None,
    console: bool,
    as_json: bool,
    count: bool,
) -> None:
    """Filter a saved serial log (from `run-virt --serial file:LOG`)."""
    try:
        text = logfile.read_bytes().decode(errors="replace")
    except OSError as err:
        click.echo(f"axiom-log: error: cannot read {logfile}: {err.strerror}", err=True)
        sys.exit(2)
    try:
        picked = select(
            parse_log(text),
            level=level,
            only=only,
            module=module,
            pattern=pattern,
            pid=pid,
            console=console,
        )
    except re.error as err:
        click.echo(f"axiom-log: error: bad --grep pattern: {err}", err=True)
        sys.exit(2)
    if count:
        click.echo(len(picked))
    for line in [] if count else picked:
        if as_json:
            click.echo(json.dumps(dataclasses.asdict(line)))
        elif line.level is None:
            click.echo(f"{line.number}: {line.text}")
        else:
            where = f"cpu{line.cpu} pid {line.pid}" if line.cpu is not None else "boot"
            click.echo(f"{line.number}: {line.level:<5} {where} [{line.module}] {line.message}")
    sys.exit(0 if picked else 1)  # as grep: 1 when nothing matched, --count included
