"""sys_bpf(cmd, attr_ptr, size): the 144-byte BpfAttr (176 with the pinning fields).

Every command of spec section 4. Errors are `-errno` (deviation 5); a verifier
rejection is -EACCES with the verifier's log copied to `log_buf` (deviation 6).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

from kernel.abi import (
    BPF_ATTR_EXT_SIZE,
    BPF_ATTR_SIZE,
    BPF_ELF_MAX_SIZE,
    BPF_OBJ_INFO_SIZE,
    BPF_OBJ_INFO_STRUCT,
    BPF_OBJ_KIND_MAP,
    BPF_OBJ_KIND_PROG,
    BPF_PROG_INFO_STRUCT,
    BPF_PROG_MAX_INSNS,
    AttachType,
    BpfAttrOff,
    BpfCmd,
    Errno,
    SyscallError,
)
from kernel.bpf.errors import BpfError, VerifierError
from kernel.bpf.runtime.maps import RingBufMap
from kernel.bpf.verifier import cost_ns
from kernel.bpf.verifier import work as verifier_work
from kernel.proc import Process
from kernel.syscalls.view import KernelView

MODULE = "kernel::syscall::bpf"
T = TypeVar("T")
MAX_PIN_PATH = 256


class Attr:
    """Typed reads of a copied-in BpfAttr."""

    def __init__(self, raw: bytes, address: int = 0) -> None:
        self.raw = raw
        self.address = address  # where the guest's copy lives (for output fields)
        self.extended = len(raw) >= BPF_ATTR_EXT_SIZE

    def u32(self, off: BpfAttrOff) -> int:
        return struct.unpack_from("<I", self.raw, off)[0]

    def u64(self, off: BpfAttrOff) -> int:
        return struct.unpack_from("<Q", self.raw, off)[0]

    def need_extended(self, what: str) -> None:
        if not self.extended:
            raise SyscallError(Errno.EINVAL, f"{what} needs the {BPF_ATTR_EXT_SIZE}-byte BpfAttr")


def sys_bpf(k: KernelView, proc: Process, cmd: int, attr_ptr: int, size: int, *_: int) -> int:
    if size < BPF_ATTR_SIZE:
        raise SyscallError(Errno.EINVAL, f"attr size {size} < {BPF_ATTR_SIZE}")
    if attr_ptr % 8:
        raise SyscallError(Errno.EINVAL, "attr is not 8-byte aligned")
    attr = Attr(proc.mm.read(attr_ptr, min(size, BPF_ATTR_EXT_SIZE)), attr_ptr)
    handler = COMMANDS.get(cmd)
    if handler is None:
        raise SyscallError(Errno.EINVAL, f"unknown bpf command {cmd}")
    try:
        return handler(k, proc, attr)
    except BpfError as err:
        raise SyscallError(err.errno, str(err)) from None


# ------------------------------------------------------------------ maps


def _map_create(k: KernelView, proc: Process, attr: Attr) -> int:
    k.log.info(MODULE, "sys_bpf: MAP_CREATE")
    map_type, key_size = attr.u32(BpfAttrOff.PROG_TYPE), attr.u32(BpfAttrOff.INSN_CNT)
    sizes = attr.u64(BpfAttrOff.INSNS)
    value_size, max_entries = sizes & 0xFFFF_FFFF, sizes >> 32
    bpf_map = k.bpf.maps.create(map_type, key_size, value_size, max_entries)
    k.charge_heap(_map_storage_bytes(bpf_map))
    k.log.info(
        MODULE,
        f"Created map id={bpf_map.id} type={map_type} key_size={bpf_map.key_size} "
        f"value_size={bpf_map.value_size} max_entries={bpf_map.max_entries}",
    )
    return bpf_map.id


def _map_storage_bytes(bpf_map: object) -> int:
    """What the map costs the kernel heap (for the metrics figures)."""
    if isinstance(bpf_map, RingBufMap):
        return bpf_map.max_entries
    m = bpf_map
    return m.max_entries * (m.key_size + m.value_size)  # type: ignore[attr-defined]


def _key(proc: Process, attr: Attr, bpf_map: object) -> bytes:
    return proc.mm.read(attr.u64(BpfAttrOff.KEY), bpf_map.key_size)  # type: ignore[attr-defined]


def _map_lookup(k: KernelView, proc: Process, attr: Attr) -> int:
    bpf_map = k.bpf.maps.get(attr.u32(BpfAttrOff.MAP_FD))
    if isinstance(bpf_map, RingBufMap):
        raise SyscallError(Errno.EINVAL, "use RINGBUF_POLL on a ringbuf")
    value = bpf_map.lookup(_key(proc, attr, bpf_map))
    if value is None:
        raise SyscallError(Errno.ENOENT, "no such key")
    proc.mm.write(attr.u64(BpfAttrOff.VALUE), bytes(value))
    return 0


def _map_update(k: KernelView, proc: Process, attr: Attr) -> int:
    bpf_map = k.bpf.maps.get(attr.u32(BpfAttrOff.MAP_FD))
    if isinstance(bpf_map, RingBufMap):
        raise SyscallError(Errno.EINVAL, "a ringbuf has no keys")
    _check_writable(bpf_map)
    key = _key(proc, attr, bpf_map)
    value = proc.mm.read(attr.u64(BpfAttrOff.VALUE), bpf_map.value_size)
    bpf_map.update(key, value, attr.u64(BpfAttrOff.FLAGS))
    return 0


def _check_writable(bpf_map: object) -> None:
    if getattr(bpf_map, "frozen", False):
        raise SyscallError(Errno.EPERM, f"map {bpf_map.id} is frozen")  # type: ignore[attr-defined]


def _map_delete(k: KernelView, proc: Process, attr: Attr) -> int:
    bpf_map = k.bpf.maps.get(attr.u32(BpfAttrOff.MAP_FD))
    _check_writable(bpf_map)
    bpf_map.delete(_key(proc, attr, bpf_map))
    return 0


def _map_next_key(k: KernelView, proc: Process, attr: Attr) -> int:
    bpf_map = k.bpf.maps.get(attr.u32(BpfAttrOff.MAP_FD))
    key_ptr = attr.u64(BpfAttrOff.KEY)
    key = proc.mm.read(key_ptr, bpf_map.key_size) if key_ptr else None
    proc.mm.write(attr.u64(BpfAttrOff.VALUE), bpf_map.get_next_key(key))
    return 0


def _ringbuf_poll(k: KernelView, proc: Process, attr: Attr) -> int:
    bpf_map = k.bpf.maps.get(attr.u32(BpfAttrOff.MAP_FD))
    if not isinstance(bpf_map, RingBufMap):
        raise SyscallError(Errno.EINVAL, f"map {bpf_map.id} is not a ringbuf")
    buf, capacity = attr.u64(BpfAttrOff.KEY), attr.u64(BpfAttrOff.VALUE)
    length = bpf_map.peek_length()
    if length is None:
        return 0
    if capacity < length:
        raise SyscallError(Errno.ENOSPC, f"record of {length} bytes > buffer of {capacity}")
    proc.mm.check(buf, length, 2)  # before popping: a fault must not lose the record
    record = bpf_map.poll(capacity)
    assert record is not None
    proc.mm.write(buf, record)
    return len(record)


def _obj_get_info(k: KernelView, proc: Process, attr: Attr) -> int:
    """Describe map `map_fd`, or program `map_fd` when file_flags = BPF_OBJ_KIND_PROG
    (ids are not fds, so the caller says which kind; OBJ_GET reports it)."""
    attr.need_extended("OBJ_GET_INFO_BY_FD")
    if attr.u32(BpfAttrOff.INFO_LEN) < BPF_OBJ_INFO_SIZE:
        raise SyscallError(Errno.EINVAL, f"info_len < {BPF_OBJ_INFO_SIZE}")
    kind = attr.u32(BpfAttrOff.FILE_FLAGS) or BPF_OBJ_KIND_MAP
    obj_id = attr.u32(BpfAttrOff.MAP_FD)
    if kind == BPF_OBJ_KIND_PROG:
        loaded = k.bpf.program(obj_id)
        attached = sum(1 << int(t) for t, ids in k.bpf.attached.items() if obj_id in ids)
        info = BPF_PROG_INFO_STRUCT.pack(
            loaded.id,
            BPF_OBJ_KIND_PROG,
            int(loaded.attach_type or 0),
            loaded.insn_count,
            attached,
            min(loaded.runs, 0xFFFF_FFFF),
        )
    elif kind == BPF_OBJ_KIND_MAP:
        bpf_map = k.bpf.maps.get(obj_id)
        info = BPF_OBJ_INFO_STRUCT.pack(
            bpf_map.id,
            BPF_OBJ_KIND_MAP,
            int(bpf_map.map_type),
            bpf_map.key_size,
            bpf_map.value_size,
            bpf_map.max_entries,
        )
    else:
        raise SyscallError(Errno.EINVAL, f"unknown object kind {kind}")
    proc.mm.write(attr.u64(BpfAttrOff.INFO), info)
    return BPF_OBJ_INFO_SIZE


# ------------------------------------------------------------------ pins


def _pin_path(proc: Process, attr: Attr) -> str:
    attr.need_extended("OBJ_PIN / OBJ_GET")
    limit = attr.u32(BpfAttrOff.PATH_LEN) or MAX_PIN_PATH
    raw = proc.mm.read_cstring(attr.u64(BpfAttrOff.PATHNAME), min(limit, MAX_PIN_PATH))
    if not raw:
        raise SyscallError(Errno.EINVAL, "empty pin path")
    return raw.decode(errors="replace")


def _obj_pin(k: KernelView, proc: Process, attr: Attr) -> int:
    """Pin map `map_fd`, or program `map_fd` when file_flags = BPF_OBJ_KIND_PROG."""
    path = _pin_path(proc, attr)
    kind = attr.u32(BpfAttrOff.FILE_FLAGS) or BPF_OBJ_KIND_MAP
    k.bpf.pin(path, attr.u32(BpfAttrOff.MAP_FD), kind)
    return 0


def _obj_get(k: KernelView, proc: Process, attr: Attr) -> int:
    """The pinned id; the pin's kind (1 map, 2 program) is written back to file_flags."""
    pin = k.bpf.get_pinned(_pin_path(proc, attr))
    proc.mm.write(attr.address + BpfAttrOff.FILE_FLAGS, struct.pack("<I", pin.kind))
    return int(pin)


# ------------------------------------------------------------------ programs


def _copy_log(proc: Process, attr: Attr, text: str) -> None:
    """The verifier's log to log_buf, NUL-terminated. A log longer than log_size
    keeps its END, as Linux >= 6.4 does: the rejection reason and the summary,
    which come last, are never lost (the first bytes kept may start mid-line)."""
    buf, size = attr.u64(BpfAttrOff.LOG_BUF), attr.u32(BpfAttrOff.LOG_SIZE)
    if attr.u32(BpfAttrOff.LOG_LEVEL) == 0 or buf == 0 or size == 0:
        return
    raw = text.encode()
    data = (raw[len(raw) - (size - 1) :] if len(raw) > size - 1 else raw) + b"\0"
    proc.mm.write(buf, data)


def _log_opts(attr: Attr) -> tuple[int, int]:
    """(log_level, log_size) as the verifier uses them: bit 1 of log_level (Linux's
    BPF_LOG_LEVEL2) adds the per-instruction state trace; without a buffer there is
    no trace to keep."""
    level = attr.u32(BpfAttrOff.LOG_LEVEL)
    size = attr.u32(BpfAttrOff.LOG_SIZE) if attr.u64(BpfAttrOff.LOG_BUF) else 0
    if not (level & 2) or size == 0:
        return 0, 0
    return 2, size


def _charge_verification(k: KernelView, before: tuple[int, int]) -> None:
    """Guest time for the verifier's work in this syscall (`verifier.cost_ns`):
    the kernel does the work, so guest time moves, deterministically."""
    ns = cost_ns(verifier_work.insns - before[0], verifier_work.states - before[1])
    if ns:
        k.clock.add_ns(ns)


def _prog_name(attr: Attr) -> str:
    raw = attr.raw[BpfAttrOff.PROG_NAME : BpfAttrOff.PROG_NAME + 16].split(b"\0")[0]
    return raw.decode(errors="replace")


def _verified(k: KernelView, proc: Process, attr: Attr, load: Callable[[], T]) -> T:
    """Run a load; a verifier rejection is -EACCES with its log in log_buf.
    Either way the verification work is charged to guest time."""
    before = (verifier_work.insns, verifier_work.states)
    try:
        return load()
    except VerifierError as err:
        k.log.warn(MODULE, f"sys_bpf: verifier rejected program: {err.insn_idx}: {err.reason}")
        for hint in (line for line in err.log.splitlines() if line.startswith("hint: ")):
            k.log.warn(MODULE, f"sys_bpf: {hint}")  # programs without a log_buf see it too
        _copy_log(proc, attr, err.log)
        raise SyscallError(Errno.EACCES, err.reason) from None
    finally:
        _charge_verification(k, before)


def _prog_load(k: KernelView, proc: Process, attr: Attr) -> int:
    k.log.info(MODULE, "sys_bpf: PROG_LOAD")
    count = attr.u32(BpfAttrOff.INSN_CNT)
    if count == 0:
        raise SyscallError(Errno.EINVAL, "insn_cnt is 0")
    if count > BPF_PROG_MAX_INSNS:
        raise SyscallError(Errno.E2BIG, f"insn_cnt {count} > {BPF_PROG_MAX_INSNS}")
    code = proc.mm.read(attr.u64(BpfAttrOff.INSNS), count * 8)
    hint = attr.u32(BpfAttrOff.EXPECTED_ATTACH_TYPE)
    loaded = _verified(
        k, proc, attr, lambda: k.bpf.load(code, _prog_name(attr), hint, *_log_opts(attr))
    )
    _copy_log(proc, attr, loaded.verifier_log)
    k.log.info(MODULE, f"sys_bpf: program loaded with id {loaded.id}")
    return loaded.id


def _prog_load_elf(k: KernelView, proc: Process, attr: Attr) -> int:
    k.log.info(MODULE, "sys_bpf: PROG_LOAD_ELF")
    size = attr.u32(BpfAttrOff.INSN_CNT)
    if size == 0:
        raise SyscallError(Errno.EINVAL, "empty ELF object")
    if size > BPF_ELF_MAX_SIZE:
        raise SyscallError(Errno.E2BIG, f"ELF object of {size} bytes > 1 MiB")
    data = proc.mm.read(attr.u64(BpfAttrOff.INSNS), size)
    loaded = _verified(
        k, proc, attr, lambda: k.bpf.load_elf(data, _prog_name(attr) or None, *_log_opts(attr))
    )
    for prog in loaded:
        k.log.info(MODULE, f"sys_bpf: program loaded with id {prog.id} ({prog.name})")
    return loaded[0].id


def _attach_fields(k: KernelView, attr: Attr) -> tuple[AttachType, int]:
    kind = k.bpf.attach_type(attr.u32(BpfAttrOff.ATTACH_BTF_ID))
    return kind, attr.u32(BpfAttrOff.ATTACH_PROG_FD)


def _prog_attach(k: KernelView, proc: Process, attr: Attr) -> int:
    k.log.info(MODULE, "sys_bpf: PROG_ATTACH")
    kind, prog_id = _attach_fields(k, attr)
    k.bpf.attach(kind, prog_id)
    k.log.info(MODULE, f"sys_bpf: attached prog {prog_id} to type {int(kind)}")
    k.hooks.prog_attached(int(kind), attr.u64(BpfAttrOff.KEY), attr.u64(BpfAttrOff.VALUE))
    return 0


def _prog_detach(k: KernelView, proc: Process, attr: Attr) -> int:
    k.log.info(MODULE, "sys_bpf: PROG_DETACH")
    kind, prog_id = _attach_fields(k, attr)
    k.bpf.detach(kind, prog_id)
    return 0


COMMANDS: dict[int, Callable[[KernelView, Process, Attr], int]] = {
    BpfCmd.MAP_CREATE: _map_create,
    BpfCmd.MAP_LOOKUP_ELEM: _map_lookup,
    BpfCmd.MAP_UPDATE_ELEM: _map_update,
    BpfCmd.MAP_DELETE_ELEM: _map_delete,
    BpfCmd.MAP_GET_NEXT_KEY: _map_next_key,
    BpfCmd.PROG_LOAD: _prog_load,
    BpfCmd.OBJ_PIN: _obj_pin,
    BpfCmd.OBJ_GET: _obj_get,
    BpfCmd.PROG_ATTACH: _prog_attach,
    BpfCmd.PROG_DETACH: _prog_detach,
    BpfCmd.OBJ_GET_INFO_BY_FD: _obj_get_info,
    BpfCmd.PROG_LOAD_ELF: _prog_load_elf,
    BpfCmd.RINGBUF_POLL: _ringbuf_poll,
}
