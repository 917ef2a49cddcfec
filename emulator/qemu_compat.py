"""QEMU's spellings on run-virt's command line: recognised, translated or answered.

People arrive with QEMU habits (`-smp 2`, `-snapshot`, `-kernel`, `-serial stdio`).
Left to click, `-smp` reads as `-s -m p` and gives a baffling error. This table is
consulted before click parses argv: each entry says whether the QEMU option takes a
value and what to do with it:

- ``translate``: rewrite to run-virt's own options (``-serial stdio`` -> ``--serial
  stdio``) and carry on;
- ``ignore``: the behaviour is already what QEMU's option asks for (``-nographic``);
  one note on stderr, and carry on;
- ``refuse``: one precise line saying what is supported and what to use, exit 2.

Options that run-virt implements itself under QEMU's name (e.g. ``-m``, and those other
features add: ``-s``/``-S``, ``-d``/``-D``, ``-monitor``, ``-M``) are simply not in the
table, or are added with `register` by the module that implements them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence


class QemuSpellingError(Exception):
    """A QEMU option run-virt does not offer; the message is the whole answer."""


@dataclasses.dataclass(frozen=True)
class Spelling:
    """One QEMU option and run-virt's answer to it."""

    flag: str  # as QEMU spells it, e.g. "-smp"
    takes_value: bool
    action: str  # "translate" | "ignore" | "refuse"
    message: str = ""  # the note (ignore) or the error (refuse); {value} is substituted
    translate: Callable[[str | None], list[str]] | None = None
    accept: Callable[[str | None], bool] | None = None  # values that mean "no change"


TABLE: dict[str, Spelling] = {}


def register(spelling: Spelling) -> None:
    """Add (or replace) an entry; features that implement a QEMU option register it."""
    TABLE[spelling.flag] = spelling


def unregister(flag: str) -> None:
    """A feature now offers `flag` itself: let click see it."""
    TABLE.pop(flag, None)


def _single_cpu(value: str | None) -> bool:
    return (value or "").split(",")[0].removeprefix("cpus=") == "1"


def _icount(value: str | None) -> list[str]:
    """`-icount shift=N` or `-icount N` -> `--icount-shift N` (icount is the default)."""
    for part in (value or "").split(","):
        shift = part.removeprefix("shift=")
        if shift.isdigit():
            return ["--icount-shift", shift]
    raise QemuSpellingError(
        f"run-virt: error: -icount {value}: use --icount-shift N (icount is the default clock)"
    )


_DEFAULTS = [
    Spelling("-append", True, "translate", translate=lambda v: ["--append", v or ""]),
    Spelling("-serial", True, "translate", translate=lambda v: ["--serial", v or ""]),
    Spelling("-icount", True, "translate", translate=_icount),
    # QEMU's long single-dash names of options run-virt spells with two dashes (the
    # monitor, gdb stub and machine options come with their features).
    Spelling("-monitor", True, "translate", translate=lambda v: ["--monitor", v or ""]),
    Spelling("-gdb", True, "translate", translate=lambda v: ["--gdb", v or ""]),
    Spelling("-machine", True, "translate", translate=lambda v: ["--machine", v or ""]),
    Spelling(
        "-smp",
        True,
        "refuse",
        "run-virt: error: -smp {value}: the machine has exactly one CPU; drop -smp",
        accept=_single_cpu,
    ),
    Spelling(
        "-snapshot",
        False,
        "ignore",
        "run-virt: note: -snapshot is always in effect: the disk image is never written",
    ),
    Spelling(
        "-nographic",
        False,
        "ignore",
        "run-virt: note: -nographic is always in effect: the console is the serial port "
        "(--serial stdio by default)",
    ),
    Spelling(
        "-no-reboot",
        False,
        "ignore",
        "run-virt: note: -no-reboot is always in effect: the machine powers off when init exits",
    ),
    Spelling(
        "-kernel",
        True,
        "refuse",
        "run-virt: error: -kernel {value}: the kernel is built in (the axiomOS model); "
        "choose the first program with --append init=/bin/PROG",
    ),
    Spelling(
        "-initrd",
        True,
        "refuse",
        "run-virt: error: -initrd {value}: there is no initrd; the root file system is the "
        "ext2 image given with --image PATH",
    ),
    Spelling(
        "-bios",
        True,
        "refuse",
        "run-virt: error: -bios {value}: there is no firmware; the kernel starts directly",
    ),
]
for _flag in ("-hda", "-hdb", "-cdrom", "-drive", "-sd", "-blockdev"):
    _DEFAULTS.append(
        Spelling(
            _flag,
            True,
            "refuse",
            f"run-virt: error: {_flag} {{value}}: one read-only ext2 disk is supported; "
            "use --image PATH",
        )
    )
for _flag, _what in (
    ("-cpu", "the CPU model is fixed by --arch (x86_64 or aarch64)"),
    ("-accel", "guest code runs in Unicorn; there is no accelerator choice"),
    ("-netdev", "there is no network device"),
    ("-net", "there is no network device"),
    ("-nic", "there is no network device"),
    ("-device", "the boards' devices are fixed (see the README's device table)"),
    ("-display", "there is no display; the console is the serial port"),
    ("-vga", "there is no display; the console is the serial port"),
    ("-boot", "the kernel boots directly from --image"),
    ("-usb", "there is no USB controller"),
    ("-rtc", "guest time is set by --clock icount|host"),
):
    _DEFAULTS.append(
        Spelling(
            _flag,
            _flag not in ("-usb",),
            "refuse",
            f"run-virt: error: {_flag}: {_what}",
        )
    )
_DEFAULTS.append(
    Spelling(
        "-enable-kvm",
        False,
        "refuse",
        "run-virt: error: -enable-kvm: guest code runs in Unicorn; there is no accelerator",
    )
)
for _spelling in _DEFAULTS:
    register(_spelling)


def preparse(
    args: Sequence[str], value_options: Iterable[str], note: Callable[[str], None]
) -> list[str]:
    """argv with QEMU spellings translated; QemuSpellingError for refused ones.

    `value_options` are run-virt's own options that take a value, so their values
    (``--append -kernel``) are never mistaken for QEMU options."""
    takes_value = set(value_options)
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg in takes_value:
            out.extend(args[i : i + 2])
            i += 2
            continue
        flag, eq, inline = arg.partition("=")
        spelling = TABLE.get(flag)
        if spelling is None:
            out.append(arg)
            i += 1
            continue
        value: str | None = None
        if spelling.takes_value:
            if eq:
                value = inline
            elif i + 1 < len(args):
                value = args[i + 1]
                i += 1
            else:
                raise QemuSpellingError(f"run-virt: error: {flag} needs a value")
        i += 1
        if spelling.action == "translate" and spelling.translate is not None:
            out.extend(spelling.translate(value))
        elif spelling.accept is not None and spelling.accept(value):
            continue
        elif spelling.action == "ignore":
            note(spelling.message.format(value=value))
        else:
            raise QemuSpellingError(spelling.message.format(value=value))
    return out
