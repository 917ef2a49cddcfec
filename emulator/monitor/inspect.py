"""Kernel state as plain data (dicts of ints and strings): what `info procs`,
`info bpf`, `info mtree`, `info mem`, the JSON requests axiom-bpftool sends, and `--stats` all show.

Reading never changes guest state: ringbuf peeks do not consume, register and
memory reads go through Unicorn directly, and nothing here advances guest time.
"""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Any

from unicorn import arm64_const, x86_const

from kernel.abi import AttachType, MapType
from kernel.bpf.errors import BpfError
from kernel.bpf.isa.disasm import format_insn
from kernel.bpf.isa.insn import encode
from kernel.bpf.runtime.maps import RingBufMap
from kernel.mm import PROT_R, PROT_W, PROT_X

INT_SIZES = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


class InspectError(Exception):
    """A request names something that does not exist (no such program, bad key...)."""


# ------------------------------------------------------------------ processes


def processes(kernel: Any) -> list[dict[str, object]]:
    current = kernel.sched.current
    out = []
    for pid in sorted(kernel.procs):
        proc = kernel.procs[pid]
        state = "running" if proc is current else proc.state.value
        out.append(
            {
                "pid": proc.pid,
                "ppid": proc.parent.pid if proc.parent is not None else 0,
                "name": proc.name,
                "state": state,
                "memory": proc.mm.mapped_bytes if proc.state.value != "zombie" else 0,
                "syscalls": proc.syscalls,
                "cpu_time_ns": proc.cpu_ns,
            }
        )
    return out


def _reg_names(cpu: Any) -> list[str]:
    module = x86_const if cpu.ARCH_NAME == "x86_64" else arm64_const
    prefix = "UC_X86_REG_" if cpu.ARCH_NAME == "x86_64" else "UC_ARM64_REG_"
    by_value: dict[int, str] = {}
    for name in dir(module):
        if name.startswith(prefix):
            short = name[len(prefix) :].lower()
            value = getattr(module, name)
            old = by_value.get(value)
            # aliases share a number (X16 = IP0, X29 = FP): Xn, but fp and lr
            if old is None or (re.fullmatch(r"x\d+", short) and short not in ("x29", "x30")):
                by_value[value] = short
    return [by_value.get(r, f"r{r}") for r in cpu.CONTEXT_REGS]


def process(kernel: Any, pid: int | None) -> Any:
    """`pid`, or the running (else most recently run) process."""
    if pid is None:
        proc = kernel.sched.current or kernel.sched.last
        if proc is None:
            raise InspectError("no process has run yet")
        if proc.state.value == "zombie" or proc.cpu.uc is None:
            raise InspectError(f"pid {proc.pid} ({proc.name}) has exited; give a pid")
        return proc
    proc = kernel.procs.get(pid)
    if proc is None or proc.state.value == "zombie":
        raise InspectError(f"no live process with pid {pid}")
    return proc


def registers(kernel: Any, pid: int | None = None) -> dict[str, object]:
    proc = process(kernel, pid)
    cpu = proc.cpu
    values = cpu.save_context()
    regs = {
        name: value
        for name, value in zip(_reg_names(cpu), values, strict=True)
        if not name.startswith(("xmm", "q"))  # vector registers: too wide for a listing
    }
    return {"pid": proc.pid, "name": proc.name, "arch": cpu.ARCH_NAME, "registers": regs}


def read_memory(kernel: Any, address: int, size: int, pid: int | None = None) -> bytes:
    proc = process(kernel, pid)
    try:
        proc.mm.check(address, size, 1)
    except Exception as err:  # SyscallError(EFAULT): not mapped readable
        raise InspectError(f"cannot read {size} bytes at {address:#x} in pid {proc.pid}") from err
    return proc.mm.read(address, size)


def memory_tree(kernel: Any) -> list[dict[str, object]]:
    """The board's device windows by address space (QEMU's `info mtree`): memory-mapped
    windows, then x86 port I/O, then system-register devices (no address), each in
    address order. The same table the buses and the kernel's drivers use."""
    spaces = {"mmio": 0, "io": 1, "sysreg": 2}
    entries = sorted(
        kernel.board.description.entries,
        key=lambda r: (spaces[r.bus], -1 if r.base is None else r.base),
    )
    return [
        {
            "name": r.name,
            "device": r.kind,
            "bus": r.bus,
            "base": r.base,
            "end": None if r.base is None else r.base + r.size - 1,
            "irq": r.irq,
        }
        for r in entries
    ]


def memory_mappings(kernel: Any, pid: int | None = None) -> dict[str, object]:
    """A process's mappings (the kernel's VMAs, as /proc/PID/maps lists them)."""
    proc = process(kernel, pid)
    rows = [
        {
            "start": v.start,
            "end": v.end,
            "size": v.size,
            "prot": "".join(
                c if v.prot & bit else "-"
                for c, bit in (("r", PROT_R), ("w", PROT_W), ("x", PROT_X))
            ),
            "kind": v.kind,
        }
        for v in proc.mm.vmas
    ]
    return {"pid": proc.pid, "name": proc.name, "mappings": rows}


# ------------------------------------------------------------------ BPF programs


def _bpf(kernel: Any) -> Any:
    if kernel.bpf is None:
        raise InspectError("the BPF subsystem is not initialised yet")
    return kernel.bpf


def _names(bpf: Any) -> tuple[dict[int, str], dict[int, str]]:
    """Map and program names from the pin table (`obj/map`, `obj/prog/func`)."""
    maps: dict[int, str] = {}
    progs: dict[int, str] = {}
    for path, ident in sorted(bpf.pins.items()):
        if "/prog/" in path:
            progs.setdefault(ident, path.rsplit("/", 1)[-1])
        else:
            maps.setdefault(ident, path.rsplit("/", 1)[-1])
    return maps, progs


def program_info(bpf: Any, loaded: Any) -> dict[str, object]:
    code = encode(loaded.program.insns)
    attached = [t.name.lower() for t in AttachType if loaded.id in bpf.attached[t]]
    kind = loaded.attach_type.name.lower() if loaded.attach_type is not None else "unspec"
    return {
        "id": loaded.id,
        "type": kind,
        "name": loaded.name,
        "tag": hashlib.sha1(code).hexdigest()[:16],
        "attached": attached,
        "run_cnt": loaded.runs,
        "run_time_ns": loaded.run_time_ns,
        "run_failures": loaded.failures,
        "insns": loaded.insn_count,
        "insns_executed": loaded.insns_executed,
        "bytes_xlated": len(code),
        "jited": False,
        "map_ids": sorted(loaded.program.map_ids),
    }


def programs(kernel: Any) -> list[dict[str, object]]:
    bpf = _bpf(kernel)
    return [program_info(bpf, p) for p in bpf.programs]


def _program(kernel: Any, prog_id: int) -> Any:
    try:
        return _bpf(kernel).program(prog_id)
    except BpfError as err:
        raise InspectError(f"no program with id {prog_id}") from err


def program(kernel: Any, prog_id: int) -> dict[str, object]:
    return program_info(_bpf(kernel), _program(kernel, prog_id))


def dump_xlated(kernel: Any, prog_id: int) -> list[dict[str, object]]:
    """One entry per instruction (ld_imm64 is one entry of two slots), with map names."""
    bpf = _bpf(kernel)
    map_names, _ = _names(bpf)
    insns = _program(kernel, prog_id).program.insns
    out = []
    pc = 0
    while pc < len(insns):
        insn = insns[pc]
        nxt = insns[pc + 1] if pc + 1 < len(insns) else None
        text = format_insn(insn, nxt)
        if insn.is_ld_imm64 and insn.src in (1, 2):
            map_id = insn.imm & 0xFFFF_FFFF
            label = f"map[id:{map_id}" + (f" {map_names[map_id]}" if map_id in map_names else "")
            text = text.replace(f"map[{map_id}]", label + "]")
        out.append({"pc": pc, "opcode": insn.opcode, "text": text})
        pc += 2 if insn.is_ld_imm64 and nxt is not None else 1
    return out


# ------------------------------------------------------------------ BPF maps


def map_info(bpf: Any, bpf_map: Any, names: dict[int, str]) -> dict[str, object]:
    info: dict[str, object] = {
        "id": bpf_map.id,
        "type": bpf_map.map_type.name.lower(),
        "name": names.get(bpf_map.id, ""),
        "flags": 0,
        "bytes_key": bpf_map.key_size,
        "bytes_value": bpf_map.value_size,
        "max_entries": bpf_map.max_entries,
    }
    if isinstance(bpf_map, RingBufMap):
        info.update(used=bpf_map.used, records=bpf_map.records, dropped=bpf_map.dropped)
    return info


def maps(kernel: Any) -> list[dict[str, object]]:
    bpf = _bpf(kernel)
    names, _ = _names(bpf)
    return [map_info(bpf, m, names) for m in bpf.maps]


def _map(kernel: Any, map_id: int) -> Any:
    try:
        return _bpf(kernel).maps.get(map_id)
    except BpfError as err:
        raise InspectError(f"no map with id {map_id}") from err


def map_show(kernel: Any, map_id: int) -> dict[str, object]:
    bpf = _bpf(kernel)
    return map_info(bpf, _map(kernel, map_id), _names(bpf)[0])


def decode_int(data: bytes) -> int | None:
    fmt = INT_SIZES.get(len(data))
    return struct.unpack(fmt, data)[0] if fmt else None


def entry(key: bytes, value: bytes) -> dict[str, object]:
    item: dict[str, object] = {"key": key.hex(), "value": value.hex()}
    formatted = {"key": decode_int(key), "value": decode_int(value)}
    if formatted["key"] is not None or formatted["value"] is not None:
        item["formatted"] = formatted
    return item


def map_dump(kernel: Any, map_id: int) -> list[dict[str, object]]:
    bpf_map = _map(kernel, map_id)
    if bpf_map.map_type is MapType.RINGBUF:
        raise InspectError(f"map {map_id} is a ringbuf: use `map peek id {map_id}`")
    out = []
    key: bytes | None = None
    for _ in range(bpf_map.max_entries):
        try:
            key = bpf_map.get_next_key(key)
        except BpfError:
            break
        value = bpf_map.lookup(key)
        if value is not None:
            out.append(entry(key, bytes(value)))
    return out


def map_lookup(kernel: Any, map_id: int, key: bytes) -> dict[str, object]:
    bpf_map = _map(kernel, map_id)
    try:
        value = bpf_map.lookup(key)
    except BpfError as err:
        raise InspectError(str(err)) from err
    if value is None:
        raise InspectError("key not found")
    return entry(key, bytes(value))


def map_update(kernel: Any, map_id: int, key: bytes, value: bytes, flags: int = 0) -> None:
    try:
        _map(kernel, map_id).update(key, value, flags)
    except BpfError as err:
        raise InspectError(str(err)) from err


def map_delete(kernel: Any, map_id: int, key: bytes) -> None:
    try:
        _map(kernel, map_id).delete(key)
    except BpfError as err:
        raise InspectError(str(err)) from err


def map_peek(kernel: Any, map_id: int, count: int | None = None) -> list[dict[str, object]]:
    bpf_map = _map(kernel, map_id)
    if not isinstance(bpf_map, RingBufMap):
        raise InspectError(f"map {map_id} is not a ringbuf (peek reads ringbufs)")
    out = []
    for record in bpf_map.peek_all(count):
        item: dict[str, object] = {"value": record.hex()}
        number = decode_int(record)
        if number is not None:
            item["formatted"] = {"value": number}
        out.append(item)
    return out
