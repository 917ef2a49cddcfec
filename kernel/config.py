"""Kernel options, most of them from the kernel command line (Linux conventions).

`init=/bin/X` picks the first process. Words without `=` are passed to init as
argv[1..], `key=value` words the kernel does not know become init's environment,
and everything after `--` goes to init's argv verbatim. `loglevel=off|error|warn|info`
(an emulator extension) sets the kernel log level; without it the platform decides
(INFO, or off on the Raspberry Pi 5 as in axiomOS).
"""

from __future__ import annotations

import dataclasses
import shlex

KNOWN_PARAMS = ("init", "loglevel")
LOGLEVELS = ("off", "error", "warn", "info")
DEFAULT_INIT = "/bin/init"
DEFAULT_MAX_PROCESSES = 64


class CmdlineError(ValueError):
    """The command line cannot be parsed; the message says why, in one line."""


def split_cmdline(cmdline: str) -> list[str]:
    """Shell-style words; the text must be UTF-8 (init gets it as bytes) with balanced
    quotes."""
    try:
        cmdline.encode()
    except UnicodeEncodeError:
        raise CmdlineError("the kernel command line is not valid UTF-8") from None
    try:
        return shlex.split(cmdline)
    except ValueError as err:
        raise CmdlineError(f"bad kernel command line {cmdline!r}: {err}") from None


@dataclasses.dataclass
class KernelConfig:
    """What the kernel needs to know at boot."""

    init_path: str = DEFAULT_INIT
    init_args: list[str] = dataclasses.field(default_factory=list)
    init_env: list[str] = dataclasses.field(default_factory=list)
    memory: int = 128 << 20
    max_processes: int = DEFAULT_MAX_PROCESSES
    trace_syscalls: bool = False
    cmdline: str = ""
    loglevel: str | None = None  # None: the platform's default

    @classmethod
    def from_cmdline(cls, cmdline: str, **options: object) -> KernelConfig:
        config = cls(cmdline=cmdline, **options)  # type: ignore[arg-type]
        words = split_cmdline(cmdline)
        for i, word in enumerate(words):
            if word == "--":
                config.init_args.extend(words[i + 1 :])
                break
            key, eq, value = word.partition("=")
            if eq and key == "init":
                config.init_path = value
            elif eq and key == "loglevel":
                if value.lower() not in LOGLEVELS:
                    choices = ", ".join(LOGLEVELS)
                    raise CmdlineError(
                        f"bad kernel command line: loglevel={value}: use one of {choices}"
                    )
                config.loglevel = value.lower()
            elif eq:
                config.init_env.append(word)
            else:
                config.init_args.append(word)
        return config
