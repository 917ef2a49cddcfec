"""``bpf_trace_printk`` formatting with Linux's rules (kernel/bpf/helpers.c).

A deliberate extension of the original (which prints the string as is): a format
containing ``%`` is checked and formatted the way Linux's ``bpf_bprintf_prepare``
+ ``bstr_printf`` do, with up to three arguments (R3-R5):

* ``%d %i %u %x %X`` with length ``l`` / ``ll`` (no length: 32-bit ``int``; the
  argument is truncated, ``%d`` sign-extends it), ``%c`` (low byte), ``%%``;
* ``%s`` (and ``%pks`` / ``%pus``): a NUL-terminated string read from memory the
  program may read; unreadable memory prints as the empty string, as in Linux;
* ``%p`` (also ``%px %pK %ps %pS``): the raw value as 16 hex digits (Linux hashes
  plain ``%p`` unless booted with no_hash_pointers; there is nothing to hide here);
  ``%pI4 %pi4 %pI6 %pi6``: an IPv4/IPv6 address read from memory;
* flags ``0 - + space`` and a decimal width; no precision, no ``#``;
* the output is cut at 1023 characters, as Linux's 1024-byte buffer cuts it.

Anything else -- an unknown conversion, a precision, ``%s`` followed by a letter,
more than three conversions, a non-printable character -- is a `FormatError`
whose text says what and where; the helper returns -EINVAL for it and the
verifier refuses a program whose constant (.rodata) format has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_ARGS = 3  # Linux's MAX_TRACE_PRINTK_VARARGS
MAX_STR = 512  # bytes one %s may print (Linux: MAX_BPRINTF_BUF)
MAX_OUT = 1023  # characters of formatted output (Linux: BPF_TRACE_PRINTK_SIZE - 1)
_FLAGS = "0+- "
_PUNCT = frozenset(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SPACE = frozenset(b" \t\n\v\f\r")
_INT_CONV = "diuxX"


class FormatError(ValueError):
    """A format Linux's bpf_trace_printk would refuse with -EINVAL."""


@dataclass(frozen=True)
class Spec:
    """One conversion: ``kind`` is 'int', 'char', 'str', 'ptr' or 'ip4'/'ip6'."""

    start: int  # offset of the '%'
    end: int  # offset after the conversion
    flags: str
    width: int
    kind: str
    conv: str  # int: d i u x X; ptr: p; str: s; char: c; ip: 'I' or 'i'
    bits: int = 32  # int size


def _ends_word(fmt: bytes, i: int) -> bool:
    return i >= len(fmt) or fmt[i] in _SPACE or fmt[i] in _PUNCT


def parse_format(fmt: bytes) -> list[Spec | bytes]:
    """Split ``fmt`` (no NUL) into literal byte runs and `Spec`s; FormatError if invalid."""
    out: list[Spec | bytes] = []
    lit = bytearray()
    n_specs = 0
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c >= 0x80 or not (0x20 <= c < 0x7F or c in _SPACE):
            raise FormatError(f"non-printable character {c:#04x} at offset {i}")
        if c != ord("%"):
            lit.append(c)
            i += 1
            continue
        if fmt[i + 1 : i + 2] == b"%":
            lit.append(c)
            i += 2
            continue
        if n_specs == MAX_ARGS:
            raise FormatError(f"more than {MAX_ARGS} conversions (at offset {i})")
        n_specs += 1
        if lit:
            out.append(bytes(lit))
            lit.clear()
        spec = _parse_spec(fmt, i)
        out.append(spec)
        i = spec.end
    if lit:
        out.append(bytes(lit))
    return out


def _parse_spec(fmt: bytes, start: int) -> Spec:
    i = start + 1
    flags = ""
    while i < len(fmt) and chr(fmt[i]) in _FLAGS:
        flags += chr(fmt[i])
        i += 1
    width = 0
    while i < len(fmt) and 0x30 <= fmt[i] <= 0x39:
        width = min(width * 10 + fmt[i] - 0x30, MAX_OUT)  # bounded: the output is anyway
        i += 1
    conv = chr(fmt[i]) if i < len(fmt) else ""
    here = f"'{fmt[start : i + 1].decode('ascii', 'replace')}' at offset {start}"
    if conv == "p":
        nxt = chr(fmt[i + 1]) if i + 1 < len(fmt) else ""
        if nxt in ("k", "u") and fmt[i + 2 : i + 3] == b"s":
            if not _ends_word(fmt, i + 3):
                raise FormatError(f"%{nxt}s must be followed by a space, punctuation or the end")
            return Spec(start, i + 3, flags, width, "str", "s")
        if nxt in ("I", "i") and fmt[i + 2 : i + 3] in (b"4", b"6"):
            return Spec(start, i + 3, flags, width, "ip" + chr(fmt[i + 2]), nxt)
        if nxt == "" or _ends_word(fmt, i + 1) or nxt in "KxsS":
            end = i + 2 if nxt in ("K", "x", "s", "S") else i + 1
            return Spec(start, end, flags, width, "ptr", "p", 64)
        raise FormatError(f"unsupported pointer conversion '%p{nxt}' at offset {start}")
    if conv == "s":
        if not _ends_word(fmt, i + 1):
            raise FormatError(
                f"{here}: %s must be followed by a space, punctuation or the end of the format"
            )
        return Spec(start, i + 1, flags, width, "str", "s")
    if conv == "c":
        return Spec(start, i + 1, flags, width, "char", "c", 8)
    bits = 32
    if conv == "l":
        bits, i = 64, i + 1
        if fmt[i : i + 1] == b"l":
            i += 1
        conv = chr(fmt[i]) if i < len(fmt) else ""
    if conv and conv in _INT_CONV:
        return Spec(start, i + 1, flags, width, "int", conv, bits)
    if not conv:
        raise FormatError(f"incomplete conversion at offset {start} (end of format)")
    shown = fmt[start : i + 1].decode("ascii", "replace")
    raise FormatError(f"unsupported conversion '{shown}' at offset {start}")


def count_args(fmt: bytes) -> int:
    """How many argument registers (R3..) a valid format consumes."""
    return sum(isinstance(p, Spec) for p in parse_format(fmt))


def _pad(text: str, spec: Spec, numeric: bool) -> str:
    if len(text) >= spec.width:
        return text
    if "-" in spec.flags:
        return text.ljust(spec.width)
    if numeric and "0" in spec.flags:
        sign = text[0] if text[:1] in ("-", "+", " ") else ""
        return sign + text[len(sign) :].rjust(spec.width - len(sign), "0")
    return text.rjust(spec.width)


def _int_text(spec: Spec, value: int) -> str:
    mask = (1 << spec.bits) - 1
    v = value & mask
    if spec.conv in "di":
        if v >> (spec.bits - 1):
            v -= 1 << spec.bits
        sign = "+" if "+" in spec.flags else " " if " " in spec.flags else ""
        return str(v) if v < 0 else sign + str(v)
    if spec.conv == "u":
        return str(v)
    return format(v, "x" if spec.conv == "x" else "X")


def _ip_text(spec: Spec, raw: bytes | None) -> str:
    if raw is None:
        return ""
    if spec.kind == "ip4":
        return ".".join(f"{b:03d}" if spec.conv == "i" else str(b) for b in raw)
    if spec.conv == "i":
        return raw.hex()
    return ":".join(raw[k : k + 2].hex() for k in range(0, 16, 2))


def format_printk(
    fmt: bytes,
    args: tuple[int, ...],
    read_str: Callable[[int], bytes | None],
    read_mem: Callable[[int, int], bytes | None],
) -> str:
    """The text ``fmt`` produces with ``args`` (R3-R5); FormatError if invalid.

    ``read_str(addr)`` returns the NUL-terminated bytes at addr (None: unreadable),
    ``read_mem(addr, n)`` n bytes (None: unreadable) -- the program's view of memory.
    """
    parts = parse_format(fmt)
    out: list[str] = []
    k = 0
    for part in parts:
        if isinstance(part, bytes):
            out.append(part.decode("ascii"))
            continue
        value = args[k] if k < len(args) else 0
        k += 1
        if part.kind == "int":
            out.append(_pad(_int_text(part, value), part, True))
        elif part.kind == "char":
            out.append(_pad(chr(value & 0xFF), part, False))
        elif part.kind == "ptr":
            out.append(_pad(f"{value & ((1 << 64) - 1):016x}", part, True))
        elif part.kind == "str":
            raw = read_str(value)
            text = "" if raw is None else raw[:MAX_STR].decode("utf-8", errors="replace")
            out.append(_pad(text, part, False))
        else:
            raw = read_mem(value, 4 if part.kind == "ip4" else 16)
            out.append(_pad(_ip_text(part, raw), part, False))
    return "".join(out)[:MAX_OUT]
