"""The helper table (ABI section 6): ``id -> fn(state, r1, r2, r3, r4, r5) -> r0``.

Helpers see memory only through the `ExecState`'s region table (`memory.Memory`), so
a bad pointer is a MemoryFault that becomes -EFAULT, never a host access. Failures
are negative errno values (section 3 numbers); the VM masks R0 to u64, which is the
sign extension the ABI asks for. Maps are named by map id in R1, a plain integer
(an ``ld_imm64`` map reference loads that same id).

Choices where the spec is silent: helpers 10-12 with no current task return -EINVAL
(12 also zero-fills the buffer); trace_printk prints up to the NUL whatever ``size``
says (the original ignores size) and formats ``%`` conversions like Linux;
probe_read zero-fills dst when src is unreadable;
pwm_write validates pwm_id 0/1, channel 1/2 and duty 0..100 (else -EINVAL).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from kernel.abi import CtxOff, Errno, Helper
from kernel.bpf.errors import BpfError
from kernel.bpf.interp.memory import CTX_BASE, OFFSET_MASK, SLOT_DYNAMIC, SLOT_SHIFT, MemoryFault
from kernel.bpf.runtime.env import HELPER_LOG_MODULE
from kernel.bpf.runtime.maps import ArrayMap, RingBufMap, TimeseriesMap
from kernel.bpf.runtime.printk import MAX_STR, FormatError, format_printk

if TYPE_CHECKING:
    from kernel.bpf.interp.vm import ExecState

HelperFn = Callable[["ExecState", int, int, int, int, int], int]

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
M64 = (1 << 64) - 1
PRINTK_MAX = 1 << 16  # bytes trace_printk reads looking for the NUL (host-side bound)


def _err(errno: Errno) -> int:
    return -int(errno)


# ---------------------------------------------------------------- time, cpu, random


def ktime_get_ns(st: ExecState, *_: int) -> int:
    return st.env.ktime_ns()


def trace_printk(st: ExecState, fmt: int, size: int, a3: int, a4: int, a5: int) -> int:
    """``[BPF] <text>``: the string up to its NUL (``size`` does not cut it, as in the
    original); with a ``%`` in it, formatted by Linux's rules (`kernel.bpf.runtime.printk`)."""
    try:
        raw = st.read_cstr(fmt, PRINTK_MAX)
    except MemoryFault:
        return _err(Errno.EFAULT)
    message = _PLAIN_MESSAGES.get(raw)
    if message is None:
        if b"%" not in raw:
            message = "[BPF] " + raw.decode("utf-8", errors="replace")
            if len(raw) <= _PLAIN_MAX and len(_PLAIN_MESSAGES) < _PLAIN_CACHE:
                _PLAIN_MESSAGES[raw] = message
        else:
            try:
                text = format_printk(raw, (a3, a4, a5), _str_reader(st), _mem_reader(st))
            except FormatError:
                return _err(Errno.EINVAL)
            message = f"[BPF] {text}"
    st.env.log("INFO", HELPER_LOG_MODULE, message)
    return 0


# A program prints the same few constant strings tick after tick: their log lines
# (no ``%``, so the text depends on the bytes alone) are made once. Bounded.
_PLAIN_MESSAGES: dict[bytes, str] = {}
_PLAIN_CACHE = 256
_PLAIN_MAX = 256


def _str_reader(st: ExecState) -> Callable[[int], bytes | None]:
    def read(addr: int) -> bytes | None:
        try:
            return st.read_cstr(addr & M64, MAX_STR)
        except MemoryFault:
            return None

    return read


def _mem_reader(st: ExecState) -> Callable[[int, int], bytes | None]:
    def read(addr: int, n: int) -> bytes | None:
        try:
            return st.read(addr & M64, n)
        except MemoryFault:
            return None

    return read


def get_prandom_u32(st: ExecState, *_: int) -> int:
    return st.prng.next_u32()


def get_smp_processor_id(st: ExecState, *_: int) -> int:
    return st.env.cpu_id()


# ---------------------------------------------------------------- maps


def map_lookup_elem(st: ExecState, map_id: int, key_ptr: int, *_: int) -> int:
    try:
        bpf_map = st.maps.get(map_id)
        if type(bpf_map) is ArrayMap:
            # The timer demo's lookup, every tick: decode the u32 index straight from
            # its region (unpack_from is the one bounds check), no key bytes object.
            buf = st.get(key_ptr >> SLOT_SHIFT) if key_ptr >= 0 else None
            if buf is None:
                return 0
            try:
                view = bpf_map.lookup_index(_U32.unpack_from(buf, key_ptr & OFFSET_MASK)[0])
            except struct.error:  # the key runs past its region
                return 0
        else:
            view = bpf_map.lookup(st.read(key_ptr, bpf_map.key_size))
        if view is None:
            return 0
        return st.add_dynamic(view, bpf_map.value_region)
    except (BpfError, MemoryFault):
        return 0


def map_update_elem(
    st: ExecState, map_id: int, key_ptr: int, value_ptr: int, flags: int, _: int
) -> int:
    try:
        bpf_map = st.maps.get(map_id)
        key = st.read(key_ptr, bpf_map.key_size)
        value = st.read(value_ptr, bpf_map.value_size)
        bpf_map.update(key, value, flags)
    except BpfError as e:
        return _err(e.errno)
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0


def map_delete_elem(st: ExecState, map_id: int, key_ptr: int, *_: int) -> int:
    try:
        bpf_map = st.maps.get(map_id)
        bpf_map.delete(st.read(key_ptr, bpf_map.key_size))
    except BpfError as e:
        return _err(e.errno)
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0


def ringbuf_output(st: ExecState, map_id: int, data: int, size: int, flags: int, _: int) -> int:
    try:
        ring = st.maps.get(map_id)
        if not isinstance(ring, RingBufMap):
            return _err(Errno.EINVAL)
        # `st.read` inlined: the record is copied from its region into the ring once.
        buf = st.get(data >> SLOT_SHIFT) if data >= 0 else None
        off = data & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            return _err(Errno.EFAULT)
        ring.output_from(buf, off, size, flags)
    except BpfError as e:
        return _err(e.errno)
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0


def timeseries_push(st: ExecState, map_id: int, ts_ptr: int, value_ptr: int, *_: int) -> int:
    try:
        ts_map = st.maps.get(map_id)
        if not isinstance(ts_map, TimeseriesMap):
            return _err(Errno.EINVAL)
        ts = _U64.unpack(st.read(ts_ptr, 8))[0]
        ts_map.push(ts, st.read(value_ptr, ts_map.value_size))
    except BpfError as e:
        return _err(e.errno)
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0


# ---------------------------------------------------------------- current task


def get_current_pid_tgid(st: ExecState, *_: int) -> int:
    task = st.env.current_task()
    if task is None:
        return _err(Errno.EINVAL)
    return (task.tgid & 0xFFFF_FFFF) << 32 | (task.pid & 0xFFFF_FFFF)


def get_current_uid_gid(st: ExecState, *_: int) -> int:
    task = st.env.current_task()
    if task is None:
        return _err(Errno.EINVAL)
    return (task.gid & 0xFFFF_FFFF) << 32 | (task.uid & 0xFFFF_FFFF)


def get_current_comm(st: ExecState, buf: int, size: int, *_: int) -> int:
    """Copies the NUL-terminated, zero-padded name (truncated to size - 1)."""
    if size == 0 or size > 1 << 16:
        return _err(Errno.EINVAL)
    task = st.env.current_task()
    comm = b"" if task is None else bytes(task.comm)[: size - 1]
    try:
        st.write(buf, comm.ljust(size, b"\0"))
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0 if task is not None else _err(Errno.EINVAL)


def probe_read(st: ExecState, dst: int, size: int, src: int, *_: int) -> int:
    if size > 1 << 20:
        return _err(Errno.EINVAL)
    try:
        data = st.read(src, size)
    except MemoryFault:
        try:
            st.write(dst, bytes(size))
        except MemoryFault:
            pass
        return _err(Errno.EFAULT)
    try:
        st.write(dst, data)
    except MemoryFault:
        return _err(Errno.EFAULT)
    return 0


# ---------------------------------------------------------------- context fields


def _ctx_field(offset: int) -> HelperFn:
    """A helper returning one field of the running program's own context.

    R1 is ignored, as in the original (its interpreter passes the context to these
    helpers itself). A run without a context (test runs on plain memory) reads 0,
    the value of the original's empty context.
    """

    def helper(st: ExecState, *_: int) -> int:
        try:
            return _U64.unpack(st.read(CTX_BASE + offset, 8))[0]
        except MemoryFault:
            return 0

    return helper


# ---------------------------------------------------------------- devices


def motor_emergency_stop(st: ExecState, reason: int, *_: int) -> int:
    st.env.log("ERROR", HELPER_LOG_MODULE, f"EMERGENCY STOP TRIGGERED! Reason: {reason}")
    devices = st.env.devices
    if devices is not None:
        try:
            devices.emergency_stop(reason)
        except BpfError as e:
            return _err(e.errno)
    return 0


def _device_call(st: ExecState, call: Callable[..., int | None], *args: int) -> int:
    try:
        result = call(*args)
    except BpfError as e:
        return _err(e.errno)
    return 0 if result is None else int(result)


def gpio_write(st: ExecState, pin: int, value: int, *_: int) -> int:
    devices = st.env.devices
    if devices is None:
        return _err(Errno.ENODEV)
    return _device_call(st, devices.gpio_write, pin, 1 if value else 0)


def gpio_read(st: ExecState, pin: int, *_: int) -> int:
    devices = st.env.devices
    if devices is None:
        return _err(Errno.ENODEV)
    return _device_call(st, devices.gpio_read, pin)


def pwm_write(st: ExecState, pwm_id: int, channel: int, duty: int, *_: int) -> int:
    devices = st.env.devices
    if devices is None:
        return _err(Errno.ENODEV)
    if pwm_id not in (0, 1) or channel not in (1, 2) or duty > 100:
        return _err(Errno.EINVAL)
    return _device_call(st, devices.pwm_write, pwm_id, channel, duty)


# ---------------------------------------------------------------- the table

HELPERS: dict[int, HelperFn] = {
    Helper.KTIME_GET_NS: ktime_get_ns,
    Helper.TRACE_PRINTK: trace_printk,
    Helper.GET_PRANDOM_U32: get_prandom_u32,
    Helper.GET_SMP_PROCESSOR_ID: get_smp_processor_id,
    Helper.MAP_LOOKUP_ELEM: map_lookup_elem,
    Helper.MAP_UPDATE_ELEM: map_update_elem,
    Helper.MAP_DELETE_ELEM: map_delete_elem,
    Helper.RINGBUF_OUTPUT: ringbuf_output,
    Helper.TIMESERIES_PUSH: timeseries_push,
    Helper.GET_CURRENT_PID_TGID: get_current_pid_tgid,
    Helper.GET_CURRENT_UID_GID: get_current_uid_gid,
    Helper.GET_CURRENT_COMM: get_current_comm,
    Helper.GET_INTERRUPT_LATENCY_NS: _ctx_field(CtxOff.INTERRUPT_LATENCY_NS),
    Helper.PROBE_READ: probe_read,
    Helper.GET_BOOT_TIME_MS: _ctx_field(CtxOff.BOOT_TIME_MS),
    Helper.GET_KERNEL_HEAP_KB: _ctx_field(CtxOff.KERNEL_HEAP_KB),
    Helper.GET_KERNEL_IMAGE_MB: _ctx_field(CtxOff.KERNEL_IMAGE_MB),
    Helper.MOTOR_EMERGENCY_STOP: motor_emergency_stop,
    Helper.GPIO_WRITE: gpio_write,
    Helper.GPIO_READ: gpio_read,
    Helper.PWM_WRITE: pwm_write,
}
# Plain-int keys so ``HELPERS.get(imm)`` needs no enum hashing.
HELPERS = {int(k): v for k, v in HELPERS.items()}


class _LibraryTable(dict):
    """The library's own helper table, shared by every `Vm` made without one.

    Compiled code tests a run's table for it by identity, once per run, and then
    calls the library's helpers (or their bound sites) without looking each one up
    (`compiler._Emitter.helper`), so it may never change: give a `Vm` its own table
    (``helpers=``) to run other helpers."""

    __slots__ = ()

    def _read_only(self, *_: object, **__: object) -> None:
        raise TypeError("the library's helper table is read-only: pass Vm(helpers=...)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only  # type: ignore[assignment]
    __ior__ = _read_only  # type: ignore[assignment]


LIBRARY_HELPERS: dict[int, HelperFn] = _LibraryTable(HELPERS)

#: Helper ids this library implements, with their ABI names (for the verifier/kernel).
IMPLEMENTED_HELPERS: dict[int, str] = {k: Helper(k).name.lower() for k in HELPERS}


# ---------------------------------------------------------------- call sites
#
# The compiler knows some arguments of a call site as constants (``mov r1, 3`` just
# before, or ``r2 = r10 - 4`` in a program without local calls). For the helpers a
# timer program calls every tick, `bind` returns a function with the helper's own
# signature and behaviour for exactly those constants: it resolves the map once per
# map table instead of once per call (maps are never removed, so a table's map for an
# id never changes) and decodes its constant pointers once. The compiled code calls it
# only while the run's helper table still holds the library's helper for that id, so a
# swapped table (the kernel's recording helpers) takes the general path.

Known = tuple[int | None, int | None, int | None, int | None, int | None]


_NO_TABLE = object()


class _MapCache:
    """The map one site names, per map table (the last table seen); ``typed`` is
    that table too when the map is of the exact type the site's inline fast path
    handles (`compiler.inline_site`: one identity test for both), else a sentinel
    that is no table."""

    __slots__ = ("table", "map", "typed")

    def __init__(self) -> None:
        self.table: object = None
        self.map: object = None
        self.typed: object = _NO_TABLE


def _bind_map_lookup_elem(known: Known) -> HelperFn | None:
    map_id, key_ptr = known[0], known[1]
    if map_id is None or key_ptr is None:
        return None
    key_slot, key_off = key_ptr >> SLOT_SHIFT, key_ptr & OFFSET_MASK
    cache = _MapCache()

    def site(st: ExecState, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        maps = st.maps
        if maps is cache.table:
            bpf_map = cache.map
        else:
            try:
                bpf_map = maps.get(map_id)
            except BpfError:
                return 0
            cache.table, cache.map = maps, bpf_map
            cache.typed = maps if type(bpf_map) is ArrayMap else _NO_TABLE
        if type(bpf_map) is not ArrayMap:
            return map_lookup_elem(st, r1, r2, r3, r4, r5)
        buf = st.get(key_slot)
        if buf is None:
            return 0
        try:
            i = _U32.unpack_from(buf, key_off)[0]
        except struct.error:  # the key runs past its region
            return 0
        if i >= bpf_map.max_entries:
            return 0
        view = bpf_map._views.get(i)  # `ArrayMap.lookup_index` inlined
        if view is None:
            view = bpf_map._view(i)
        slot = st._next_slot
        if slot == SLOT_DYNAMIC:  # `add_dynamic` inlined for the run's first map value
            st._next_slot = slot + 1
            st[slot] = view
            st.names[slot] = bpf_map.value_region
            return slot << SLOT_SHIFT
        try:
            return st.add_dynamic(view, bpf_map.value_region)
        except MemoryFault:
            return 0

    site.cache = cache  # type: ignore[attr-defined]  # for `compiler.inline_site`
    return site


def _bind_ringbuf_output(known: Known) -> HelperFn | None:
    map_id = known[0]
    if map_id is None:
        return None
    cache = _MapCache()

    def site(st: ExecState, r1: int, data: int, size: int, flags: int, r5: int) -> int:
        maps = st.maps
        if maps is cache.table:
            ring = cache.map
        else:
            try:
                ring = maps.get(map_id)
            except BpfError as e:
                return _err(e.errno)
            cache.table, cache.map = maps, ring
            cache.typed = maps if type(ring) is RingBufMap else _NO_TABLE
        if not isinstance(ring, RingBufMap):
            return _err(Errno.EINVAL)
        buf = st.get(data >> SLOT_SHIFT)
        off = data & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            return _err(Errno.EFAULT)
        try:
            ring.output_from(buf, off, size, flags)
        except BpfError as e:
            return _err(e.errno)
        return 0

    site.cache = cache  # type: ignore[attr-defined]  # for `compiler.inline_site`
    return site


class _LineCache:
    """The string a printk site printed last (with its NUL) and its log line."""

    __slots__ = ("cstr", "message")

    def __init__(self) -> None:
        self.cstr = b"\0"  # the empty string: a valid pair to start with
        self.message = "[BPF] "


def _bind_trace_printk(known: Known) -> HelperFn | None:
    fmt = known[0]
    if fmt is None:
        return None
    fmt_slot, fmt_off = fmt >> SLOT_SHIFT, fmt & OFFSET_MASK
    last = _LineCache()

    def site(st: ExecState, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        # A constant string on the stack whose line was made before: compared in place
        # (the C string at fmt is exactly ``cstr`` minus its NUL when the bytes there
        # start with ``cstr``), else read as `read_cstr` does for a bytearray;
        # anything else is the general helper's work.
        buf = st.get(fmt_slot)
        if type(buf) is not bytearray:
            return trace_printk(st, r1, r2, r3, r4, r5)
        if not buf.startswith(last.cstr, fmt_off):
            if fmt_off >= len(buf):
                return trace_printk(st, r1, r2, r3, r4, r5)
            nul = buf.find(0, fmt_off, fmt_off + PRINTK_MAX)
            if nul < 0:
                return trace_printk(st, r1, r2, r3, r4, r5)
            raw = bytes(buf[fmt_off:nul])
            message = _PLAIN_MESSAGES.get(raw)
            if message is None:
                return trace_printk(st, r1, r2, r3, r4, r5)
            last.cstr, last.message = raw + b"\0", message
        st.env.log("INFO", HELPER_LOG_MODULE, last.message)
        return 0

    site.line = last  # type: ignore[attr-defined]  # for `compiler.inline_site`
    return site


_BINDERS: dict[int, Callable[[Known], HelperFn | None]] = {
    int(Helper.MAP_LOOKUP_ELEM): _bind_map_lookup_elem,
    int(Helper.RINGBUF_OUTPUT): _bind_ringbuf_output,
    int(Helper.TRACE_PRINTK): _bind_trace_printk,
}


def bind(helper_id: int, known: Known) -> tuple[HelperFn, HelperFn] | None:
    """``(helper, site)``: the library's helper for ``helper_id`` and a function that
    behaves as it does when r1..r5 hold the ``known`` values (None: not known), or None
    when nothing is gained."""
    binder = _BINDERS.get(helper_id)
    site = binder(known) if binder is not None else None
    return None if site is None else (HELPERS[helper_id], site)
