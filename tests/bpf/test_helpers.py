"""Helpers: arguments, results, exact error values, and the demo program end to end."""

import struct

import pytest

from kernel.abi import Errno, Helper, MapType
from kernel.bpf.errors import BpfRuntimeError
from kernel.bpf.interp.program import Program
from kernel.bpf.interp.vm import Vm, make_context
from kernel.bpf.isa.asm import assemble
from kernel.bpf.runtime.env import NullHelperEnv, TaskInfo, TestHelperEnv
from kernel.bpf.runtime.helpers import HELPERS, IMPLEMENTED_HELPERS
from kernel.bpf.runtime.maps import MapTable
from kernel.bpf.samples import TIMER_COUNTER

from ._vmutil import M64


def neg(errno: Errno) -> int:
    return -int(errno) & M64


@pytest.fixture
def env():
    return TestHelperEnv(now_ns=5_000, tick_ns=10)


@pytest.fixture
def maps():
    return MapTable()


@pytest.fixture
def vm(maps, env):
    return Vm(maps, env, seed=1)


def run(vm, text, ctx=None, payload=None):
    return vm.run(Program(assemble(text)), ctx, payload)


def test_table_covers_the_abi():
    assert set(HELPERS) == {int(h) for h in Helper}
    assert IMPLEMENTED_HELPERS[5] == "map_lookup_elem" and IMPLEMENTED_HELPERS[1005] == "pwm_write"


def test_demo_program_end_to_end(vm, maps, env):
    counter = maps.create(MapType.ARRAY, 4, 8, 1)
    ring = maps.create(MapType.RINGBUF, 0, 0, 4096)
    program = Program(assemble(TIMER_COUNTER.format(counter=counter.id, ringbuf=ring.id)))
    assert len(program) == 27
    for _ in range(3):
        assert vm.run(program, make_context()) == 0
    assert struct.unpack("<Q", counter.lookup(bytes(4)))[0] == 3  # in place, aliased
    assert [ring.poll(8) for _ in range(4)] == [struct.pack("<Q", i) for i in (1, 2, 3)] + [None]
    assert env.logs == [("INFO", "kernel::bpf::helpers", "[BPF] Tick!")] * 3


def test_time_cpu_random(vm, env):
    assert run(vm, "call ktime_get_ns\nexit") == 5_000
    assert run(vm, "call ktime_get_ns\nexit") == 5_010
    env.cpu = 3
    assert run(vm, "call get_smp_processor_id\nexit") == 3
    a = [run(vm, "call get_prandom_u32\nexit") for _ in range(3)]
    b = [run(Vm(seed=1), "call get_prandom_u32\nexit") for _ in range(1)]
    assert a[0] == b[0] == 270369 and len(set(a)) == 3 and all(x < 1 << 32 for x in a)


def test_trace_printk_bounds(vm, env):
    text = """
        lddw r1, 0x6f6c6c6568         ; "hello" then NULs
        stxdw [r10-8], r1
        mov r1, r10
        add r1, -8
        mov r2, {size}
        call trace_printk
        exit
    """
    assert run(vm, text.format(size=8)) == 0
    assert run(vm, text.format(size=3)) == 0  # size does not cut it (the original's rule)
    assert run(vm, text.format(size=0)) == 0  # size 0: bounded by the region only
    assert env.messages == ["[BPF] hello", "[BPF] hello", "[BPF] hello"]
    no_nul = "lddw r1, 0x4141414141414141\nstxdw [r10-8], r1\nmov r1, r10\nadd r1, -8\n"
    assert run(vm, no_nul + "mov r2, 100\ncall trace_printk\nexit") == 0
    assert env.messages[-1] == "[BPF] AAAAAAAA"  # stops at the end of the stack
    assert run(vm, "mov r1, 0\nmov r2, 4\ncall trace_printk\nexit") == neg(Errno.EFAULT)


LOOKUP = """
    stw [r10-4], {key}
    mov r1, {map_id}
    mov r2, r10
    add r2, -4
    call map_lookup_elem
    {then}
"""


def test_map_lookup_by_id_and_by_reference(vm, maps):
    h = maps.create(MapType.HASH, 4, 8, 4)
    h.update(struct.pack("<I", 7), struct.pack("<Q", 40))
    add2 = "jeq r0, 0, +4\nldxdw r1, [r0]\nadd r1, 2\nstxdw [r0], r1\nmov r0, r1\nexit"
    assert run(vm, LOOKUP.format(key=7, map_id=h.id, then=add2)) == 42
    by_ref = LOOKUP.format(key=7, map_id=0, then=add2).replace(
        f"mov r1, {h.id}", f"lddw r1, map:{h.id}"
    )
    assert run(vm, by_ref) == 44
    assert struct.unpack("<Q", h.lookup(struct.pack("<I", 7)))[0] == 44
    assert run(vm, LOOKUP.format(key=8, map_id=h.id, then="exit")) == 0  # missing key
    assert run(vm, LOOKUP.format(key=7, map_id=99, then="exit")) == 0  # unknown map


def test_map_value_region_is_bounded_and_address_stable(vm, maps):
    a = maps.create(MapType.ARRAY, 4, 8, 2)
    twice = LOOKUP.format(key=1, map_id=a.id, then="mov r6, r0") + LOOKUP.format(
        key=1, map_id=a.id, then="sub r0, r6\nexit"
    )
    assert run(vm, twice) == 0
    overflow = LOOKUP.format(key=0, map_id=a.id, then="ldxdw r0, [r0+8]\nexit")
    with pytest.raises(
        BpfRuntimeError, match=r"out-of-bounds read of 8 bytes .*map 0 value is 8 bytes"
    ):
        run(vm, overflow)


def test_map_update_delete_errors(vm, maps):
    h = maps.create(MapType.HASH, 4, 8, 1)
    update = """
        stw [r10-4], {key}
        stdw [r10-16], 5
        mov r1, {map_id}
        mov r2, r10
        add r2, -4
        mov r3, r10
        add r3, -16
        mov r4, {flags}
        call map_update_elem
        exit
    """
    assert run(vm, update.format(key=1, map_id=h.id, flags=1)) == 0
    assert run(vm, update.format(key=1, map_id=h.id, flags=1)) == neg(Errno.EEXIST)
    assert run(vm, update.format(key=2, map_id=h.id, flags=0)) == neg(Errno.E2BIG)
    assert run(vm, update.format(key=2, map_id=h.id, flags=2)) == neg(Errno.ENOENT)
    assert run(vm, update.format(key=2, map_id=42, flags=0)) == neg(Errno.ENOENT)
    delete = "stw [r10-4], {key}\nmov r1, {map_id}\nmov r2, r10\nadd r2, -4\ncall 7\nexit"
    assert run(vm, delete.format(key=1, map_id=h.id)) == 0
    assert run(vm, delete.format(key=1, map_id=h.id)) == neg(Errno.ENOENT)
    a = maps.create(MapType.ARRAY, 4, 8, 1)
    assert run(vm, delete.format(key=0, map_id=a.id)) == neg(Errno.EINVAL)
    bad_ptr = "mov r1, {map_id}\nmov r2, 0\nmov r3, 0\nmov r4, 0\ncall map_update_elem\nexit"
    assert run(vm, bad_ptr.format(map_id=h.id)) == neg(Errno.EFAULT)


def test_ringbuf_output_full_and_errors(vm, maps):
    ring = maps.create(MapType.RINGBUF, 0, 0, 16)
    text = (
        "stdw [r10-8], 9\nmov r1, {m}\nmov r2, r10\nadd r2, -8\n"
        "mov r3, {n}\nmov r4, 0\ncall 8\nexit"
    )
    assert run(vm, text.format(m=ring.id, n=8)) == 0
    assert run(vm, text.format(m=ring.id, n=8)) == neg(Errno.ENOSPC)
    assert ring.dropped == 1 and ring.poll(8) == struct.pack("<Q", 9)
    assert run(vm, text.format(m=ring.id, n=9)) == neg(Errno.EFAULT)  # past the stack
    arr = maps.create(MapType.ARRAY, 4, 8, 1)
    assert run(vm, text.format(m=arr.id, n=8)) == neg(Errno.EINVAL)


def test_timeseries_push(vm, maps):
    ts = maps.create(MapType.TIMESERIES, 8, 4, 2)
    text = """
        stdw [r10-8], 1234
        stw [r10-12], -1
        mov r1, {m}
        mov r2, r10
        add r2, -8
        mov r3, r10
        add r3, -12
        call timeseries_push
        exit
    """
    assert run(vm, text.format(m=ts.id)) == 0
    assert ts.entries() == [(1234, b"\xff" * 4)]
    arr = maps.create(MapType.ARRAY, 4, 8, 1)
    assert run(vm, text.format(m=arr.id)) == neg(Errno.EINVAL)


def test_current_task_helpers(vm, env):
    assert run(vm, "call get_current_pid_tgid\nexit") == neg(Errno.EINVAL)
    env.task = TaskInfo(pid=7, tgid=5, uid=1000, gid=100, comm=b"bpf_loader")
    assert run(vm, "call get_current_pid_tgid\nexit") == 5 << 32 | 7
    assert run(vm, "call get_current_uid_gid\nexit") == 100 << 32 | 1000
    comm = "mov r1, r10\nadd r1, -8\nmov r2, 8\ncall get_current_comm\nldxdw r0, [r10-8]\nexit"
    assert run(vm, comm).to_bytes(8, "little") == b"bpf_loa\0"
    env.task = None
    assert run(vm, comm) == 0  # zero-filled
    assert run(vm, comm.replace("ldxdw r0, [r10-8]\n", "")) == neg(Errno.EINVAL)


def test_context_field_helpers(vm):
    ctx = make_context(
        interrupt_latency_ns=11, boot_time_ms=22, kernel_heap_kb=33, kernel_image_mb=44
    )
    for helper, value in ((13, 11), (15, 22), (16, 33), (17, 44)):
        assert run(vm, f"call {helper}\nexit", ctx) == value
    # R1 is ignored: the helper reads the running program's own context.
    for r1 in ("0", "r10", "0x7fff"):
        assert run(vm, f"mov r1, {r1}\ncall 15\nexit", ctx) == 22
    assert run(vm, "mov r6, r1\nadd r1, 8\ncall 16\nexit", ctx) == 33


def test_context_field_helpers_without_context(vm):
    prog = Program(assemble("mov r1, 7\ncall 15\nexit"))
    assert vm.run_with_memory(prog, bytes(16)) == 0  # no context region: the empty one


def test_probe_read(vm):
    ctx = make_context(interrupt_latency_ns=0x55)
    text = """
        mov r3, r1
        add r3, 24
        mov r1, r10
        add r1, -8
        mov r2, 8
        call probe_read
        ldxdw r6, [r10-8]
        add r0, r6
        exit
    """
    assert run(vm, text, ctx) == 0x55
    bad_src = "stdw [r10-8], -1\nmov r1, r10\nadd r1, -8\nmov r2, 8\nmov r3, 0\ncall 14\n"
    assert run(vm, bad_src + "exit") == neg(Errno.EFAULT)
    assert run(vm, bad_src + "ldxdw r0, [r10-8]\nexit") == 0  # dst zero-filled
    to_ctx = "mov r6, r1\nmov r1, r6\nmov r2, 8\nmov r3, r10\nadd r3, -8\ncall 14\nexit"
    assert run(vm, to_ctx, ctx) == neg(Errno.EFAULT)  # the context is read-only


def test_devices(vm, env):
    assert run(vm, "mov r1, 18\nmov r2, 5\ncall gpio_write\nexit") == 0
    assert env.devices.pins == {18: 1}
    assert run(vm, "mov r1, 18\ncall gpio_read\nexit") == 1
    assert run(vm, "mov r1, 1\nmov r2, 2\nmov r3, 75\ncall pwm_write\nexit") == 0
    assert env.devices.pwm == [(1, 2, 75)]
    for bad in (
        "mov r1, 2\nmov r2, 1",
        "mov r1, 0\nmov r2, 3",
        "mov r1, 0\nmov r2, 1\nmov r3, 101",
    ):
        assert run(vm, f"{bad}\ncall pwm_write\nexit") == neg(Errno.EINVAL)
    assert run(vm, "mov r1, 3\ncall motor_emergency_stop\nexit") == 0
    assert env.devices.stops == [3]
    assert env.logs[-1] == ("ERROR", "kernel::bpf::helpers", "EMERGENCY STOP TRIGGERED! Reason: 3")


def test_no_devices_is_enodev(maps):
    vm = Vm(maps, NullHelperEnv())
    for call in ("gpio_write", "gpio_read", "pwm_write"):
        assert run(vm, f"mov r1, 0\nmov r2, 1\ncall {call}\nexit") == neg(Errno.ENODEV)
    assert run(vm, "mov r1, 9\ncall motor_emergency_stop\nexit") == 0


def test_env_can_be_overridden_per_run(vm, env):
    other = TestHelperEnv(now_ns=77)
    assert vm.run(Program(assemble("call ktime_get_ns\nexit")), env=other) == 77
    assert run(vm, "call ktime_get_ns\nexit") == 5_000
