"""The ``.BTF`` section: BPF Type Format, the type information clang ``-g`` emits.

The loader needs BTF for libbpf-style maps (``__uint``/``__type`` members of a
struct in ``SEC(".maps")`` are only visible as types) and for the source file
names of ``.BTF.ext`` line info. No maintained Python BTF library exists, so this
is a small validating reader of the format in Linux's
``Documentation/bpf/btf.rst``: a header, a type section (ids from 1; 0 is void)
and a string section. Every kind clang emits is decoded; anything inconsistent
(unknown kind, a reference to a type id that does not exist, a name outside the
string section, an INT wider than its size, a struct member past its end, a
modifier loop) is refused with ``BpfError(EINVAL)`` naming the offending type id,
the way the kernel's BTF checker reports ``[id] KIND ...``.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field, replace

from kernel.abi import Errno
from kernel.bpf.errors import BpfError

BTF_MAGIC = 0xEB9F
HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type/str off+len
TYPE = struct.Struct("<III")  # name_off, info, size_or_type
U32 = struct.Struct("<I")
PAIR = struct.Struct("<II")
TRIPLE = struct.Struct("<III")
MAX_TYPES = 1 << 20
MAX_RESOLVE_DEPTH = 32  # Linux's MAX_RESOLVE_DEPTH


class Kind(enum.IntEnum):
    """BTF_KIND_* (include/uapi/linux/btf.h)."""

    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


# Kinds whose size_or_type field is a type id (the rest carry a size or nothing).
_REFERENCING = frozenset(
    {
        Kind.PTR,
        Kind.TYPEDEF,
        Kind.VOLATILE,
        Kind.CONST,
        Kind.RESTRICT,
        Kind.FUNC,
        Kind.VAR,
        Kind.DECL_TAG,
        Kind.TYPE_TAG,
    }
)
# Qualifiers and typedefs: skipped when resolving "what is this really".
MODIFIERS = frozenset({Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})


@dataclass(frozen=True)
class Member:
    """A struct/union member, an enum value, a function parameter or a DATASEC entry.

    ``type`` is the member/parameter/variable type id (0 for enum values);
    ``offset`` is the bit offset (struct/union), the value (enum) or byte offset
    (DATASEC); ``size`` is only used by DATASEC entries.
    """

    name: str
    type: int = 0
    offset: int = 0
    size: int = 0


@dataclass(frozen=True)
class BtfType:
    """One decoded type. Fields not meaningful for a kind are 0 / empty."""

    id: int
    kind: Kind
    name: str
    size: int = 0  # INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT
    type: int = 0  # referencing kinds; ARRAY element; FUNC_PROTO return
    kind_flag: bool = False
    vlen: int = 0
    members: tuple[Member, ...] = ()
    # INT: encoding bits (1 signed, 2 char, 4 bool), bit offset, bit count
    int_encoding: int = 0
    int_offset: int = 0
    int_bits: int = 0
    # ARRAY
    index_type: int = 0
    nelems: int = 0
    # VAR linkage / FUNC linkage (vlen) / DECL_TAG component index
    linkage: int = 0
    component_idx: int = -1

    def describe(self) -> str:
        """``[5] STRUCT 'val'`` -- how errors name a type."""
        shown = f" '{self.name}'" if self.name else ""
        return f"[{self.id}] {self.kind.name}{shown}"


@dataclass
class Btf:
    """A parsed ``.BTF``: ``types[id]`` (index 0 is None, the void type)."""

    types: list[BtfType | None]
    strings: bytes = b""
    _by_name: dict[tuple[Kind, str], BtfType] = field(default_factory=dict, repr=False)

    def __getitem__(self, type_id: int) -> BtfType:
        t = self.types[type_id] if 0 < type_id < len(self.types) else None
        if t is None:
            raise BpfError(Errno.EINVAL, f"BTF: type id {type_id} does not exist")
        return t

    def __len__(self) -> int:
        return len(self.types) - 1

    def string(self, offset: int) -> str:
        """The NUL-terminated string at ``offset`` (validated by the parser)."""
        end = self.strings.index(b"\0", offset)
        return self.strings[offset:end].decode("utf-8", errors="replace")

    def find(self, kind: Kind, name: str) -> BtfType | None:
        """The first type of ``kind`` called ``name`` (e.g. DATASEC '.maps')."""
        if not self._by_name:
            for t in self.types[1:]:
                assert t is not None
                self._by_name.setdefault((t.kind, t.name), t)
        return self._by_name.get((kind, name))

    def skip_modifiers(self, type_id: int) -> BtfType | None:
        """Follow typedef/const/volatile/restrict/type_tag; None for void."""
        for _ in range(MAX_RESOLVE_DEPTH):
            if type_id == 0:
                return None
            t = self[type_id]
            if t.kind not in MODIFIERS:
                return t
            type_id = t.type
        raise _bad(self[type_id], "type chain too deep (a loop?)")

    def resolve_size(self, type_id: int, _depth: int = 0) -> int:
        """Byte size of a type, as ``sizeof`` would give it."""
        if _depth > MAX_RESOLVE_DEPTH:
            raise _bad(self[type_id], "type chain too deep (a loop?)")
        t = self.skip_modifiers(type_id)
        if t is None:
            raise BpfError(Errno.EINVAL, "BTF: void has no size")
        if t.kind in (Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.ENUM64, Kind.FLOAT):
            return t.size
        if t.kind == Kind.DATASEC:
            return t.size
        if t.kind == Kind.PTR:
            return 8
        if t.kind == Kind.ARRAY:
            return t.nelems * self.resolve_size(t.type, _depth + 1)
        if t.kind == Kind.VAR:
            return self.resolve_size(t.type, _depth + 1)
        raise _bad(t, "has no size")


def _bad(t: BtfType | int, why: str) -> BpfError:
    what = t.describe() if isinstance(t, BtfType) else f"[{t}]"
    return BpfError(Errno.EINVAL, f"BTF: type {what}: {why}")


def parse_btf(data: bytes) -> Btf:
    """Decode and validate a ``.BTF`` section; BpfError(EINVAL) when malformed."""
    data = bytes(data)
    if len(data) < HEADER.size:
        raise BpfError(Errno.EINVAL, f"BTF: section is {len(data)} bytes, shorter than its header")
    magic, version, _flags, hdr_len, type_off, type_len, str_off, str_len = HEADER.unpack_from(data)
    if magic != BTF_MAGIC:
        raise BpfError(Errno.EINVAL, f"BTF: bad magic {magic:#06x} (expected {BTF_MAGIC:#06x})")
    if version != 1:
        raise BpfError(Errno.EINVAL, f"BTF: unsupported version {version}")
    if hdr_len < HEADER.size or hdr_len > len(data):
        raise BpfError(Errno.EINVAL, f"BTF: bad header length {hdr_len}")
    if any(data[HEADER.size : hdr_len]):
        raise BpfError(Errno.EINVAL, "BTF: unknown non-zero header fields")
    body = data[hdr_len:]
    for what, off, length in (("type", type_off, type_len), ("string", str_off, str_len)):
        if off + length > len(body):
            raise BpfError(Errno.EINVAL, f"BTF: {what} section lies outside the data")
    if type_off % 4 or type_len % 4:
        raise BpfError(Errno.EINVAL, "BTF: type section is not 4-byte aligned")
    if (
        type_len
        and str_len
        and max(type_off, str_off) < min(type_off + type_len, str_off + str_len)
    ):
        raise BpfError(Errno.EINVAL, "BTF: type and string sections overlap")
    strings = body[str_off : str_off + str_len]
    if str_len == 0 or strings[0] != 0 or strings[-1] != 0:
        raise BpfError(Errno.EINVAL, "BTF: string section must start and end with a NUL")
    btf = Btf([None], strings)
    _Decoder(btf, body[type_off : type_off + type_len]).run()
    _check_references(btf)
    return btf


class _Decoder:
    """Walks the type section record by record."""

    def __init__(self, btf: Btf, raw: bytes) -> None:
        self.btf = btf
        self.raw = raw
        self.pos = 0

    def _take(self, st: struct.Struct, type_id: int) -> tuple[int, ...]:
        if self.pos + st.size > len(self.raw):
            raise _bad(type_id, "record runs past the end of the type section")
        vals = st.unpack_from(self.raw, self.pos)
        self.pos += st.size
        return vals

    def _name(self, off: int, type_id: int) -> str:
        if off >= len(self.btf.strings):
            raise _bad(type_id, f"name offset {off} is outside the string section")
        return self.btf.string(off)

    def run(self) -> None:
        while self.pos < len(self.raw):
            type_id = len(self.btf.types)
            if type_id > MAX_TYPES:
                raise BpfError(Errno.E2BIG, f"BTF: more than {MAX_TYPES} types")
            self.btf.types.append(self._one(type_id))

    def _one(self, tid: int) -> BtfType:
        name_off, info, size_or_type = self._take(TYPE, tid)
        vlen, raw_kind, kflag = info & 0xFFFF, (info >> 24) & 0x1F, bool(info >> 31)
        if info & 0x60FF0000:
            raise _bad(tid, f"reserved info bits set ({info:#010x})")
        try:
            kind = Kind(raw_kind)
        except ValueError:
            raise _bad(tid, f"unknown kind {raw_kind}") from None
        name = self._name(name_off, tid)
        base = BtfType(tid, kind, name, kind_flag=kflag, vlen=vlen)
        t = self._decode(base, size_or_type)
        _check_shape(t)
        return t

    def _decode(self, t: BtfType, sot: int) -> BtfType:
        k, tid, n = t.kind, t.id, t.vlen
        if k in _REFERENCING:
            extra: dict = {"type": sot}
            if k == Kind.VAR:
                extra["linkage"] = self._take(U32, tid)[0]
            elif k == Kind.DECL_TAG:
                comp = self._take(U32, tid)[0]
                extra["component_idx"] = comp - (1 << 32) if comp >> 31 else comp
            elif k == Kind.FUNC:
                extra["linkage"] = n
            return _with(t, **extra)
        if k == Kind.INT:
            word = self._take(U32, tid)[0]
            return _with(
                t,
                size=sot,
                int_encoding=(word >> 24) & 0xF,
                int_offset=(word >> 16) & 0xFF,
                int_bits=word & 0xFF,
            )
        if k == Kind.ARRAY:
            elem, index, nelems = self._take(TRIPLE, tid)
            return _with(t, type=elem, index_type=index, nelems=nelems)
        if k in (Kind.STRUCT, Kind.UNION):
            members = []
            for _ in range(n):
                m_name, m_type, m_off = self._take(TRIPLE, tid)
                members.append(Member(self._name(m_name, tid), m_type, m_off))
            return _with(t, size=sot, members=tuple(members))
        if k == Kind.ENUM:
            values = []
            for _ in range(n):
                v_name, val = self._take(PAIR, tid)
                signed = val - (1 << 32) if t.kind_flag and val >> 31 else val
                values.append(Member(self._name(v_name, tid), 0, signed))
            return _with(t, size=sot, members=tuple(values))
        if k == Kind.ENUM64:
            values = []
            for _ in range(n):
                v_name, lo, hi = self._take(TRIPLE, tid)
                val = hi << 32 | lo
                if t.kind_flag and val >> 63:
                    val -= 1 << 64
                values.append(Member(self._name(v_name, tid), 0, val))
            return _with(t, size=sot, members=tuple(values))
        if k == Kind.FUNC_PROTO:
            params = []
            for _ in range(n):
                p_name, p_type = self._take(PAIR, tid)
                params.append(Member(self._name(p_name, tid), p_type))
            return _with(t, type=sot, members=tuple(params))
        if k == Kind.DATASEC:
            entries = []
            for _ in range(n):
                v_type, v_off, v_size = self._take(TRIPLE, tid)
                entries.append(Member("", v_type, v_off, v_size))
            return _with(t, size=sot, members=tuple(entries))
        # FWD (kind_flag: union), FLOAT (size)
        return _with(t, size=sot if k == Kind.FLOAT else 0)


def _with(t: BtfType, **changes: object) -> BtfType:
    return replace(t, **changes)  # type: ignore[arg-type]


def _check_shape(t: BtfType) -> None:
    """Per-kind rules that need no other type (the kernel's btf_*_check_meta)."""
    k = t.kind
    if k in (Kind.PTR, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.ARRAY) and t.name:
        raise _bad(t, "must not have a name")
    if k in (Kind.TYPEDEF, Kind.FUNC, Kind.VAR, Kind.DATASEC, Kind.FWD, Kind.FLOAT) and not t.name:
        raise _bad(t, "must have a name")
    if k in (Kind.DECL_TAG, Kind.TYPE_TAG) and not t.name:
        raise _bad(t, "must have a tag value")
    no_vlen = {Kind.INT, Kind.PTR, Kind.ARRAY, Kind.FWD, Kind.TYPEDEF, Kind.VOLATILE}
    no_vlen |= {Kind.CONST, Kind.RESTRICT, Kind.VAR, Kind.FLOAT, Kind.DECL_TAG, Kind.TYPE_TAG}
    if k in no_vlen and t.vlen:
        raise _bad(t, f"vlen must be 0, is {t.vlen}")
    if k == Kind.INT:
        if t.size not in (1, 2, 4, 8, 16):
            raise _bad(t, f"invalid size {t.size}")
        if not 0 < t.int_bits <= 128 or t.int_offset + t.int_bits > t.size * 8:
            raise _bad(t, f"{t.int_bits} bits at offset {t.int_offset} exceed size {t.size}")
        if t.int_encoding & ~0x7 or bin(t.int_encoding).count("1") > 1:
            raise _bad(t, f"invalid encoding {t.int_encoding:#x}")
    elif k == Kind.FLOAT and t.size not in (2, 4, 8, 12, 16):
        raise _bad(t, f"invalid size {t.size}")
    elif k in (Kind.ENUM, Kind.ENUM64) and t.size not in (1, 2, 4, 8):
        raise _bad(t, f"invalid size {t.size}")
    elif k == Kind.FUNC and t.linkage > 2:
        raise _bad(t, f"invalid linkage {t.linkage}")
    elif k == Kind.VAR and t.linkage > 2:
        raise _bad(t, f"invalid linkage {t.linkage}")
    elif k == Kind.STRUCT or k == Kind.UNION:
        for m in t.members:
            bit_off = m.offset & 0xFFFFFF if t.kind_flag else m.offset
            if bit_off > t.size * 8:
                raise _bad(t, f"member '{m.name}' at bit {bit_off} is past size {t.size}")
    elif k == Kind.DATASEC:
        for m in t.members:
            if m.offset + m.size > t.size and t.size:
                raise _bad(t, f"variable at {m.offset}+{m.size} is past size {t.size}")


def _check_references(btf: Btf) -> None:
    """Every type id a type mentions exists and has the right kind for its role."""
    n = len(btf.types)

    def ref(t: BtfType, type_id: int, role: str, *, void_ok: bool = False) -> BtfType | None:
        if type_id == 0 and void_ok:
            return None
        if not 0 < type_id < n:
            raise _bad(t, f"{role} type id {type_id} does not exist")
        target = btf.types[type_id]
        assert target is not None
        return target

    for t in btf.types[1:]:
        assert t is not None
        k = t.kind
        if k == Kind.PTR or k in MODIFIERS:
            ref(t, t.type, "referenced", void_ok=True)
        elif k == Kind.ARRAY:
            ref(t, t.type, "element")
            ref(t, t.index_type, "index")
        elif k in (Kind.STRUCT, Kind.UNION):
            for m in t.members:
                ref(t, m.type, f"member '{m.name}'")
        elif k == Kind.FUNC_PROTO:
            ref(t, t.type, "return", void_ok=True)
            for i, p in enumerate(t.members):
                last_vararg = i == len(t.members) - 1 and p.type == 0 and not p.name
                if not last_vararg:
                    ref(t, p.type, f"parameter {i}")
        elif k == Kind.FUNC:
            proto = ref(t, t.type, "prototype")
            if proto is not None and proto.kind != Kind.FUNC_PROTO:
                raise _bad(t, f"type id {t.type} is {proto.kind.name}, expected FUNC_PROTO")
        elif k == Kind.VAR:
            ref(t, t.type, "variable")
        elif k == Kind.DATASEC:
            for m in t.members:
                var = ref(t, m.type, "variable")
                if var is not None and var.kind not in (Kind.VAR, Kind.FUNC):
                    raise _bad(t, f"entry type id {m.type} is {var.kind.name}, expected VAR")
        elif k == Kind.DECL_TAG:
            target = ref(t, t.type, "tagged")
            assert target is not None
            if t.component_idx < -1:
                raise _bad(t, f"invalid component index {t.component_idx}")
    # Modifier loops (typedef A -> const -> typedef A) and arrays of themselves would
    # hang size resolution; an array's element must have a size (the kernel's rule).
    for t in btf.types[1:]:
        assert t is not None
        if t.kind in MODIFIERS:
            btf.skip_modifiers(t.id)
        elif t.kind == Kind.ARRAY:
            btf.resolve_size(t.id)
