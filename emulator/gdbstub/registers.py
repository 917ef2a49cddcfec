"""Register files as gdb sees them: order, sizes, Unicorn ids, and target.xml.

The `g` packet is every register in `regnum` order, little-endian. The target
description names the architecture and gdb's standard features, so `gdb-multiarch`
picks the right architecture from `target remote` alone.
"""

from __future__ import annotations

import dataclasses
from xml.sax.saxutils import quoteattr

from unicorn import arm64_const as a
from unicorn import x86_const as x

from emulator.cpu.base import GuestCpu


@dataclasses.dataclass(frozen=True)
class Reg:
    """One register of the remote register file."""

    name: str
    bits: int
    uc_id: int | None  # None: not modelled, reads as zero, writes are ignored
    type: str = "int"
    group: str | None = None
    feature: str = ""


@dataclasses.dataclass(frozen=True)
class RegisterFile:
    """An architecture's register layout for gdb."""

    architecture: str
    regs: tuple[Reg, ...]
    pc_regnum: int
    types_xml: dict[str, str]  # feature name -> the type definitions it needs

    def index(self, name: str) -> int:
        return next(i for i, r in enumerate(self.regs) if r.name == name)

    def read(self, cpu: GuestCpu, regnum: int) -> bytes:
        reg = self.regs[regnum]
        size = reg.bits // 8
        if reg.uc_id is None:
            return bytes(size)
        value = cpu.uc.reg_read(reg.uc_id)
        if isinstance(value, tuple):  # x87: (mantissa, exponent)
            mantissa, exponent = value
            return mantissa.to_bytes(8, "little") + (exponent & 0xFFFF).to_bytes(2, "little")
        return (value & ((1 << reg.bits) - 1)).to_bytes(size, "little")

    def write(self, cpu: GuestCpu, regnum: int, data: bytes) -> None:
        reg = self.regs[regnum]
        if len(data) != reg.bits // 8:
            raise ValueError(f"{reg.name} takes {reg.bits // 8} bytes, got {len(data)}")
        if reg.uc_id is None:
            return
        if reg.type == "i387_ext":
            mantissa = int.from_bytes(data[:8], "little")
            cpu.uc.reg_write(reg.uc_id, (mantissa, int.from_bytes(data[8:], "little")))
            return
        cpu.uc.reg_write(reg.uc_id, int.from_bytes(data, "little"))

    def read_all(self, cpu: GuestCpu) -> bytes:
        return b"".join(self.read(cpu, i) for i in range(len(self.regs)))

    def write_all(self, cpu: GuestCpu, data: bytes) -> None:
        sizes = [r.bits // 8 for r in self.regs]
        if len(data) != sum(sizes):
            raise ValueError(f"register block is {len(data)} bytes, expected {sum(sizes)}")
        offset = 0
        for i, size in enumerate(sizes):
            self.write(cpu, i, data[offset : offset + size])
            offset += size

    def target_xml(self) -> str:
        """The whole target description in one document (no xi:include)."""
        out = [
            '<?xml version="1.0"?>',
            '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
            '<target version="1.0">',
            f"  <architecture>{self.architecture}</architecture>",
        ]
        feature = None
        for i, reg in enumerate(self.regs):
            if reg.feature != feature:
                if feature is not None:
                    out.append("  </feature>")
                feature = reg.feature
                out.append(f"  <feature name={quoteattr(feature)}>")
                if feature in self.types_xml:
                    out.append(self.types_xml[feature])
            group = f" group={quoteattr(reg.group)}" if reg.group else ""
            out.append(
                f'    <reg name={quoteattr(reg.name)} bitsize="{reg.bits}" '
                f'type={quoteattr(reg.type)} regnum="{i}"{group}/>'
            )
        out += ["  </feature>", "</target>", ""]
        return "\n".join(out)


_VEC128_TYPES = """\
    <vector id="v4f" type="ieee_single" count="4"/>
    <vector id="v2d" type="ieee_double" count="2"/>
    <vector id="v16u8" type="uint8" count="16"/>
    <vector id="v8u16" type="uint16" count="8"/>
    <vector id="v4u32" type="uint32" count="4"/>
    <vector id="v2u64" type="uint64" count="2"/>
    <union id="vec128">
      <field name="v4_float" type="v4f"/>
      <field name="v2_double" type="v2d"/>
      <field name="v16_int8" type="v16u8"/>
      <field name="v8_int16" type="v8u16"/>
      <field name="v4_int32" type="v4u32"/>
      <field name="v2_int64" type="v2u64"/>
      <field name="uint128" type="uint128"/>
    </union>"""

_EFLAGS_BITS = (
    (0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"),
    (10, "DF"), (11, "OF"), (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"), (19, "VIF"),
    (20, "VIP"), (21, "ID"),
)  # fmt: skip
_CPSR_BITS = (
    (0, "SP"), (2, "EL"), (6, "F"), (7, "I"), (8, "A"), (9, "D"), (20, "IL"), (21, "SS"),
    (28, "V"), (29, "C"), (30, "Z"), (31, "N"),
)  # fmt: skip


def _flags(type_id: str, bits: tuple[tuple[int, str], ...]) -> str:
    """A gdb flags type, so `info registers` prints `[ ZF PF IF ]`."""
    fields = "".join(
        f'\n      <field name="{name}" start="{bit}" end="{bit + (1 if name == "EL" else 0)}"/>'
        for bit, name in bits
    )
    return f'    <flags id="{type_id}" size="4">{fields}\n    </flags>'


def _x86_64() -> RegisterFile:
    core = "org.gnu.gdb.i386.core"
    regs: list[Reg] = []
    for name in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"):
        kind = "data_ptr" if name in ("rbp", "rsp") else "int64"
        regs.append(Reg(name, 64, getattr(x, f"UC_X86_REG_{name.upper()}"), kind, feature=core))
    for i in range(8, 16):
        regs.append(Reg(f"r{i}", 64, getattr(x, f"UC_X86_REG_R{i}"), "int64", feature=core))
    regs.append(Reg("rip", 64, x.UC_X86_REG_RIP, "code_ptr", feature=core))
    regs.append(Reg("eflags", 32, x.UC_X86_REG_EFLAGS, "i386_eflags", feature=core))
    for seg in ("cs", "ss", "ds", "es", "fs", "gs"):
        regs.append(Reg(seg, 32, getattr(x, f"UC_X86_REG_{seg.upper()}"), "int32", feature=core))
    for i in range(8):
        regs.append(Reg(f"st{i}", 80, getattr(x, f"UC_X86_REG_FP{i}"), "i387_ext", feature=core))
    fpu = [
        ("fctrl", x.UC_X86_REG_FPCW),
        ("fstat", x.UC_X86_REG_FPSW),
        ("ftag", x.UC_X86_REG_FPTAG),
        ("fiseg", None),
        ("fioff", None),
        ("foseg", None),
        ("fooff", None),
        ("fop", None),
    ]
    for name, uc_id in fpu:
        regs.append(Reg(name, 32, uc_id, "int", "float", core))
    sse = "org.gnu.gdb.i386.sse"
    for i in range(16):
        regs.append(Reg(f"xmm{i}", 128, getattr(x, f"UC_X86_REG_XMM{i}"), "vec128", "sse", sse))
    regs.append(Reg("mxcsr", 32, x.UC_X86_REG_MXCSR, "int", "vector", sse))
    segments = "org.gnu.gdb.i386.segments"
    regs.append(Reg("fs_base", 64, x.UC_X86_REG_FS_BASE, "int", feature=segments))
    regs.append(Reg("gs_base", 64, x.UC_X86_REG_GS_BASE, "int", feature=segments))
    types = {core: _flags("i386_eflags", _EFLAGS_BITS), sse: _VEC128_TYPES}
    return RegisterFile("i386:x86-64", tuple(regs), 16, types)


def _aarch64() -> RegisterFile:
    core = "org.gnu.gdb.aarch64.core"
    regs = [Reg(f"x{i}", 64, getattr(a, f"UC_ARM64_REG_X{i}"), feature=core) for i in range(31)]
    regs.append(Reg("sp", 64, a.UC_ARM64_REG_SP, "data_ptr", feature=core))
    regs.append(Reg("pc", 64, a.UC_ARM64_REG_PC, "code_ptr", feature=core))
    regs.append(Reg("cpsr", 32, a.UC_ARM64_REG_PSTATE, "cpsr_flags", feature=core))
    fpu = "org.gnu.gdb.aarch64.fpu"
    regs += [
        Reg(f"v{i}", 128, getattr(a, f"UC_ARM64_REG_V{i}"), "vec128", feature=fpu)
        for i in range(32)
    ]
    regs.append(Reg("fpsr", 32, a.UC_ARM64_REG_FPSR, "int", feature=fpu))
    regs.append(Reg("fpcr", 32, a.UC_ARM64_REG_FPCR, "int", feature=fpu))
    types = {core: _flags("cpsr_flags", _CPSR_BITS), fpu: _VEC128_TYPES}
    return RegisterFile("aarch64", tuple(regs), 32, types)


REGISTER_FILES: dict[str, RegisterFile] = {"x86_64": _x86_64(), "aarch64": _aarch64()}
