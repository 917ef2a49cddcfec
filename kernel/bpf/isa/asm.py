"""A small eBPF text assembler, so tests and tools read as programs.

Syntax (one instruction per line; ``;``, ``#`` and ``//`` start a comment)::

    start:                       ; a label names the index of the next slot
    mov r0, 1                    ; ALU ops: no suffix or "64" = ALU64, "32" = ALU
    mov32 w0, -1                 ; wN is accepted as a synonym of rN
    add r1, r2 / add32 r1, 5     ; add sub mul div sdiv mod smod or and xor
                                 ; lsh rsh arsh mov (reg or imm source)
    neg r1 / neg32 r1
    movsx8 r0, r1                ; ALU64 MOVSX (movsx8 movsx16 movsx32)
    movsx8_32 w0, w1             ; ALU32 MOVSX (movsx8_32 movsx16_32)
    le16 r1 / be32 r1            ; le16 le32 le64 be16 be32 be64 (ALU | END)
    bswap64 r1                   ; bswap16 bswap32 bswap64 (ALU64 | END)
    ldxdw r0, [r1+8]             ; ldxb ldxh ldxw ldxdw; [r1], [r1+off], [r1-off]
    ldxsh r0, [r10-2]            ; sign-extending loads: ldxsb ldxsh ldxsw
    stw [r10-4], 7               ; stb sth stw stdw: store immediate
    stxdw [r10-8], r1            ; stxb stxh stxw stxdw: store register
    atomic_add64 [r1+0], r2      ; atomic_{add,or,and,xor}{32,64}
    atomic_fetch_add32 [r1], r2  ; atomic_fetch_{add,or,and,xor}{32,64}
    xchg64 [r1], r2              ; xchg32/64, cmpxchg32/64 (compares with r0)
    lddw r1, 0x1122334455667788  ; 64-bit immediate, two slots
    lddw r1, map:3               ; map reference (src=1), imm = map id 3
    ja label / ja +3 / ja -2     ; JMP | JA, 16-bit offset
    ja32 label                   ; JMP32 | JA, 32-bit offset in imm
    jeq r1, 0, label             ; jeq jne jgt jge jlt jle jset jsgt jsge jslt jsle
    jsgt32 r1, r2, +4            ; "32" suffix = JMP32, compares the low 32 bits
    call 5                       ; helper by id ...
    call map_lookup_elem         ; ... or by `kernel.abi.Helper` name (case-insensitive)
    call my_func                 ; a label: BPF-to-BPF call (src=1, imm = rel. offset)
    exit
    ldabsw 12 / ldindh r2, 4     ; legacy packet loads (LD | ABS / IND), for completeness
    .insn 0x07, 1, 0, 0, 5       ; raw slot: opcode, dst, src, off, imm (any values)

Jump and call targets are a label or a signed relative offset (``+3``, ``-1``, ``0``).
Numbers are decimal or ``0x`` hex, optionally negative; 32-bit immediates accept
``-2**31 .. 2**32-1`` (the upper half wraps to negative, as the encoding does).
Errors raise `AsmError` (a ValueError) naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kernel.abi import Helper
from kernel.bpf.isa import opcodes as op
from kernel.bpf.isa.insn import Insn, encode, ld_imm64


class AsmError(ValueError):
    """A syntax or range error, with the 1-based source line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


_ALU_OPS = {
    "add": (op.ADD, 0),
    "sub": (op.SUB, 0),
    "mul": (op.MUL, 0),
    "div": (op.DIV, 0),
    "sdiv": (op.DIV, 1),
    "mod": (op.MOD, 0),
    "smod": (op.MOD, 1),
    "or": (op.OR, 0),
    "and": (op.AND, 0),
    "xor": (op.XOR, 0),
    "lsh": (op.LSH, 0),
    "rsh": (op.RSH, 0),
    "arsh": (op.ARSH, 0),
    "mov": (op.MOV, 0),
}
_JMP_OPS = {
    name: code
    for code, name in op.JMP_OP_NAMES.items()
    if code in op.COND_JMP_OPS  # conditional jumps only
}
_SIZES = {"b": op.B, "h": op.H, "w": op.W, "dw": op.DW}

_ALU_RE = re.compile(r"^(" + "|".join(_ALU_OPS) + r"|neg)(32|64)?$")
_JMP_RE = re.compile(r"^(" + "|".join(_JMP_OPS) + r")(32|64)?$")
_MOVSX_RE = re.compile(r"^movsx(8|16|32)(_32)?$")
_END_RE = re.compile(r"^(le|be|bswap)(16|32|64)$")
_LDX_RE = re.compile(r"^ldx(s)?(b|h|w|dw)$")
_ST_RE = re.compile(r"^st(x)?(b|h|w|dw)$")
_ATOMIC_RE = re.compile(r"^(?:atomic_)?(fetch_)?(add|or|and|xor|xchg|cmpxchg)(32|64)$")
_LEGACY_RE = re.compile(r"^ld(abs|ind)(b|h|w|dw)$")
_MEM_RE = re.compile(r"^\[\s*([rw]\d+)\s*(?:([+-])\s*(\w+)\s*)?\]$")
_LABEL_RE = re.compile(r"^([A-Za-z_.$][\w.$]*)\s*:(.*)$")
_NAME_RE = re.compile(r"^[A-Za-z_.$][\w.$]*$")


@dataclass(slots=True)
class _Line:
    lineno: int
    mnemonic: str
    operands: list[str]
    index: int  # slot index of this instruction


def assemble(text: str) -> list[Insn]:
    """Assemble source text into instruction slots (see the module docstring)."""
    lines, labels = _parse(text)
    out: list[Insn] = []
    for line in lines:
        try:
            out.extend(_assemble_line(line, labels))
        except AsmError:
            raise
        except ValueError as e:
            raise AsmError(line.lineno, f"{e} in {line.mnemonic!r}") from None
    return out


def assemble_bytes(text: str) -> bytes:
    """Assemble straight to the wire format."""
    return encode(assemble(text))


# ---------------------------------------------------------------- pass 1: lines and labels


def _parse(text: str) -> tuple[list[_Line], dict[str, int]]:
    lines: list[_Line] = []
    labels: dict[str, int] = {}
    index = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        src = re.split(r"[;#]|//", raw, maxsplit=1)[0].strip()
        while m := _LABEL_RE.match(src):
            name = m.group(1)
            if name in labels:
                raise AsmError(lineno, f"duplicate label {name!r}")
            labels[name] = index
            src = m.group(2).strip()
        if not src:
            continue
        parts = src.split(None, 1)
        mnemonic = parts[0].lower()
        operands = _split_operands(parts[1]) if len(parts) > 1 else []
        lines.append(_Line(lineno, mnemonic, operands, index))
        index += 2 if mnemonic == "lddw" else 1
    return lines, labels


def _split_operands(s: str) -> list[str]:
    """Split on commas that are not inside ``[...]``."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


# ---------------------------------------------------------------- pass 2: encoding


def _assemble_line(line: _Line, labels: dict[str, int]) -> list[Insn]:
    m, ops, n = line.mnemonic, line.operands, line.lineno

    def want(count: int) -> None:
        if len(ops) != count:
            raise AsmError(n, f"{m!r} takes {count} operand(s), got {len(ops)}")

    if m == ".insn":
        want(5)
        opcode, dst, src = (_reg_or_num(x) for x in ops[:3])
        if not (0 <= opcode <= 0xFF and 0 <= dst <= 0xF and 0 <= src <= 0xF):
            raise AsmError(n, "'.insn' opcode must fit 8 bits, dst and src 4 bits")
        return [Insn(opcode, dst, src, _int(ops[3], 16), _int(ops[4], 32))]
    if m == "exit":
        want(0)
        return [Insn(op.EXIT_OP)]
    if m == "lddw":
        want(2)
        dst = _reg(ops[0])
        if ops[1].lower().startswith("map:"):
            return list(ld_imm64(dst, _int(ops[1][4:], 32), op.BPF_PSEUDO_MAP_FD))
        return list(ld_imm64(dst, _int(ops[1], 64)))
    if m == "call":
        want(1)
        return [_call(ops[0], line, labels)]
    if m in ("ja", "ja32"):
        want(1)
        rel = _target(ops[0], line, labels, 16 if m == "ja" else 32)
        if m == "ja":
            return [Insn(op.JA_OP, 0, 0, rel, 0)]
        return [Insn(op.JA32_OP, 0, 0, 0, rel)]
    if mt := _JMP_RE.match(m):
        want(3)
        cls = op.JMP32 if mt.group(2) == "32" else op.JMP
        code = cls | _JMP_OPS[mt.group(1)]
        rel = _target(ops[2], line, labels, 16)
        dst = _reg(ops[0])
        if _is_reg(ops[1]):
            return [Insn(code | op.X, dst, _reg(ops[1]), rel, 0)]
        return [Insn(code | op.K, dst, 0, rel, _int(ops[1], 32))]
    if mt := _ALU_RE.match(m):
        cls = op.ALU if mt.group(2) == "32" else op.ALU64
        if mt.group(1) == "neg":
            want(1)
            return [Insn(cls | op.NEG, _reg(ops[0]))]
        want(2)
        code, off = _ALU_OPS[mt.group(1)]
        if _is_reg(ops[1]):
            return [Insn(cls | code | op.X, _reg(ops[0]), _reg(ops[1]), off, 0)]
        return [Insn(cls | code | op.K, _reg(ops[0]), 0, off, _int(ops[1], 32))]
    if mt := _MOVSX_RE.match(m):
        want(2)
        bits, is32 = int(mt.group(1)), bool(mt.group(2))
        if is32 and bits == 32:
            raise AsmError(n, "movsx32_32 does not exist (ALU32 MOVSX takes 8 or 16)")
        cls = op.ALU if is32 else op.ALU64
        return [Insn(cls | op.MOV | op.X, _reg(ops[0]), _reg(ops[1]), bits, 0)]
    if mt := _END_RE.match(m):
        want(1)
        kind, bits = mt.group(1), int(mt.group(2))
        code = {
            "le": op.ALU | op.END | op.TO_LE,
            "be": op.ALU | op.END | op.TO_BE,
            "bswap": op.ALU64 | op.END,
        }[kind]
        return [Insn(code, _reg(ops[0]), 0, 0, bits)]
    if mt := _LDX_RE.match(m):
        want(2)
        signed, size = bool(mt.group(1)), _SIZES[mt.group(2)]
        if signed and size == op.DW:
            raise AsmError(n, "ldxsdw does not exist (MEMSX takes b, h or w)")
        mode = op.MEMSX if signed else op.MEM
        base, off = _mem(ops[1], n)
        return [Insn(op.LDX | mode | size, _reg(ops[0]), base, off, 0)]
    if mt := _ST_RE.match(m):
        want(2)
        size = _SIZES[mt.group(2)]
        base, off = _mem(ops[0], n)
        if mt.group(1):
            return [Insn(op.STX | op.MEM | size, base, _reg(ops[1]), off, 0)]
        return [Insn(op.ST | op.MEM | size, base, 0, off, _int(ops[1], 32))]
    if mt := _ATOMIC_RE.match(m):
        want(2)
        fetch, name, width = bool(mt.group(1)), mt.group(2), mt.group(3)
        if name in ("xchg", "cmpxchg"):
            if fetch:
                raise AsmError(n, f"{name} always fetches; drop 'fetch_'")
            imm = op.XCHG if name == "xchg" else op.CMPXCHG
        else:
            imm = {"add": op.ATOMIC_ADD, "or": op.ATOMIC_OR, "and": op.ATOMIC_AND}.get(
                name, op.ATOMIC_XOR
            ) | (op.FETCH if fetch else 0)
        size = op.DW if width == "64" else op.W
        base, off = _mem(ops[0], n)
        return [Insn(op.STX | op.ATOMIC | size, base, _reg(ops[1]), off, imm)]
    if mt := _LEGACY_RE.match(m):
        size = _SIZES[mt.group(2)]
        if mt.group(1) == "abs":
            want(1)
            return [Insn(op.LD | op.ABS | size, 0, 0, 0, _int(ops[0], 32))]
        want(2)
        return [Insn(op.LD | op.IND | size, 0, _reg(ops[0]), 0, _int(ops[1], 32))]
    raise AsmError(n, f"unknown mnemonic {m!r}")


def _call(target: str, line: _Line, labels: dict[str, int]) -> Insn:
    if target in labels:
        rel = labels[target] - (line.index + 1)
        return Insn(op.CALL_OP, 0, op.BPF_PSEUDO_CALL, 0, rel)
    if _NAME_RE.match(target):
        try:
            return Insn(op.CALL_OP, 0, 0, 0, int(Helper[target.upper()]))
        except KeyError:
            raise AsmError(line.lineno, f"unknown label or helper {target!r}") from None
    return Insn(op.CALL_OP, 0, 0, 0, _int(target, 32))


def _target(tok: str, line: _Line, labels: dict[str, int], bits: int) -> int:
    if tok in labels:
        rel = labels[tok] - (line.index + 1)
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not lo <= rel <= hi:
            raise AsmError(line.lineno, f"label {tok!r} out of {bits}-bit jump range")
        return rel
    if _NAME_RE.match(tok):
        raise AsmError(line.lineno, f"unknown label {tok!r}")
    value = _parse_num(tok)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if not lo <= value <= hi:
        raise AsmError(line.lineno, f"jump offset {value} out of {bits}-bit range")
    return value


def _mem(tok: str, lineno: int) -> tuple[int, int]:
    m = _MEM_RE.match(tok.strip())
    if not m:
        raise AsmError(lineno, f"bad memory operand {tok!r} (want [rN], [rN+off], [rN-off])")
    base = _reg(m.group(1))
    off = 0
    if m.group(2):
        off = _parse_num(m.group(3))
        if m.group(2) == "-":
            off = -off
    if not -0x8000 <= off <= 0x7FFF:
        raise AsmError(lineno, f"memory offset {off} out of 16-bit range")
    return base, off


def _is_reg(tok: str) -> bool:
    return bool(re.fullmatch(r"[rw]\d+", tok.strip().lower()))


def _reg(tok: str) -> int:
    t = tok.strip().lower()
    if not _is_reg(t) or int(t[1:]) > 10:
        raise ValueError(f"bad register {tok!r}")
    return int(t[1:])


def _reg_or_num(tok: str) -> int:
    if _is_reg(tok):
        return int(tok.strip()[1:])
    return _parse_num(tok)


def _parse_num(tok: str) -> int:
    try:
        return int(tok.strip().replace("_", ""), 0)
    except ValueError:
        raise ValueError(f"bad number {tok!r}") from None


def _int(tok: str, bits: int) -> int:
    """Parse an immediate of ``bits`` width; accepts signed or unsigned spelling."""
    v = _parse_num(tok)
    if not -(1 << (bits - 1)) <= v < (1 << bits):
        raise ValueError(f"immediate {v} does not fit in {bits} bits")
    if bits == 64:
        return v & ((1 << 64) - 1)
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v
